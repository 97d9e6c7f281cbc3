//! Tests of finding suppression (issue 15: `is_suppressed_at -> false` survived the lib tests; fix verification
//! compares findings after suppression, so a suppressed finding must stay out of every re-analysis).

use super::{is_suppressed, is_suppressed_at};
use crate::finding::Severity;
use crate::rules::RuleFinding;
use crate::rules::testing::{dr, mesh};
use crate::settings::AnalysisOptions;

fn annotated(name: &str, value: &str) -> String {
    format!(
        "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: {name}\n  namespace: shop\n  \
         annotations:\n    mtls-review.io/ignore: \"{value}\"\nspec:\n  host: {name}\n"
    )
}

#[test]
fn the_ignore_annotation_and_the_ignore_option_suppress_by_code() {
    let m =
        mesh(&(annotated("listed", "TIS0206, mtls001") + &annotated("all", "*") + &dr("shop", "plain", "plain", None)));
    let id = |name: &str| m.objects.iter().position(|o| o.name == name).unwrap_or_else(|| unreachable!());
    let opts = AnalysisOptions::default();
    // Listed codes (trimmed, any case), `*` for all, nothing without the annotation.
    assert!(is_suppressed_at(&m, "TIS0206", id("listed"), &opts));
    assert!(is_suppressed_at(&m, "MTLS001", id("listed"), &opts));
    assert!(!is_suppressed_at(&m, "MTLS002", id("listed"), &opts));
    assert!(is_suppressed_at(&m, "MTLS002", id("all"), &opts));
    assert!(!is_suppressed_at(&m, "TIS0206", id("plain"), &opts));
    // The ignore option: for that code on every object.
    let ignoring = AnalysisOptions { ignore: vec!["TIS0207".into()], ..AnalysisOptions::default() };
    assert!(is_suppressed_at(&m, "TIS0207", id("plain"), &ignoring));
    assert!(!is_suppressed_at(&m, "TIS0206", id("plain"), &ignoring));
    // A rule finding is suppressed as its code and subject are.
    let finding = |code: &'static str, subject: usize| RuleFinding {
        code,
        severity: Severity::Error,
        message: String::new(),
        subject,
        field: &[],
        port: None,
        related: Vec::new(),
        fixes: Vec::new(),
    };
    assert!(is_suppressed(&m, &finding("MTLS001", id("listed")), &opts));
    assert!(!is_suppressed(&m, &finding("MTLS001", id("plain")), &opts));
}

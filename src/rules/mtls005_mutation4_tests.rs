//! Tests of MTLS005 the lib tests did not pin (issue 15, fourth sample: a mutant of the early return when no
//! namespace has two selector PeerAuthentications survived).
#![allow(clippy::unwrap_used)]

use super::check;
use crate::posture::fixtures::deployment;
use crate::rules::testing::{mesh, pa, summary};

/// Three selector PeerAuthentications on one workload: Istio applies the oldest (`a`, by name), the other two are
/// reported, each naming the workload and the one that applies.
#[test]
fn three_selector_pas_on_one_workload_report_the_two_ignored() {
    let y = deployment("shop", "x", &[8080], &[])
        + &pa("shop", "c", Some("DISABLE"), true)
        + &pa("shop", "a", Some("STRICT"), true)
        + &pa("shop", "b", Some("PERMISSIVE"), true);
    let m = mesh(&y);
    let found = check(&m);
    let t = |name: &str| ("MTLS005".to_string(), name.to_string(), "warning".to_string());
    assert_eq!(summary(&m, &found), [t("b"), t("c")]);
    let mut messages: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
    messages.sort();
    assert_eq!(
        messages,
        [
            "PeerAuthentication shop/b and shop/a both select Deployment shop/x: Istio applies only the oldest, shop/a, \
             to a workload, so this one has no effect there",
            "PeerAuthentication shop/c and shop/a both select Deployment shop/x: Istio applies only the oldest, shop/a, \
             to a workload, so this one has no effect there",
        ]
    );
}

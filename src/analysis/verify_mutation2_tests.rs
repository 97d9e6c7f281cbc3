//! Tests of group verification (issue 15, second sample: `group_fixes` returning no candidate survived the lib
//! tests, which reach it only through change reviews with grouped findings).

use super::{Verifier, error_set, group_fixes};
use crate::analysis::analyze;
use crate::finding::{Fix, Side};
use crate::manifest::{LoadedFile, load_file, yaml::Limits};
use crate::rules::FixPlan;
use crate::settings::AnalysisOptions;

const DR: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: d\n  namespace: \
                  bookinfo\nspec:\n  host: \"*.bookinfo.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: \
                  ISTIO_MUTUAL\n";

/// The candidates of a group, in order (given fixes, then the rendered plans, then the last one), each verified
/// with whether it resolves each finding; one that breaks the file is left out, one making the same edit as an
/// earlier candidate is tried once.
#[test]
fn group_candidates_are_verified_in_order_with_what_each_resolves() {
    let files: Vec<LoadedFile> = vec![load_file("a.yaml", DR.as_bytes(), &Limits::default())];
    let opts = AnalysisOptions::default();
    let a = analyze(&files, &opts, Side::Head, Default::default());
    let finding = a.findings.iter().find(|f| f.code == "TIS0206").unwrap_or_else(|| panic!("{:?}", a.findings));
    let fix = finding.fix.clone().unwrap_or_else(|| panic!("TIS0206 has a verified fix: {finding:?}"));
    let raw = crate::rules::run_all(&a.mesh);
    let plans: Vec<&FixPlan> = raw.iter().filter(|f| f.code == "TIS0206").flat_map(|f| f.fixes.iter()).collect();
    assert!(!plans.is_empty());
    let edit = |description: &str, line: usize, replacement: &str| Fix {
        description: description.into(),
        path: "a.yaml".into(),
        start_line: line,
        end_line: line,
        replacement: replacement.into(),
    };
    // Adds a comment: the finding stays.
    let rename = edit("comment", 4, "  name: d # the rule");
    // Breaks the YAML.
    let broken = edit("break", 4, "  name: [e");
    let errors = error_set(&a.mesh, &raw);
    let mut verifier = Verifier::new(&files, &a.mesh, &opts, &errors);
    let out = group_fixes(
        &files,
        &a.mesh,
        &[rename.clone(), broken, rename.clone()],
        &plans,
        Some(fix.clone()),
        &[finding],
        &opts,
        &mut verifier,
    );
    let got: Vec<(&str, usize, &str, &[bool])> =
        out.iter().map(|(f, c)| (f.path.as_str(), f.start_line, f.replacement.as_str(), c.as_slice())).collect();
    let want: Vec<(&str, usize, &str, &[bool])> = vec![
        ("a.yaml", 4, "  name: d # the rule", &[false]),
        ("a.yaml", fix.start_line, fix.replacement.as_str(), &[true]),
    ];
    assert_eq!(got, want);
    assert_eq!(out[1].0.description, plans[0].description);
}

//! Tests of the DestinationRule merge the lib tests did not pin (issue 15, fourth sample: mutants of the selector
//! tests in `Table::add` and `add_before_1_24` survived).
#![allow(clippy::unwrap_used)]

use super::*;
use crate::rules::testing::mesh_with;
use crate::settings::MeshSettings;

/// A rule in `frontend` for the `reviews` host with a workload selector `app: web`.
fn selector_rule(name: &str, mode: &str) -> String {
    format!(
        "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {name}, namespace: frontend}}\n\
         spec:\n  host: reviews.bookinfo.svc.cluster.local\n  workloadSelector: {{matchLabels: {{app: web}}}}\n  \
         trafficPolicy: {{tls: {{mode: {mode}}}}}\n"
    )
}

/// An entry's rules by name and its selector.
type Named = (Vec<String>, Option<Vec<(String, String)>>);

/// (drs by name, selector) of each entry `frontend`'s lookup of the `reviews` host returns, at an Istio release.
fn entries_at(version: (u32, u32), y: &str) -> Vec<Named> {
    let settings = MeshSettings { istio_version: IstioVersion::new(version.0, version.1), ..MeshSettings::default() };
    let m = mesh_with(y, settings);
    let idx = DrIndex::build(&m);
    let (step, entries) = idx.lookup(Some("frontend"), "bookinfo", "reviews.bookinfo.svc.cluster.local").unwrap();
    assert_eq!(step, LookupStep::ClientNamespace);
    entries.iter().map(|e| (e.drs.iter().map(|d| m.objects[*d].name.clone()).collect(), e.selector.clone())).collect()
}

/// Two rules with the same workload selector merge into one entry (the older's trafficPolicy applies), in the
/// releases that merge by exportTo (1.24 and later) and in those before.
#[test]
fn rules_with_the_same_selector_merge_into_one_entry() {
    let y = selector_rule("a", "ISTIO_MUTUAL") + &selector_rule("b", "DISABLE");
    let web = Some(vec![("app".to_string(), "web".to_string())]);
    for version in [(1, 30), (1, 24), (1, 23)] {
        assert_eq!(entries_at(version, &y), [(vec!["a".to_string(), "b".to_string()], web.clone())], "{version:?}");
    }
}

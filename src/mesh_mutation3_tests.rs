//! Tests of `Mesh::namespace_wide_drs` without its index (issue 15, sample shard 3/10: `==` -> `!=` in its scan
//! of the DestinationRules survived): once an edit has left the index stale, a namespace's namespace-wide
//! DestinationRules are still only its own.

use crate::rules::testing::{dr, mesh};

#[test]
fn a_stale_index_still_gives_only_the_namespaces_own_namespace_wide_drs() {
    let text = [
        dr("a", "all", "*.a.svc.cluster.local", Some("ISTIO_MUTUAL")),
        dr("a", "one", "x.a.svc.cluster.local", Some("DISABLE")),
        dr("b", "all-b", "*.b.svc.cluster.local", Some("DISABLE")),
    ]
    .concat();
    let mut mesh = mesh(&text).into_mesh();
    // An edit after build (one more DR in `b`): the index no longer matches and the DRs are scanned.
    let mut late = mesh.destination_rules[2].clone();
    late.name = "late-b".into();
    mesh.destination_rules.push(late);
    let names = |ns: &str| mesh.namespace_wide_drs(ns).map(|d| d.name.clone()).collect::<Vec<_>>();
    assert_eq!(names("a"), ["all"]);
    assert_eq!(names("b"), ["all-b", "late-b"]);
    assert!(names("c").is_empty());
}

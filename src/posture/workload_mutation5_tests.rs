//! Tests of the inventory the lib tests did not pin (issue 15, fifth sample: mutants of `namespace_client_kind`,
//! `decide_sidecar` and `Inventory::endpoints` survived).
#![allow(clippy::unwrap_used)]

use super::super::fixtures::{injected, reviews_version};
use super::{
    AMBIENT_LABEL, ClientKind, INJECT_KEY, INJECTION_LABEL, REV_LABEL, Sidecar, decide_sidecar, namespace_client_kind,
};
use crate::rules::testing::mesh;
use crate::settings::IstioVersion;

fn l(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The clients of a namespace without workloads in the tree: sidecar clients when it is injected (or names a
/// revision), ambient clients only when its dataplane-mode label says `ambient`, else clients without sidecar.
#[test]
fn a_namespace_without_workloads_has_the_clients_its_labels_say() {
    let kind = |pairs: &[(&str, &str)]| namespace_client_kind(Some(&l(pairs)));
    assert_eq!(namespace_client_kind(None), ClientKind::Sidecar);
    assert_eq!(kind(&[(INJECTION_LABEL, "enabled")]), ClientKind::Sidecar);
    assert_eq!(kind(&[(REV_LABEL, "1-24")]), ClientKind::Sidecar);
    assert_eq!(kind(&[(AMBIENT_LABEL, "ambient")]), ClientKind::Ambient);
    assert_eq!(kind(&[(INJECTION_LABEL, "disabled"), (AMBIENT_LABEL, "ambient")]), ClientKind::Ambient);
    assert_eq!(kind(&[]), ClientKind::NoSidecar);
    assert_eq!(kind(&[(AMBIENT_LABEL, "none")]), ClientKind::NoSidecar);
    assert_eq!(kind(&[(INJECTION_LABEL, "disabled"), (REV_LABEL, "1-24")]), ClientKind::NoSidecar);
}

/// When the Namespace object is not in the tree, a pod's own opt-in (the inject label `"true"`, or a revision
/// label) gives it a sidecar; without either the tree cannot tell.
#[test]
fn a_pod_of_an_unknown_namespace_opts_in_by_its_labels() {
    let d = |lab: &[(&str, &str)]| decide_sidecar("apps", None, &l(lab), &[], false, IstioVersion::CURRENT);
    assert_eq!(d(&[(INJECT_KEY, "true")]), (Sidecar::Yes, "the pod label opts in to injection".to_string()));
    assert_eq!(d(&[(REV_LABEL, "1-24")]), (Sidecar::Yes, "the pod label opts in to injection".to_string()));
    assert_eq!(d(&[]), (Sidecar::Unknown, "the Namespace object `apps` is not in the tree".to_string()));
}

/// A Service selects the workloads that carry every label of its selector, not only its first one.
#[test]
fn a_service_selects_only_workloads_with_all_its_labels() {
    let y = injected("shop")
        + "---\napiVersion: v1\nkind: Service\nmetadata: {name: reviews-v1, namespace: shop}\nspec:\n  \
           selector: {app: reviews, version: v1}\n  ports:\n  - {name: http-9080, port: 9080}\n"
        + &reviews_version("v1", "http")
        + &reviews_version("v2", "http");
    let m = mesh(&y);
    let inv = m.inventory();
    let svc = inv.services.iter().find(|s| s.name == "reviews-v1").unwrap();
    let selected: Vec<String> =
        inv.endpoints(svc).into_iter().map(|i| m.object_ref(inv.workloads[i].obj).to_string()).collect();
    assert_eq!(selected, ["Deployment shop/reviews-v1"]);
}

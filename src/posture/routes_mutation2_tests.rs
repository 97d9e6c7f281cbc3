//! Tests of VirtualService routing the lib tests did not pin (issue 15, second sample: a mutant of
//! `VsIndex::destinations`' TLS routes survived).
#![allow(clippy::unwrap_used)]

use super::super::fixtures::{injected, reviews_version, service};
use super::super::{ClientKind, Verdict, compute};
use crate::rules::testing::{mesh, pa};

/// A TLS route by the host's own SNI whose `sourceLabels` every client workload of the namespace carries is the
/// path of every connection (not a conditional one).
#[test]
fn a_tls_route_whose_source_labels_every_client_carries_is_the_default_path() {
    let y = injected("shop")
        + &service("shop", "reviews", &[(9080, "9080")]).replace("name: tcp-9080", "name: tls-9080")
        + &reviews_version("v1", "tls")
        + &reviews_version("v2", "tls")
        + &pa("shop", "strict", Some("STRICT"), false)
        + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews, namespace: shop}\n\
           spec:\n  host: reviews\n  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n  subsets:\n  - name: v1\n    \
           labels: {version: v1}\n  - name: v2\n    labels: {version: v2}\n    trafficPolicy: {tls: {mode: DISABLE}}\n"
        + "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r, namespace: shop}\n\
           spec:\n  hosts: [reviews]\n  tls:\n  - match:\n    - sniHosts: [reviews.shop.svc.cluster.local]\n      \
           sourceLabels: {app: reviews}\n    route:\n    - destination: {host: reviews, subset: v2}\n";
    let p = compute(&mesh(&y));
    let row = p
        .rows
        .iter()
        .find(|r| r.service.name == "reviews" && r.client_namespace == "shop" && r.client_kind == ClientKind::Sidecar)
        .unwrap();
    let paths: Vec<(Option<&str>, bool, Verdict)> =
        row.endpoints.iter().map(|e| (e.subset.as_deref(), e.conditional, e.verdict)).collect();
    assert_eq!(paths, [(Some("v2"), false, Verdict::FailPlaintextToStrict)]);
}

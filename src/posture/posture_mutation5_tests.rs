//! Tests of posture paths the lib tests did not pin (issue 15, fifth sample: a mutant of `paths`' destination
//! port survived).
#![allow(clippy::unwrap_used)]

use super::fixtures::{injected, reviews_version, service};
use super::{ClientKind, compute};
use crate::rules::testing::mesh;

/// A route without a destination port keeps the port the client called: each port of a two-port Service leads
/// to the same port of the subset's workloads.
#[test]
fn a_route_without_a_port_keeps_the_called_port() {
    let y = injected("shop")
        + &service("shop", "reviews", &[(9080, "9080"), (9081, "9081")]).replace("name: tcp-", "name: http-")
        + &reviews_version("v1", "http")
        + &reviews_version("v2", "http")
        + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews, namespace: shop}\n\
           spec:\n  host: reviews\n  subsets:\n  - name: v2\n    labels: {version: v2}\n"
        + "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r, namespace: shop}\n\
           spec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v2}\n";
    let p = compute(&mesh(&y));
    let paths: Vec<(u32, Option<&str>, Option<u32>)> = p
        .rows
        .iter()
        .filter(|r| r.service.name == "reviews" && r.client_namespace == "shop" && r.client_kind == ClientKind::Sidecar)
        .flat_map(|r| r.endpoints.iter().map(move |e| (r.port, e.subset.as_deref(), e.target_port)))
        .collect();
    assert_eq!(paths, [(9080, Some("v2"), Some(9080)), (9081, Some("v2"), Some(9081))]);
}

//! Tests of posture paths the lib tests did not pin (issue 15, fifth sample: a mutant of `paths`' destination
//! port survived; in the 1-in-13 sample of 2026-12-03, its single-port guard `d.port.is_none()` -> `true`).
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

/// A route to a port the destination Service does not have leads nowhere (Istio's cluster for it has no
/// endpoints), even when that Service has a single port: the path is dropped, and with no other path the called
/// service's own cluster stands in. A route without a port to a single-port Service takes that port.
#[test]
fn a_route_to_a_missing_port_of_a_single_port_service_leads_nowhere() {
    use super::fixtures::deployment;
    let route = |port: &str| {
        format!(
            "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: r, namespace: shop}}\n\
             spec:\n  hosts: [cart]\n  http:\n  - route:\n    - destination: {{host: legacy{port}}}\n"
        )
    };
    let tree = injected("shop")
        + &service("shop", "cart", &[(80, "8080")]).replace("name: tcp-", "name: http-")
        + &deployment("shop", "cart", &[8080], &[])
        + &service("shop", "legacy", &[(81, "8081")]).replace("name: tcp-", "name: http-")
        + &deployment("shop", "legacy", &[8081], &[]);
    let endpoints = |vs: &str| -> Vec<(String, Option<u32>)> {
        let p = compute(&mesh(&(tree.clone() + vs)));
        p.rows
            .iter()
            .filter(|r| {
                r.service.name == "cart" && r.client_namespace == "shop" && r.client_kind == ClientKind::Sidecar
            })
            .flat_map(|r| r.endpoints.iter())
            .map(|e| (e.workload.as_ref().map(|w| w.name.clone()).unwrap_or_default(), e.target_port))
            .collect()
    };
    assert_eq!(endpoints(&route(", port: {number: 9999}")), [("cart".to_string(), Some(8080))]);
    assert_eq!(endpoints(&route("")), [("legacy".to_string(), Some(8081))]);
}

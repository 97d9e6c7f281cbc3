//! Tests of failing-path explanations the lib tests did not pin (issue 15, fifth sample: mutants of `explain`'s
//! TLS-origination branch, `routed_cause` and `exact_rule` survived; in the 1-in-13 sample of 2026-12-03,
//! `routed_cause`'s filter of the subject, `breaks`' TLS-origination arm and `fix_key`'s placement test).
#![allow(clippy::unwrap_used)]

use super::super::fixtures::{deployment, injected, reviews_version, service};
use super::super::{ClientKind, Row, Verdict, compute};
use super::explain;
use crate::context::MeshContext;
use crate::rules::testing::{mesh, pa};

/// The sidecar row of `service` for clients in `shop`.
fn shop_row<'p>(p: &'p super::super::Posture, service: &str) -> &'p Row {
    p.rows
        .iter()
        .find(|r| r.service.name == service && r.client_namespace == "shop" && r.client_kind == ClientKind::Sidecar)
        .unwrap()
}

fn related_names(m: &MeshContext, related: &[(crate::mesh::ObjId, &'static str)]) -> Vec<(String, &'static str)> {
    related.iter().map(|(o, r)| (m.object_ref(*o).to_string(), *r)).collect()
}

/// A rule that originates its own TLS to a STRICT sidecar: the rule is the subject, and the Service, the workload
/// and the STRICT PeerAuthentication are related (the subject is not listed again).
#[test]
fn tls_origination_to_strict_relates_the_other_objects_of_the_path() {
    let y = injected("shop")
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[])
        + &pa("shop", "strict", Some("STRICT"), false)
        + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: cart, namespace: shop}\n\
           spec:\n  host: cart\n  trafficPolicy: {tls: {mode: SIMPLE}}\n";
    let m = mesh(&y);
    let p = compute(&m);
    let row = shop_row(&p, "cart");
    assert_eq!(row.endpoints.len(), 1);
    assert_eq!(row.endpoints[0].verdict, Verdict::FailTlsToStrict);
    let cause = explain(&m, row, &row.endpoints[0]).unwrap();
    assert_eq!(m.object_ref(cause.subject).to_string(), "DestinationRule shop/cart");
    assert_eq!(
        related_names(&m, &cause.related),
        [
            ("Service shop/cart".to_string(), "Service"),
            ("Deployment shop/cart".to_string(), "workload"),
            ("PeerAuthentication shop/strict".to_string(), "PeerAuthentication deciding the server mode"),
        ]
    );
    // What breaks, as the finding says it.
    assert_eq!(
        super::breaks(&m, row, &row.endpoints[0]),
        "clients in namespace `shop` (Deployment shop/cart) originate TLS to cart.shop.svc.cluster.local:80 \
         (Deployment shop/cart port 8080), which is STRICT by PeerAuthentication shop/strict: its sidecar requires \
         Istio mTLS"
    );
}

/// A VirtualService route to a subset whose own `trafficPolicy` sets the mode: the explanation says the subset's
/// policy decides.
#[test]
fn a_routed_path_through_a_subset_with_its_own_policy_says_so() {
    let y = injected("shop")
        + &service("shop", "reviews", &[(9080, "9080")]).replace("name: tcp-9080", "name: http-9080")
        + &reviews_version("v1", "http")
        + &pa("shop", "strict", Some("STRICT"), false)
        + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews, namespace: shop}\n\
           spec:\n  host: reviews\n  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n  subsets:\n  - name: v1\n    \
           labels: {version: v1}\n    trafficPolicy: {tls: {mode: DISABLE}}\n"
        + "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r, namespace: shop}\n\
           spec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n";
    let m = mesh(&y);
    let p = compute(&m);
    let row = shop_row(&p, "reviews");
    assert!(row.routed);
    assert_eq!(row.endpoints.len(), 1);
    let cause = explain(&m, row, &row.endpoints[0]).unwrap();
    assert_eq!(
        cause.why,
        "a VirtualService route sends these calls to subset `v1`, whose own trafficPolicy in DestinationRule \
         shop/reviews sets tls.mode DISABLE"
    );
    assert!(cause.fixes.is_empty());
    // The subject (the rule whose subset policy decides) is not listed again among the related objects, though the
    // client lookup chose it.
    assert_eq!(m.object_ref(cause.subject).to_string(), "DestinationRule shop/reviews");
    assert_eq!(
        related_names(&m, &cause.related),
        [
            ("Service shop/reviews".to_string(), "Service"),
            ("Deployment shop/reviews-v1".to_string(), "workload"),
            ("PeerAuthentication shop/strict".to_string(), "PeerAuthentication deciding the server mode"),
        ]
    );
}

/// A rule with a workload selector is not an exact rule for the host: its mode-less `tls` block (read as DISABLE)
/// breaks the selected clients' calls to a STRICT server, and no fix is offered (dropping the block is offered only
/// for a rule that applies to every client workload, and selector rules compete inside one host entry).
#[test]
fn a_selector_rule_without_mode_gets_no_removal_fix() {
    let y = injected("shop")
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[])
        + &deployment("shop", "web", &[8080], &[])
        + &pa("shop", "strict", Some("STRICT"), false)
        + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web-cart, namespace: shop}\n\
           spec:\n  host: cart.shop.svc.cluster.local\n  workloadSelector: {matchLabels: {app: web}}\n  \
           trafficPolicy: {tls: {}}\n";
    let m = mesh(&y);
    let p = compute(&m);
    let row = p
        .rows
        .iter()
        .find(|r| r.service.name == "cart" && r.client_kind == ClientKind::Sidecar && r.client_selector.is_some())
        .unwrap();
    assert_eq!(row.endpoints.len(), 1);
    assert_eq!(row.endpoints[0].verdict, Verdict::FailPlaintextToStrict);
    let cause = explain(&m, row, &row.endpoints[0]).unwrap();
    assert_eq!(m.object_ref(cause.subject).to_string(), "DestinationRule shop/web-cart");
    assert_eq!(
        cause.why,
        "DestinationRule shop/web-cart has a `tls` block without `mode`, which Istio reads as DISABLE"
    );
    assert!(cause.fixes.is_empty(), "{:?}", cause.fixes);
}

/// A mesh-wide rule that sends plaintext to a STRICT service, for the service's own namespace and for every other
/// one: one finding on the rule, and its fix is offered, since the rule is not placed in any client namespace (both
/// paths would get the same fix).
#[test]
fn a_mesh_wide_rule_failing_for_several_client_namespaces_keeps_its_fix() {
    let y = injected("shop")
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[])
        + &pa("shop", "strict", Some("STRICT"), false)
        + &injected("web")
        + &deployment("web", "frontend", &[8080], &[])
        + &crate::rules::testing::dr("istio-system", "plain", "*.local", Some("DISABLE"));
    let m = mesh(&y);
    let p = compute(&m);
    let clients: Vec<&str> = p
        .rows
        .iter()
        .filter(|r| r.service.name == "cart" && r.client_kind == ClientKind::Sidecar)
        .map(|r| r.client_namespace.as_str())
        .collect();
    assert_eq!(clients, ["shop", "*"]);
    let f = super::path_findings(&m, &p, "MTLS001", |v| v == Verdict::FailPlaintextToStrict);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(m.object_ref(f[0].subject).to_string(), "DestinationRule istio-system/plain");
    assert_eq!(f[0].fixes, explain(&m, shop_row(&p, "cart"), &shop_row(&p, "cart").endpoints[0]).unwrap().fixes);
    assert!(!f[0].fixes.is_empty(), "{f:?}");
}

//! Tests of failing-path explanations the lib tests did not pin (issue 15, second sample: mutants of
//! `client_field` and `routed_cause` survived).
#![allow(clippy::unwrap_used)]

use super::super::client::ClientTls;
use super::super::fixtures::{deployment, injected, namespace, reviews_version, service};
use super::super::{ClientKind, Verdict, compute};
use super::{client_field, explain, path_findings, targeted};
use crate::mesh::TlsMode;
use crate::plan::{DR_PORT_LEVEL, DR_TLS, DR_TLS_MODE};
use crate::rules::testing::{dr, mesh, pa};

/// The field a finding points at: the port's `portLevelSettings` item when it decides (or drops the top level),
/// the `tls` block when it has no `mode`, else the top-level `tls.mode`.
#[test]
fn client_field_names_the_deciding_field() {
    let explicit = |written, port_level| ClientTls::Explicit { mode: TlsMode::Disable, written, port_level };
    assert_eq!(client_field(&explicit(true, true)), DR_PORT_LEVEL);
    assert_eq!(client_field(&explicit(false, true)), DR_PORT_LEVEL);
    assert_eq!(client_field(&ClientTls::AutoPortDropsTls { top: TlsMode::IstioMutual }), DR_PORT_LEVEL);
    assert_eq!(client_field(&explicit(false, false)), DR_TLS);
    assert_eq!(client_field(&explicit(true, false)), DR_TLS_MODE);
    assert_eq!(client_field(&ClientTls::Auto), DR_TLS_MODE);
}

/// A VirtualService route to a subset without its own `trafficPolicy`: the rule's top level decides, and the
/// explanation names the subset and the rule's mode.
#[test]
fn a_routed_path_through_a_subset_names_the_rule_that_sets_its_mode() {
    let y = injected("shop")
        + &service("shop", "reviews", &[(9080, "9080")]).replace("name: tcp-9080", "name: http-9080")
        + &reviews_version("v1", "http")
        + &pa("shop", "strict", Some("STRICT"), false)
        + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews, namespace: shop}\n\
           spec:\n  host: reviews\n  trafficPolicy: {tls: {mode: DISABLE}}\n  subsets:\n  - name: v1\n    \
           labels: {version: v1}\n"
        + "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r, namespace: shop}\n\
           spec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n";
    let m = mesh(&y);
    let p = compute(&m);
    let row = p
        .rows
        .iter()
        .find(|r| r.service.name == "reviews" && r.client_namespace == "shop" && r.client_kind == ClientKind::Sidecar)
        .unwrap();
    assert!(row.routed);
    assert_eq!(row.endpoints.len(), 1);
    let cause = explain(&m, row, &row.endpoints[0]).unwrap();
    assert_eq!(
        cause.why,
        "a VirtualService route sends these calls to subset `v1`, where DestinationRule shop/reviews sets tls.mode \
         DISABLE"
    );
    assert!(cause.fixes.is_empty());
}

/// A rule for exactly the host that sets the port's mode in `portLevelSettings`: the fix edits that port item,
/// not the top level (a single-port Service, so only the existing port item makes it port-level).
#[test]
fn a_port_level_setting_of_the_port_is_fixed_in_place() {
    let y = injected("shop")
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[])
        + &pa("shop", "strict", Some("STRICT"), false)
        + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: cart, namespace: shop}\n\
           spec:\n  host: cart\n  trafficPolicy:\n    tls: {mode: ISTIO_MUTUAL}\n    portLevelSettings:\n    \
           - port: {number: 80}\n      tls: {mode: DISABLE}\n";
    let m = mesh(&y);
    let p = compute(&m);
    let row = p
        .rows
        .iter()
        .find(|r| r.service.name == "cart" && r.client_namespace == "shop" && r.client_kind == ClientKind::Sidecar)
        .unwrap();
    assert_eq!(row.verdict, Verdict::FailPlaintextToStrict);
    let fixes: Vec<String> = targeted(&m, row, "ISTIO_MUTUAL").into_iter().map(|f| f.description).collect();
    assert_eq!(fixes, ["set tls.mode ISTIO_MUTUAL for port 80 in DestinationRule shop/cart"]);
}

/// `n` namespaces without sidecar, each with its own rule for the host (so each gets its own row), calling a
/// STRICT service: every row fails on the same PeerAuthentication.
fn plaintext_callers(n: usize) -> String {
    let mut y = injected("shop")
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[])
        + &pa("shop", "strict", Some("STRICT"), false);
    for i in 1..=n {
        let ns = format!("n{i}");
        y += &namespace(&ns, &[]);
        y += &deployment(&ns, "app", &[8080], &[]);
        y += &dr(&ns, "cart", "cart.shop.svc.cluster.local", Some("ISTIO_MUTUAL"));
    }
    y
}

/// One finding per (subject, port): the first path explains it, five more are named, the rest counted; the
/// related objects are the path's others, never the subject itself.
#[test]
fn grouped_paths_name_five_and_count_the_rest() {
    for (n, tail) in [(6, ""), (7, " and 1 more")] {
        let m = mesh(&plaintext_callers(n));
        let f = path_findings(&m, &compute(&m), "MTLS001", |v| v == Verdict::FailPlaintextToStrict);
        assert_eq!(f.len(), 1, "{f:?}");
        let f = &f[0];
        assert_eq!(m.object_ref(f.subject).to_string(), "PeerAuthentication shop/strict");
        let related: Vec<(String, &str)> = f.related.iter().map(|(o, r)| (m.object_ref(*o).to_string(), *r)).collect();
        assert_eq!(
            related,
            [("Service shop/cart".to_string(), "Service"), ("Deployment shop/cart".to_string(), "workload")],
            "{n}"
        );
        let last = format!(
            "clients without sidecar in namespace `n6` (Deployment n6/app) -> cart.shop.svc.cluster.local:80{tail}."
        );
        assert!(f.message.ends_with(&last), "{n}: {}", f.message);
    }
}

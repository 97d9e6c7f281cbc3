//! Tests of VirtualService routing the lib tests did not pin (issue 15, fifth sample: mutants of `non_empty`,
//! `VsIndex::applies` and `VsIndex::destinations`' protocol test survived).
#![allow(clippy::unwrap_used)]

use super::super::fixtures::{injected, reviews_version, service};
use super::super::{ClientKind, Verdict, compute};
use super::non_empty;
use crate::manifest::{load_file, yaml::Limits};
use crate::rules::testing::{mesh, pa};

/// Whether a match field counts as written: a scalar, a non-empty mapping or a non-empty list; null, `{}` and
/// `[]` do not (an empty `headers: {}` leaves a catch-all route unconditional).
#[test]
fn a_match_field_counts_only_when_it_holds_something() {
    let y = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: m, namespace: shop}\nspec:\n  \
             scalar: GET\n  map: {end-user: {exact: jason}}\n  list: [10.0.0.0/8]\n  null_value: ~\n  empty_map: {}\n  \
             empty_list: []\n";
    let f = load_file("t.yaml", y.as_bytes(), &Limits::default());
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    let o = &f.objects[0];
    let m = o.tree.get(o.root, "spec").unwrap();
    let written: Vec<(&str, bool)> = ["scalar", "map", "list", "null_value", "empty_map", "empty_list", "absent"]
        .into_iter()
        .map(|k| (k, non_empty(&o.tree, m, k)))
        .collect();
    assert_eq!(
        written,
        [
            ("scalar", true),
            ("map", true),
            ("list", true),
            ("null_value", false),
            ("empty_map", false),
            ("empty_list", false),
            ("absent", false)
        ]
    );
}

/// `reviews` in `shop` (STRICT) with versions v1 and v2; the DestinationRule sends mTLS to the host and plaintext to
/// subset v2. `port_name` names the Service port (and so its protocol); `vs` is the VirtualService's spec after
/// `hosts`.
fn paths_with(port_name: &str, vs: &str) -> Vec<(Option<String>, bool, Verdict)> {
    let y = injected("shop")
        + &service("shop", "reviews", &[(9080, "9080")]).replace("name: tcp-9080", &format!("name: {port_name}"))
        + &reviews_version("v1", port_name)
        + &reviews_version("v2", port_name)
        + &pa("shop", "strict", Some("STRICT"), false)
        + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews, namespace: shop}\n\
           spec:\n  host: reviews\n  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n  subsets:\n  - name: v1\n    \
           labels: {version: v1}\n  - name: v2\n    labels: {version: v2}\n    trafficPolicy: {tls: {mode: DISABLE}}\n"
        + "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r, namespace: shop}\n\
           spec:\n  hosts: [reviews]\n"
        + vs;
    let p = compute(&mesh(&y));
    let row = p
        .rows
        .iter()
        .find(|r| r.service.name == "reviews" && r.client_namespace == "shop" && r.client_kind == ClientKind::Sidecar)
        .unwrap();
    row.endpoints.iter().map(|e| (e.subset.clone(), e.conditional, e.verdict)).collect()
}

/// The host's own cluster: both versions get mTLS.
fn own_cluster() -> Vec<(Option<String>, bool, Verdict)> {
    vec![(None, false, Verdict::Mtls), (None, false, Verdict::Mtls)]
}

fn to_v2() -> Vec<(Option<String>, bool, Verdict)> {
    vec![(Some("v2".to_string()), false, Verdict::FailPlaintextToStrict)]
}

/// An HTTP match that names the `mesh` gateway ignores its `sourceNamespace` (Istio's `sourceMatchHTTP`), so it
/// applies to clients in any namespace; a TCP match with the same fields keeps its `sourceNamespace` test.
#[test]
fn an_http_match_naming_the_mesh_gateway_ignores_its_source_namespace() {
    let http = "  http:\n  - match:\n    - {gateways: [mesh], sourceNamespace: other}\n    route:\n    - destination: \
                {host: reviews, subset: v2}\n";
    assert_eq!(paths_with("http-9080", http), to_v2());
    let tcp = "  tcp:\n  - match:\n    - {gateways: [mesh], sourceNamespace: other}\n    route:\n    - destination: \
               {host: reviews, subset: v2}\n";
    assert_eq!(paths_with("tcp-9080", tcp), own_cluster());
    // Without the source namespace, the TCP match applies.
    let tcp_any =
        "  tcp:\n  - match:\n    - {gateways: [mesh]}\n    route:\n    - destination: {host: reviews, subset: v2}\n";
    assert_eq!(paths_with("tcp-9080", tcp_any), to_v2());
}

/// `tcp` routes apply to TCP ports and to ports whose protocol is sniffed at run time, not to HTTP ports.
#[test]
fn tcp_routes_apply_to_tcp_and_sniffed_ports_only() {
    let tcp = "  tcp:\n  - route:\n    - destination: {host: reviews, subset: v2}\n";
    assert_eq!(paths_with("tcp-9080", tcp), to_v2());
    assert_eq!(paths_with("web", tcp), to_v2());
    assert_eq!(paths_with("http-9080", tcp), own_cluster());
}

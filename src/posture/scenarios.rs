//! Scenario tests: each a small tree reproducing a known way mTLS breaks, checked on the verdict table and on the
//! rule that reports it.
#![allow(clippy::unwrap_used)]

use super::fixtures::{deployment, injected, namespace, service, workload_pa};
use super::{ClientKind, Posture, Row, Verdict, compute, diff};
use crate::finding::ObjectRef;
use crate::manifest::{load_file, yaml::Limits};
use crate::mesh::Mesh;
use crate::report::posture::{render_diff_markdown, render_diff_text, render_markdown, render_text};
use crate::rules::testing::{dr, mesh, mesh_with, pa};
use crate::rules::{RULES, RuleFinding};
use crate::settings::MeshSettings;

/// The row for `ns/name:port` seen from a client namespace.
fn row<'p>(p: &'p Posture, service: &str, client: &str) -> &'p Row {
    p.rows
        .iter()
        .find(|r| {
            format!("{}/{}:{}", r.service.namespace, r.service.name, r.port) == service
                && r.client_namespace == client
                && r.client_kind == ClientKind::Sidecar
        })
        .unwrap_or_else(|| panic!("no row {service} from {client}:\n{}", render_text(&p.rows)))
}

/// The row for `ns/name:port` seen from a client namespace's clients of one kind.
fn kind_row<'p>(p: &'p Posture, service: &str, client: &str, kind: ClientKind) -> &'p Row {
    p.rows
        .iter()
        .find(|r| {
            format!("{}/{}:{}", r.service.namespace, r.service.name, r.port) == service
                && r.client_namespace == client
                && r.client_kind == kind
        })
        .unwrap_or_else(|| panic!("no {kind:?} row {service} from {client}:\n{}", render_text(&p.rows)))
}

/// (code, subject name, port) of every finding of every registered rule.
fn findings(m: &crate::context::MeshContext) -> Vec<(String, String, Option<u32>)> {
    let mut v: Vec<_> = RULES
        .iter()
        .flat_map(|r| (r.check)(m))
        .filter(|f: &RuleFinding| f.code.starts_with("MTLS"))
        .map(|f| (f.code.to_string(), m.objects[f.subject].name.clone(), f.port))
        .collect();
    v.sort();
    v
}

fn f(code: &str, name: &str, port: Option<u32>) -> (String, String, Option<u32>) {
    (code.into(), name.into(), port)
}

fn shop() -> String {
    injected("shop") + &service("shop", "cart", &[(80, "8080")]) + &deployment("shop", "cart", &[8080], &[])
}

#[test]
fn mesh_disable_with_a_strict_workload_sends_plaintext_to_strict_istio_56084() {
    let y = shop()
        + &pa("istio-system", "mesh", Some("DISABLE"), false)
        + &workload_pa("shop", "cart", "cart", "STRICT", &[]);
    let m = mesh(&y);
    let p = compute(&m);
    let r = row(&p, "shop/cart:80", "shop");
    assert_eq!((r.server_mode.as_str(), r.client_tls.as_str()), ("STRICT", "auto: plaintext"));
    assert_eq!(r.verdict, Verdict::FailPlaintextToStrict);
    assert_eq!(findings(&m), vec![f("MTLS001", "cart", Some(80))]);
}

#[test]
fn istio_mutual_dr_to_a_namespace_without_injection() {
    let y = namespace("legacy", &[])
        + &service("legacy", "db", &[(5432, "5432")])
        + &deployment("legacy", "db", &[5432], &[])
        + &injected("web")
        + &deployment("web", "frontend", &[8080], &[])
        + &dr("istio-system", "legacy-mtls", "*.legacy.svc.cluster.local", Some("ISTIO_MUTUAL"));
    let m = mesh(&y);
    let p = compute(&m);
    let r = row(&p, "legacy/db:5432", "*");
    assert_eq!(r.server_mode, "no sidecar");
    assert_eq!(r.verdict, Verdict::FailMtlsToNoSidecar);
    assert_eq!(r.other_namespaces, 1);
    // `legacy`'s own client (db, no sidecar) sends plaintext: the rule does not apply to it.
    let own = kind_row(&p, "legacy/db:5432", "legacy", ClientKind::NoSidecar);
    assert_eq!((own.client_tls.as_str(), own.verdict), ("plaintext (no sidecar)", Verdict::Plaintext));
    assert!(own.destination_rules.is_empty());
    assert!(p.rows.iter().all(|r| !(r.client_namespace == "legacy" && r.client_kind == ClientKind::Sidecar)));
    assert_eq!(findings(&m), vec![f("MTLS002", "legacy-mtls", Some(5432))]);
}

#[test]
fn client_namespace_wildcard_dr_shadows_the_service_namespace_dr() {
    let y = shop()
        + &pa("shop", "strict", Some("STRICT"), false)
        + &dr("shop", "cart", "cart", Some("ISTIO_MUTUAL"))
        + &injected("web")
        + &deployment("web", "frontend", &[8080], &[])
        + &dr("web", "no-mtls", "*.local", Some("DISABLE"));
    let m = mesh(&y);
    let p = compute(&m);
    assert_eq!(row(&p, "shop/cart:80", "shop").verdict, Verdict::Mtls);
    let r = row(&p, "shop/cart:80", "web");
    assert_eq!(r.verdict, Verdict::FailPlaintextToStrict);
    assert_eq!(r.destination_rules[0].name, "no-mtls");
    assert_eq!(findings(&m), vec![f("MTLS001", "no-mtls", Some(80))]);
    // The host-specific fix lands in the client namespace, where the lookup stops.
    let fix = (crate::rules::mtls001::RULE.check)(&m).remove(0).fixes.remove(0);
    assert!(fix.description.contains("in namespace `web`"), "{}", fix.description);
}

#[test]
fn port_level_settings_drop_the_top_level_tls() {
    let settings = MeshSettings { auto_mtls: false, ..MeshSettings::default() };
    let y = injected("shop")
        + &service("shop", "cart", &[(80, "8080"), (9090, "9090")])
        + &deployment("shop", "cart", &[8080, 9090], &[])
        + &pa("shop", "strict", Some("STRICT"), false)
        + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: cart, namespace: shop}\n\
           spec:\n  host: cart\n  trafficPolicy:\n    tls: {mode: ISTIO_MUTUAL}\n    portLevelSettings:\n\
           \x20   - port: {number: 9090}\n      connectionPool: {tcp: {maxConnections: 100}}\n";
    let m = mesh_with(&y, settings);
    let p = compute(&m);
    assert_eq!(row(&p, "shop/cart:80", "shop").verdict, Verdict::Mtls);
    let r = row(&p, "shop/cart:9090", "shop");
    assert_eq!(r.client_tls, "auto: plaintext");
    assert_eq!(r.verdict, Verdict::FailPlaintextToStrict);
    let found = (crate::rules::mtls001::RULE.check)(&m);
    assert_eq!(found.len(), 1);
    assert!(found[0].message.contains("does not apply (port-level settings do not inherit)"), "{}", found[0].message);
    assert_eq!(found[0].fixes[0].edits.len(), 1);
}

#[test]
fn port_level_mtls_keyed_by_the_service_port_istio_49098() {
    let y = shop()
        + &workload_pa("shop", "cart", "cart", "STRICT", &[("80", "DISABLE")])
        + &dr("shop", "cart-plain", "cart", Some("DISABLE"));
    let m = mesh(&y);
    let p = compute(&m);
    let r = row(&p, "shop/cart:80", "shop");
    assert_eq!(r.server_mode, "STRICT");
    assert!(!r.endpoints[0].port_level);
    assert_eq!(r.verdict, Verdict::FailPlaintextToStrict);
    assert_eq!(findings(&m), vec![f("MTLS001", "cart-plain", Some(80)), f("MTLS007", "cart", Some(80))]);
}

#[test]
fn excluded_inbound_port_under_auto_mtls_istio_30311() {
    let y = injected("shop")
        + &service("shop", "cart", &[(80, "8080"), (9000, "9000")])
        + &deployment("shop", "cart", &[8080, 9000], &[("traffic.sidecar.istio.io/excludeInboundPorts", "9000")]);
    let m = mesh(&y);
    let p = compute(&m);
    assert_eq!(row(&p, "shop/cart:80", "shop").verdict, Verdict::Mtls);
    let r = row(&p, "shop/cart:9000", "shop");
    assert_eq!((r.server_mode.as_str(), r.client_tls.as_str()), ("no sidecar (port 9000 not captured)", "auto: mTLS"));
    assert_eq!(r.verdict, Verdict::FailMtlsToNoSidecar);
    assert_eq!(findings(&m), vec![f("MTLS002", "cart", Some(9000))]);
}

#[test]
fn empty_tls_block_means_disable() {
    let y = shop()
        + &pa("shop", "strict", Some("STRICT"), false)
        + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: cart, namespace: shop}\n\
           spec:\n  host: cart.shop.svc.cluster.local\n  trafficPolicy:\n    tls: {}\n";
    let m = mesh(&y);
    let p = compute(&m);
    let r = row(&p, "shop/cart:80", "shop");
    assert_eq!(r.client_tls, "DISABLE (tls without mode)");
    assert_eq!(r.verdict, Verdict::FailPlaintextToStrict);
    assert_eq!(findings(&m), vec![f("MTLS001", "cart", Some(80)), f("MTLS008", "cart", None)]);
}

#[test]
fn duplicate_namespace_wide_pas_resolve_to_the_oldest() {
    let y = shop() + &pa("shop", "b-strict", Some("STRICT"), false) + &pa("shop", "a-disable", Some("DISABLE"), false);
    let m = mesh(&y);
    let p = compute(&m);
    let r = row(&p, "shop/cart:80", "shop");
    assert_eq!((r.server_mode.as_str(), r.verdict), ("DISABLE", Verdict::Plaintext));
    assert_eq!(r.peer_authentications[0].name, "a-disable");
    assert_eq!(findings(&m), vec![f("MTLS005", "b-strict", None)]);

    // When the change adds `a-disable`, the base-side `b-strict` is older and wins.
    let file = load_file("t.yaml", y.as_bytes(), &Limits::default());
    let newer = [ObjectRef { kind: "PeerAuthentication".into(), namespace: "shop".into(), name: "a-disable".into() }];
    let m =
        crate::context::MeshContext::new(Mesh::build(&[file], MeshSettings::default(), newer.into_iter().collect()));
    let p = compute(&m);
    let r = row(&p, "shop/cart:80", "shop");
    assert_eq!((r.server_mode.as_str(), r.verdict), ("STRICT", Verdict::Mtls));
    assert_eq!(findings(&m), vec![f("MTLS005", "a-disable", None)]);
}

#[test]
fn root_namespace_selector_pa_is_ignored() {
    let y = shop()
        + &pa("shop", "off", Some("DISABLE"), false)
        + &workload_pa("istio-system", "cart-strict", "cart", "STRICT", &[])
        + &dr("shop", "cart", "cart", Some("ISTIO_MUTUAL"));
    let m = mesh(&y);
    let p = compute(&m);
    let r = row(&p, "shop/cart:80", "shop");
    assert_eq!(r.server_mode, "DISABLE");
    assert_eq!(r.verdict, Verdict::FailMtlsToPlaintextOnly);
    assert_eq!(findings(&m), vec![f("MTLS002", "cart", Some(80)), f("MTLS006", "cart-strict", None)]);
}

#[test]
fn auto_mtls_off_without_drs_to_a_strict_namespace() {
    let settings = MeshSettings { auto_mtls: false, ..MeshSettings::default() };
    let y = shop() + &pa("shop", "strict", Some("STRICT"), false);
    let m = mesh_with(&y, settings);
    let p = compute(&m);
    let r = row(&p, "shop/cart:80", "shop");
    assert_eq!((r.client_tls.as_str(), r.verdict), ("auto: plaintext", Verdict::FailPlaintextToStrict));
    let found = (crate::rules::mtls001::RULE.check)(&m);
    assert_eq!(found.len(), 1);
    assert_eq!(m.objects[found[0].subject].name, "strict");
    assert!(found[0].message.contains("enableAutoMtls: false"), "{}", found[0].message);
}

#[test]
fn unknown_sidecar_is_shown_and_never_fails_on_its_own() {
    // No Namespace objects: sidecars are unknown. An ISTIO_MUTUAL rule does not become "mTLS to a workload
    // without sidecar".
    let y = service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[])
        + &dr("shop", "cart", "cart", Some("ISTIO_MUTUAL"));
    let p = compute(&mesh(&y));
    let r = row(&p, "shop/cart:80", "shop");
    assert_eq!((r.server_mode.as_str(), r.verdict), ("PERMISSIVE (sidecar unknown)", Verdict::Mtls));
}

#[test]
fn service_without_workloads_shows_the_namespace_mode_only_when_a_dr_decides() {
    let y = service("shop", "cart", &[(80, "8080")])
        + &service("shop", "other", &[(80, "8080")])
        + &pa("shop", "s", Some("STRICT"), false)
        + &dr("shop", "cart", "cart", Some("DISABLE"));
    let p = compute(&mesh(&y));
    assert_eq!(p.rows.len(), 1, "{}", render_text(&p.rows));
    assert_eq!(p.rows[0].server_mode, "STRICT (no workload in tree)");
}

#[test]
fn selector_dr_gets_its_own_client_row() {
    let y = shop()
        + &injected("web")
        + &deployment("web", "frontend", &[8080], &[])
        + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web-plain, namespace: web}\n\
           spec:\n  host: cart.shop.svc.cluster.local\n  workloadSelector: {matchLabels: {app: frontend}}\n  trafficPolicy: {tls: {mode: DISABLE}}\n";
    let p = compute(&mesh(&y));
    let sel = p.rows.iter().find(|r| r.client_selector.as_deref() == Some("app=frontend")).unwrap();
    assert_eq!((sel.client_namespace.as_str(), sel.verdict), ("web", Verdict::Plaintext));
    // Other workloads of `web` have no catch-all rule for the host: the lookup stopped in `web`, so auto mTLS.
    let plain = row(&p, "shop/cart:80", "web");
    assert_eq!((plain.client_tls.as_str(), plain.client_selector.as_deref()), ("auto: mTLS", None));
}

/// A tree with a little of everything, for the snapshots; `web` holds a DISABLE rule for `web_plain_host`.
fn bookstore(web_plain_host: &str) -> String {
    injected("shop")
        + &injected("web")
        + &namespace("legacy", &[])
        + &service("shop", "cart", &[(80, "8080"), (9000, "9000")])
        + &deployment("shop", "cart", &[8080, 9000], &[("traffic.sidecar.istio.io/excludeInboundPorts", "9000")])
        + &service("shop", "catalog", &[(80, "http")])
        + &deployment("shop", "catalog", &[8080], &[])
        + "        - name: http\n          containerPort: 8081\n"
        + &service("legacy", "db", &[(5432, "5432")])
        + &deployment("legacy", "db", &[5432], &[])
        + &deployment("web", "frontend", &[8080], &[])
        + &pa("istio-system", "mesh", Some("PERMISSIVE"), false)
        + &pa("shop", "strict", Some("STRICT"), false)
        + &dr("web", "web-plain", web_plain_host, Some("DISABLE"))
        + &dr("istio-system", "mesh-mtls", "*.local", Some("ISTIO_MUTUAL"))
}

const SHOP: &str = "*.shop.svc.cluster.local";

#[test]
fn snapshot_text_and_markdown() {
    let p = compute(&mesh(&bookstore(SHOP)));
    insta::assert_snapshot!("posture_text", render_text(&p.rows));
    insta::assert_snapshot!("posture_markdown", render_markdown(&p.rows));
}

#[test]
fn snapshot_diff_text_and_markdown() {
    let base = compute(&mesh(&bookstore(SHOP)));
    let head_tree = bookstore("*.legacy.svc.cluster.local") + &pa("legacy", "legacy-off", Some("DISABLE"), false);
    let head = compute(&mesh(&head_tree));
    let changes = diff(&base, &head);
    insta::assert_snapshot!("posture_diff_text", render_diff_text(&changes));
    insta::assert_snapshot!("posture_diff_markdown", render_diff_markdown(&changes));
    assert!(diff(&base, &base).is_empty());
}

#[test]
fn json_rows_carry_the_deciding_objects() {
    let p = compute(&mesh(&bookstore(SHOP)));
    let v = serde_json::to_value(&p).unwrap();
    let first = &v["rows"][0];
    assert!(first["verdict"].is_string());
    assert!(first["destination_rules"].is_array());
    assert!(first["endpoints"][0]["mode"].is_string());
    assert!(first.get("client").is_none(), "internal ids stay out of JSON");
}

#[test]
fn rows_grow_with_services_not_with_namespaces_squared() {
    // 40 injected namespaces with 5 services each, a root-wide rule: every client namespace gets the same lookup, so
    // each service port has its own namespace's row and one `*` row, not one row per client namespace.
    let mut y = dr("istio-system", "mesh", "*.local", Some("ISTIO_MUTUAL"));
    for n in 0..40 {
        let ns = format!("ns{n}");
        y.push_str(&injected(&ns));
        for s in 0..5 {
            y.push_str(&service(&ns, &format!("s{s}"), &[(80, "8080")]));
            y.push_str(&deployment(&ns, &format!("s{s}"), &[8080], &[]));
        }
    }
    // One namespace with its own catch-all rule adds one row per service port, and only that.
    y.push_str(&dr("ns0", "local", "*.local", Some("ISTIO_MUTUAL")));
    let p = compute(&mesh(&y));
    assert_eq!(p.rows.len(), 40 * 5 * 2 + 39 * 5);
    assert!(p.rows.iter().all(|r| r.verdict == Verdict::Mtls));
    assert_eq!(row(&p, "ns1/s0:80", "*").other_namespaces, 38);
    assert_eq!(row(&p, "ns0/s0:80", "*").other_namespaces, 39);
}

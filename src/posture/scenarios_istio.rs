//! Scenario tests for the behaviour Istio's own code decides: client workloads without sidecars, the injector's
//! value parsing, explicit `istio-proxy` containers, the `security.istio.io/tlsMode` label, headless Services,
//! exportTo without merging, TLS origination and ambient mode. Each point has a failing and a passing case.
#![allow(clippy::unwrap_used)]

use super::fixtures::{deployment, injected, namespace, service, workload_pa};
use super::{ClientKind, Posture, Row, Verdict, compute};
use crate::report::posture::render_text;
use crate::rules::testing::{dr, mesh, pa};
use crate::rules::{RULES, RuleFinding};

fn find<'p>(p: &'p Posture, service: &str, client: &str, kind: ClientKind) -> &'p Row {
    p.rows
        .iter()
        .find(|r| {
            format!("{}/{}:{}", r.service.namespace, r.service.name, r.port) == service
                && r.client_namespace == client
                && r.client_kind == kind
                && r.client_selector.is_none()
        })
        .unwrap_or_else(|| panic!("no {kind:?} row {service} from {client}:\n{}", render_text(&p.rows)))
}

fn mtls_findings(m: &crate::context::MeshContext) -> Vec<RuleFinding> {
    RULES.iter().flat_map(|r| (r.check)(m)).filter(|f| f.code.starts_with("MTLS")).collect()
}

fn codes(m: &crate::context::MeshContext) -> Vec<(String, String)> {
    let mut v: Vec<_> =
        mtls_findings(m).iter().map(|f| (f.code.to_string(), m.objects[f.subject].name.clone())).collect();
    v.sort();
    v
}

fn strict_shop() -> String {
    injected("shop")
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[])
        + &pa("shop", "strict", Some("STRICT"), false)
}

/// A Deployment with pod labels (besides `app`) and a pod spec suffix.
fn deployment_with(ns: &str, name: &str, labels: &[(&str, &str)], spec_extra: &str) -> String {
    let mut s = format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  template:\n    metadata:\n      labels:\n"
    );
    if !labels.iter().any(|(k, _)| *k == "app") {
        s.push_str(&format!("        app: {name}\n"));
    }
    for (k, v) in labels {
        s.push_str(&format!("        {k}: \"{v}\"\n"));
    }
    s.push_str(&format!("    spec:\n{spec_extra}      containers:\n      - name: {name}\n        image: x\n"));
    s.push_str("        ports:\n        - containerPort: 8080\n");
    s
}

// 1. Clients are workloads.

#[test]
fn client_without_sidecar_to_strict_is_mtls001_naming_the_workload() {
    let y = strict_shop() + &namespace("batch", &[]) + &deployment("batch", "reporter", &[9000], &[]);
    let m = mesh(&y);
    let p = compute(&m);
    let r = find(&p, "shop/cart:80", "*", ClientKind::NoSidecar);
    assert_eq!((r.client_tls.as_str(), r.verdict), ("plaintext (no sidecar)", Verdict::FailPlaintextToStrict));
    assert!(r.destination_rules.is_empty());
    let f = mtls_findings(&m);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].code, m.objects[f[0].subject].name.as_str()), ("MTLS001", "strict"));
    assert!(
        f[0].message.contains("clients without sidecar in other namespaces (Deployment batch/reporter)"),
        "{}",
        f[0].message
    );
    assert!(f[0].message.contains("whatever a DestinationRule says"), "{}", f[0].message);
    assert!(matches!(&f[0].fixes[0].edits[0], crate::rules::FixEdit::SetField { value, .. } if value == "PERMISSIVE"));
}

#[test]
fn client_with_sidecar_to_strict_is_mtls() {
    let y = strict_shop() + &injected("batch") + &deployment("batch", "reporter", &[9000], &[]);
    let m = mesh(&y);
    let p = compute(&m);
    assert_eq!(find(&p, "shop/cart:80", "*", ClientKind::Sidecar).verdict, Verdict::Mtls);
    assert!(p.rows.iter().all(|r| r.client_kind == ClientKind::Sidecar));
    assert!(codes(&m).is_empty());
}

#[test]
fn opted_out_and_host_network_clients_get_their_own_row_in_an_injected_namespace() {
    let y = strict_shop()
        + &injected("web")
        + &deployment("web", "frontend", &[8080], &[])
        + &deployment_with("web", "legacy", &[("sidecar.istio.io/inject", "false")], "")
        + &deployment_with("web", "node-agent", &[], "      hostNetwork: true\n");
    let p = compute(&mesh(&y));
    // `web` is not listed on its own for shop/cart (no rule names it): the `*` rows stand for it.
    assert_eq!(find(&p, "shop/cart:80", "*", ClientKind::Sidecar).verdict, Verdict::Mtls);
    let plain = find(&p, "shop/cart:80", "*", ClientKind::NoSidecar);
    assert_eq!(plain.verdict, Verdict::FailPlaintextToStrict);
    assert_eq!(plain.client_workloads, vec!["Deployment web/legacy", "Deployment web/node-agent"]);
}

#[test]
fn a_namespace_without_workloads_in_the_tree_is_decided_by_its_labels() {
    // No workload of shop is in the tree; the namespace is not injected, so its clients have no sidecar, the
    // ISTIO_MUTUAL rule does not apply to them, and nothing is known of the path: no row.
    let y = namespace("shop", &[])
        + &service("shop", "cart", &[(80, "8080")])
        + &dr("shop", "cart", "cart", Some("ISTIO_MUTUAL"));
    let p = compute(&mesh(&y));
    assert!(p.rows.is_empty(), "{}", render_text(&p.rows));
    let injected_ns = injected("shop")
        + &service("shop", "cart", &[(80, "8080")])
        + &dr("shop", "cart", "cart", Some("ISTIO_MUTUAL"));
    let p = compute(&mesh(&injected_ns));
    assert_eq!(p.rows.len(), 1, "{}", render_text(&p.rows));
    assert_eq!(p.rows[0].client_kind, ClientKind::Sidecar);
    assert_eq!(p.rows[0].client_tls, "ISTIO_MUTUAL");
}

// 2. The corners.

#[test]
fn inject_values_are_read_as_istio_1_27_does() {
    // `"False"` is not `false`: ignored, the namespace default (inject) applies; before 1.27 it meant no sidecar.
    let y = strict_shop()
        + &injected("web")
        + &deployment_with("web", "frontend", &[("sidecar.istio.io/inject", "False")], "");
    let p = compute(&mesh(&y));
    assert!(p.rows.iter().all(|r| r.client_kind == ClientKind::Sidecar), "{}", render_text(&p.rows));
    // Exactly `false` opts out.
    let y = strict_shop()
        + &injected("web")
        + &deployment_with("web", "frontend", &[("sidecar.istio.io/inject", "false")], "");
    let p = compute(&mesh(&y));
    assert_eq!(find(&p, "shop/cart:80", "*", ClientKind::NoSidecar).verdict, Verdict::FailPlaintextToStrict);
}

#[test]
fn an_explicit_istio_proxy_container_is_a_sidecar() {
    let legacy = |extra: &str| {
        namespace("legacy", &[])
            + &service("legacy", "db", &[(5432, "5432")])
            + &deployment("legacy", "db", &[5432], &[])
            + extra
            + &injected("web")
            + &deployment("web", "frontend", &[8080], &[])
            + &dr("web", "db-mtls", "db.legacy.svc.cluster.local", Some("ISTIO_MUTUAL"))
    };
    // Without the container: mTLS to a pod without sidecar.
    assert_eq!(codes(&mesh(&legacy(""))), vec![("MTLS002".to_string(), "db-mtls".to_string())]);
    // `istioctl kube-inject` output: the pod spec already carries istio-proxy (and the tlsMode label).
    let proxy = "      - name: istio-proxy\n        image: proxyv2\n";
    let y = legacy(proxy);
    let m = mesh(&y);
    assert!(codes(&m).is_empty(), "{:?}", codes(&m));
    let p = compute(&m);
    assert_eq!(find(&p, "legacy/db:5432", "web", ClientKind::Sidecar).verdict, Verdict::Mtls);
}

#[test]
fn the_tls_mode_label_is_what_auto_mtls_reads() {
    // A pod without sidecar that carries `security.istio.io/tlsMode: istio` (copied labels): auto mTLS sends mTLS.
    let y = namespace("legacy", &[])
        + &service("legacy", "db", &[(8080, "8080")])
        + &deployment_with("legacy", "db", &[("security.istio.io/tlsMode", "istio")], "")
        + &injected("web")
        + &deployment("web", "frontend", &[8080], &[]);
    let m = mesh(&y);
    let p = compute(&m);
    let r = find(&p, "legacy/db:8080", "*", ClientKind::Sidecar);
    assert_eq!((r.client_tls.as_str(), r.verdict), ("auto: mTLS", Verdict::FailMtlsToNoSidecar));
    // Without the label auto mTLS sends plaintext.
    let y = y.replace("        security.istio.io/tlsMode: \"istio\"\n", "");
    let p = compute(&mesh(&y));
    assert_eq!(find(&p, "legacy/db:8080", "*", ClientKind::Sidecar).verdict, Verdict::Plaintext);
}

#[test]
fn headless_services_get_one_auto_mtls_decision_for_every_endpoint() {
    let headless = |head: bool| {
        let svc = service("shop", "db", &[(80, "8080")]);
        let svc = if head { svc.replace("spec:\n", "spec:\n  clusterIP: None\n") } else { svc };
        injected("shop")
            + &svc
            + &deployment_with("shop", "db-a", &[("app", "db")], "")
            + &deployment_with("shop", "db-b", &[("app", "db"), ("role", "b")], "")
            + "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: b-off, namespace: shop}\n\
               spec:\n  selector: {matchLabels: {role: b}}\n  mtls: {mode: DISABLE}\n"
    };
    // Headless: one ORIGINAL_DST cluster with one mTLS socket; db-b's DISABLE port gets mTLS too.
    let p = compute(&mesh(&headless(true)));
    let r = find(&p, "shop/db:80", "shop", ClientKind::Sidecar);
    assert_eq!(r.verdict, Verdict::FailMtlsToPlaintextOnly, "{}", render_text(&p.rows));
    // A ClusterIP Service: the endpoint match sends mTLS to db-a and plaintext to db-b; nothing fails.
    let p = compute(&mesh(&headless(false)));
    let r = find(&p, "shop/db:80", "shop", ClientKind::Sidecar);
    let verdicts: Vec<Verdict> = r.endpoints.iter().map(|e| e.verdict).collect();
    assert_eq!(verdicts, [Verdict::Mtls, Verdict::Plaintext]);
}

#[test]
fn rules_with_different_export_to_are_not_merged() {
    // Both for one host in `shop`: the older is private and ISTIO_MUTUAL, the newer public and DISABLE. Istio 1.24
    // keeps them apart: clients in `shop` get the last catch-all entry of the host (DISABLE); merged, they would have
    // got the older rule's ISTIO_MUTUAL.
    let y = strict_shop()
        + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: a-private, namespace: shop}\n\
           spec:\n  host: cart\n  exportTo: [\".\"]\n  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n"
        + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: b-public, namespace: shop}\n\
           spec:\n  host: cart\n  exportTo: [\"*\"]\n  trafficPolicy: {tls: {mode: DISABLE}}\n";
    let p = compute(&mesh(&y));
    let r = find(&p, "shop/cart:80", "shop", ClientKind::Sidecar);
    assert_eq!(r.destination_rules.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["b-public"]);
    assert_eq!(r.verdict, Verdict::FailPlaintextToStrict);
    // Equal exportTo sets merge: the oldest trafficPolicy applies.
    let same = y.replace("exportTo: [\"*\"]", "exportTo: [\".\"]");
    let p = compute(&mesh(&same));
    let r = find(&p, "shop/cart:80", "shop", ClientKind::Sidecar);
    assert_eq!(r.destination_rules[0].name, "a-private");
    assert_eq!(r.verdict, Verdict::Mtls);
}

#[test]
fn port_item_without_tls_falls_back_to_auto_mtls_not_to_the_top_level() {
    // `GetPortLevelTrafficPolicy` / `shadowCopyPortTrafficPolicy`: the port item's (absent) tls replaces the top
    // level's. With auto mTLS on, the port gets mTLS although the top level says DISABLE.
    let y = strict_shop()
        + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: cart, namespace: shop}\n\
           spec:\n  host: cart\n  trafficPolicy:\n    tls: {mode: DISABLE}\n    portLevelSettings:\n\
           \x20   - port: {number: 80}\n      connectionPool: {tcp: {maxConnections: 10}}\n";
    let p = compute(&mesh(&y));
    assert_eq!(find(&p, "shop/cart:80", "shop", ClientKind::Sidecar).client_tls, "auto: mTLS");
    // Without the port item, the top-level DISABLE applies and STRICT rejects it.
    let top = y.replace(
        "    portLevelSettings:\n    - port: {number: 80}\n      connectionPool: {tcp: {maxConnections: 10}}\n",
        "",
    );
    let p = compute(&mesh(&top));
    assert_eq!(find(&p, "shop/cart:80", "shop", ClientKind::Sidecar).verdict, Verdict::FailPlaintextToStrict);
}

// 4. TLS origination.

#[test]
fn simple_origination_to_a_strict_sidecar_fails_and_to_permissive_passes_through() {
    let y = strict_shop() + &dr("shop", "cart-tls", "cart", Some("SIMPLE"));
    let m = mesh(&y);
    let p = compute(&m);
    assert_eq!(find(&p, "shop/cart:80", "shop", ClientKind::Sidecar).verdict, Verdict::FailTlsToStrict);
    let f = mtls_findings(&m);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].code, "MTLS001");
    assert!(f[0].message.contains("originates its own TLS"), "{}", f[0].message);
    let permissive = y.replace("mode: STRICT", "mode: PERMISSIVE");
    let m = mesh(&permissive);
    assert_eq!(find(&compute(&m), "shop/cart:80", "shop", ClientKind::Sidecar).verdict, Verdict::Tls);
    assert!(codes(&m).is_empty());
    let mutual = y.replace("SIMPLE", "MUTUAL");
    assert_eq!(
        find(&compute(&mesh(&mutual)), "shop/cart:80", "shop", ClientKind::Sidecar).verdict,
        Verdict::FailTlsToStrict
    );
}

#[test]
fn workload_pa_fixture_still_reads() {
    // The fixtures keep their meaning: a workload PA selects its app.
    let y = injected("shop")
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[])
        + &workload_pa("shop", "cart", "cart", "STRICT", &[]);
    assert_eq!(find(&compute(&mesh(&y)), "shop/cart:80", "shop", ClientKind::Sidecar).server_mode, "STRICT");
}

// 5. Validation as the API server does it.

#[test]
fn a_rejected_peer_authentication_is_an_error_and_left_out_of_the_posture() {
    let strict = |extra: &str| {
        injected("shop")
            + &service("shop", "cart", &[(80, "8080")])
            + &deployment("shop", "cart", &[8080], &[])
            + &format!(
                "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {{name: strict, namespace: shop}}\n\
                 spec:\n  mtls: {{mode: STRICT}}\n{extra}"
            )
            + &dr("shop", "cart-plain", "cart", Some("DISABLE"))
    };
    // Valid: STRICT applies and the DISABLE rule fails against it.
    let m = mesh(&strict(""));
    assert!(m.schema_errors.is_empty());
    assert_eq!(codes(&m), vec![("MTLS001".to_string(), "cart-plain".to_string())]);
    // `portLevelMtls` without a selector: the API server rejects the object, so it never applies.
    let y = strict("  portLevelMtls:\n    8080: {mode: DISABLE}\n");
    let m = mesh(&y);
    assert_eq!(m.schema_errors.len(), 1, "{:?}", m.schema_errors);
    let e = &m.schema_errors[0];
    assert_eq!(e.kind, crate::finding::ErrorKind::Rejected);
    assert!(e.message.contains("PeerAuthentication shop/strict is rejected by the API server"), "{}", e.message);
    assert!(e.message.contains("spec: Invalid value: portLevelMtls requires selector"), "{}", e.message);
    // The line of the PeerAuthentication's `spec:` (the field the rule is on), right after its metadata.
    let meta = y.lines().position(|l| l.contains("name: strict")).unwrap();
    assert_eq!(e.line, meta + 2, "{e:?}");
    assert!(m.peer_authentications.iter().all(|p| p.name != "strict"));
    let p = compute(&m);
    assert_eq!(find(&p, "shop/cart:80", "shop", ClientKind::Sidecar).server_mode, "PERMISSIVE");
    assert!(codes(&m).is_empty(), "{:?}", codes(&m));
}

#[test]
fn a_rejected_destination_rule_is_left_out_of_the_client_side() {
    let y = strict_shop()
        + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: cart, namespace: shop}\n\
           spec:\n  host: cart\n  trafficPolicy:\n    tls: {mode: DISABLE}\n    connectionPool: {tcp: {connectTimeout: 10}}\n";
    let m = mesh(&y);
    assert_eq!(m.schema_errors.len(), 1, "{:?}", m.schema_errors);
    assert!(m.schema_errors[0].message.contains("must be a valid duration greater than 1ms"));
    assert!(m.destination_rules.is_empty());
    assert_eq!(find(&compute(&m), "shop/cart:80", "shop", ClientKind::Sidecar).verdict, Verdict::Mtls);
    // With a valid duration the DISABLE rule applies and fails against STRICT.
    let m = mesh(&y.replace("connectTimeout: 10}", "connectTimeout: 10s}"));
    assert!(m.schema_errors.is_empty());
    assert_eq!(find(&compute(&m), "shop/cart:80", "shop", ClientKind::Sidecar).verdict, Verdict::FailPlaintextToStrict);
}

// 6. Ambient mode.

fn ambient_ns(ns: &str) -> String {
    namespace(ns, &[("istio.io/dataplane-mode", "ambient")])
}

/// `shop` (cart, STRICT) with its own data plane, `web` (frontend) in ambient, `batch` (reporter) outside the mesh,
/// `legacy` (db) with sidecars, and a DISABLE rule for cart in `web` and in `legacy`.
fn mixed(shop: &str) -> String {
    shop.to_string()
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[])
        + &pa("shop", "strict", Some("STRICT"), false)
        + &ambient_ns("web")
        + &deployment("web", "frontend", &[8080], &[])
        + &namespace("batch", &[])
        + &deployment("batch", "reporter", &[9000], &[])
        + &injected("legacy")
        + &deployment("legacy", "db", &[5432], &[])
        + &dr("legacy", "cart-plain", "cart.shop.svc.cluster.local", Some("DISABLE"))
}

#[test]
fn ambient_server_gets_hbone_from_mesh_clients_and_rejects_plaintext_from_outside() {
    let m = mesh(&mixed(&ambient_ns("shop")));
    let p = compute(&m);
    // Sidecar clients reach an ambient endpoint over HBONE although their rule says DISABLE.
    let legacy = find(&p, "shop/cart:80", "legacy", ClientKind::Sidecar);
    assert_eq!((legacy.client_tls.as_str(), legacy.verdict), ("HBONE", Verdict::Mtls));
    assert_eq!(legacy.server_mode, "ambient STRICT");
    let amb = find(&p, "shop/cart:80", "*", ClientKind::Ambient);
    assert_eq!((amb.client_tls.as_str(), amb.verdict), ("HBONE (ztunnel)", Verdict::Mtls));
    // Outside the mesh: plaintext, which ztunnel's STRICT rejects.
    let out = find(&p, "shop/cart:80", "*", ClientKind::NoSidecar);
    assert_eq!(out.verdict, Verdict::FailPlaintextToStrict);
    assert_eq!(codes(&m), vec![("MTLS001".to_string(), "strict".to_string())]);
    insta::assert_snapshot!("posture_ambient_text", render_text(&p.rows));
}

#[test]
fn a_namespace_moving_from_sidecars_to_ambient() {
    let before = mesh(&mixed(&injected("shop")));
    let after = mesh(&mixed(&ambient_ns("shop")));
    let (b, a) = (compute(&before), compute(&after));
    // With sidecars: the DISABLE rule breaks legacy's calls, and ambient clients send plaintext to STRICT.
    assert_eq!(find(&b, "shop/cart:80", "legacy", ClientKind::Sidecar).verdict, Verdict::FailPlaintextToStrict);
    let amb = find(&b, "shop/cart:80", "*", ClientKind::Ambient);
    assert_eq!(
        (amb.client_tls.as_str(), amb.verdict),
        ("plaintext (ztunnel, no tunnel)", Verdict::FailPlaintextToStrict)
    );
    // In ambient both become HBONE.
    let changes = super::diff(&b, &a);
    insta::assert_snapshot!("posture_ambient_move_diff", crate::report::posture::render_diff_text(&changes));
    assert!(changes.iter().any(|c| c.key.client_namespace == "legacy"
        && c.after.as_ref().is_some_and(|r| r.verdict == Verdict::Mtls)));
}

#[test]
fn disable_in_ambient_has_no_effect_and_gets_mtls009() {
    let y = ambient_ns("shop")
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[])
        + &pa("shop", "off", Some("DISABLE"), false)
        + &injected("web")
        + &deployment("web", "frontend", &[8080], &[])
        + &dr("web", "cart-mtls", "cart.shop.svc.cluster.local", Some("ISTIO_MUTUAL"));
    let m = mesh(&y);
    let p = compute(&m);
    // ISTIO_MUTUAL (HBONE) to a DISABLE ambient port is no failure: DISABLE is not applied.
    assert_eq!(find(&p, "shop/cart:80", "web", ClientKind::Sidecar).verdict, Verdict::Mtls);
    assert_eq!(codes(&m), vec![("MTLS009".to_string(), "off".to_string())]);
    // With sidecars the same tree fails (mTLS to a DISABLE port) and MTLS009 does not apply.
    let m = mesh(&y.replace("istio.io/dataplane-mode: \"ambient\"", "istio-injection: \"enabled\""));
    assert_eq!(codes(&m), vec![("MTLS002".to_string(), "cart-mtls".to_string())]);
}

#[test]
fn a_pod_opting_out_of_ambient_is_outside_the_mesh() {
    let y = mixed(&ambient_ns("shop")) + &deployment_with("web", "tool", &[("istio.io/dataplane-mode", "none")], "");
    let p = compute(&mesh(&y));
    let out = find(&p, "shop/cart:80", "*", ClientKind::NoSidecar);
    assert!(out.client_workloads.contains(&"Deployment web/tool".to_string()), "{:?}", out.client_workloads);
}

// 3. VirtualService-aware client TLS.

/// `shop/reviews` with two versions (`v1`, `v2` by pod label `version`), STRICT, and a DestinationRule with subsets:
/// top-level `top`, subset v1 without policy, subset v2 with its own `v2_tls`. The port is named `http-9080`.
fn reviews(top: &str, v2_tls: &str, vs: &str) -> String {
    injected("shop")
        + &service("shop", "reviews", &[(9080, "9080")]).replace("name: tcp-9080", "name: http-9080")
        + &deployment_with("shop", "reviews-v1", &[("app", "reviews"), ("version", "v1")], "").replace("8080", "9080")
        + &deployment_with("shop", "reviews-v2", &[("app", "reviews"), ("version", "v2")], "").replace("8080", "9080")
        + &pa("shop", "strict", Some("STRICT"), false)
        + &format!(
            "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: reviews, namespace: shop}}\n\
             spec:\n  host: reviews\n  trafficPolicy: {{tls: {{mode: {top}}}}}\n  subsets:\n  - name: v1\n    labels: {{version: v1}}\n\
             \x20 - name: v2\n    labels: {{version: v2}}\n    trafficPolicy: {{tls: {{mode: {v2_tls}}}}}\n"
        )
        + vs
}

fn vs_to(routes: &[(&str, u32)]) -> String {
    let mut s =
        "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: shop}\n\
                 spec:\n  hosts: [reviews]\n  http:\n  - route:\n"
            .to_string();
    for (subset, weight) in routes {
        s.push_str(&format!("    - destination: {{host: reviews, subset: {subset}}}\n      weight: {weight}\n"));
    }
    s
}

#[test]
fn traffic_routed_to_a_disable_subset_is_plaintext() {
    // Without a VirtualService the host's cluster applies: ISTIO_MUTUAL to both versions.
    let m = mesh(&reviews("ISTIO_MUTUAL", "DISABLE", ""));
    assert_eq!(find(&compute(&m), "shop/reviews:9080", "shop", ClientKind::Sidecar).verdict, Verdict::Mtls);
    assert!(codes(&m).is_empty());
    // Every call routed to v2, whose subset policy is DISABLE: STRICT rejects it.
    let m = mesh(&reviews("ISTIO_MUTUAL", "DISABLE", &vs_to(&[("v2", 100)])));
    let p = compute(&m);
    let r = find(&p, "shop/reviews:9080", "shop", ClientKind::Sidecar);
    assert_eq!((r.client_tls.as_str(), r.verdict), ("subset v2: DISABLE", Verdict::FailPlaintextToStrict));
    assert_eq!(r.endpoints.len(), 1, "only v2's endpoint is reached");
    let f = mtls_findings(&m);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].code, f[0].field), ("MTLS001", super::remedy::DR_SUBSETS));
    assert!(f[0].message.contains("subset `v2`"), "{}", f[0].message);
}

#[test]
fn traffic_routed_to_an_mtls_subset_is_no_false_failure() {
    // The host's top level says DISABLE, but the route only reaches v2, whose subset policy is ISTIO_MUTUAL.
    let m = mesh(&reviews("DISABLE", "ISTIO_MUTUAL", ""));
    assert_eq!(
        find(&compute(&m), "shop/reviews:9080", "shop", ClientKind::Sidecar).verdict,
        Verdict::FailPlaintextToStrict
    );
    let m = mesh(&reviews("DISABLE", "ISTIO_MUTUAL", &vs_to(&[("v2", 100)])));
    let r = compute(&m);
    let r = find(&r, "shop/reviews:9080", "shop", ClientKind::Sidecar);
    assert_eq!(r.verdict, Verdict::Mtls);
    assert!(codes(&m).is_empty(), "{:?}", codes(&m));
}

#[test]
fn weighted_routes_get_a_verdict_per_subset() {
    let m = mesh(&reviews("ISTIO_MUTUAL", "DISABLE", &vs_to(&[("v1", 90), ("v2", 10)])));
    let p = compute(&m);
    let r = find(&p, "shop/reviews:9080", "shop", ClientKind::Sidecar);
    assert_eq!(r.client_tls, "reviews-v1: subset v1: ISTIO_MUTUAL; reviews-v2: subset v2: DISABLE");
    let by_subset: Vec<(Option<&str>, Verdict)> =
        r.endpoints.iter().map(|e| (e.subset.as_deref(), e.verdict)).collect();
    assert_eq!(by_subset, [(Some("v1"), Verdict::Mtls), (Some("v2"), Verdict::FailPlaintextToStrict)]);
    // A weight of 0 sends nothing to v2.
    let m = mesh(&reviews("ISTIO_MUTUAL", "DISABLE", &vs_to(&[("v1", 100), ("v2", 0)])));
    assert_eq!(find(&compute(&m), "shop/reviews:9080", "shop", ClientKind::Sidecar).verdict, Verdict::Mtls);
    insta::assert_snapshot!("posture_subsets_text", render_text(&p.rows));
}

#[test]
fn a_virtual_service_for_gateways_only_does_not_route_sidecars() {
    let vs = vs_to(&[("v2", 100)])
        .replace("  hosts: [reviews]\n", "  hosts: [reviews]\n  gateways: [istio-system/public]\n");
    let m = mesh(&reviews("ISTIO_MUTUAL", "DISABLE", &vs));
    assert_eq!(find(&compute(&m), "shop/reviews:9080", "shop", ClientKind::Sidecar).verdict, Verdict::Mtls);
}

#[test]
fn a_private_virtual_service_routes_only_its_own_namespace() {
    let vs = vs_to(&[("v2", 100)])
        .replace("namespace: shop}", "namespace: web}")
        .replace("  hosts: [reviews]\n", "  hosts: [reviews.shop.svc.cluster.local]\n  exportTo: [\".\"]\n")
        .replace("host: reviews,", "host: reviews.shop.svc.cluster.local,");
    let y = reviews("ISTIO_MUTUAL", "DISABLE", &vs) + &injected("web") + &deployment("web", "frontend", &[8080], &[]);
    let m = mesh(&y);
    let p = compute(&m);
    // `web`'s clients follow the route to v2 (DISABLE): rejected by STRICT.
    assert_eq!(find(&p, "shop/reviews:9080", "web", ClientKind::Sidecar).verdict, Verdict::FailPlaintextToStrict);
    // `shop`'s own clients do not see the VirtualService: mTLS to both versions.
    assert_eq!(find(&p, "shop/reviews:9080", "shop", ClientKind::Sidecar).verdict, Verdict::Mtls);
}

// Istio versions: each behaviour that changed between releases, on both sides of the release that changed it.

fn at(version: &str, y: &str) -> crate::context::MeshContext {
    let istio_version = crate::settings::IstioVersion::parse(version).unwrap();
    crate::rules::testing::mesh_with(y, crate::settings::MeshSettings { istio_version, ..Default::default() })
}

fn dr_exported(name: &str, export_to: &str, mode: &str) -> String {
    format!(
        "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {name}, namespace: shop}}\n\
         spec:\n  host: cart\n  exportTo: {export_to}\n  trafficPolicy: {{tls: {{mode: {mode}}}}}\n"
    )
}

#[test]
fn destination_rule_merging_before_and_after_1_24() {
    // `a-frontend` (older, exported to frontend only, ISTIO_MUTUAL) and `b-public` (exported everywhere, DISABLE).
    let y = strict_shop()
        + &injected("frontend")
        + &deployment("frontend", "web", &[8080], &[])
        + &injected("other")
        + &deployment("other", "job", &[8080], &[])
        + &dr_exported("a-frontend", "[frontend]", "ISTIO_MUTUAL")
        + &dr_exported("b-public", "[\"*\"]", "DISABLE");
    // 1.24 and later: the sets differ, the rules stay apart; `other` (in the `*` row) sees only b-public (DISABLE)
    // and fails STRICT; so does frontend, which takes the host's last entry.
    for v in ["1.24", "1.30"] {
        let p = compute(&at(v, &y));
        let r = find(&p, "shop/cart:80", "*", ClientKind::Sidecar);
        assert_eq!(r.other_namespaces, 2, "{v}: {}", render_text(&p.rows));
        assert_eq!(r.destination_rules.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["b-public"], "{v}");
        assert_eq!(r.verdict, Verdict::FailPlaintextToStrict, "{v}");
    }
    // 1.23 and earlier: b-public merges into a-frontend, and the host keeps the first rule's exportTo: `other` sees
    // no rule at all, auto mTLS sends mTLS, which STRICT accepts; frontend gets the merged rule (ISTIO_MUTUAL).
    for v in ["1.22", "1.23.6"] {
        let p = compute(&at(v, &y));
        let r = find(&p, "shop/cart:80", "*", ClientKind::Sidecar);
        assert_eq!(r.other_namespaces, 1, "{v}: {}", render_text(&p.rows));
        assert!(r.destination_rules.is_empty(), "{v}: {}", render_text(&p.rows));
        assert_eq!((r.client_tls.as_str(), r.verdict), ("auto: mTLS", Verdict::Mtls), "{v}");
        let f = find(&p, "shop/cart:80", "frontend", ClientKind::Sidecar);
        assert_eq!(f.destination_rules.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["a-frontend", "b-public"]);
        assert_eq!(f.verdict, Verdict::Mtls, "{v}");
    }
}

#[test]
fn a_private_and_a_public_rule_for_one_host_before_and_after_1_24() {
    // The older rule is private (ISTIO_MUTUAL), the newer public (DISABLE); clients in shop itself.
    let y = strict_shop()
        + &dr_exported("a-private", "[\".\"]", "ISTIO_MUTUAL")
        + &dr_exported("b-public", "[\"*\"]", "DISABLE");
    // 1.24+: two entries in shop's table; a client takes the last catch-all one: DISABLE, rejected by STRICT.
    let r = find(&compute(&at("1.24", &y)), "shop/cart:80", "shop", ClientKind::Sidecar).clone();
    assert_eq!((r.destination_rules[0].name.as_str(), r.verdict), ("b-public", Verdict::FailPlaintextToStrict));
    // 1.23: merged into the older rule, whose trafficPolicy applies whole: ISTIO_MUTUAL.
    let r = find(&compute(&at("1.23", &y)), "shop/cart:80", "shop", ClientKind::Sidecar).clone();
    assert_eq!((r.destination_rules[0].name.as_str(), r.verdict), ("a-private", Verdict::Mtls));
}

#[test]
fn inject_values_before_and_after_1_27() {
    let with = |value: &str| {
        strict_shop()
            + &injected("web")
            + &deployment_with("web", "frontend", &[("sidecar.istio.io/inject", value)], "")
    };
    let kinds = |v: &str, y: &str| -> Vec<ClientKind> {
        let p = compute(&at(v, y));
        p.rows
            .iter()
            .filter(|r| r.client_workloads.iter().any(|w| w == "Deployment web/frontend"))
            .map(|r| r.client_kind)
            .collect()
    };
    // `False`, `no`, `0`: 1.26 and earlier read them as false (no sidecar: plaintext to STRICT fails); 1.27 and later
    // ignore them and inject (the namespace default).
    for value in ["False", "no", "0", "disabled"] {
        let y = with(value);
        assert_eq!(kinds("1.26", &y), [ClientKind::NoSidecar], "{value} at 1.26");
        let p = compute(&at("1.26.2", &y));
        assert_eq!(find(&p, "shop/cart:80", "*", ClientKind::NoSidecar).verdict, Verdict::FailPlaintextToStrict);
        assert_eq!(kinds("1.27", &y), [ClientKind::Sidecar], "{value} at 1.27");
        let p = compute(&at("1.27", &y));
        assert!(p.rows.iter().all(|r| r.client_kind == ClientKind::Sidecar), "{}", render_text(&p.rows));
    }
    // Exactly `false` opts out in every release; `true` keeps the sidecar in every release.
    for v in ["1.26", "1.27", "1.30"] {
        assert_eq!(kinds(v, &with("false")), [ClientKind::NoSidecar], "{v}");
        assert_eq!(kinds(v, &with("true")), [ClientKind::Sidecar], "{v}");
    }
    // In a namespace without injection label, `yes` opts in nowhere: the webhook's object selector wants exactly
    // `true` (the injector never sees the pod), in every release.
    let unlabelled = strict_shop()
        + &namespace("web", &[])
        + &deployment_with("web", "frontend", &[("sidecar.istio.io/inject", "yes")], "");
    for v in ["1.26", "1.30"] {
        assert_eq!(kinds(v, &unlabelled), [ClientKind::NoSidecar], "{v}");
    }
    // `On` in an injected namespace: 1.26 reads it as true, 1.27 ignores it; both inject.
    for v in ["1.26", "1.27"] {
        assert_eq!(kinds(v, &with("On")), [ClientKind::Sidecar], "{v}");
    }
}

// Route precedence: which route a sidecar's request takes (`route.go` `BuildHTTPRoutesForVirtualService`,
// `tls.go` `buildSidecarOutboundTCPFilterChainOpts` / `buildSidecarOutboundTLSFilterChainOpts`).

/// A VirtualService for reviews in `ns` with a raw `spec` body after `hosts`.
fn vs_raw(ns: &str, name: &str, hosts: &str, body: &str) -> String {
    format!(
        "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {name}, namespace: {ns}}}\n\
         spec:\n  hosts: {hosts}\n{body}"
    )
}

const TO_V1: &str = "    route:\n    - destination: {host: reviews.shop.svc.cluster.local, subset: v1}\n";
const TO_V2: &str = "    route:\n    - destination: {host: reviews.shop.svc.cluster.local, subset: v2}\n";

fn subsets_of(r: &Row) -> Vec<(Option<&str>, bool, Verdict)> {
    r.endpoints.iter().map(|e| (e.subset.as_deref(), e.conditional, e.verdict)).collect()
}

fn shop_row(y: &str) -> Row {
    find(&compute(&mesh(y)), "shop/reviews:9080", "shop", ClientKind::Sidecar).clone()
}

#[test]
fn the_first_catch_all_http_route_wins_and_later_routes_are_never_reached() {
    // v2's subset is DISABLE (rejected by STRICT), v1's is ISTIO_MUTUAL.
    let v1_first = format!("  http:\n  -{}\n  -{}", &TO_V1[3..], &TO_V2[3..]);
    let r = shop_row(&reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &v1_first)));
    assert_eq!(subsets_of(&r), [(Some("v1"), false, Verdict::Mtls)]);
    let v2_first = format!("  http:\n  -{}\n  -{}", &TO_V2[3..], &TO_V1[3..]);
    let r = shop_row(&reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &v2_first)));
    assert_eq!(subsets_of(&r), [(Some("v2"), false, Verdict::FailPlaintextToStrict)]);
    // `uri: {prefix: /}` and `regex: .*` are catch-alls too (`IsCatchAllRoute`).
    for uri in ["{prefix: /}", "{regex: \".*\"}"] {
        let body = format!("  http:\n  - match:\n    - uri: {uri}\n{TO_V1}  -{}", &TO_V2[3..]);
        let r = shop_row(&reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &body)));
        assert_eq!(subsets_of(&r), [(Some("v1"), false, Verdict::Mtls)], "{uri}");
    }
}

#[test]
fn routes_with_request_conditions_are_conditional_paths() {
    // `/admin` goes to v2 (DISABLE), everything else to v1: the requests to /admin fail, the rest pass.
    for cond in [
        "uri: {prefix: /admin}",
        "headers: {x-canary: {exact: \"1\"}}",
        "method: {exact: POST}",
        "queryParams: {v: {exact: \"2\"}}",
    ] {
        let body = format!("  http:\n  - match:\n    - {cond}\n{TO_V2}  -{}", &TO_V1[3..]);
        let r = shop_row(&reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &body)));
        assert_eq!(
            subsets_of(&r),
            [(Some("v2"), true, Verdict::FailPlaintextToStrict), (Some("v1"), false, Verdict::Mtls)],
            "{cond}"
        );
        assert_eq!(r.verdict, Verdict::FailPlaintextToStrict);
        assert!(r.client_tls.contains("subset v2: DISABLE (matching requests)"), "{}", r.client_tls);
    }
    // The same conditional route to an ISTIO_MUTUAL subset: nothing fails.
    let body = format!("  http:\n  - match:\n    - uri: {{prefix: /admin}}\n{TO_V2}  -{}", &TO_V1[3..]);
    let r = shop_row(&reviews("ISTIO_MUTUAL", "ISTIO_MUTUAL", &vs_raw("shop", "r", "[reviews]", &body)));
    assert_eq!(r.verdict, Verdict::Mtls);
    let body = format!("  http:\n  - match:\n    - uri: {{prefix: /admin}}\n{TO_V2}  -{}", &TO_V1[3..]);
    let p = compute(&mesh(&reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &body))));
    insta::assert_snapshot!("posture_conditional_route_text", render_text(&p.rows));
    let m = mesh(&reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &body)));
    let f = mtls_findings(&m);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        f[0].message.contains("The requests that match a VirtualService route's conditions go to subset `v2`"),
        "{}",
        f[0].message
    );
    // Without a catch-all, requests that match nothing get Envoy's 404: only the conditional path exists.
    let body = format!("  http:\n  - match:\n    - uri: {{prefix: /admin}}\n{TO_V2}");
    let r = shop_row(&reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &body)));
    assert_eq!(subsets_of(&r), [(Some("v2"), true, Verdict::FailPlaintextToStrict)]);
}

#[test]
fn matches_for_another_port_gateway_or_source_namespace_are_skipped() {
    let skipped = ["port: 9090", "gateways: [istio-system/public]", "sourceNamespace: web"];
    for cond in skipped {
        let body = format!("  http:\n  - match:\n    - {cond}\n{TO_V2}  -{}", &TO_V1[3..]);
        let r = shop_row(&reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &body)));
        assert_eq!(subsets_of(&r), [(Some("v1"), false, Verdict::Mtls)], "{cond}");
    }
    // The same matches when they apply: the port of the call, the mesh, the client's namespace.
    for cond in ["port: 9080", "gateways: [mesh]", "sourceNamespace: shop"] {
        let body = format!("  http:\n  - match:\n    - {cond}\n{TO_V2}  -{}", &TO_V1[3..]);
        let r = shop_row(&reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &body)));
        assert_eq!(subsets_of(&r), [(Some("v2"), false, Verdict::FailPlaintextToStrict)], "{cond}");
    }
    // A route whose only match names another port leaves no route for 9080: the VirtualService builds nothing
    // and the host's own cluster (top level ISTIO_MUTUAL, both versions) is used.
    let body = format!("  http:\n  - match:\n    - port: 9090\n{TO_V2}");
    let r = shop_row(&reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &body)));
    assert_eq!(subsets_of(&r), [(None, false, Verdict::Mtls), (None, false, Verdict::Mtls)]);
}

#[test]
fn a_source_namespace_route_gives_that_namespace_its_own_row() {
    let body = format!("  http:\n  - match:\n    - sourceNamespace: web\n{TO_V2}  -{}", &TO_V1[3..]);
    let y = reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &body))
        + &injected("web")
        + &deployment("web", "frontend", &[8080], &[])
        + &injected("other")
        + &deployment("other", "job", &[8080], &[]);
    let p = compute(&mesh(&y));
    assert_eq!(
        subsets_of(find(&p, "shop/reviews:9080", "web", ClientKind::Sidecar)),
        [(Some("v2"), false, Verdict::FailPlaintextToStrict)]
    );
    assert_eq!(
        subsets_of(find(&p, "shop/reviews:9080", "*", ClientKind::Sidecar)),
        [(Some("v1"), false, Verdict::Mtls)]
    );
}

#[test]
fn source_labels_decide_per_client_workloads() {
    let body = |labels: &str| format!("  http:\n  - match:\n    - sourceLabels: {labels}\n{TO_V2}  -{}", &TO_V1[3..]);
    let canary = deployment_with("shop", "canary", &[("app", "canary")], "");
    // No client workload of shop carries `app: canary`: the route is skipped for them.
    let r = shop_row(&reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &body("{app: canary}"))));
    assert_eq!(subsets_of(&r), [(Some("v1"), false, Verdict::Mtls)]);
    // One of them does: a conditional path for its calls.
    let y = reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &body("{app: canary}"))) + &canary;
    assert_eq!(
        subsets_of(&shop_row(&y)),
        [(Some("v2"), true, Verdict::FailPlaintextToStrict), (Some("v1"), false, Verdict::Mtls)]
    );
    // All of them do (`app: reviews`, the only clients in shop): the route is their catch-all.
    let r = shop_row(&reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &body("{app: reviews}"))));
    assert_eq!(subsets_of(&r), [(Some("v2"), false, Verdict::FailPlaintextToStrict)]);
}

#[test]
fn tcp_ports_follow_tcp_routes_and_ignore_http_routes() {
    let tcp_port = |y: String| y.replace("name: http-9080", "name: tcp-9080");
    // An http route on a TCP port does not apply: the host's cluster (ISTIO_MUTUAL).
    let http = format!("  http:\n  -{}", &TO_V2[3..]);
    let r = shop_row(&tcp_port(reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &http))));
    assert_eq!(r.verdict, Verdict::Mtls);
    // A tcp route to v2 does.
    let tcp = format!("  tcp:\n  -{}", &TO_V2[3..]);
    let r = shop_row(&tcp_port(reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &tcp))));
    assert_eq!(subsets_of(&r), [(Some("v2"), false, Verdict::FailPlaintextToStrict)]);
    // A tcp route for destination subnets only: those connections go to v2, the rest to the host's cluster.
    let subnets = format!("  tcp:\n  - match:\n    - destinationSubnets: [10.0.0.0/8]\n{TO_V2}");
    let r = shop_row(&tcp_port(reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &subnets))));
    assert_eq!(
        subsets_of(&r),
        [
            (Some("v2"), true, Verdict::FailPlaintextToStrict),
            (None, false, Verdict::Mtls),
            (None, false, Verdict::Mtls)
        ]
    );
    // tcp routes of every VirtualService for the host count, oldest first: the older one's catch-all wins.
    let older = vs_raw("shop", "a-older", "[reviews]", &format!("  tcp:\n  -{}", &TO_V1[3..]));
    let newer = vs_raw("shop", "b-newer", "[reviews]", &format!("  tcp:\n  -{}", &TO_V2[3..]));
    let r = shop_row(&tcp_port(reviews("ISTIO_MUTUAL", "DISABLE", &(older + &newer))));
    assert_eq!(subsets_of(&r), [(Some("v1"), false, Verdict::Mtls)]);
}

#[test]
fn tls_ports_follow_tls_routes_by_sni() {
    let tls_port = |y: String| y.replace("name: http-9080", "name: tls-9080");
    let tls = format!("  tls:\n  - match:\n    - sniHosts: [reviews.shop.svc.cluster.local]\n{TO_V2}");
    let r = shop_row(&tls_port(reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &tls))));
    assert_eq!(subsets_of(&r), [(Some("v2"), false, Verdict::FailPlaintextToStrict)]);
    // Another SNI: only connections that send it take the route.
    let other = tls.replace("sniHosts: [reviews.shop.svc.cluster.local]", "sniHosts: [legacy.example.com]");
    let r = shop_row(&tls_port(reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &other))));
    assert_eq!(subsets_of(&r), [(Some("v2"), true, Verdict::FailPlaintextToStrict)]);
    // No tls route: the host's cluster.
    let r = shop_row(&tls_port(reviews("ISTIO_MUTUAL", "DISABLE", "")));
    assert_eq!(r.verdict, Verdict::Mtls);
}

#[test]
fn one_virtual_service_serves_a_host_exact_before_wildcard_private_before_public() {
    let to = |s: &str| format!("  http:\n  -{}", &if s == "v1" { TO_V1 } else { TO_V2 }[3..]);
    // An exact host beats a wildcard, whatever their age.
    let wild = vs_raw("shop", "a-wild", "[\"*.shop.svc.cluster.local\"]", &to("v2"));
    let exact = vs_raw("shop", "b-exact", "[reviews]", &to("v1"));
    let r = shop_row(&reviews("ISTIO_MUTUAL", "DISABLE", &(wild.clone() + &exact)));
    assert_eq!(subsets_of(&r), [(Some("v1"), false, Verdict::Mtls)]);
    // Two for the same host: the older wins.
    let a = vs_raw("shop", "a", "[reviews]", &to("v2"));
    let b = vs_raw("shop", "b", "[reviews]", &to("v1"));
    assert_eq!(
        shop_row(&reviews("ISTIO_MUTUAL", "DISABLE", &(a.clone() + &b))).verdict,
        Verdict::FailPlaintextToStrict
    );
    assert_eq!(
        shop_row(&reviews("ISTIO_MUTUAL", "DISABLE", &(b.replace("name: b", "name: 0") + &a))).verdict,
        Verdict::Mtls
    );
    // A private VirtualService of the client's namespace comes before an older public one.
    let public = vs_raw("shop", "a-public", "[reviews]", &to("v1"));
    let private = vs_raw("shop", "b-private", "[reviews]", &format!("  exportTo: [\".\"]\n{}", to("v2")));
    let r = shop_row(&reviews("ISTIO_MUTUAL", "DISABLE", &(public + &private)));
    assert_eq!(subsets_of(&r), [(Some("v2"), false, Verdict::FailPlaintextToStrict)]);
}

#[test]
fn an_unnamed_port_takes_http_routes() {
    let unnamed = |y: String| y.replace("  - name: http-9080\n    port:", "  - port:");
    let body = format!("  http:\n  -{}", &TO_V2[3..]);
    let y = unnamed(reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &body)));
    assert!(!y.contains("http-9080"));
    assert_eq!(subsets_of(&shop_row(&y)), [(Some("v2"), false, Verdict::FailPlaintextToStrict)]);
    let y = unnamed(reviews("ISTIO_MUTUAL", "DISABLE", &vs_raw("shop", "r", "[reviews]", &body.replace("v2}", "v1}"))));
    assert_eq!(subsets_of(&shop_row(&y)), [(Some("v1"), false, Verdict::Mtls)]);
}

//! Tests of posture rows the lib tests did not pin (issue 15: mutants of `Context::kinds_of`,
//! `PostureScope::may_select`, the default rows of `compute_indexed` and `client_text` survived).
#![allow(clippy::unwrap_used)]

use super::fixtures::{deployment, injected, namespace, service};
use super::{ClientKind, Posture, PostureScope, Row, Verdict, compute, compute_scoped, diff};
use crate::report::posture::render_text;
use crate::rules::testing::{dr, mesh, pa};

fn find<'p>(p: &'p Posture, service: &str, client: &str, kind: ClientKind, selector: Option<&str>) -> &'p Row {
    p.rows
        .iter()
        .find(|r| {
            format!("{}/{}:{}", r.service.namespace, r.service.name, r.port) == service
                && r.client_namespace == client
                && r.client_kind == kind
                && r.client_selector.as_deref() == selector
        })
        .unwrap_or_else(|| panic!("no {kind:?} row {service} from {client} {selector:?}:\n{}", render_text(&p.rows)))
}

/// The clients a `workloadSelector` rule picks are the sidecar workloads its selector matches, and only those.
#[test]
fn a_selector_row_lists_the_workloads_its_selector_picks() {
    let y = injected("shop")
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[])
        + &injected("web")
        + &deployment("web", "frontend", &[8080], &[])
        + &deployment("web", "backend", &[8080], &[])
        + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web-plain, namespace: web}\n\
           spec:\n  host: cart.shop.svc.cluster.local\n  workloadSelector: {matchLabels: {app: frontend}}\n  \
           trafficPolicy: {tls: {mode: DISABLE}}\n";
    let p = compute(&mesh(&y));
    let sel = find(&p, "shop/cart:80", "web", ClientKind::Sidecar, Some("app=frontend"));
    assert_eq!(sel.client_workloads, ["Deployment web/frontend"]);
    assert_eq!(sel.verdict, Verdict::Plaintext);
    let rest = find(&p, "shop/cart:80", "web", ClientKind::Sidecar, None);
    assert_eq!(rest.client_tls, "auto: mTLS");
}

/// Fix verification computes the posture of the services an edit can reach only: for those services the scoped
/// posture's rows are the whole posture's, whichever way the changed DestinationRule names its host (a short name
/// in its own namespace, a full name, a wildcard) or a PeerAuthentication names its namespace.
#[test]
fn a_scoped_posture_gives_the_whole_postures_rows_of_its_services() {
    let y = injected("shop")
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[])
        + &pa("shop", "strict", Some("STRICT"), false)
        + &injected("web")
        + &service("web", "front", &[(80, "8080")])
        + &deployment("web", "front", &[8080], &[])
        + &pa("web", "off", Some("DISABLE"), false)
        + &dr("shop", "cart", "cart", Some("DISABLE"));
    let m = mesh(&y);
    let whole = compute(&m);
    let scopes: [(&str, PostureScope); 4] = [
        ("short host", PostureScope { hosts: vec![("cart".into(), "shop".into())], ..PostureScope::default() }),
        (
            "full host",
            PostureScope {
                hosts: vec![("cart.shop.svc.cluster.local".into(), "web".into())],
                ..PostureScope::default()
            },
        ),
        (
            "wildcard",
            PostureScope { hosts: vec![("*.shop.svc.cluster.local".into(), "web".into())], ..PostureScope::default() },
        ),
        (
            "namespace",
            PostureScope { namespaces: ["shop".to_string()].into_iter().collect(), ..PostureScope::default() },
        ),
    ];
    for (what, scope) in &scopes {
        let scoped = compute_scoped(&m, Some(scope));
        let of_cart = |p: &Posture| {
            let rows: Vec<std::sync::Arc<Row>> = p.rows.iter().filter(|r| r.service.name == "cart").cloned().collect();
            render_text(&rows)
        };
        assert!(scoped.rows.iter().all(|r| r.service.name == "cart"), "{what}:\n{}", render_text(&scoped.rows));
        assert_eq!(of_cart(&scoped), of_cart(&whole), "{what}");
        // The server side is the STRICT namespace's (a scope that missed the endpoints would show PERMISSIVE).
        let own = find(&scoped, "shop/cart:80", "shop", ClientKind::Sidecar, None);
        assert_eq!(own.server_mode, "STRICT", "{what}");
        assert_eq!(own.verdict, Verdict::FailPlaintextToStrict, "{what}");
    }
}

/// A client namespace that appears on one side of a change only is compared with the row it falls under on the
/// other: a tree without any sidecar client still has a row for sidecar clients to come, so adding an injected
/// namespace whose calls behave as that row says is no change.
#[test]
fn a_new_client_namespace_that_behaves_as_the_default_is_no_change() {
    let base =
        namespace("shop", &[]) + &service("shop", "cart", &[(80, "8080")]) + &deployment("shop", "cart", &[8080], &[]);
    let head = base.clone() + &injected("web") + &deployment("web", "frontend", &[8080], &[]);
    let (b, h) = (compute(&mesh(&base)), compute(&mesh(&head)));
    assert!(b.rows.iter().all(|r| r.client_kind != ClientKind::Sidecar), "{}", render_text(&b.rows));
    assert!(h.rows.iter().any(|r| r.client_kind == ClientKind::Sidecar), "{}", render_text(&h.rows));
    let changes = diff(&b, &h);
    assert!(changes.is_empty(), "{changes:?}");
    // The base's row for sidecar clients of another namespace, as the diff resolves it.
    let key = super::RowKey {
        namespace: "shop".into(),
        name: "cart".into(),
        port: 80,
        client_namespace: "web".into(),
        client_selector: None,
        client_kind: ClientKind::Sidecar,
    };
    let row = b.resolve(&key).unwrap_or_else(|| panic!("no default row:\n{}", render_text(&b.rows)));
    assert_eq!((row.client_tls.as_str(), row.verdict), ("auto: plaintext", Verdict::Plaintext));
    // The stand-in row carries the key's client columns, not those of the row it stands for.
    assert_eq!((row.client_namespace.as_str(), row.client_selector), ("web", None));
    let selected = super::RowKey { client_selector: Some("app=frontend".into()), ..key };
    let row = b.resolve(&selected).unwrap_or_else(|| panic!("no default row:\n{}", render_text(&b.rows)));
    assert_eq!((row.client_namespace.as_str(), row.client_selector.as_deref()), ("web", Some("app=frontend")));
}

/// A sidecar client whose rule says SIMPLE reaches an ambient endpoint over HBONE with its TLS inside the tunnel:
/// the table says both.
#[test]
fn simple_tls_to_an_ambient_endpoint_is_shown_inside_hbone() {
    let y = namespace("shop", &[("istio.io/dataplane-mode", "ambient")])
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[])
        + &injected("web")
        + &deployment("web", "frontend", &[8080], &[])
        + &dr("web", "cart-tls", "cart.shop.svc.cluster.local", Some("SIMPLE"))
        + &injected("legacy")
        + &deployment("legacy", "db", &[5432], &[])
        + &dr("legacy", "cart-plain", "cart.shop.svc.cluster.local", Some("DISABLE"));
    let p = compute(&mesh(&y));
    let web = find(&p, "shop/cart:80", "web", ClientKind::Sidecar, None);
    assert_eq!(web.client_tls, "HBONE + SIMPLE", "{}", render_text(&p.rows));
    let legacy = find(&p, "shop/cart:80", "legacy", ClientKind::Sidecar, None);
    assert_eq!(legacy.client_tls, "HBONE", "{}", render_text(&p.rows));
}

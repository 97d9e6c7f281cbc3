//! Tests of posture rows the lib tests did not pin (issue 15, second sample: a mutant of `compute_indexed`'s
//! default rows survived).
#![allow(clippy::unwrap_used)]

use super::fixtures::{deployment, injected, service};
use super::{ClientKind, RowKey, compute};
use crate::report::posture::render_text;
use crate::rules::testing::mesh;

/// The row a client namespace the tree does not list falls under exists for sidecar clients always, and for
/// clients without sidecar or ambient clients only when the tree has some: in a tree of sidecar workloads only, a
/// key for the other kinds resolves to nothing.
#[test]
fn default_rows_exist_only_for_client_kinds_the_tree_has() {
    let y = injected("shop") + &service("shop", "cart", &[(80, "8080")]) + &deployment("shop", "cart", &[8080], &[]);
    let p = compute(&mesh(&y));
    let rows: Vec<(&str, ClientKind)> = p.rows.iter().map(|r| (r.client_namespace.as_str(), r.client_kind)).collect();
    assert_eq!(rows, [("shop", ClientKind::Sidecar)], "{}", render_text(&p.rows));
    let key = |client_kind| RowKey {
        namespace: "shop".into(),
        name: "cart".into(),
        port: 80,
        client_namespace: "web".into(),
        client_selector: None,
        client_kind,
    };
    let row = p.resolve(&key(ClientKind::Sidecar)).unwrap();
    assert_eq!((row.client_namespace.as_str(), row.client_tls.as_str()), ("web", "auto: mTLS"));
    assert_eq!(p.resolve(&key(ClientKind::NoSidecar)), None);
    assert_eq!(p.resolve(&key(ClientKind::Ambient)), None);
}

//! Tests written against the mutants `cargo mutants` left alive in the namespace posture of a review (issue 15):
//! every row of both sides exactly (mode, who decides it, client TLS and the DestinationRule that sets it), and
//! which scopes count as changed.

use super::*;
use crate::rules::testing::{dr, mesh, mesh_with, pa};
use crate::settings::MeshSettings;

fn row(scope: &str, server: &str, decided: &str, client: &str, client_by: Option<&str>) -> NamespacePosture {
    NamespacePosture {
        scope: scope.into(),
        server_mode: server.into(),
        server_decided_by: decided.into(),
        client_tls: client.into(),
        client_decided_by: client_by.map(str::to_string),
    }
}

const MESH_PA: &str = "mesh PeerAuthentication istio-system/default";

#[test]
fn compare_gives_every_scope_of_either_side_and_the_ones_whose_modes_changed() {
    let shared = [
        pa("istio-system", "default", Some("STRICT"), false),
        // A namespace PA without a mode inherits the mesh's, and the mesh PA decides.
        pa("pay", "default", None, false),
        // The first namespace-wide DR by name that sets a mode decides the client side.
        dr("shop", "a-dr", "*.shop.svc.cluster.local", None),
    ]
    .concat();
    let base = mesh(
        &[
            shared.as_str(),
            &pa("shop", "default", Some("PERMISSIVE"), false),
            &dr("shop", "b-dr", "*.shop.svc.cluster.local", Some("ISTIO_MUTUAL")),
            &dr("istio-system", "mesh-dr", "*.local", Some("DISABLE")),
            &dr("web", "x", "*.web.svc.cluster.local", None),
        ]
        .concat(),
    );
    let head = mesh(
        &[
            shared.as_str(),
            &pa("shop", "default", Some("DISABLE"), false),
            &dr("shop", "b-dr", "*.shop.svc.cluster.local", Some("ISTIO_MUTUAL")),
            &dr("web", "x", "*.web.svc.cluster.local", Some("ISTIO_MUTUAL")),
            // A namespace only on the head side, whose PA keeps the mesh's mode: decided elsewhere, same modes.
            &pa("new", "default", Some("STRICT"), false),
        ]
        .concat(),
    );
    let c = compare(&base, &head);
    assert_eq!(
        c.before,
        vec![
            row("mesh", "STRICT", MESH_PA, "DISABLE", Some("DestinationRule istio-system/mesh-dr")),
            row("new", "STRICT", MESH_PA, "auto", None),
            row("pay", "STRICT", MESH_PA, "auto", None),
            row(
                "shop",
                "PERMISSIVE",
                "namespace PeerAuthentication shop/default",
                "ISTIO_MUTUAL",
                Some("DestinationRule shop/b-dr")
            ),
            row("web", "STRICT", MESH_PA, "auto", None),
        ]
    );
    assert_eq!(
        c.after,
        vec![
            row("mesh", "STRICT", MESH_PA, "auto", None),
            row("new", "STRICT", "namespace PeerAuthentication new/default", "auto", None),
            row("pay", "STRICT", MESH_PA, "auto", None),
            row(
                "shop",
                "DISABLE",
                "namespace PeerAuthentication shop/default",
                "ISTIO_MUTUAL",
                Some("DestinationRule shop/b-dr")
            ),
            row("web", "STRICT", MESH_PA, "ISTIO_MUTUAL", Some("DestinationRule web/x")),
        ]
    );
    // The mesh's client side, shop's server side, web's client side; not `new` (only who decides changed).
    assert_eq!(c.changed, ["mesh", "shop", "web"]);
    // The same mesh on both sides: nothing changed.
    assert_eq!(compare(&head, &head).changed, Vec::<String>::new());
}

#[test]
fn without_peer_authentications_the_default_decides() {
    let m = mesh(&dr("a", "x", "*.a.svc.cluster.local", None));
    let rows = snapshot(&m, &["a".to_string()].into());
    assert_eq!(
        rows,
        vec![row("mesh", "PERMISSIVE", "default", "auto", None), row("a", "PERMISSIVE", "default", "auto", None)]
    );
    let off = mesh_with(
        &dr("a", "x", "*.a.svc.cluster.local", None),
        MeshSettings { auto_mtls: false, ..MeshSettings::default() },
    );
    assert_eq!(snapshot(&off, &Default::default())[0].client_tls, "auto (off: plaintext)");
}

//! Posture at namespace granularity, before and after a change: the effective server mode of the mesh and of
//! each namespace that has a PeerAuthentication or DestinationRule, and the namespace-wide / mesh-wide client TLS.

use super::{NamespacePosture, PostureChange};
use crate::mesh::{DestinationRule, Mesh, PaMode};
use std::collections::BTreeSet;

fn namespaces(mesh: &Mesh) -> BTreeSet<String> {
    let mut s: BTreeSet<String> = mesh.peer_authentications.iter().map(|p| p.namespace.clone()).collect();
    s.extend(mesh.destination_rules.iter().map(|d| d.namespace.clone()));
    s.remove(&mesh.settings.root_namespace);
    s
}

fn client(mesh: &Mesh, drs: Vec<&DestinationRule>) -> (String, Option<String>) {
    // Istio merges same-host DRs and the first top-level trafficPolicy wins; we report the first by name.
    let mut drs = drs;
    drs.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    match drs.into_iter().find(|d| d.tls.mode().is_some()) {
        Some(d) => (
            d.tls.mode().map(|m| m.as_str().to_string()).unwrap_or_default(),
            Some(format!("DestinationRule {}/{}", d.namespace, d.name)),
        ),
        None => (if mesh.settings.auto_mtls { "auto" } else { "auto (off: plaintext)" }.to_string(), None),
    }
}

fn server_decided(mesh: &Mesh, ns: Option<&str>) -> String {
    if let Some(ns) = ns
        && let Some(p) = mesh.namespace_pa(ns).filter(|p| p.mode != PaMode::Unset)
    {
        return format!("namespace PeerAuthentication {}/{}", p.namespace, p.name);
    }
    match mesh.mesh_pa().filter(|p| p.mode != PaMode::Unset) {
        Some(p) => format!("mesh PeerAuthentication {}/{}", p.namespace, p.name),
        None => "default".to_string(),
    }
}

/// The posture rows of one snapshot for the given namespaces (plus the mesh row).
pub fn snapshot(mesh: &Mesh, scopes: &BTreeSet<String>) -> Vec<NamespacePosture> {
    let (tls, by) = client(mesh, mesh.mesh_wide_drs().collect());
    let mut out = vec![NamespacePosture {
        scope: "mesh".to_string(),
        server_mode: mesh.mesh_mode().as_str().to_string(),
        server_decided_by: server_decided(mesh, None),
        client_tls: tls,
        client_decided_by: by,
    }];
    for ns in scopes {
        let (tls, by) = client(mesh, mesh.namespace_wide_drs(ns).collect());
        out.push(NamespacePosture {
            scope: ns.clone(),
            server_mode: mesh.namespace_mode(ns).as_str().to_string(),
            server_decided_by: server_decided(mesh, Some(ns)),
            client_tls: tls,
            client_decided_by: by,
        });
    }
    out
}

/// Posture before and after, with the scopes whose modes changed.
pub fn compare(base: &Mesh, head: &Mesh) -> PostureChange {
    let mut scopes = namespaces(base);
    scopes.extend(namespaces(head));
    let before = snapshot(base, &scopes);
    let after = snapshot(head, &scopes);
    let changed = before
        .iter()
        .zip(after.iter())
        .filter(|(b, a)| b.server_mode != a.server_mode || b.client_tls != a.client_tls)
        .map(|(b, _)| b.scope.clone())
        .collect();
    PostureChange { before, after, changed }
}

#[cfg(test)]
#[path = "posture_mutation_tests.rs"]
mod mutation_tests;

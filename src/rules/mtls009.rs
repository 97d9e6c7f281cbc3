//! MTLS009: a PeerAuthentication DISABLE that applies to ambient workloads. ztunnel does not support DISABLE (the
//! PeerAuthentication reference: "DISABLE is not supported in ambient mode"): it keeps accepting HBONE (mTLS) and
//! plaintext as PERMISSIVE does, and every sidecar and ambient client keeps sending HBONE, so the policy changes
//! nothing while it reads as if plaintext were the only thing accepted.

use super::{FixEdit, FixPlan, PA_MODE, PA_PORT_LEVEL, Rule, RuleFinding};
use crate::context::MeshContext;
use crate::finding::Severity;
use crate::mesh::PaMode;
use crate::posture::workload::{ClientKind, namespace_client_kind};

pub const RULE: Rule = Rule {
    code: "MTLS009",
    title: "PeerAuthentication DISABLE has no effect in ambient mode",
    default_severity: Severity::Warning,
    help: "A PeerAuthentication with mode DISABLE (or a DISABLE `portLevelMtls` entry) applies to workloads that ztunnel \
           serves (`istio.io/dataplane-mode: ambient`). Ambient mode does not support DISABLE: ztunnel still accepts \
           HBONE and plaintext, as PERMISSIVE, and clients with a sidecar or in ambient mode keep sending HBONE whatever \
           a DestinationRule says. Write PERMISSIVE, which says what happens, or move the workload out of ambient mode \
           (`istio.io/dataplane-mode: none`) if it must receive plaintext only.",
    check,
    reads: super::Reads::Namespace,
};

fn check(mesh: &MeshContext) -> Vec<RuleFinding> {
    let inv = mesh.inventory();
    let root = &mesh.settings.root_namespace;
    let mut out = Vec::new();
    for p in &mesh.peer_authentications {
        let top = p.mode == PaMode::Disable;
        let ports: Vec<&str> =
            p.port_level.iter().filter(|(_, m)| *m == PaMode::Disable).map(|(k, _)| k.as_str()).collect();
        if !top && ports.is_empty() {
            continue;
        }
        // The ambient workloads the policy reaches (its own namespace; all namespaces for the mesh-wide one).
        let mesh_wide = p.selector.is_none() && &p.namespace == root;
        let reached: Vec<_> = inv
            .workloads
            .iter()
            .filter(|w| w.ambient)
            .filter(|w| mesh_wide || w.namespace == p.namespace)
            .filter(|w| p.selector.as_deref().is_none_or(|s| w.matches(s)))
            // The mesh-wide policy reaches only namespaces without a namespace-wide policy of their own that decides.
            .filter(|w| {
                !mesh_wide
                    || w.namespace == *root
                    || mesh.namespace_pa(&w.namespace).is_none_or(|n| n.mode == PaMode::Unset)
            })
            .collect();
        // A namespace-wide policy of an ambient namespace without workloads in the tree still names its intent.
        let ambient_namespace = p.selector.is_none()
            && !mesh_wide
            && namespace_client_kind(inv.namespace_labels(mesh, &p.namespace)) == ClientKind::Ambient;
        if reached.is_empty() && !ambient_namespace {
            continue;
        }
        let who = if reached.is_empty() {
            format!("namespace `{}` is in ambient mode", p.namespace)
        } else {
            let names: Vec<String> = reached
                .iter()
                .take(3)
                .map(|w| {
                    let r = mesh.object_ref(w.obj);
                    format!("{} {}/{}", r.kind, r.namespace, r.name)
                })
                .collect();
            let more = if reached.len() > 3 { format!(" and {} more", reached.len() - 3) } else { String::new() };
            format!("it applies to ambient workloads ({}{more})", names.join(", "))
        };
        let what = if top { "mode DISABLE".to_string() } else { format!("DISABLE on port {}", ports.join(", ")) };
        let message = format!(
            "PeerAuthentication {}/{} sets {what}, but {who}: ztunnel does not support DISABLE and keeps accepting HBONE \
             (mTLS) and plaintext as PERMISSIVE, and sidecar and ambient clients keep sending HBONE, so the policy has no \
             effect there",
            p.namespace, p.name
        );
        // PERMISSIVE is what ztunnel does; for the mesh-wide policy it would also change the sidecar namespaces.
        let fixes = if top && !mesh_wide {
            vec![FixPlan {
                description: format!(
                    "set PeerAuthentication {}/{} to mTLS mode PERMISSIVE, which is what ztunnel applies",
                    p.namespace, p.name
                ),
                edits: vec![FixEdit::SetField { object: p.obj, field: PA_MODE, value: "PERMISSIVE".into() }],
            }]
        } else {
            Vec::new()
        };
        out.push(RuleFinding {
            code: RULE.code,
            severity: Severity::Warning,
            message,
            subject: p.obj,
            field: if top { PA_MODE } else { PA_PORT_LEVEL },
            port: None,
            related: reached.iter().map(|w| (w.obj, "ambient workload")).collect(),
            fixes,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::check;
    use crate::posture::fixtures::{deployment, injected, namespace, workload_pa};
    use crate::rules::FixEdit;
    use crate::rules::testing::{mesh, pa};

    fn ambient(ns: &str) -> String {
        namespace(ns, &[("istio.io/dataplane-mode", "ambient")])
    }

    #[test]
    fn disable_in_an_ambient_namespace_has_no_effect() {
        let y =
            ambient("shop") + &deployment("shop", "cart", &[8080], &[]) + &pa("shop", "off", Some("DISABLE"), false);
        let m = mesh(&y);
        let f = check(&m);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("ambient workloads (Deployment shop/cart)"), "{}", f[0].message);
        assert!(matches!(&f[0].fixes[0].edits[0], FixEdit::SetField { value, .. } if value == "PERMISSIVE"));
    }

    #[test]
    fn disable_for_sidecars_or_opted_out_pods_is_fine() {
        let y =
            injected("shop") + &deployment("shop", "cart", &[8080], &[]) + &pa("shop", "off", Some("DISABLE"), false);
        assert!(check(&mesh(&y)).is_empty());
        // A pod that opts out of ambient (`istio.io/dataplane-mode: none`) is a plain pod: the policy reaches no
        // ambient workload (and the namespace's own workloads are not in ambient mode).
        let opted_out = ambient("shop")
            + &deployment("shop", "cart", &[8080], &[])
            + &workload_pa("shop", "off", "cart", "DISABLE", &[]);
        let opted_out = opted_out.replace(
            "        app: cart\n    spec:",
            "        app: cart\n        istio.io/dataplane-mode: none\n    spec:",
        );
        assert!(check(&mesh(&opted_out)).is_empty(), "{:?}", check(&mesh(&opted_out)));
        // STRICT is supported in ambient.
        let strict =
            ambient("shop") + &deployment("shop", "cart", &[8080], &[]) + &pa("shop", "on", Some("STRICT"), false);
        assert!(check(&mesh(&strict)).is_empty());
    }

    #[test]
    fn the_mesh_wide_disable_reaches_ambient_namespaces_without_their_own_policy() {
        let y = ambient("shop")
            + &deployment("shop", "cart", &[8080], &[])
            + &pa("istio-system", "mesh-off", Some("DISABLE"), false);
        let f = check(&mesh(&y));
        assert_eq!(f.len(), 1);
        assert!(f[0].fixes.is_empty(), "PERMISSIVE would change the sidecar namespaces too");
        let own = y + &pa("shop", "default", Some("PERMISSIVE"), false);
        assert!(check(&mesh(&own)).is_empty());
    }
}

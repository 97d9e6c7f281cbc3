//! MTLS006: a PeerAuthentication with a selector in the root namespace. Istio's `ComposePeerAuthentication` only
//! takes workload-level policies from outside the root namespace, so it applies to nothing.

use super::{FixEdit, FixPlan, PA_SELECTOR, Rule, RuleFinding};
use crate::context::MeshContext;
use crate::finding::Severity;
use std::collections::BTreeSet;

pub const RULE: Rule = Rule {
    code: "MTLS006",
    title: "Workload PeerAuthentication in the root namespace has no effect",
    default_severity: Severity::Warning,
    help: "A PeerAuthentication with a non-empty selector in the root namespace (default `istio-system`) is ignored by \
           Istio: selector policies only apply from the workload's own namespace, and root-namespace policies only \
           apply mesh-wide (without selector). Move it to the namespace of the workloads it selects.",
    check,
    reads: super::Reads::Mesh,
};

const NAMESPACE: &[&str] = &["metadata", "namespace"];

fn check(mesh: &MeshContext) -> Vec<RuleFinding> {
    let root = &mesh.settings.root_namespace;
    let pas: Vec<_> =
        mesh.peer_authentications.iter().filter(|p| &p.namespace == root && p.selector.is_some()).collect();
    if pas.is_empty() {
        return Vec::new();
    }
    let inv = mesh.inventory();
    let mut out = Vec::new();
    for p in pas {
        let selector = p.selector.as_deref().unwrap_or_default();
        let selected: Vec<_> = inv.workloads.iter().filter(|w| w.matches(selector)).collect();
        let namespaces: BTreeSet<&str> = selected.iter().map(|w| w.namespace.as_str()).collect();
        let mut message = format!(
            "PeerAuthentication {}/{} has a selector but lives in the root namespace `{root}`: Istio ignores workload-level \
             PeerAuthentications there, so its mode {} applies to no workload",
            p.namespace,
            p.name,
            p.mode.as_str()
        );
        if namespaces.contains(root.as_str()) {
            message.push_str(&format!(
                ", not even to the workloads in `{root}` it selects (a workload in the root namespace can only follow the \
                 mesh-wide PeerAuthentication)"
            ));
        }
        let others: Vec<&str> = namespaces.iter().copied().filter(|n| n != root).collect();
        let mut fixes = Vec::new();
        // Moving is well defined only toward one namespace, when the namespace is written in the object.
        if let [target] = others.as_slice()
            && mesh.objects[p.obj].namespace.is_some()
            && !mesh.names_in("PeerAuthentication", target).contains(p.name.as_str())
        {
            fixes.push(FixPlan {
                description: format!("move it to namespace `{target}`, where the workloads it selects run"),
                edits: vec![FixEdit::SetField { object: p.obj, field: NAMESPACE, value: (*target).to_string() }],
            });
        }
        out.push(RuleFinding {
            code: RULE.code,
            severity: Severity::Warning,
            message,
            subject: p.obj,
            field: PA_SELECTOR,
            port: None,
            related: selected.iter().map(|w| (w.obj, "workload it selects")).collect(),
            fixes,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::posture::fixtures::{deployment, workload_pa};
    use crate::rules::FixEdit;
    use crate::rules::testing::{mesh, pa};

    #[test]
    fn selector_pa_in_root_namespace_is_reported_with_a_move() {
        let y = workload_pa("istio-system", "cart-strict", "cart", "STRICT", &[])
            + &deployment("shop", "cart", &[8080], &[]);
        let m = mesh(&y);
        let f = check(&m);
        assert_eq!(f.len(), 1);
        assert!(matches!(&f[0].fixes[0].edits[0], FixEdit::SetField { value, .. } if value == "shop"));
    }

    #[test]
    fn root_namespace_workloads_get_no_fix() {
        let y =
            workload_pa("istio-system", "gw", "gw", "STRICT", &[]) + &deployment("istio-system", "gw", &[8443], &[]);
        let m = mesh(&y);
        let f = check(&m);
        assert_eq!(f.len(), 1);
        assert!(f[0].fixes.is_empty());
        assert!(f[0].message.contains("not even to the workloads"), "{}", f[0].message);
    }

    #[test]
    fn mesh_wide_and_non_root_selector_pas_are_fine() {
        let y = pa("istio-system", "mesh", Some("STRICT"), false) + &pa("shop", "w", Some("STRICT"), true);
        assert!(check(&mesh(&y)).is_empty());
    }
}

//! MTLS007: a `portLevelMtls` key is a Service port, not the workload's target port. Istio matches the key against
//! the port the workload listens on, so the entry never applies (istio/istio#49098).

use super::{FixEdit, FixPlan, PA_PORT_LEVEL, Rule, RuleFinding};
use crate::context::MeshContext;
use crate::finding::Severity;
use crate::posture::server::PaIndex;
use crate::posture::workload::Inventory;
use std::collections::BTreeSet;

pub const RULE: Rule = Rule {
    code: "MTLS007",
    title: "portLevelMtls keyed by a Service port",
    default_severity: Severity::Warning,
    help: "`portLevelMtls` keys are the ports the workload's containers listen on (Service `targetPort`), never the \
           Service `port`. A key that equals a Service port mapped to a different target port never matches, so the \
           workload keeps its workload-level mode on that port. Rewrite the key to the target port.",
    check,
    reads: super::Reads::Namespace,
};

fn check(mesh: &MeshContext) -> Vec<RuleFinding> {
    let root = &mesh.settings.root_namespace;
    let candidates: Vec<_> = mesh
        .peer_authentications
        .iter()
        .filter(|p| p.selector.is_some() && &p.namespace != root && !p.port_level.is_empty())
        .collect();
    if candidates.is_empty() {
        return Vec::new();
    }
    let namespaces: std::collections::HashSet<&str> = candidates.iter().map(|p| p.namespace.as_str()).collect();
    let inv = Inventory::build_in(mesh, |ns| namespaces.contains(ns));
    let index = PaIndex::build(mesh);
    let mut out = Vec::new();
    for p in candidates {
        let selector = p.selector.as_deref().unwrap_or_default();
        let workloads: Vec<usize> =
            inv.workloads_in(&p.namespace).iter().copied().filter(|w| inv.workloads[*w].matches(selector)).collect();
        if workloads.is_empty() {
            // Without the workload in the tree the target ports are unknown.
            continue;
        }
        let services: Vec<_> = inv.services.iter().filter(|s| s.namespace == p.namespace).collect();
        // Every port the selected workloads really listen on: container ports and resolved target ports.
        let mut real: BTreeSet<u32> = BTreeSet::new();
        // (service name, service port, target port) triples for the selected workloads.
        let mut mapped: Vec<(String, u32, u32)> = Vec::new();
        // Endpoints once per Service, not once per (workload, Service).
        let endpoints: Vec<Vec<usize>> = services.iter().map(|s| inv.endpoints(s)).collect();
        for &w in &workloads {
            let wl = &inv.workloads[w];
            real.extend(wl.container_ports.iter().map(|(_, n)| *n));
            for (s, eps) in services.iter().zip(&endpoints) {
                if !eps.contains(&w) {
                    continue;
                }
                for sp in &s.ports {
                    if let Some(t) = sp.target_on(wl) {
                        real.insert(t);
                        mapped.push((s.name.clone(), sp.port, t));
                    }
                }
            }
        }
        let keys: Vec<u32> = p.port_level.iter().filter_map(|(k, _)| k.trim().parse().ok()).collect();
        for (key_text, mode) in &p.port_level {
            let Ok(key) = key_text.trim().parse::<u32>() else {
                continue;
            };
            if real.contains(&key) {
                continue;
            }
            let hits: Vec<&(String, u32, u32)> = mapped.iter().filter(|(_, sp, t)| *sp == key && *t != key).collect();
            let Some((svc, _, _)) = hits.first() else {
                continue;
            };
            let targets: BTreeSet<u32> = hits.iter().map(|(_, _, t)| *t).collect();
            let first_target = targets.iter().next().copied().unwrap_or_default();
            let current = index.workload_policy(&p.namespace, &inv.workloads[workloads[0]].labels).mode;
            let message = format!(
                "`portLevelMtls` key {key} of PeerAuthentication {}/{} is the port of Service {}/{svc}, which forwards to \
                 target port {}: Istio matches portLevelMtls against the port the workload listens on, so mode {} never \
                 applies and port {first_target} stays {} (istio/istio#49098)",
                p.namespace,
                p.name,
                p.namespace,
                targets.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
                mode.as_str(),
                current.as_str()
            );
            let mut fixes = Vec::new();
            if targets.len() == 1 && !keys.contains(&first_target) {
                fixes.push(FixPlan {
                    description: format!("key the entry by target port {first_target} instead of Service port {key}"),
                    edits: vec![FixEdit::RenamePortLevelMtlsKey {
                        object: p.obj,
                        from: key_text.clone(),
                        to: first_target,
                    }],
                });
            }
            let mut related: Vec<_> =
                workloads.iter().map(|w| (inv.workloads[*w].obj, "workload it selects")).collect();
            related.extend(services.iter().filter(|s| hits.iter().any(|h| h.0 == s.name)).map(|s| (s.obj, "Service")));
            out.push(RuleFinding {
                code: RULE.code,
                severity: Severity::Warning,
                message,
                subject: p.obj,
                field: PA_PORT_LEVEL,
                port: Some(key),
                related,
                fixes,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::posture::fixtures::{deployment, service, workload_pa};
    use crate::rules::FixEdit;
    use crate::rules::testing::mesh;

    #[test]
    fn service_port_key_is_reported_and_rewritten() {
        let y = service("shop", "cart", &[(80, "8080")])
            + &deployment("shop", "cart", &[8080], &[])
            + &workload_pa("shop", "cart", "cart", "STRICT", &[("80", "DISABLE")]);
        let m = mesh(&y);
        let f = check(&m);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].port, Some(80));
        assert!(f[0].message.contains("port 8080 stays STRICT"), "{}", f[0].message);
        assert_eq!(
            f[0].fixes[0].edits[0],
            FixEdit::RenamePortLevelMtlsKey { object: f[0].subject, from: "80".into(), to: 8080 }
        );
    }

    #[test]
    fn named_target_port_resolves_through_the_container() {
        let y = service("shop", "cart", &[(80, "port-8080")])
            + &deployment("shop", "cart", &[8080], &[])
            + &workload_pa("shop", "cart", "cart", "STRICT", &[("\"80\"", "DISABLE")]);
        let f = check(&mesh(&y));
        assert_eq!(f.len(), 1);
        assert!(matches!(&f[0].fixes[0].edits[0], FixEdit::RenamePortLevelMtlsKey { to: 8080, .. }));
    }

    #[test]
    fn target_port_keys_and_same_ports_are_fine() {
        let y = service("shop", "cart", &[(80, "8080"), (9090, "9090")])
            + &deployment("shop", "cart", &[8080, 9090], &[])
            + &workload_pa("shop", "cart", "cart", "STRICT", &[("8080", "DISABLE"), ("9090", "PERMISSIVE")]);
        assert!(check(&mesh(&y)).is_empty());
    }

    #[test]
    fn no_fix_when_the_target_port_already_has_an_entry() {
        let y = service("shop", "cart", &[(80, "8080")])
            + &deployment("shop", "cart", &[8080], &[])
            + &workload_pa("shop", "cart", "cart", "STRICT", &[("80", "DISABLE"), ("8080", "PERMISSIVE")]);
        let f = check(&mesh(&y));
        assert_eq!(f.len(), 1);
        assert!(f[0].fixes.is_empty());
    }
}

#[cfg(test)]
#[path = "mtls007_mutation2_tests.rs"]
mod mtls007_mutation2_tests;

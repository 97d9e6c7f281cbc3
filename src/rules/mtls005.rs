//! MTLS005: several PeerAuthentications compete for one scope (namespace-wide, mesh-wide, or one workload); Istio
//! applies only the oldest, so the others have no effect.
//!
//! A repository has no creation times: objects present on the base side count as older than the objects a change
//! adds, and ties go to the smaller `metadata.name` (the spec's rule, and Istio's tie-break).

use super::{PA_MODE, Rule, RuleFinding};
use crate::context::MeshContext;
use crate::finding::Severity;
use crate::mesh::{ObjId, PeerAuthentication};
use crate::posture::server::PaIndex;
use crate::posture::workload::Inventory;
use std::collections::BTreeMap;

pub const RULE: Rule = Rule {
    code: "MTLS005",
    title: "Duplicate PeerAuthentications for one scope",
    default_severity: Severity::Warning,
    help: "Istio applies one PeerAuthentication per scope: the oldest namespace-wide one of a namespace, the oldest \
           mesh-wide one, and the oldest of those selecting a workload. The others are ignored silently, so their mode \
           has no effect. Merge them into the one Istio applies and delete the rest.",
    check,
    reads: super::Reads::Namespace,
};

fn pa_name(p: &PeerAuthentication) -> String {
    format!("{}/{}", p.namespace, p.name)
}

fn check(mesh: &MeshContext) -> Vec<RuleFinding> {
    let mut out = Vec::new();
    let mut by_ns: BTreeMap<&str, Vec<&PeerAuthentication>> = BTreeMap::new();
    for p in mesh.peer_authentications.iter().filter(|p| mesh.is_namespace_wide_pa(p)) {
        by_ns.entry(p.namespace.as_str()).or_default().push(p);
    }
    for (ns, pas) in by_ns.into_iter().filter(|(_, v)| v.len() > 1) {
        let Some(winner) = mesh.namespace_pa(ns) else {
            continue;
        };
        let scope = if ns == mesh.settings.root_namespace { "mesh-wide" } else { "namespace-wide" };
        for p in pas.into_iter().filter(|p| p.obj != winner.obj) {
            out.push(RuleFinding {
                code: RULE.code,
                severity: Severity::Warning,
                message: format!(
                    "PeerAuthentication {} is one of several {scope} PeerAuthentications in namespace `{ns}`: Istio applies \
                     only the oldest, {} (mode {}), and ignores this one, so its mode {} has no effect",
                    pa_name(p),
                    pa_name(winner),
                    winner.mode.as_str(),
                    p.mode.as_str()
                ),
                subject: p.obj,
                field: PA_MODE,
                port: None,
                related: vec![(winner.obj, "PeerAuthentication Istio applies")],
                fixes: Vec::new(),
            });
        }
    }
    // Workload level: one finding per ignored PA, naming the workloads it loses on. Only namespaces with two
    // selector PAs can have a workload selected twice.
    let mut selector_pas: BTreeMap<&str, usize> = BTreeMap::new();
    for p in mesh.peer_authentications.iter().filter(|p| p.selector.is_some()) {
        *selector_pas.entry(p.namespace.as_str()).or_default() += 1;
    }
    if selector_pas.values().all(|n| *n < 2) {
        return out;
    }
    let inv = Inventory::build_in(mesh, |ns| selector_pas.get(ns).is_some_and(|n| *n >= 2));
    let index = PaIndex::build(mesh);
    let mut losers: BTreeMap<ObjId, (ObjId, Vec<ObjId>)> = BTreeMap::new();
    for w in &inv.workloads {
        let pas = index.matching(&w.namespace, &w.labels);
        let Some(winner) = pas.first() else { continue };
        for p in pas.iter().skip(1) {
            losers.entry(p.obj).or_insert_with(|| (winner.obj, Vec::new())).1.push(w.obj);
        }
    }
    for (loser, (winner, workloads)) in losers {
        let names: Vec<String> = workloads.iter().take(3).map(|w| mesh.object_ref(*w).to_string()).collect();
        let more = workloads.len().saturating_sub(3);
        let ws = if more > 0 { format!("{} and {more} more", names.join(", ")) } else { names.join(", ") };
        let l = mesh.object_ref(loser);
        let win = mesh.object_ref(winner);
        out.push(RuleFinding {
            code: RULE.code,
            severity: Severity::Warning,
            message: format!(
                "PeerAuthentication {}/{} and {}/{} both select {ws}: Istio applies only the oldest, {}/{}, to a workload, \
                 so this one has no effect there",
                l.namespace, l.name, win.namespace, win.name, win.namespace, win.name
            ),
            subject: loser,
            field: PA_MODE,
            port: None,
            related: std::iter::once((winner, "PeerAuthentication Istio applies"))
                .chain(workloads.iter().map(|w| (*w, "workload")))
                .collect(),
            fixes: Vec::new(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::finding::ObjectRef;
    use crate::manifest::{load_file, yaml::Limits};
    use crate::mesh::Mesh;
    use crate::posture::fixtures::{deployment, workload_pa};
    use crate::rules::testing::{mesh, pa, summary};

    fn t(name: &str) -> (String, String, String) {
        ("MTLS005".into(), name.into(), "warning".into())
    }

    #[test]
    fn duplicate_namespace_wide_pas_report_the_ignored_one() {
        let m = mesh(&(pa("shop", "b", Some("STRICT"), false) + &pa("shop", "a", Some("DISABLE"), false)));
        assert_eq!(summary(&m, &check(&m)), vec![t("b")]);
        let m = mesh(&(pa("istio-system", "x", Some("STRICT"), false) + &pa("istio-system", "y", None, false)));
        let f = check(&m);
        assert_eq!(summary(&m, &f), vec![t("y")]);
        assert!(f[0].message.contains("mesh-wide"));
    }

    #[test]
    fn an_added_pa_is_younger_than_the_base_side() {
        let y = pa("shop", "a-new", Some("STRICT"), false) + &pa("shop", "z-old", Some("PERMISSIVE"), false);
        let f = load_file("t.yaml", y.as_bytes(), &Limits::default());
        let newer = [ObjectRef { kind: "PeerAuthentication".into(), namespace: "shop".into(), name: "a-new".into() }];
        let m = crate::context::MeshContext::new(Mesh::build(&[f], Default::default(), newer.into_iter().collect()));
        assert_eq!(summary(&m, &check(&m)), vec![t("a-new")]);
    }

    #[test]
    fn several_workload_pas_on_one_workload() {
        let y = deployment("shop", "cart", &[8080], &[])
            + &workload_pa("shop", "cart-b", "cart", "STRICT", &[])
            + &workload_pa("shop", "cart-a", "cart", "PERMISSIVE", &[]);
        let m = mesh(&y);
        let f = check(&m);
        assert_eq!(summary(&m, &f), vec![t("cart-b")]);
        assert!(f[0].message.contains("Deployment shop/cart"), "{}", f[0].message);
    }

    #[test]
    fn one_per_scope_is_fine() {
        let y = pa("shop", "a", Some("STRICT"), false)
            + &pa("istio-system", "m", Some("STRICT"), false)
            + &pa("shop", "w", Some("STRICT"), true);
        assert!(check(&mesh(&y)).is_empty());
    }
}

#[cfg(test)]
#[path = "mtls005_mutation4_tests.rs"]
mod mtls005_mutation4_tests;

//! TIS0206: a namespace-wide DestinationRule originates ISTIO_MUTUAL but no namespace-wide or mesh-wide
//! PeerAuthentication enables mTLS for that namespace.
//!
//! Severity `error` when the namespace's effective mode is DISABLE (servers refuse the mTLS clients send),
//! `warning` otherwise (traffic works only through the implicit PERMISSIVE default).

use super::{DR_TLS_MODE, FixEdit, FixPlan, NewObject, PA_MODE, Rule, RuleFinding};
use crate::finding::Severity;
use crate::mesh::{Mesh, PaMode, TlsMode};

pub const RULE: Rule = Rule {
    code: "TIS0206",
    title: "Missing PeerAuthentication for namespace-wide mTLS",
    default_severity: Severity::Error,
    help: "A namespace-wide DestinationRule (host `*.<ns>.svc.<clusterDomain>`) makes clients originate ISTIO_MUTUAL, \
           but no namespace-wide or mesh-wide PeerAuthentication in STRICT or PERMISSIVE mode says the servers accept \
           mTLS. Add a namespace-wide PeerAuthentication (or fix the existing one's mode).",
    check,
    reads: super::Reads::Namespace,
};

fn check(mesh: &Mesh) -> Vec<RuleFinding> {
    let mut out = Vec::new();
    for dr in &mesh.destination_rules {
        if !mesh.is_namespace_wide_dr(dr) || dr.tls.mode() != Some(&TlsMode::IstioMutual) {
            continue;
        }
        let ns_pa = mesh.namespace_pa(&dr.namespace);
        let mesh_pa = mesh.mesh_pa();
        if ns_pa.is_some_and(|p| p.mode.enables()) || mesh_pa.is_some_and(|p| p.mode.enables()) {
            continue;
        }
        let effective = mesh.namespace_mode(&dr.namespace);
        let severity = if effective == PaMode::Disable { Severity::Error } else { Severity::Warning };
        let message = if severity == Severity::Error {
            format!(
                "DestinationRule {}/{} makes clients send ISTIO_MUTUAL to every service in namespace `{}`, but mTLS is \
                 DISABLEd there ({}): servers accept only plaintext and these calls fail",
                dr.namespace,
                dr.name,
                dr.namespace,
                decided_by(mesh, &dr.namespace)
            )
        } else {
            format!(
                "DestinationRule {}/{} makes clients send ISTIO_MUTUAL to namespace `{}`, but no namespace-wide or \
                 mesh-wide PeerAuthentication enables mTLS there: traffic works only through the implicit PERMISSIVE \
                 default and breaks for workloads that inherit DISABLE or lose their sidecar",
                dr.namespace, dr.name, dr.namespace
            )
        };
        let mut related = Vec::new();
        if let Some(p) = ns_pa {
            related.push((p.obj, "namespace-wide PeerAuthentication"));
        }
        if let Some(p) = mesh_pa.filter(|m| ns_pa.is_none_or(|n| n.obj != m.obj)) {
            related.push((p.obj, "mesh-wide PeerAuthentication"));
        }
        let mode = mesh.suggest_mode.as_mode().to_string();
        let fixes = match ns_pa {
            // Editing beats adding: Istio ignores a second, newer namespace-wide PA.
            Some(p) => vec![FixPlan {
                description: format!("set PeerAuthentication {}/{} to mTLS mode {mode}", p.namespace, p.name),
                edits: vec![FixEdit::SetField { object: p.obj, field: PA_MODE, value: mode.clone() }],
            }],
            None => vec![FixPlan {
                description: format!(
                    "add a namespace-wide PeerAuthentication with mTLS mode {mode} to namespace `{}`",
                    dr.namespace
                ),
                edits: vec![FixEdit::AddObject {
                    after: dr.obj,
                    object: NewObject::PeerAuthentication {
                        namespace: dr.namespace.clone(),
                        name_base: "default",
                        mode,
                    },
                }],
            }],
        };
        out.push(RuleFinding {
            code: RULE.code,
            severity,
            message,
            subject: dr.obj,
            field: DR_TLS_MODE,
            port: None,
            related,
            fixes,
        });
    }
    out
}

/// Says which object decides a namespace's DISABLE mode.
fn decided_by(mesh: &Mesh, ns: &str) -> String {
    match mesh.namespace_pa(ns).filter(|p| p.mode != PaMode::Unset) {
        Some(p) => format!("PeerAuthentication {}/{}", p.namespace, p.name),
        None => match mesh.mesh_pa() {
            Some(p) => format!("mesh-wide PeerAuthentication {}/{}", p.namespace, p.name),
            None => "default".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::rules::testing::{dr, pa};

    fn run(yaml: &str) -> Vec<(String, String, String)> {
        crate::rules::testing::run(check, yaml)
    }

    const NS_DR: &str = "*.bookinfo.svc.cluster.local";

    fn t(code: &str, name: &str, sev: &str) -> (String, String, String) {
        (code.into(), name.into(), sev.into())
    }

    #[test]
    fn no_pa_at_all_is_a_warning() {
        assert_eq!(run(&dr("bookinfo", "d", NS_DR, Some("ISTIO_MUTUAL"))), vec![t("TIS0206", "d", "warning")]);
    }

    #[test]
    fn namespace_pa_disable_is_an_error() {
        let y = dr("bookinfo", "d", NS_DR, Some("ISTIO_MUTUAL")) + &pa("bookinfo", "p", Some("DISABLE"), false);
        assert_eq!(run(&y), vec![t("TIS0206", "d", "error")]);
    }

    #[test]
    fn mesh_pa_disable_with_unset_namespace_pa_is_an_error() {
        let y = dr("bookinfo", "d", NS_DR, Some("ISTIO_MUTUAL"))
            + &pa("bookinfo", "p", Some("UNSET"), false)
            + &pa("istio-system", "mesh", Some("DISABLE"), false);
        assert_eq!(run(&y), vec![t("TIS0206", "d", "error")]);
    }

    #[test]
    fn enabling_namespace_or_mesh_pa_satisfies_it() {
        for mode in ["STRICT", "PERMISSIVE"] {
            let y = dr("bookinfo", "d", NS_DR, Some("ISTIO_MUTUAL")) + &pa("bookinfo", "p", Some(mode), false);
            assert!(run(&y).is_empty());
            let y = dr("bookinfo", "d", NS_DR, Some("ISTIO_MUTUAL")) + &pa("istio-system", "m", Some(mode), false);
            assert!(run(&y).is_empty());
        }
    }

    #[test]
    fn selector_pa_and_unset_do_not_satisfy_it() {
        let y = dr("bookinfo", "d", NS_DR, Some("ISTIO_MUTUAL")) + &pa("bookinfo", "w", Some("STRICT"), true);
        assert_eq!(run(&y), vec![t("TIS0206", "d", "warning")]);
        let y = dr("bookinfo", "d", NS_DR, Some("ISTIO_MUTUAL")) + &pa("bookinfo", "p", None, false);
        assert_eq!(run(&y), vec![t("TIS0206", "d", "warning")]);
    }

    #[test]
    fn only_namespace_wide_istio_mutual_drs_are_subjects() {
        assert!(run(&dr("bookinfo", "d", NS_DR, Some("MUTUAL"))).is_empty());
        assert!(run(&dr("bookinfo", "d", NS_DR, Some("DISABLE"))).is_empty());
        assert!(run(&dr("bookinfo", "d", "reviews.bookinfo.svc.cluster.local", Some("ISTIO_MUTUAL"))).is_empty());
        assert!(run(&dr("other", "d", NS_DR, Some("ISTIO_MUTUAL"))).is_empty());
        assert!(run(&dr("bookinfo", "d", NS_DR, None)).is_empty());
    }
}

//! TIS0206: a namespace-wide DestinationRule originates ISTIO_MUTUAL but no namespace-wide or mesh-wide
//! PeerAuthentication enables mTLS for that namespace.
//!
//! Severity `error` when the namespace's effective mode is DISABLE (servers refuse the mTLS clients send),
//! `warning` otherwise (traffic works only through the implicit PERMISSIVE default).

use super::{DR_TLS_MODE, FixEdit, FixPlan, NewObject, PA_MODE, Rule, RuleFinding};
use crate::context::MeshContext;
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

fn check(mesh: &MeshContext) -> Vec<RuleFinding> {
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
    use crate::rules::testing::{dr, mesh, pa};
    use crate::rules::{DR_TLS_MODE, FixEdit, NewObject, PA_MODE};

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
        // The UNSET namespace PA does not decide: the message names the mesh-wide one.
        let f = check(&mesh(&y));
        assert!(f[0].message.contains("(mesh-wide PeerAuthentication istio-system/mesh)"), "{}", f[0].message);
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

    /// The PeerAuthentications a finding names as related, by name and role.
    fn related(yaml: &str) -> Vec<(String, &'static str)> {
        let m = mesh(yaml);
        let f = check(&m);
        assert_eq!(f.len(), 1);
        f[0].related.iter().map(|(o, role)| (m.objects[*o].name.clone(), *role)).collect()
    }

    #[test]
    fn related_names_the_namespace_and_mesh_peer_authentications() {
        let d = dr("bookinfo", "d", NS_DR, Some("ISTIO_MUTUAL"));
        assert!(related(&d).is_empty());
        let ns = |mode| pa("bookinfo", "p", Some(mode), false);
        let mesh_pa = |mode| pa("istio-system", "m", Some(mode), false);
        assert_eq!(related(&(d.clone() + &ns("DISABLE"))), vec![("p".into(), "namespace-wide PeerAuthentication")]);
        assert_eq!(related(&(d.clone() + &mesh_pa("DISABLE"))), vec![("m".into(), "mesh-wide PeerAuthentication")]);
        assert_eq!(
            related(&(d.clone() + &mesh_pa("UNSET") + &ns("UNSET"))),
            vec![("p".into(), "namespace-wide PeerAuthentication"), ("m".into(), "mesh-wide PeerAuthentication")]
        );
        // In the root namespace the namespace-wide PeerAuthentication is the mesh-wide one: named once.
        let root =
            dr("istio-system", "d", "*.istio-system.svc.cluster.local", Some("ISTIO_MUTUAL")) + &mesh_pa("DISABLE");
        assert_eq!(related(&root), vec![("m".into(), "namespace-wide PeerAuthentication")]);
    }

    #[test]
    fn fix_edits_the_namespace_pa_or_adds_one_in_the_suggested_mode() {
        let d = dr("bookinfo", "d", NS_DR, Some("ISTIO_MUTUAL"));
        let m = mesh(&(d.clone() + &pa("bookinfo", "p", Some("DISABLE"), false)));
        let f = check(&m);
        assert_eq!((f[0].subject, f[0].field, f[0].port), (m.destination_rules[0].obj, DR_TLS_MODE, None));
        let p = m.objects.iter().position(|o| o.name == "p").unwrap();
        assert_eq!(f[0].fixes.len(), 1);
        assert_eq!(f[0].fixes[0].description, "set PeerAuthentication bookinfo/p to mTLS mode PERMISSIVE");
        assert_eq!(
            f[0].fixes[0].edits,
            vec![FixEdit::SetField { object: p, field: PA_MODE, value: "PERMISSIVE".into() }]
        );
        assert!(f[0].message.contains("DISABLEd there (PeerAuthentication bookinfo/p)"), "{}", f[0].message);
        // No namespace PA: a new one, in the mode the options suggest; a mesh-wide DISABLE PA decides the error.
        let mut m = mesh(&(d + &pa("istio-system", "m", Some("DISABLE"), false)));
        m.set_suggest_mode(crate::settings::SuggestMode::Strict);
        let f = check(&m);
        assert!(f[0].message.contains("(mesh-wide PeerAuthentication istio-system/m)"), "{}", f[0].message);
        assert_eq!(
            f[0].fixes[0].edits,
            vec![FixEdit::AddObject {
                after: f[0].subject,
                object: NewObject::PeerAuthentication {
                    namespace: "bookinfo".into(),
                    name_base: "default",
                    mode: "STRICT".into()
                },
            }]
        );
        assert_eq!(
            f[0].fixes[0].description,
            "add a namespace-wide PeerAuthentication with mTLS mode STRICT to namespace `bookinfo`"
        );
    }
}

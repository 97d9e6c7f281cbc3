//! TIS0205: a mesh-wide DestinationRule originates ISTIO_MUTUAL but the mesh-wide PeerAuthentication does not
//! enable mTLS (it is missing, UNSET or DISABLE).
//!
//! Severity `error` when the mesh-wide PeerAuthentication is DISABLE (servers refuse the mTLS every client sends),
//! `warning` otherwise (traffic works only through the implicit PERMISSIVE default).

use super::{DR_TLS_MODE, FixEdit, FixPlan, NewObject, PA_MODE, Rule, RuleFinding};
use crate::context::MeshContext;
use crate::finding::Severity;
use crate::mesh::{PaMode, TlsMode};

pub const RULE: Rule = Rule {
    code: "TIS0205",
    title: "Missing PeerAuthentication for mesh-wide mTLS",
    default_severity: Severity::Error,
    help: "A mesh-wide DestinationRule (host `*.local`, `*.<clusterDomain>`, `*.svc.<clusterDomain>` or `*`) makes \
           clients originate ISTIO_MUTUAL to every service, but the mesh-wide PeerAuthentication (in the root \
           namespace, without selector) is missing, UNSET or DISABLE, so nothing declares that servers accept mTLS. \
           With DISABLE the servers accept only plaintext and every call fails; without a mode the mesh depends on \
           the implicit PERMISSIVE default. Give the mesh-wide PeerAuthentication mode STRICT or PERMISSIVE.",
    check,
    reads: super::Reads::Mesh,
};

fn check(mesh: &MeshContext) -> Vec<RuleFinding> {
    let mut out = Vec::new();
    let mesh_pa = mesh.mesh_pa();
    if mesh_pa.is_some_and(|p| p.mode.enables()) {
        return out;
    }
    let root = &mesh.settings.root_namespace;
    for dr in mesh.mesh_wide_drs() {
        if dr.tls.mode() != Some(&TlsMode::IstioMutual) {
            continue;
        }
        let disabled = mesh_pa.filter(|p| p.mode == PaMode::Disable);
        let (severity, message) = match disabled {
            Some(p) => (
                Severity::Error,
                format!(
                    "DestinationRule {}/{} (host `{}`) makes clients send ISTIO_MUTUAL to every service in the \
                     mesh, but the mesh-wide PeerAuthentication {}/{} sets mTLS mode DISABLE: servers that do not \
                     override it accept only plaintext, so these calls fail the TLS handshake",
                    dr.namespace, dr.name, dr.host, p.namespace, p.name
                ),
            ),
            None => {
                let state = match mesh_pa {
                    Some(p) => {
                        format!("the mesh-wide PeerAuthentication {}/{} leaves the mode UNSET", p.namespace, p.name)
                    }
                    None => format!("there is no mesh-wide PeerAuthentication in the root namespace `{root}`"),
                };
                (
                    Severity::Warning,
                    format!(
                        "DestinationRule {}/{} (host `{}`) makes clients send ISTIO_MUTUAL to every service in the \
                         mesh, but {state}: traffic works only through the implicit PERMISSIVE default and breaks \
                         for servers that inherit or set DISABLE",
                        dr.namespace, dr.name, dr.host
                    ),
                )
            }
        };
        let mut related = Vec::new();
        if let Some(p) = mesh_pa {
            related.push((p.obj, "mesh-wide PeerAuthentication"));
        }
        // With DISABLE both objects state an explicit intent; TIS0503 on the PeerAuthentication carries the fix
        // for that conflict, so this rule only offers to declare the implicit default, which changes nothing.
        let fixes = if disabled.is_some() {
            Vec::new()
        } else {
            let mode = mesh.suggest_mode.as_mode().to_string();
            match mesh_pa {
                Some(p) => vec![FixPlan {
                    description: format!(
                        "set the mesh-wide PeerAuthentication {}/{} to mTLS mode {mode}",
                        p.namespace, p.name
                    ),
                    edits: vec![FixEdit::SetField { object: p.obj, field: PA_MODE, value: mode }],
                }],
                None => vec![FixPlan {
                    description: format!(
                        "add a mesh-wide PeerAuthentication with mTLS mode {mode} to the root namespace `{root}`"
                    ),
                    edits: vec![FixEdit::AddObject {
                        after: dr.obj,
                        object: NewObject::PeerAuthentication { namespace: root.clone(), name_base: "default", mode },
                    }],
                }],
            }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::check;
    use crate::rules::testing::{dr, mesh, pa};
    use crate::rules::{FixEdit, NewObject, PA_MODE};

    fn run(yaml: &str) -> Vec<(String, String, String)> {
        crate::rules::testing::run(check, yaml)
    }

    fn t(name: &str, sev: &str) -> (String, String, String) {
        ("TIS0205".into(), name.into(), sev.into())
    }

    #[test]
    fn no_mesh_pa_is_a_warning() {
        assert_eq!(run(&dr("istio-system", "d", "*.local", Some("ISTIO_MUTUAL"))), vec![t("d", "warning")]);
    }

    #[test]
    fn unset_mesh_pa_is_a_warning() {
        let y = dr("istio-system", "d", "*.local", Some("ISTIO_MUTUAL")) + &pa("istio-system", "m", None, false);
        assert_eq!(run(&y), vec![t("d", "warning")]);
        let y =
            dr("istio-system", "d", "*.local", Some("ISTIO_MUTUAL")) + &pa("istio-system", "m", Some("UNSET"), false);
        assert_eq!(run(&y), vec![t("d", "warning")]);
    }

    #[test]
    fn disable_mesh_pa_is_an_error() {
        let y =
            dr("istio-system", "d", "*.local", Some("ISTIO_MUTUAL")) + &pa("istio-system", "m", Some("DISABLE"), false);
        assert_eq!(run(&y), vec![t("d", "error")]);
    }

    #[test]
    fn enabling_mesh_pa_satisfies_it() {
        for mode in ["STRICT", "PERMISSIVE"] {
            let y =
                dr("istio-system", "d", "*.local", Some("ISTIO_MUTUAL")) + &pa("istio-system", "m", Some(mode), false);
            assert!(run(&y).is_empty(), "{mode}");
        }
    }

    #[test]
    fn namespace_or_selector_pas_do_not_count() {
        let y = dr("istio-system", "d", "*.local", Some("ISTIO_MUTUAL"))
            + &pa("bookinfo", "n", Some("STRICT"), false)
            + &pa("istio-system", "w", Some("STRICT"), true);
        assert_eq!(run(&y), vec![t("d", "warning")]);
    }

    #[test]
    fn only_the_winning_mesh_pa_counts() {
        // `a-mesh` wins (smaller name); the STRICT loser has no effect.
        let y = dr("istio-system", "d", "*.local", Some("ISTIO_MUTUAL"))
            + &pa("istio-system", "a-mesh", Some("DISABLE"), false)
            + &pa("istio-system", "b-mesh", Some("STRICT"), false);
        assert_eq!(run(&y), vec![t("d", "error")]);
        let y = dr("istio-system", "d", "*.local", Some("ISTIO_MUTUAL"))
            + &pa("istio-system", "a-mesh", Some("STRICT"), false)
            + &pa("istio-system", "b-mesh", Some("DISABLE"), false);
        assert!(run(&y).is_empty());
    }

    #[test]
    fn every_mesh_wide_host_in_any_namespace_is_a_subject() {
        for host in ["*.local", "*", "*.cluster.local", "*.svc.cluster.local"] {
            assert_eq!(run(&dr("bookinfo", "d", host, Some("ISTIO_MUTUAL"))), vec![t("d", "warning")], "{host}");
        }
    }

    #[test]
    fn only_mesh_wide_istio_mutual_drs_are_subjects() {
        assert!(run(&dr("istio-system", "d", "*.local", Some("MUTUAL"))).is_empty());
        assert!(run(&dr("istio-system", "d", "*.local", Some("DISABLE"))).is_empty());
        assert!(run(&dr("istio-system", "d", "*.local", None)).is_empty());
        assert!(run(&dr("bookinfo", "d", "*.bookinfo.svc.cluster.local", Some("ISTIO_MUTUAL"))).is_empty());
        assert!(run(&dr("bookinfo", "d", "reviews", Some("ISTIO_MUTUAL"))).is_empty());
    }

    #[test]
    fn fixes_declare_the_default_and_only_in_the_warning_case() {
        let m = mesh(&(dr("bookinfo", "d", "*.local", Some("ISTIO_MUTUAL"))));
        let f = check(&m);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].fixes.len(), 1);
        assert_eq!(
            f[0].fixes[0].edits,
            vec![FixEdit::AddObject {
                after: f[0].subject,
                object: NewObject::PeerAuthentication {
                    namespace: "istio-system".into(),
                    name_base: "default",
                    mode: "PERMISSIVE".into()
                },
            }]
        );

        let m =
            mesh(&(dr("istio-system", "d", "*.local", Some("ISTIO_MUTUAL")) + &pa("istio-system", "m", None, false)));
        let f = check(&m);
        let pa_obj = m.mesh_pa().map(|p| p.obj);
        assert_eq!(f[0].related, vec![(pa_obj.unwrap(), "mesh-wide PeerAuthentication")]);
        assert_eq!(
            f[0].fixes[0].edits,
            vec![FixEdit::SetField { object: pa_obj.unwrap(), field: PA_MODE, value: "PERMISSIVE".into() }]
        );

        let m = mesh(
            &(dr("istio-system", "d", "*.local", Some("ISTIO_MUTUAL"))
                + &pa("istio-system", "m", Some("DISABLE"), false)),
        );
        assert!(check(&m)[0].fixes.is_empty());
    }
}

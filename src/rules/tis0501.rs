//! TIS0501: with auto mTLS turned off, a namespace-wide PeerAuthentication (outside the root namespace) is STRICT
//! but neither a namespace-wide DestinationRule for that namespace nor a mesh-wide one makes clients originate
//! ISTIO_MUTUAL.
//!
//! Always `error`: without auto mTLS a client sends plaintext unless a DestinationRule says otherwise, and the
//! STRICT servers refuse plaintext. Silent while `enableAutoMtls` is true (the default).

use super::{DR_TLS_MODE, FixEdit, FixPlan, NewObject, PA_MODE, Rule, RuleFinding};
use crate::context::MeshContext;
use crate::finding::Severity;
use crate::mesh::{PaMode, TlsMode};

pub const RULE: Rule = Rule {
    code: "TIS0501",
    title: "Namespace-wide DestinationRule enabling mTLS is missing",
    default_severity: Severity::Error,
    help: "A namespace-wide PeerAuthentication is STRICT, so the namespace's servers accept only mTLS, and the mesh \
           configuration turns auto mTLS off (`enableAutoMtls: false`), so a client sends plaintext unless a \
           DestinationRule tells it to originate ISTIO_MUTUAL. Neither a namespace-wide DestinationRule for the \
           namespace (host `*.<ns>.svc.<clusterDomain>`) nor a mesh-wide one does, so calls into the namespace that \
           no more specific DestinationRule covers are refused. Add a namespace-wide DestinationRule with \
           `tls.mode: ISTIO_MUTUAL` or turn auto mTLS back on.",
    check,
    reads: super::Reads::Namespace,
};

fn check(mesh: &MeshContext) -> Vec<RuleFinding> {
    let mut out = Vec::new();
    if mesh.settings.auto_mtls {
        return out;
    }
    let istio_mutual = |mode: Option<&TlsMode>| mode == Some(&TlsMode::IstioMutual);
    if mesh.mesh_wide_drs().any(|d| istio_mutual(d.tls.mode())) {
        return out;
    }
    let root = &mesh.settings.root_namespace;
    let mut namespaces: Vec<&str> = mesh
        .peer_authentications
        .iter()
        .filter(|p| p.selector.is_none() && &p.namespace != root)
        .map(|p| p.namespace.as_str())
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    for ns in namespaces {
        let Some(pa) = mesh.namespace_pa(ns).filter(|p| p.mode == PaMode::Strict) else {
            continue;
        };
        let ns_drs: Vec<_> = mesh.namespace_wide_drs(ns).collect();
        if ns_drs.iter().any(|d| istio_mutual(d.tls.mode())) {
            continue;
        }
        let message = format!(
            "namespace-wide PeerAuthentication {}/{} is STRICT, so the servers of namespace `{ns}` accept only mTLS, \
             but auto mTLS is off (enableAutoMtls: false) and neither a namespace-wide DestinationRule (host `{}`) \
             nor a mesh-wide one sets tls.mode ISTIO_MUTUAL: clients send plaintext to these servers wherever no \
             other DestinationRule asks for mTLS, and the servers refuse it",
            pa.namespace,
            pa.name,
            mesh.namespace_wide_host(ns)
        );
        let mut related: Vec<_> = ns_drs.iter().map(|d| (d.obj, "namespace-wide DestinationRule")).collect();
        related.extend(mesh.mesh_wide_drs().map(|d| (d.obj, "mesh-wide DestinationRule")));
        // Editing beats adding: a second DestinationRule for the same host does not reliably take effect.
        let fixes = match ns_drs.as_slice() {
            [] => vec![FixPlan {
                description: format!(
                    "add a namespace-wide DestinationRule for `{}` with tls mode ISTIO_MUTUAL to namespace `{ns}`",
                    mesh.namespace_wide_host(ns)
                ),
                edits: vec![FixEdit::AddObject {
                    after: pa.obj,
                    object: NewObject::DestinationRule {
                        namespace: ns.to_string(),
                        name_base: "default",
                        host: mesh.namespace_wide_host(ns),
                        mode: "ISTIO_MUTUAL".to_string(),
                    },
                }],
            }],
            [d] => vec![FixPlan {
                description: format!("set DestinationRule {}/{} to tls mode ISTIO_MUTUAL", d.namespace, d.name),
                edits: vec![FixEdit::SetField { object: d.obj, field: DR_TLS_MODE, value: "ISTIO_MUTUAL".to_string() }],
            }],
            _ => Vec::new(),
        };
        out.push(RuleFinding {
            code: RULE.code,
            severity: Severity::Error,
            message,
            subject: pa.obj,
            field: PA_MODE,
            port: None,
            related,
            fixes,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::rules::testing::{dr, mesh_with, pa, summary};
    use crate::rules::{DR_TLS_MODE, FixEdit, NewObject};
    use crate::settings::MeshSettings;

    const NS_DR: &str = "*.bookinfo.svc.cluster.local";

    fn off() -> MeshSettings {
        MeshSettings { auto_mtls: false, ..MeshSettings::default() }
    }

    fn run(yaml: &str) -> Vec<(String, String, String)> {
        let m = mesh_with(yaml, off());
        summary(&m, &check(&m))
    }

    fn t(name: &str) -> (String, String, String) {
        ("TIS0501".into(), name.into(), "error".into())
    }

    fn strict() -> String {
        pa("bookinfo", "p", Some("STRICT"), false)
    }

    #[test]
    fn strict_namespace_without_enabling_dr_is_an_error_when_auto_mtls_is_off() {
        assert_eq!(run(&strict()), vec![t("p")]);
    }

    #[test]
    fn silent_while_auto_mtls_is_on() {
        let m = mesh_with(&strict(), MeshSettings::default());
        assert!(check(&m).is_empty());
    }

    #[test]
    fn a_namespace_wide_istio_mutual_dr_satisfies_it() {
        assert!(run(&(strict() + &dr("bookinfo", "d", NS_DR, Some("ISTIO_MUTUAL")))).is_empty());
    }

    #[test]
    fn a_mesh_wide_istio_mutual_dr_satisfies_it() {
        for host in ["*.local", "*", "*.cluster.local", "*.svc.cluster.local"] {
            for ns in ["istio-system", "other"] {
                assert!(run(&(strict() + &dr(ns, "d", host, Some("ISTIO_MUTUAL")))).is_empty(), "{ns} {host}");
            }
        }
    }

    #[test]
    fn drs_that_do_not_enable_mtls_do_not_satisfy_it() {
        for mode in [Some("MUTUAL"), Some("DISABLE"), Some("SIMPLE"), None] {
            assert_eq!(run(&(strict() + &dr("bookinfo", "d", NS_DR, mode))), vec![t("p")], "{mode:?}");
            assert_eq!(run(&(strict() + &dr("istio-system", "m", "*.local", mode))), vec![t("p")], "{mode:?}");
        }
        // A namespace-wide host in another namespace, or a host-specific DR, is not namespace-wide for bookinfo.
        assert_eq!(run(&(strict() + &dr("other", "d", NS_DR, Some("ISTIO_MUTUAL")))), vec![t("p")]);
        assert_eq!(run(&(strict() + &dr("bookinfo", "d", "reviews", Some("ISTIO_MUTUAL")))), vec![t("p")]);
    }

    #[test]
    fn only_winning_strict_namespace_pas_outside_the_root_are_subjects() {
        for mode in [Some("PERMISSIVE"), Some("DISABLE"), Some("UNSET"), None] {
            assert!(run(&pa("bookinfo", "p", mode, false)).is_empty(), "{mode:?}");
        }
        assert!(run(&pa("bookinfo", "w", Some("STRICT"), true)).is_empty());
        // The root namespace's PA is mesh-wide: TIS0401.
        assert!(run(&pa("istio-system", "m", Some("STRICT"), false)).is_empty());
        let y = pa("bookinfo", "a", Some("PERMISSIVE"), false) + &pa("bookinfo", "b", Some("STRICT"), false);
        assert!(run(&y).is_empty());
        let y = pa("bookinfo", "a", Some("STRICT"), false) + &pa("bookinfo", "b", Some("DISABLE"), false);
        assert_eq!(run(&y), vec![t("a")]);
    }

    #[test]
    fn one_finding_per_namespace() {
        let y = strict()
            + &pa("other", "q", Some("STRICT"), false)
            + &dr("other", "d", "*.other.svc.cluster.local", Some("ISTIO_MUTUAL"));
        assert_eq!(run(&y), vec![t("p")]);
        let y = strict() + &pa("other", "q", Some("STRICT"), false);
        assert_eq!(run(&y), vec![t("p"), t("q")]);
    }

    #[test]
    fn fix_adds_or_edits_the_namespace_wide_dr() {
        let m = mesh_with(&strict(), off());
        let f = check(&m);
        assert_eq!(
            f[0].fixes[0].edits,
            vec![FixEdit::AddObject {
                after: f[0].subject,
                object: NewObject::DestinationRule {
                    namespace: "bookinfo".into(),
                    name_base: "default",
                    host: NS_DR.into(),
                    mode: "ISTIO_MUTUAL".into()
                },
            }]
        );

        let m = mesh_with(&(strict() + &dr("bookinfo", "d", NS_DR, None)), off());
        let f = check(&m);
        let d = m.destination_rules[0].obj;
        assert_eq!(f[0].related, vec![(d, "namespace-wide DestinationRule")]);
        assert_eq!(
            f[0].fixes[0].edits,
            vec![FixEdit::SetField { object: d, field: DR_TLS_MODE, value: "ISTIO_MUTUAL".into() }]
        );

        let y = strict() + &dr("bookinfo", "d", NS_DR, None) + &dr("bookinfo", "e", NS_DR, Some("SIMPLE"));
        let m = mesh_with(&y, off());
        assert!(check(&m)[0].fixes.is_empty());
    }
}

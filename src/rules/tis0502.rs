//! TIS0502: a namespace-wide PeerAuthentication (outside the root namespace) disables mTLS while a namespace-wide
//! DestinationRule for that namespace, or a mesh-wide one, makes clients originate mTLS, and no namespace-wide
//! DestinationRule for the namespace disables it again.
//!
//! Always `error`: clients send mTLS to servers that accept only plaintext.

use super::{DR_TLS_MODE, FixEdit, FixPlan, NewObject, PA_MODE, Rule, RuleFinding};
use crate::context::MeshContext;
use crate::finding::Severity;
use crate::mesh::{PaMode, TlsMode};

pub const RULE: Rule = Rule {
    code: "TIS0502",
    title: "Namespace-wide DestinationRule disabling mTLS is missing",
    default_severity: Severity::Error,
    help: "A namespace-wide PeerAuthentication sets mTLS mode DISABLE, so the namespace's servers accept only \
           plaintext, but a namespace-wide DestinationRule for the namespace (host `*.<ns>.svc.<clusterDomain>`) or a \
           mesh-wide DestinationRule makes clients originate mTLS (ISTIO_MUTUAL or MUTUAL), and no namespace-wide \
           DestinationRule for the namespace sets DISABLE to exempt it. The servers cannot complete the TLS \
           handshakes the clients start. Disable mTLS in a namespace-wide DestinationRule for the namespace, or \
           make the PeerAuthentication PERMISSIVE.",
    check,
    reads: super::Reads::Namespace,
};

fn check(mesh: &MeshContext) -> Vec<RuleFinding> {
    let mut out = Vec::new();
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
        let Some(pa) = mesh.namespace_pa(ns).filter(|p| p.mode == PaMode::Disable) else {
            continue;
        };
        let ns_drs: Vec<_> = mesh.namespace_wide_drs(ns).collect();
        if ns_drs.iter().any(|d| d.tls.mode() == Some(&TlsMode::Disable)) {
            continue;
        }
        let enabling: Vec<_> = ns_drs
            .iter()
            .copied()
            .map(|d| (d, "namespace-wide DestinationRule"))
            .chain(mesh.mesh_wide_drs().map(|d| (d, "mesh-wide DestinationRule")))
            .filter(|(d, _)| d.tls.mode().is_some_and(TlsMode::is_mutual))
            .collect();
        let Some((first, _)) = enabling.first() else {
            continue;
        };
        let more = match enabling.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        let message = format!(
            "PeerAuthentication {}/{} disables mTLS for namespace `{ns}`, so its servers accept only plaintext, but \
             DestinationRule {}/{} (host `{}`, tls.mode {}){more} makes clients originate mTLS to them and no \
             namespace-wide DestinationRule for `{ns}` disables it: the servers cannot complete these TLS \
             handshakes and the calls fail",
            pa.namespace,
            pa.name,
            first.namespace,
            first.name,
            first.host,
            first.tls.mode().map(TlsMode::as_str).unwrap_or_default()
        );
        let related = enabling.iter().map(|(d, role)| (d.obj, *role)).collect();
        let mut fixes = Vec::new();
        // Editing beats adding: a second DestinationRule for the same host does not reliably take effect.
        match ns_drs.as_slice() {
            [] => fixes.push(FixPlan {
                description: format!(
                    "add a namespace-wide DestinationRule for `{}` with tls mode DISABLE to namespace `{ns}`, so \
                     clients keep sending plaintext to it",
                    mesh.namespace_wide_host(ns)
                ),
                edits: vec![FixEdit::AddObject {
                    after: pa.obj,
                    object: NewObject::DestinationRule {
                        namespace: ns.to_string(),
                        name_base: "disable-mtls",
                        host: mesh.namespace_wide_host(ns),
                        mode: "DISABLE".to_string(),
                    },
                }],
            }),
            [d] => fixes.push(FixPlan {
                description: format!(
                    "set DestinationRule {}/{} to tls mode DISABLE, matching PeerAuthentication {}/{}",
                    d.namespace, d.name, pa.namespace, pa.name
                ),
                edits: vec![FixEdit::SetField { object: d.obj, field: DR_TLS_MODE, value: "DISABLE".to_string() }],
            }),
            _ => {}
        }
        fixes.push(FixPlan {
            description: format!(
                "set PeerAuthentication {}/{} to mTLS mode PERMISSIVE so its servers also accept mTLS",
                pa.namespace, pa.name
            ),
            edits: vec![FixEdit::SetField { object: pa.obj, field: PA_MODE, value: "PERMISSIVE".to_string() }],
        });
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
    use crate::rules::testing::{dr, mesh, pa};
    use crate::rules::{DR_TLS_MODE, FixEdit, NewObject, PA_MODE};

    const NS_DR: &str = "*.bookinfo.svc.cluster.local";

    fn run(yaml: &str) -> Vec<(String, String, String)> {
        crate::rules::testing::run(check, yaml)
    }

    fn t(name: &str) -> (String, String, String) {
        ("TIS0502".into(), name.into(), "error".into())
    }

    fn disable() -> String {
        pa("bookinfo", "p", Some("DISABLE"), false)
    }

    #[test]
    fn namespace_wide_enabling_dr_is_an_error() {
        for mode in ["ISTIO_MUTUAL", "MUTUAL"] {
            assert_eq!(run(&(disable() + &dr("bookinfo", "d", NS_DR, Some(mode)))), vec![t("p")], "{mode}");
        }
    }

    #[test]
    fn mesh_wide_enabling_dr_is_an_error() {
        for host in ["*.local", "*", "*.cluster.local", "*.svc.cluster.local"] {
            for mode in ["ISTIO_MUTUAL", "MUTUAL"] {
                let y = disable() + &dr("istio-system", "m", host, Some(mode));
                assert_eq!(run(&y), vec![t("p")], "{host} {mode}");
            }
        }
    }

    #[test]
    fn a_namespace_wide_disabling_dr_shields_the_namespace() {
        let y = disable()
            + &dr("istio-system", "m", "*.local", Some("ISTIO_MUTUAL"))
            + &dr("bookinfo", "d", NS_DR, Some("DISABLE"));
        assert!(run(&y).is_empty());
        // A `tls` block without `mode` is DISABLE too.
        let y = disable()
            + &dr("istio-system", "m", "*.local", Some("ISTIO_MUTUAL"))
            + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: d\n  namespace: bookinfo\n\
               spec:\n  host: \"*.bookinfo.svc.cluster.local\"\n  trafficPolicy:\n    tls: {}\n";
        assert!(run(&y).is_empty());
    }

    #[test]
    fn a_mesh_wide_disabling_dr_does_not_shield_it() {
        let y = disable()
            + &dr("bookinfo", "e", NS_DR, Some("ISTIO_MUTUAL"))
            + &dr("istio-system", "m", "*.local", Some("DISABLE"));
        assert_eq!(run(&y), vec![t("p")]);
    }

    #[test]
    fn no_enabling_dr_does_not_fire() {
        assert!(run(&disable()).is_empty());
        for mode in [Some("DISABLE"), Some("SIMPLE"), None] {
            assert!(run(&(disable() + &dr("istio-system", "m", "*.local", mode))).is_empty(), "{mode:?}");
            assert!(run(&(disable() + &dr("bookinfo", "d", NS_DR, mode))).is_empty(), "{mode:?}");
        }
        // Host-specific DRs and namespace-wide hosts placed in another namespace are out of scope.
        assert!(run(&(disable() + &dr("bookinfo", "d", "details", Some("ISTIO_MUTUAL")))).is_empty());
        assert!(run(&(disable() + &dr("other", "d", NS_DR, Some("ISTIO_MUTUAL")))).is_empty());
    }

    #[test]
    fn only_winning_disable_namespace_pas_outside_the_root_are_subjects() {
        let enabling = dr("istio-system", "m", "*.local", Some("ISTIO_MUTUAL"));
        for mode in [Some("PERMISSIVE"), Some("STRICT"), Some("UNSET"), None] {
            assert!(run(&(pa("bookinfo", "p", mode, false) + &enabling)).is_empty(), "{mode:?}");
        }
        assert!(run(&(pa("bookinfo", "w", Some("DISABLE"), true) + &enabling)).is_empty());
        // The root namespace's PA is mesh-wide: TIS0503.
        assert!(run(&(pa("istio-system", "r", Some("DISABLE"), false) + &enabling)).is_empty());
        let y =
            pa("bookinfo", "a", Some("PERMISSIVE"), false) + &pa("bookinfo", "b", Some("DISABLE"), false) + &enabling;
        assert!(run(&y).is_empty());
        let y = pa("bookinfo", "a", Some("DISABLE"), false) + &pa("bookinfo", "b", Some("STRICT"), false) + &enabling;
        assert_eq!(run(&y), vec![t("a")]);
    }

    #[test]
    fn related_and_fixes_with_an_enabling_namespace_wide_dr() {
        let m = mesh(
            &(disable()
                + &dr("bookinfo", "d", NS_DR, Some("ISTIO_MUTUAL"))
                + &dr("istio-system", "m", "*.local", Some("MUTUAL"))),
        );
        let f = check(&m);
        let (d, mw) = (m.destination_rules[0].obj, m.destination_rules[1].obj);
        assert_eq!(f[0].related, vec![(d, "namespace-wide DestinationRule"), (mw, "mesh-wide DestinationRule")]);
        assert!(f[0].message.contains("(and 1 more)"));
        let edits: Vec<_> = f[0].fixes.iter().map(|p| p.edits.clone()).collect();
        assert_eq!(
            edits,
            vec![
                vec![FixEdit::SetField { object: d, field: DR_TLS_MODE, value: "DISABLE".into() }],
                vec![FixEdit::SetField { object: f[0].subject, field: PA_MODE, value: "PERMISSIVE".into() }],
            ]
        );
    }

    #[test]
    fn fixes_with_only_a_mesh_wide_enabling_dr() {
        let m = mesh(&(disable() + &dr("istio-system", "m", "*.local", Some("ISTIO_MUTUAL"))));
        let f = check(&m);
        assert_eq!(f[0].fixes.len(), 2);
        assert_eq!(
            f[0].fixes[0].edits,
            vec![FixEdit::AddObject {
                after: f[0].subject,
                object: NewObject::DestinationRule {
                    namespace: "bookinfo".into(),
                    name_base: "disable-mtls",
                    host: NS_DR.into(),
                    mode: "DISABLE".into()
                },
            }]
        );
        // A namespace-wide DR without a tls block is edited rather than shadowed by a second one.
        let m = mesh(
            &(disable()
                + &dr("istio-system", "m", "*.local", Some("ISTIO_MUTUAL"))
                + &dr("bookinfo", "d", NS_DR, None)),
        );
        let f = check(&m);
        let d = m.destination_rules[1].obj;
        assert_eq!(
            f[0].fixes[0].edits,
            vec![FixEdit::SetField { object: d, field: DR_TLS_MODE, value: "DISABLE".into() }]
        );
        // Several namespace-wide DRs: only the PeerAuthentication candidate is left.
        let m =
            mesh(&(disable() + &dr("bookinfo", "d", NS_DR, Some("ISTIO_MUTUAL")) + &dr("bookinfo", "e", NS_DR, None)));
        let f = check(&m);
        assert_eq!(f[0].fixes.len(), 1);
        assert_eq!(
            f[0].fixes[0].edits,
            vec![FixEdit::SetField { object: f[0].subject, field: PA_MODE, value: "PERMISSIVE".into() }]
        );
    }
}

//! TIS0207: a namespace-wide DestinationRule disables mTLS (clients send plaintext) while the namespace-wide
//! PeerAuthentication of the same namespace is STRICT (servers accept only mTLS).
//!
//! Always `error`: every call that uses the DestinationRule is refused by the server's sidecar.

use super::{DR_TLS_MODE, FixEdit, FixPlan, PA_MODE, Rule, RuleFinding};
use crate::context::MeshContext;
use crate::finding::Severity;
use crate::mesh::{PaMode, Tls, TlsMode};

pub const RULE: Rule = Rule {
    code: "TIS0207",
    title: "DestinationRule disables mTLS for a STRICT namespace",
    default_severity: Severity::Error,
    help: "A namespace-wide DestinationRule (host `*.<ns>.svc.<clusterDomain>`) sets `tls.mode: DISABLE` (or has a \
           `tls` block without `mode`), so clients send plaintext to every service of the namespace, while the \
           namespace-wide PeerAuthentication of that namespace is STRICT, so the servers accept only mTLS. The \
           sidecars reject these connections. Make the DestinationRule originate ISTIO_MUTUAL (or remove its `tls` \
           block so auto mTLS decides), or relax the PeerAuthentication to PERMISSIVE.",
    check,
    reads: super::Reads::Namespace,
};

fn check(mesh: &MeshContext) -> Vec<RuleFinding> {
    let mut out = Vec::new();
    for dr in &mesh.destination_rules {
        if !mesh.is_namespace_wide_dr(dr) || dr.tls.mode() != Some(&TlsMode::Disable) {
            continue;
        }
        let Some(pa) = mesh.namespace_pa(&dr.namespace).filter(|p| p.mode == PaMode::Strict) else {
            continue;
        };
        let how = match dr.tls {
            Tls::Set { mode_written: false, .. } => "a tls block without mode, which means DISABLE",
            _ => "tls.mode DISABLE",
        };
        let message = format!(
            "DestinationRule {}/{} disables mTLS for namespace `{}` ({how}), so clients send plaintext to its \
             services, but the namespace-wide PeerAuthentication {}/{} is STRICT: the servers accept only mTLS and \
             refuse these calls",
            dr.namespace, dr.name, dr.namespace, pa.namespace, pa.name
        );
        let fixes = vec![
            FixPlan {
                description: format!(
                    "set DestinationRule {}/{} to tls mode ISTIO_MUTUAL, matching the STRICT PeerAuthentication {}/{}",
                    dr.namespace, dr.name, pa.namespace, pa.name
                ),
                edits: vec![FixEdit::SetField {
                    object: dr.obj,
                    field: DR_TLS_MODE,
                    value: "ISTIO_MUTUAL".to_string(),
                }],
            },
            FixPlan {
                description: format!(
                    "set PeerAuthentication {}/{} to mTLS mode PERMISSIVE so its servers also accept the plaintext \
                     the DestinationRule sends",
                    pa.namespace, pa.name
                ),
                edits: vec![FixEdit::SetField { object: pa.obj, field: PA_MODE, value: "PERMISSIVE".to_string() }],
            },
        ];
        out.push(RuleFinding {
            code: RULE.code,
            severity: Severity::Error,
            message,
            subject: dr.obj,
            field: DR_TLS_MODE,
            port: None,
            related: vec![(pa.obj, "namespace-wide PeerAuthentication")],
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
    use crate::rules::{DR_TLS_MODE, FixEdit, PA_MODE};

    const NS_DR: &str = "*.bookinfo.svc.cluster.local";

    fn run(yaml: &str) -> Vec<(String, String, String)> {
        crate::rules::testing::run(check, yaml)
    }

    fn t(name: &str) -> (String, String, String) {
        ("TIS0207".into(), name.into(), "error".into())
    }

    #[test]
    fn disable_dr_with_strict_namespace_pa_is_an_error() {
        let y = dr("bookinfo", "d", NS_DR, Some("DISABLE")) + &pa("bookinfo", "p", Some("STRICT"), false);
        assert_eq!(run(&y), vec![t("d")]);
    }

    #[test]
    fn tls_block_without_mode_counts_as_disable() {
        let y = "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: d\n  namespace: bookinfo\n\
                 spec:\n  host: \"*.bookinfo.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      sni: x\n"
            .to_string()
            + &pa("bookinfo", "p", Some("STRICT"), false);
        assert_eq!(run(&y), vec![t("d")]);
        let m = mesh(&y);
        assert!(check(&m)[0].message.contains("a tls block without mode"));
    }

    #[test]
    fn other_namespace_modes_do_not_fire() {
        for mode in [Some("PERMISSIVE"), Some("DISABLE"), Some("UNSET"), None] {
            let y = dr("bookinfo", "d", NS_DR, Some("DISABLE")) + &pa("bookinfo", "p", mode, false);
            assert!(run(&y).is_empty(), "{mode:?}");
        }
        assert!(run(&dr("bookinfo", "d", NS_DR, Some("DISABLE"))).is_empty());
    }

    #[test]
    fn mesh_strict_is_not_this_rule() {
        // The mesh-wide case is TIS0208.
        let y = dr("bookinfo", "d", NS_DR, Some("DISABLE")) + &pa("istio-system", "m", Some("STRICT"), false);
        assert!(run(&y).is_empty());
    }

    #[test]
    fn selector_pa_and_other_namespace_pa_do_not_count() {
        let y = dr("bookinfo", "d", NS_DR, Some("DISABLE"))
            + &pa("bookinfo", "w", Some("STRICT"), true)
            + &pa("other", "p", Some("STRICT"), false);
        assert!(run(&y).is_empty());
    }

    #[test]
    fn only_the_winning_namespace_pa_counts() {
        let y = dr("bookinfo", "d", NS_DR, Some("DISABLE"))
            + &pa("bookinfo", "a", Some("PERMISSIVE"), false)
            + &pa("bookinfo", "b", Some("STRICT"), false);
        assert!(run(&y).is_empty());
        let y = dr("bookinfo", "d", NS_DR, Some("DISABLE"))
            + &pa("bookinfo", "a", Some("STRICT"), false)
            + &pa("bookinfo", "b", Some("PERMISSIVE"), false);
        assert_eq!(run(&y), vec![t("d")]);
    }

    #[test]
    fn only_namespace_wide_disable_drs_are_subjects() {
        let strict = pa("bookinfo", "p", Some("STRICT"), false);
        for mode in [Some("ISTIO_MUTUAL"), Some("MUTUAL"), Some("SIMPLE"), None] {
            assert!(run(&(dr("bookinfo", "d", NS_DR, mode) + &strict)).is_empty(), "{mode:?}");
        }
        assert!(run(&(dr("bookinfo", "d", "reviews", Some("DISABLE")) + &strict)).is_empty());
        assert!(run(&(dr("other", "d", NS_DR, Some("DISABLE")) + &strict)).is_empty());
    }

    #[test]
    fn root_namespace_wide_dr_against_strict_mesh_pa() {
        let y = dr("istio-system", "d", "*.istio-system.svc.cluster.local", Some("DISABLE"))
            + &pa("istio-system", "m", Some("STRICT"), false);
        assert_eq!(run(&y), vec![t("d")]);
    }

    #[test]
    fn fixes_and_related() {
        let m = mesh(&(dr("bookinfo", "d", NS_DR, Some("DISABLE")) + &pa("bookinfo", "p", Some("STRICT"), false)));
        let f = check(&m);
        let pa_obj = m.namespace_pa("bookinfo").map(|p| p.obj).unwrap();
        assert_eq!(f[0].related, vec![(pa_obj, "namespace-wide PeerAuthentication")]);
        assert_eq!(f[0].field, DR_TLS_MODE);
        let edits: Vec<_> = f[0].fixes.iter().map(|p| p.edits.clone()).collect();
        assert_eq!(
            edits,
            vec![
                vec![FixEdit::SetField { object: f[0].subject, field: DR_TLS_MODE, value: "ISTIO_MUTUAL".into() }],
                vec![FixEdit::SetField { object: pa_obj, field: PA_MODE, value: "PERMISSIVE".into() }],
            ]
        );
    }
}

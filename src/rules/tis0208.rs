//! TIS0208: a namespace-wide or mesh-wide DestinationRule disables mTLS (clients send plaintext) while the
//! mesh-wide PeerAuthentication is STRICT and, for a namespace-wide DestinationRule, its namespace does not
//! override the mesh mode (so the servers accept only mTLS).
//!
//! Always `error`: the servers the DestinationRule covers refuse the plaintext it makes clients send.

use super::{DR_TLS_MODE, Rule, RuleFinding};
use crate::context::MeshContext;
use crate::finding::Severity;
use crate::mesh::{PaMode, TlsMode};

pub const RULE: Rule = Rule {
    code: "TIS0208",
    title: "DestinationRule disables mTLS under a STRICT mesh",
    default_severity: Severity::Error,
    help: "A namespace-wide (`*.<ns>.svc.<clusterDomain>`) or mesh-wide (`*.local`, `*.<clusterDomain>`, \
           `*.svc.<clusterDomain>`, `*`) DestinationRule sets `tls.mode: DISABLE`, so clients send plaintext, while \
           the mesh-wide PeerAuthentication is STRICT and (for a namespace-wide DestinationRule) the namespace has no \
           namespace-wide PeerAuthentication of its own that sets a mode, so the servers inherit STRICT and accept \
           only mTLS. The sidecars reject these connections. Either let clients originate mTLS (ISTIO_MUTUAL, or no \
           `tls` block so auto mTLS decides) or give the namespaces that must accept plaintext a PERMISSIVE \
           namespace-wide PeerAuthentication.",
    check,
    reads: super::Reads::Namespace,
};

fn check(mesh: &MeshContext) -> Vec<RuleFinding> {
    let mut out = Vec::new();
    let Some(mesh_pa) = mesh.mesh_pa().filter(|p| p.mode == PaMode::Strict) else {
        return out;
    };
    for dr in &mesh.destination_rules {
        if dr.tls.mode() != Some(&TlsMode::Disable) {
            continue;
        }
        let message = if mesh.is_mesh_wide_dr(dr) {
            format!(
                "DestinationRule {}/{} (host `{}`) disables mTLS for every service in the mesh, so clients send \
                 plaintext, but the mesh-wide PeerAuthentication {}/{} is STRICT: servers that do not override it \
                 accept only mTLS and refuse these calls",
                dr.namespace, dr.name, dr.host, mesh_pa.namespace, mesh_pa.name
            )
        } else if mesh.is_namespace_wide_dr(dr) {
            // A namespace-wide PA that sets a mode decides the namespace instead (STRICT there is TIS0207).
            if mesh.namespace_pa(&dr.namespace).is_some_and(|p| p.mode != PaMode::Unset) {
                continue;
            }
            format!(
                "DestinationRule {}/{} disables mTLS for namespace `{}`, so clients send plaintext to its services, \
                 but the namespace has no namespace-wide PeerAuthentication that sets a mode and inherits STRICT \
                 from the mesh-wide PeerAuthentication {}/{}: the servers accept only mTLS and refuse these calls",
                dr.namespace, dr.name, dr.namespace, mesh_pa.namespace, mesh_pa.name
            )
        } else {
            continue;
        };
        let mut related = vec![(mesh_pa.obj, "mesh-wide PeerAuthentication")];
        if let Some(p) =
            mesh.namespace_pa(&dr.namespace).filter(|p| p.obj != mesh_pa.obj && mesh.is_namespace_wide_dr(dr))
        {
            related.push((p.obj, "namespace-wide PeerAuthentication"));
        }
        out.push(RuleFinding {
            code: RULE.code,
            severity: Severity::Error,
            message,
            subject: dr.obj,
            field: DR_TLS_MODE,
            port: None,
            related,
            // No fix is clearly right: ISTIO_MUTUAL breaks namespaces whose workloads have no sidecar (a common
            // reason for such a DestinationRule), PERMISSIVE weakens servers the author made STRICT.
            fixes: Vec::new(),
        });
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::check;
    use crate::rules::testing::{dr, mesh, pa};

    const NS_DR: &str = "*.bookinfo.svc.cluster.local";

    fn run(yaml: &str) -> Vec<(String, String, String)> {
        crate::rules::testing::run(check, yaml)
    }

    fn t(name: &str) -> (String, String, String) {
        ("TIS0208".into(), name.into(), "error".into())
    }

    fn strict_mesh() -> String {
        pa("istio-system", "m", Some("STRICT"), false)
    }

    #[test]
    fn namespace_wide_disable_under_strict_mesh_is_an_error() {
        assert_eq!(run(&(dr("bookinfo", "d", NS_DR, Some("DISABLE")) + &strict_mesh())), vec![t("d")]);
    }

    #[test]
    fn unset_namespace_pa_inherits_strict() {
        for mode in [Some("UNSET"), None] {
            let y = dr("bookinfo", "d", NS_DR, Some("DISABLE")) + &strict_mesh() + &pa("bookinfo", "p", mode, false);
            assert_eq!(run(&y), vec![t("d")], "{mode:?}");
        }
    }

    #[test]
    fn namespace_pa_with_a_mode_decides_instead() {
        for mode in ["PERMISSIVE", "DISABLE", "STRICT"] {
            let y =
                dr("bookinfo", "d", NS_DR, Some("DISABLE")) + &strict_mesh() + &pa("bookinfo", "p", Some(mode), false);
            assert!(run(&y).is_empty(), "{mode}");
        }
    }

    #[test]
    fn selector_pa_does_not_override_the_namespace() {
        let y = dr("bookinfo", "d", NS_DR, Some("DISABLE"))
            + &strict_mesh()
            + &pa("bookinfo", "w", Some("PERMISSIVE"), true);
        assert_eq!(run(&y), vec![t("d")]);
    }

    #[test]
    fn mesh_wide_disable_under_strict_mesh_is_an_error_in_any_namespace() {
        for host in ["*.local", "*", "*.cluster.local", "*.svc.cluster.local"] {
            for ns in ["istio-system", "bookinfo"] {
                let y = dr(ns, "d", host, Some("DISABLE")) + &strict_mesh();
                assert_eq!(run(&y), vec![t("d")], "{ns} {host}");
            }
        }
        // Namespace PAs do not matter for a mesh-wide DestinationRule.
        let y = dr("bookinfo", "d", "*.local", Some("DISABLE"))
            + &strict_mesh()
            + &pa("bookinfo", "p", Some("PERMISSIVE"), false);
        assert_eq!(run(&y), vec![t("d")]);
    }

    #[test]
    fn non_strict_or_missing_mesh_pa_does_not_fire() {
        for mode in [Some("PERMISSIVE"), Some("DISABLE"), Some("UNSET"), None] {
            let y = dr("istio-system", "d", "*.local", Some("DISABLE")) + &pa("istio-system", "m", mode, false);
            assert!(run(&y).is_empty(), "{mode:?}");
            let y = dr("bookinfo", "d", NS_DR, Some("DISABLE")) + &pa("istio-system", "m", mode, false);
            assert!(run(&y).is_empty(), "{mode:?}");
        }
        assert!(run(&dr("istio-system", "d", "*.local", Some("DISABLE"))).is_empty());
    }

    #[test]
    fn only_the_winning_mesh_pa_counts() {
        let y = dr("istio-system", "d", "*.local", Some("DISABLE"))
            + &pa("istio-system", "a", Some("PERMISSIVE"), false)
            + &pa("istio-system", "b", Some("STRICT"), false);
        assert!(run(&y).is_empty());
    }

    #[test]
    fn only_disabling_namespace_or_mesh_wide_drs_are_subjects() {
        for mode in [Some("ISTIO_MUTUAL"), Some("MUTUAL"), Some("SIMPLE"), None] {
            assert!(run(&(dr("istio-system", "d", "*.local", mode) + &strict_mesh())).is_empty(), "{mode:?}");
            assert!(run(&(dr("bookinfo", "d", NS_DR, mode) + &strict_mesh())).is_empty(), "{mode:?}");
        }
        assert!(run(&(dr("bookinfo", "d", "reviews", Some("DISABLE")) + &strict_mesh())).is_empty());
        assert!(run(&(dr("other", "d", NS_DR, Some("DISABLE")) + &strict_mesh())).is_empty());
    }

    #[test]
    fn related_names_the_mesh_pa() {
        let m =
            mesh(&(dr("bookinfo", "d", NS_DR, Some("DISABLE")) + &strict_mesh() + &pa("bookinfo", "p", None, false)));
        let f = check(&m);
        let mesh_pa = m.mesh_pa().map(|p| p.obj).unwrap();
        let ns_pa = m.namespace_pa("bookinfo").map(|p| p.obj).unwrap();
        assert_eq!(
            f[0].related,
            vec![(mesh_pa, "mesh-wide PeerAuthentication"), (ns_pa, "namespace-wide PeerAuthentication")]
        );
        assert!(f[0].fixes.is_empty());
    }
}

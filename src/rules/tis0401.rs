//! TIS0401: with auto mTLS turned off, the mesh-wide PeerAuthentication is STRICT but no mesh-wide
//! DestinationRule makes clients originate ISTIO_MUTUAL.
//!
//! Always `error`: without auto mTLS a client sends plaintext unless a DestinationRule says otherwise, and the
//! STRICT servers refuse plaintext. Silent while `enableAutoMtls` is true (the default).

use super::{PA_MODE, Rule, RuleFinding};
use crate::context::MeshContext;
use crate::finding::Severity;
use crate::mesh::{PaMode, TlsMode};

pub const RULE: Rule = Rule {
    code: "TIS0401",
    title: "Mesh-wide DestinationRule enabling mTLS is missing",
    default_severity: Severity::Error,
    help: "The mesh-wide PeerAuthentication (root namespace, no selector) is STRICT, so servers accept only mTLS, \
           and the mesh configuration turns auto mTLS off (`enableAutoMtls: false`), so a client sends plaintext \
           unless a DestinationRule tells it to originate ISTIO_MUTUAL. No mesh-wide DestinationRule does, so calls \
           not covered by a more specific DestinationRule are refused. Add a mesh-wide DestinationRule with \
           `tls.mode: ISTIO_MUTUAL` (with DISABLE exceptions for destinations without a sidecar) or turn auto mTLS \
           back on.",
    check,
    reads: super::Reads::Mesh,
};

fn check(mesh: &MeshContext) -> Vec<RuleFinding> {
    if mesh.settings.auto_mtls {
        return Vec::new();
    }
    let Some(pa) = mesh.mesh_pa().filter(|p| p.mode == PaMode::Strict) else {
        return Vec::new();
    };
    if mesh.mesh_wide_drs().any(|d| d.tls.mode() == Some(&TlsMode::IstioMutual)) {
        return Vec::new();
    }
    let message = format!(
        "mesh-wide PeerAuthentication {}/{} is STRICT, so servers accept only mTLS, but auto mTLS is off \
         (enableAutoMtls: false) and no mesh-wide DestinationRule sets tls.mode ISTIO_MUTUAL: clients send \
         plaintext wherever no other DestinationRule asks for mTLS, and the servers refuse it",
        pa.namespace, pa.name
    );
    // Other mesh-wide DestinationRules take part: they decide the clients' TLS, just not with ISTIO_MUTUAL.
    let related = mesh.mesh_wide_drs().map(|d| (d.obj, "mesh-wide DestinationRule")).collect();
    vec![RuleFinding {
        code: RULE.code,
        severity: Severity::Error,
        message,
        subject: pa.obj,
        field: PA_MODE,
        port: None,
        related,
        // No fix is clearly right: a mesh-wide ISTIO_MUTUAL DestinationRule breaks calls to destinations without a
        // sidecar (the Kubernetes API server, unmeshed namespaces), relaxing the PeerAuthentication weakens the mesh,
        // and auto mTLS lives in the mesh configuration.
        fixes: Vec::new(),
    }]
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::rules::testing::{dr, mesh_with, pa, summary};
    use crate::settings::MeshSettings;

    fn run_auto(yaml: &str, auto_mtls: bool) -> Vec<(String, String, String)> {
        let m = mesh_with(yaml, MeshSettings { auto_mtls, ..MeshSettings::default() });
        summary(&m, &check(&m))
    }

    fn run(yaml: &str) -> Vec<(String, String, String)> {
        run_auto(yaml, false)
    }

    fn t(name: &str) -> (String, String, String) {
        ("TIS0401".into(), name.into(), "error".into())
    }

    #[test]
    fn strict_mesh_without_enabling_dr_is_an_error_when_auto_mtls_is_off() {
        let y = pa("istio-system", "m", Some("STRICT"), false);
        assert_eq!(run(&y), vec![t("m")]);
    }

    #[test]
    fn silent_while_auto_mtls_is_on() {
        let y = pa("istio-system", "m", Some("STRICT"), false);
        assert!(run_auto(&y, true).is_empty());
    }

    #[test]
    fn a_mesh_wide_istio_mutual_dr_in_any_namespace_satisfies_it() {
        for host in ["*.local", "*", "*.cluster.local", "*.svc.cluster.local"] {
            for ns in ["istio-system", "bookinfo"] {
                let y = pa("istio-system", "m", Some("STRICT"), false) + &dr(ns, "d", host, Some("ISTIO_MUTUAL"));
                assert!(run(&y).is_empty(), "{ns} {host}");
            }
        }
    }

    #[test]
    fn other_drs_do_not_satisfy_it() {
        let strict = pa("istio-system", "m", Some("STRICT"), false);
        for mode in [Some("MUTUAL"), Some("DISABLE"), Some("SIMPLE"), None] {
            assert_eq!(run(&(strict.clone() + &dr("istio-system", "d", "*.local", mode))), vec![t("m")], "{mode:?}");
        }
        let y = strict.clone() + &dr("bookinfo", "d", "*.bookinfo.svc.cluster.local", Some("ISTIO_MUTUAL"));
        assert_eq!(run(&y), vec![t("m")]);
        let y = strict + &dr("bookinfo", "d", "reviews", Some("ISTIO_MUTUAL"));
        assert_eq!(run(&y), vec![t("m")]);
    }

    #[test]
    fn only_a_winning_strict_mesh_pa_is_a_subject() {
        for mode in [Some("PERMISSIVE"), Some("DISABLE"), Some("UNSET"), None] {
            assert!(run(&pa("istio-system", "m", mode, false)).is_empty(), "{mode:?}");
        }
        assert!(run(&pa("istio-system", "w", Some("STRICT"), true)).is_empty());
        assert!(run(&pa("bookinfo", "p", Some("STRICT"), false)).is_empty());
        let y = pa("istio-system", "a", Some("PERMISSIVE"), false) + &pa("istio-system", "b", Some("STRICT"), false);
        assert!(run(&y).is_empty());
        let y = pa("istio-system", "a", Some("STRICT"), false) + &pa("istio-system", "b", Some("STRICT"), false);
        assert_eq!(run(&y), vec![t("a")]);
    }

    #[test]
    fn related_lists_the_mesh_wide_drs() {
        let y = pa("istio-system", "m", Some("STRICT"), false) + &dr("istio-system", "d", "*.local", Some("DISABLE"));
        let m = mesh_with(&y, MeshSettings { auto_mtls: false, ..MeshSettings::default() });
        let f = check(&m);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].related, vec![(m.destination_rules[0].obj, "mesh-wide DestinationRule")]);
        assert!(f[0].fixes.is_empty());
    }
}

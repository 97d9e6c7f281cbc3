//! TIS0503: the mesh-wide PeerAuthentication disables mTLS while a mesh-wide DestinationRule makes clients
//! originate mTLS (case a), or no mesh-wide DestinationRule disables mTLS to match it (case b).
//!
//! Severity `error` in case a (clients send mTLS to every server, every server accepts only plaintext), `warning`
//! in case b (the mesh relies on auto mTLS inferring the DISABLE mode). Case a decides when both hold.

use super::{DR_TLS_MODE, FixEdit, FixPlan, NewObject, PA_MODE, Rule, RuleFinding};
use crate::context::MeshContext;
use crate::finding::Severity;
use crate::mesh::{PaMode, TlsMode};

pub const RULE: Rule = Rule {
    code: "TIS0503",
    title: "Mesh-wide DestinationRule disabling mTLS is missing",
    default_severity: Severity::Error,
    help: "The mesh-wide PeerAuthentication (root namespace, no selector) sets mTLS mode DISABLE, so servers accept \
           only plaintext unless their namespace or workload says otherwise. If a mesh-wide DestinationRule (host \
           `*.local`, `*.<clusterDomain>`, `*.svc.<clusterDomain>` or `*`, any namespace) makes clients originate \
           ISTIO_MUTUAL or MUTUAL, those handshakes fail (error). If no mesh-wide DestinationRule disables mTLS, the \
           mesh depends on auto mTLS inferring the servers' mode (warning). Add a mesh-wide DestinationRule with \
           `tls.mode: DISABLE` (or turn the enabling one into it), or make the PeerAuthentication PERMISSIVE.",
    check,
    reads: super::Reads::Mesh,
};

fn check(mesh: &MeshContext) -> Vec<RuleFinding> {
    let Some(pa) = mesh.mesh_pa().filter(|p| p.mode == PaMode::Disable) else {
        return Vec::new();
    };
    let enabling: Vec<_> = mesh.mesh_wide_drs().filter(|d| d.tls.mode().is_some_and(TlsMode::is_mutual)).collect();
    let disabling = mesh.mesh_wide_drs().any(|d| d.tls.mode() == Some(&TlsMode::Disable));
    let permissive = FixPlan {
        description: format!(
            "set the mesh-wide PeerAuthentication {}/{} to mTLS mode PERMISSIVE so servers accept both mTLS and \
             plaintext",
            pa.namespace, pa.name
        ),
        edits: vec![FixEdit::SetField { object: pa.obj, field: PA_MODE, value: "PERMISSIVE".to_string() }],
    };
    let (severity, message, fixes) = if let Some(first) = enabling.first() {
        let more = match enabling.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        let message = format!(
            "mesh-wide PeerAuthentication {}/{} disables mTLS, so servers accept only plaintext, but mesh-wide \
             DestinationRule {}/{} (host `{}`, tls.mode {}){more} makes clients originate mTLS to every service: the \
             servers cannot complete these TLS handshakes and the calls fail",
            pa.namespace,
            pa.name,
            first.namespace,
            first.name,
            first.host,
            first.tls.mode().map(TlsMode::as_str).unwrap_or_default()
        );
        let mut fixes = Vec::new();
        // Turning the enabling DR into the disabling one keeps the author's intent to run without mTLS; with
        // several enabling DRs one edit cannot settle it.
        if let [only] = enabling.as_slice() {
            fixes.push(FixPlan {
                description: format!(
                    "set DestinationRule {}/{} to tls mode DISABLE, matching the mesh-wide PeerAuthentication",
                    only.namespace, only.name
                ),
                edits: vec![FixEdit::SetField { object: only.obj, field: DR_TLS_MODE, value: "DISABLE".to_string() }],
            });
        }
        fixes.push(permissive);
        (Severity::Error, message, fixes)
    } else if !disabling {
        let cd = &mesh.settings.cluster_domain;
        let host = if cd.ends_with(".local") { "*.local".to_string() } else { format!("*.{cd}") };
        let message = format!(
            "mesh-wide PeerAuthentication {}/{} disables mTLS, but no mesh-wide DestinationRule sets tls.mode \
             DISABLE: nothing pins clients to plaintext, so they depend on auto mTLS inferring the DISABLE mode, \
             and any namespace- or host-level DestinationRule that asks for mTLS makes them send it to servers \
             that accept only plaintext",
            pa.namespace, pa.name
        );
        let root = mesh.settings.root_namespace.clone();
        let fixes = vec![
            FixPlan {
                description: format!(
                    "add a mesh-wide DestinationRule for `{host}` with tls mode DISABLE to the root namespace `{root}`"
                ),
                edits: vec![FixEdit::AddObject {
                    after: pa.obj,
                    object: NewObject::DestinationRule {
                        namespace: root,
                        name_base: "mesh-disable-mtls",
                        host,
                        mode: "DISABLE".to_string(),
                    },
                }],
            },
            permissive,
        ];
        (Severity::Warning, message, fixes)
    } else {
        return Vec::new();
    };
    vec![RuleFinding {
        code: RULE.code,
        severity,
        message,
        subject: pa.obj,
        field: PA_MODE,
        port: None,
        related: enabling.iter().map(|d| (d.obj, "mesh-wide DestinationRule enabling mTLS")).collect(),
        fixes,
    }]
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::rules::testing::{dr, mesh, mesh_with, pa};
    use crate::rules::{DR_TLS_MODE, FixEdit, NewObject, PA_MODE};
    use crate::settings::MeshSettings;

    fn run(yaml: &str) -> Vec<(String, String, String)> {
        crate::rules::testing::run(check, yaml)
    }

    fn t(sev: &str) -> (String, String, String) {
        ("TIS0503".into(), "m".into(), sev.into())
    }

    fn disable() -> String {
        pa("istio-system", "m", Some("DISABLE"), false)
    }

    #[test]
    fn case_a_enabling_mesh_wide_dr_in_any_namespace_is_an_error() {
        for host in ["*.local", "*", "*.cluster.local", "*.svc.cluster.local"] {
            for ns in ["istio-system", "bookinfo"] {
                for mode in ["ISTIO_MUTUAL", "MUTUAL"] {
                    let y = disable() + &dr(ns, "d", host, Some(mode));
                    assert_eq!(run(&y), vec![t("error")], "{ns} {host} {mode}");
                }
            }
        }
    }

    #[test]
    fn case_a_wins_over_a_disabling_dr() {
        let y = disable()
            + &dr("istio-system", "off", "*.local", Some("DISABLE"))
            + &dr("bookinfo", "on", "*.local", Some("ISTIO_MUTUAL"));
        assert_eq!(run(&y), vec![t("error")]);
    }

    #[test]
    fn case_b_no_disabling_mesh_wide_dr_is_a_warning() {
        assert_eq!(run(&disable()), vec![t("warning")]);
        // Namespace-wide and host-specific DRs do not count, nor a mesh-wide DR without a mode opinion.
        let y = disable()
            + &dr("istio-system", "g", "grafana.istio-system.svc.cluster.local", Some("DISABLE"))
            + &dr("bookinfo", "n", "*.bookinfo.svc.cluster.local", Some("DISABLE"))
            + &dr("istio-system", "s", "*.local", Some("SIMPLE"))
            + &dr("istio-system", "x", "*.local", None);
        assert_eq!(run(&y), vec![t("warning")]);
    }

    #[test]
    fn a_disabling_mesh_wide_dr_in_any_namespace_satisfies_case_b() {
        for ns in ["istio-system", "bookinfo"] {
            assert!(run(&(disable() + &dr(ns, "d", "*.local", Some("DISABLE")))).is_empty(), "{ns}");
        }
    }

    #[test]
    fn only_a_winning_disable_mesh_pa_is_a_subject() {
        let enabling = dr("istio-system", "d", "*.local", Some("ISTIO_MUTUAL"));
        for mode in [Some("PERMISSIVE"), Some("STRICT"), Some("UNSET"), None] {
            assert!(run(&(pa("istio-system", "m", mode, false) + &enabling)).is_empty(), "{mode:?}");
        }
        assert!(run(&(pa("istio-system", "w", Some("DISABLE"), true) + &enabling)).is_empty());
        assert!(run(&(pa("bookinfo", "p", Some("DISABLE"), false) + &enabling)).is_empty());
        let y = pa("istio-system", "a", Some("STRICT"), false)
            + &pa("istio-system", "m", Some("DISABLE"), false)
            + &enabling;
        assert!(run(&y).is_empty());
        let y = disable() + &pa("istio-system", "z", Some("STRICT"), false) + &enabling;
        assert_eq!(run(&y), vec![t("error")]);
    }

    #[test]
    fn case_a_fixes_edit_the_only_enabling_dr_then_the_pa() {
        let m = mesh(&(disable() + &dr("bookinfo", "d", "*.local", Some("ISTIO_MUTUAL"))));
        let f = check(&m);
        let d = m.destination_rules[0].obj;
        assert_eq!(f[0].related, vec![(d, "mesh-wide DestinationRule enabling mTLS")]);
        assert_eq!(f[0].field, PA_MODE);
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
    fn case_a_with_several_enabling_drs_only_offers_permissive() {
        let y = disable()
            + &dr("istio-system", "d", "*.local", Some("ISTIO_MUTUAL"))
            + &dr("bookinfo", "e", "*", Some("MUTUAL"));
        let m = mesh(&y);
        let f = check(&m);
        assert_eq!(f[0].related.len(), 2);
        assert!(f[0].message.contains("(and 1 more)"));
        assert_eq!(f[0].fixes.len(), 1);
        assert_eq!(
            f[0].fixes[0].edits,
            vec![FixEdit::SetField { object: f[0].subject, field: PA_MODE, value: "PERMISSIVE".into() }]
        );
    }

    #[test]
    fn case_b_fixes_add_a_disabling_dr_then_the_pa() {
        let m = mesh(&disable());
        let f = check(&m);
        assert!(f[0].related.is_empty());
        let edits: Vec<_> = f[0].fixes.iter().map(|p| p.edits.clone()).collect();
        assert_eq!(
            edits,
            vec![
                vec![FixEdit::AddObject {
                    after: f[0].subject,
                    object: NewObject::DestinationRule {
                        namespace: "istio-system".into(),
                        name_base: "mesh-disable-mtls",
                        host: "*.local".into(),
                        mode: "DISABLE".into()
                    },
                }],
                vec![FixEdit::SetField { object: f[0].subject, field: PA_MODE, value: "PERMISSIVE".into() }],
            ]
        );
    }

    #[test]
    fn case_b_fix_follows_root_namespace_and_cluster_domain() {
        let settings = MeshSettings {
            root_namespace: "mesh-root".into(),
            cluster_domain: "example.com".into(),
            auto_mtls: true,
            ..MeshSettings::default()
        };
        let m = mesh_with(&pa("mesh-root", "m", Some("DISABLE"), false), settings.clone());
        let f = check(&m);
        assert_eq!(
            f[0].fixes[0].edits,
            vec![FixEdit::AddObject {
                after: f[0].subject,
                object: NewObject::DestinationRule {
                    namespace: "mesh-root".into(),
                    name_base: "mesh-disable-mtls",
                    host: "*.example.com".into(),
                    mode: "DISABLE".into()
                },
            }]
        );
        // A cluster domain ending in `.local` keeps `*.local`.
        let settings = MeshSettings { cluster_domain: "corp.local".into(), ..settings };
        let m = mesh_with(&pa("mesh-root", "m", Some("DISABLE"), false), settings);
        match &check(&m)[0].fixes[0].edits[0] {
            FixEdit::AddObject { object: NewObject::DestinationRule { host, .. }, .. } => assert_eq!(host, "*.local"),
            other => panic!("unexpected edit {other:?}"),
        }
    }
}

//! MTLS002: a client path sends mTLS to a server that only accepts plaintext: a DISABLE port, a workload without
//! sidecar, or a port the sidecar does not capture.

use super::{Rule, RuleFinding};
use crate::context::MeshContext;
use crate::finding::Severity;
use crate::posture::{Verdict, remedy};

pub const RULE: Rule = Rule {
    code: "MTLS002",
    title: "mTLS to a plaintext-only server or a workload without sidecar",
    default_severity: Severity::Error,
    help: "A client path sends Istio mTLS to an endpoint that cannot terminate it: the port is DISABLE, the pod has no \
           sidecar, or the sidecar does not capture the port (`excludeInboundPorts`). The application receives TLS \
           bytes it cannot read. The client side is an ISTIO_MUTUAL DestinationRule, or auto mTLS, which does not know \
           about excluded ports. Make the client send plaintext for that host and port, with a DestinationRule placed \
           where Istio's lookup finds it first.",
    check,
    reads: super::Reads::Posture,
};

fn check(mesh: &MeshContext) -> Vec<RuleFinding> {
    remedy::path_findings(mesh, &mesh.posture(), RULE.code, fails)
}

/// The verdicts of the paths this rule reports.
pub fn fails(v: Verdict) -> bool {
    matches!(v, Verdict::FailMtlsToPlaintextOnly | Verdict::FailMtlsToNoSidecar)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::check;
    use crate::posture::fixtures::{deployment, injected, namespace, service, workload_pa};
    use crate::rules::testing::{dr, mesh};
    use crate::rules::{FixEdit, NewObject};

    #[test]
    fn istio_mutual_to_a_namespace_without_injection() {
        let legacy_only = namespace("legacy", &[])
            + &service("legacy", "db", &[(5432, "5432")])
            + &deployment("legacy", "db", &[5432], &[])
            + &dr("legacy", "all-mtls", "*.legacy.svc.cluster.local", Some("ISTIO_MUTUAL"));
        // The only clients are in `legacy` and have no sidecar: they never send mTLS, whatever the rule says.
        assert!(check(&mesh(&legacy_only)).is_empty());
        // A sidecar client that reads the rule does.
        let y = legacy_only + &injected("web") + &deployment("web", "frontend", &[8080], &[]);
        let m = mesh(&y);
        let f = check(&m);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(m.objects[f[0].subject].name, "all-mtls");
        assert!(f[0].message.contains("it has no sidecar"), "{}", f[0].message);
        assert!(f[0].message.contains("clients in other namespaces (Deployment web/frontend)"), "{}", f[0].message);
        match &f[0].fixes[0].edits[0] {
            FixEdit::AddObject {
                object: NewObject::PortDestinationRule { namespace, host, top_mode, ports, .. },
                ..
            } => {
                assert_eq!((namespace.as_str(), host.as_str()), ("legacy", "db.legacy.svc.cluster.local"));
                assert_eq!(top_mode.as_deref(), Some("DISABLE"));
                assert!(ports.is_empty());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn excluded_inbound_port_under_auto_mtls_points_at_the_workload() {
        let y = injected("shop")
            + &service("shop", "cart", &[(80, "8080"), (9000, "9000")])
            + &deployment("shop", "cart", &[8080, 9000], &[("traffic.sidecar.istio.io/excludeInboundPorts", "9000")]);
        let m = mesh(&y);
        let f = check(&m);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(m.objects[f[0].subject].kind, "Deployment");
        assert_eq!(f[0].port, Some(9000));
        assert_eq!(f[0].field, &["spec", "template", "metadata", "annotations"]);
        assert!(
            f[0].message.contains("does not capture port 9000 (`traffic.sidecar.istio.io/excludeInboundPorts`)"),
            "{}",
            f[0].message
        );
        match &f[0].fixes[0].edits[0] {
            FixEdit::AddObject { object: NewObject::PortDestinationRule { top_mode, ports, .. }, .. } => {
                assert_eq!(top_mode, &None);
                assert_eq!(ports, &vec![(9000, "DISABLE".to_string())]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn istio_mutual_to_a_disable_workload() {
        let y = injected("shop")
            + &service("shop", "cart", &[(80, "8080")])
            + &deployment("shop", "cart", &[8080], &[])
            + &workload_pa("shop", "cart-off", "cart", "DISABLE", &[])
            + &dr("shop", "cart", "cart.shop.svc.cluster.local", Some("ISTIO_MUTUAL"));
        let m = mesh(&y);
        let f = check(&m);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("which is DISABLE by PeerAuthentication shop/cart-off"), "{}", f[0].message);
        assert!(matches!(&f[0].fixes[0].edits[0], FixEdit::SetField { value, .. } if value == "DISABLE"));
    }
}

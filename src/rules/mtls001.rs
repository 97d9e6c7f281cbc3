//! MTLS001: a client path sends plaintext to a port whose PeerAuthentication is STRICT.
//!
//! Computed from the posture: every (client namespace, service port) whose client side (the DestinationRule
//! Istio's lookup chooses, or auto mTLS) sends plaintext to an endpoint with a sidecar in STRICT mode.

use super::{Rule, RuleFinding};
use crate::context::MeshContext;
use crate::finding::Severity;
use crate::posture::{Verdict, remedy};

pub const RULE: Rule = Rule {
    code: "MTLS001",
    title: "Plaintext to a STRICT port",
    default_severity: Severity::Error,
    help: "A client path sends plaintext to a workload port whose PeerAuthentication is STRICT, so the server's sidecar \
           rejects every connection. The client side is decided by the DestinationRule Istio's lookup chooses (a `tls` \
           block with DISABLE or without `mode`), or by auto mTLS, which sends plaintext when auto mTLS is off or the \
           service's namespace is DISABLE. Make the client send ISTIO_MUTUAL for that host and port.",
    check,
    reads: super::Reads::Posture,
};

fn check(mesh: &MeshContext) -> Vec<RuleFinding> {
    remedy::path_findings(mesh, &mesh.posture(), RULE.code, fails)
}

/// The verdicts of the paths this rule reports.
pub fn fails(v: Verdict) -> bool {
    matches!(v, Verdict::FailPlaintextToStrict | Verdict::FailTlsToStrict)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::check;
    use crate::posture::fixtures::{deployment, injected, service, workload_pa};
    use crate::rules::testing::{dr, mesh, pa};
    use crate::rules::{FixEdit, NewObject};

    #[test]
    fn disable_dr_to_strict_namespace() {
        let y = injected("shop")
            + &service("shop", "cart", &[(80, "8080")])
            + &deployment("shop", "cart", &[8080], &[])
            + &pa("shop", "strict", Some("STRICT"), false)
            + &dr("shop", "cart", "cart", Some("DISABLE"));
        let m = mesh(&y);
        let f = check(&m);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(m.objects[f[0].subject].name, "cart");
        assert_eq!(m.objects[f[0].subject].kind, "DestinationRule");
        assert_eq!(f[0].port, Some(80));
        assert!(f[0].message.contains("STRICT by PeerAuthentication shop/strict"), "{}", f[0].message);
        assert!(matches!(&f[0].fixes[0].edits[0], FixEdit::SetField { value, .. } if value == "ISTIO_MUTUAL"));
        // Removing the block (auto mTLS) is the alternative.
        assert!(
            matches!(&f[0].fixes[1].edits[0], FixEdit::RemoveField { field, .. } if *field == crate::rules::DR_TLS)
        );
    }

    #[test]
    fn empty_tls_block_prefers_removal_unless_auto_mtls_is_off() {
        let y = injected("shop")
            + &service("shop", "cart", &[(80, "8080")])
            + &deployment("shop", "cart", &[8080], &[])
            + &pa("shop", "strict", Some("STRICT"), false)
            + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: cart, namespace: shop}\n\
               spec:\n  host: cart\n  trafficPolicy:\n    tls: {}\n";
        let f = check(&mesh(&y));
        assert!(matches!(&f[0].fixes[0].edits[0], FixEdit::RemoveField { .. }), "{:?}", f[0].fixes);
        let off = crate::settings::MeshSettings { auto_mtls: false, ..Default::default() };
        let f = check(&crate::rules::testing::mesh_with(&y, off));
        assert_eq!(f[0].fixes.len(), 1);
        assert!(matches!(&f[0].fixes[0].edits[0], FixEdit::SetField { .. }));
    }

    #[test]
    fn wildcard_disable_gets_a_host_specific_rule() {
        let y = injected("shop")
            + &service("shop", "cart", &[(80, "8080")])
            + &deployment("shop", "cart", &[8080], &[])
            + &workload_pa("shop", "cart-strict", "cart", "STRICT", &[])
            + &dr("istio-system", "mesh-off", "*.local", Some("DISABLE"));
        let m = mesh(&y);
        let f = check(&m);
        assert_eq!(f.len(), 1);
        assert_eq!(m.objects[f[0].subject].name, "mesh-off");
        match &f[0].fixes[0].edits[0] {
            FixEdit::AddObject { after, object: NewObject::PortDestinationRule { namespace, host, top_mode, .. } } => {
                assert_eq!(m.objects[*after].kind, "Service");
                assert_eq!(namespace, "shop");
                assert_eq!(host, "cart.shop.svc.cluster.local");
                assert_eq!(top_mode.as_deref(), Some("ISTIO_MUTUAL"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_sidecar_means_strict_does_not_apply() {
        let y = crate::posture::fixtures::namespace("shop", &[])
            + &service("shop", "cart", &[(80, "8080")])
            + &deployment("shop", "cart", &[8080], &[])
            + &pa("shop", "strict", Some("STRICT"), false)
            + &dr("shop", "cart", "cart", Some("DISABLE"));
        assert!(check(&mesh(&y)).is_empty());
    }
}

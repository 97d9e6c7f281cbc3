//! Tests of MTLS010 the lib tests did not pin (issue 15, fifth sample: a mutant of `check`'s Service lookup
//! survived).
#![allow(clippy::unwrap_used)]

use super::check;
use crate::posture::fixtures::{deployment, injected, service};
use crate::rules::testing::{mesh, pa};

/// The webhook's Service is the one with both its namespace and its name: a Service of the same namespace and one
/// of the same name elsewhere, listed before it, are not it.
#[test]
fn the_called_service_matches_both_namespace_and_name() {
    let y = injected("other")
        + &service("other", "webhook", &[(80, "8080")])
        + &injected("policy")
        + &service("policy", "metrics", &[(80, "8080")])
        + &service("policy", "webhook", &[(443, "9443")])
        + &deployment("policy", "webhook", &[9443], &[])
        + &pa("istio-system", "mesh", Some("STRICT"), false)
        + "---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  \
           name: policy\nwebhooks:\n- name: validate.policy.example.com\n  clientConfig:\n    service:\n      \
           namespace: policy\n      name: webhook\n";
    let m = mesh(&y);
    let found: Vec<(String, Option<u32>, String)> =
        check(&m).into_iter().map(|f| (m.object_ref(f.subject).to_string(), f.port, f.message)).collect();
    assert_eq!(
        found,
        [(
            "PeerAuthentication istio-system/mesh".to_string(),
            Some(9443),
            "ValidatingWebhookConfiguration policy makes the kube-apiserver call Service policy/webhook port 443, \
             served by Deployment policy/webhook on port 9443, which is STRICT by PeerAuthentication \
             istio-system/mesh: the kube-apiserver is outside the mesh (no sidecar, no Istio certificate), so the \
             sidecar rejects its TLS connections and every call fails"
                .to_string()
        )]
    );
}

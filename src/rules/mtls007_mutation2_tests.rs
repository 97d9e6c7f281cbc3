//! Tests of MTLS007 the lib tests did not pin (issue 15, second sample: a mutant of the candidate filter
//! survived).

use super::check;
use crate::posture::fixtures::{deployment, service, workload_pa};
use crate::rules::testing::mesh;

/// A workload PeerAuthentication in the root namespace has no effect at all (MTLS006 reports it): its
/// `portLevelMtls` keys are not checked, while the same object in another namespace is.
#[test]
fn root_namespace_workload_pas_are_not_checked() {
    let in_ns = |ns: &str| {
        service(ns, "cart", &[(80, "8080")])
            + &deployment(ns, "cart", &[8080], &[])
            + &workload_pa(ns, "cart", "cart", "STRICT", &[("80", "DISABLE")])
    };
    assert_eq!(check(&mesh(&in_ns("istio-system"))), []);
    let f = check(&mesh(&in_ns("shop")));
    assert_eq!(f.iter().map(|f| f.port).collect::<Vec<_>>(), [Some(80)]);
}

//! Tests of MTLS003 the lib tests did not pin (issue 15, fifth sample: mutants of `workload_downgrade`'s own
//! PeerAuthentication test survived).
#![allow(clippy::unwrap_used)]

use super::mtls003_mutation4_tests::{app, downgrades_of, path};
use super::*;
use crate::posture::fixtures::workload_pa;
use crate::rules::testing::pa;

/// A workload PeerAuthentication without a mode of its own (UNSET) inherits the namespace's: when the namespace
/// policy drops from STRICT to PERMISSIVE, the workload's drop is the namespace's, reported once on the namespace
/// policy (another PeerAuthentication with a mode does not make the UNSET one the workload's own).
#[test]
fn a_workload_whose_own_policy_is_unset_follows_the_namespace_finding() {
    let unset = workload_pa("shop", "cart", "cart", "UNSET", &[]);
    let base = app() + &pa("shop", "default", Some("STRICT"), false) + &unset;
    let head = app() + &pa("shop", "default", Some("PERMISSIVE"), false) + &unset;
    assert_eq!(
        downgrades_of(&base, &head),
        [(
            Side::Head,
            "PeerAuthentication".to_string(),
            "shop/default".to_string(),
            path(PA_MODE),
            None,
            "namespace `shop` drops from STRICT to PERMISSIVE: its workloads without their own PeerAuthentication \
             follow it."
                .to_string()
        )]
    );
}

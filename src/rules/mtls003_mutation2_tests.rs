//! Tests of MTLS003 the lib tests did not pin (issue 15, second sample: a mutant of `client_downgrades`
//! survived).
#![allow(clippy::unwrap_used)]

use super::*;
use crate::manifest::{load_file, yaml::Limits};
use crate::plan::DR_TLS_MODE;
use crate::posture::compute;
use crate::posture::fixtures::{deployment, injected, service, workload_pa};
use crate::rules::testing::{dr, pa};

fn build(y: &str) -> Mesh {
    let f = load_file("t.yaml", y.as_bytes(), &Limits::default());
    Mesh::build(&[f], Default::default(), Default::default())
}

/// A namespace that was DISABLE on both sides with a STRICT workload in it: the rule that sent ISTIO_MUTUAL is
/// deleted, so auto mTLS (which reads the namespace's mode only, istio/istio#56084) now sends plaintext. The
/// namespace was not lowered, so the downgrade is the deleted rule's, on the base side.
#[test]
fn a_deleted_rule_that_hid_a_disabled_namespace_is_the_downgrade() {
    let app = injected("shop")
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[])
        + &pa("shop", "ns", Some("DISABLE"), false)
        + &workload_pa("shop", "cart", "cart", "STRICT", &[]);
    let base = app.clone() + &dr("shop", "cart", "cart", Some("ISTIO_MUTUAL"));
    let (bm, hm) = (build(&base), build(&app));
    let found: Vec<_> = downgrades(&compute(&bm), &compute(&hm), &bm, &hm)
        .into_iter()
        .map(|d| {
            let o = &bm.objects[d.finding.subject];
            (d.side, o.kind.clone(), o.name.clone(), d.finding.field, d.finding.port)
        })
        .collect();
    assert_eq!(found, [(Side::Base, "DestinationRule".to_string(), "cart".to_string(), DR_TLS_MODE, None)]);
}

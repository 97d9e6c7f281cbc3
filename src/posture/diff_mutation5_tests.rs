//! Tests of the posture diff's stand-in rows (issue 15: `delete field client_namespace` / `client_selector` from
//! `diff`'s `Row` survived).
#![allow(clippy::unwrap_used)]

use super::diff;
use crate::posture::fixtures::{deployment, injected, service};
use crate::posture::{ClientKind, Verdict, compute};
use crate::rules::testing::mesh;

/// A selector rule in the client namespace gives that namespace (and the rule's selector) rows of their own; once
/// the rule is gone, the diff compares them with the rows they fall under now and shows the key's client columns
/// on both sides, not those of the `*` row the after side stands in for.
#[test]
fn a_removed_selector_rule_is_diffed_under_its_own_client_columns() {
    let tree = injected("shop")
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[])
        + &injected("web")
        + &deployment("web", "frontend", &[8080], &[]);
    let rule = "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web-plain, namespace: web}\n\
                spec:\n  host: cart.shop.svc.cluster.local\n  workloadSelector: {matchLabels: {app: frontend}}\n  \
                trafficPolicy: {tls: {mode: DISABLE}}\n";
    let (before, after) = (compute(&mesh(&(tree.clone() + rule))), compute(&mesh(&tree)));
    let changes = diff(&before, &after);
    let selected: Vec<_> =
        changes.iter().filter(|c| c.key.client_selector.as_deref() == Some("app=frontend")).collect();
    assert_eq!(selected.len(), 1, "{changes:#?}");
    let c = selected[0];
    assert_eq!(
        (c.key.namespace.as_str(), c.key.name.as_str(), c.key.port, c.key.client_namespace.as_str(), c.key.client_kind),
        ("shop", "cart", 80, "web", ClientKind::Sidecar)
    );
    let (b, a) = (c.before.as_ref().unwrap(), c.after.as_ref().unwrap());
    assert_eq!((b.client_tls.as_str(), b.verdict), ("DISABLE", Verdict::Plaintext), "{b:#?}");
    assert_eq!(a.client_tls, "auto: mTLS", "{a:#?}");
    for r in [b, a] {
        assert_eq!(
            (r.client_namespace.as_str(), r.client_selector.as_deref()),
            ("web", Some("app=frontend")),
            "{r:#?}"
        );
    }
    // The after side is the `*` row of the head (no rule distinguishes `web` any more), under the key's columns.
    assert!(after.rows.iter().all(|r| r.client_selector.is_none()), "{after:#?}");
}

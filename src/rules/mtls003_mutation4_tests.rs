//! Tests of MTLS003 the lib tests did not pin (issue 15, fourth sample: mutants of `level_text`, `find`,
//! `workload_downgrade` and `sidecar_subject` survived).
#![allow(clippy::unwrap_used)]

use super::*;
use crate::manifest::{load_file, yaml::Limits};
use crate::posture::compute;
use crate::posture::fixtures::{deployment, injected, namespace, service, workload_pa};

fn build(y: &str) -> Mesh {
    let f = load_file("t.yaml", y.as_bytes(), &Limits::default());
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    Mesh::build(&[f], Default::default(), Default::default())
}

/// What a downgrade says: (side, subject kind, subject namespace/name, field, port, message).
pub(super) type Said = (Side, String, String, Vec<String>, Option<u32>, String);

/// [`Said`] without the message.
type Placed = (Side, String, String, Vec<String>, Option<u32>);

fn placed(found: Vec<Said>) -> Vec<Placed> {
    found.into_iter().map(|(s, k, n, f, p, _)| (s, k, n, f, p)).collect()
}

pub(super) fn downgrades_of(base: &str, head: &str) -> Vec<Said> {
    let (bm, hm) = (build(base), build(head));
    let mut v: Vec<Said> = downgrades(&compute(&bm), &compute(&hm), &bm, &hm)
        .into_iter()
        .map(|d| {
            let r = d.subject_ref(&bm, &hm);
            (
                d.side,
                r.kind,
                format!("{}/{}", r.namespace, r.name),
                d.finding.field.iter().map(|s| s.to_string()).collect(),
                d.finding.port,
                d.finding.message,
            )
        })
        .collect();
    v.sort();
    v
}

pub(super) fn path(p: &[&str]) -> Vec<String> {
    p.iter().map(|s| s.to_string()).collect()
}

pub(super) fn app() -> String {
    injected("shop") + &service("shop", "cart", &[(80, "8080")]) + &deployment("shop", "cart", &[8080], &[])
}

/// A port-level downgrade names the port and both modes.
#[test]
fn a_port_downgrade_says_the_modes_it_drops_between() {
    let base = app() + &workload_pa("shop", "cart", "cart", "STRICT", &[]);
    let head = app() + &workload_pa("shop", "cart", "cart", "STRICT", &[("8080", "PERMISSIVE")]);
    assert_eq!(
        downgrades_of(&base, &head),
        [(
            Side::Head,
            "PeerAuthentication".to_string(),
            "shop/cart".to_string(),
            path(PA_PORT_LEVEL),
            Some(8080),
            "port 8080 of Deployment shop/cart drops from STRICT to PERMISSIVE.".to_string()
        )]
    );
}

/// A port the sidecar stops capturing (excludeInboundPorts) is below DISABLE: the message says so, and the
/// finding sits on the workload's annotations.
#[test]
fn a_port_the_sidecar_stops_capturing_says_so() {
    let base = app() + &workload_pa("shop", "cart", "cart", "STRICT", &[]);
    let head = injected("shop")
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[("traffic.sidecar.istio.io/excludeInboundPorts", "8080")])
        + &workload_pa("shop", "cart", "cart", "STRICT", &[]);
    assert_eq!(
        downgrades_of(&base, &head),
        [(
            Side::Head,
            "Deployment".to_string(),
            "shop/cart".to_string(),
            path(&["spec", "template", "metadata", "annotations"]),
            Some(8080),
            "port 8080 of Deployment shop/cart drops from STRICT to not captured by the sidecar.".to_string()
        )]
    );
}

/// A deleted workload PeerAuthentication whose kind and name exist after the change in another namespace only:
/// the finding stays on the deleted object (base side), not on the namesake.
#[test]
fn a_deleted_pa_is_not_confused_with_a_namesake_in_another_namespace() {
    let namesake = injected("other") + &workload_pa("other", "cart", "cart", "STRICT", &[]);
    let base = app() + &workload_pa("shop", "cart", "cart", "STRICT", &[]) + &namesake;
    let head = app() + &namesake;
    assert_eq!(
        downgrades_of(&base, &head),
        [(
            Side::Base,
            "PeerAuthentication".to_string(),
            "shop/cart".to_string(),
            path(PA_MODE),
            None,
            "Deployment shop/cart drops from STRICT to PERMISSIVE.".to_string()
        )]
    );
}

/// A workload that loses its sidecar (an inject annotation): the finding says so and sits on its annotations.
#[test]
fn a_lost_sidecar_says_it_and_points_at_the_annotations() {
    let head = injected("shop")
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[("sidecar.istio.io/inject", "false")]);
    let found = downgrades_of(&app(), &head);
    assert_eq!(found.len(), 1, "{found:?}");
    let (side, kind, name, field, port, message) = &found[0];
    assert_eq!(
        (side, kind.as_str(), name.as_str(), field, port),
        (&Side::Head, "Deployment", "shop/cart", &path(&["spec", "template", "metadata", "annotations"]), &None)
    );
    assert!(message.starts_with("Deployment shop/cart loses its sidecar ("), "{message}");
    assert!(message.ends_with("): its ports stop enforcing PERMISSIVE and accept plaintext only."), "{message}");
}

/// A workload PeerAuthentication drops its mode and adds a portLevelMtls entry for one of two ports: the port
/// with the entry gets its own finding; the other port only follows the workload's mode (covered by the workload
/// finding).
#[test]
fn only_the_port_with_its_own_entry_is_reported_beside_the_workload() {
    let app = injected("shop")
        + &service("shop", "cart", &[(80, "8080"), (90, "9090")])
        + &deployment("shop", "cart", &[8080, 9090], &[]);
    let base = app.clone() + &workload_pa("shop", "cart", "cart", "STRICT", &[]);
    let head = app + &workload_pa("shop", "cart", "cart", "PERMISSIVE", &[("8080", "DISABLE")]);
    let found: Vec<(Side, String, Option<u32>, String)> =
        downgrades_of(&base, &head).into_iter().map(|(s, _, n, _, p, m)| (s, n, p, m)).collect();
    assert_eq!(
        found,
        [
            (Side::Head, "shop/cart".into(), None, "Deployment shop/cart drops from STRICT to PERMISSIVE.".into()),
            (
                Side::Head,
                "shop/cart".into(),
                Some(8080),
                "port 8080 of Deployment shop/cart drops from STRICT to DISABLE.".into()
            ),
        ]
    );
}

/// A namespace that loses its injection label: the finding sits on that Namespace object's labels, also when
/// another Namespace object comes first in the tree.
#[test]
fn a_lost_sidecar_points_at_the_namespace_whose_labels_changed() {
    let rest = service("shop", "cart", &[(80, "8080")]) + &deployment("shop", "cart", &[8080], &[]);
    let base = namespace("aaa", &[]) + &injected("shop") + &rest;
    let head = namespace("aaa", &[]) + &namespace("shop", &[]) + &rest;
    let found = placed(downgrades_of(&base, &head));
    assert_eq!(found, [(Side::Head, "Namespace".into(), "default/shop".into(), path(&["metadata", "labels"]), None)]);
}

/// A CronJob `cart` in `shop` (pod label `app: cart`, container port 8080) with pod labels and annotations.
fn cronjob(labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> String {
    let map = |pairs: &[(&str, &str)]| {
        let items: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}: \"{v}\"")).collect();
        format!("{{{}}}", items.join(", "))
    };
    let mut all_labels = vec![("app", "cart")];
    all_labels.extend_from_slice(labels);
    format!(
        "---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: cart, namespace: shop}}\nspec:\n  schedule: \"* * * * *\"\n  \
         jobTemplate:\n    spec:\n      template:\n        metadata:\n          labels: {}\n          annotations: {}\n        \
         spec:\n          containers:\n          - name: cart\n            image: example/cart\n            \
         ports:\n            - {{name: port-8080, containerPort: 8080}}\n",
        map(&all_labels),
        map(annotations)
    )
}

/// A CronJob that loses its sidecar points at its pod template under `jobTemplate`: its inject label when it has
/// one, else its annotations.
#[test]
fn a_cronjob_that_loses_its_sidecar_points_into_its_job_template() {
    let rest = injected("shop") + &service("shop", "cart", &[(80, "8080")]);
    let base = rest.clone() + &cronjob(&[], &[]);
    let lost = |head: String| placed(downgrades_of(&base, &head));
    let template = |last: &str| path(&["spec", "jobTemplate", "spec", "template", "metadata", last]);
    assert_eq!(
        lost(rest.clone() + &cronjob(&[("sidecar.istio.io/inject", "false")], &[])),
        [(Side::Head, "CronJob".into(), "shop/cart".into(), template("labels"), None)]
    );
    assert_eq!(
        lost(rest + &cronjob(&[], &[("sidecar.istio.io/inject", "false")])),
        [(Side::Head, "CronJob".into(), "shop/cart".into(), template("annotations"), None)]
    );
}

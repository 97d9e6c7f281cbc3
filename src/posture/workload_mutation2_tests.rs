//! Tests of the inventory the lib tests did not pin (issue 15, second sample: mutants of `Inventory::shifted`,
//! `is_workload` and `Inventory::build_in` survived).
#![allow(clippy::unwrap_used)]

use super::super::fixtures::{deployment, namespace, service};
use super::{Inventory, is_workload};
use crate::rules::testing::mesh;

/// Argo Rollouts are workloads in their own API group only.
#[test]
fn a_rollout_is_a_workload_in_the_argo_group_only() {
    assert!(is_workload("Rollout", "argoproj.io/v1alpha1"));
    assert!(!is_workload("Rollout", "example.com/v1"));
    assert!(!is_workload("Rollout", "v1"));
}

/// Each workload kind is read in its own API group: core `v1` Pods, `apps` (or the old `extensions`)
/// Deployments, `batch` Jobs.
#[test]
fn workload_kinds_are_read_in_their_own_api_groups() {
    assert!(is_workload("Pod", "v1"));
    assert!(!is_workload("Pod", "apps/v1"));
    assert!(is_workload("Deployment", "apps/v1"));
    assert!(is_workload("Deployment", "extensions/v1beta1"));
    assert!(!is_workload("Deployment", "example.com/v1"));
    assert!(is_workload("Job", "batch/v1"));
    assert!(!is_workload("Job", "apps/v1"));
    assert!(!is_workload("Service", "v1"));
}

/// Only `v1` Namespace objects give a namespace its labels: another object of the same name (a Service named
/// like a namespace) does not, even when it comes first.
#[test]
fn namespace_labels_come_from_namespace_objects_only() {
    let y = service("shop", "web", &[(80, "8080")])
        + &service("shop", "other", &[(80, "8080")])
        + &namespace("web", &[("team", "a")])
        + &deployment("web", "front", &[8080], &[]);
    let m = mesh(&y);
    let inv = Inventory::build(&m);
    let labels = inv.namespace_labels(&m, "web").unwrap();
    assert_eq!(labels, [("team".to_string(), "a".to_string())]);
    assert_eq!(inv.namespace_labels(&m, "other"), None);
    assert_eq!(inv.namespace_labels(&m, "shop"), None);
}

/// A splice that inserts objects moves the ids of the objects after it, and only those.
#[test]
fn a_splice_moves_only_the_ids_after_it() {
    let y =
        namespace("shop", &[]) + &service("shop", "cart", &[(80, "8080")]) + &deployment("shop", "cart", &[8080], &[]);
    let m = mesh(&y);
    let inv = Inventory::build(&m);
    assert_eq!((inv.namespace_objects["shop"], inv.services[0].obj, inv.workloads[0].obj), (0, 1, 2));
    // Two objects inserted at 1 (before the Service): the Namespace stays, the others move by two.
    let s = inv.shifted(1, 0, 2);
    assert_eq!((s.namespace_objects["shop"], s.services[0].obj, s.workloads[0].obj), (0, 3, 4));
    // Three objects replaced by one at 3 (after the Deployment): nothing moves.
    let s = inv.shifted(3, 3, 1);
    assert_eq!((s.namespace_objects["shop"], s.services[0].obj, s.workloads[0].obj), (0, 1, 2));
}

//! Tests of the inventory the lib tests did not pin (issue 15, fourth sample: mutants of `inject_value` and of the
//! CronJob field paths survived).
#![allow(clippy::unwrap_used)]

use super::super::fixtures::{deployment, injected};
use super::{Sidecar, annotations_field, inject_value, labels_field};
use crate::rules::testing::mesh_with;
use crate::settings::{IstioVersion, MeshSettings};

/// An empty injection value means "the namespace's default" in every release (1.26 and earlier read every other
/// unknown value as false; 1.27 and later ignore them all).
#[test]
fn an_empty_inject_value_is_the_namespace_default() {
    for version in [IstioVersion::new(1, 20), IstioVersion::new(1, 26), IstioVersion::new(1, 27)] {
        assert_eq!(inject_value("", version), None, "{version:?}");
    }
    assert_eq!(inject_value("False", IstioVersion::new(1, 26)), Some(false));
    assert_eq!(inject_value("On", IstioVersion::new(1, 26)), Some(true));
    // In an injected namespace, a pod with an empty annotation gets its sidecar at 1.26.
    let y = injected("web") + &deployment("web", "frontend", &[8080], &[("sidecar.istio.io/inject", "")]);
    let cx = mesh_with(&y, MeshSettings { istio_version: IstioVersion::new(1, 26), ..MeshSettings::default() });
    let inv = cx.inventory();
    let sidecars: Vec<Sidecar> = inv.workloads.iter().map(|w| w.sidecar).collect();
    assert_eq!(sidecars, [Sidecar::Yes]);
}

/// A CronJob's pod template sits under `jobTemplate`.
#[test]
fn a_cronjob_pod_template_is_under_its_job_template() {
    assert_eq!(annotations_field("CronJob"), ["spec", "jobTemplate", "spec", "template", "metadata", "annotations"]);
    assert_eq!(labels_field("CronJob"), ["spec", "jobTemplate", "spec", "template", "metadata", "labels"]);
    assert_eq!(annotations_field("Job"), ["spec", "template", "metadata", "annotations"]);
    assert_eq!(labels_field("Pod"), ["metadata", "labels"]);
}

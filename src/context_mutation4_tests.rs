//! Tests of what a splice of one file keeps of the analysis context (issue 15, fourth sample: mutants of the test
//! whether the spliced file holds inventory kinds survived).
#![allow(clippy::unwrap_used)]

use super::MeshContext;
use crate::manifest::{LoadedFile, load_file, yaml::Limits};
use crate::mesh::{Mesh, kustomize_namespaces};
use crate::posture::fixtures::{deployment, injected, service};
use crate::rules::testing::pa;
use crate::settings::MeshSettings;
use std::sync::Arc;

fn load(path: &str, text: &str) -> LoadedFile {
    let f = load_file(path, text.as_bytes(), &Limits::default());
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    f
}

fn service_names(cx: &MeshContext) -> Vec<String> {
    let mut v: Vec<String> = cx.inventory().services.iter().map(|s| s.name.clone()).collect();
    v.sort();
    v
}

/// The first file of the snapshot (object 0 on) holds the Service; the edit replaces it with a file of policies
/// only: the spliced snapshot's inventory has no Service any more (the replaced objects held one).
#[test]
fn a_splice_that_removes_the_first_files_service_drops_it_from_the_inventory() {
    let files = vec![
        load("a/web.yaml", &(service("a", "web", &[(80, "80")]) + &deployment("a", "web", &[80], &[]))),
        load("a/ns.yaml", &(injected("a") + &pa("a", "default", Some("STRICT"), false))),
    ];
    let mut cx = MeshContext::new(Mesh::build(&files, MeshSettings::default(), Default::default()));
    assert_eq!(service_names(&cx), ["web"]);
    let edited = load("a/web.yaml", &pa("a", "web", Some("PERMISSIVE"), true));
    let undo = cx.splice_file(0, files[0].objects.len(), &edited.objects, &kustomize_namespaces(&files));
    assert_eq!(service_names(&cx), Vec::<String>::new());
    assert!(cx.inventory().workloads.is_empty());
    assert!(cx.posture().rows.is_empty());
    cx.unsplice_file(undo);
    assert_eq!(service_names(&cx), ["web"]);
}

/// A splice of a file of policies keeps the inventory itself: the client tables derived from it (computed once per
/// inventory) are the ones computed before the splice, not derived afresh.
#[test]
fn a_splice_of_a_file_of_policies_keeps_the_client_tables() {
    let files = vec![
        load("a/pa.yaml", &pa("a", "default", Some("STRICT"), false)),
        load(
            "a/web.yaml",
            &(injected("a") + &service("a", "web", &[(80, "80")]) + &deployment("a", "web", &[80], &[])),
        ),
    ];
    let mut cx = MeshContext::new(Mesh::build(&files, MeshSettings::default(), Default::default()));
    let before = cx.inventory().clients();
    let edited = load("a/pa.yaml", &pa("a", "default", Some("PERMISSIVE"), false));
    let undo = cx.splice_file(0, 1, &edited.objects, &kustomize_namespaces(&files));
    assert!(Arc::ptr_eq(&before, &cx.inventory().clients()));
    assert_eq!(service_names(&cx), ["web"]);
    cx.unsplice_file(undo);
    assert!(Arc::ptr_eq(&before, &cx.inventory().clients()));
    // A splice of a file of Services derives them afresh.
    let services = load("a/pa.yaml", &service("a", "api", &[(80, "80")]));
    let undo = cx.splice_file(0, 1, &services.objects, &kustomize_namespaces(&files));
    assert!(!Arc::ptr_eq(&before, &cx.inventory().clients()));
    assert_eq!(service_names(&cx), ["api", "web"]);
    cx.unsplice_file(undo);
}

//! Tests of what a splice of one file keeps of the analysis context (issue 15: a mutant that kept the inventory
//! across a splice of a file of Services and workloads survived the lib tests).

use super::MeshContext;
use crate::manifest::{LoadedFile, load_file, yaml::Limits};
use crate::mesh::{Mesh, kustomize_namespaces};
use crate::posture::fixtures::{deployment, injected, service};
use crate::rules::testing::pa;
use crate::settings::MeshSettings;

fn load(path: &str, text: &str) -> LoadedFile {
    let f = load_file(path, text.as_bytes(), &Limits::default());
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    f
}

/// (namespace, name) of the Services the posture has rows for, sorted.
fn row_services(cx: &MeshContext) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> =
        cx.posture().rows.iter().map(|r| (r.service.namespace.clone(), r.service.name.clone())).collect();
    v.sort();
    v.dedup();
    v
}

fn service_names(cx: &MeshContext) -> Vec<String> {
    let mut v: Vec<String> = cx.inventory().services.iter().map(|s| s.name.clone()).collect();
    v.sort();
    v
}

/// Fix verification splices the edited file into the snapshot: when that file holds Services or workloads, the
/// spliced snapshot's inventory and posture are those of the edited file, as a rebuild gives them.
#[test]
fn a_splice_of_a_file_of_services_sees_the_edited_services() {
    let files = vec![
        load("ns.yaml", &(injected("a") + &pa("a", "default", Some("STRICT"), false))),
        load("a/web.yaml", &(service("a", "web", &[(80, "80")]) + &deployment("a", "web", &[80], &[]))),
    ];
    let mut cx = MeshContext::new(Mesh::build(&files, MeshSettings::default(), Default::default()));
    assert_eq!(service_names(&cx), ["web"]);
    assert_eq!(row_services(&cx), [("a".to_string(), "web".to_string())]);
    // The file edited: its Service renamed and a second one added.
    let edited = load(
        "a/web.yaml",
        &(service("a", "api", &[(80, "80")])
            + &service("a", "web2", &[(80, "80")])
            + &deployment("a", "web", &[80], &[])),
    );
    let kustomize = kustomize_namespaces(&files);
    let start = files[0].objects.len();
    let undo = cx.splice_file(start, files[1].objects.len(), &edited.objects, &kustomize);
    let rebuilt =
        MeshContext::new(Mesh::build(&[files[0].clone(), edited.clone()], MeshSettings::default(), Default::default()));
    assert_eq!(service_names(&cx), ["api", "web2"]);
    assert_eq!(service_names(&cx), service_names(&rebuilt));
    assert_eq!(row_services(&cx), row_services(&rebuilt));
    // Undone: the original snapshot's inventory again.
    cx.unsplice_file(undo);
    assert_eq!(service_names(&cx), ["web"]);
    assert_eq!(row_services(&cx), [("a".to_string(), "web".to_string())]);
}

/// A splice of a file of policies only keeps the inventory's Services and workloads (shifted past the file).
#[test]
fn a_splice_of_a_file_of_policies_keeps_the_services() {
    let files = vec![
        load("a/pa.yaml", &pa("a", "default", Some("STRICT"), false)),
        load(
            "a/web.yaml",
            &(injected("a") + &service("a", "web", &[(80, "80")]) + &deployment("a", "web", &[80], &[])),
        ),
    ];
    let mut cx = MeshContext::new(Mesh::build(&files, MeshSettings::default(), Default::default()));
    assert_eq!(service_names(&cx), ["web"]);
    let edited =
        load("a/pa.yaml", &(pa("a", "default", Some("PERMISSIVE"), false) + &pa("a", "other", Some("STRICT"), true)));
    let undo = cx.splice_file(0, 1, &edited.objects, &kustomize_namespaces(&files));
    let rebuilt =
        MeshContext::new(Mesh::build(&[edited.clone(), files[1].clone()], MeshSettings::default(), Default::default()));
    assert_eq!(service_names(&cx), ["web"]);
    assert_eq!(row_services(&cx), row_services(&rebuilt));
    let svc = &cx.inventory().services[0];
    assert_eq!(cx.mesh().objects[svc.obj].kind, "Service");
    cx.unsplice_file(undo);
    assert_eq!(row_services(&cx), [("a".to_string(), "web".to_string())]);
}

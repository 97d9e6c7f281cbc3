//! Tests of the analysis context's posture cache under verification scopes (issue 15: a mutant that kept a posture
//! across a change of scope survived).

use super::MeshContext;
use crate::manifest::{load_file, yaml::Limits};
use crate::mesh::Mesh;
use crate::posture::PostureScope;
use crate::posture::fixtures::{deployment, injected, service};
use crate::settings::MeshSettings;
use std::sync::Arc;

/// Two injected namespaces, each with one Service and its Deployment.
fn two_namespaces() -> MeshContext {
    let mut y = String::new();
    for ns in ["a", "b"] {
        y += &injected(ns);
        y += &service(ns, "web", &[(80, "80")]);
        y += &deployment(ns, "web", &[80], &[]);
    }
    let file = load_file("t.yaml", y.as_bytes(), &Limits::default());
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    MeshContext::new(Mesh::build(&[file], MeshSettings::default(), Default::default()))
}

/// The namespaces of the Services the posture has rows for.
fn service_namespaces(cx: &MeshContext) -> Vec<String> {
    let mut v: Vec<String> = cx.posture().rows.iter().map(|r| r.service.namespace.clone()).collect();
    v.sort();
    v.dedup();
    v
}

fn scope_of(ns: &str) -> Arc<PostureScope> {
    Arc::new(PostureScope { namespaces: [ns.to_string()].into_iter().collect(), ..PostureScope::default() })
}

#[test]
fn a_new_scope_drops_the_posture_and_the_same_scope_keeps_it() {
    let mut cx = two_namespaces();
    assert_eq!(service_namespaces(&cx), ["a", "b"]);
    // Scoped to `a`: the posture is computed again, with `a`'s rows only.
    let a = scope_of("a");
    cx.set_scope(Some(a.clone()));
    assert_eq!(service_namespaces(&cx), ["a"]);
    let before = cx.posture();
    // The same scope again: the computed posture is kept (the same value, not a new computation).
    cx.set_scope(Some(a.clone()));
    assert!(Arc::ptr_eq(&before, &cx.posture()));
    // Another scope (even with equal contents) and no scope: computed afresh.
    cx.set_scope(Some(scope_of("b")));
    assert_eq!(service_namespaces(&cx), ["b"]);
    cx.set_scope(None);
    assert_eq!(service_namespaces(&cx), ["a", "b"]);
    let full = cx.posture();
    cx.set_scope(None);
    assert!(Arc::ptr_eq(&full, &cx.posture()));
}

/// `scope` names the verification scope set (analyses that compare postures read only the scope's part then).
#[test]
fn the_scope_set_is_the_scope_read() {
    let mut cx = two_namespaces();
    assert!(cx.scope().is_none());
    cx.set_scope(Some(scope_of("a")));
    assert_eq!(cx.scope().map(|s| s.namespaces.iter().cloned().collect::<Vec<_>>()), Some(vec!["a".to_string()]));
    cx.set_scope(None);
    assert!(cx.scope().is_none());
}

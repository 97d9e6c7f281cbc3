//! Tests of `Mesh::splice_file` and `Mesh::overlay` (issue 15, second sample: `p.obj < start` -> `<=` and the
//! `security.istio.io/` guard -> `true` in `splice_file`, `index.lens == lens_before` -> `!=` in `overlay` survived
//! the lib tests).

use super::*;
use crate::manifest::{load_file, yaml::Limits};

fn load(path: &str, text: &str) -> LoadedFile {
    let f = load_file(path, text.as_bytes(), &Limits::default());
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    f
}

fn pa_text(api_version: &str, name: &str, namespace: &str, mode: &str) -> String {
    format!(
        "---\napiVersion: {api_version}\nkind: PeerAuthentication\nmetadata:\n  name: {name}\n  namespace: \
         {namespace}\nspec:\n  mtls:\n    mode: {mode}\n"
    )
}

fn pa(name: &str, namespace: &str, mode: &str) -> String {
    pa_text("security.istio.io/v1", name, namespace, mode)
}

/// Every typed entry (object id, namespace, name, mode or host) and every object with its namespace.
fn shape(m: &Mesh) -> String {
    let objects: Vec<String> =
        m.objects.iter().zip(&m.namespaces).map(|(o, ns)| format!("{}:{ns}/{}", o.kind, o.name)).collect();
    let pas: Vec<String> =
        m.peer_authentications.iter().map(|p| format!("{}:{}/{}:{:?}", p.obj, p.namespace, p.name, p.mode)).collect();
    let drs: Vec<String> =
        m.destination_rules.iter().map(|d| format!("{}:{}/{}:{}", d.obj, d.namespace, d.name, d.host)).collect();
    format!("{objects:?}\n{pas:?}\n{drs:?}")
}

/// A file whose first object is a PeerAuthentication (its typed entry at the file's first object id) is spliced
/// as a rebuild lays it out: the old entry leaves, no stale copy stays before the new ones.
#[test]
fn splicing_a_file_that_starts_with_a_peer_authentication_replaces_it() {
    let files = vec![
        load("a/one.yaml", &pa("one", "a", "STRICT")),
        load("a/two.yaml", &(pa("two", "b", "STRICT") + &pa("two-b", "b", "PERMISSIVE"))),
        load("a/three.yaml", &pa("three", "c", "DISABLE")),
    ];
    let settings = MeshSettings::default();
    let original = Mesh::build(&files, settings.clone(), Default::default());
    let new = load("a/two.yaml", &pa("two", "b", "DISABLE"));
    let mut copy = files.clone();
    copy[1] = new.clone();
    let rebuilt = Mesh::build(&copy, settings, Default::default());
    let mut spliced = original.clone();
    let undo = spliced.splice_file(1, 2, &new.objects, &kustomize_namespaces(&files));
    assert_eq!(shape(&spliced), shape(&rebuilt));
    assert_eq!(
        shape(&spliced),
        "[\"PeerAuthentication:a/one\", \"PeerAuthentication:b/two\", \"PeerAuthentication:c/three\"]\n\
         [\"0:a/one:Strict\", \"1:b/two:Disable\", \"2:c/three:Disable\"]\n[]"
    );
    assert_eq!(spliced.namespace_mode("b"), PaMode::Disable);
    spliced.unsplice_file(undo);
    assert_eq!(shape(&spliced), shape(&original));
}

/// An object of kind PeerAuthentication of another API group is not Istio's: a spliced file types it as a rebuild
/// does, not at all.
#[test]
fn splicing_a_peer_authentication_of_another_api_group_leaves_it_untyped() {
    let files = vec![load("a/one.yaml", &pa("one", "a", "STRICT")), load("a/two.yaml", &pa("two", "b", "STRICT"))];
    let settings = MeshSettings::default();
    let original = Mesh::build(&files, settings.clone(), Default::default());
    let new = load("a/two.yaml", &(pa_text("example.com/v1", "fake", "b", "DISABLE") + &pa("two", "b", "STRICT")));
    let mut copy = files.clone();
    copy[1] = new.clone();
    let rebuilt = Mesh::build(&copy, settings, Default::default());
    let mut spliced = original.clone();
    let undo = spliced.splice_file(1, 1, &new.objects, &kustomize_namespaces(&files));
    assert_eq!(shape(&spliced), shape(&rebuilt));
    let pas: Vec<&str> = spliced.peer_authentications.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(pas, ["one", "two"]);
    assert_eq!(spliced.namespace_mode("b"), PaMode::Strict);
    spliced.unsplice_file(undo);
    assert_eq!(shape(&spliced), shape(&original));
}

/// A mesh whose typed views were edited after it was built (its namespace index stale, so the scope queries
/// scan): an overlay cannot move the stale index's positions and builds a fresh one, so the scope queries give the
/// overlaid mesh's answers, and undoing the overlay brings the scanned answers back.
#[test]
fn an_overlay_of_a_mesh_with_a_stale_index_indexes_it_afresh() {
    let files = vec![load("a/one.yaml", &pa("one", "a", "STRICT")), load("b/two.yaml", &pa("two", "b", "STRICT"))];
    let mut m = Mesh::build(&files, MeshSettings::default(), Default::default());
    // An entry added by hand: the index (built for two entries) is no longer used.
    let mut late = m.peer_authentications[0].clone();
    late.name = "late".into();
    m.peer_authentications.push(late);
    let names = |m: &Mesh, ns: &str| m.namespace_wide_pas(ns).iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&m, "a"), ["one", "late"]);
    let edited = load("b/two.yaml", &pa("two", "b", "DISABLE"));
    let overlay = m
        .overlay(1..2, vec![Placed::New(edited.objects[0].clone(), "b".to_string())])
        .unwrap_or_else(|| panic!("a PeerAuthentication replaced by another: overlaid"));
    assert_eq!(names(&m, "a"), ["one", "late"]);
    assert_eq!(names(&m, "b"), ["two"]);
    assert_eq!(m.namespace_mode("b"), PaMode::Disable);
    m.remove_overlay(overlay);
    assert_eq!(names(&m, "a"), ["one", "late"]);
    assert_eq!(m.namespace_mode("b"), PaMode::Strict);
}

/// An overlay that replaces a rule in place keeps the namespace index only while the replacement is filed under
/// the same namespace (and, for a PeerAuthentication, stays namespace-wide or not): one that gains a selector, or
/// lands in another namespace, moves the index, and undoing the overlay brings the old answers back.
#[test]
fn an_overlay_in_place_keeps_the_index_only_when_nothing_it_files_changed() {
    let dr = |ns: &str| {
        format!(
            "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: d\n  namespace: {ns}\nspec:\n  host: api\n  trafficPolicy:\n    tls:\n      mode: DISABLE\n"
        )
    };
    let files =
        vec![load("a/one.yaml", &pa("one", "a", "STRICT")), load("b/two.yaml", &(pa("two", "b", "STRICT") + &dr("b")))];
    let original = Mesh::build(&files, MeshSettings::default(), Default::default());
    let names = |m: &Mesh, ns: &str| m.namespace_wide_pas(ns).iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    let selector = pa("two", "b", "DISABLE").replace("spec:\n", "spec:\n  selector:\n    matchLabels: {app: x}\n");
    let cases: [(&str, String); 6] = [
        ("same namespace, mode only", pa("two", "b", "DISABLE") + &dr("b")),
        ("gains a selector", selector + &dr("b")),
        ("the PeerAuthentication in another namespace", pa("two", "c", "STRICT") + &dr("b")),
        ("the DestinationRule in another namespace", pa("two", "b", "STRICT") + &dr("c")),
        ("both in another namespace", pa("two", "c", "STRICT") + &dr("c")),
        ("the rule moves", dr("b") + &pa("two", "b", "STRICT")),
    ];
    for (what, text) in cases {
        let mut m = original.clone();
        let edited = load("b/two.yaml", &text);
        let placed =
            edited.objects.iter().map(|o| Placed::New(o.clone(), o.namespace.clone().unwrap_or_default())).collect();
        let overlay = m.overlay(1..3, placed).unwrap_or_else(|| panic!("{what}: overlaid"));
        let rebuilt = Mesh::build(&[files[0].clone(), edited.clone()], MeshSettings::default(), Default::default());
        for n in ["a", "b", "c"] {
            assert_eq!(names(&m, n), names(&rebuilt, n), "{what}: namespace-wide PAs of {n}");
            assert_eq!(m.destination_rules_in(n).len(), rebuilt.destination_rules_in(n).len(), "{what}: DRs of {n}");
        }
        m.remove_overlay(overlay);
        assert_eq!(shape(&m), shape(&original), "{what}");
        assert_eq!(names(&m, "b"), ["two"], "{what}");
        assert_eq!(m.destination_rules_in("b").len(), 1, "{what}");
    }
}

//! Tests of `find_origin`, `smp_is_for` and `inline`, written for issue 15's second mutation sample of
//! `src/target/provenance.rs`: which source document a rendered object came from, which strategic-merge patch is
//! for it, and the lines of an inline JSON 6902 patch.

use super::*;

fn loaded(text: &str) -> LoadedFile {
    load_file("src.yaml", text.as_bytes(), &Limits::default())
}

fn object(kind: &str, name: &str) -> Arc<Object> {
    loaded(&format!("apiVersion: v1\nkind: {kind}\nmetadata:\n  name: {name}\n")).objects[0].clone()
}

#[test]
fn the_origin_is_the_same_kind_with_the_longest_name_the_rendered_one_contains() {
    let file = loaded(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: we\n---\napiVersion: v1\nkind: PeerAuthentication\nmetadata:\n  name: prod-web\n",
    );
    // `namePrefix: prod-`: the rendered name contains the source name.
    let o = find_origin(&file, &object("Service", "prod-web")).expect("an origin");
    assert_eq!((o.kind.as_str(), o.name.as_str()), ("Service", "web"));
    assert!(find_origin(&file, &object("Service", "api")).is_none());
}

#[test]
fn a_strategic_merge_patch_is_for_an_object_of_its_kind_and_names() {
    let rendered = object("Service", "prod-web");
    assert!(smp_is_for(&object("Service", "web"), &rendered, "web"));
    assert!(smp_is_for(&object("Service", "prod-web"), &rendered, "web"));
    // Another kind, even with the same name, is not.
    assert!(!smp_is_for(&object("PeerAuthentication", "web"), &rendered, "web"));
    assert!(!smp_is_for(&object("PeerAuthentication", "prod-web"), &rendered, "web"));
    assert!(!smp_is_for(&object("Service", "api"), &rendered, "web"));
}

#[test]
fn an_inline_json_patch_starts_on_the_line_after_its_offset() {
    let path: Arc<str> = Arc::from("kustomization.yaml");
    let mut out = Vec::new();
    let text = "- op: replace\n  path: /spec/mtls/mode\n  value: DISABLE\n";
    inline(&path, text, 10, 13, false, &object("PeerAuthentication", "default"), "default", &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].path.as_ref(), out[0].line, out[0].end_line), ("kustomization.yaml", 11, 13));
}

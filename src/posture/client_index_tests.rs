//! The DestinationRule index rebuilt by namespace ([`DrIndex::rebuild`]) equals an index of the whole edited mesh,
//! and [`DrIndex::restore`] gives back the index before the edit, also where namespaces share hosts and name each
//! other in `exportTo` (the counts and sets the index keeps across namespaces).

use super::*;
use crate::rules::testing::mesh;

fn rule(ns: &str, name: &str, host: &str, export: &[&str], mode: &str) -> String {
    let export = if export.is_empty() {
        String::new()
    } else {
        format!("  exportTo: [{}]\n", export.iter().map(|e| format!("\"{e}\"")).collect::<Vec<_>>().join(", "))
    };
    format!(
        "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  host: \"{host}\"\n{export}  trafficPolicy:\n    tls:\n      mode: {mode}\n"
    )
}

/// Namespaces `a` and `b` (unchanged, first in the file so their object ids stay) and the root namespace.
fn fixed() -> String {
    rule("a", "a-reviews", "reviews.shop.svc.cluster.local", &["shop", "."], "ISTIO_MUTUAL")
        + &rule("a", "a-local", "*.local", &[], "DISABLE")
        + &rule("b", "b-reviews", "reviews.shop.svc.cluster.local", &["shop"], "SIMPLE")
        + &rule("istio-system", "mesh", "*.local", &["."], "ISTIO_MUTUAL")
}

/// Edits of namespace `c` (last in the file): hosts shared with `a` and `b`, `exportTo` naming what they name.
fn edits() -> Vec<String> {
    vec![
        String::new(),
        rule("c", "c-reviews", "reviews.shop.svc.cluster.local", &["shop"], "DISABLE"),
        rule("c", "c-reviews", "reviews.shop.svc.cluster.local", &["shop", "other"], "ISTIO_MUTUAL")
            + &rule("c", "c-local", "*.local", &["."], "DISABLE"),
        rule("c", "c-wild", "*.shop.svc.cluster.local", &[], "SIMPLE")
            + &rule("c", "c-short", "ratings", &["c", "shop"], "ISTIO_MUTUAL"),
    ]
}

#[test]
fn a_rebuilt_namespace_gives_the_index_of_the_edited_mesh() {
    let mut checked = 0;
    for before in edits() {
        for after in edits() {
            let (m1, m2) = (mesh(&(fixed() + &before)), mesh(&(fixed() + &after)));
            let original = DrIndex::build(&m1);
            let mut index = original.clone();
            let undo = index.rebuild(&m2, ["c"]);
            assert_eq!(index, DrIndex::build(&m2), "c: {before:?} -> {after:?}");
            index.restore(undo);
            assert_eq!(index, original, "restored: {before:?} -> {after:?}");
            checked += 1;
        }
    }
    assert_eq!(checked, 16);
}

#[test]
fn rebuilding_every_namespace_of_an_unchanged_mesh_changes_nothing() {
    let m = mesh(&(fixed() + &edits()[3]));
    let original = DrIndex::build(&m);
    let mut index = original.clone();
    let undo = index.rebuild(&m, ["istio-system", "a", "c", "b", "a", "nowhere"]);
    assert_eq!(index, original);
    index.restore(undo);
    assert_eq!(index, original);
}

#[test]
fn removing_a_namespace_drops_only_what_it_alone_held() {
    // `c` names `other` in an exportTo (no one else does) and shares `shop` with `a` and `b`; it holds `*.local`
    // locally, like `a`.
    let with = mesh(&(fixed() + &edits()[2]));
    let without = mesh(&fixed());
    let mut index = DrIndex::build(&with);
    assert!(index.special_for("x.other.svc.cluster.local").contains("other"));
    assert!(index.special_for("x.y.svc.cluster.local").contains("c"));
    index.rebuild(&without, ["c"]);
    let special = index.special_for("x.y.svc.cluster.local");
    assert!(!special.contains("other") && !special.contains("c"), "{special:?}");
    assert!(special.contains("shop") && special.contains("a"), "{special:?}");
    assert_eq!(index, DrIndex::build(&without));
}

#[test]
fn a_private_rule_of_the_root_namespace_answers_its_own_clients_only() {
    let y = rule("istio-system", "root-private", "reviews.shop.svc.cluster.local", &["."], "DISABLE")
        + &rule("a", "a-private", "reviews.shop.svc.cluster.local", &["."], "SIMPLE");
    let m = mesh(&y);
    let index = DrIndex::build(&m);
    let host = "reviews.shop.svc.cluster.local";
    let names = |client: Option<&str>| -> Option<(LookupStep, Vec<String>)> {
        index.lookup(client, "shop", host).map(|(step, entries)| {
            (step, entries.iter().flat_map(|e| e.drs.iter().map(|d| m.objects[*d].name.clone())).collect())
        })
    };
    assert_eq!(names(Some("istio-system")), Some((LookupStep::ClientNamespace, vec!["root-private".to_string()])));
    assert_eq!(names(Some("a")), Some((LookupStep::ClientNamespace, vec!["a-private".to_string()])));
    // Private rules are nobody else's: another namespace's clients find none.
    assert_eq!(names(Some("b")), None);
    assert_eq!(names(None), None);
}

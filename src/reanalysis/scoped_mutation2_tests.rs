//! Tests of the scoped re-analysis (issue 15, second sample: the `PeerAuthentication` arm of `Scoped::keys_with`
//! deleted and `start + j` -> `start * j` in `placed` survived the lib tests: both only change how much a
//! re-analysis recomputes, which every lib test compared with a rebuild).

use super::*;
use crate::manifest::{load_file, yaml::Limits};
use crate::posture::fixtures::{deployment, injected, service};
use crate::rules::testing::pa;

fn load(path: &str, text: &str) -> LoadedFile {
    let f = load_file(path, text.as_bytes(), &Limits::default());
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    f
}

/// The non-posture findings of a rebuild of `files`, sorted.
fn rebuilt(files: &[LoadedFile], opts: &AnalysisOptions) -> Vec<FindingKey> {
    let posture: Vec<&str> = RULES.iter().filter(|r| r.reads == Reads::Posture).map(|r| r.code).collect();
    let mut keys = crate::reanalysis::finding_keys(files, opts, Default::default());
    keys.retain(|k| !posture.contains(&k.0));
    keys.sort();
    keys
}

/// An edit of a PeerAuthentication of a namespace (not the root one) is one the scoped run covers: it gives the
/// rebuild's findings of every rule but the posture rules.
#[test]
fn an_edit_of_a_namespace_peer_authentication_is_scoped() {
    let app = injected("shop") + &service("shop", "cart", &[(80, "8080")]) + &deployment("shop", "cart", &[8080], &[]);
    let files = vec![load("app.yaml", &app), load("pa.yaml", &pa("shop", "default", Some("STRICT"), false))];
    let opts = AnalysisOptions::default();
    let mesh =
        MeshContext::new(Mesh::build(&files, crate::reanalysis::resolve_settings(&files, &opts), Default::default()));
    let scoped = Scoped::new(&mesh, &opts);
    let start = files[0].objects.len();
    for mode in ["DISABLE", "PERMISSIVE", "BOGUS"] {
        let new = load("pa.yaml", &pa("shop", "default", Some(mode), false));
        let got = scoped.keys_with(start, &files[1], &new, &BTreeMap::new(), &opts);
        let Some(mut got) = got else { panic!("a namespace PeerAuthentication's edit is scoped ({mode})") };
        got.sort();
        let mut copy = files.clone();
        copy[1] = new;
        assert_eq!(got, rebuilt(&copy, &opts), "{mode}");
    }
}

/// The objects of an edited file for an overlay: an unchanged one by its id in the mesh (the file laid out from
/// `start` on), a changed one as new with its effective namespace.
#[test]
fn placed_objects_keep_their_mesh_ids() {
    let one = pa("a", "one", Some("STRICT"), false);
    let old = load("p.yaml", &(one.clone() + &pa("a", "two", Some("STRICT"), false)));
    let new = load("p.yaml", &(one + &pa("a", "two", Some("DISABLE"), false)));
    let changes = changed_objects(&old, &new);
    assert_eq!(changes.same, [Some(0), None]);
    let edited = placed(&changes, 2, &new, &BTreeMap::new());
    let shown: Vec<String> = edited
        .iter()
        .map(|p| match p {
            Placed::Kept(id) => format!("kept {id}"),
            Placed::New(o, ns) => format!("new {ns}/{}", o.name),
        })
        .collect();
    assert_eq!(shown, ["kept 2", "new a/two"]);
    // The second of two unchanged objects: its own id.
    let changes = changed_objects(&old, &old);
    let ids: Vec<String> = placed(&changes, 3, &old, &BTreeMap::new())
        .iter()
        .map(|p| match p {
            Placed::Kept(id) => id.to_string(),
            Placed::New(..) => "new".into(),
        })
        .collect();
    assert_eq!(ids, ["3", "4"]);
}

/// The posture rules a scoped re-analysis recomputes by their rows are exactly the registry's `Reads::Posture`
/// rules: a new posture rule missing from `POSTURE_RULES` would lose its findings in fix verification.
#[test]
fn the_posture_rules_by_row_are_the_registrys_posture_rules() {
    let mut registry: Vec<&str> =
        crate::rules::RULES.iter().filter(|r| r.reads == crate::rules::Reads::Posture).map(|r| r.code).collect();
    let mut by_row: Vec<&str> = super::POSTURE_RULES.iter().map(|(r, _)| r.code).collect();
    registry.sort();
    by_row.sort();
    assert_eq!(by_row, registry);
}

//! Tests of `review_with` and `AnchorIndex::anchors`, written for the mutants the lib tests left alive in
//! `src/review/build.rs`: posture rows labelled with their mesh only when there are several, which render errors
//! of a mesh a change introduces, and which changed lines anchor an introduced finding (its own first; otherwise
//! the related objects and every changed PeerAuthentication or DestinationRule of its namespace).

use super::*;
use crate::finding::{ErrorKind, LoadError};

pub(super) fn file(path: &str, text: &str) -> TreeFile {
    TreeFile { path: path.into(), id: crate::finding::stable_hash(text), bytes: text.as_bytes().into() }
}

pub(super) fn input(base: Vec<TreeFile>, head: Vec<TreeFile>) -> ReviewInput {
    ReviewInput { base, head, base_label: "base".into(), head_label: "head".into(), ..ReviewInput::default() }
}

const PA: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: shop\n  labels:\n    team: TEAM\nspec:\n  mtls:\n    mode: MODE\n";

const DR: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: shop-mtls\n  namespace: shop\nspec:\n  host: \"*.shop.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: MODE\n";

/// A DestinationRule for one host of `shop` (not namespace-wide), with a label on line 7.
const CART_DR: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: cart\n  namespace: shop\n  labels:\n    team: TEAM\nspec:\n  host: cart.shop.svc.cluster.local\n  trafficPolicy:\n    loadBalancer:\n      simple: ROUND_ROBIN\n";

pub(super) fn pa(mode: &str, team: &str) -> String {
    PA.replace("MODE", mode).replace("TEAM", team)
}

pub(super) fn dr(mode: &str) -> String {
    DR.replace("MODE", mode)
}

/// Each side's parsed files as the meshes `names` (each holding every file), with the render errors `errors` of
/// the side.
struct Meshes {
    names: Vec<&'static str>,
    base_errors: Vec<LoadError>,
    head_errors: Vec<LoadError>,
}

impl Meshes {
    fn named(names: &[&'static str]) -> Self {
        Meshes { names: names.to_vec(), base_errors: Vec::new(), head_errors: Vec::new() }
    }
}

impl Assemble for Meshes {
    fn meshes(&self, side: Side, parsed: &[LoadedFile]) -> Vec<MeshFiles> {
        let errors = if side == Side::Base { &self.base_errors } else { &self.head_errors };
        self.names
            .iter()
            .map(|name| MeshFiles {
                name: name.to_string(),
                files: parsed.to_vec(),
                errors: errors.clone(),
                targets: vec!["plain".into()],
                ..MeshFiles::default()
            })
            .collect()
    }
}

#[test]
fn posture_rows_name_their_mesh_only_when_there_are_several() {
    let change = input(vec![file("p.yaml", &pa("STRICT", "a"))], vec![file("p.yaml", &pa("DISABLE", "a"))]);
    let scopes = |r: &Review| -> (Vec<String>, Vec<String>, Vec<String>) {
        (
            r.posture.before.iter().map(|p| p.scope.clone()).collect(),
            r.posture.after.iter().map(|p| p.scope.clone()).collect(),
            r.posture.changed.clone(),
        )
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let two = review_with(&change, &AnalysisOptions::default(), &Meshes::named(&["east", "west"]));
    assert_eq!(
        scopes(&two),
        (
            s(&["east: mesh", "east: shop", "west: mesh", "west: shop"]),
            s(&["east: mesh", "east: shop", "west: mesh", "west: shop"]),
            s(&["east: shop", "west: shop"])
        )
    );
    let one = review_with(&change, &AnalysisOptions::default(), &Meshes::named(&["east"]));
    assert_eq!(scopes(&one), (s(&["mesh", "shop"]), s(&["mesh", "shop"]), s(&["shop"])));
}

fn render_error(path: &str, message: &str, kind: ErrorKind) -> LoadError {
    LoadError { path: path.into(), line: 0, message: message.into(), kind }
}

#[test]
fn a_mesh_error_is_introduced_only_when_fatal_and_not_on_the_base_side() {
    let old = render_error("overlays/old", "renderer failed", ErrorKind::Render);
    let assemble = Meshes {
        names: vec!["default"],
        base_errors: vec![old.clone()],
        head_errors: vec![
            old,
            render_error("overlays/new", "renderer failed", ErrorKind::Render),
            render_error("overlays/new", "two documents are PeerAuthentication shop/default", ErrorKind::Conflict),
        ],
    };
    let side = vec![file("p.yaml", &pa("STRICT", "a"))];
    let r = review_with(&input(side.clone(), side), &AnalysisOptions::default(), &assemble);
    let got: Vec<(&str, ErrorKind, bool)> =
        r.errors.iter().map(|e| (e.error.path.as_str(), e.error.kind, e.introduced)).collect();
    assert_eq!(
        got,
        vec![
            ("overlays/new", ErrorKind::Render, true),
            ("overlays/new", ErrorKind::Conflict, false),
            ("overlays/old", ErrorKind::Render, false),
        ]
    );
}

fn head(path: &str, line: usize) -> Anchor {
    Anchor { side: Side::Head, path: path.into(), line, end_line: line }
}

/// The introduced findings of `code` in a review of `base` to `head`, with their anchors.
fn anchored(base: &[(&str, &str)], head: &[(&str, &str)], code: &str) -> Vec<(Status, Option<Vec<Anchor>>)> {
    let tree = |files: &[(&str, &str)]| files.iter().map(|(p, t)| file(p, t)).collect();
    let r = review(&input(tree(base), tree(head)), &AnalysisOptions::default());
    r.findings.iter().filter(|f| f.code == code).map(|f| (f.status, f.anchors.clone())).collect()
}

/// The subject's own changed line anchors it alone, though a PeerAuthentication of its namespace changed too.
#[test]
fn a_changed_subject_is_anchored_on_its_own_lines_only() {
    let got = anchored(
        &[("d.yaml", &dr("DISABLE")), ("p.yaml", &pa("DISABLE", "a"))],
        &[("d.yaml", &dr("ISTIO_MUTUAL")), ("p.yaml", &pa("DISABLE", "b"))],
        "TIS0206",
    );
    assert_eq!(got, vec![(Status::Introduced, Some(vec![head("d.yaml", 10)]))]);
}

/// An unchanged subject is anchored on its related object's change and on the change of every other
/// PeerAuthentication or DestinationRule of its namespace or of the root namespace, mesh-wide or not.
#[test]
fn an_unchanged_subject_is_anchored_on_the_changed_istio_objects_of_its_namespace_and_the_root() {
    let cart = |team: &str| CART_DR.replace("TEAM", team);
    let root = |team: &str| cart(team).replace("namespace: shop", "namespace: istio-system");
    let got = anchored(
        &[
            ("d.yaml", &dr("ISTIO_MUTUAL")),
            ("p.yaml", &pa("STRICT", "a")),
            ("c.yaml", &cart("a")),
            ("r.yaml", &root("a")),
        ],
        &[
            ("d.yaml", &dr("ISTIO_MUTUAL")),
            ("p.yaml", &pa("DISABLE", "a")),
            ("c.yaml", &cart("b")),
            ("r.yaml", &root("b")),
        ],
        "TIS0206",
    );
    assert_eq!(got, vec![(Status::Introduced, Some(vec![head("c.yaml", 7), head("p.yaml", 10), head("r.yaml", 7)]))]);
    // The same changes in another namespace anchor nothing: the subject is anchored on its related object alone.
    let other = |team: &str| cart(team).replace("namespace: shop", "namespace: web");
    let got = anchored(
        &[("d.yaml", &dr("ISTIO_MUTUAL")), ("p.yaml", &pa("STRICT", "a")), ("o.yaml", &other("a"))],
        &[("d.yaml", &dr("ISTIO_MUTUAL")), ("p.yaml", &pa("DISABLE", "a")), ("o.yaml", &other("b"))],
        "TIS0206",
    );
    assert_eq!(got, vec![(Status::Introduced, Some(vec![head("p.yaml", 10)]))]);
}

//! Tests of `review_with`, `targets_of`, `merge_reviews` and `review_one`, written for issue 15's second mutation
//! sample of `src/review/build.rs`: which files count as changed or deleted, which parse errors a change
//! introduces, which targets a finding lists, how the meshes' findings merge, and what an unchanged mesh and a
//! mesh with files of its own (rendered output) give.

use super::*;
use crate::finding::{ErrorKind, Location, Severity};
use crate::manifest::load_file;
use crate::settings::MeshLayer;

fn file(path: &str, text: &str) -> TreeFile {
    TreeFile { path: path.into(), id: crate::finding::stable_hash(text), bytes: text.as_bytes().into() }
}

fn input(base: Vec<TreeFile>, head: Vec<TreeFile>) -> ReviewInput {
    ReviewInput { base, head, base_label: "base".into(), head_label: "head".into(), ..ReviewInput::default() }
}

const PA: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: shop\nspec:\n  mtls:\n    mode: MODE\n";

const DR: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: shop-mtls\n  namespace: shop\nspec:\n  host: \"*.shop.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: MODE\n";

fn pa(mode: &str) -> String {
    PA.replace("MODE", mode)
}

/// (base path, head path) of every change, in the review's order.
fn paths(r: &Review) -> Vec<(Option<&str>, Option<&str>)> {
    r.changes.iter().map(|c| (c.base_path.as_deref(), c.head_path.as_deref())).collect()
}

#[test]
fn a_file_only_on_the_base_side_is_a_deletion_and_a_kept_file_is_not() {
    let base = vec![
        file("keep.yaml", &pa("STRICT")),
        file("edit.yaml", "a: 1\n"),
        file("gone.yaml", "b: 1\nc: 2\n"),
        file("old/moved.yaml", "m: 1\n"),
    ];
    let head = vec![file("keep.yaml", &pa("STRICT")), file("edit.yaml", "a: 2\n"), file("new/moved.yaml", "m: 1\n")];
    let mut i = input(base, head);
    i.renames = vec![("old/moved.yaml".into(), "new/moved.yaml".into())];
    let r = review(&i, &AnalysisOptions::default());
    // Sorted by (head path, base path): the deletion (no head path) first; the rename's content is the same, so it
    // is no change; the unchanged file none either.
    assert_eq!(paths(&r), vec![(Some("gone.yaml"), None), (Some("edit.yaml"), Some("edit.yaml"))]);
    assert_eq!((r.changes[0].deleted.clone(), r.changes[0].added.clone()), (vec![(1, 2)], vec![]));
    assert_eq!((r.changes[1].deleted.clone(), r.changes[1].added.clone()), (vec![(1, 1)], vec![(1, 1)]));
}

/// A PeerAuthentication file whose YAML is broken (an unclosed flow sequence).
const BROKEN: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: [\n";

#[test]
fn a_read_error_is_introduced_only_when_fatal_and_in_a_changed_file() {
    let errors = |r: &Review| -> Vec<(String, ErrorKind, bool)> {
        r.errors.iter().map(|e| (e.error.path.clone(), e.error.kind, e.introduced)).collect()
    };
    // The same broken file on both sides: its parse error is not the change's.
    let r = review(&input(vec![file("b.yaml", BROKEN)], vec![file("b.yaml", BROKEN)]), &AnalysisOptions::default());
    assert_eq!(errors(&r), vec![("b.yaml".to_string(), ErrorKind::Parse, false)]);
    // Broken by the change: introduced.
    let r =
        review(&input(vec![file("b.yaml", &pa("STRICT"))], vec![file("b.yaml", BROKEN)]), &AnalysisOptions::default());
    assert_eq!(errors(&r), vec![("b.yaml".to_string(), ErrorKind::Parse, true)]);
    // A repeated key in a changed file is a warning: never introduced.
    let dup = pa("STRICT").replace("  name: default\n", "  name: default\n  name: default\n");
    let r =
        review(&input(vec![file("b.yaml", &pa("STRICT"))], vec![file("b.yaml", &dup)]), &AnalysisOptions::default());
    assert_eq!(errors(&r), vec![("b.yaml".to_string(), ErrorKind::DuplicateKey, false)]);
}

fn mesh_of(path: &str, text: &str, target: &str) -> MeshFiles {
    let mut f = load_file(path, text.as_bytes(), &Limits::default());
    f.target = Some(target.into());
    MeshFiles { name: "m".into(), files: vec![f], ..MeshFiles::default() }
}

#[test]
fn a_finding_lists_the_head_targets_of_its_object_else_the_base_ones() {
    let object = ObjectRef { kind: "PeerAuthentication".into(), namespace: "shop".into(), name: "default".into() };
    let head = mesh_of("h.yaml", &pa("STRICT"), "head-target");
    let base = mesh_of("b.yaml", &pa("DISABLE"), "base-target");
    let none = MeshFiles::default();
    // On both sides: the head side's targets only.
    assert_eq!(targets_of(&object, &head, &base), vec!["head-target".to_string()]);
    // Only on the base side (a deleted object): the base side's.
    assert_eq!(targets_of(&object, &none, &base), vec!["base-target".to_string()]);
    assert_eq!(targets_of(&object, &none, &none), Vec::<String>::new());
    // A file without a target is the plain target.
    let mut plain = head.clone();
    plain.files[0].target = None;
    assert_eq!(targets_of(&object, &plain, &base), vec!["plain".to_string()]);
    // Several files hold it: each target once, in file order; another object's files are not counted.
    let mut several = mesh_of("a.yaml", &pa("STRICT"), "t2");
    let other = mesh_of("o.yaml", &pa("STRICT").replace("name: default", "name: other"), "t0");
    several.files.extend(other.files);
    several.files.extend(mesh_of("b.yaml", &pa("STRICT"), "t1").files);
    several.files.extend(mesh_of("c.yaml", &pa("STRICT"), "t2").files);
    assert_eq!(targets_of(&object, &several, &base), vec!["t2".to_string(), "t1".to_string()]);
}

fn finding(line: usize, mesh: &str, target: &str) -> Finding {
    Finding {
        code: "TIS0206",
        severity: Severity::Error,
        status: Status::Introduced,
        message: "m".into(),
        object: ObjectRef { kind: "DestinationRule".into(), namespace: "shop".into(), name: "d".into() },
        port: None,
        location: Location { side: Side::Head, path: "d.yaml".into(), line, end_line: line },
        related: Vec::new(),
        fix: None,
        help: None,
        anchors: None,
        meshes: vec![mesh.into()],
        targets: vec![target.into()],
        group: None,
    }
}

fn one(f: Finding) -> Review {
    Review { findings: vec![f], ..Review::default() }
}

#[test]
fn meshes_merge_a_finding_only_from_the_same_line() {
    let reviews = vec![
        ("a".to_string(), one(finding(10, "a", "ta"))),
        ("b".to_string(), one(finding(10, "b", "tb"))),
        ("c".to_string(), one(finding(12, "c", "tc"))),
    ];
    let r = merge_reviews(reviews, true);
    let got: Vec<(usize, Vec<String>, Vec<String>)> =
        r.findings.iter().map(|f| (f.location.line, f.meshes.clone(), f.targets.clone())).collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(got, vec![(10, s(&["a", "b"]), s(&["ta", "tb"])), (12, s(&["c"]), s(&["tc"]))]);
}

/// Every side's parsed files as one mesh `default` under `layer`, with the content key `key` and the extra files
/// `base_extra` and `head_extra` of each side (a rendered output the trees do not hold).
pub(super) struct Custom {
    pub(super) key: String,
    pub(super) layer: MeshLayer,
    pub(super) base_extra: Vec<LoadedFile>,
    pub(super) head_extra: Vec<LoadedFile>,
}

impl Assemble for Custom {
    fn meshes(&self, side: Side, parsed: &[LoadedFile]) -> Vec<MeshFiles> {
        let mut files = parsed.to_vec();
        files.extend(if side == Side::Base { &self.base_extra } else { &self.head_extra }.iter().cloned());
        vec![MeshFiles {
            name: "default".into(),
            layer: self.layer.clone(),
            files,
            targets: vec!["plain".into()],
            key: self.key.clone(),
            ..MeshFiles::default()
        }]
    }
}

#[test]
fn an_unchanged_mesh_keeps_its_settings() {
    let layer = MeshLayer { root_namespace: Some("mesh-root".into()), ..MeshLayer::default() };
    let custom = Custom { key: "same".into(), layer, base_extra: Vec::new(), head_extra: Vec::new() };
    let side = vec![file("p.yaml", &format!("{}---\n{}", pa("STRICT"), DR.replace("MODE", "DISABLE")))];
    let r = review_with(&input(side.clone(), side), &AnalysisOptions::default(), &custom);
    assert_eq!(r.settings.root_namespace, "mesh-root");
    // Everything in it is existing (and, analyzed once without fixes, has none).
    let got: Vec<_> = r.findings.iter().map(|f| (f.code, f.status, f.fix.is_some())).collect();
    assert_eq!(got, vec![("TIS0207", Status::Existing, false)]);
}

#[test]
fn the_base_sources_hold_the_base_meshes_own_files() {
    let rendered = load_file("rendered/out.yaml", pa("STRICT").as_bytes(), &Limits::default());
    let custom =
        Custom { key: String::new(), layer: MeshLayer::default(), base_extra: vec![rendered], head_extra: Vec::new() };
    let r = review_with(
        &input(vec![file("p.yaml", &pa("STRICT"))], vec![file("p.yaml", &pa("DISABLE"))]),
        &AnalysisOptions::default(),
        &custom,
    );
    assert_eq!(r.base_sources.keys().collect::<Vec<_>>(), vec!["p.yaml", "rendered/out.yaml"]);
    assert_eq!(r.head_sources.keys().collect::<Vec<_>>(), vec!["p.yaml"]);
}

#[test]
fn a_change_review_verifies_fixes_of_the_findings_it_introduces() {
    let strict_and = |mode: &str| format!("{}---\n{}", pa("STRICT"), DR.replace("MODE", mode));
    let r = review(
        &input(vec![file("p.yaml", &strict_and("ISTIO_MUTUAL"))], vec![file("p.yaml", &strict_and("DISABLE"))]),
        &AnalysisOptions::default(),
    );
    assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
    let f = &r.findings[0];
    assert_eq!((f.code, f.status), ("TIS0207", Status::Introduced));
    let fix = f.fix.as_ref().expect("a verified fix");
    assert_eq!(
        (fix.description.as_str(), fix.path.as_str(), fix.start_line, fix.end_line, fix.replacement.as_str()),
        (
            "set DestinationRule shop/shop-mtls to tls mode ISTIO_MUTUAL, matching the STRICT PeerAuthentication shop/default",
            "p.yaml",
            19,
            19,
            "      mode: ISTIO_MUTUAL"
        )
    );
    assert_eq!(
        f.help.as_deref(),
        Some(
            "alternatively: set PeerAuthentication shop/default to mTLS mode PERMISSIVE so its servers also accept the plaintext the DestinationRule sends"
        )
    );
}

/// A STRICT PeerAuthentication set to DISABLE beside an ISTIO_MUTUAL DestinationRule: three findings on the
/// changed line, one cause group whose first finding carries the one fix that resolves them all (the revert).
#[test]
fn findings_of_one_changed_line_share_a_group_and_its_verified_fix() {
    let shop = format!("{}---\n{}", pa("STRICT"), DR.replace("MODE", "ISTIO_MUTUAL"));
    let r = review(
        &input(vec![file("shop.yaml", &shop)], vec![file("shop.yaml", &shop.replace("STRICT", "DISABLE"))]),
        &AnalysisOptions::default(),
    );
    let codes: Vec<(&str, Status)> = r.findings.iter().map(|f| (f.code, f.status)).collect();
    assert_eq!(
        codes,
        vec![("TIS0502", Status::Introduced), ("TIS0206", Status::Introduced), ("MTLS003", Status::Introduced)]
    );
    let group = r.findings[0].group.clone();
    assert!(group.is_some());
    assert!(r.findings.iter().all(|f| f.group == group), "{:?}", r.findings);
    let lead = &r.findings[0];
    let fix = lead.fix.as_ref().expect("the group's fix");
    assert_eq!(
        (fix.description.as_str(), fix.start_line, fix.end_line, fix.replacement.as_str()),
        ("restore line 8 of `shop.yaml` as on the base branch", 8, 8, "    mode: STRICT")
    );
    assert_eq!(
        lead.help.as_deref().and_then(|h| h.lines().next()),
        Some("This fix also resolves TIS0206 and MTLS003 on the same lines (verified together by re-analysis).")
    );
    // The other verified candidates follow, each with what it resolves (never the chosen one again).
    let rest: Vec<&str> = lead.help.as_deref().unwrap_or_default().lines().skip(1).collect();
    assert_eq!(
        rest,
        vec![
            "alternatively: set DestinationRule shop/shop-mtls to tls mode DISABLE, matching PeerAuthentication shop/default (resolves TIS0502 and TIS0206)",
            "alternatively: set PeerAuthentication shop/default to mTLS mode PERMISSIVE (resolves TIS0502 and TIS0206)"
        ]
    );
}

/// A group with an MTLS003 member is verified under the edit's posture scope: the downgrades of the other
/// namespace (a workload PeerAuthentication in `web` lowered in another file, outside the scope) are the
/// snapshot's and must still be seen (debug builds compare every verification with a rebuild), and the group's fix
/// still resolves every member.
#[test]
fn a_group_with_a_downgrade_is_verified_with_the_downgrades_outside_its_scope() {
    use crate::posture::fixtures::{deployment, injected, service, workload_pa};
    let shop = format!("{}---\n{}", pa("STRICT"), DR.replace("MODE", "ISTIO_MUTUAL"));
    let web = |mode: &str| {
        injected("web")
            + &service("web", "api", &[(80, "8080")])
            + &deployment("web", "api", &[8080], &[])
            + &workload_pa("web", "api", "api", mode, &[])
    };
    let r = review(
        &input(
            vec![file("shop.yaml", &shop), file("web.yaml", &web("STRICT"))],
            vec![file("shop.yaml", &shop.replace("STRICT", "DISABLE")), file("web.yaml", &web("PERMISSIVE"))],
        ),
        &AnalysisOptions::default(),
    );
    let introduced: Vec<(&str, &str)> = r
        .findings
        .iter()
        .filter(|f| f.status == Status::Introduced)
        .map(|f| (f.code, f.object.namespace.as_str()))
        .collect();
    assert!(introduced.contains(&("MTLS003", "web")) && introduced.contains(&("MTLS003", "shop")), "{introduced:?}");
    let lead = r.findings.iter().find(|f| f.code == "TIS0502").expect("the shop group's lead");
    assert_eq!(lead.fix.as_ref().map(|f| f.replacement.as_str()), Some("    mode: STRICT"));
    assert!(
        lead.help.as_deref().is_some_and(|h| h.starts_with("This fix also resolves TIS0206 and MTLS003")),
        "{:?}",
        lead.help
    );
}

/// A snapshot (no base side): every mesh analysed, every finding existing and listing its mesh and target, the
/// parse errors of every file read.
#[test]
fn a_snapshot_lists_its_findings_as_existing_with_their_mesh() {
    let files = vec![file("shop/dr.yaml", &DR.replace("MODE", "ISTIO_MUTUAL")), file("broken.yaml", "a: [\n")];
    let review = snapshot_with(&files, &AnalysisOptions::default(), &OneMesh);
    assert!(!review.diff);
    let codes: Vec<(&str, Status, &[String], &[String])> =
        review.findings.iter().map(|f| (f.code, f.status, f.meshes.as_slice(), f.targets.as_slice())).collect();
    let mesh = ["default".to_string()];
    let plain = ["plain".to_string()];
    assert!(codes.contains(&("TIS0206", Status::Existing, &mesh[..], &plain[..])), "{codes:?}");
    assert!(codes.iter().all(|c| c.1 == Status::Existing), "{codes:?}");
    assert!(review.errors.iter().any(|e| e.error.path == "broken.yaml" && !e.introduced), "{:?}", review.errors);
    assert!(review.head_sources.contains_key("shop/dr.yaml"));
}

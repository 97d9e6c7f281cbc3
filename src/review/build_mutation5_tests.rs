//! Tests of `review_with`, `merge_reviews`, `review_one` and `snapshot_with`, written for the `delete field`
//! mutants of `src/review/build.rs` the lib tests left alive (issue 15): what the Review of a changed mesh and of
//! an unchanged one holds (the diff flag, the settings under the mesh's layer, the sources and errors of the mesh's
//! own files, the posture rows, the connectivity changes), that only introduced findings carry fixes, and that a
//! change review and a snapshot verify fixes of rendered objects with the assembler's renderer.

use super::mutation2_tests::Custom;
use super::mutation3_tests::{dr, file, input, pa};
use super::*;
use crate::finding::Status;
use crate::fix::tests::{Identity, rendered};
use crate::manifest::load_file;
use crate::posture::{ClientKind, RowKey, Verdict};
use crate::settings::MeshLayer;

/// A file whose YAML is broken (an unclosed flow sequence), outside the trees (a rendered output).
fn broken_output() -> LoadedFile {
    load_file("rendered/broken.yaml", b"a: [\n", &Limits::default())
}

fn errors(r: &Review) -> Vec<(&str, crate::finding::ErrorKind, bool)> {
    r.errors.iter().map(|e| (e.error.path.as_str(), e.error.kind, e.introduced)).collect()
}

/// A namespace `shop` whose service `api` is called with ISTIO_MUTUAL, under a PeerAuthentication of `mode`.
fn shop(mode: &str) -> String {
    use crate::posture::fixtures::{deployment, injected, service};
    injected("shop")
        + &service("shop", "api", &[(80, "8080")])
        + &deployment("shop", "api", &[8080], &[])
        + "---\n"
        + &pa(mode, "a")
        + "---\n"
        + &dr("ISTIO_MUTUAL")
}

/// The connectivity changes of a review: (path, (server mode, client TLS, verdict) before, the same after).
type PathChange = (RowKey, Option<(String, String, Verdict)>, Option<(String, String, Verdict)>);

fn paths(r: &Review) -> Vec<PathChange> {
    let state = |row: &Option<crate::posture::Row>| {
        row.as_ref().map(|r| (r.server_mode.clone(), r.client_tls.clone(), r.verdict))
    };
    r.connectivity.iter().map(|c| (c.key.clone(), state(&c.before), state(&c.after))).collect()
}

/// A changed mesh's review: a diff, under the mesh's settings, with the sources of the mesh's own files (a
/// rendered output the trees do not hold) and the client paths the change breaks.
#[test]
fn a_changed_mesh_review_holds_its_settings_sources_and_connectivity() {
    let layer = MeshLayer { root_namespace: Some("mesh-root".into()), ..MeshLayer::default() };
    let out = load_file("rendered/out.yaml", dr("ISTIO_MUTUAL").replace("shop", "web").as_bytes(), &Limits::default());
    let custom = Custom { key: String::new(), layer, base_extra: Vec::new(), head_extra: vec![out] };
    let r = review_with(
        &input(vec![file("shop.yaml", &shop("STRICT"))], vec![file("shop.yaml", &shop("DISABLE"))]),
        &AnalysisOptions::default(),
        &custom,
    );
    assert!(r.diff);
    assert_eq!(r.settings.root_namespace, "mesh-root");
    assert_eq!(r.head_sources.keys().collect::<Vec<_>>(), vec!["rendered/out.yaml", "shop.yaml"]);
    assert_eq!(r.base_sources.keys().collect::<Vec<_>>(), vec!["shop.yaml"]);
    let key = RowKey {
        namespace: "shop".into(),
        name: "api".into(),
        port: 80,
        client_namespace: "shop".into(),
        client_selector: None,
        client_kind: ClientKind::Sidecar,
    };
    let state = |mode: &str, verdict| Some((mode.to_string(), "ISTIO_MUTUAL".to_string(), verdict));
    assert_eq!(
        paths(&r),
        vec![(key, state("STRICT", Verdict::Mtls), state("DISABLE", Verdict::FailMtlsToPlaintextOnly))]
    );
}

/// An unchanged mesh (the same content key on both sides) analyzed once: its own files' read errors are listed
/// (as not the change's) and its posture rows are the same before and after, with no scope changed.
#[test]
fn an_unchanged_mesh_review_lists_its_errors_and_its_unchanged_posture() {
    let custom = Custom {
        key: "same".into(),
        layer: MeshLayer::default(),
        base_extra: vec![broken_output()],
        head_extra: vec![broken_output()],
    };
    let side = vec![file("p.yaml", &pa("STRICT", "a"))];
    let r = review_with(&input(side.clone(), side), &AnalysisOptions::default(), &custom);
    assert!(r.diff);
    assert_eq!(errors(&r), vec![("rendered/broken.yaml", crate::finding::ErrorKind::Parse, false)]);
    let rows = |rows: &[super::super::NamespacePosture]| -> Vec<(String, String, String)> {
        rows.iter().map(|p| (p.scope.clone(), p.server_mode.clone(), p.server_decided_by.clone())).collect()
    };
    let expected = vec![
        ("mesh".to_string(), "PERMISSIVE".to_string(), "default".to_string()),
        ("shop".to_string(), "STRICT".to_string(), "namespace PeerAuthentication shop/default".to_string()),
    ];
    assert_eq!((rows(&r.posture.before), rows(&r.posture.after)), (expected.clone(), expected));
    assert_eq!(r.posture.changed, Vec::<String>::new());
}

/// Only the findings a change introduces are offered fixes: one it keeps (existing) and one it fixes (resolved)
/// carry neither a fix nor help.
#[test]
fn only_introduced_findings_carry_fixes() {
    let web = format!("{}---\n{}", pa("DISABLE", "a"), dr("ISTIO_MUTUAL")).replace("shop", "web");
    let shop = |pa_mode: &str, dr_mode: &str| format!("{}---\n{}", pa(pa_mode, "a"), dr(dr_mode));
    let r = review(
        &input(
            vec![file("shop.yaml", &shop("DISABLE", "ISTIO_MUTUAL")), file("web.yaml", &web)],
            vec![file("shop.yaml", &shop("STRICT", "DISABLE")), file("web.yaml", &web)],
        ),
        &AnalysisOptions::default(),
    );
    let got: Vec<(&str, &str, Status, bool, bool)> = r
        .findings
        .iter()
        .map(|f| (f.code, f.object.namespace.as_str(), f.status, f.fix.is_some(), f.help.is_some()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("TIS0207", "shop", Status::Introduced, true, true),
            ("TIS0502", "web", Status::Existing, false, false),
            ("TIS0206", "web", Status::Existing, false, false),
            ("TIS0502", "shop", Status::Resolved, false, false),
            ("TIS0206", "shop", Status::Resolved, false, false),
        ]
    );
}

/// Every parsed file of a side rendered as is by target `t` (its source becomes the rendered file's input), as
/// one mesh `default`; with `rerender`, the assembler renders again with [`Identity`] for fix verification.
struct Rendered {
    rerender: bool,
}

impl Assemble for Rendered {
    fn meshes(&self, _side: Side, parsed: &[LoadedFile]) -> Vec<MeshFiles> {
        let files = parsed
            .iter()
            .filter_map(|f| f.source.as_ref())
            .map(|s| rendered("t", &s.path, s.text().as_bytes()))
            .collect();
        vec![MeshFiles { name: "default".into(), files, targets: vec!["t".into()], ..MeshFiles::default() }]
    }

    fn rerender(&self) -> Option<Arc<dyn crate::target::Rerender>> {
        self.rerender.then(|| Arc::new(Identity::default()) as Arc<dyn crate::target::Rerender>)
    }
}

/// The fixes of a review's findings, by code and status.
fn fixes(r: &Review) -> Vec<(&str, Status, Option<crate::finding::Fix>)> {
    r.findings.iter().map(|f| (f.code, f.status, f.fix.clone())).collect()
}

/// A change to a rendered DestinationRule: the fix of the finding it introduces edits the source file and is
/// verified by rendering again with the assembler's renderer (the same fix as for the plain file); without a
/// renderer it cannot be verified and none is offered.
#[test]
fn a_change_review_verifies_fixes_of_rendered_objects_with_the_assemblers_renderer() {
    let strict_and = |mode: &str| format!("{}---\n{}", pa("STRICT", "a"), dr(mode));
    let change = input(vec![file("p.yaml", &strict_and("ISTIO_MUTUAL"))], vec![file("p.yaml", &strict_and("DISABLE"))]);
    let plain = review(&change, &AnalysisOptions::default());
    let fix = plain.findings[0].fix.clone().expect("a verified fix of the plain file");
    assert_eq!(
        (fix.path.as_str(), fix.start_line, fix.replacement.as_str()),
        ("p.yaml", 21, "      mode: ISTIO_MUTUAL")
    );
    let r = review_with(&change, &AnalysisOptions::default(), &Rendered { rerender: true });
    assert_eq!(fixes(&r), vec![("TIS0207", Status::Introduced, Some(fix))]);
    let r = review_with(&change, &AnalysisOptions::default(), &Rendered { rerender: false });
    assert_eq!(fixes(&r), vec![("TIS0207", Status::Introduced, None)]);
}

/// The same in a snapshot: its (existing) finding of a rendered object gets the fix verified by rendering again.
#[test]
fn a_snapshot_verifies_fixes_of_rendered_objects_with_the_assemblers_renderer() {
    let files = vec![file("p.yaml", &format!("{}---\n{}", pa("STRICT", "a"), dr("DISABLE")))];
    let plain = snapshot_with(&files, &AnalysisOptions::default(), &OneMesh);
    let fix = plain.findings[0].fix.clone().expect("a verified fix of the plain file");
    assert_eq!(
        (fix.path.as_str(), fix.start_line, fix.replacement.as_str()),
        ("p.yaml", 21, "      mode: ISTIO_MUTUAL")
    );
    let r = snapshot_with(&files, &AnalysisOptions::default(), &Rendered { rerender: true });
    assert_eq!(fixes(&r), vec![("TIS0207", Status::Existing, Some(fix))]);
    let r = snapshot_with(&files, &AnalysisOptions::default(), &Rendered { rerender: false });
    assert_eq!(fixes(&r), vec![("TIS0207", Status::Existing, None)]);
}

/// A snapshot lists the read errors and the sources of its mesh's own files (a rendered output the tree does not
/// hold), none of them introduced.
#[test]
fn a_snapshot_lists_the_errors_and_sources_of_its_meshs_own_files() {
    let out = load_file("rendered/out.yaml", dr("ISTIO_MUTUAL").as_bytes(), &Limits::default());
    let custom = Custom {
        key: String::new(),
        layer: MeshLayer::default(),
        base_extra: Vec::new(),
        head_extra: vec![out, broken_output()],
    };
    let r = snapshot_with(&[file("p.yaml", &pa("STRICT", "a"))], &AnalysisOptions::default(), &custom);
    assert!(!r.diff);
    assert_eq!(errors(&r), vec![("rendered/broken.yaml", crate::finding::ErrorKind::Parse, false)]);
    assert_eq!(r.head_sources.keys().collect::<Vec<_>>(), vec!["p.yaml", "rendered/broken.yaml", "rendered/out.yaml"]);
}

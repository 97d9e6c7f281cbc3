//! Tests of `review_with`, `review_one`, `AnchorIndex::anchors` and `snapshot_with`, written for the mutants
//! issue 15's sample shard 3/10 left alive in `src/review/build.rs`: a chart template is no manifest of the head
//! side, an unchanged mesh keeps its own files' sources, a finding the change fixes is resolved (and one it keeps
//! is not), a deleted subject is anchored on its own deleted lines, and a snapshot's mesh is analyzed under its
//! mesh's layer.

use super::mutation2_tests::Custom;
use super::mutation3_tests::{dr, file, input, pa};
use super::*;
use crate::manifest::load_file;
use crate::settings::MeshLayer;

/// A chart's template (under `templates/` beside a `Chart.yaml`) is rendered, not read as a manifest: its change
/// gives no finding and no source, while the plain file's change is reviewed.
#[test]
fn a_changed_chart_template_is_not_read_as_a_manifest() {
    let chart = "apiVersion: v2\nname: web\nversion: 0.1.0\n";
    let template = |mode: &str| pa(mode, "a").replace("namespace: shop", "namespace: web");
    let side = |mode: &str| {
        vec![
            file("chart/Chart.yaml", chart),
            file("chart/templates/pa.yaml", &template(mode)),
            file("p.yaml", &pa(mode, "a")),
        ]
    };
    let r = review(&input(side("STRICT"), side("DISABLE")), &AnalysisOptions::default());
    let got: Vec<(&str, &str, Status)> =
        r.findings.iter().map(|f| (f.code, f.location.path.as_str(), f.status)).collect();
    assert_eq!(got, vec![("MTLS003", "p.yaml", Status::Introduced)]);
    assert_eq!(r.head_sources.keys().collect::<Vec<_>>(), vec!["p.yaml"]);
    assert_eq!(r.base_sources.keys().collect::<Vec<_>>(), vec!["p.yaml"]);
}

/// An unchanged mesh (the same content key on both sides) still lists the sources of its own files, such as a
/// rendered output the trees do not hold.
#[test]
fn an_unchanged_mesh_keeps_the_sources_of_its_own_files() {
    let rendered = load_file("rendered/out.yaml", dr("ISTIO_MUTUAL").as_bytes(), &Limits::default());
    let custom = Custom {
        key: "same".into(),
        layer: MeshLayer::default(),
        base_extra: vec![rendered.clone()],
        head_extra: vec![rendered],
    };
    let side = vec![file("p.yaml", &pa("STRICT", "a"))];
    let r = review_with(&input(side.clone(), side), &AnalysisOptions::default(), &custom);
    assert_eq!(r.head_sources.keys().collect::<Vec<_>>(), vec!["p.yaml", "rendered/out.yaml"]);
}

/// A finding of the base side the change fixes is resolved; one both sides have is existing, and only that.
#[test]
fn a_fixed_finding_is_resolved_and_a_kept_one_is_existing_only() {
    let web = format!("{}---\n{}", pa("DISABLE", "a"), dr("ISTIO_MUTUAL")).replace("shop", "web");
    let base = vec![file("d.yaml", &dr("ISTIO_MUTUAL")), file("p.yaml", &pa("DISABLE", "a")), file("web.yaml", &web)];
    let head = vec![file("d.yaml", &dr("DISABLE")), file("p.yaml", &pa("DISABLE", "a")), file("web.yaml", &web)];
    let r = review(&input(base, head), &AnalysisOptions::default());
    let got: Vec<(&str, &str, Status)> =
        r.findings.iter().map(|f| (f.code, f.object.namespace.as_str(), f.status)).collect();
    assert_eq!(
        got,
        vec![
            ("TIS0502", "web", Status::Existing),
            ("TIS0206", "web", Status::Existing),
            ("TIS0206", "shop", Status::Resolved),
            ("TIS0502", "shop", Status::Resolved)
        ]
    );
}

/// Two workload PeerAuthentications deleted together: each downgrade (a base-side finding) is anchored on the
/// deleted lines of its own PeerAuthentication, not on the other's.
#[test]
fn a_deleted_subject_is_anchored_on_its_own_deleted_lines() {
    use crate::posture::fixtures::{deployment, injected, service, workload_pa};
    let app = |name: &str| service("shop", name, &[(80, "8080")]) + &deployment("shop", name, &[8080], &[]);
    let apps = injected("shop") + &app("api") + &app("cart");
    let pas = workload_pa("shop", "api", "api", "STRICT", &[]) + &workload_pa("shop", "cart", "cart", "STRICT", &[]);
    let r = review(
        &input(vec![file("apps.yaml", &apps), file("pas.yaml", &pas)], vec![file("apps.yaml", &apps)]),
        &AnalysisOptions::default(),
    );
    let got: Vec<(&str, Side, &str, Option<Vec<Anchor>>)> =
        r.findings.iter().map(|f| (f.code, f.location.side, f.object.name.as_str(), f.anchors.clone())).collect();
    let base = |line: usize, end_line: usize| Anchor { side: Side::Base, path: "pas.yaml".into(), line, end_line };
    assert_eq!(
        got,
        vec![
            ("MTLS003", Side::Base, "api", Some(vec![base(2, 12)])),
            ("MTLS003", Side::Base, "cart", Some(vec![base(14, 24)]))
        ]
    );
}

/// A snapshot's mesh is analyzed under its layer (here a root namespace of its own), as a change's is.
#[test]
fn a_snapshot_mesh_is_analyzed_under_its_layer() {
    let layer = MeshLayer { root_namespace: Some("mesh-root".into()), ..MeshLayer::default() };
    let custom = Custom { key: String::new(), layer, base_extra: Vec::new(), head_extra: Vec::new() };
    let files = vec![file("p.yaml", &pa("STRICT", "a"))];
    let r = snapshot_with(&files, &AnalysisOptions::default(), &custom);
    assert_eq!(r.settings.root_namespace, "mesh-root");
}

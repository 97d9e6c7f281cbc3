//! Rendering with the real kustomize (`kustomize`, else `kubectl kustomize`): objects, provenance back to source
//! lines (the overlay's patch for a field it sets), fixes on the patch line verified by re-rendering.
//! These tests need kustomize or kubectl; `.ci/run` installs kubectl when neither is there, so they never skip.

use mtls_review::manifest::{LoadedFile, load_file, yaml::Limits};
use mtls_review::review::TreeFile;
use mtls_review::review::build::snapshot_with;
use mtls_review::settings::AnalysisOptions;
use mtls_review::target::assemble::assemble;
use mtls_review::target::closure::FileMap;
use mtls_review::target::glue::Targets;
use mtls_review::target::render::{InstalledTools, RenderService};
use mtls_review::target::{MeshOverrides, MeshPlan, Plan, RenderKind, Target, TargetOrigin};
use std::collections::HashMap;
use std::sync::Arc;

fn service() -> Arc<RenderService> {
    let tools = InstalledTools::detect();
    assert!(tools.kustomize.is_some(), "these tests need kustomize or kubectl on PATH");
    Arc::new(RenderService::new(Arc::new(tools)))
}

const BASE_K: &str = "resources:\n- pa.yaml\n- dr.yaml\n";
const BASE_PA: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\nspec:\n  mtls:\n    mode: STRICT\n";
const BASE_DR: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: all\nspec:\n  host: \"*.shop.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n";
const DEV_K: &str = "namespace: shop\nnamePrefix: dev-\nresources:\n- ../../base\npatches:\n- path: pa-patch.yaml\n";
const DEV_PATCH: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\nspec:\n  mtls:\n    mode: DISABLE\n";
const PROD_K: &str = "namespace: shop\nresources:\n- ../../base\n";

fn tree() -> Vec<(&'static str, &'static str)> {
    vec![
        ("base/kustomization.yaml", BASE_K),
        ("base/pa.yaml", BASE_PA),
        ("base/dr.yaml", BASE_DR),
        ("overlays/dev/kustomization.yaml", DEV_K),
        ("overlays/dev/pa-patch.yaml", DEV_PATCH),
        ("overlays/prod/kustomization.yaml", PROD_K),
    ]
}

fn file_map(files: &[(&str, &str)]) -> FileMap {
    files.iter().map(|(p, t)| (p.to_string(), Arc::from(t.as_bytes()))).collect()
}

fn plan() -> Plan {
    let t = |env: &str| {
        Target::new(
            format!("overlays/{env}"),
            format!("overlays/{env}"),
            RenderKind::Kustomize,
            TargetOrigin::KustomizeRoot,
        )
    };
    let m = |name: &str, i: usize| MeshPlan {
        name: name.into(),
        targets: vec![i],
        settings: MeshOverrides::default(),
        reason: "test".into(),
    };
    Plan { targets: vec![t("dev"), t("prod")], meshes: vec![m("dev", 0), m("prod", 1)], ..Plan::default() }
}

#[test]
fn overlays_render_with_provenance() {
    let files = file_map(&tree());
    let parsed: HashMap<String, Arc<LoadedFile>> =
        tree().iter().map(|(p, t)| (p.to_string(), Arc::new(load_file(p, t.as_bytes(), &Limits::default())))).collect();
    let meshes = assemble(&plan(), &files, &parsed, &service());
    assert_eq!(meshes.len(), 2);
    let dev = &meshes[0];
    assert!(dev.errors.is_empty(), "{:?}", dev.errors);
    let objs: Vec<_> = dev.files.iter().flat_map(|f| f.objects.iter()).collect();
    let pa = objs.iter().find(|o| o.kind == "PeerAuthentication").expect("rendered PA");
    assert_eq!(pa.name, "dev-default");
    assert_eq!(pa.namespace.as_deref(), Some("shop"));
    assert_eq!(pa.str_at(&["spec", "mtls", "mode"]), Some("DISABLE"));
    assert!(pa.annotation("config.kubernetes.io/origin").is_none(), "provenance annotations are dropped");
    let prov = pa.provenance.as_ref().expect("provenance");
    let mode = prov.field_source(&["spec", "mtls", "mode"]).expect("mode source");
    assert_eq!((&*mode.path, mode.line), ("overlays/dev/pa-patch.yaml", 7));
    let origin = prov.origin.as_ref().expect("origin doc");
    assert_eq!(&*origin.path, "base/pa.yaml");
    let ns = prov.field_source(&["metadata", "namespace"]).expect("namespace source");
    assert_eq!((&*ns.path, ns.line), ("overlays/dev/kustomization.yaml", 1));
    // prod: no patch; the mode comes from the base.
    let prod = &meshes[1];
    let ppa = prod.files.iter().flat_map(|f| f.objects.iter()).find(|o| o.kind == "PeerAuthentication").unwrap();
    let mode = ppa.provenance.as_ref().unwrap().field_source(&["spec", "mtls", "mode"]).unwrap();
    assert_eq!((&*mode.path, mode.line), ("base/pa.yaml", 7));
    // Inputs of each target: the overlay, its patch and the base.
    assert!(dev.inputs["overlays/dev"].contains("overlays/dev/pa-patch.yaml"));
    assert!(!prod.inputs["overlays/prod"].contains("overlays/dev/pa-patch.yaml"));
}

#[test]
fn finding_lands_on_the_overlay_patch_with_a_verified_fix() {
    let files = file_map(&tree());
    let a = Targets::with_plan(service(), FileMap::new(), files.clone(), plan());
    let head: Vec<TreeFile> = tree()
        .iter()
        .map(|(p, t)| TreeFile { path: p.to_string(), id: p.to_string(), bytes: Arc::from(t.as_bytes()) })
        .collect();
    let review = snapshot_with(&head, &AnalysisOptions::default(), &a);
    let tis = review.findings.iter().find(|f| f.code == "TIS0206").expect("TIS0206 in dev");
    assert_eq!(tis.meshes, vec!["dev".to_string()]);
    assert_eq!(tis.targets, vec!["overlays/dev".to_string()]);
    // Only dev disables mTLS: no TIS0206 in prod.
    assert!(!review.findings.iter().any(|f| f.code == "TIS0206" && f.meshes.contains(&"prod".to_string())));
    // The subject (the DR) comes from the base; the PA that disables is the dev patch.
    assert_eq!(tis.location.path, "base/dr.yaml");
    assert!(
        tis.related
            .iter()
            .any(|r| r.location.path == "base/pa.yaml" || r.location.path == "overlays/dev/pa-patch.yaml"),
        "{:?}",
        tis.related
    );
    let fix = tis.fix.as_ref().expect("a verified fix");
    assert_eq!(fix.path, "overlays/dev/pa-patch.yaml", "the fix edits the overlay's patch, not the base");
    assert_eq!((fix.start_line, fix.end_line), (7, 7));
    assert_eq!(fix.replacement, "    mode: PERMISSIVE");
}

#[test]
fn a_target_that_cannot_render_is_an_error_and_the_rest_goes_on() {
    let mut files = tree();
    // dev gains a remote base (never fetched); prod stays renderable.
    files[3] = (
        "overlays/dev/kustomization.yaml",
        "namespace: shop\nresources:\n- ../../base\n- https://github.com/example/istio-config//base?ref=v1\n",
    );
    let map = file_map(&files);
    let parsed: HashMap<String, Arc<LoadedFile>> =
        files.iter().map(|(p, t)| (p.to_string(), Arc::new(load_file(p, t.as_bytes(), &Limits::default())))).collect();
    let meshes = assemble(&plan(), &map, &parsed, &service());
    let dev = &meshes[0];
    assert_eq!(dev.errors.len(), 1, "{:?}", dev.errors);
    let e = &dev.errors[0];
    assert_eq!((e.path.as_str(), e.line), ("overlays/dev/kustomization.yaml", 4));
    assert!(e.message.contains("remote") && e.message.contains("overlays/dev"), "{}", e.message);
    assert!(dev.files.is_empty());
    let prod = &meshes[1];
    assert!(prod.errors.is_empty());
    assert_eq!(prod.files.iter().map(|f| f.objects.len()).sum::<usize>(), 2);

    // An invalid kustomization: kustomize's own message, on the target's kustomization.
    let mut files = tree();
    files[5] = ("overlays/prod/kustomization.yaml", "namespace: shop\nresources:\n- ../../base\n- missing.yaml\n");
    let map = file_map(&files);
    let meshes = assemble(&plan(), &map, &HashMap::new(), &service());
    let e = &meshes[1].errors[0];
    assert_eq!(e.path, "overlays/prod/kustomization.yaml");
    assert!(e.message.contains("missing.yaml"), "{}", e.message);
    assert!(!e.message.contains("/tmp/"), "the message names tree paths, not the temporary copy: {}", e.message);
    assert!(meshes[0].errors.is_empty(), "{:?}", meshes[0].errors);
}

#[test]
fn base_and_head_share_the_renders_of_unchanged_targets() {
    let s = service();
    let base = file_map(&tree());
    let mut head_files = tree();
    head_files[4] = (
        "overlays/dev/pa-patch.yaml",
        "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\nspec:\n  mtls:\n    mode: PERMISSIVE\n",
    );
    let head = file_map(&head_files);
    std::thread::scope(|scope| {
        let b = scope.spawn(|| assemble(&plan(), &base, &HashMap::new(), &s));
        let h = assemble(&plan(), &head, &HashMap::new(), &s);
        let b = b.join().unwrap();
        assert_eq!(b.len(), h.len());
    });
    // dev changed (two renders), prod did not (one render for both sides, even when asked at the same time).
    assert_eq!(s.runs.load(std::sync::atomic::Ordering::Relaxed), 3);
}

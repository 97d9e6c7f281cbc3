//! Tests of `kustomization_patches` (issue 15: `docs_bytes -> None` and `delete !` in `kustomization_patches`
//! survived two samples): the patches an overlay's kustomization applies to a rendered object, located in their
//! files.

use super::*;
use crate::target::{RenderKind, Target, TargetOrigin};

const PA: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: shop\nspec:\n  mtls:\n    mode: STRICT\n";

pub(super) fn files(entries: &[(&str, &str)]) -> FileMap {
    entries.iter().map(|(p, t)| (p.to_string(), Arc::from(t.as_bytes()))).collect()
}

pub(super) fn patches_of(files: &FileMap) -> Vec<(String, usize, usize, String)> {
    let docs = SourceDocs::new(files, []);
    let target = Target::new("prod", "overlays/prod", RenderKind::Kustomize, TargetOrigin::Config);
    let ctx = RenderContext { target: &target, docs: &docs, wrapper_dir: ".mtls-review-render", wrapper_path: "w" };
    let rendered = load_file("rendered.yaml", PA.as_bytes(), &Limits::default()).objects[0].clone();
    let mut out = Vec::new();
    kustomization_patches(&ctx, "overlays/prod/kustomization.yaml", &rendered, "default", &mut out);
    out.into_iter()
        .map(|p| {
            let body = match p.body {
                PatchBody::StrategicMerge { object, line_offset } => format!("smp {} +{line_offset}", object.kind),
                PatchBody::Json6902 { ops } => format!("json {ops:?}"),
            };
            (p.path.to_string(), p.line, p.end_line, body)
        })
        .collect()
}

/// A strategic-merge patch file (`patches: - path:` or a `patchesStrategicMerge` entry) is located at its document; a JSON 6902 file
/// (`patchesJson6902`) at its whole text, with the line of each operation's value.
#[test]
fn patch_files_of_an_overlay_are_located() {
    let smp = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\nspec:\n  mtls:\n    mode: DISABLE\n";
    let ops = "- op: replace\n  path: /spec/mtls/mode\n  value: PERMISSIVE\n";
    let k = "resources:\n- ../../base\npatches:\n- path: pa.yaml\npatchesJson6902:\n- target:\n    kind: PeerAuthentication\n    name: default\n  path: ops.yaml\n";
    let tree = files(&[
        ("overlays/prod/kustomization.yaml", k),
        ("overlays/prod/pa.yaml", smp),
        ("overlays/prod/ops.yaml", ops),
    ]);
    assert_eq!(
        patches_of(&tree),
        [
            ("overlays/prod/pa.yaml".to_string(), 1, 7, "smp PeerAuthentication +0".to_string()),
            (
                "overlays/prod/ops.yaml".to_string(),
                1,
                3,
                format!("json {:?}", [(vec!["spec".to_string(), "mtls".to_string(), "mode".to_string()], 3)])
            ),
        ]
    );
    // `patchesStrategicMerge` lists its files as plain strings (one line: a path, not inline patch text).
    let k = "resources:\n- ../../base\npatchesStrategicMerge:\n- pa.yaml\n";
    let tree = files(&[("overlays/prod/kustomization.yaml", k), ("overlays/prod/pa.yaml", smp)]);
    assert_eq!(
        patches_of(&tree),
        [("overlays/prod/pa.yaml".to_string(), 1, 7, "smp PeerAuthentication +0".to_string())]
    );
    // Without the kustomization's text there is nothing to locate.
    assert!(patches_of(&files(&[("overlays/prod/pa.yaml", smp)])).is_empty());
}

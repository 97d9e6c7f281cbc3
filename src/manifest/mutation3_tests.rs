//! Tests of the loader's file selection and of field provenance (issue 15, third sample, shard 2/10: mutants of
//! `is_manifest_path` and `Provenance::field_source` survived).

use super::provenance::{FieldSource, Provenance};
use super::*;
use crate::manifest::yaml::Limits;

/// The loader reads YAML and JSON files by extension, in any case, and kustomize's configuration files by name
/// (`Kustomization` has no extension).
#[test]
fn manifest_paths_by_extension_and_kustomization_names() {
    for path in ["a.yaml", "b/c.YML", "d.json", "overlays/dev/Kustomization", "kustomization.yml"] {
        assert!(is_manifest_path(path), "{path}");
    }
    for path in ["README.md", "chart/values.tpl", "Kustomization.txt", "overlays/kustomization"] {
        assert!(!is_manifest_path(path), "{path}");
    }
}

/// A field written in the origin document as a block mapping is located at its value (the lines of its entries),
/// not at its key; a missing field falls back to its nearest written parent's key line.
#[test]
fn a_written_block_field_is_located_at_its_value() {
    let text = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\nspec:\n  mtls:\n    mode: STRICT\n";
    let origin = load_file("base/pa.yaml", text.as_bytes(), &Limits::default()).objects[0].clone();
    let p = Provenance {
        target: "base".into(),
        origin: Some(origin),
        patches: Vec::new(),
        namespace_from: None,
        origin_file: None,
    };
    let at = |f: Option<FieldSource>| f.map(|f| (f.path.to_string(), f.line, f.end_line));
    assert_eq!(at(p.field_source(&["spec", "mtls"])), Some(("base/pa.yaml".to_string(), 7, 7)));
    assert_eq!(at(p.field_source(&["spec"])), Some(("base/pa.yaml".to_string(), 6, 7)));
    assert_eq!(at(p.field_source(&["spec", "mtls", "portLevelMtls"])), Some(("base/pa.yaml".to_string(), 6, 7)));
}

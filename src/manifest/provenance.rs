//! Provenance: where a rendered object and its fields come from in the source tree. The target layer builds it
//! while rendering (kustomize's origin annotations, the patches that touch the object); locations, anchors and
//! fixes read it, so that every finding lands on the source line a person edits. Pure data.

use super::Object;
use std::sync::Arc;

/// The sources of one rendered object.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// The target that rendered the object.
    pub target: String,
    /// The source document the object was built from (its own path, tree and lines), if it was found.
    pub origin: Option<Arc<Object>>,
    /// Patches that touch the object, in the order they were applied (later ones win).
    pub patches: Vec<PatchSource>,
    /// Where the object's namespace is set when its source names none (a kustomization's `namespace:` line,
    /// a Flux `targetNamespace`): path and line.
    pub namespace_from: Option<(Arc<str>, usize)>,
    /// Where the object comes from when no source document could be parsed for it (a Helm template, a command's
    /// output): path and line. Locations fall back to it.
    pub origin_file: Option<(Arc<str>, usize)>,
}

/// One patch applied to the object.
#[derive(Debug, Clone)]
pub struct PatchSource {
    /// The file that holds the patch (a patch file, or the kustomization / Flux Kustomization holding it inline).
    pub path: Arc<str>,
    /// Lines of the patch in that file (1-based, inclusive).
    pub line: usize,
    pub end_line: usize,
    pub body: PatchBody,
}

/// What a patch says.
#[derive(Debug, Clone)]
pub enum PatchBody {
    /// A strategic-merge patch document. `object` is parsed from the patch text; `line_offset` is added to its
    /// node lines to get lines of [`PatchSource::path`] (0 for a patch file, which fixes may then edit).
    StrategicMerge { object: Arc<Object>, line_offset: usize },
    /// JSON 6902 operations: (path as keys, line of the operation in [`PatchSource::path`]).
    Json6902 { ops: Vec<(Vec<String>, usize)> },
}

/// Where a field's effective value is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSource {
    pub path: Arc<str>,
    pub line: usize,
    pub end_line: usize,
}

impl Provenance {
    /// The source document or patch that writes `field` last (the overlay's patch when a patch sets it), as a
    /// document a fix may edit with the same field path: `None` when the value comes from somewhere a line edit
    /// cannot reach (an inline patch, a JSON 6902 operation, a generated value).
    pub fn editable_source(&self, field: &[&str]) -> Option<&Arc<Object>> {
        for p in self.patches.iter().rev().filter(|_| !is_identity(field)) {
            match &p.body {
                PatchBody::StrategicMerge { object, line_offset } => {
                    if object.field_lines(field).is_some() {
                        return (*line_offset == 0).then_some(object);
                    }
                }
                PatchBody::Json6902 { ops } => {
                    if ops.iter().any(|(path, _)| covers(path, field)) {
                        return None;
                    }
                }
            }
        }
        self.origin.as_ref()
    }

    /// Where `field` (or, when it is written nowhere, its nearest written parent) is set, patches first.
    pub fn field_source(&self, field: &[&str]) -> Option<FieldSource> {
        for len in (1..=field.len()).rev() {
            let f = &field[..len];
            for p in self.patches.iter().rev().filter(|_| !is_identity(f)) {
                match &p.body {
                    PatchBody::StrategicMerge { object, line_offset } => {
                        if let Some((a, b)) = object.field_lines(f) {
                            let a = if len < field.len() { object.key_line(f).unwrap_or(a) } else { a };
                            return Some(FieldSource {
                                path: p.path.clone(),
                                line: a + line_offset,
                                end_line: b.max(a) + line_offset,
                            });
                        }
                    }
                    PatchBody::Json6902 { ops } => {
                        if let Some((_, line)) = ops.iter().rev().find(|(path, _)| covers(path, f)) {
                            return Some(FieldSource { path: p.path.clone(), line: *line, end_line: *line });
                        }
                    }
                }
            }
            if let Some(o) = &self.origin
                && let Some((a, b)) = o.field_lines(f)
            {
                let a = if len < field.len() { o.key_line(f).unwrap_or(a) } else { a };
                return Some(FieldSource { path: o.path.clone(), line: a, end_line: b.max(a) });
            }
            if f == ["metadata", "namespace"]
                && let Some((path, line)) = &self.namespace_from
            {
                return Some(FieldSource { path: path.clone(), line: *line, end_line: *line });
            }
        }
        if let Some(o) = &self.origin {
            return Some(FieldSource { path: o.path.clone(), line: o.line, end_line: o.line });
        }
        self.origin_file.as_ref().map(|(p, l)| FieldSource { path: p.clone(), line: *l, end_line: *l })
    }

    /// Every source span that makes up the object: its origin document and each patch, in that order.
    pub fn spans(&self) -> Vec<FieldSource> {
        let mut out = Vec::new();
        if let Some(o) = &self.origin {
            out.push(FieldSource { path: o.path.clone(), line: o.line, end_line: o.end_line });
        }
        for p in &self.patches {
            out.push(FieldSource { path: p.path.clone(), line: p.line, end_line: p.end_line });
        }
        if let Some((path, line)) = &self.namespace_from {
            out.push(FieldSource { path: path.clone(), line: *line, end_line: *line });
        }
        if let Some((path, line)) = &self.origin_file {
            out.push(FieldSource { path: path.clone(), line: *line, end_line: *line });
        }
        out
    }
}

/// The fields a strategic-merge patch writes only to name its target (they select, they do not set).
fn is_identity(field: &[&str]) -> bool {
    matches!(field, [] | ["apiVersion"] | ["kind"] | ["metadata"] | ["metadata", "name"] | ["metadata", "namespace"])
}

/// True when a JSON 6902 operation on `op` writes `field` (the same path or a parent of it).
fn covers(op: &[String], field: &[&str]) -> bool {
    op.len() <= field.len() && op.iter().zip(field).all(|(a, b)| a == b)
}

/// Splits a JSON pointer (`/spec/mtls/mode`) into keys, unescaping `~1` and `~0`.
pub fn json_pointer(pointer: &str) -> Vec<String> {
    pointer.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{load_file, yaml::Limits};

    fn obj(path: &str, text: &str) -> Arc<Object> {
        load_file(path, text.as_bytes(), &Limits::default()).objects[0].clone()
    }

    const BASE: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\nspec:\n  mtls:\n    mode: STRICT\n";
    const PATCH: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\nspec:\n  mtls:\n    mode: DISABLE\n";

    #[test]
    fn patch_wins_over_origin_and_is_editable() {
        let p = Provenance {
            target: "overlays/dev".into(),
            origin: Some(obj("base/pa.yaml", BASE)),
            patches: vec![PatchSource {
                path: "overlays/dev/pa.yaml".into(),
                line: 1,
                end_line: 7,
                body: PatchBody::StrategicMerge { object: obj("overlays/dev/pa.yaml", PATCH), line_offset: 0 },
            }],
            namespace_from: Some(("overlays/dev/kustomization.yaml".into(), 2)),
            origin_file: None,
        };
        let f = p.field_source(&["spec", "mtls", "mode"]).unwrap();
        assert_eq!((&*f.path, f.line), ("overlays/dev/pa.yaml", 7));
        assert_eq!(&*p.editable_source(&["spec", "mtls", "mode"]).unwrap().path, "overlays/dev/pa.yaml");
        // Not in the patch: the base writes it.
        let f = p.field_source(&["apiVersion"]).unwrap();
        assert_eq!((&*f.path, f.line), ("base/pa.yaml", 1));
        assert_eq!(&*p.editable_source(&["apiVersion"]).unwrap().path, "base/pa.yaml");
        // Written nowhere: the namespace transformer's line.
        let f = p.field_source(&["metadata", "namespace"]).unwrap();
        assert_eq!((&*f.path, f.line), ("overlays/dev/kustomization.yaml", 2));
        // Missing field: nearest written parent's key line.
        let f = p.field_source(&["spec", "mtls", "portLevelMtls"]).unwrap();
        assert_eq!((&*f.path, f.line), ("overlays/dev/pa.yaml", 6));
        assert_eq!(p.spans().len(), 3);
    }

    #[test]
    fn json6902_and_inline_patches_are_located_but_not_editable() {
        let p = Provenance {
            target: "t".into(),
            origin: Some(obj("base/pa.yaml", BASE)),
            patches: vec![
                PatchSource {
                    path: "k.yaml".into(),
                    line: 10,
                    end_line: 16,
                    body: PatchBody::StrategicMerge { object: obj("inline", PATCH), line_offset: 9 },
                },
                PatchSource {
                    path: "k.yaml".into(),
                    line: 20,
                    end_line: 22,
                    body: PatchBody::Json6902 { ops: vec![(json_pointer("/spec/selector"), 21)] },
                },
            ],
            namespace_from: None,
            origin_file: None,
        };
        let f = p.field_source(&["spec", "mtls", "mode"]).unwrap();
        assert_eq!((&*f.path, f.line), ("k.yaml", 16));
        assert!(p.editable_source(&["spec", "mtls", "mode"]).is_none());
        let f = p.field_source(&["spec", "selector", "matchLabels"]).unwrap();
        assert_eq!((&*f.path, f.line), ("k.yaml", 21));
        assert!(p.editable_source(&["spec", "selector"]).is_none());
        assert_eq!(json_pointer("/a~1b/c~0d"), vec!["a/b".to_string(), "c~d".to_string()]);
    }
}

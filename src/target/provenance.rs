//! Builds the provenance of rendered objects: the source document each came from (kustomize's
//! `config.kubernetes.io/origin`), the patches that touched it (the kustomizations that kustomize's
//! `alpha.config.kubernetes.io/transformations` names, and the target's own Flux / Argo CD patches), and where its
//! namespace was set. Pure: reads the side's files and their parsed documents.

use super::closure::{FileMap, join, parent};
use super::{InlinePatch, Target};
use crate::manifest::provenance::{PatchBody, PatchSource, Provenance, json_pointer};
use crate::manifest::yaml::{self, Limits, NodeId, YamlDoc};
use crate::manifest::{LoadedFile, Object, load_file};
use std::collections::HashMap;
use std::sync::Arc;

/// The annotation kustomize's `buildMetadata: [originAnnotations]` writes.
pub const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";
/// The annotation kustomize's `buildMetadata: [transformerAnnotations]` writes.
pub const TRANSFORMATIONS_ANNOTATION: &str = "alpha.config.kubernetes.io/transformations";

/// Parsed source files of one side, by path, parsed on first use.
pub struct SourceDocs<'a> {
    files: &'a FileMap,
    parsed: std::sync::Mutex<HashMap<String, Arc<LoadedFile>>>,
}

impl<'a> SourceDocs<'a> {
    pub fn new(files: &'a FileMap, parsed: impl IntoIterator<Item = (String, Arc<LoadedFile>)>) -> Self {
        SourceDocs { files, parsed: std::sync::Mutex::new(parsed.into_iter().collect()) }
    }

    /// The parsed file at `path`, if the side has it.
    pub fn get(&self, path: &str) -> Option<Arc<LoadedFile>> {
        let mut map = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = map.get(path) {
            return Some(f.clone());
        }
        let bytes = self.files.get(path)?;
        let f = Arc::new(load_file(path, bytes, &Limits::default()));
        map.insert(path.to_string(), f.clone());
        Some(f)
    }
}

/// The `path:` of an origin annotation value, relative to the tree root (`wrapper_dir` is the directory of the
/// kustomization the render ran on, relative to the tree root).
pub fn origin_path(annotation: &str, wrapper_dir: &str) -> Option<String> {
    let doc = yaml::parse_stream(annotation, &Limits::default()).docs.into_iter().next()?;
    let root = doc.root?;
    let p = doc.str_at(root, &["path"])?;
    // Resources from a remote base carry `repo:`; they have no file here.
    if doc.get(root, "repo").is_some() {
        return None;
    }
    Some(tree_path(wrapper_dir, p))
}

/// A path relative to the wrapper directory, relative to the tree root: the tree's copy sits beside the wrapper
/// in [`TREE_DIR`](super::render::TREE_DIR).
pub fn tree_path(wrapper_dir: &str, p: &str) -> String {
    let joined = join(wrapper_dir, p);
    let inside = format!("../{}/", super::render::TREE_DIR);
    match joined.strip_prefix(&inside) {
        Some(rest) => rest.to_string(),
        None if joined == inside.trim_end_matches('/') => String::new(),
        None => joined,
    }
}

/// The kustomization files (relative to the tree root) whose patch transformers touched the object, in order.
pub fn patch_kustomizations(annotation: &str, wrapper_dir: &str) -> Vec<String> {
    let Some(doc) = yaml::parse_stream(annotation, &Limits::default()).docs.into_iter().next() else {
        return Vec::new();
    };
    let Some(root) = doc.root else { return Vec::new() };
    let mut out: Vec<String> = Vec::new();
    for item in doc.items(root) {
        let kind = doc.str_at(*item, &["configuredBy", "kind"]).unwrap_or("");
        if !kind.starts_with("Patch") {
            continue;
        }
        if let Some(k) = doc.str_at(*item, &["configuredIn"]) {
            let k = if k == "kustomization.yaml" { join(wrapper_dir, k) } else { tree_path(wrapper_dir, k) };
            if out.last() != Some(&k) {
                out.push(k);
            }
        }
    }
    out
}

/// The kustomization files (relative to the tree root) whose namespace transformer touched the object.
pub fn namespace_kustomizations(annotation: &str, wrapper_dir: &str) -> Vec<String> {
    let Some(doc) = yaml::parse_stream(annotation, &Limits::default()).docs.into_iter().next() else {
        return Vec::new();
    };
    let Some(root) = doc.root else { return Vec::new() };
    doc.items(root)
        .iter()
        .filter(|i| doc.str_at(**i, &["configuredBy", "kind"]) == Some("NamespaceTransformer"))
        .filter_map(|i| {
            doc.str_at(*i, &["configuredIn"])
                .map(|k| if k == "kustomization.yaml" { join(wrapper_dir, k) } else { tree_path(wrapper_dir, k) })
        })
        .collect()
}

/// Finds the source document of a rendered object in its origin file: same kind, and a name the rendered name
/// was made from (equal, or contained in it: `namePrefix` / `nameSuffix`). The longest such name wins.
pub fn find_origin(file: &LoadedFile, rendered: &Object) -> Option<Arc<Object>> {
    file.objects
        .iter()
        .filter(|o| o.kind == rendered.kind && (o.name == rendered.name || rendered.name.contains(o.name.as_str())))
        .max_by_key(|o| (o.name == rendered.name, o.name.len()))
        .cloned()
}

/// Everything provenance needs about one render.
pub struct RenderContext<'a> {
    pub target: &'a Target,
    pub docs: &'a SourceDocs<'a>,
    /// The directory of the kustomization the render ran on, relative to the tree root.
    pub wrapper_dir: &'a str,
    /// The wrapper kustomization's path (its patches and namespace are the target's own).
    pub wrapper_path: &'a str,
}

/// The provenance of one rendered object; `annotations` are its annotations as rendered.
pub fn provenance_of(ctx: &RenderContext, rendered: &Object, annotations: &[(String, String)]) -> Provenance {
    let get = |k: &str| annotations.iter().rev().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
    let origin_file = get(ORIGIN_ANNOTATION).and_then(|a| origin_path(a, ctx.wrapper_dir));
    let origin = origin_file.as_deref().and_then(|p| ctx.docs.get(p)).and_then(|f| find_origin(&f, rendered));
    let transformations = get(TRANSFORMATIONS_ANNOTATION).unwrap_or("");
    let mut patches = Vec::new();
    let origin_name = origin.as_ref().map(|o| o.name.clone()).unwrap_or_else(|| rendered.name.clone());
    for k in patch_kustomizations(transformations, ctx.wrapper_dir) {
        if k == ctx.wrapper_path {
            for p in &ctx.target.patches {
                inline_target_patch(p, rendered, &origin_name, &mut patches);
            }
            continue;
        }
        kustomization_patches(ctx, &k, rendered, &origin_name, &mut patches);
    }
    let mut namespace_from = None;
    if origin.as_ref().is_some_and(|o| o.namespace.is_none()) || origin.is_none() {
        if let Some(k) = namespace_kustomizations(transformations, ctx.wrapper_dir).last() {
            if *k == ctx.wrapper_path {
                namespace_from = ctx.target.declared_at.as_ref().map(|(p, l)| (Arc::from(p.as_str()), *l));
            } else if let Some(bytes) = ctx.docs_bytes(k) {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                if let Some(doc) = yaml::parse_stream(&text, &Limits::default()).docs.into_iter().next()
                    && let Some(root) = doc.root
                    && let Some(key) = doc.key_node(root, "namespace")
                {
                    namespace_from = Some((Arc::from(k.as_str()), doc.node(key).line));
                }
            }
        }
    }
    let origin_file = if origin.is_none() { origin_file.map(|p| (Arc::from(p.as_str()), 1)) } else { None };
    Provenance { target: ctx.target.name.clone(), origin, patches, namespace_from, origin_file }
}

impl RenderContext<'_> {
    fn docs_bytes(&self, path: &str) -> Option<Arc<[u8]>> {
        self.docs.files.get(path).cloned()
    }
}

/// Does a `target:` selector (kind, name regex, namespace) select the object?
fn selects(doc: &YamlDoc, sel: NodeId, rendered: &Object, origin_name: &str) -> bool {
    let matches = |pattern: &str, value: &str| -> bool {
        // Kustomize anchors the name and namespace patterns; the common forms are literals and `.*`.
        if pattern.contains(['*', '[', '(', '|', '+', '?', '^', '$']) {
            glob_regex_match(pattern, value)
        } else {
            pattern == value
        }
    };
    if let Some(kind) = doc.str_at(sel, &["kind"])
        && !matches(kind, &rendered.kind)
    {
        return false;
    }
    if let Some(name) = doc.str_at(sel, &["name"])
        && !matches(name, &rendered.name)
        && !matches(name, origin_name)
    {
        return false;
    }
    if let Some(ns) = doc.str_at(sel, &["namespace"])
        && rendered.namespace.as_deref().is_some_and(|n| !matches(ns, n))
    {
        return false;
    }
    if let Some(sel_labels) = doc.str_at(sel, &["labelSelector"]) {
        for part in sel_labels.split(',') {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let (k, v) = (k.trim().trim_end_matches('='), v.trim());
            if !rendered.labels.iter().any(|(a, b)| a == k && (v.is_empty() || b == v)) {
                return false;
            }
        }
    }
    true
}

/// A small anchored matcher for the regular expressions kustomize selectors use in practice: literals, `.`,
/// `.*`, `.+`, `*` (as `.*`) and alternation `a|b`. Anything fancier matches (a patch candidate too many costs a
/// wrong location at worst, never a wrong value: values come from the render).
fn glob_regex_match(pattern: &str, value: &str) -> bool {
    let p = pattern.trim_start_matches('^').trim_end_matches('$');
    if p.contains(['[', '(', '?', '\\']) {
        return true;
    }
    if p.contains('|') {
        return p.split('|').any(|alt| glob_regex_match(alt, value));
    }
    fn go(p: &[u8], v: &[u8]) -> bool {
        match p {
            [] => v.is_empty(),
            [b'.', b'*', rest @ ..] | [b'*', rest @ ..] => (0..=v.len()).any(|i| go(rest, &v[i..])),
            [b'.', b'+', rest @ ..] => (1..=v.len()).any(|i| go(rest, &v[i..])),
            [b'.', rest @ ..] => !v.is_empty() && go(rest, &v[1..]),
            [c, rest @ ..] => v.first() == Some(c) && go(rest, &v[1..]),
        }
    }
    go(p.as_bytes(), value.as_bytes())
}

/// True when a strategic-merge patch document is for this object (no selector: same kind, and a name the object
/// had at some level).
fn smp_is_for(patch: &Object, rendered: &Object, origin_name: &str) -> bool {
    patch.kind == rendered.kind
        && (patch.name == origin_name || patch.name == rendered.name || rendered.name.contains(patch.name.as_str()))
}

/// The patches one kustomization file applies to the object.
fn kustomization_patches(
    ctx: &RenderContext,
    k: &str,
    rendered: &Object,
    origin_name: &str,
    out: &mut Vec<PatchSource>,
) {
    let Some(bytes) = ctx.docs_bytes(k) else { return };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let Some(doc) = yaml::parse_stream(&text, &Limits::default()).docs.into_iter().next() else { return };
    let Some(root) = doc.root else { return };
    let dir = parent(k).to_string();
    let kpath: Arc<str> = Arc::from(k);
    let mut entries: Vec<(NodeId, bool)> = Vec::new();
    for key in ["patchesStrategicMerge", "patches", "patchesJson6902"] {
        if let Some(list) = doc.get(root, key) {
            entries.extend(doc.items(list).iter().map(|i| (*i, key == "patchesJson6902")));
        }
    }
    for (item, json_only) in entries {
        let selector = doc.get(item, "target");
        if let Some(sel) = selector
            && !selects(&doc, sel, rendered, origin_name)
        {
            continue;
        }
        // A file: `path:` or a plain string (patchesStrategicMerge); else inline `patch:` text.
        let file = doc.str_at(item, &["path"]).map(str::to_string).or_else(|| {
            let s = doc.scalar(item)?;
            (!s.contains('\n')).then(|| s.to_string())
        });
        if let Some(f) = file {
            let p = join(&dir, &f);
            let Some(loaded) = ctx.docs.get(&p) else { continue };
            let path: Arc<str> = Arc::from(p.as_str());
            if !loaded.objects.is_empty() && !json_only {
                for o in loaded.objects.iter().filter(|o| selector.is_some() || smp_is_for(o, rendered, origin_name)) {
                    out.push(PatchSource {
                        path: path.clone(),
                        line: o.line,
                        end_line: o.end_line,
                        body: PatchBody::StrategicMerge { object: o.clone(), line_offset: 0 },
                    });
                }
            } else if let Some(bytes) = ctx.docs_bytes(&p) {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                if let Some(ops) = json_ops(&text, 0) {
                    let end = text.lines().count().max(1);
                    out.push(PatchSource { path, line: 1, end_line: end, body: PatchBody::Json6902 { ops } });
                }
            }
            continue;
        }
        let node = doc.get(item, "patch").unwrap_or(item);
        let Some(patch_text) = doc.scalar(node) else { continue };
        let n = doc.node(node);
        inline(
            &kpath,
            patch_text,
            n.line.saturating_sub(1),
            n.end_line,
            selector.is_some(),
            rendered,
            origin_name,
            out,
        );
    }
}

/// One of the target's own patches (Flux `spec.patches`, Argo CD `kustomize.patches`).
fn inline_target_patch(p: &InlinePatch, rendered: &Object, origin_name: &str, out: &mut Vec<PatchSource>) {
    let selected = match &p.target {
        Some(sel) => {
            let Some(doc) = yaml::parse_stream(sel, &Limits::default()).docs.into_iter().next() else { return };
            let Some(root) = doc.root else { return };
            if !selects(&doc, root, rendered, origin_name) {
                return;
            }
            true
        }
        None => false,
    };
    let path: Arc<str> = Arc::from(p.path.as_str());
    let end = p.line + p.patch.lines().count();
    inline(&path, &p.patch, p.line, end, selected, rendered, origin_name, out);
}

/// An inline patch (text whose first line is line `offset + 1` of `path`).
#[allow(clippy::too_many_arguments)]
fn inline(
    path: &Arc<str>,
    text: &str,
    offset: usize,
    end_line: usize,
    selected: bool,
    rendered: &Object,
    origin_name: &str,
    out: &mut Vec<PatchSource>,
) {
    if let Some(ops) = json_ops(text, offset) {
        out.push(PatchSource { path: path.clone(), line: offset + 1, end_line, body: PatchBody::Json6902 { ops } });
        return;
    }
    let loaded = load_file(path, text.as_bytes(), &Limits::default());
    for o in loaded.objects.iter().filter(|o| selected || smp_is_for(o, rendered, origin_name)) {
        out.push(PatchSource {
            path: path.clone(),
            line: o.line + offset,
            end_line: o.end_line + offset,
            body: PatchBody::StrategicMerge { object: o.clone(), line_offset: offset },
        });
    }
}

/// JSON 6902 operations of a patch text (a YAML or JSON sequence of `{op, path}` maps), with file lines.
fn json_ops(text: &str, offset: usize) -> Option<Vec<(Vec<String>, usize)>> {
    let doc = yaml::parse_stream(text, &Limits::default()).docs.into_iter().next()?;
    let root = doc.root?;
    let items = doc.items(root);
    if items.is_empty() {
        return None;
    }
    let ops: Vec<(Vec<String>, usize)> = items
        .iter()
        .filter_map(|i| {
            let p = doc.str_at(*i, &["path"])?;
            let line = doc.get(*i, "value").map(|v| doc.node(v).line).unwrap_or(doc.node(*i).line);
            Some((json_pointer(p), line + offset))
        })
        .collect();
    (!ops.is_empty()).then_some(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_are_read_relative_to_the_wrapper() {
        let w = "../.mtls-review-render";
        assert_eq!(origin_path("path: ../.mtls-review-tree/base/dr.yaml\n", w).as_deref(), Some("base/dr.yaml"));
        assert_eq!(origin_path("path: ../shared/dr.yaml\n", w).as_deref(), Some("../shared/dr.yaml"));
        assert_eq!(origin_path("path: x.yaml\nrepo: https://github.com/a/b\n", "w"), None);
        let t = "- configuredIn: ../.mtls-review-tree/overlays/prod/kustomization.yaml\n  configuredBy:\n    apiVersion: builtin\n    kind: PatchTransformer\n- configuredIn: ../.mtls-review-tree/overlays/prod/kustomization.yaml\n  configuredBy:\n    apiVersion: builtin\n    kind: PatchTransformer\n- configuredIn: ../.mtls-review-tree/overlays/prod/kustomization.yaml\n  configuredBy:\n    kind: NamespaceTransformer\n";
        assert_eq!(patch_kustomizations(t, w), vec!["overlays/prod/kustomization.yaml".to_string()]);
        assert_eq!(namespace_kustomizations(t, w), vec!["overlays/prod/kustomization.yaml".to_string()]);
    }

    #[test]
    fn selector_patterns() {
        assert!(glob_regex_match(".*", "x"));
        assert!(glob_regex_match("prod-.*", "prod-web"));
        assert!(!glob_regex_match("prod-.*", "dev-web"));
        assert!(glob_regex_match("^a|b$", "b"));
        assert!(!glob_regex_match("a.+", "a"));
    }

    #[test]
    fn json_ops_have_value_lines() {
        let ops = json_ops("- op: replace\n  path: /spec/mtls/mode\n  value: DISABLE\n", 10).unwrap();
        assert_eq!(ops, vec![(vec!["spec".to_string(), "mtls".into(), "mode".into()], 13)]);
        assert!(json_ops("kind: X\n", 0).is_none());
    }
}

#[cfg(test)]
#[path = "provenance_mutation2_tests.rs"]
mod mutation2_tests;

#[cfg(test)]
#[path = "provenance_mutation3_tests.rs"]
mod mutation3_tests;

#[cfg(test)]
#[path = "provenance_mutation4_tests.rs"]
mod mutation4_tests;

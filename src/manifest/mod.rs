//! Manifests: file bytes to Kubernetes objects that keep the exact lines of their documents and fields.
//!
//! Pure: takes a path and bytes, returns objects and errors. Which files exist is the source layer's business.

pub mod provenance;
pub mod yaml;

use crate::finding::{ErrorKind, LoadError};
use std::sync::Arc;
use yaml::{Limits, NodeId, YamlDoc};

/// Kinds that some rule or the posture engine reads. Everything else is skipped quietly.
pub const RELEVANT_KINDS: &[&str] = &[
    "PeerAuthentication",
    "DestinationRule",
    "ConfigMap",
    "IstioOperator",
    "Namespace",
    "Service",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Pod",
    "Job",
    "CronJob",
    "Rollout",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    "VirtualService",
];

/// The text of one file as read, with the facts a fix needs to keep its style.
#[derive(Debug, Clone)]
pub struct SourceText {
    pub path: String,
    /// The file's bytes (shared with the tree that read them), valid UTF-8 from `start` on: the text without a
    /// leading BOM.
    bytes: Arc<[u8]>,
    start: usize,
    pub crlf: bool,
    pub bom: bool,
}

impl SourceText {
    /// A file's text (without its BOM), owned.
    pub fn new(path: impl Into<String>, text: impl Into<String>, crlf: bool, bom: bool) -> Self {
        let text: String = text.into();
        SourceText { path: path.into(), bytes: Arc::from(text.into_bytes()), start: 0, crlf, bom }
    }

    /// The text of `bytes` from `start` on, sharing them; `None` when that is not UTF-8.
    fn shared(path: &str, bytes: &Arc<[u8]>, start: usize, crlf: bool, bom: bool) -> Option<Self> {
        std::str::from_utf8(bytes.get(start..)?).ok()?;
        Some(SourceText { path: path.to_string(), bytes: bytes.clone(), start, crlf, bom })
    }

    /// Text without a leading BOM.
    pub fn text(&self) -> &str {
        // Checked when made (`new` holds a `String`'s bytes, `shared` validates them).
        std::str::from_utf8(&self.bytes[self.start..]).unwrap_or_default()
    }

    /// Lines without their line endings, counted as YAML parsers count them (LF, CRLF and a lone CR), so the
    /// line numbers of nodes and findings index into this.
    pub fn lines(&self) -> Vec<&str> {
        yaml::split_lines(self.text())
    }
}

/// A Kubernetes object found in a file: a top-level document or an item of a `kind: List`.
#[derive(Debug, Clone)]
pub struct Object {
    pub path: Arc<str>,
    pub tree: Arc<YamlDoc>,
    /// The object's mapping node in `tree`.
    pub root: NodeId,
    /// Index of the document in its file (0-based).
    pub doc_index: usize,
    /// Index in the enclosing `kind: List`, if any.
    pub list_index: Option<usize>,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// `metadata.namespace` as written (the mesh layer resolves the effective namespace).
    pub namespace: Option<String>,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    /// First and last line of the object (1-based, inclusive).
    pub line: usize,
    pub end_line: usize,
    /// For an object a renderer produced (kustomize, helm, a command): where it and its fields come from in the
    /// source tree. `None` for an object read from a source file as it is.
    pub provenance: Option<Arc<provenance::Provenance>>,
    /// The API server's schema verdict on this document, computed on first use and kept with the object, so an
    /// object both sides of a review share (an unchanged file, parsed once) and every re-analysis that holds it
    /// is validated once. Only the document decides it (kind, apiVersion, tree), never the mesh around it.
    pub schema: std::sync::OnceLock<Arc<[Violation]>>,
}

/// A rule of Istio's CRD validation that an object breaks (see `crate::validation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// 1-based line of the offending field.
    pub line: usize,
    /// The field as the API server names it (`spec.trafficPolicy.tls.mode`).
    pub field: String,
    /// The API server's message (the CEL rule's own message for `x-kubernetes-validations`).
    pub message: String,
}

impl Object {
    /// Line span of the node at a path of keys under the object (`["spec", "mtls", "mode"]`).
    pub fn field_lines(&self, keys: &[&str]) -> Option<(usize, usize)> {
        let n = self.tree.path(self.root, keys)?;
        let node = self.tree.node(n);
        Some((node.line, node.end_line))
    }

    /// Line of the key of the node at a path (the `mode:` of `mode: STRICT`), falling back to the value's line.
    pub fn key_line(&self, keys: &[&str]) -> Option<usize> {
        let (last, parent) = keys.split_last()?;
        let p = self.tree.path(self.root, parent)?;
        let k = self.tree.key_node(p, last)?;
        Some(self.tree.node(k).line)
    }

    /// Scalar text at a path of keys.
    pub fn str_at(&self, keys: &[&str]) -> Option<&str> {
        self.tree.str_at(self.root, keys)
    }

    /// An annotation's value.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// What one file yields.
#[derive(Debug, Clone, Default)]
pub struct LoadedFile {
    pub source: Option<Arc<SourceText>>,
    /// Shared (`Arc`): meshes and re-analyses hold the same objects instead of deep copies.
    pub objects: Vec<Arc<Object>>,
    pub errors: Vec<LoadError>,
    /// `namespace:` of a `kustomization.yaml`, when this file is one.
    pub kustomize_namespace: Option<String>,
    /// For a target's rendered output: the source texts it was rendered from (what fixes edit).
    pub inputs: Vec<Arc<SourceText>>,
    /// For a target's rendered output: the target's name.
    pub target: Option<String>,
}

/// True for the file names kustomize reads as its configuration.
pub fn is_kustomization(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(name, "kustomization.yaml" | "kustomization.yml" | "Kustomization")
}

/// True for files the loader reads (by extension).
pub fn is_manifest_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json") || is_kustomization(path)
}

/// Cheap test on raw bytes: can this file hold anything we read? Used to skip parsing in large trees.
pub fn may_hold_relevant(bytes: &[u8]) -> bool {
    // Every relevant kind name contains one of these; JSON and YAML spell kinds the same way.
    const NEEDLES: &[&[u8]] = &[
        b"PeerAuthentication",
        b"DestinationRule",
        b"ConfigMap",
        b"IstioOperator",
        b"Namespace",
        b"Service",
        b"Deployment",
        b"StatefulSet",
        b"DaemonSet",
        b"ReplicaSet",
        b"Pod",
        b"Job",
        b"Rollout",
        b"List",
        // `APIService` and `VirtualService` contain `Service`; the webhook configurations need their own.
        b"WebhookConfiguration",
    ];
    // One pass over the bytes (every needle starts with an upper-case letter) instead of one pass per needle:
    // same answer, and a manifest usually answers within its first line or two (`kind: Deployment`). A
    // backslash may be an escape in a double-quoted scalar (`"Peer\u0041uthentication"`, or a line break
    // escaped in the middle of a kind), which spells a kind without its bytes: such files are always read.
    bytes.iter().enumerate().any(|(i, b)| {
        *b == b'\\' || (b.is_ascii_uppercase() && NEEDLES.iter().any(|n| n[0] == *b && bytes[i..].starts_with(n)))
    })
}

/// Loads one file's bytes. Never panics: a panic inside the parser becomes an error entry.
pub fn load_file(path: &str, bytes: &[u8], limits: &Limits) -> LoadedFile {
    load_file_with(path, bytes, None, limits)
}

/// [`load_file`] of bytes a tree already holds: the file's [`SourceText`] shares them instead of copying the text.
pub fn load_shared(path: &str, bytes: &Arc<[u8]>, limits: &Limits) -> LoadedFile {
    load_file_with(path, bytes, Some(bytes), limits)
}

fn load_file_with(path: &str, bytes: &[u8], shared: Option<&Arc<[u8]>>, limits: &Limits) -> LoadedFile {
    match std::panic::catch_unwind(|| load_file_inner(path, bytes, shared, limits)) {
        Ok(f) => f,
        Err(_) => LoadedFile {
            errors: vec![LoadError {
                path: path.to_string(),
                line: 1,
                message: "internal error while parsing this file; it was skipped".to_string(),
                kind: ErrorKind::Parse,
            }],
            ..LoadedFile::default()
        },
    }
}

fn err(path: &str, line: usize, message: impl Into<String>, kind: ErrorKind) -> LoadError {
    LoadError { path: path.to_string(), line, message: message.into(), kind }
}

fn load_file_inner(path: &str, bytes: &[u8], shared: Option<&Arc<[u8]>>, limits: &Limits) -> LoadedFile {
    let mut out = LoadedFile::default();
    if bytes.len() > limits.max_file_bytes {
        out.errors.push(err(
            path,
            1,
            format!("file is larger than {} bytes; refused", limits.max_file_bytes),
            ErrorKind::Limit,
        ));
        return out;
    }
    if bytes.starts_with(b"version https://git-lfs.github.com/spec/") {
        out.errors.push(err(
            path,
            1,
            "Git LFS pointer file; skipped (its content is not in the repository)",
            ErrorKind::Skipped,
        ));
        return out;
    }
    let (bom, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (true, rest),
        None => (false, bytes),
    };
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => {
            // The line of the first invalid byte, line breaks counted as everywhere else (LF, CRLF, lone CR).
            let valid = std::str::from_utf8(&body[..e.valid_up_to()]).unwrap_or("");
            let idx = yaml::LineIndex::new(valid);
            let line = idx.line_count() + usize::from(valid.ends_with(['\n', '\r']));
            out.errors.push(err(path, line, "file is not valid UTF-8; skipped", ErrorKind::Encoding));
            return out;
        }
    };
    if text.contains('\0') {
        out.errors.push(err(path, 1, "file contains NUL bytes (binary?); skipped", ErrorKind::Encoding));
        return out;
    }
    let crlf = text.contains("\r\n");
    let start = bytes.len() - body.len();
    let source = Arc::new(
        shared
            .and_then(|b| SourceText::shared(path, b, start, crlf, bom))
            .unwrap_or_else(|| SourceText::new(path, text, crlf, bom)),
    );
    let stream = yaml::parse_stream(text, limits);
    // Errors at end of input point one past the last line; keep them on a line that exists.
    let last_line = yaml::LineIndex::new(text).line_count();
    for e in &stream.errors {
        let kind = if e.message.contains("refused") || e.message.contains("documents in one file") {
            ErrorKind::Limit
        } else {
            ErrorKind::Parse
        };
        out.errors.push(err(path, e.line.min(last_line), e.message.clone(), kind));
    }
    let path_arc: Arc<str> = Arc::from(path);
    let mut more_duplicates = 0;
    let kustomization = is_kustomization(path);
    for (doc_index, mut doc) in stream.docs.into_iter().enumerate() {
        let Some(root) = doc.root else { continue };
        if kustomization {
            if let Some(ns) = doc.str_at(root, &["namespace"]) {
                out.kustomize_namespace = Some(ns.to_string());
            }
            continue;
        }
        if !doc.is_map(root) {
            continue;
        }
        let kind = doc.str_at(root, &["kind"]).unwrap_or("");
        let api = doc.str_at(root, &["apiVersion"]).unwrap_or("");
        let is_list = kind == "List";
        let relevant = is_list || RELEVANT_KINDS.contains(&kind);
        if api.is_empty() || !relevant {
            continue;
        }
        more_duplicates += doc.more_duplicates;
        for d in &doc.duplicates {
            out.errors.push(err(
                path,
                d.line,
                format!(
                    "duplicate key `{}` (first at line {}); the last value is used, as Kubernetes does",
                    d.key, d.first_line
                ),
                ErrorKind::DuplicateKey,
            ));
        }
        // Kept as long as its objects: without the parser's spare capacity.
        doc.shrink_to_fit();
        let tree = Arc::new(doc);
        if is_list {
            let items = tree.get(root, "items").map(|n| tree.items(n).to_vec()).unwrap_or_default();
            for (i, item) in items.into_iter().enumerate() {
                let item = tree.resolve(item);
                if let Some(o) = make_object(&path_arc, &tree, item, doc_index, Some(i)) {
                    out.objects.push(Arc::new(o));
                }
            }
        } else if let Some(o) = make_object(&path_arc, &tree, root, doc_index, None) {
            out.objects.push(Arc::new(o));
        }
    }
    cap_errors(path, &mut out.errors, more_duplicates, limits);
    out.source = Some(source);
    out
}

/// Keeps the first `max_errors_per_file` errors of a file and replaces the rest (and duplicates the parser
/// only counted) with one summary entry at the line of the first one left out: a file with 300,000 duplicate
/// keys costs a few entries, not gigabytes of report.
fn cap_errors(path: &str, errors: &mut Vec<LoadError>, uncounted: usize, limits: &Limits) {
    let keep = limits.max_errors_per_file.max(1);
    let over = errors.len().saturating_sub(keep) + uncounted;
    if over == 0 {
        return;
    }
    let line = errors.get(keep).map(|e| e.line).unwrap_or_else(|| errors.last().map_or(1, |e| e.line));
    errors.truncate(keep);
    errors.push(err(
        path,
        line,
        format!("{over} more errors in this file are not listed (at most {keep} per file)"),
        ErrorKind::Limit,
    ));
}

/// For files read in this order, which ones fit in `max_total_bytes` (a file that does not fit is refused,
/// later smaller ones may still fit).
pub fn fit_total<'a>(sizes: impl IntoIterator<Item = usize> + 'a, limits: &Limits) -> Vec<bool> {
    let mut used = 0usize;
    sizes
        .into_iter()
        .map(|n| {
            let fits = used.saturating_add(n) <= limits.max_total_bytes;
            if fits {
                used += n;
            }
            fits
        })
        .collect()
}

/// What a file refused by [`fit_total`] yields: one limit error.
pub fn refused_total(path: &str, limits: &Limits) -> LoadedFile {
    LoadedFile {
        errors: vec![err(
            path,
            1,
            format!(
                "the files read so far reach the total limit of {} bytes (MTLS_REVIEW_MAX_TOTAL_BYTES); refused",
                limits.max_total_bytes
            ),
            ErrorKind::Limit,
        )],
        ..LoadedFile::default()
    }
}

fn make_object(
    path: &Arc<str>,
    tree: &Arc<YamlDoc>,
    root: NodeId,
    doc_index: usize,
    list_index: Option<usize>,
) -> Option<Object> {
    if !tree.is_map(root) {
        return None;
    }
    let kind = tree.str_at(root, &["kind"])?.to_string();
    if !RELEVANT_KINDS.contains(&kind.as_str()) {
        return None;
    }
    let meta = tree.get(root, "metadata");
    let name = meta.and_then(|m| tree.str_at(m, &["name"])).unwrap_or("").to_string();
    // Of all ConfigMaps only Istio's mesh configuration (`istio`, `istio-<rev>`) is read: keep no other's tree.
    if kind == "ConfigMap" && name != "istio" && !name.starts_with("istio-") {
        return None;
    }
    let api_version = tree.str_at(root, &["apiVersion"]).unwrap_or("").to_string();
    let namespace = meta.and_then(|m| tree.str_at(m, &["namespace"])).map(str::to_string);
    let labels = meta.and_then(|m| tree.get(m, "labels")).map(|l| tree.string_map(l)).unwrap_or_default();
    let annotations = meta.and_then(|m| tree.get(m, "annotations")).map(|l| tree.string_map(l)).unwrap_or_default();
    let (line, end_line) = if list_index.is_some() {
        let n = tree.node(root);
        (n.line, n.end_line)
    } else {
        (
            tree.marker_line.map(|l| l + 1).unwrap_or(tree.start_line).min(tree.node(root).line),
            tree.end_line.max(tree.node(root).end_line),
        )
    };
    Some(Object {
        path: path.clone(),
        tree: tree.clone(),
        root,
        doc_index,
        list_index,
        api_version,
        kind,
        name,
        namespace,
        labels,
        annotations,
        line,
        end_line,
        provenance: None,
        schema: std::sync::OnceLock::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(path: &str, text: &str) -> LoadedFile {
        load_file(path, text.as_bytes(), &Limits::default())
    }

    #[test]
    fn list_items_and_skipped_kinds() {
        let f = load(
            "a.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: security.istio.io/v1\n  kind: PeerAuthentication\n  metadata:\n    name: p\n    namespace: n\n  spec:\n    mtls:\n      mode: STRICT\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n---\nname: not-k8s\n",
        );
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        assert_eq!(f.objects.len(), 1);
        let o = &f.objects[0];
        assert_eq!((o.kind.as_str(), o.name.as_str(), o.namespace.as_deref()), ("PeerAuthentication", "p", Some("n")));
        assert_eq!((o.line, o.end_line), (4, 11));
        assert_eq!(o.field_lines(&["spec", "mtls", "mode"]), Some((11, 11)));
        assert_eq!(o.list_index, Some(0));
    }

    #[test]
    fn bom_crlf_json() {
        let f = load(
            "a.json",
            "\u{feff}{\r\n \"apiVersion\": \"v1\",\r\n \"kind\": \"Namespace\",\r\n \"metadata\": {\"name\": \"x\"}\r\n}\r\n",
        );
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        assert_eq!(f.objects.len(), 1);
        assert_eq!(f.objects[0].field_lines(&["metadata", "name"]), Some((4, 4)));
        let s = f.source.unwrap();
        assert!(s.crlf && s.bom);
    }

    #[test]
    fn binary_and_invalid_files_are_errors() {
        let f = load_file("b.yaml", &[0xff, 0xfe, 0x00, 0x41], &Limits::default());
        assert_eq!(f.errors.len(), 1);
        assert_eq!(f.errors[0].kind, ErrorKind::Encoding);
        let f = load("c.yaml", "a: b\n  c: d\n: : :\n");
        assert_eq!(f.errors[0].kind, ErrorKind::Parse); // The line of the first invalid byte, with line breaks counted as YAML counts them.
        for (bytes, line) in
            [(&b"a: 1\rb: \xff\n"[..], 2), (b"a: 1\r\nb: 2\r\n\xff", 3), (b"\xff", 1), (b"a\r\r\xc3", 3)]
        {
            let f = load_file("u.yaml", bytes, &Limits::default());
            assert_eq!((f.errors[0].kind, f.errors[0].line), (ErrorKind::Encoding, line), "{bytes:?}");
        }
    }

    #[test]
    fn prefilter_finds_any_kind_name_anywhere() {
        assert!(may_hold_relevant(b"apiVersion: apps/v1\nkind: Deployment\n"));
        assert!(may_hold_relevant(b"{\"kind\":\"List\"}"));
        assert!(may_hold_relevant(b"xxPodyy"));
        assert!(may_hold_relevant(b"List"));
        assert!(!may_hold_relevant(b"Lis"));
        assert!(!may_hold_relevant(b""));
        assert!(!may_hold_relevant(b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: PEER\n"));
        // Kinds spelled with escapes (Kubernetes reads them as the kind).
        for text in [
            "kind: \"Peer\\u0041uthentication\"\n",
            "kind: \"Peer\\\n  Authentication\"\n",
            "{\"kind\": \"Nam\\u0065space\"}",
        ] {
            assert!(may_hold_relevant(text.as_bytes()), "{text}");
            let f = load("e.yaml", &format!("apiVersion: v1\n{text}metadata: {{name: n, namespace: ns}}\n"));
            if !text.starts_with('{') {
                assert!(f.objects.len() == 1 && f.errors.is_empty(), "{text}: {:?}", f.errors);
            }
        }
    }

    #[test]
    fn kustomization_namespace() {
        let f = load(
            "apps/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: payments\nresources: [a.yaml]\n",
        );
        assert_eq!(f.kustomize_namespace.as_deref(), Some("payments"));
        assert!(f.objects.is_empty());
    }
    #[test]
    fn a_namespace_label_given_by_a_merge_key_is_a_label() {
        let f = load(
            "ns.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {<<: {istio-injection: enabled}}\n",
        );
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        assert_eq!(f.objects[0].labels, vec![("istio-injection".to_string(), "enabled".to_string())]);
    }

    #[test]
    fn errors_are_capped_per_file_with_one_summary() {
        let mut t = String::from("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n");
        for i in 0..3000 {
            t.push_str(&format!("x: {i}\n"));
        }
        let f = load("d.yaml", &t);
        let cap = Limits::default().max_errors_per_file;
        assert_eq!(f.errors.len(), cap + 1);
        assert!(f.errors[..cap].iter().all(|e| e.kind == ErrorKind::DuplicateKey));
        let last = f.errors.last().unwrap();
        assert_eq!(last.kind, ErrorKind::Limit);
        assert!(last.message.starts_with(&format!("{} more errors", 2999 - cap)), "{}", last.message);
        assert_eq!(f.objects.len(), 1);
        // Parse errors of many broken documents are capped the same way.
        let broken: String = (0..100).map(|_| "---\na: [\n").collect();
        let f = load("b.yaml", &broken);
        assert_eq!(f.errors.len(), cap + 1);
    }

    #[test]
    fn lone_cr_files_keep_lines_inside_the_file() {
        let text = "apiVersion: v1\rkind: Namespace\rmetadata:\r  name: n\r";
        let f = load("cr.yaml", text);
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        let o = &f.objects[0];
        assert_eq!((o.line, o.end_line), (1, 4));
        assert_eq!(o.field_lines(&["metadata", "name"]), Some((4, 4)));
        assert_eq!(f.source.unwrap().lines().len(), 4);
    }

    #[test]
    fn the_total_limit_refuses_files_past_it() {
        let limits = Limits { max_total_bytes: 10, ..Limits::default() };
        assert_eq!(fit_total([4, 4, 4, 2], &limits), vec![true, true, false, true]);
        let f = refused_total("x.yaml", &limits);
        assert_eq!(f.errors[0].kind, ErrorKind::Limit);
    }
}

#[cfg(test)]
#[path = "mutation_tests.rs"]
mod mutation_tests;

#[cfg(test)]
#[path = "shared_tests.rs"]
mod shared_tests;

#[cfg(test)]
#[path = "mutation3_tests.rs"]
mod mutation3_tests;

#[cfg(test)]
#[path = "mutation5_tests.rs"]
mod mutation5_tests;

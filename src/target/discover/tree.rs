//! The tree as discovery sees it: files, directories, parsed documents, kustomizations and what they reference.

use crate::manifest::is_kustomization;
use crate::manifest::yaml::{Limits, NodeId, Style, Value, YamlDoc, parse_stream};
use std::collections::{BTreeMap, BTreeSet};

/// A YAML value with the line it is written on: what Flux and Argo CD objects are read as (Argo CD templates are
/// rendered on it). Scalars are kept as text; a null is `None`.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    S(Option<String>),
    M(Vec<(String, N)>),
    L(Vec<N>),
}

/// A [`V`] and its 1-based line.
#[derive(Debug, Clone, PartialEq)]
pub struct N {
    pub v: V,
    pub line: usize,
}

impl N {
    pub fn get(&self, key: &str) -> Option<&N> {
        match &self.v {
            V::M(e) => e.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn at(&self, keys: &[&str]) -> Option<&N> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }
    pub fn str(&self) -> Option<&str> {
        match &self.v {
            V::S(Some(s)) => Some(s),
            _ => None,
        }
    }
    /// Non-empty scalar text at a path.
    pub fn s(&self, keys: &[&str]) -> Option<&str> {
        self.at(keys).and_then(N::str).filter(|s| !s.is_empty())
    }
    pub fn items(&self) -> &[N] {
        match &self.v {
            V::L(i) => i,
            _ => &[],
        }
    }
    pub fn entries(&self) -> &[(String, N)] {
        match &self.v {
            V::M(e) => e,
            _ => &[],
        }
    }
    pub fn truthy(&self, keys: &[&str]) -> bool {
        self.s(keys).and_then(crate::settings::parse_bool).unwrap_or(false)
    }
    /// As JSON (scalars: numbers and booleans as YAML reads them when written plain; JSON is valid YAML).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.v {
            V::S(None) => serde_json::Value::Null,
            V::S(Some(s)) => serde_json::Value::String(s.clone()),
            V::M(e) => serde_json::Value::Object(e.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            V::L(i) => serde_json::Value::Array(i.iter().map(N::to_json).collect()),
        }
    }
}

/// Converts a parsed node (bounded depth; aliases followed a bounded number of times).
pub fn to_n(doc: &YamlDoc, id: NodeId, depth: usize) -> N {
    let id = doc.resolve(id);
    let node = doc.node(id);
    let v = if depth > 64 {
        V::S(None)
    } else {
        match &node.value {
            Value::Scalar { text, style } => {
                if *style == Style::Plain && crate::manifest::yaml::is_null_text(text) {
                    V::S(None)
                } else {
                    V::S(Some(text.to_string()))
                }
            }
            Value::Seq { items, .. } => V::L(items.iter().map(|i| to_n(doc, *i, depth + 1)).collect()),
            Value::Map { entries, .. } => V::M(
                entries
                    .iter()
                    .filter_map(|(k, v)| {
                        let mut n = to_n(doc, *v, depth + 1);
                        if matches!(n.v, V::S(_)) {
                            n.line = doc.node(*k).line; // a block scalar starts below its key: keep the key's line
                        }
                        Some((doc.key_text(*k)?.to_string(), n))
                    })
                    .collect(),
            ),
            Value::Alias(_) => V::S(None),
        }
    };
    N { v, line: node.line }
}

/// One parsed top-level document: its tree and first line.
#[derive(Debug)]
pub struct Doc {
    pub n: N,
    pub line: usize,
}

impl Doc {
    pub fn api(&self) -> &str {
        self.n.s(&["apiVersion"]).unwrap_or("")
    }
    pub fn kind(&self) -> &str {
        self.n.s(&["kind"]).unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.n.s(&["metadata", "name"]).unwrap_or("")
    }
    pub fn namespace(&self) -> Option<&str> {
        self.n.s(&["metadata", "namespace"])
    }
    pub fn is_flux(&self) -> bool {
        self.api().contains(".toolkit.fluxcd.io/")
    }
    pub fn is_argo(&self) -> bool {
        self.api().starts_with("argoproj.io/")
    }
}

/// Strategic-merge directives: a document that carries one is a patch.
const DIRECTIVES: &[&str] = &["$patch", "$setElementOrder", "$retainKeys", "$deleteFromPrimitiveList"];

/// Byte needles that make a file worth parsing here (everything else is only listed): GitOps objects and
/// strategic-merge patches.
const NEEDLES: &[&[u8]] =
    &[b"fluxcd.io", b"argoproj.io", b"$patch", b"$setElementOrder", b"$retainKeys", b"$deleteFromPrimitiveList"];

/// Needles of files that only Flux and Argo CD discovery reads (Flux `postBuild.substituteFrom` ConfigMaps and
/// Secrets, Argo CD generator files): parsed only when the tree holds a Flux or Argo CD object. In a tree of plain
/// and kustomize manifests nothing reads them, and they are most of the tree (parsing them here doubled the
/// parsing of a review).
const GITOPS_ONLY_NEEDLES: &[&[u8]] = &[b"ConfigMap", b"Secret"];

/// Does `b` contain one of `needles`? Needles that share their first byte with another are found with one
/// `memchr` pass over that byte (the `$` directives), each other needle with its own `memmem` search (both
/// vectorized: this runs over every file of both trees).
fn has_needle(b: &[u8], needles: &[&[u8]]) -> bool {
    let first = |n: &&[u8]| n.first().copied();
    needles.iter().enumerate().any(|(i, n)| {
        let Some(c) = first(n) else { return false };
        let shared = || needles.iter().filter(move |m| first(m) == Some(c));
        if shared().count() == 1 {
            return memchr::memmem::find(b, n).is_some();
        }
        // The group is searched once, at its first needle.
        needles.iter().position(|m| first(m) == Some(c)) == Some(i)
            && memchr::memchr_iter(c, b).any(|at| shared().any(|m| b[at..].starts_with(m)))
    })
}

fn has_directive(n: &N) -> bool {
    match &n.v {
        V::M(e) => e.iter().any(|(k, v)| DIRECTIVES.contains(&k.as_str()) || has_directive(v)),
        V::L(i) => i.iter().any(has_directive),
        V::S(_) => false,
    }
}

/// A kustomization file and what it references (paths resolved against the tree root).
#[derive(Debug, Default)]
pub struct Kust {
    #[allow(dead_code)]
    pub dir: String,
    pub file: String,
    pub component: bool,
    /// `resources`, `bases`, `components` that are directories holding a kustomization.
    pub dirs: Vec<String>,
    /// `resources`, `bases`, `components` that are files.
    pub files: Vec<String>,
    /// Patch files (`patches[].path`, `patchesStrategicMerge` file entries, `patchesJson6902[].path`).
    pub patches: Vec<String>,
    /// Other files it reads (crds, replacements, transformers, generators, configurations, helm values).
    pub inputs: Vec<String>,
    /// The kustomization's `namespace:`.
    pub namespace: Option<String>,
}

/// The whole tree.
pub struct Tree<'a> {
    pub files: BTreeMap<&'a str, &'a [u8]>,
    /// Every directory holding a file at any depth (`""` is the root).
    pub dirs: BTreeSet<String>,
    pub docs: BTreeMap<&'a str, Vec<Doc>>,
    /// Kustomizations by directory.
    pub kusts: BTreeMap<String, Kust>,
    /// Files whose every document is a strategic-merge patch (carries `$patch` or another directive).
    pub patch_only: BTreeSet<String>,
}

pub fn parent(path: &str) -> &str {
    path.rfind('/').map(|i| &path[..i]).unwrap_or("")
}

pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `dir` joined with a relative path, `.` and `..` resolved; `None` when it leaves the tree.
pub fn join(dir: &str, rel: &str) -> Option<String> {
    let mut out: Vec<&str> =
        if rel.starts_with('/') { Vec::new() } else { dir.split('/').filter(|s| !s.is_empty()).collect() };
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            s => out.push(s),
        }
    }
    Some(out.join("/"))
}

/// Is `path` `dir` or below it?
pub fn under(path: &str, dir: &str) -> bool {
    dir.is_empty() || path == dir || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
}

/// A remote kustomize reference (git URL, `github.com/...`, HTTP): the renderer's business.
pub fn is_remote(r: &str) -> bool {
    r.contains("://")
        || r.starts_with("github.com/")
        || r.starts_with("git@")
        || r.contains("?ref=")
        || r.contains(".git//")
}

pub fn is_yaml(path: &str) -> bool {
    let l = path.to_ascii_lowercase();
    l.ends_with(".yaml") || l.ends_with(".yml")
}

impl<'a> Tree<'a> {
    pub fn new(files: &[(&'a str, &'a [u8])]) -> Tree<'a> {
        let mut t = Tree {
            files: BTreeMap::new(),
            dirs: BTreeSet::new(),
            docs: BTreeMap::new(),
            kusts: BTreeMap::new(),
            patch_only: BTreeSet::new(),
        };
        for (p, b) in files {
            t.files.insert(p, b);
            let mut d = parent(p);
            loop {
                if !t.dirs.insert(d.to_string()) || d.is_empty() {
                    break;
                }
                d = parent(d);
            }
        }
        t.dirs.insert(String::new());
        let mut deferred: Vec<(&'a str, &'a [u8])> = Vec::new();
        for (p, b) in files {
            let kust = is_kustomization(p);
            if !kust && !has_needle(b, NEEDLES) {
                if has_needle(b, GITOPS_ONLY_NEEDLES) {
                    deferred.push((p, b));
                }
                continue;
            }
            t.read_docs(p, b, kust);
        }
        if t.docs.values().flatten().any(|d| d.is_flux() || d.is_argo()) {
            for (p, b) in deferred {
                t.read_docs(p, b, false);
            }
        }
        let kfiles: Vec<&str> = files.iter().map(|(p, _)| *p).filter(|p| is_kustomization(p)).collect();
        for f in kfiles {
            let dir = parent(f).to_string();
            if t.kusts.contains_key(&dir) {
                continue; // kustomize reads the first of its recognised names; sorted order puts `Kustomization` first
            }
            let k = t.read_kust(&dir, f);
            t.kusts.insert(dir, k);
        }
        t
    }

    /// Parses one file's documents into `docs` (and `patch_only` when every document is a patch).
    fn read_docs(&mut self, p: &'a str, b: &'a [u8], kust: bool) {
        let Ok(text) = std::str::from_utf8(b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)) else { return };
        let stream = parse_stream(text, &Limits::default());
        let docs: Vec<Doc> = stream
            .docs
            .iter()
            .filter_map(|d| d.root.map(|r| Doc { n: to_n(d, r, 0), line: d.node(r).line }))
            .filter(|d| matches!(d.n.v, V::M(_)))
            .collect();
        if !kust && !docs.is_empty() && stream.errors.is_empty() && docs.iter().all(|d| has_directive(&d.n)) {
            self.patch_only.insert(p.to_string());
        }
        self.docs.insert(p, docs);
    }

    /// The kustomization file of a directory, in kustomize's order of names.
    pub fn kust_file(&self, dir: &str) -> Option<String> {
        ["kustomization.yaml", "kustomization.yml", "Kustomization"]
            .iter()
            .map(|n| if dir.is_empty() { n.to_string() } else { format!("{dir}/{n}") })
            .find(|p| self.files.contains_key(p.as_str()))
    }

    fn read_kust(&self, dir: &str, file: &str) -> Kust {
        let file = self.kust_file(dir).unwrap_or_else(|| file.to_string());
        let mut k = Kust { dir: dir.to_string(), file: file.clone(), ..Kust::default() };
        let Some(doc) = self.docs.get(file.as_str()).and_then(|d| d.first()) else { return k };
        let n = &doc.n;
        k.component = n.s(&["kind"]) == Some("Component");
        k.namespace = n.s(&["namespace"]).map(str::to_string);
        for key in ["resources", "bases", "components"] {
            for r in n.get(key).map(N::items).unwrap_or_default() {
                let Some(r) = r.str() else { continue };
                if is_remote(r) {
                    continue;
                }
                let Some(p) = join(dir, r) else { continue };
                if self.files.contains_key(p.as_str()) {
                    k.files.push(p);
                } else if self.kust_file(&p).is_some() {
                    k.dirs.push(p);
                }
            }
        }
        let mut file_of = |key: &str, sub: Option<&str>, into_patches: bool| {
            for item in n.get(key).map(N::items).unwrap_or_default() {
                let r = match sub {
                    Some(s) => item.s(&[s]),
                    None => item.str().filter(|s| !s.contains('\n') && !s.contains(": ")),
                };
                let Some(p) = r.filter(|r| !is_remote(r)).and_then(|r| join(dir, r)) else { continue };
                if self.files.contains_key(p.as_str()) {
                    if into_patches { k.patches.push(p) } else { k.inputs.push(p) }
                } else if !into_patches && self.kust_file(&p).is_some() {
                    k.dirs.push(p); // a transformers/generators directory
                }
            }
        };
        file_of("patches", Some("path"), true);
        file_of("patchesStrategicMerge", None, true);
        file_of("patchesJson6902", Some("path"), true);
        file_of("replacements", Some("path"), false);
        for key in ["crds", "transformers", "generators", "validators", "configurations"] {
            file_of(key, None, false);
        }
        file_of("helmCharts", Some("valuesFile"), false);
        k
    }

    /// The files a kustomize build of `dir` reads as resources, through the kustomizations it references; for a
    /// directory without a kustomization, what Flux generates: every `.yaml`/`.yml` file below it, and the builds
    /// of subdirectories holding a kustomization (not descended into).
    pub fn build_files(&self, dir: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut seen = BTreeSet::new();
        if self.kusts.contains_key(dir) {
            self.kust_build(dir, &mut out, &mut seen);
        } else {
            let (loose, nested) = self.generated(dir);
            out.extend(loose);
            for d in nested {
                self.kust_build(&d, &mut out, &mut seen);
            }
        }
        out
    }

    /// What Flux's generated kustomization of `dir` holds: the loose YAML files, and the nested kustomization
    /// directories (each taken whole).
    pub fn generated(&self, dir: &str) -> (Vec<String>, Vec<String>) {
        let mut nested: Vec<String> = Vec::new();
        let mut loose = Vec::new();
        for d in self.dirs.iter().filter(|d| *d != dir && under(d, dir)) {
            if self.kusts.contains_key(d) && !nested.iter().any(|n| under(d, n)) {
                nested.push(d.clone());
            }
        }
        for p in self.files.keys().filter(|p| under(p, dir) && is_yaml(p) && !is_kustomization(p)) {
            if !nested.iter().any(|n| under(p, n)) {
                loose.push(p.to_string());
            }
        }
        (loose, nested)
    }

    fn kust_build(&self, dir: &str, out: &mut BTreeSet<String>, seen: &mut BTreeSet<String>) {
        if !seen.insert(dir.to_string()) {
            return;
        }
        let Some(k) = self.kusts.get(dir) else { return };
        out.extend(k.files.iter().cloned());
        for d in &k.dirs {
            self.kust_build(d, out, seen);
        }
    }

    /// A file whose every document is a Flux or Argo CD object, or one of Flux's bootstrap (gotk) files.
    pub fn gitops_only(&self, path: &str) -> bool {
        let name = basename(path);
        if name.starts_with("gotk-") && parent(path).ends_with("flux-system") {
            return true;
        }
        match self.docs.get(path) {
            Some(d) => !d.is_empty() && d.iter().all(|d| d.is_flux() || d.is_argo()),
            None => false,
        }
    }

    /// Is anything of the tree at or below `dir`?
    pub fn has_dir(&self, dir: &str) -> bool {
        self.dirs.contains(dir)
    }
}

#[cfg(test)]
#[path = "tree_tests.rs"]
mod tree_tests;

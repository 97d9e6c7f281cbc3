//! What a kustomization reads: its closure of files, found by following `resources`, `bases`, `components`,
//! patches, generators and every other string that names a file or a kustomization directory of the tree. Pure.
//!
//! The closure is what a target's render depends on: it is written to the render directory (base and head each
//! render from their own bytes), it keys the render cache, and it tells which targets a changed file feeds.

use crate::manifest::yaml::{self, Limits, NodeId, YamlDoc};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The files of one side of a tree: path (relative to the tree root, `/`-separated, normalized; paths outside the
/// root start with `../`) to bytes.
pub type FileMap = BTreeMap<String, Arc<[u8]>>;

/// File names kustomize reads as its configuration, in the order it looks for them.
pub const KUSTOMIZATION_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// What a kustomization closure holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Closure {
    /// Every file the build reads (kustomizations included), sorted.
    pub files: BTreeSet<String>,
    /// Kustomization files in the closure, root first, then in the order they were reached.
    pub kustomizations: Vec<String>,
    /// References the tree cannot satisfy: remote bases (URLs) and paths that do not exist, with the
    /// kustomization and line that names them.
    pub unresolved: Vec<(String, usize, String)>,
    /// The tree paths of local references that are not in the tree (normalized; `../x` for outside the root).
    pub missing: Vec<String>,
}

/// Joins a relative reference to a directory and normalizes `.` and `..` (keeping leading `..` that leave the root).
pub fn join(dir: &str, reference: &str) -> String {
    let mut parts: Vec<&str> = if dir.is_empty() { Vec::new() } else { dir.split('/').collect() };
    for seg in reference.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// The directory part of a path (`""` for a top-level file).
pub fn parent(path: &str) -> &str {
    path.rfind('/').map(|i| &path[..i]).unwrap_or("")
}

/// The kustomization file of a directory, if the tree has one.
pub fn kustomization_in(files: &FileMap, dir: &str) -> Option<String> {
    KUSTOMIZATION_NAMES.iter().map(|n| join(dir, n)).find(|p| files.contains_key(p))
}

/// True for references kustomize fetches from the network (remote bases, `github.com/...`, `https://...`).
pub fn is_remote(reference: &str) -> bool {
    reference.contains("://")
        || reference.starts_with("git@")
        || reference.starts_with("github.com/")
        || reference.starts_with("gitlab.com/")
        || reference.starts_with("bitbucket.org/")
        || reference.contains("?ref=")
        || reference.contains(".git//")
}

/// Keys whose values name files or kustomization directories (a list of strings, or of maps with `path`).
const REFERENCE_KEYS: &[&str] = &[
    "resources",
    "bases",
    "components",
    "patchesStrategicMerge",
    "crds",
    "configurations",
    "transformers",
    "generators",
    "validators",
];

/// The closure of the kustomization in `dir`.
pub fn closure(files: &FileMap, dir: &str) -> Closure {
    let mut out = Closure::default();
    let mut queue: Vec<String> = vec![dir.to_string()];
    let mut seen_dirs: BTreeSet<String> = BTreeSet::new();
    while let Some(d) = queue.pop() {
        if !seen_dirs.insert(d.clone()) {
            continue;
        }
        let Some(k) = kustomization_in(files, &d) else { continue };
        out.files.insert(k.clone());
        out.kustomizations.push(k.clone());
        let Some(bytes) = files.get(&k) else { continue };
        let text = String::from_utf8_lossy(bytes);
        let stream = yaml::parse_stream(&text, &Limits::default());
        let Some(doc) = stream.docs.first() else { continue };
        let Some(root) = doc.root else { continue };
        let mut refs: Vec<(String, usize)> = Vec::new();
        collect_refs(doc, root, &mut refs);
        // Helm charts: `helmCharts[].name` under `helmGlobals.chartHome` (default `charts`).
        let chart_home = doc.str_at(root, &["helmGlobals", "chartHome"]).unwrap_or("charts").to_string();
        if let Some(charts) = doc.get(root, "helmCharts") {
            for item in doc.items(charts) {
                if let Some(name) = doc.str_at(*item, &["name"]) {
                    let chart_dir = join(&d, &format!("{chart_home}/{name}"));
                    let prefix = format!("{chart_dir}/");
                    for p in files.keys().filter(|p| p.starts_with(&prefix)) {
                        out.files.insert(p.clone());
                    }
                }
                if let Some(v) = doc.str_at(*item, &["valuesFile"]) {
                    refs.push((v.to_string(), doc.node(*item).line));
                }
            }
        }
        for (r, line) in refs {
            if is_remote(&r) {
                out.unresolved.push((k.clone(), line, format!("remote reference `{r}` (not fetched)")));
                continue;
            }
            let p = join(&d, &r);
            if files.contains_key(&p) {
                out.files.insert(p);
            } else if kustomization_in(files, &p).is_some() {
                queue.push(p);
            } else if looks_like_path(&r) {
                out.unresolved.push((k.clone(), line, format!("`{r}` is not in the tree")));
                out.missing.push(p);
            }
        }
        // Depth-first order would reach bases last; keep a stable breadth order instead.
        queue.sort();
        queue.reverse();
    }
    out
}

/// True for a string that looks like a file or directory reference rather than a name or a value.
fn looks_like_path(s: &str) -> bool {
    !s.contains(char::is_whitespace) && !s.contains('=') && (s.contains('/') || s.contains('.'))
}

/// Every string under the reference keys, plus `path` / `files` / `envs` / `env` entries anywhere (patches,
/// generators, replacements, openapi), with their lines.
fn collect_refs(doc: &YamlDoc, root: NodeId, out: &mut Vec<(String, usize)>) {
    for (k, v) in doc.entries(root) {
        let Some(key) = doc.scalar(*k) else { continue };
        if REFERENCE_KEYS.contains(&key) {
            for item in doc.items(*v) {
                if let Some(s) = doc.scalar(*item) {
                    out.push((s.to_string(), doc.node(*item).line));
                } else if let Some(p) = doc.str_at(*item, &["path"]) {
                    out.push((p.to_string(), doc.node(*item).line));
                }
            }
        }
    }
    // Nested: patches[].path, patchesJson6902[].path, replacements[].path, openapi.path, generator files.
    let mut stack = vec![root];
    let mut budget = 100_000usize;
    while let Some(n) = stack.pop() {
        budget = budget.saturating_sub(1);
        if budget == 0 {
            break;
        }
        for (k, v) in doc.entries(n) {
            match doc.scalar(*k) {
                Some("path") | Some("env") => {
                    if let Some(s) = doc.scalar(*v) {
                        out.push((s.to_string(), doc.node(*v).line));
                    }
                }
                Some("files") | Some("envs") => {
                    for item in doc.items(*v) {
                        if let Some(s) = doc.scalar(*item) {
                            // `files: [key=path]` names the file after the `=`.
                            let s = s.rsplit_once('=').map(|(_, p)| p).unwrap_or(s);
                            out.push((s.to_string(), doc.node(*item).line));
                        }
                    }
                }
                _ => {}
            }
            stack.push(*v);
        }
        stack.extend(doc.items(n).iter().copied());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> FileMap {
        files.iter().map(|(p, t)| (p.to_string(), Arc::from(t.as_bytes()))).collect()
    }

    #[test]
    fn join_normalizes() {
        assert_eq!(join("overlays/prod", "../../base"), "base");
        assert_eq!(join("a", "./b/../c.yaml"), "a/c.yaml");
        assert_eq!(join("", "../x"), "../x");
        assert_eq!(join("../x", "../y"), "../y");
        assert_eq!(join("", "../../x"), "../../x");
    }

    #[test]
    fn follows_bases_patches_and_generators() {
        let files = tree(&[
            ("base/kustomization.yaml", "resources:\n- pa.yaml\n- https://github.com/x/y//z?ref=v1\n"),
            ("base/pa.yaml", "kind: PeerAuthentication\n"),
            (
                "overlays/prod/kustomization.yaml",
                "resources: [../../base, extra.yaml]\npatches:\n- path: patch.yaml\nconfigMapGenerator:\n- name: c\n  files: [k=app.properties]\ncomponents: [../../components/x]\nnamespace: shop\n",
            ),
            ("overlays/prod/patch.yaml", "kind: PeerAuthentication\n"),
            ("overlays/prod/extra.yaml", "kind: Service\n"),
            ("overlays/prod/app.properties", "a=b\n"),
            ("components/x/kustomization.yaml", "kind: Component\nresources: [dr.yaml]\n"),
            ("components/x/dr.yaml", "kind: DestinationRule\n"),
            ("unrelated.yaml", "kind: Service\n"),
        ]);
        let c = closure(&files, "overlays/prod");
        let got: Vec<&str> = c.files.iter().map(String::as_str).collect();
        assert_eq!(
            got,
            vec![
                "base/kustomization.yaml",
                "base/pa.yaml",
                "components/x/dr.yaml",
                "components/x/kustomization.yaml",
                "overlays/prod/app.properties",
                "overlays/prod/extra.yaml",
                "overlays/prod/kustomization.yaml",
                "overlays/prod/patch.yaml",
            ]
        );
        assert_eq!(c.kustomizations[0], "overlays/prod/kustomization.yaml");
        assert_eq!(c.unresolved.len(), 1);
        assert!(c.unresolved[0].2.contains("remote"), "{:?}", c.unresolved);
        assert_eq!(c.unresolved[0].1, 3);
    }

    #[test]
    fn missing_reference_is_unresolved_and_cycles_end() {
        let files = tree(&[
            ("a/kustomization.yaml", "resources: [../b, gone.yaml]\n"),
            ("b/kustomization.yaml", "resources: [../a]\n"),
        ]);
        let c = closure(&files, "a");
        assert_eq!(c.kustomizations.len(), 2);
        assert_eq!(c.unresolved, vec![("a/kustomization.yaml".into(), 1, "`gone.yaml` is not in the tree".into())]);
    }

    #[test]
    fn helm_chart_home_is_in_the_closure() {
        let files = tree(&[
            ("app/kustomization.yaml", "helmCharts:\n- name: web\n  valuesFile: values.yaml\n"),
            ("app/charts/web/Chart.yaml", "name: web\n"),
            ("app/charts/web/templates/d.yaml", "kind: Deployment\n"),
            ("app/values.yaml", "a: 1\n"),
        ]);
        let c = closure(&files, "app");
        assert!(c.files.contains("app/charts/web/templates/d.yaml"));
        assert!(c.files.contains("app/values.yaml"));
    }
}

#[cfg(test)]
#[path = "closure_mutation2_tests.rs"]
mod mutation2_tests;

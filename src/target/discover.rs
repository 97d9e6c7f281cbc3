//! Discovery: which meshes and targets a tree holds. Pure: reads the tree's files as bytes.
//!
//! In order, the first that applies decides (documented in `docs/targets.md`):
//! 1. `.mtls-review.yaml` `meshes:` (config wins, nothing is discovered);
//! 2. Flux `Kustomization`s and Argo CD `Application`s / `ApplicationSet`s: one mesh per cluster;
//! 3. kustomization roots, Helm charts and the plain files outside every kustomization, one mesh unless the
//!    roots' paths name several environments.

mod gitops;
#[cfg(test)]
mod tests;
mod tree;

use super::{MeshOverrides, MeshPlan, Plan, RenderKind, Skipped, Target, TargetOrigin};
use crate::manifest::{is_kustomization, is_manifest_path};
use crate::settings::{ProjectConfig, RenderConfig};
use std::collections::{BTreeMap, BTreeSet};
use tree::{Tree, basename, join, parent, under};

/// Directory names whose children are environments or clusters.
pub const ENV_CONTAINERS: &[&str] = &["overlays", "envs", "env", "environments", "clusters", "regions", "stages"];

/// Path segments read as an environment name wherever they appear.
pub const ENV_NAMES: &[&str] = &[
    "dev",
    "develop",
    "development",
    "test",
    "testing",
    "qa",
    "int",
    "integration",
    "staging",
    "stage",
    "stg",
    "preprod",
    "pre-prod",
    "uat",
    "prod",
    "production",
    "prd",
    "sandbox",
    "demo",
    "perf",
    "canary",
    "live",
];

/// Finds the meshes and targets of a tree. `files` are the tree's files (path relative to the root,
/// `/`-separated; bytes), sorted by path.
pub fn discover(files: &[(&str, &[u8])], config: &ProjectConfig) -> Plan {
    let tree = Tree::new(files);
    let mut b = Builder::default();
    for k in tree.kusts.values() {
        b.patch_files.extend(k.patches.iter().cloned());
    }
    b.patch_files.extend(tree.patch_only.iter().cloned());
    if !config.meshes.is_empty() {
        from_config(&tree, config, &mut b);
    } else if !gitops::discover(&tree, &mut b) {
        b = Builder { patch_files: b.patch_files, ..Builder::default() };
        plain_tree(&tree, &mut b);
    }
    b.finish()
}

/// Collects targets by mesh; [`Builder::finish`] sorts and indexes them.
#[derive(Default)]
pub(crate) struct Builder {
    targets: BTreeMap<String, Target>,
    meshes: BTreeMap<String, (BTreeSet<String>, MeshOverrides, String)>,
    skipped: BTreeSet<Skipped>,
    patch_files: BTreeSet<String>,
}

impl Builder {
    /// Adds a target (a unique name is made from its own when taken by a different target) to a mesh.
    pub(crate) fn add(&mut self, mesh: &str, mut t: Target) -> String {
        let base = t.name.clone();
        let mut n = 2;
        while let Some(old) = self.targets.get(&t.name) {
            if *old == t {
                break;
            }
            t.name = format!("{base}#{n}");
            n += 1;
        }
        let name = t.name.clone();
        self.targets.insert(name.clone(), t);
        self.mesh(mesh, "").0.insert(name.clone());
        name
    }

    pub(crate) fn mesh(&mut self, name: &str, reason: &str) -> &mut (BTreeSet<String>, MeshOverrides, String) {
        let m = self.meshes.entry(name.to_string()).or_default();
        if m.2.is_empty() {
            m.2 = reason.to_string();
        }
        m
    }

    pub(crate) fn skip(&mut self, path: &str, line: usize, reason: impl Into<String>) {
        self.skipped.insert(Skipped { path: path.to_string(), line, reason: reason.into() });
    }

    fn finish(self) -> Plan {
        let names: Vec<String> = self.targets.keys().cloned().collect();
        let index = |n: &String| names.binary_search(n).unwrap_or(0);
        let meshes = self
            .meshes
            .into_iter()
            .map(|(name, (ts, settings, reason))| MeshPlan {
                targets: ts.iter().map(index).collect(),
                name,
                settings,
                reason,
            })
            .collect();
        Plan {
            targets: self.targets.into_values().collect(),
            meshes,
            skipped: self.skipped.into_iter().collect(),
            patch_files: self.patch_files.into_iter().collect(),
        }
    }
}

/// Manifest files at or below `path` (or `path` itself), without kustomization files and patches.
fn manifest_files_under(tree: &Tree, path: &str, b: &Builder) -> Vec<String> {
    tree.files
        .keys()
        .filter(|p| under(p, path) && is_manifest_path(p) && !is_kustomization(p) && !b.patch_files.contains(**p))
        .map(|p| p.to_string())
        .collect()
}

/// Rule 1: the configured meshes, as written.
fn from_config(tree: &Tree, config: &ProjectConfig, b: &mut Builder) {
    for m in &config.meshes {
        let settings = MeshOverrides {
            root_namespace: m.root_namespace.clone(),
            cluster_domain: m.cluster_domain.clone(),
            auto_mtls: m.auto_mtls,
            istio_version: m.istio_version,
            default_namespace: m.default_namespace.clone(),
        };
        b.mesh(&m.name, "configured in .mtls-review.yaml `meshes:`").1 = settings;
        for t in &m.targets {
            let path = join("", &t.path).unwrap_or_default();
            let is_file = tree.files.contains_key(path.as_str());
            if !is_file && !tree.has_dir(&path) {
                b.skip(
                    crate::settings::PROJECT_CONFIG_FILE,
                    1,
                    format!("mesh `{}`: target path `{}` is not in the tree", m.name, t.path),
                );
                continue;
            }
            let render = t.render.unwrap_or(if tree.kusts.contains_key(&path) {
                RenderConfig::Kustomize
            } else {
                RenderConfig::Plain
            });
            let kind = match render {
                RenderConfig::Kustomize => RenderKind::Kustomize,
                RenderConfig::Plain => RenderKind::Plain,
                RenderConfig::Helm => RenderKind::Helm {
                    release: basename(&path).to_string(),
                    values_files: t.values_files.clone(),
                    values: None,
                },
                RenderConfig::Command => {
                    if t.command.is_empty() {
                        b.skip(
                            crate::settings::PROJECT_CONFIG_FILE,
                            1,
                            format!("mesh `{}`: target `{}` has `render: command` and no `command`", m.name, t.path),
                        );
                        continue;
                    }
                    RenderKind::Command { command: t.command.clone() }
                }
            };
            let mut target = Target::new(
                format!("config:{}", if path.is_empty() { "." } else { &path }),
                path.clone(),
                kind,
                TargetOrigin::Config,
            );
            if render == RenderConfig::Plain {
                target.files = manifest_files_under(tree, &path, b);
            }
            target.default_namespace = t.namespace.clone();
            target.declared_at = Some((crate::settings::PROJECT_CONFIG_FILE.to_string(), 1));
            b.add(&m.name, target);
        }
    }
}

/// The environment a root's path names: the segment after an [`ENV_CONTAINERS`] directory, else a segment
/// that is one of [`ENV_NAMES`] (the first such, outermost).
pub fn environment_of(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    for (i, s) in segs.iter().enumerate() {
        if ENV_CONTAINERS.contains(&s.to_ascii_lowercase().as_str()) {
            if let Some(next) = segs.get(i + 1) {
                return Some(next.to_string());
            }
        }
    }
    segs.iter().find(|s| ENV_NAMES.contains(&s.to_ascii_lowercase().as_str())).map(|s| s.to_string())
}

/// Rule 3: kustomization roots, Helm charts and plain files.
fn plain_tree(tree: &Tree, b: &mut Builder) {
    let mut referenced: BTreeSet<&str> = BTreeSet::new();
    let mut read: BTreeSet<&str> = BTreeSet::new();
    for k in tree.kusts.values() {
        referenced.extend(k.dirs.iter().map(String::as_str));
        read.extend(k.files.iter().chain(&k.inputs).chain(&k.patches).map(String::as_str));
    }
    let mut roots: Vec<Target> = Vec::new();
    for (dir, k) in &tree.kusts {
        if referenced.contains(dir.as_str()) {
            continue;
        }
        if k.component {
            b.skip(&k.file, 1, "a kustomize Component that no kustomization uses (a Component cannot be built alone)");
            continue;
        }
        let name = if dir.is_empty() { ".".to_string() } else { dir.clone() };
        roots.push(Target::new(name, dir.clone(), RenderKind::Kustomize, TargetOrigin::KustomizeRoot));
    }
    // Kustomizations that no root reaches (only referenced in a cycle).
    let mut reached = BTreeSet::new();
    let mut stack: Vec<&str> = roots.iter().map(|t| t.path.as_str()).collect();
    while let Some(d) = stack.pop() {
        if reached.insert(d.to_string()) {
            stack.extend(
                tree.kusts.get(d).map(|k| k.dirs.iter().map(String::as_str).collect::<Vec<_>>()).unwrap_or_default(),
            );
        }
    }
    for (dir, k) in &tree.kusts {
        if !reached.contains(dir) && referenced.contains(dir.as_str()) && !k.component {
            b.skip(&k.file, 1, "kustomization referenced only from a cycle of kustomizations; not built");
        }
    }
    let charts: Vec<String> =
        tree.files.keys().filter(|p| basename(p) == "Chart.yaml").map(|p| parent(p).to_string()).collect();
    let top_charts: Vec<&String> = charts
        .iter()
        .filter(|c| !charts.iter().any(|o| o != *c && under(c, o)) && !tree.kusts.keys().any(|k| under(c, k)))
        .collect();
    for c in &top_charts {
        let kind = RenderKind::Helm { release: basename(c).to_string(), values_files: Vec::new(), values: None };
        roots.push(Target::new(
            format!("helm:{}", if c.is_empty() { "." } else { c }),
            c.to_string(),
            kind,
            TargetOrigin::KustomizeRoot,
        ));
    }
    let plain_files: Vec<String> = tree
        .files
        .keys()
        .filter(|p| {
            is_manifest_path(p)
                && !is_kustomization(p)
                && !read.contains(**p)
                && !b.patch_files.contains(**p)
                && !tree.kusts.keys().any(|k| under(p, k))
                && !charts.iter().any(|c| under(p, c))
        })
        .map(|p| p.to_string())
        .collect();
    let mut shared: Vec<Target> = Vec::new();
    if !plain_files.is_empty() || (roots.is_empty()) {
        let mut plain = Target::new("plain", "", RenderKind::Plain, TargetOrigin::PlainFiles);
        plain.files = if roots.is_empty() && tree.kusts.is_empty() {
            tree.files.keys().filter(|p| !b.patch_files.contains(**p)).map(|p| p.to_string()).collect()
        } else {
            plain_files
        };
        shared.push(plain);
    }
    let mut by_env: BTreeMap<String, Vec<Target>> = BTreeMap::new();
    for t in roots {
        match environment_of(&t.path) {
            Some(e) => by_env.entry(e).or_default().push(t),
            None => shared.push(t),
        }
    }
    if by_env.len() < 2 {
        let reason = match by_env.keys().next() {
            Some(e) => format!("the tree read as one mesh (one environment, `{e}`)"),
            None if tree.kusts.is_empty() => "the tree read as one mesh of plain files".to_string(),
            None => "the tree read as one mesh: no kustomization root names an environment".to_string(),
        };
        b.mesh("default", &reason);
        for t in shared.into_iter().chain(by_env.into_values().flatten()) {
            b.add("default", t);
        }
        return;
    }
    let envs: Vec<String> = by_env.keys().cloned().collect();
    for (env, ts) in by_env {
        let paths: Vec<&str> = ts.iter().map(|t| t.path.as_str()).collect();
        let reason = format!(
            "environment `{env}` (of {}): {} and the targets of no environment",
            envs.join(", "),
            paths.join(", ")
        );
        b.mesh(&env, &reason);
        for t in ts.into_iter().chain(shared.iter().cloned()) {
            b.add(&env, t);
        }
    }
}

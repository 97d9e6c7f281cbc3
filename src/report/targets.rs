//! `mtls-review targets`: how a tree is read. Pure.

use crate::target::assemble::MeshFiles;
use crate::target::{Plan, RenderKind, Skipped, TargetOrigin};
use serde::Serialize;

/// The report: meshes with their targets, and what discovery skipped.
#[derive(Debug, Clone, Serialize)]
pub struct TargetsReport {
    pub version: u32,
    pub meshes: Vec<MeshEntry>,
    pub skipped: Vec<Skipped>,
    /// Files used as patches (inputs, never objects).
    pub patch_files: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeshEntry {
    pub name: String,
    pub reason: String,
    pub targets: Vec<TargetEntry>,
    /// Conflicts and render failures, as `path:line: message`.
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetEntry {
    pub name: String,
    pub path: String,
    pub origin: TargetOrigin,
    /// How it is rendered (`kubectl kustomize`, `plain files`, ...).
    pub renderer: String,
    /// Objects of the kinds the analysis reads.
    pub objects: usize,
    /// Source files it reads.
    pub inputs: usize,
    pub error: Option<String>,
}

impl TargetsReport {
    pub fn new(plan: &Plan, meshes: &[MeshFiles], describe: impl Fn(&RenderKind) -> String) -> Self {
        let meshes = plan
            .meshes
            .iter()
            .zip(meshes)
            .map(|(m, files)| MeshEntry {
                name: m.name.clone(),
                reason: m.reason.clone(),
                targets: m
                    .targets
                    .iter()
                    .filter_map(|i| plan.targets.get(*i))
                    .map(|t| {
                        let objects = files
                            .files
                            .iter()
                            .filter(|f| match &t.render {
                                RenderKind::Plain => f.target.is_none(),
                                _ => f.target.as_deref() == Some(t.name.as_str()),
                            })
                            .filter(|f| {
                                !matches!(t.render, RenderKind::Plain)
                                    || f.source.as_ref().is_some_and(|s| t.files.contains(&s.path))
                            })
                            .map(|f| f.objects.len())
                            .sum();
                        TargetEntry {
                            name: t.name.clone(),
                            path: t.path.clone(),
                            origin: t.origin,
                            renderer: describe(&t.render),
                            objects,
                            inputs: files.inputs.get(&t.name).map_or(0, |i| i.len()),
                            error: files
                                .errors
                                .iter()
                                .find(|e| {
                                    e.kind == crate::finding::ErrorKind::Render
                                        && e.message.contains(&format!("`{}`", t.name))
                                })
                                .map(|e| format!("{}:{}: {}", e.path, e.line, e.message)),
                        }
                    })
                    .collect(),
                errors: files.errors.iter().map(|e| format!("{}:{}: {}", e.path, e.line, e.message)).collect(),
            })
            .collect();
        TargetsReport { version: 1, meshes, skipped: plan.skipped.clone(), patch_files: plan.patch_files.clone() }
    }
}

pub fn render_json(r: &TargetsReport) -> String {
    serde_json::to_string_pretty(r).unwrap_or_default() + "\n"
}

pub fn render_text(r: &TargetsReport) -> String {
    let mut out = String::new();
    for m in &r.meshes {
        out.push_str(&format!("mesh {} ({})\n", m.name, m.reason));
        for t in &m.targets {
            let path = if t.path.is_empty() { "." } else { t.path.as_str() };
            out.push_str(&format!(
                "  target {}  {}  [{}]  {} objects, {} input files\n",
                t.name, path, t.renderer, t.objects, t.inputs
            ));
            if let Some(e) = &t.error {
                out.push_str(&format!("    error: {e}\n"));
            }
        }
        for e in m.errors.iter().filter(|e| !m.targets.iter().any(|t| t.error.as_deref() == Some(e.as_str()))) {
            out.push_str(&format!("  error: {e}\n"));
        }
    }
    if !r.patch_files.is_empty() {
        out.push_str("patch files (inputs, not objects):\n");
        for p in &r.patch_files {
            out.push_str(&format!("  {p}\n"));
        }
    }
    if !r.skipped.is_empty() {
        out.push_str("skipped:\n");
        for s in &r.skipped {
            out.push_str(&format!("  {}:{}: {}\n", s.path, s.line, s.reason));
        }
    }
    out
}

//! Re-analysis of one snapshot as fix verification compares it: rule findings as keys (code, object, port, severity)
//! after suppression, of the whole mesh or scoped to what an edit can change ([`scoped`]). Below `analysis` and
//! `fix`, which both call it. Pure: no I/O.

pub mod scoped;

use crate::context::MeshContext;
use crate::finding::{ObjectRef, Severity};
use crate::manifest::LoadedFile;
use crate::mesh::{Mesh, tree_mesh_layer};
use crate::rules::{self, RuleFinding};
use crate::settings::{AnalysisOptions, IGNORE_ANNOTATION, MeshSettings};
use std::collections::HashSet;

/// Resolves the mesh settings for a snapshot: command line > project config > tree > default.
pub fn resolve_settings(files: &[LoadedFile], opts: &AnalysisOptions) -> MeshSettings {
    opts.cli.clone().or(&opts.project.mesh_layer()).or(&tree_mesh_layer(files)).resolve()
}

/// The rule findings of a snapshot after suppression, as (code, object, port, severity): what fix verification
/// compares. The same mesh, rules and suppression as [`analyze`], without locations, errors, sources or fixes.
pub fn finding_keys(
    files: &[LoadedFile],
    opts: &AnalysisOptions,
    newer: HashSet<ObjectRef>,
) -> Vec<(&'static str, ObjectRef, Option<u32>, Severity)> {
    let mut mesh = Mesh::build(files, resolve_settings(files, opts), newer);
    mesh.suggest_mode = opts.suggest_mode();
    rule_keys(&MeshContext::new(mesh), opts)
}

/// [`finding_keys`] of a mesh already built (its `suggest_mode` set from `opts`).
pub fn rule_keys(mesh: &MeshContext, opts: &AnalysisOptions) -> Vec<(&'static str, ObjectRef, Option<u32>, Severity)> {
    rules::run_all(mesh)
        .into_iter()
        .filter(|f| !is_suppressed(mesh, f, opts))
        .map(|f| (f.code, mesh.object_ref(f.subject), f.port, f.severity))
        .collect()
}

/// True when a finding is ignored by the options or by its object's ignore annotation.
pub fn is_suppressed(mesh: &Mesh, f: &RuleFinding, opts: &AnalysisOptions) -> bool {
    is_suppressed_at(mesh, f.code, f.subject, opts)
}

/// [`is_suppressed`] for a finding of rule `code` on object `subject`.
pub fn is_suppressed_at(mesh: &Mesh, code: &str, subject: crate::mesh::ObjId, opts: &AnalysisOptions) -> bool {
    if opts.is_ignored(code) {
        return true;
    }
    mesh.objects[subject]
        .annotation(IGNORE_ANNOTATION)
        .is_some_and(|v| v.split(',').map(str::trim).any(|c| c == "*" || c.eq_ignore_ascii_case(code)))
}

#[cfg(test)]
#[path = "reanalysis_suppression_tests.rs"]
mod suppression_tests;

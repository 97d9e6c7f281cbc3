//! One snapshot analyzed: loaded files -> mesh -> rules -> findings with verified fixes ([`verify`]). Pure: no I/O.

pub mod verify;

// Re-analyses (finding keys, settings, suppression, scoped runs) live in `crate::reanalysis`, which `fix` calls
// without depending on this module.
pub(crate) use crate::reanalysis::is_suppressed;
pub use crate::reanalysis::{finding_keys, resolve_settings, rule_keys, scoped};

use crate::context::MeshContext;
use crate::finding::{Finding, LoadError, Location, ObjectRef, Related, Side, Status};
use crate::manifest::{LoadedFile, SourceText, load_file, yaml::Limits};
use crate::mesh::{Mesh, ObjId};
use crate::rules::{self, RuleFinding};
use crate::settings::{AnalysisOptions, MeshSettings};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// The result of analyzing one snapshot.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    pub errors: Vec<LoadError>,
    pub settings: MeshSettings,
    /// Source texts by path, for rendering source lines.
    pub sources: BTreeMap<String, Arc<SourceText>>,
    /// The analyzed snapshot with its derived state (posture, inventory).
    pub mesh: MeshContext,
    /// What every rule found on `mesh`, suppressed findings included (fix verification and cause groups read
    /// their fix plans and the errors already there; computed once).
    pub rule_findings: Arc<Vec<RuleFinding>>,
}

/// Loads files (path relative to the scanned root, bytes) in parallel, skipping Helm chart templates.
pub fn load_files(files: Vec<(String, Vec<u8>)>, limits: &Limits) -> Vec<LoadedFile> {
    let templates = helm_template_paths(files.iter().map(|(p, _)| p.as_str()));
    let files: Vec<(String, Vec<u8>)> = files.into_iter().filter(|(p, _)| !templates.contains(p)).collect();
    let fits = crate::manifest::fit_total(files.iter().map(|(_, b)| b.len()), limits);
    let files: Vec<(&(String, Vec<u8>), bool)> = files.iter().zip(fits).collect();
    parallel_map(
        &files,
        |((p, b), fits)| if *fits { load_file(p, b, limits) } else { crate::manifest::refused_total(p, limits) },
    )
}

/// Maps over a slice on all cores (2 here), keeping order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    parallel_map_min(items, 64, f)
}

/// [`parallel_map`] for items of any cost: threads are used from `min_items` items on (64 suits cheap items,
/// 2 suits items that each cost a whole re-analysis).
pub fn parallel_map_min<T: Sync, R: Send>(items: &[T], min_items: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8);
    if threads <= 1 || items.len() < min_items.max(2) {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = items.chunks(chunk).map(|c| s.spawn(|| c.iter().map(&f).collect::<Vec<R>>())).collect();
        let mut out = Vec::with_capacity(items.len());
        for h in handles {
            match h.join() {
                Ok(v) => out.extend(v),
                // load_file catches its own panics; a worker can only die on a bug elsewhere.
                Err(e) => std::panic::resume_unwind(e),
            }
        }
        out
    })
}

/// Paths under the `templates/` folder of a Helm chart (a folder beside a `Chart.yaml`).
pub fn helm_template_paths<'a>(paths: impl Iterator<Item = &'a str> + Clone) -> HashSet<String> {
    let charts: HashSet<&str> = paths
        .clone()
        .filter_map(|p| {
            let (dir, name) = p.rsplit_once('/').unwrap_or(("", p));
            (name == "Chart.yaml").then_some(dir)
        })
        .collect();
    paths
        .filter(|p| {
            charts.iter().any(|c| {
                let prefix = if c.is_empty() { "templates/".to_string() } else { format!("{c}/templates/") };
                p.starts_with(&prefix)
            })
        })
        .map(str::to_string)
        .collect()
}

/// Analyzes one snapshot. `newer` lists objects a change adds (for Istio's oldest-wins tie-breaking).
pub fn analyze(files: &[LoadedFile], opts: &AnalysisOptions, side: Side, newer: HashSet<ObjectRef>) -> Analysis {
    let settings = resolve_settings(files, opts);
    analyze_mesh(files, Mesh::build(files, settings, newer), opts, side)
}

/// [`analyze`] on a mesh the caller already built from `files` (with [`resolve_settings`] and its `newer` set).
pub fn analyze_mesh(files: &[LoadedFile], mut mesh: Mesh, opts: &AnalysisOptions, side: Side) -> Analysis {
    let settings = mesh.settings.clone();
    mesh.suggest_mode = opts.suggest_mode();
    let mesh = MeshContext::new(mesh);
    let rule_findings = Arc::new(rules::run_all(&mesh));
    let mut findings: Vec<Finding> =
        rule_findings.iter().filter(|f| !is_suppressed(&mesh, f, opts)).map(|rf| concretize(&mesh, rf, side)).collect();
    sort_findings(&mut findings);
    let mut errors: Vec<LoadError> = files.iter().flat_map(|f| f.errors.iter().cloned()).collect();
    errors.extend(mesh.schema_errors.iter().cloned());
    errors.sort();
    errors.dedup();
    let sources = files.iter().filter_map(|f| f.source.as_ref().map(|s| (s.path.clone(), s.clone()))).collect();
    let mut analysis = Analysis { findings, errors, settings, sources, mesh, rule_findings };
    if !opts.no_fixes {
        attach_fixes(files, &mut analysis, opts, |_| true);
    }
    analysis
}

/// Computes verified fixes for the findings `wanted` selects (re-running the rules on the analysis' mesh to get
/// their fix plans).
pub fn attach_fixes(
    files: &[LoadedFile],
    analysis: &mut Analysis,
    opts: &AnalysisOptions,
    wanted: impl Fn(&Finding) -> bool,
) {
    if !analysis.findings.iter().any(&wanted) {
        return;
    }
    let raw = analysis.rule_findings.clone();
    let errors_before = verify::error_set(&analysis.mesh, &raw);
    let jobs: Vec<(usize, &RuleFinding)> = analysis
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| wanted(f))
        .filter_map(|(i, f)| {
            let rf = raw.iter().find(|rf| {
                rf.code == f.code && rf.port == f.port && analysis.mesh.object_ref(rf.subject) == f.object
            })?;
            debug_assert_eq!(f.identity().0, rf.code);
            Some((i, rf))
        })
        .collect();
    // Findings are verified in parallel (independent, order kept), one verifier (a copy of the mesh) per chunk.
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8);
    let chunks: Vec<&[(usize, &RuleFinding)]> = jobs.chunks(jobs.len().div_ceil(threads).max(1)).collect();
    let results = parallel_map_min(&chunks, 2, |chunk| {
        let mut verifier = verify::Verifier::new(files, &analysis.mesh, opts, &errors_before);
        chunk
            .iter()
            .map(|(i, rf)| verify::best_fix(files, &analysis.mesh, rf, &analysis.findings[*i], opts, &mut verifier))
            .collect::<Vec<_>>()
    });
    for ((i, _), (fix, help)) in jobs.iter().zip(results.into_iter().flatten()) {
        analysis.findings[*i].fix = fix;
        analysis.findings[*i].help = help;
    }
}

/// Deterministic report order: path, line, code, object.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (&a.location.path, a.location.line, a.code, &a.object, a.port).cmp(&(
            &b.location.path,
            b.location.line,
            b.code,
            &b.object,
            b.port,
        ))
    });
}

/// The lines of a field under an object: the field's node, else its nearest existing parent, else the object.
pub fn field_location(mesh: &Mesh, obj: ObjId, field: &[&str], side: Side) -> Location {
    let o = &mesh.objects[obj];
    // A rendered object: where the field's effective value is written in the source tree.
    if let Some(p) = &o.provenance
        && let Some(s) = p.field_source(field)
    {
        return Location { side, path: s.path.to_string(), line: s.line, end_line: s.end_line.max(s.line) };
    }
    for len in (1..=field.len()).rev() {
        if let Some((line, end_line)) = o.field_lines(&field[..len]) {
            let line = if len < field.len() { o.key_line(&field[..len]).unwrap_or(line) } else { line };
            return Location { side, path: o.path.to_string(), line, end_line: end_line.max(line) };
        }
    }
    Location { side, path: o.path.to_string(), line: o.line, end_line: o.line }
}

pub(crate) fn concretize(mesh: &Mesh, rf: &RuleFinding, side: Side) -> Finding {
    let mut location = field_location(mesh, rf.subject, rf.field, side);
    // A finding points at one line: a multi-line parent (fallback) is narrowed to its key line.
    if location.end_line > location.line && rf.field.len() > 1 {
        location.end_line = location.line;
    }
    Finding {
        code: rf.code,
        severity: rf.severity,
        status: Status::Existing,
        message: rf.message.clone(),
        object: mesh.object_ref(rf.subject),
        port: rf.port,
        location,
        related: rf
            .related
            .iter()
            .map(|(id, role)| Related {
                object: mesh.object_ref(*id),
                location: related_location(mesh, *id, side),
                role: (*role).to_string(),
            })
            .collect(),
        fix: None,
        help: None,
        anchors: None,
        meshes: Vec::new(),
        targets: Vec::new(),
        group: None,
    }
}

/// Where a related object takes part: the line of the field that makes it matter (a PeerAuthentication's
/// `spec.mtls.mode`, a DestinationRule's `spec.trafficPolicy.tls.mode`, a Service's `spec.ports`, falling back to
/// the nearest parent written), else the object's first line. One line: reports show it as a secondary span.
pub fn related_location(mesh: &Mesh, id: ObjId, side: Side) -> Location {
    let field: &[&str] = match mesh.objects[id].kind.as_str() {
        "PeerAuthentication" => rules::PA_MODE,
        "DestinationRule" => rules::DR_TLS_MODE,
        "Service" => &["spec", "ports"],
        _ => &[],
    };
    if field.is_empty() {
        let (path, line, _) = object_span(mesh, id);
        return Location { side, path, line, end_line: line };
    }
    let o = &mesh.objects[id];
    if o.provenance.is_none()
        && o.kind == "Service"
        && let Some(line) = o.key_line(field)
    {
        return Location { side, path: o.path.to_string(), line, end_line: line };
    }
    let mut l = field_location(mesh, id, field, side);
    l.end_line = l.line;
    l
}

/// The source lines of an object as a whole: its own document, or for a rendered object its source document.
pub fn object_span(mesh: &Mesh, id: ObjId) -> (String, usize, usize) {
    let o = &mesh.objects[id];
    match o.provenance.as_ref().and_then(|p| p.spans().into_iter().next()) {
        Some(s) => (s.path.to_string(), s.line, s.end_line),
        None => (o.path.to_string(), o.line, o.end_line),
    }
}

#[cfg(test)]
#[path = "mutation_tests.rs"]
mod mutation_tests;

#[cfg(test)]
#[path = "analysis_mutation2_tests.rs"]
mod analysis_mutation2_tests;

#[cfg(test)]
#[path = "analysis_mutation3_tests.rs"]
mod analysis_mutation3_tests;

#[cfg(test)]
#[path = "analysis_mutation4_tests.rs"]
mod analysis_mutation4_tests;

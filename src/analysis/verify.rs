//! Fix verification: a candidate fix (rendered by [`crate::fix`]) applied to an in-memory copy of the snapshot and
//! re-analyzed. A fix that does not make its finding go away, or that brings a new error, is not offered. The
//! re-analysis of an edited snapshot reuses the snapshot's context (its mesh, inventory and findings) and looks
//! only at what the edit can change ([`crate::reanalysis::scoped`], the posture rows of the services it reaches).

use crate::context::MeshContext;
use crate::finding::{Finding, Fix, ObjectRef, Severity};
use crate::fix::{apply, render_plan, source_of};
use crate::manifest::yaml::Limits;
use crate::manifest::{LoadedFile, load_file};
use crate::mesh::Mesh;
use crate::reanalysis::{finding_keys, rule_keys};
use crate::rules::{FixPlan, RuleFinding};
use crate::settings::AnalysisOptions;
use std::collections::HashSet;
use std::sync::Arc;

/// The error-severity findings of a snapshot as (code, object, port), from all its rule findings (suppressed
/// ones included): a verified fix may bring no error outside this set. Computed once per snapshot by the caller.
pub type ErrorSet = HashSet<(&'static str, ObjectRef, Option<u32>)>;

/// The [`ErrorSet`] of `mesh`, given `rules::run_all(mesh)`.
pub fn error_set(mesh: &Mesh, raw: &[RuleFinding]) -> ErrorSet {
    raw.iter().filter(|f| f.severity == Severity::Error).map(|f| (f.code, mesh.object_ref(f.subject), f.port)).collect()
}

/// Re-analyses for fix verification. A candidate fix edits one file; rebuilding the mesh of the whole tree for
/// every candidate cost findings x tree. The verifier keeps its own copy of the mesh and splices the edited
/// file's objects in and out of it ([`Mesh::splice_file`]), which gives the mesh a rebuild would give as long as
/// the mesh is laid out from `files` with the settings `opts` resolve to and the edit touches neither mesh
/// settings (ConfigMaps, IstioOperators) nor kustomize namespaces; otherwise it rebuilds.
pub struct Verifier<'a> {
    files: &'a [LoadedFile],
    errors_before: &'a ErrorSet,
    newer: HashSet<ObjectRef>,
    /// The mesh copy, the first object of each file in it, the kustomize namespaces; `None`: always rebuild.
    pub(crate) splice: Option<(MeshContext, Vec<usize>, std::collections::BTreeMap<String, String>)>,
    /// Re-analyses of what an edit can change (with `splice`).
    scoped: Option<crate::reanalysis::scoped::Scoped<'a>>,
    /// Finding keys of rules that need more than the one snapshot (MTLS003 compares with the base side), computed
    /// on every re-analysed mesh; see [`Verifier::with_extra`].
    extra: Option<ExtraKeys<'a>>,
    /// The snapshot, and its posture findings with the rows they come from (computed on first need: a
    /// re-analysis that lists every posture finding keeps those of rows its edit cannot reach).
    snapshot: &'a MeshContext,
    posture_known: Option<Vec<crate::reanalysis::scoped::KeyRows>>,
}

/// Computes further finding keys of a re-analysed head mesh (MTLS003's downgrades against the base side).
pub type ExtraKeys<'a> = Box<dyn Fn(&MeshContext) -> Vec<FindingKey> + 'a>;

impl<'a> Verifier<'a> {
    /// For fixes to the snapshot `files` whose mesh is `mesh`; `errors_before` is [`error_set`] of `mesh`.
    pub fn new(
        files: &'a [LoadedFile],
        mesh: &'a MeshContext,
        opts: &AnalysisOptions,
        errors_before: &'a ErrorSet,
    ) -> Self {
        let mut starts = Vec::with_capacity(files.len());
        let mut at = 0;
        for f in files {
            starts.push(at);
            at += f.objects.len();
        }
        let laid_out = at == mesh.objects.len()
            && files.iter().flat_map(|f| f.objects.iter()).zip(&mesh.objects).all(|(a, b)| Arc::ptr_eq(a, b))
            && crate::reanalysis::resolve_settings(files, opts) == mesh.settings;
        let splice = laid_out.then(|| {
            let mut copy = mesh.clone();
            copy.set_suggest_mode(opts.suggest_mode());
            (copy, starts, crate::mesh::kustomize_namespaces(files))
        });
        let scoped = splice.is_some().then(|| crate::reanalysis::scoped::Scoped::new(mesh, opts));
        Verifier {
            files,
            errors_before,
            newer: mesh.newer.clone(),
            splice,
            scoped,
            extra: None,
            snapshot: mesh,
            posture_known: None,
        }
    }

    /// Adds the keys `extra` computes on each re-analysed mesh to what a re-analysis reports (group verification
    /// of MTLS003, whose findings compare the head with the base side). Every re-analysis then gives every
    /// posture finding (see [`Verifier::keys_with`]).
    pub fn with_extra(mut self, extra: ExtraKeys<'a>) -> Self {
        self.extra = Some(extra);
        self
    }

    /// The finding keys of `files` (a full rebuild), with the extra keys.
    fn rebuilt_keys(&self, files: &[LoadedFile], opts: &AnalysisOptions) -> Vec<FindingKey> {
        let Some(extra) = &self.extra else {
            return finding_keys(files, opts, self.newer.clone());
        };
        let mut mesh = Mesh::build(files, crate::reanalysis::resolve_settings(files, opts), self.newer.clone());
        mesh.suggest_mode = opts.suggest_mode();
        let mesh = MeshContext::new(mesh);
        let mut keys = rule_keys(&mesh, opts);
        keys.extend(extra(&mesh));
        keys
    }

    /// The finding keys of the snapshot with file `idx` replaced by `new`. With `scoped`, the posture rules look only
    /// at the services the file's PeerAuthentications and DestinationRules can reach: enough to see every new
    /// posture error (rows of other services cannot change), not to list every posture finding. Without it (the
    /// finding to clear is a posture finding, or extra keys compare postures) every posture finding is listed: when
    /// the edit changes only such policies, the snapshot's findings from rows outside the scope with those of the
    /// scope's rows recomputed ([`crate::reanalysis::scoped::posture_keys_within`]; extra keys then see the scoped
    /// posture, [`MeshContext::scope`]), else from the whole posture of the edited snapshot.
    pub(crate) fn keys_with(
        &mut self,
        idx: usize,
        new: LoadedFile,
        opts: &AnalysisOptions,
        scoped: bool,
    ) -> Vec<FindingKey> {
        let subset = scoped && self.extra.is_none();
        let old = &self.files[idx];
        let settings_source =
            |f: &LoadedFile| f.objects.iter().any(|o| o.kind == "ConfigMap" || o.kind == "IstioOperator");
        if let Some((mesh, starts, kustomize)) = &mut self.splice
            && old.kustomize_namespace == new.kustomize_namespace
            && !settings_source(old)
            && !settings_source(&new)
        {
            // The objects the edit changes (not the whole file) decide what the re-analysis must look at.
            let changes = crate::reanalysis::scoped::changed_objects(old, &new);
            let scope = crate::reanalysis::scoped::posture_scope(mesh, old, &new, &changes).map(Arc::new);
            // Whether the posture findings are a subset (debug check below).
            #[cfg(debug_assertions)]
            let partial = subset && scope.is_some();
            // The rules but the posture rules from what the edit can change (the posture rules and the extra keys,
            // MTLS003's downgrades, from the overlaid mesh below).
            let rules = match &self.scoped {
                Some(s) => s.keys_with(starts[idx], old, &new, kustomize, opts),
                None => None,
            };
            let keys = match rules {
                // The posture rules on the mesh with the changed PeerAuthentications and DestinationRules laid over
                // it (object ids stay, so the inventory is kept), the other rules from the scoped run.
                Some(mut keys) => {
                    let start = starts[idx];
                    let placed = crate::reanalysis::scoped::placed(&changes, start, &new, kustomize);
                    // The posture (of the scope, or whole) is computed once for both.
                    let extra = self.extra.as_ref();
                    let posture_keys = |mesh: &MeshContext, keys: &mut Vec<FindingKey>| {
                        keys.extend(crate::reanalysis::scoped::posture_keys(mesh, opts));
                        if let Some(extra) = extra {
                            keys.extend(extra(mesh));
                        }
                    };
                    match mesh.overlay(start..start + old.objects.len(), placed) {
                        Some(overlay) => {
                            // Ids did not move: every posture finding from the snapshot's outside the scope and
                            // the scope's rows.
                            match (subset, scope) {
                                (false, Some(scope)) => {
                                    let snapshot = self.snapshot;
                                    let known = self.posture_known.get_or_insert_with(|| {
                                        crate::reanalysis::scoped::posture_keys_by_row(snapshot, opts)
                                    });
                                    mesh.set_scope(Some(scope.clone()));
                                    let within =
                                        crate::reanalysis::scoped::posture_keys_within(mesh, opts, known, &scope);
                                    keys.extend(within);
                                    if let Some(extra) = extra {
                                        keys.extend(extra(mesh));
                                    }
                                }
                                (_, scope) => {
                                    mesh.set_scope(scope.filter(|_| subset));
                                    posture_keys(mesh, &mut keys);
                                }
                            }
                            mesh.set_scope(None);
                            mesh.remove_overlay(overlay);
                        }
                        None => {
                            let splice = mesh.splice_file(start, old.objects.len(), &new.objects, kustomize);
                            mesh.set_scope(scope.filter(|_| subset));
                            posture_keys(mesh, &mut keys);
                            mesh.set_scope(None);
                            mesh.unsplice_file(splice);
                        }
                    }
                    keys
                }
                None => {
                    let splice = mesh.splice_file(starts[idx], old.objects.len(), &new.objects, kustomize);
                    mesh.set_scope(scope.filter(|_| subset));
                    let mut keys = rule_keys(mesh, opts);
                    if let Some(extra) = &self.extra {
                        keys.extend(extra(mesh));
                    }
                    mesh.set_scope(None);
                    mesh.unsplice_file(splice);
                    keys
                }
            };
            // Debug builds (tests) check every spliced re-analysis against a rebuild.
            #[cfg(debug_assertions)]
            {
                let mut copy = self.files.to_vec();
                copy[idx] = new;
                let (mut rebuilt, mut spliced) = (self.rebuilt_keys(&copy, opts), keys.clone());
                if partial {
                    // A scoped posture lists a subset of the posture findings; everything else must agree.
                    let posture = |k: &FindingKey| k.0 == "MTLS001" || k.0 == "MTLS002";
                    debug_assert!(spliced.iter().filter(|k| posture(k)).all(|k| rebuilt.contains(k)));
                    rebuilt.retain(|k| !posture(k));
                    spliced.retain(|k| !posture(k));
                }
                rebuilt.sort();
                spliced.sort();
                debug_assert_eq!(spliced, rebuilt, "spliced re-analysis differs from a rebuild");
            }
            return keys;
        }
        let mut copy = self.files.to_vec();
        copy[idx] = new;
        self.rebuilt_keys(&copy, opts)
    }
}

/// A finding as a re-analysis reports it: (code, object, port, severity).
pub type FindingKey = (&'static str, ObjectRef, Option<u32>, Severity);

/// Picks the first fix candidate that passes verification. Returns the fix and a help text (the other
/// candidates, or the YAML to add where no line fix is possible). `verifier` re-analyzes `files` (`mesh`).
pub fn best_fix(
    files: &[LoadedFile],
    mesh: &Mesh,
    rf: &RuleFinding,
    finding: &Finding,
    opts: &AnalysisOptions,
    verifier: &mut Verifier,
) -> (Option<Fix>, Option<String>) {
    let mut notes: Vec<String> = Vec::new();
    let mut chosen: Option<Fix> = None;
    for plan in &rf.fixes {
        if chosen.is_some() {
            notes.push(format!("alternatively: {}", plan.description));
            continue;
        }
        match render_plan(files, mesh, plan) {
            Ok(fix) => {
                if verify(files, &fix, finding, opts, verifier) {
                    chosen = Some(fix);
                } else {
                    tracing::debug!(code = finding.code, plan = %plan.description, "fix candidate failed re-analysis");
                }
            }
            Err(help) => notes.extend(help),
        }
    }
    let help = if notes.is_empty() { None } else { Some(notes.join("\n")) };
    (chosen, help)
}

pub(crate) fn verify(
    files: &[LoadedFile],
    fix: &Fix,
    finding: &Finding,
    opts: &AnalysisOptions,
    verifier: &mut Verifier,
) -> bool {
    check_fix(files, fix, &[finding], opts, verifier).is_some_and(|cleared| cleared.iter().all(|c| *c))
}

/// The candidate fixes of a group of findings (one change's findings on the same lines), each applied to an
/// in-memory copy and re-analysed: those that bring no new error (and leave every file readable), in order, with
/// whether each finding of `findings` is gone. Candidates are `fixes` (already rendered), then `plans` (rendered
/// here), then `last`; a candidate making the same edit as an earlier one is skipped.
#[allow(clippy::too_many_arguments)]
pub fn group_fixes(
    files: &[LoadedFile],
    mesh: &Mesh,
    fixes: &[Fix],
    plans: &[&FixPlan],
    last: Option<Fix>,
    findings: &[&Finding],
    opts: &AnalysisOptions,
    verifier: &mut Verifier,
) -> Vec<(Fix, Vec<bool>)> {
    let mut tried: Vec<Fix> = Vec::new();
    let mut out = Vec::new();
    let rendered = plans.iter().filter_map(|p| render_plan(files, mesh, p).ok());
    for fix in fixes.iter().cloned().chain(rendered).chain(last) {
        if tried.iter().any(|t| same_edit(t, &fix)) {
            continue;
        }
        tried.push(fix.clone());
        let checked = check_fix(files, &fix, findings, opts, verifier);
        tracing::debug!(fix = %fix.description, ?checked, "group fix candidate");
        if let Some(cleared) = checked {
            out.push((fix, cleared));
        }
    }
    out
}

/// True when two fixes make the same edit (descriptions aside).
fn same_edit(a: &Fix, b: &Fix) -> bool {
    (a.path.as_str(), a.start_line, a.end_line, a.replacement.as_str())
        == (b.path.as_str(), b.start_line, b.end_line, b.replacement.as_str())
}

/// Applies `fix` to an in-memory copy and re-analyses: `None` when the fix cannot be applied or brings a new
/// error (or a file that no longer parses), else whether each of `findings` is gone.
fn check_fix(
    files: &[LoadedFile],
    fix: &Fix,
    findings: &[&Finding],
    opts: &AnalysisOptions,
    verifier: &mut Verifier,
) -> Option<Vec<bool>> {
    let src = source_of(files, &fix.path).map(|s| Arc::new(s.clone()))?;
    let mut bytes = Vec::new();
    if src.bom {
        bytes.extend_from_slice(b"\xEF\xBB\xBF");
    }
    bytes.extend_from_slice(apply(src.text(), src.crlf, fix).as_bytes());
    let reloaded = load_file(&fix.path, &bytes, &Limits::default());
    let before = load_file(&fix.path, src.text().as_bytes(), &Limits::default());
    let fatal = |f: &LoadedFile| f.errors.iter().filter(|e| e.kind.is_fatal()).count();
    if fatal(&reloaded) > fatal(&before) {
        return None;
    }
    let scoped = findings.iter().all(|f| !f.code.starts_with("MTLS"));
    let after = match files.iter().position(|f| f.source.as_ref().is_some_and(|s| s.path == fix.path)) {
        // Posture findings need their full rows to tell whether they are gone; other fixes only need the rows the
        // edit can reach, to see new posture errors.
        Some(idx) => verifier.keys_with(idx, reloaded, opts, scoped),
        None => {
            // The edited file feeds rendered targets: render each again with the edit and re-analyze the mesh.
            let Some(rerender) = &opts.rerender else { return None };
            // An edit of a file that other meshes also render (a shared base) would change them unseen: offer
            // only fixes whose file feeds this mesh alone.
            let mesh_targets: Vec<&str> = files.iter().filter_map(|f| f.target.as_deref()).collect();
            if rerender.feeds_others(&mesh_targets, &fix.path) {
                return None;
            }
            let fed: Vec<usize> = files
                .iter()
                .enumerate()
                .filter(|(_, f)| f.target.is_some() && f.inputs.iter().any(|s| s.path == fix.path))
                .map(|(i, _)| i)
                .collect();
            let mut copy: Vec<LoadedFile> = Vec::new();
            for &i in &fed {
                let target = files[i].target.as_deref()?;
                let new = rerender.rerender(target, &fix.path, &bytes)?;
                if fatal(&new) > fatal(&files[i]) {
                    return None;
                }
                if fed.len() == 1 {
                    copy.push(new);
                } else {
                    if copy.is_empty() {
                        copy = files.to_vec();
                    }
                    copy[i] = new;
                }
            }
            match (fed.as_slice(), copy.len()) {
                ([], _) => return None,
                ([idx], 1) => {
                    let new = copy.pop().unwrap_or_default();
                    verifier.keys_with(*idx, new, opts, scoped)
                }
                _ => verifier.rebuilt_keys(&copy, opts),
            }
        }
    };
    let no_new_error = after
        .iter()
        .filter(|(.., severity)| *severity == Severity::Error)
        .all(|(code, object, port, _)| verifier.errors_before.contains(&(*code, object.clone(), *port)));
    if !no_new_error {
        return None;
    }
    Some(
        findings
            .iter()
            .map(|f| {
                !after.iter().any(|(code, object, port, _)| *code == f.code && *object == f.object && *port == f.port)
            })
            .collect(),
    )
}

#[cfg(test)]
#[path = "verify_edit_tests.rs"]
mod edit_tests;

#[cfg(test)]
#[path = "verify_mutation_tests.rs"]
mod mutation_tests;

#[cfg(test)]
#[path = "verify_mutation2_tests.rs"]
mod verify_mutation2_tests;

#[cfg(test)]
#[path = "verify_merged_tests.rs"]
mod verify_merged_tests;

//! Builds a [`Review`] from two trees: parses each distinct file once, analyzes both sides, matches findings by
//! identity, anchors introduced findings on the changed lines that caused them, and compares posture.

use super::diff::{file_change, overlap};
use super::{FileChange, Review, ReviewError};
use crate::analysis::{analyze_mesh, attach_fixes, helm_template_paths, parallel_map, sort_findings};
use crate::finding::{Anchor, Finding, ObjectRef, Side, Status};
use crate::manifest::{LoadedFile, is_kustomization, load_file, may_hold_relevant, yaml::Limits};
use crate::mesh::{Mesh, ObjId};
use crate::settings::AnalysisOptions;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// One file of a tree: path (relative, `/`-separated), content id (git blob id or content hash) and bytes.
#[derive(Debug, Clone)]
pub struct TreeFile {
    pub path: String,
    pub id: String,
    pub bytes: Arc<[u8]>,
}

/// Both sides of a change.
#[derive(Debug, Clone, Default)]
pub struct ReviewInput {
    pub base: Vec<TreeFile>,
    pub head: Vec<TreeFile>,
    /// (base path, head path) pairs of renamed or moved files.
    pub renames: Vec<(String, String)>,
    pub base_label: String,
    pub head_label: String,
    /// True when the project config file differs between the sides.
    pub config_changed: bool,
}

/// Reviews a change. `opts` must carry the base side's project config.
pub fn review(input: &ReviewInput, opts: &AnalysisOptions) -> Review {
    let limits = Limits::configured();
    let base_ids: HashMap<&str, &str> = input.base.iter().map(|f| (f.path.as_str(), f.id.as_str())).collect();
    let head_ids: HashMap<&str, &str> = input.head.iter().map(|f| (f.path.as_str(), f.id.as_str())).collect();
    let renamed_from: HashMap<&str, &str> = input.renames.iter().map(|(b, h)| (h.as_str(), b.as_str())).collect();
    let renamed_to: HashMap<&str, &str> = input.renames.iter().map(|(b, h)| (b.as_str(), h.as_str())).collect();
    let head_changed = |f: &TreeFile| {
        base_ids.get(renamed_from.get(f.path.as_str()).copied().unwrap_or(&f.path)) != Some(&f.id.as_str())
    };
    let base_changed = |f: &TreeFile| {
        head_ids.get(renamed_to.get(f.path.as_str()).copied().unwrap_or(&f.path)) != Some(&f.id.as_str())
    };

    // Parse each distinct (path, content) once for both sides. Unchanged files that cannot hold a relevant object
    // are skipped before parsing; changed files are always parsed, so a change that breaks a file is seen.
    let base_templates = helm_template_paths(input.base.iter().map(|f| f.path.as_str()));
    let head_templates = helm_template_paths(input.head.iter().map(|f| f.path.as_str()));
    let wanted = |f: &TreeFile, changed: bool| changed || is_kustomization(&f.path) || may_hold_relevant(&f.bytes);
    let mut jobs: Vec<&TreeFile> = Vec::new();
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    let base_sel: Vec<&TreeFile> =
        input.base.iter().filter(|f| !base_templates.contains(&f.path) && wanted(f, base_changed(f))).collect();
    let head_sel: Vec<&TreeFile> =
        input.head.iter().filter(|f| !head_templates.contains(&f.path) && wanted(f, head_changed(f))).collect();
    for f in base_sel.iter().chain(head_sel.iter()) {
        if seen.insert((f.path.as_str(), f.id.as_str())) {
            jobs.push(f);
        }
    }
    let clock = std::time::Instant::now();
    let fits = crate::manifest::fit_total(jobs.iter().map(|f| f.bytes.len()), &limits);
    let jobs_fit: Vec<(&TreeFile, bool)> = jobs.iter().copied().zip(fits).collect();
    let parsed: Vec<LoadedFile> = parallel_map(&jobs_fit, |(f, fits)| {
        if *fits { load_file(&f.path, &f.bytes, &limits) } else { crate::manifest::refused_total(&f.path, &limits) }
    });
    tracing::debug!(files = jobs.len(), ms = clock.elapsed().as_millis() as u64, "parsed");
    let cache: HashMap<(&str, &str), &LoadedFile> =
        jobs.iter().zip(parsed.iter()).map(|(f, l)| ((f.path.as_str(), f.id.as_str()), l)).collect();
    let side_files = |sel: &[&TreeFile]| -> Vec<LoadedFile> {
        sel.iter().filter_map(|f| cache.get(&(f.path.as_str(), f.id.as_str())).map(|l| (*l).clone())).collect()
    };
    let base_loaded = side_files(&base_sel);
    let head_loaded = side_files(&head_sel);

    let quiet = AnalysisOptions { no_fixes: true, ..opts.clone() };
    // Both meshes first (cheap): the head's `newer` set needs the base's objects. Then the two analyses, each
    // with its posture, run on their own core.
    let base_mesh = unanalyzed_mesh(&base_loaded, &quiet);
    let mut head_mesh = unanalyzed_mesh(&head_loaded, &quiet);
    let base_keys: HashSet<RefKey> = (0..base_mesh.objects.len()).map(|i| ref_key(&base_mesh, i)).collect();
    let newer: HashSet<ObjectRef> = (0..head_mesh.objects.len())
        .filter(|i| !base_keys.contains(&ref_key(&head_mesh, *i)))
        .map(|i| head_mesh.object_ref(i))
        .collect();
    drop(base_keys);
    head_mesh.newer = newer;
    let (mut base, mut head) = std::thread::scope(|s| {
        let base = s.spawn(|| analyze_mesh(&base_loaded, base_mesh, &quiet, Side::Base));
        let head = analyze_mesh(&head_loaded, head_mesh, &quiet, Side::Head);
        match base.join() {
            Ok(base) => (base, head),
            Err(e) => std::panic::resume_unwind(e),
        }
    });
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "head analyzed");

    // Changed lines of every changed file.
    let base_text: HashMap<&str, &TreeFile> = input.base.iter().map(|f| (f.path.as_str(), f)).collect();
    let mut changes: Vec<FileChange> = Vec::new();
    for f in &input.head {
        if head_changed(f) {
            let bp = renamed_from.get(f.path.as_str()).copied().unwrap_or(&f.path);
            let b = base_text.get(bp);
            changes.push(file_change(
                b.map(|b| b.path.as_str()),
                b.and_then(|b| std::str::from_utf8(&b.bytes).ok()),
                Some(&f.path),
                std::str::from_utf8(&f.bytes).ok(),
            ));
        }
    }
    for f in &input.base {
        if !head_ids.contains_key(f.path.as_str()) && !renamed_to.contains_key(f.path.as_str()) {
            changes.push(file_change(Some(&f.path), std::str::from_utf8(&f.bytes).ok(), None, None));
        }
    }
    changes.sort_by(|a, b| (&a.head_path, &a.base_path).cmp(&(&b.head_path, &b.base_path)));

    // Classify.
    let base_by_id: HashMap<_, &Finding> = base.findings.iter().map(|f| (f.identity(), f)).collect();
    let head_ids_set: HashSet<_> = head.findings.iter().map(Finding::identity).collect();
    for f in head.findings.iter_mut() {
        f.status = match base_by_id.get(&f.identity()) {
            Some(b) if b.severity >= f.severity => Status::Existing,
            _ => Status::Introduced,
        };
    }
    // MTLS003 compares the two postures; its findings exist only in a change review, always introduced.
    let before = base.mesh.posture();
    let after = head.mesh.posture();
    for d in crate::rules::mtls003::downgrades(&before, &after, &base.mesh, &head.mesh) {
        let mesh = if d.side == Side::Base { &base.mesh } else { &head.mesh };
        if crate::analysis::is_suppressed(mesh, &d.finding, opts) {
            continue;
        }
        let mut f = crate::analysis::concretize(mesh, &d.finding, d.side);
        f.status = Status::Introduced;
        head.findings.push(f);
    }
    let connectivity = crate::posture::diff(&before, &after);
    drop((before, after));
    let introduced: HashSet<_> =
        head.findings.iter().filter(|f| f.status == Status::Introduced).map(Finding::identity).collect();
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "classified, postures compared");
    if !opts.no_fixes {
        attach_fixes(&head_loaded, &mut head, opts, |f| introduced.contains(&f.identity()));
    }
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, fixes = introduced.len(), "fixes verified");
    let mut findings: Vec<Finding> = Vec::new();
    let index = AnchorIndex::new(&base.mesh, &head.mesh, &changes);
    for mut f in head.findings.clone() {
        if f.status == Status::Introduced {
            f.anchors = Some(index.anchors(&f));
        }
        findings.push(f);
    }
    for f in &base.findings {
        if !head_ids_set.contains(&f.identity()) {
            let mut r = f.clone();
            r.status = Status::Resolved;
            findings.push(r);
        }
    }
    sort_findings(&mut findings);
    findings.sort_by_key(|f| f.status);

    let changed_head: HashSet<&str> = changes.iter().filter_map(|c| c.head_path.as_deref()).collect();
    let errors = head
        .errors
        .iter()
        .map(|e| ReviewError {
            error: e.clone(),
            introduced: e.kind.is_fatal() && changed_head.contains(e.path.as_str()),
        })
        .collect();
    let review = Review {
        diff: true,
        head_sources: std::mem::take(&mut head.sources),
        base_sources: std::mem::take(&mut base.sources),
        findings,
        errors,
        settings: head.settings.clone(),
        base: input.base_label.clone(),
        head: input.head_label.clone(),
        changes,
        config_changed: input.config_changed,
        posture: super::posture::compare(&base.mesh, &head.mesh),
        connectivity,
    };
    // Freeing the parsed trees of a large change means a million small deallocations (~70 ms at 20,000
    // documents): a detached thread does it while the caller renders the report (a CLI may exit first).
    drop(cache);
    let garbage = (parsed, base_loaded, head_loaded, base, head);
    if jobs.len() >= DROP_IN_BACKGROUND_FILES {
        // If the thread cannot be spawned, the closure and the garbage are dropped right here.
        let _ = std::thread::Builder::new().name("review-drop".into()).spawn(move || drop(garbage));
    }
    review
}

/// Reviews that parsed at least this many files free their trees on a background thread.
const DROP_IN_BACKGROUND_FILES: usize = 1000;

/// The mesh of a side before analysis: which objects it holds, under which references.
fn unanalyzed_mesh(files: &[LoadedFile], opts: &AnalysisOptions) -> Mesh {
    let settings = crate::analysis::resolve_settings(files, opts);
    Mesh::build(files, settings, HashSet::new())
}

/// An object reference as borrowed (kind, namespace, name): what [`Mesh::object_ref`] returns, compared and
/// hashed without allocating three strings per object of the tree.
type RefKey<'a> = (&'a str, &'a str, &'a str);

fn ref_key(mesh: &Mesh, i: ObjId) -> RefKey<'_> {
    (&mesh.objects[i].kind, &mesh.namespaces[i], &mesh.objects[i].name)
}

fn key_of(r: &ObjectRef) -> RefKey<'_> {
    (&r.kind, &r.namespace, &r.name)
}

/// What anchoring needs from both sides, computed once per review rather than once per introduced finding
/// (which made anchoring quadratic in the size of the tree: every finding rebuilt every object's reference).
struct AnchorIndex<'a> {
    base: &'a Mesh,
    head: &'a Mesh,
    /// Changed line ranges by path: added on the head side, deleted on the base side.
    added: HashMap<&'a str, &'a [(usize, usize)]>,
    deleted: HashMap<&'a str, &'a [(usize, usize)]>,
    /// The first head object with a given reference.
    head_first: HashMap<RefKey<'a>, ObjId>,
    /// Objects that can yield an anchor at all: head objects in files with added lines; base objects absent
    /// from the head side in files with deleted lines.
    head_candidates: Vec<ObjId>,
    base_candidates: Vec<ObjId>,
    /// Mesh-wide DestinationRules, by object.
    head_mesh_wide: HashSet<ObjId>,
    base_mesh_wide: HashSet<ObjId>,
}

impl<'a> AnchorIndex<'a> {
    fn new(base: &'a Mesh, head: &'a Mesh, changes: &'a [FileChange]) -> Self {
        let added: HashMap<&str, &[(usize, usize)]> =
            changes.iter().filter_map(|c| Some((c.head_path.as_deref()?, c.added.as_slice()))).collect();
        let deleted: HashMap<&str, &[(usize, usize)]> =
            changes.iter().filter_map(|c| Some((c.base_path.as_deref()?, c.deleted.as_slice()))).collect();
        let mut head_first = HashMap::with_capacity(head.objects.len());
        for i in 0..head.objects.len() {
            head_first.entry(ref_key(head, i)).or_insert(i);
        }
        let head_candidates = (0..head.objects.len()).filter(|i| added.contains_key(&*head.objects[*i].path)).collect();
        let base_candidates = (0..base.objects.len())
            .filter(|i| deleted.contains_key(&*base.objects[*i].path) && !head_first.contains_key(&ref_key(base, *i)))
            .collect();
        let mesh_wide = |m: &Mesh| -> HashSet<ObjId> {
            m.destination_rules.iter().filter(|d| m.is_mesh_wide_dr(d)).map(|d| d.obj).collect()
        };
        let (head_mesh_wide, base_mesh_wide) = (mesh_wide(head), mesh_wide(base));
        AnchorIndex {
            base,
            head,
            added,
            deleted,
            head_first,
            head_candidates,
            base_candidates,
            head_mesh_wide,
            base_mesh_wide,
        }
    }

    /// The changed lines that introduced a finding: the subject's own changed lines first; otherwise the changed
    /// lines of PeerAuthentications and DestinationRules whose change can have made the rule fire (related
    /// objects, objects in the subject's namespace or the root namespace, mesh-wide DestinationRules), including
    /// deleted ones (base side).
    fn anchors(&self, f: &Finding) -> Vec<Anchor> {
        let object_anchor = |mesh: &Mesh, i: usize, side: Side| -> Vec<Anchor> {
            let o = &mesh.objects[i];
            let ranges = match side {
                Side::Head => self.added.get(&*o.path),
                Side::Base => self.deleted.get(&*o.path),
            };
            ranges
                .map(|r| overlap(r, o.line, o.end_line))
                .unwrap_or_default()
                .into_iter()
                .map(|(a, b)| Anchor { side, path: o.path.to_string(), line: a, end_line: b })
                .collect()
        };
        // 1. The subject's own changed lines (a subject that exists only on the base side: its deleted lines).
        if f.location.side == Side::Base {
            let subject = self.base_candidates.iter().find(|i| ref_key(self.base, **i) == key_of(&f.object));
            if let Some(&i) = subject {
                let own = object_anchor(self.base, i, Side::Base);
                if !own.is_empty() {
                    return own;
                }
            }
        } else if let Some(&i) = self.head_first.get(&key_of(&f.object)) {
            let own = object_anchor(self.head, i, Side::Head);
            if !own.is_empty() {
                return own;
            }
        }
        // 2. Related objects and the PAs/DRs in scope whose change made the rule fire.
        let root = &self.head.settings.root_namespace;
        let in_scope = |mesh: &Mesh, mesh_wide: &HashSet<ObjId>, i: usize| {
            let o = &mesh.objects[i];
            let ns = &mesh.namespaces[i];
            let istio = o.kind == "PeerAuthentication" || o.kind == "DestinationRule";
            let related = f.related.iter().any(|r| key_of(&r.object) == ref_key(mesh, i));
            related || (istio && (ns == &f.object.namespace || ns == root || mesh_wide.contains(&i)))
        };
        let mut out: Vec<Anchor> = Vec::new();
        for &i in &self.head_candidates {
            if in_scope(self.head, &self.head_mesh_wide, i) {
                out.extend(object_anchor(self.head, i, Side::Head));
            }
        }
        // Deleted objects only (the candidates): an edited one is anchored on its head lines above.
        for &i in &self.base_candidates {
            if in_scope(self.base, &self.base_mesh_wide, i) {
                out.extend(object_anchor(self.base, i, Side::Base));
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// Renames between two directory trees (git mode asks git instead): a file only on the base side pairs with a
/// file only on the head side of identical content, else of the same file name and at least 50% similar lines.
pub fn detect_renames(base: &[TreeFile], head: &[TreeFile]) -> Vec<(String, String)> {
    let base_paths: HashSet<&str> = base.iter().map(|f| f.path.as_str()).collect();
    let head_paths: HashSet<&str> = head.iter().map(|f| f.path.as_str()).collect();
    let gone: Vec<&TreeFile> = base.iter().filter(|f| !head_paths.contains(f.path.as_str())).collect();
    let mut new: Vec<&TreeFile> = head.iter().filter(|f| !base_paths.contains(f.path.as_str())).collect();
    let mut out = Vec::new();
    let mut unmatched = Vec::new();
    for g in gone {
        if let Some(i) = new.iter().position(|n| n.id == g.id) {
            out.push((g.path.clone(), new.remove(i).path.clone()));
        } else {
            unmatched.push(g);
        }
    }
    // Similarity pass, bounded: moves of edited files are few in a pull request.
    if unmatched.len() * new.len() <= 10_000 {
        for g in unmatched {
            let name = g.path.rsplit('/').next().unwrap_or(&g.path);
            let best = new
                .iter()
                .enumerate()
                .filter(|(_, n)| n.path.rsplit('/').next() == Some(name))
                .map(|(i, n)| {
                    let a = String::from_utf8_lossy(&g.bytes);
                    let b = String::from_utf8_lossy(&n.bytes);
                    (i, similar::TextDiff::from_lines(a.as_ref(), b.as_ref()).ratio())
                })
                .filter(|(_, r)| *r >= 0.5)
                .max_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((i, _)) = best {
                out.push((g.path.clone(), new.remove(i).path.clone()));
            }
        }
    }
    out.sort();
    out
}

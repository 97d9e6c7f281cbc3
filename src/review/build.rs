//! Builds a [`Review`] from two trees: parses each distinct file once, analyzes both sides, matches findings by
//! identity, anchors introduced findings on the changed lines that caused them, and compares posture.

use super::diff::{file_change, overlap};
use super::{FileChange, MeshSummary, Review, ReviewError};
use crate::analysis::{analyze_mesh, attach_fixes, helm_template_paths, parallel_map, sort_findings};
use crate::finding::{Anchor, Finding, ObjectRef, Side, Status};
use crate::manifest::{LoadedFile, is_kustomization, load_shared, may_hold_relevant, yaml::Limits};
use crate::mesh::{Mesh, ObjId};
use crate::settings::AnalysisOptions;
use crate::target::assemble::MeshFiles;
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
    /// Files that are not manifests but that renderers read (generator inputs, chart templates), per side.
    pub base_support: Vec<TreeFile>,
    pub head_support: Vec<TreeFile>,
}

/// Reviews a change. `opts` must carry the base side's project config. Each side is read as one mesh of plain
/// files; [`review_with`] takes the meshes from an [`Assemble`] (targets, rendering).
pub fn review(input: &ReviewInput, opts: &AnalysisOptions) -> Review {
    review_with(input, opts, &OneMesh)
}

/// How the meshes of a side are laid out from its parsed files.
pub trait Assemble: Sync {
    /// The meshes of one side. `parsed` holds the side's parsed manifest files (unchanged files that cannot hold
    /// a relevant object are left out).
    fn meshes(&self, side: Side, parsed: &[LoadedFile]) -> Vec<MeshFiles>;
    /// For fix verification of rendered objects on the head side.
    fn rerender(&self) -> Option<Arc<dyn crate::target::Rerender>> {
        None
    }
}

/// Every file of a side as one mesh `default`, as the tool read trees before targets.
pub struct OneMesh;

impl Assemble for OneMesh {
    fn meshes(&self, _side: Side, parsed: &[LoadedFile]) -> Vec<MeshFiles> {
        vec![MeshFiles {
            name: "default".into(),
            files: parsed.to_vec(),
            targets: vec!["plain".into()],
            ..MeshFiles::default()
        }]
    }
}

/// Reviews a change whose meshes `assemble` lays out: each mesh compared on its own, findings that several meshes
/// share from the same source line merged into one that lists its meshes.
pub fn review_with(input: &ReviewInput, opts: &AnalysisOptions, assemble: &dyn Assemble) -> Review {
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
        if *fits { load_shared(&f.path, &f.bytes, &limits) } else { crate::manifest::refused_total(&f.path, &limits) }
    });
    tracing::debug!(files = jobs.len(), ms = clock.elapsed().as_millis() as u64, "parsed");
    let cache: HashMap<(&str, &str), &LoadedFile> =
        jobs.iter().zip(parsed.iter()).map(|(f, l)| ((f.path.as_str(), f.id.as_str()), l)).collect();
    let side_files = |sel: &[&TreeFile]| -> Vec<LoadedFile> {
        sel.iter().filter_map(|f| cache.get(&(f.path.as_str(), f.id.as_str())).map(|l| (*l).clone())).collect()
    };
    let base_parsed = side_files(&base_sel);
    let head_parsed = side_files(&head_sel);

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

    let (base_meshes, head_meshes) = std::thread::scope(|s| {
        let base = s.spawn(|| assemble.meshes(Side::Base, &base_parsed));
        let head = assemble.meshes(Side::Head, &head_parsed);
        match base.join() {
            Ok(base) => (base, head),
            Err(e) => std::panic::resume_unwind(e),
        }
    });
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "meshes of both sides");
    let head_opts = AnalysisOptions { rerender: assemble.rerender(), ..opts.clone() };
    let mut names: Vec<&str> = head_meshes.iter().map(|m| m.name.as_str()).collect();
    names.extend(base_meshes.iter().map(|m| m.name.as_str()).filter(|n| !head_meshes.iter().any(|m| m.name == *n)));
    let several = names.len() > 1;
    let mut reviews: Vec<(String, Review)> = Vec::new();
    for name in names {
        let empty = MeshFiles::default();
        let b = base_meshes.iter().find(|m| m.name == name).unwrap_or(&empty);
        let h = head_meshes.iter().find(|m| m.name == name).unwrap_or(&empty);
        let unchanged = !b.key.is_empty() && b.key == h.key && b.name == h.name;
        let mesh_opts = AnalysisOptions { cli: head_opts.cli.clone().or(&h.layer), ..head_opts.clone() };
        let mut r = review_one(input, &b.files, &h.files, &changes, &mesh_opts, unchanged);
        r.settings = r.settings.clone();
        let targets = TargetIndex::new(h, b);
        for f in &mut r.findings {
            f.meshes = vec![name.to_string()];
            f.targets = targets.of(&f.object);
        }
        // Render failures and conflicts; a failure the base side does not have is introduced.
        for e in &h.errors {
            let introduced = e.kind.is_fatal() && !b.errors.iter().any(|x| x.path == e.path && x.message == e.message);
            r.errors.push(ReviewError { error: e.clone(), introduced });
        }
        for f in h.files.iter() {
            for s in &f.inputs {
                r.head_sources.entry(s.path.clone()).or_insert_with(|| s.clone());
            }
        }
        for f in b.files.iter() {
            for s in &f.inputs {
                r.base_sources.entry(s.path.clone()).or_insert_with(|| s.clone());
            }
        }
        reviews.push((name.to_string(), r));
    }
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "meshes reviewed");
    let mut review = merge_reviews(reviews, several);
    // Parse errors of every file read, whichever mesh (if any) holds it.
    let changed_head: HashSet<&str> = changes.iter().filter_map(|c| c.head_path.as_deref()).collect();
    for f in &head_parsed {
        for e in &f.errors {
            review.errors.push(ReviewError {
                error: e.clone(),
                introduced: e.kind.is_fatal() && changed_head.contains(e.path.as_str()),
            });
        }
        if let Some(s) = &f.source {
            review.head_sources.entry(s.path.clone()).or_insert_with(|| s.clone());
        }
    }
    for f in &base_parsed {
        if let Some(s) = &f.source {
            review.base_sources.entry(s.path.clone()).or_insert_with(|| s.clone());
        }
    }
    review.errors.sort_by(|a, b| a.error.cmp(&b.error).then(b.introduced.cmp(&a.introduced)));
    review.errors.dedup_by(|a, b| a.error == b.error);
    review.base = input.base_label.clone();
    review.head = input.head_label.clone();
    review.changes = changes;
    review.config_changed = input.config_changed;
    review.meshes =
        head_meshes.iter().map(|m| MeshSummary { name: m.name.clone(), targets: m.targets.clone() }).collect();
    super::group::arrange(&mut review.findings);
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "reviews merged");
    drop(cache);
    let garbage = (parsed, base_parsed, head_parsed, base_meshes, head_meshes);
    if jobs.len() >= DROP_IN_BACKGROUND_FILES {
        // If the thread cannot be spawned, the closure and the garbage are dropped right here.
        let _ = std::thread::Builder::new().name("review-drop".into()).spawn(move || drop(garbage));
    }
    review
}

/// The targets of a mesh that hold an object (rendered files know their target): the head side's files, else the
/// base side's; each target once, in file order. Indexed by (kind, name) once per mesh, so listing the targets of
/// every finding costs a lookup each (a scan of the mesh's files per finding made it quadratic).
struct TargetIndex<'m> {
    head: HashMap<(&'m str, &'m str), Vec<&'m str>>,
    base: HashMap<(&'m str, &'m str), Vec<&'m str>>,
}

impl<'m> TargetIndex<'m> {
    fn new(head: &'m MeshFiles, base: &'m MeshFiles) -> Self {
        let index = |m: &'m MeshFiles| {
            let mut out: HashMap<(&'m str, &'m str), Vec<&'m str>> = HashMap::new();
            for f in &m.files {
                let t = f.target.as_deref().unwrap_or("plain");
                for o in &f.objects {
                    let targets = out.entry((o.kind.as_str(), o.name.as_str())).or_default();
                    if !targets.contains(&t) {
                        targets.push(t);
                    }
                }
            }
            out
        };
        TargetIndex { head: index(head), base: index(base) }
    }

    fn of(&self, object: &ObjectRef) -> Vec<String> {
        let key = (object.kind.as_str(), object.name.as_str());
        let found = self.head.get(&key).or_else(|| self.base.get(&key));
        found.map(|t| t.iter().map(|t| t.to_string()).collect()).unwrap_or_default()
    }
}

/// The targets of a mesh that hold an object (see [`TargetIndex`]), for one object.
#[cfg(test)]
fn targets_of(object: &ObjectRef, head: &MeshFiles, base: &MeshFiles) -> Vec<String> {
    TargetIndex::new(head, base).of(object)
}

/// One review from the reviews of each mesh: a finding that several meshes share from the same source line is
/// one finding listing its meshes; posture rows are labelled with their mesh when there are several.
fn merge_reviews(reviews: Vec<(String, Review)>, several: bool) -> Review {
    let mut out = Review { diff: true, ..Review::default() };
    for (name, r) in reviews {
        if out.settings == Default::default() || name == "default" {
            out.settings = r.settings.clone();
        }
        for f in r.findings {
            let same = out.findings.iter_mut().find(|g| {
                g.identity() == f.identity()
                    && g.location == f.location
                    && g.status == f.status
                    && g.severity == f.severity
            });
            match same {
                Some(g) => {
                    for m in f.meshes {
                        if !g.meshes.contains(&m) {
                            g.meshes.push(m);
                        }
                    }
                    for t in f.targets {
                        if !g.targets.contains(&t) {
                            g.targets.push(t);
                        }
                    }
                }
                None => out.findings.push(f),
            }
        }
        out.errors.extend(r.errors);
        for (k, v) in r.head_sources {
            out.head_sources.entry(k).or_insert(v);
        }
        for (k, v) in r.base_sources {
            out.base_sources.entry(k).or_insert(v);
        }
        let label = |scope: String| if several { format!("{name}: {scope}") } else { scope };
        let mut p = r.posture;
        for row in p.before.iter_mut().chain(p.after.iter_mut()) {
            row.scope = label(std::mem::take(&mut row.scope));
        }
        out.posture.before.extend(p.before);
        out.posture.after.extend(p.after);
        out.posture.changed.extend(p.changed.into_iter().map(label));
        out.connectivity.extend(r.connectivity.into_iter().map(|mut c| {
            if several {
                c.mesh = name.clone();
            }
            c
        }));
    }
    sort_findings(&mut out.findings);
    out.findings.sort_by_key(|f| f.status);
    out
}

/// One mesh's review: both sides analyzed, findings classified and anchored, postures compared. An `unchanged`
/// mesh (the same inputs on both sides) is analyzed once: everything in it is existing. Its `diff` flag is left
/// unset: only the merged review's (set by [`merge_reviews`]) is read.
fn review_one(
    input: &ReviewInput,
    base_loaded: &[LoadedFile],
    head_loaded: &[LoadedFile],
    changes: &[FileChange],
    opts: &AnalysisOptions,
    unchanged: bool,
) -> Review {
    let _ = input;
    let clock = std::time::Instant::now();
    if unchanged {
        let quiet = AnalysisOptions { no_fixes: true, ..opts.clone() };
        let head = analyze_mesh(head_loaded, unanalyzed_mesh(head_loaded, &quiet), &quiet, Side::Head);
        return Review {
            findings: head.findings,
            errors: head.errors.into_iter().map(|error| ReviewError { error, introduced: false }).collect(),
            settings: head.settings.clone(),
            head_sources: head.sources,
            posture: super::posture::compare(&head.mesh, &head.mesh),
            ..Review::default()
        };
    }
    let quiet = AnalysisOptions { no_fixes: true, ..opts.clone() };
    // Both meshes first (cheap): the head's `newer` set needs the base's objects. Then the two analyses, each
    // with its posture, run on their own core.
    let base_mesh = unanalyzed_mesh(base_loaded, &quiet);
    let mut head_mesh = unanalyzed_mesh(head_loaded, &quiet);
    let base_keys: HashSet<RefKey> = (0..base_mesh.objects.len()).map(|i| ref_key(&base_mesh, i)).collect();
    let newer: HashSet<ObjectRef> = (0..head_mesh.objects.len())
        .filter(|i| !base_keys.contains(&ref_key(&head_mesh, *i)))
        .map(|i| head_mesh.object_ref(i))
        .collect();
    drop(base_keys);
    head_mesh.newer = newer;
    let (mut base, mut head) = std::thread::scope(|s| {
        let base = s.spawn(|| analyze_mesh(base_loaded, base_mesh, &quiet, Side::Base));
        let head = analyze_mesh(head_loaded, head_mesh, &quiet, Side::Head);
        match base.join() {
            Ok(base) => (base, head),
            Err(e) => std::panic::resume_unwind(e),
        }
    });
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "head analyzed");

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
    // The downgrades and the connectivity diff read the same two postures: one on each core.
    let (downgrades, connectivity) = std::thread::scope(|s| {
        let diff = s.spawn(|| crate::posture::diff(&before, &after));
        let downgrades = crate::rules::mtls003::downgrades(&before, &after, &base.mesh, &head.mesh);
        match diff.join() {
            Ok(diff) => (downgrades, diff),
            Err(e) => std::panic::resume_unwind(e),
        }
    });
    for d in downgrades {
        let mesh = if d.side == Side::Base { &base.mesh } else { &head.mesh };
        if crate::analysis::is_suppressed(mesh, &d.finding, opts) {
            continue;
        }
        let mut f = crate::analysis::concretize(mesh, &d.finding, d.side);
        f.status = Status::Introduced;
        head.findings.push(f);
    }
    drop((before, after));
    let introduced: HashSet<_> =
        head.findings.iter().filter(|f| f.status == Status::Introduced).map(Finding::identity).collect();
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "classified, postures compared");
    if !opts.no_fixes {
        attach_fixes(head_loaded, &mut head, opts, |f| introduced.contains(&f.identity()));
    }
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, fixes = introduced.len(), "fixes verified");
    let mut findings: Vec<Finding> = Vec::new();
    let index = AnchorIndex::new(&base.mesh, &head.mesh, changes);
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
    if !opts.no_fixes {
        super::group::fix_groups(
            &mut findings,
            Status::Introduced,
            head_loaded,
            &head.mesh,
            &head.rule_findings,
            Some((&base.mesh, base_loaded)),
            opts,
        );
        tracing::debug!(ms = clock.elapsed().as_millis() as u64, "cause groups given their fixes");
    }

    let changed_head: HashSet<&str> = changes.iter().filter_map(|c| c.head_path.as_deref()).collect();
    // An object the API server rejects is introduced when the change brings the rejection (the message names the
    // object, field and rule; lines may move).
    let base_rejected: HashSet<&str> = base
        .errors
        .iter()
        .filter(|e| e.kind == crate::finding::ErrorKind::Rejected)
        .map(|e| e.message.as_str())
        .collect();
    let errors = head
        .errors
        .iter()
        .map(|e| ReviewError {
            error: e.clone(),
            introduced: if e.kind == crate::finding::ErrorKind::Rejected {
                !base_rejected.contains(e.message.as_str())
            } else {
                e.kind.is_fatal() && changed_head.contains(e.path.as_str())
            },
        })
        .collect();
    let review = Review {
        head_sources: std::mem::take(&mut head.sources),
        base_sources: std::mem::take(&mut base.sources),
        findings,
        errors,
        settings: head.settings.clone(),
        posture: super::posture::compare(&base.mesh, &head.mesh),
        connectivity,
        ..Review::default()
    };
    if head_loaded.len() >= DROP_IN_BACKGROUND_FILES {
        // Both analyses (meshes, postures, indexes) are freed beside the rest of the review; if the thread cannot
        // be spawned, they are dropped right here.
        let _ = std::thread::Builder::new().name("review-drop".into()).spawn(move || drop((base, head)));
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
        let head_candidates = (0..head.objects.len())
            .filter(|i| source_spans(&head.objects[*i]).iter().any(|s| added.contains_key(s.0.as_ref())))
            .collect();
        let base_candidates = (0..base.objects.len())
            .filter(|i| {
                source_spans(&base.objects[*i]).iter().any(|s| deleted.contains_key(s.0.as_ref()))
                    && !head_first.contains_key(&ref_key(base, *i))
            })
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
            let mut out = Vec::new();
            for (path, line, end_line) in source_spans(&mesh.objects[i]) {
                let ranges = match side {
                    Side::Head => self.added.get(path.as_ref()),
                    Side::Base => self.deleted.get(path.as_ref()),
                };
                out.extend(
                    ranges.map(|r| overlap(r, line, end_line)).unwrap_or_default().into_iter().map(|(a, b)| Anchor {
                        side,
                        path: path.to_string(),
                        line: a,
                        end_line: b,
                    }),
                );
            }
            out
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

/// The source spans of an object: its own document, or for a rendered object its source document and patches.
fn source_spans(o: &crate::manifest::Object) -> Vec<(Arc<str>, usize, usize)> {
    match &o.provenance {
        Some(p) => p.spans().into_iter().map(|s| (s.path, s.line, s.end_line)).collect(),
        None => vec![(o.path.clone(), o.line, o.end_line)],
    }
}

/// Checks one snapshot whose meshes `assemble` lays out: every mesh analyzed (with verified fixes), findings
/// that several meshes share from the same source line merged. Every finding is `existing`.
pub fn snapshot_with(files: &[TreeFile], opts: &AnalysisOptions, assemble: &dyn Assemble) -> Review {
    let limits = Limits::configured();
    let templates = helm_template_paths(files.iter().map(|f| f.path.as_str()));
    let sel: Vec<&TreeFile> = files.iter().filter(|f| !templates.contains(&f.path)).collect();
    let parsed: Vec<LoadedFile> = parallel_map(&sel, |f| load_shared(&f.path, &f.bytes, &limits));
    let meshes = assemble.meshes(Side::Head, &parsed);
    let head_opts = AnalysisOptions { rerender: assemble.rerender(), ..opts.clone() };
    let several = meshes.len() > 1;
    let mut reviews = Vec::new();
    for m in &meshes {
        let mesh_opts = AnalysisOptions { cli: head_opts.cli.clone().or(&m.layer), ..head_opts.clone() };
        let mut a = crate::analysis::analyze(&m.files, &mesh_opts, Side::Head, HashSet::new());
        super::group::fix_groups(
            &mut a.findings,
            Status::Existing,
            &m.files,
            &a.mesh,
            &a.rule_findings,
            None,
            &mesh_opts,
        );
        let mut r = Review {
            findings: a.findings,
            errors: a.errors.into_iter().map(|error| ReviewError { error, introduced: false }).collect(),
            settings: a.settings,
            head_sources: a.sources,
            ..Review::default()
        };
        let targets = TargetIndex::new(m, m);
        for f in &mut r.findings {
            f.meshes = vec![m.name.clone()];
            f.targets = targets.of(&f.object);
        }
        r.errors.extend(m.errors.iter().map(|e| ReviewError { error: e.clone(), introduced: false }));
        for f in &m.files {
            for s in &f.inputs {
                r.head_sources.entry(s.path.clone()).or_insert_with(|| s.clone());
            }
        }
        reviews.push((m.name.clone(), r));
    }
    let mut review = merge_reviews(reviews, several);
    review.diff = false;
    for f in &parsed {
        review.errors.extend(f.errors.iter().map(|e| ReviewError { error: e.clone(), introduced: false }));
        if let Some(s) = &f.source {
            review.head_sources.entry(s.path.clone()).or_insert_with(|| s.clone());
        }
    }
    review.errors.sort_by(|a, b| a.error.cmp(&b.error));
    review.errors.dedup_by(|a, b| a.error == b.error);
    review.meshes = meshes.iter().map(|m| MeshSummary { name: m.name.clone(), targets: m.targets.clone() }).collect();
    super::group::arrange(&mut review.findings);
    review
}

#[cfg(test)]
#[path = "build_mutation_tests.rs"]
mod mutation_tests;

#[cfg(test)]
#[path = "build_mutation2_tests.rs"]
mod mutation2_tests;

#[cfg(test)]
#[path = "build_mutation3_tests.rs"]
mod mutation3_tests;

#[cfg(test)]
#[path = "build_mutation4_tests.rs"]
mod mutation4_tests;

#[cfg(test)]
#[path = "build_mutation5_tests.rs"]
mod mutation5_tests;

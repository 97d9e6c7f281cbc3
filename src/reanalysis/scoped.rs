//! Scoped re-analysis: the rule findings of a snapshot with one file edited, computed from what the edit can change
//! instead of the whole mesh. Fix verification runs one re-analysis per fix candidate; with this its cost depends on
//! the namespaces the edit touches, not on the size of the repository.
//!
//! The dependency structure is declared per rule in the registry ([`Reads`]). An edit that changes only
//! PeerAuthentications and DestinationRules of non-root namespaces (not mesh-wide DestinationRules) leaves the *mesh
//! part* (root namespace policies, mesh-wide DestinationRules, settings) and every workload as they were, so:
//! - [`Reads::Namespace`] rules change only on objects of the touched namespaces: they are re-run on a mesh of those
//!   namespaces plus the mesh part ([`Mesh::assemble`]), and their findings elsewhere are the snapshot's own;
//! - [`Reads::Mesh`] rules cannot change (their findings on objects of the touched namespaces are recomputed with
//!   the rest, from the same mesh part);
//! - [`Reads::Callers`] rules cannot change unless a caller calls a touched namespace (then: no scoped run);
//! - [`Reads::Posture`] rules are left to the caller (posture rows of the services the edit reaches).
//!
//! The one cross-namespace read of a `Namespace` rule: MTLS009's finding on the mesh-wide PeerAuthentication reads
//! the namespace PeerAuthentications of namespaces with ambient workloads, so an edit there is not scoped either.
//! Anything else (other kinds, the root namespace, mesh-wide hosts) returns `None`: the caller re-analyzes the
//! whole mesh. Objects of the edited file whose text did not change are not part of the edit.

use crate::context::MeshContext;
use crate::finding::{ObjectRef, Severity};
use crate::manifest::{LoadedFile, Object, SourceText};
use crate::mesh::{Mesh, ObjId, Placed, namespace_for};
use crate::posture::{PostureScope, Row, Verdict, remedy};
use crate::reanalysis::is_suppressed_at;
use crate::rules::{RULES, Reads, RuleFinding};
use crate::settings::AnalysisOptions;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// A rule finding as fix verification compares it: (code, object, port, severity).
pub type FindingKey = (&'static str, ObjectRef, Option<u32>, Severity);

/// The snapshot's findings and indexes, computed once per snapshot for all its scoped re-analyses.
pub struct Scoped<'m> {
    mesh: &'m MeshContext,
    /// Object ids by namespace: namespaced objects by their effective namespace, Namespace objects by their name.
    by_namespace: HashMap<&'m str, Vec<ObjId>>,
    /// Mesh-wide DestinationRules (any namespace).
    mesh_wide: Vec<ObjId>,
    /// The snapshot's findings of `Namespace`, `Mesh` and `Callers` rules (after suppression).
    keys: Vec<(FindingKey, Reads)>,
    /// Namespaces whose PeerAuthentications a mesh-wide finding reads (ambient workloads), or that callers call.
    guarded: HashSet<String>,
}

/// The namespace an object's findings belong to: a Namespace object's own name, else its effective namespace.
fn region<'a>(kind: &str, name: &'a str, namespace: &'a str) -> &'a str {
    if kind == "Namespace" { name } else { namespace }
}

impl<'m> Scoped<'m> {
    /// For re-analyses of `mesh` (built from the snapshot with the options `opts`).
    pub fn new(mesh: &'m MeshContext, opts: &AnalysisOptions) -> Self {
        let mut by_namespace: HashMap<&str, Vec<ObjId>> = HashMap::new();
        for (id, o) in mesh.objects.iter().enumerate() {
            by_namespace.entry(region(&o.kind, &o.name, &mesh.namespaces[id])).or_default().push(id);
        }
        let mesh_wide = mesh.destination_rules.iter().filter(|d| mesh.is_mesh_wide_dr(d)).map(|d| d.obj).collect();
        let keys = keys_of(mesh, opts, |r| r != Reads::Posture, |_| true);
        let mut guarded = crate::rules::mtls010::called_namespaces(mesh);
        guarded.extend(mesh.inventory().workloads.iter().filter(|w| w.ambient).map(|w| w.namespace.clone()));
        Scoped { mesh, by_namespace, mesh_wide, keys, guarded }
    }

    /// The findings of every rule but the posture rules for the snapshot with `old` (laid out in the mesh from
    /// object `start` on) replaced by `new`, or `None` when the edit is not one a scoped run covers.
    pub fn keys_with(
        &self,
        start: usize,
        old: &LoadedFile,
        new: &LoadedFile,
        kustomize: &BTreeMap<String, String>,
        opts: &AnalysisOptions,
    ) -> Option<Vec<FindingKey>> {
        let mesh = self.mesh;
        let new_ns: Vec<String> = new.objects.iter().map(|o| effective_namespace(o, kustomize)).collect();
        let Changes { removed, added, .. } = changed_objects(old, new);
        let root = mesh.settings.root_namespace.as_str();
        let mut touched: HashSet<&str> = HashSet::new();
        let changed = removed
            .iter()
            .map(|&i| (&*old.objects[i], mesh.namespaces[start + i].as_str()))
            .chain(added.iter().map(|&i| (&*new.objects[i], new_ns[i].as_str())));
        for (o, ns) in changed {
            let local = ns != root
                && match o.kind.as_str() {
                    "PeerAuthentication" => o.api_version.starts_with("security.istio.io/"),
                    "DestinationRule" => {
                        o.api_version.starts_with("networking.istio.io/")
                            && !mesh.is_mesh_wide_host(o.str_at(&["spec", "host"]).unwrap_or(""))
                    }
                    _ => false,
                };
            if !local || self.guarded.contains(ns) {
                return None;
            }
            touched.insert(ns);
        }
        let in_touched = |k: &FindingKey| touched.contains(region(&k.1.kind, &k.1.name, &k.1.namespace));
        let mut out: Vec<FindingKey> = self
            .keys
            .iter()
            .filter(|(k, reads)| *reads == Reads::Callers || !in_touched(k))
            .map(|(k, _)| k.clone())
            .collect();
        if touched.is_empty() {
            return Some(out);
        }
        // The mesh of the touched namespaces and the mesh part, in the order a rebuild lays it out.
        let end = start + old.objects.len();
        let mut ids: Vec<ObjId> = touched
            .iter()
            .chain(std::iter::once(&root))
            .flat_map(|ns| self.by_namespace.get(ns).into_iter().flatten().copied())
            .chain(self.mesh_wide.iter().copied())
            .filter(|id| !(start..end).contains(id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let split = ids.partition_point(|id| *id < start);
        let at = |id: &ObjId| (mesh.objects[*id].clone(), mesh.namespaces[*id].clone());
        let objects = ids[..split]
            .iter()
            .map(at)
            .chain(new.objects.iter().cloned().zip(new_ns.iter().cloned()))
            .chain(ids[split..].iter().map(at));
        let mut sub = Mesh::assemble(mesh.settings.clone(), mesh.newer.clone(), ids.len() + new.objects.len(), objects);
        sub.suggest_mode = opts.suggest_mode();
        let sub = MeshContext::new(sub);
        out.extend(
            keys_of(&sub, opts, |r| matches!(r, Reads::Namespace | Reads::Mesh), |k| in_touched(k))
                .into_iter()
                .map(|(k, _)| k),
        );
        Some(out)
    }
}

/// The posture scope of an edit of `old` into `new` whose changed objects are `changes`
/// ([`crate::posture::PostureScope::of`] of the removed and added objects).
pub fn posture_scope(
    mesh: &MeshContext,
    old: &LoadedFile,
    new: &LoadedFile,
    changes: &Changes,
) -> Option<crate::posture::PostureScope> {
    let removed = changes.removed.iter().map(|&i| &*old.objects[i]);
    let objects = removed.chain(changes.added.iter().map(|&i| &*new.objects[i]));
    crate::posture::PostureScope::of_with(&mesh.vs_index(), mesh, objects)
}

/// The objects of the edited file `new` for [`Mesh::overlay`], the file laid out from object `start` on.
pub fn placed(changes: &Changes, start: usize, new: &LoadedFile, kustomize: &BTreeMap<String, String>) -> Vec<Placed> {
    new.objects
        .iter()
        .zip(&changes.same)
        .map(|(o, same)| match same {
            Some(j) => Placed::Kept(start + j),
            None => Placed::New(o.clone(), effective_namespace(o, kustomize)),
        })
        .collect()
}

/// The namespace [`Mesh::build`] gives an object: its own, else its kustomization's, else `default`.
pub fn effective_namespace(o: &Object, kustomize: &BTreeMap<String, String>) -> String {
    match &o.namespace {
        Some(ns) => ns.clone(),
        None => namespace_for(&o.path, kustomize).cloned().unwrap_or_else(|| "default".to_string()),
    }
}

/// The findings (after suppression) of the rules `reads` selects, those `keep` keeps.
fn keys_of(
    mesh: &MeshContext,
    opts: &AnalysisOptions,
    reads: impl Fn(Reads) -> bool,
    keep: impl Fn(&FindingKey) -> bool,
) -> Vec<(FindingKey, Reads)> {
    RULES
        .iter()
        .filter(|r| reads(r.reads) && !opts.is_ignored(r.code))
        .flat_map(|r| (r.check)(mesh).into_iter().map(move |f| (f, r.reads)))
        .filter(|(f, _)| !crate::reanalysis::is_suppressed(mesh, f, opts))
        .map(|(f, reads): (RuleFinding, Reads)| ((f.code, mesh.object_ref(f.subject), f.port, f.severity), reads))
        .filter(|(k, _)| keep(k))
        .collect()
}

/// The findings of the posture rules ([`Reads::Posture`]) of a mesh, after suppression.
pub fn posture_keys(mesh: &MeshContext, opts: &AnalysisOptions) -> Vec<FindingKey> {
    keys_of(mesh, opts, |r| r == Reads::Posture, |_| true).into_iter().map(|(k, _)| k).collect()
}

/// A rule and the verdicts of the paths it reports.
pub type PathRule = (&'static crate::rules::Rule, fn(Verdict) -> bool);

/// The posture rules ([`Reads::Posture`]) with the verdicts of the paths each reports.
pub const POSTURE_RULES: [PathRule; 2] = [
    (&crate::rules::mtls001::RULE, crate::rules::mtls001::fails),
    (&crate::rules::mtls002::RULE, crate::rules::mtls002::fails),
];

/// A posture finding of a snapshot with the rows it is found from.
pub type KeyRows = (FindingKey, Vec<Arc<Row>>);

/// The posture rules' findings (after suppression) of `mesh`'s posture, each with the rows it is found from.
pub fn posture_keys_by_row(mesh: &MeshContext, opts: &AnalysisOptions) -> Vec<KeyRows> {
    let posture = mesh.posture();
    let mut out: BTreeMap<FindingKey, Vec<Arc<Row>>> = BTreeMap::new();
    for (rule, pick) in POSTURE_RULES.iter().filter(|(r, _)| !opts.is_ignored(r.code)) {
        for ((subject, port), row) in remedy::path_subjects(mesh, &posture.rows, pick) {
            if !is_suppressed_at(mesh, rule.code, subject, opts) {
                let key = (rule.code, mesh.object_ref(subject), Some(port), Severity::Error);
                out.entry(key).or_default().push(row.clone());
            }
        }
    }
    out.into_iter().collect()
}

/// The posture rules' findings of a snapshot edited within `scope`: `mesh` is the edited snapshot with that scope
/// set (its posture has the scope's rows only) and `known` the unedited snapshot's [`posture_keys_by_row`]. A
/// finding is the union of what its rows give: the snapshot's from rows outside the scope (they cannot change),
/// and the scope's rows' anew.
pub fn posture_keys_within(
    mesh: &MeshContext,
    opts: &AnalysisOptions,
    known: &[KeyRows],
    scope: &PostureScope,
) -> Vec<FindingKey> {
    let mut out: std::collections::BTreeSet<FindingKey> =
        known.iter().filter(|(_, rows)| rows.iter().any(|r| !scope.includes_row(r))).map(|(k, _)| k.clone()).collect();
    let posture = mesh.posture();
    for (rule, pick) in POSTURE_RULES.iter().filter(|(r, _)| !opts.is_ignored(r.code)) {
        for ((subject, port), _) in remedy::path_subjects(mesh, &posture.rows, pick) {
            if !is_suppressed_at(mesh, rule.code, subject, opts) {
                out.insert((rule.code, mesh.object_ref(subject), Some(port), Severity::Error));
            }
        }
    }
    out.into_iter().collect()
}

/// The lines of an object in its file's text.
fn object_text<'a>(lines: &'a [&'a str], o: &Object) -> Option<&'a [&'a str]> {
    lines.get(o.line.checked_sub(1)?..o.end_line.min(lines.len()))
}

/// The objects an edit of one file changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Positions in the old file's objects of those removed or changed.
    pub removed: Vec<usize>,
    /// Positions in the new file's objects of those added or changed.
    pub added: Vec<usize>,
    /// For each object of the new file, the position of the unchanged old object it equals.
    pub same: Vec<Option<usize>>,
}

/// The objects an edit changes. An object is unchanged when the new file has one of the same kind, apiVersion,
/// name, written namespace and List position with the same text. Without the texts (rendered output) every object
/// counts as changed.
pub fn changed_objects(old: &LoadedFile, new: &LoadedFile) -> Changes {
    let all = || Changes {
        removed: (0..old.objects.len()).collect(),
        added: (0..new.objects.len()).collect(),
        same: vec![None; new.objects.len()],
    };
    let (Some(os), Some(ns)) = (old.source.as_deref(), new.source.as_deref()) else { return all() };
    if old.objects.iter().chain(&new.objects).any(|o| o.provenance.is_some()) {
        return all();
    }
    let (ol, nl) = (SourceText::lines(os), SourceText::lines(ns));
    let key = |o: &Object, lines: &[&str]| -> Option<String> {
        let text = object_text(lines, o)?;
        Some(format!(
            "{}\0{}\0{}\0{:?}\0{:?}\0{}",
            o.kind,
            o.api_version,
            o.name,
            o.namespace,
            o.list_index,
            text.join("\n")
        ))
    };
    let mut unmatched: HashMap<String, Vec<usize>> = HashMap::new();
    let mut removed = Vec::new();
    for (i, o) in old.objects.iter().enumerate().rev() {
        match key(o, &ol) {
            Some(k) => unmatched.entry(k).or_default().push(i),
            None => removed.push(i),
        }
    }
    let mut added = Vec::new();
    let mut same = Vec::with_capacity(new.objects.len());
    for (i, o) in new.objects.iter().enumerate() {
        // The first unmatched old object of that text (the lists were filled in reverse).
        let matched = key(o, &nl).and_then(|k| unmatched.get_mut(&k)).and_then(|v| v.pop());
        if matched.is_none() {
            added.push(i);
        }
        same.push(matched);
    }
    removed.extend(unmatched.into_values().flatten());
    removed.sort_unstable();
    Changes { removed, added, same }
}

#[cfg(test)]
#[path = "scoped_mutation2_tests.rs"]
mod scoped_mutation2_tests;

//! The mesh model: one indexed snapshot of the typed objects (PeerAuthentications, DestinationRules, ...) with
//! their effective namespaces and the mesh settings, plus the scope questions every rule asks.

use crate::finding::{ErrorKind, LoadError, ObjectRef};
use crate::manifest::{LoadedFile, Object};
use crate::settings::{MeshLayer, MeshSettings, SuggestMode, mesh_layer_from_node};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// Index of an object in [`Mesh::objects`].
pub type ObjId = usize;

/// A PeerAuthentication mTLS mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PaMode {
    Unset,
    Disable,
    Permissive,
    Strict,
}

impl PaMode {
    pub fn parse(text: &str) -> Option<PaMode> {
        match text {
            "UNSET" => Some(PaMode::Unset),
            "DISABLE" => Some(PaMode::Disable),
            "PERMISSIVE" => Some(PaMode::Permissive),
            "STRICT" => Some(PaMode::Strict),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PaMode::Unset => "UNSET",
            PaMode::Disable => "DISABLE",
            PaMode::Permissive => "PERMISSIVE",
            PaMode::Strict => "STRICT",
        }
    }

    /// STRICT or PERMISSIVE: the server accepts mTLS.
    pub fn enables(self) -> bool {
        matches!(self, PaMode::Strict | PaMode::Permissive)
    }
}

/// A DestinationRule client TLS mode.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsMode {
    Disable,
    Simple,
    Mutual,
    IstioMutual,
    /// A value Istio does not know (reported as a schema error).
    Unknown(String),
}

impl TlsMode {
    pub fn parse(text: &str) -> TlsMode {
        match text {
            "DISABLE" => TlsMode::Disable,
            "SIMPLE" => TlsMode::Simple,
            "MUTUAL" => TlsMode::Mutual,
            "ISTIO_MUTUAL" => TlsMode::IstioMutual,
            other => TlsMode::Unknown(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            TlsMode::Disable => "DISABLE",
            TlsMode::Simple => "SIMPLE",
            TlsMode::Mutual => "MUTUAL",
            TlsMode::IstioMutual => "ISTIO_MUTUAL",
            TlsMode::Unknown(s) => s,
        }
    }

    /// `ISTIO_MUTUAL` or `MUTUAL` (the TIS0502/TIS0503 reading of "enables mTLS").
    pub fn is_mutual(&self) -> bool {
        matches!(self, TlsMode::IstioMutual | TlsMode::Mutual)
    }
}

/// A PeerAuthentication.
#[derive(Debug, Clone)]
pub struct PeerAuthentication {
    pub obj: ObjId,
    pub namespace: String,
    pub name: String,
    /// Non-empty `selector.matchLabels`; `None` means namespace-wide.
    pub selector: Option<Vec<(String, String)>>,
    pub mode: PaMode,
    /// `portLevelMtls` entries: (port key as text, mode).
    pub port_level: Vec<(String, PaMode)>,
}

/// A DestinationRule's `tls` setting at one level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// No `tls` block: no opinion, auto mTLS decides.
    Absent,
    /// A `tls` block; `mode_written` is false when the block has no `mode` (which means DISABLE).
    Set { mode: TlsMode, mode_written: bool },
}

impl Tls {
    pub fn mode(&self) -> Option<&TlsMode> {
        match self {
            Tls::Absent => None,
            Tls::Set { mode, .. } => Some(mode),
        }
    }
}

/// A DestinationRule.
#[derive(Debug, Clone)]
pub struct DestinationRule {
    pub obj: ObjId,
    pub namespace: String,
    pub name: String,
    pub host: String,
    /// `spec.trafficPolicy.tls`.
    pub tls: Tls,
    /// `spec.trafficPolicy.portLevelSettings`: (port number, tls).
    pub port_level: Vec<(u32, Tls)>,
    /// `spec.exportTo`; empty means exported everywhere.
    pub export_to: Vec<String>,
    /// Non-empty `spec.workloadSelector.matchLabels`.
    pub workload_selector: Option<Vec<(String, String)>>,
}

/// The indexed snapshot.
#[derive(Debug, Clone, Default)]
pub struct Mesh {
    pub settings: MeshSettings,
    /// Shared with the loaded files (`Arc`): building a mesh copies no object.
    pub objects: Vec<Arc<Object>>,
    /// Effective namespace of each object (same index as `objects`).
    pub namespaces: Vec<String>,
    pub peer_authentications: Vec<PeerAuthentication>,
    pub destination_rules: Vec<DestinationRule>,
    /// Objects the change adds (change review): younger than everything else when Istio picks the oldest.
    pub newer: HashSet<ObjectRef>,
    /// Schema problems found while typing objects. Rules do not read them: fix verification's spliced meshes
    /// ([`Mesh::splice_file`]) leave them stale.
    pub schema_errors: Vec<LoadError>,
    /// The mode fixes give to PeerAuthentications they add or edit.
    pub suggest_mode: SuggestMode,
    /// Scope lookups by namespace, built by [`Mesh::build`].
    index: NamespaceIndex,
}

/// Positions in `peer_authentications` (namespace-wide ones) and `destination_rules` by namespace. The scope
/// queries scanned every PeerAuthentication or DestinationRule per call, which made rules and posture quadratic
/// in the number of namespaces. Used only while both vectors have the lengths it was built for; a mesh edited
/// after [`Mesh::build`] falls back to scanning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct NamespaceIndex {
    namespace_wide_pas: HashMap<String, Vec<usize>>,
    destination_rules: HashMap<String, Vec<usize>>,
    lens: (usize, usize),
}

/// Moves the positions of one list's index past an edit of the list: the entries at `removed` (positions before
/// the edit, ascending) left it, then `added` entries were inserted at `at` (a position after the removal), each
/// indexed under its namespace when it has one. Integers only: no namespace is copied but a new one's.
fn edit_positions<'a>(
    map: &mut HashMap<String, Vec<usize>>,
    removed: &[usize],
    at: usize,
    added: impl ExactSizeIterator<Item = Option<&'a str>>,
) {
    let count = added.len();
    map.retain(|_, positions| {
        positions.retain(|p| removed.binary_search(p).is_err());
        for p in positions.iter_mut() {
            let moved = *p - removed.partition_point(|r| r < p);
            *p = if moved >= at { moved + count } else { moved };
        }
        !positions.is_empty()
    });
    for (j, ns) in added.enumerate() {
        let Some(ns) = ns else { continue };
        let positions = map.entry(ns.to_string()).or_default();
        let pos = at + j;
        let i = positions.partition_point(|p| *p < pos);
        positions.insert(i, pos);
    }
}

impl NamespaceIndex {
    fn of(pas: &[PeerAuthentication], drs: &[DestinationRule]) -> Self {
        let mut index = NamespaceIndex { lens: (pas.len(), drs.len()), ..NamespaceIndex::default() };
        for (i, p) in pas.iter().enumerate().filter(|(_, p)| p.selector.is_none()) {
            index.namespace_wide_pas.entry(p.namespace.clone()).or_default().push(i);
        }
        for (i, d) in drs.iter().enumerate() {
            index.destination_rules.entry(d.namespace.clone()).or_default().push(i);
        }
        index
    }
}

#[derive(Clone, Copy)]
enum TypedKind {
    Pa,
    Dr,
}

/// An object of an edited file in [`Mesh::overlay`]: an unchanged one (its id) or a new one (with its effective
/// namespace).
#[derive(Debug, Clone)]
pub enum Placed {
    Kept(ObjId),
    New(Arc<Object>, String),
}

/// What [`Mesh::remove_overlay`] needs to undo a [`Mesh::overlay`].
#[derive(Debug)]
pub struct Overlay {
    /// Objects and schema errors before.
    lens: (usize, usize),
    /// Where the file's typed entries start, and how many the overlay put there.
    at: (usize, usize),
    typed_news: (usize, usize),
    /// Removed typed entries with their positions.
    pas: Vec<(usize, PeerAuthentication)>,
    drs: Vec<(usize, DestinationRule)>,
    /// The namespace index before, when the overlay changed it (`None`: every entry kept its position and what
    /// the index files it under, the usual edit of one field).
    index: Option<NamespaceIndex>,
}

impl Overlay {
    /// The namespaces whose DestinationRules the overlay (applied to `mesh`) takes out or puts in.
    pub fn dr_namespaces(&self, mesh: &Mesh) -> BTreeSet<String> {
        let put = mesh.destination_rules[self.at.1..self.at.1 + self.typed_news.1].iter();
        self.drs.iter().map(|(_, d)| d).chain(put).map(|d| d.namespace.clone()).collect()
    }
}

/// What [`Mesh::unsplice_file`] needs to undo a [`Mesh::splice_file`].
#[derive(Debug)]
pub struct FileSplice {
    start: usize,
    new_len: usize,
    objects: Vec<Arc<Object>>,
    namespaces: Vec<String>,
    /// Position of the file's first typed entry, how many the new objects have, the old entries.
    pa_at: usize,
    pa_new: usize,
    pas: Vec<PeerAuthentication>,
    dr_at: usize,
    dr_new: usize,
    drs: Vec<DestinationRule>,
    index: NamespaceIndex,
}

/// Finds mesh settings declared in the tree: the `istio` / `istio-<rev>` ConfigMap (`data.mesh`) and
/// `IstioOperator.spec.meshConfig`. The first one found in path order wins.
pub fn tree_mesh_layer(files: &[LoadedFile]) -> MeshLayer {
    let mut layer = MeshLayer::default();
    for f in files {
        for o in &f.objects {
            let found = match o.kind.as_str() {
                "ConfigMap" if o.name == "istio" || o.name.starts_with("istio-") => o
                    .str_at(&["data", "mesh"])
                    .map(|text| crate::settings::parse_mesh_config(&o.path, text).unwrap_or_default()),
                "IstioOperator" => {
                    o.tree.path(o.root, &["spec", "meshConfig"]).map(|n| mesh_layer_from_node(&o.tree, n))
                }
                _ => None,
            };
            if let Some(l) = found {
                layer = layer.or(&l);
            }
        }
    }
    layer
}

/// Namespace from the nearest enclosing `kustomization.yaml`, by directory (what [`Mesh::build`] resolves
/// objects without `metadata.namespace` with).
pub fn kustomize_namespaces(files: &[LoadedFile]) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for f in files {
        if let (Some(ns), Some(src)) = (&f.kustomize_namespace, &f.source) {
            map.insert(parent_dir(&src.path).to_string(), ns.clone());
        }
    }
    map
}

fn parent_dir(path: &str) -> &str {
    path.rfind('/').map(|i| &path[..i]).unwrap_or("")
}

pub fn namespace_for<'a>(path: &str, kustomize: &'a BTreeMap<String, String>) -> Option<&'a String> {
    let mut dir = parent_dir(path);
    loop {
        if let Some(ns) = kustomize.get(dir) {
            return Some(ns);
        }
        if dir.is_empty() {
            return None;
        }
        dir = parent_dir(dir);
    }
}

impl Mesh {
    /// Builds the snapshot from loaded files.
    pub fn build(files: &[LoadedFile], settings: MeshSettings, newer: HashSet<ObjectRef>) -> Mesh {
        let kustomize = kustomize_namespaces(files);
        let count = files.iter().map(|f| f.objects.len()).sum();
        // The kustomize namespace depends on the path only: looked up once per file, not once per object.
        let mut dir_namespace: Option<(&str, Option<&String>)> = None;
        let objects = files.iter().flat_map(|f| f.objects.iter()).map(|o| {
            let ns = match &o.namespace {
                Some(ns) => ns.clone(),
                None => {
                    let found = match dir_namespace {
                        Some((path, found)) if path == &*o.path => found,
                        _ => {
                            let found = namespace_for(&o.path, &kustomize);
                            dir_namespace = Some((&o.path, found));
                            found
                        }
                    };
                    found.cloned().unwrap_or_else(|| "default".to_string())
                }
            };
            (o.clone(), ns)
        });
        Mesh::assemble(settings, newer, count, objects)
    }

    /// Builds the snapshot of objects with their effective namespaces, in order: what [`Mesh::build`] does once
    /// the namespaces are resolved (fix verification assembles meshes of a few namespaces this way).
    pub fn assemble(
        settings: MeshSettings,
        newer: HashSet<ObjectRef>,
        count: usize,
        objects: impl Iterator<Item = (Arc<Object>, String)>,
    ) -> Mesh {
        let mut mesh = Mesh { settings, newer, ..Mesh::default() };
        mesh.objects.reserve(count);
        mesh.namespaces.reserve(count);
        for (o, ns) in objects {
            let id = mesh.objects.len();
            let kind = Mesh::typed_kind(&o);
            mesh.objects.push(o);
            let rejected = mesh.rejected(id, &ns);
            match kind {
                _ if rejected => mesh.namespaces.push(ns),
                Some(TypedKind::Pa) => {
                    mesh.namespaces.push(ns.clone());
                    let pa = mesh.type_pa(id, ns);
                    mesh.peer_authentications.push(pa);
                }
                Some(TypedKind::Dr) => {
                    mesh.namespaces.push(ns.clone());
                    let dr = mesh.type_dr(id, ns);
                    mesh.destination_rules.push(dr);
                }
                None => mesh.namespaces.push(ns),
            }
        }
        mesh.index = NamespaceIndex::of(&mesh.peer_authentications, &mesh.destination_rules);
        mesh
    }

    fn typed_kind(o: &Object) -> Option<TypedKind> {
        match o.kind.as_str() {
            "PeerAuthentication" if o.api_version.starts_with("security.istio.io/") => Some(TypedKind::Pa),
            "DestinationRule" if o.api_version.starts_with("networking.istio.io/") => Some(TypedKind::Dr),
            _ => None,
        }
    }

    /// Replaces the objects `start..start + old_len`, one file's ([`Mesh::build`] lays files out one after the
    /// other, objects in order), with `objects`, namespaced with `kustomize` ([`kustomize_namespaces`] of the
    /// files) and typed as [`Mesh::build`] does. The result is the mesh built from the same files with that one
    /// replaced, provided the replacement changes neither the mesh settings nor the kustomize namespaces, except
    /// for `schema_errors`, which are left as they were. Fix verification uses it to re-run the rules on an
    /// edited file without rebuilding the mesh of the whole tree; [`Mesh::unsplice_file`] undoes it.
    pub fn splice_file(
        &mut self,
        start: usize,
        old_len: usize,
        objects: &[Arc<Object>],
        kustomize: &BTreeMap<String, String>,
    ) -> FileSplice {
        let (old_end, new_len) = (start + old_len, objects.len());
        // The old objects' typed entries are contiguous: build types objects in order.
        let pa_at = self.peer_authentications.partition_point(|p| p.obj < start);
        let pa_end = self.peer_authentications.partition_point(|p| p.obj < old_end);
        let dr_at = self.destination_rules.partition_point(|d| d.obj < start);
        let dr_end = self.destination_rules.partition_point(|d| d.obj < old_end);
        let old_objects: Vec<Arc<Object>> = self.objects.splice(start..old_end, objects.iter().cloned()).collect();
        let namespaces: Vec<String> = objects
            .iter()
            .map(|o| match &o.namespace {
                Some(ns) => ns.clone(),
                None => namespace_for(&o.path, kustomize).cloned().unwrap_or_else(|| "default".to_string()),
            })
            .collect();
        let old_namespaces: Vec<String> = self.namespaces.splice(start..old_end, namespaces).collect();
        for p in &mut self.peer_authentications[pa_end..] {
            p.obj = p.obj - old_len + new_len;
        }
        for d in &mut self.destination_rules[dr_end..] {
            d.obj = d.obj - old_len + new_len;
        }
        let errors = self.schema_errors.len();
        let (mut pas, mut drs) = (Vec::new(), Vec::new());
        for id in start..start + new_len {
            let o = self.objects[id].clone();
            let ns = self.namespaces[id].clone();
            if self.rejected(id, &ns) {
                continue;
            }
            match o.kind.as_str() {
                "PeerAuthentication" if o.api_version.starts_with("security.istio.io/") => {
                    pas.push(self.type_pa(id, ns))
                }
                "DestinationRule" if o.api_version.starts_with("networking.istio.io/") => {
                    drs.push(self.type_dr(id, ns))
                }
                _ => {}
            }
        }
        self.schema_errors.truncate(errors);
        let (pa_new, dr_new) = (pas.len(), drs.len());
        let old_pas = self.peer_authentications.splice(pa_at..pa_end, pas).collect();
        let old_drs = self.destination_rules.splice(dr_at..dr_end, drs).collect();
        let index = NamespaceIndex::of(&self.peer_authentications, &self.destination_rules);
        FileSplice {
            start,
            new_len,
            objects: old_objects,
            namespaces: old_namespaces,
            pa_at,
            pa_new,
            pas: old_pas,
            dr_at,
            dr_new,
            drs: old_drs,
            index: std::mem::replace(&mut self.index, index),
        }
    }

    /// Changes the snapshot by an edit of one file that changes PeerAuthentications and DestinationRules only:
    /// `file` is the file's range of object ids, `objects` its objects after the edit in order, each either an
    /// unchanged object of the range or a new one with its effective namespace. Objects of the range not kept
    /// leave the typed views (they stay in `objects`, untyped, so no rule or posture sees them); new ones are
    /// appended to `objects` and typed as [`Mesh::build`] types them, their typed entries placed where a rebuild
    /// places them (Istio's oldest-wins ties go by that order). Object ids of the rest do not move, so the inventory
    /// stays valid. For fix verification; [`Mesh::remove_overlay`] undoes it. Returns `None` (and changes nothing)
    /// when a removed or new object is of another kind.
    pub fn overlay(&mut self, file: std::ops::Range<ObjId>, objects: Vec<Placed>) -> Option<Overlay> {
        let typed = |o: &Object| Mesh::typed_kind(o).is_some();
        let kept: HashSet<ObjId> =
            objects.iter().filter_map(|p| if let Placed::Kept(id) = p { Some(*id) } else { None }).collect();
        if !file.clone().filter(|id| !kept.contains(id)).all(|id| typed(&self.objects[id]))
            || !objects.iter().all(|p| match p {
                Placed::Kept(id) => file.contains(id),
                Placed::New(o, _) => typed(o),
            })
        {
            return None;
        }
        let lens = (self.objects.len(), self.schema_errors.len());
        let lens_before = (self.peer_authentications.len(), self.destination_rules.len());
        let in_file = |id: ObjId| file.contains(&id);
        // The file's typed entries come out (kept ones are put back in the new order).
        let pa_at = self.peer_authentications.iter().position(|p| in_file(p.obj));
        let pas: Vec<(usize, PeerAuthentication)> = self
            .peer_authentications
            .iter()
            .enumerate()
            .filter(|(_, p)| in_file(p.obj))
            .map(|(i, p)| (i, p.clone()))
            .collect();
        self.peer_authentications.retain(|p| !in_file(p.obj));
        let dr_at = self.destination_rules.iter().position(|d| in_file(d.obj));
        let drs: Vec<(usize, DestinationRule)> = self
            .destination_rules
            .iter()
            .enumerate()
            .filter(|(_, d)| in_file(d.obj))
            .map(|(i, d)| (i, d.clone()))
            .collect();
        self.destination_rules.retain(|d| !in_file(d.obj));
        let (mut new_pas, mut new_drs) = (Vec::new(), Vec::new());
        for p in objects {
            match p {
                Placed::Kept(id) => {
                    if let Some((_, pa)) = pas.iter().find(|(_, pa)| pa.obj == id) {
                        new_pas.push(pa.clone());
                    }
                    if let Some((_, dr)) = drs.iter().find(|(_, dr)| dr.obj == id) {
                        new_drs.push(dr.clone());
                    }
                }
                Placed::New(o, ns) => {
                    let id = self.objects.len();
                    let kind = Mesh::typed_kind(&o);
                    self.objects.push(o);
                    self.namespaces.push(ns.clone());
                    if self.rejected(id, &ns) {
                        continue;
                    }
                    match kind {
                        Some(TypedKind::Pa) => {
                            let pa = self.type_pa(id, ns);
                            new_pas.push(pa);
                        }
                        Some(TypedKind::Dr) => {
                            let dr = self.type_dr(id, ns);
                            new_drs.push(dr);
                        }
                        None => {}
                    }
                }
            }
        }
        // Typed entries are in file order: the file's go where its first one was, else before the next file's.
        let pa_at = pa_at.unwrap_or_else(|| self.peer_authentications.partition_point(|p| p.obj < file.start));
        let dr_at = dr_at.unwrap_or_else(|| self.destination_rules.partition_point(|d| d.obj < file.start));
        let typed_news = (new_pas.len(), new_drs.len());
        // An edit that puts each entry back where it was, under the same namespace (and, for PeerAuthentications,
        // as namespace-wide or not), leaves the index as it is: nothing to copy or move. (The file's entries were
        // contiguous from `pa_at` / `dr_at`: the typed lists are in object order and a file's ids are a range.)
        debug_assert!(pas.iter().enumerate().all(|(k, (i, _))| *i == pa_at + k));
        debug_assert!(drs.iter().enumerate().all(|(k, (i, _))| *i == dr_at + k));
        let same_pas = pas.len() == new_pas.len()
            && pas
                .iter()
                .zip(&new_pas)
                .all(|((_, a), b)| a.namespace == b.namespace && a.selector.is_none() == b.selector.is_none());
        let same_drs =
            drs.len() == new_drs.len() && drs.iter().zip(&new_drs).all(|((_, a), b)| a.namespace == b.namespace);
        if same_pas && same_drs && self.index.lens == lens_before {
            self.peer_authentications.splice(pa_at..pa_at, new_pas);
            self.destination_rules.splice(dr_at..dr_at, new_drs);
            debug_assert_eq!(self.index, NamespaceIndex::of(&self.peer_authentications, &self.destination_rules));
            return Some(Overlay { lens, at: (pa_at, dr_at), typed_news, pas, drs, index: None });
        }
        // The namespace index moves its positions past the edit (a rebuild cost as much as the rest of a
        // re-analysis: every namespace name copied, per fix candidate).
        let mut index = self.index.clone();
        let valid = index.lens == lens_before;
        let removed: Vec<usize> = pas.iter().map(|(i, _)| *i).collect();
        let added = new_pas.iter().map(|p| p.selector.is_none().then_some(p.namespace.as_str()));
        edit_positions(&mut index.namespace_wide_pas, &removed, pa_at, added);
        let removed: Vec<usize> = drs.iter().map(|(i, _)| *i).collect();
        let added = new_drs.iter().map(|d| Some(d.namespace.as_str()));
        edit_positions(&mut index.destination_rules, &removed, dr_at, added);
        self.peer_authentications.splice(pa_at..pa_at, new_pas);
        self.destination_rules.splice(dr_at..dr_at, new_drs);
        index.lens = (self.peer_authentications.len(), self.destination_rules.len());
        if !valid {
            index = NamespaceIndex::of(&self.peer_authentications, &self.destination_rules);
        }
        debug_assert_eq!(index, NamespaceIndex::of(&self.peer_authentications, &self.destination_rules));
        Some(Overlay {
            lens,
            at: (pa_at, dr_at),
            typed_news,
            pas,
            drs,
            index: Some(std::mem::replace(&mut self.index, index)),
        })
    }

    /// Undoes [`Mesh::overlay`].
    pub fn remove_overlay(&mut self, overlay: Overlay) {
        let Overlay { lens, at, typed_news, pas, drs, index } = overlay;
        self.objects.truncate(lens.0);
        self.namespaces.truncate(lens.0);
        self.schema_errors.truncate(lens.1);
        self.peer_authentications.drain(at.0..at.0 + typed_news.0);
        self.destination_rules.drain(at.1..at.1 + typed_news.1);
        for (i, p) in pas {
            self.peer_authentications.insert(i, p);
        }
        for (i, d) in drs {
            self.destination_rules.insert(i, d);
        }
        if let Some(index) = index {
            self.index = index;
        }
    }

    /// Undoes [`Mesh::splice_file`].
    pub fn unsplice_file(&mut self, splice: FileSplice) {
        let FileSplice { start, new_len, objects, namespaces, pa_at, pa_new, pas, dr_at, dr_new, drs, index } = splice;
        let old_len = objects.len();
        let (pa_end, dr_end) = (pa_at + pas.len(), dr_at + drs.len());
        self.objects.splice(start..start + new_len, objects);
        self.namespaces.splice(start..start + new_len, namespaces);
        self.peer_authentications.splice(pa_at..pa_at + pa_new, pas);
        self.destination_rules.splice(dr_at..dr_at + dr_new, drs);
        for p in &mut self.peer_authentications[pa_end..] {
            p.obj = p.obj - new_len + old_len;
        }
        for d in &mut self.destination_rules[dr_end..] {
            d.obj = d.obj - new_len + old_len;
        }
        self.index = index;
    }

    /// True when the API server rejects the object (Istio's CRD validation): it is recorded as an error per broken
    /// rule and never typed, so no rule and no posture sees it.
    fn rejected(&mut self, id: ObjId, namespace: &str) -> bool {
        let o = &self.objects[id];
        let found = crate::validation::validate(o);
        for v in &found {
            let message = format!(
                "{} {namespace}/{} is rejected by the API server (Istio's CRD validation), so it is never applied and \
                 the analysis leaves it out: {}: {}",
                o.kind, o.name, v.field, v.message
            );
            let keys: Vec<&str> = v.field.split('.').map(|k| k.split('[').next().unwrap_or(k)).collect();
            let (path, line) = source_location(o, &keys, v.line);
            self.schema_errors.push(LoadError { path, line, message, kind: ErrorKind::Rejected });
        }
        !found.is_empty()
    }

    fn schema_error(&mut self, obj: ObjId, keys: &[&str], message: String) {
        let o = &self.objects[obj];
        let line = o.field_lines(keys).map(|l| l.0).unwrap_or(o.line);
        let (path, line) = source_location(o, keys, line);
        self.schema_errors.push(LoadError { path, line, message, kind: ErrorKind::Schema });
    }

    fn type_pa(&mut self, id: ObjId, namespace: String) -> PeerAuthentication {
        let o = &self.objects[id];
        let t = &o.tree;
        let spec = t.get(o.root, "spec");
        let selector = spec
            .and_then(|s| t.path(s, &["selector", "matchLabels"]))
            .map(|m| t.string_map(m))
            .filter(|m| !m.is_empty());
        let raw_mode = spec.and_then(|s| t.str_at(s, &["mtls", "mode"])).map(str::to_string);
        let mut port_level = Vec::new();
        if let Some(plm) = spec.and_then(|s| t.get(s, "portLevelMtls")) {
            for (k, v) in t.entries(plm) {
                let key = t.key_text(*k).unwrap_or("").to_string();
                let m = t.str_at(*v, &["mode"]).and_then(PaMode::parse).unwrap_or(PaMode::Unset);
                port_level.push((key, m));
            }
        }
        let name = o.name.clone();
        let mode = match raw_mode.as_deref() {
            None => PaMode::Unset,
            Some(text) => PaMode::parse(text).unwrap_or_else(|| {
                self.schema_error(
                    id,
                    &["spec", "mtls", "mode"],
                    format!("PeerAuthentication {namespace}/{name}: unknown mtls.mode `{text}` (read as UNSET)"),
                );
                PaMode::Unset
            }),
        };
        PeerAuthentication { obj: id, namespace, name, selector, mode, port_level }
    }

    fn type_dr(&mut self, id: ObjId, namespace: String) -> DestinationRule {
        let o = &self.objects[id];
        let t = &o.tree;
        let spec = t.get(o.root, "spec");
        let host = spec.and_then(|s| t.str_at(s, &["host"])).unwrap_or("").to_string();
        let tp = spec.and_then(|s| t.get(s, "trafficPolicy"));
        let read_tls = |policy: Option<usize>| -> Tls {
            match policy.and_then(|p| t.get(p, "tls")) {
                None => Tls::Absent,
                Some(n) if t.is_null(n) => Tls::Absent,
                Some(n) => match t.str_at(n, &["mode"]) {
                    Some(m) => Tls::Set { mode: TlsMode::parse(m), mode_written: true },
                    None => Tls::Set { mode: TlsMode::Disable, mode_written: false },
                },
            }
        };
        let tls = read_tls(tp);
        let mut port_level = Vec::new();
        if let Some(pls) = tp.and_then(|p| t.get(p, "portLevelSettings")) {
            for item in t.items(pls) {
                if let Some(port) = t.port_at(*item, &["port", "number"]) {
                    port_level.push((port, read_tls(Some(*item))));
                }
            }
        }
        let export_to = spec
            .and_then(|s| t.get(s, "exportTo"))
            .map(|e| t.items(e).iter().filter_map(|i| t.scalar(*i).map(str::to_string)).collect())
            .unwrap_or_default();
        let workload_selector = spec
            .and_then(|s| t.path(s, &["workloadSelector", "matchLabels"]))
            .map(|m| t.string_map(m))
            .filter(|m| !m.is_empty());
        let name = o.name.clone();
        if let Tls::Set { mode: TlsMode::Unknown(m), .. } = &tls {
            let msg = format!("DestinationRule {namespace}/{name}: unknown trafficPolicy.tls.mode `{m}`");
            self.schema_error(id, &["spec", "trafficPolicy", "tls", "mode"], msg);
        }
        DestinationRule { obj: id, namespace, name, host, tls, port_level, export_to, workload_selector }
    }

    /// The object reference of an object.
    pub fn object_ref(&self, id: ObjId) -> ObjectRef {
        let o = &self.objects[id];
        ObjectRef { kind: o.kind.clone(), namespace: self.namespaces[id].clone(), name: o.name.clone() }
    }

    /// True when a PA applies to a whole namespace (no selector or empty `matchLabels`).
    pub fn is_namespace_wide_pa(&self, pa: &PeerAuthentication) -> bool {
        pa.selector.is_none()
    }

    /// Picks the PA Istio keeps among several at the same scope: the oldest (present on the base side before
    /// the change's additions), ties to the smaller name.
    fn oldest<'a>(&self, mut candidates: Vec<&'a PeerAuthentication>) -> Option<&'a PeerAuthentication> {
        candidates.sort_by(|a, b| (self.is_newer(a.obj), &a.name).cmp(&(self.is_newer(b.obj), &b.name)));
        candidates.first().copied()
    }

    /// The namespace index, if the mesh was not edited since it was built.
    fn index(&self) -> Option<&NamespaceIndex> {
        (self.index.lens == (self.peer_authentications.len(), self.destination_rules.len())).then_some(&self.index)
    }

    /// All namespace-wide PAs of a namespace (the root namespace's are the mesh-wide ones).
    pub fn namespace_wide_pas(&self, namespace: &str) -> Vec<&PeerAuthentication> {
        match self.index() {
            Some(index) => index
                .namespace_wide_pas
                .get(namespace)
                .map(|found| found.iter().map(|i| &self.peer_authentications[*i]).collect())
                .unwrap_or_default(),
            None => {
                self.peer_authentications.iter().filter(|p| p.namespace == namespace && p.selector.is_none()).collect()
            }
        }
    }

    /// The effective mesh-wide PA (the winner among mesh-wide PAs).
    pub fn mesh_pa(&self) -> Option<&PeerAuthentication> {
        self.oldest(self.namespace_wide_pas(&self.settings.root_namespace))
    }

    /// The effective namespace-wide PA of a namespace (for the root namespace this is the mesh-wide PA).
    pub fn namespace_pa(&self, namespace: &str) -> Option<&PeerAuthentication> {
        self.oldest(self.namespace_wide_pas(namespace))
    }

    /// Namespace-level effective server mode: namespace PA, else mesh PA, else PERMISSIVE (UNSET inherits).
    pub fn namespace_mode(&self, namespace: &str) -> PaMode {
        let ns = self.namespace_pa(namespace).map(|p| p.mode).filter(|m| *m != PaMode::Unset);
        let mesh = self.mesh_pa().map(|p| p.mode).filter(|m| *m != PaMode::Unset);
        ns.or(mesh).unwrap_or(PaMode::Permissive)
    }

    /// Mesh-level effective server mode.
    pub fn mesh_mode(&self) -> PaMode {
        self.mesh_pa().map(|p| p.mode).filter(|m| *m != PaMode::Unset).unwrap_or(PaMode::Permissive)
    }

    /// The host of a namespace-wide DR for `namespace`.
    pub fn namespace_wide_host(&self, namespace: &str) -> String {
        format!("*.{namespace}.svc.{}", self.settings.cluster_domain)
    }

    /// True when a DR is namespace-wide for its own namespace (`*.<ns>.svc.<clusterDomain>`).
    pub fn is_namespace_wide_dr(&self, dr: &DestinationRule) -> bool {
        // `host == namespace_wide_host(ns)` without building the string (asked for every DR, often).
        dr.host
            .strip_prefix("*.")
            .and_then(|rest| rest.strip_prefix(dr.namespace.as_str()))
            .and_then(|rest| rest.strip_prefix(".svc."))
            == Some(self.settings.cluster_domain.as_str())
    }

    /// True when a DR is mesh-wide: `*.local`, `*.<clusterDomain>`, `*.svc.<clusterDomain>` or `*`.
    pub fn is_mesh_wide_dr(&self, dr: &DestinationRule) -> bool {
        self.is_mesh_wide_host(&dr.host)
    }

    /// True for the hosts of mesh-wide DestinationRules ([`Mesh::is_mesh_wide_dr`]).
    pub fn is_mesh_wide_host(&self, host: &str) -> bool {
        let cd = self.settings.cluster_domain.as_str();
        host == "*.local"
            || host == "*"
            || host.strip_prefix("*.").is_some_and(|rest| rest == cd || rest.strip_prefix("svc.") == Some(cd))
    }

    /// Positions in `destination_rules` of the rules of a namespace, in order.
    pub fn destination_rules_in(&self, namespace: &str) -> Vec<usize> {
        match self.index() {
            Some(index) => index.destination_rules.get(namespace).cloned().unwrap_or_default(),
            None => (0..self.destination_rules.len())
                .filter(|i| self.destination_rules[*i].namespace == namespace)
                .collect(),
        }
    }

    /// Namespace-wide DRs of a namespace.
    pub fn namespace_wide_drs(&self, namespace: &str) -> impl Iterator<Item = &DestinationRule> {
        let in_namespace: Vec<&DestinationRule> = match self.index() {
            Some(index) => index
                .destination_rules
                .get(namespace)
                .map(|found| found.iter().map(|i| &self.destination_rules[*i]).collect())
                .unwrap_or_default(),
            None => self.destination_rules.iter().filter(|d| d.namespace == namespace).collect(),
        };
        in_namespace.into_iter().filter(|d| self.is_namespace_wide_dr(d))
    }

    /// Mesh-wide DRs (any namespace).
    pub fn mesh_wide_drs(&self) -> impl Iterator<Item = &DestinationRule> {
        self.destination_rules.iter().filter(|d| self.is_mesh_wide_dr(d))
    }

    /// Names already used by objects of `kind` in `namespace`.
    pub fn names_in(&self, kind: &str, namespace: &str) -> HashSet<&str> {
        self.objects
            .iter()
            .enumerate()
            .filter(|(i, o)| o.kind == kind && self.namespaces[*i] == namespace)
            .map(|(_, o)| o.name.as_str())
            .collect()
    }

    /// True when the change adds the object ([`Mesh::newer`]); asked without building its [`ObjectRef`].
    pub fn is_newer(&self, id: ObjId) -> bool {
        if self.newer.is_empty() {
            return false;
        }
        let o = &self.objects[id];
        let parts: &dyn crate::finding::RefParts = &(o.kind.as_str(), self.namespaces[id].as_str(), o.name.as_str());
        self.newer.contains(parts)
    }

    /// Creation-order key of an object, for the places where Istio keeps the oldest object (PeerAuthentications,
    /// merged DestinationRules): objects the change adds are younger than everything else, then name, then
    /// namespace (a repository has no creation times).
    pub fn age_key(&self, id: ObjId) -> (bool, &str, &str) {
        (self.is_newer(id), self.objects[id].name.as_str(), self.namespaces[id].as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{load_file, yaml::Limits};

    fn layer(yaml: &str) -> MeshLayer {
        tree_mesh_layer(&[load_file("t.yaml", yaml.as_bytes(), &Limits::default())])
    }

    #[test]
    fn mesh_config_from_istio_operator_and_revisioned_configmap() {
        let op = "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: x, namespace: istio-system}\nspec:\n  meshConfig:\n    rootNamespace: mesh-root\n    enableAutoMtls: false\n    trustDomain: corp\n";
        assert_eq!(
            layer(op),
            MeshLayer {
                root_namespace: Some("mesh-root".into()),
                cluster_domain: None,
                auto_mtls: Some(false),
                istio_version: None
            }
        );
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio-1-22, namespace: istio-system}\ndata:\n  mesh: |\n    enableAutoMtls: true\n";
        assert_eq!(layer(cm).auto_mtls, Some(true));
        let other =
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio-ca-root-cert}\ndata:\n  root-cert.pem: x\n";
        assert_eq!(layer(other), MeshLayer::default());
    }

    #[test]
    fn oldest_pa_wins_base_side_first_then_name() {
        let y = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: b, namespace: n}\nspec: {mtls: {mode: STRICT}}\n---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: a, namespace: n}\nspec: {mtls: {mode: DISABLE}}\n";
        let f = load_file("t.yaml", y.as_bytes(), &Limits::default());
        let m = Mesh::build(std::slice::from_ref(&f), MeshSettings::default(), HashSet::new());
        assert_eq!(m.namespace_pa("n").map(|p| p.name.as_str()), Some("a"));
        let newer =
            HashSet::from([ObjectRef { kind: "PeerAuthentication".into(), namespace: "n".into(), name: "a".into() }]);
        let m = Mesh::build(&[f], MeshSettings::default(), newer);
        assert_eq!(m.namespace_pa("n").map(|p| p.name.as_str()), Some("b"));
        assert_eq!(m.namespace_mode("n"), PaMode::Strict);
    }
}

#[cfg(test)]
mod index_tests {
    use super::*;
    use crate::context::MeshContext;

    #[test]
    fn scope_queries_use_the_index_and_survive_edits_after_build() {
        let text = [
            crate::rules::testing::pa("a", "default", Some("STRICT"), false),
            crate::rules::testing::pa("a", "sel", Some("DISABLE"), true),
            crate::rules::testing::pa("b", "default", Some("PERMISSIVE"), false),
            crate::rules::testing::dr("a", "all", "*.a.svc.cluster.local", Some("ISTIO_MUTUAL")),
            crate::rules::testing::dr("a", "one", "x.a.svc.cluster.local", Some("DISABLE")),
            crate::rules::testing::dr("b", "mesh", "*.svc.cluster.local", Some("DISABLE")),
            crate::rules::testing::dr("b", "other", "*.a.svc.cluster.local", None),
        ]
        .concat();
        let mut mesh = crate::rules::testing::mesh(&text).into_mesh();
        let names = |pas: Vec<&PeerAuthentication>| pas.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(mesh.namespace_wide_pas("a")), ["default"]);
        assert!(mesh.namespace_wide_pas("c").is_empty());
        let drs: Vec<&str> = mesh.namespace_wide_drs("a").map(|d| d.name.as_str()).collect();
        assert_eq!(drs, ["all"]);
        assert_eq!(mesh.namespace_wide_drs("b").count(), 0);
        let mesh_wide: Vec<&str> = mesh.mesh_wide_drs().map(|d| d.name.as_str()).collect();
        assert_eq!(mesh_wide, ["mesh"]);
        // An edit after build: the stale index is not used.
        let mut extra = mesh.peer_authentications[2].clone();
        extra.name = "late".into();
        mesh.peer_authentications.push(extra);
        assert_eq!(names(mesh.namespace_wide_pas("b")), ["default", "late"]);
    }

    /// Everything of a mesh but `schema_errors` (not spliced) and the index (a HashMap), as comparable text.
    fn shape(m: &Mesh) -> String {
        let objects: Vec<String> =
            m.objects.iter().map(|o| format!("{}:{}/{}@{}", o.kind, o.path, o.name, o.line)).collect();
        format!("{objects:?}\n{:?}\n{:?}\n{:?}", m.namespaces, m.peer_authentications, m.destination_rules)
    }

    #[test]
    fn splicing_a_file_gives_the_rebuilt_mesh_and_unsplicing_restores_it() {
        use crate::manifest::{load_file, yaml::Limits};
        use crate::rules::testing::{dr, pa};
        let load = |path: &str, text: &str| load_file(path, text.as_bytes(), &Limits::default());
        let kust = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: k\n";
        let svc = "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n";
        let files = vec![
            load("a/kustomization.yaml", kust),
            load(
                "a/one.yaml",
                &[
                    pa("a", "default", Some("STRICT"), false),
                    dr("a", "all", "*.a.svc.cluster.local", Some("ISTIO_MUTUAL")),
                ]
                .concat(),
            ),
            load(
                "a/two.yaml",
                &[
                    svc.to_string(),
                    pa("b", "default", Some("PERMISSIVE"), false),
                    dr("b", "x", "x.b.svc.cluster.local", None),
                ]
                .concat(),
            ),
            load(
                "a/three.yaml",
                &[dr("c", "mesh", "*.local", Some("DISABLE")), pa("c", "p", Some("DISABLE"), true), svc.to_string()]
                    .concat(),
            ),
        ];
        let settings = MeshSettings::default();
        let original = Mesh::build(&files, settings.clone(), Default::default());
        let kustomize = kustomize_namespaces(&files);
        let edits = [
            // Same objects, a changed mode.
            [svc.to_string(), pa("b", "default", Some("DISABLE"), false), dr("b", "x", "x.b.svc.cluster.local", None)].concat(),
            // One more object (a PA in another namespace) and a DR turned namespace-wide.
            [svc.to_string(), pa("b", "default", Some("STRICT"), false), pa("z", "default", Some("STRICT"), false), dr("b", "x", "*.b.svc.cluster.local", Some("DISABLE"))].concat(),
            // Fewer objects, a namespace from kustomize, an unknown mode (schema error).
            "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: k\nspec:\n  mtls:\n    mode: BOGUS\n".to_string(),
            // Nothing left.
            "# emptied\n".to_string(),
        ];
        for text in &edits {
            let new = load("a/two.yaml", text);
            let mut copy = files.clone();
            copy[2] = new.clone();
            let rebuilt = Mesh::build(&copy, settings.clone(), Default::default());
            let mut spliced = original.clone();
            let undo = spliced.splice_file(files[1].objects.len(), files[2].objects.len(), &new.objects, &kustomize);
            assert_eq!(shape(&spliced), shape(&rebuilt), "{text}");
            assert_eq!(names(spliced.namespace_wide_pas("b")), names(rebuilt.namespace_wide_pas("b")));
            let opts = crate::settings::AnalysisOptions::default();
            let (cx_spliced, cx_rebuilt) = (MeshContext::new(spliced.clone()), MeshContext::new(rebuilt));
            assert_eq!(crate::analysis::rule_keys(&cx_spliced, &opts), crate::analysis::rule_keys(&cx_rebuilt, &opts));
            spliced.unsplice_file(undo);
            assert_eq!(shape(&spliced), shape(&original));
            assert_eq!(names(spliced.namespace_wide_pas("b")), ["default"]);
        }
    }

    fn names(pas: Vec<&PeerAuthentication>) -> Vec<String> {
        pas.iter().map(|p| p.name.clone()).collect()
    }
}

/// Where a field of an object is written in the source tree: the object's own file and `line`, or for a rendered
/// object the source line its provenance gives.
fn source_location(o: &Object, keys: &[&str], line: usize) -> (String, usize) {
    match o.provenance.as_ref().and_then(|p| p.field_source(keys)) {
        Some(s) => (s.path.to_string(), s.line),
        None => (o.path.to_string(), line),
    }
}

#[cfg(test)]
#[path = "mesh_mutation_tests.rs"]
mod mutation_tests;

#[cfg(test)]
#[path = "mesh_mutation2_tests.rs"]
mod mesh_mutation2_tests;

#[cfg(test)]
#[path = "mesh_mutation3_tests.rs"]
mod mesh_mutation3_tests;

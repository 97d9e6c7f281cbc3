//! Posture: Istio-accurate server modes per workload port, client TLS per (client namespace, service port), and
//! the connectivity verdict of every client path the tree says something about.
//!
//! Pure functions of a [`Mesh`]: no I/O, no printing. Rows are computed per service: client namespaces whose
//! DestinationRule lookup is the same share one row (`*`), so the work is services x (the few namespaces that hold
//! DestinationRules or are named in an `exportTo`), never namespaces x namespaces x services.

pub mod client;
pub mod diff;
pub mod remedy;
pub mod routes;
pub mod server;
pub mod verdict;
pub mod workload;

pub use diff::{RowChange, diff};
pub use verdict::{Sends, Verdict};
pub use workload::{ClientKind, Sidecar};

use crate::finding::ObjectRef;
use crate::mesh::{Mesh, ObjId, PaMode};
use client::{ClientPolicy, ClientTls, Entry, LookupStep};
pub use client::{DrIndex, DrUndo};
use serde::{Serialize, Serializer};
use server::WorkloadPolicy;
use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use verdict::{AutoFacts, AutoReason};
use workload::{Inventory, Service, ServicePort};

/// The client-namespace column of the row that stands for every client namespace not listed on its own.
pub const OTHER_NAMESPACES: &str = "*";

fn ser_mode<S: Serializer>(m: &PaMode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.as_str())
}

/// An object reference shared by every row that names the object (rows are many; objects are few).
pub type SharedRef = Arc<ObjectRef>;

fn ser_ref<S: Serializer>(r: &SharedRef, s: S) -> Result<S::Ok, S::Error> {
    r.as_ref().serialize(s)
}

fn ser_opt_ref<S: Serializer>(r: &Option<SharedRef>, s: S) -> Result<S::Ok, S::Error> {
    r.as_deref().serialize(s)
}

fn ser_refs<S: Serializer>(r: &[SharedRef], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(r.iter().map(|x| x.as_ref()))
}

/// The server end of one client path: one workload (or, when no workload of the service is in the tree, the
/// namespace-level mode) on one target port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// `None`: no workload of the service is in the tree; the namespace/mesh mode stands in.
    #[serde(serialize_with = "ser_opt_ref")]
    pub workload: Option<SharedRef>,
    pub target_port: Option<u32>,
    pub sidecar: Sidecar,
    /// False when the sidecar does not capture the port (`excludeInboundPorts` / `includeInboundPorts`).
    pub captured: bool,
    /// The PeerAuthentication mode of the port.
    #[serde(serialize_with = "ser_mode")]
    pub mode: PaMode,
    /// The PeerAuthentication that decided `mode` (`None`: the PERMISSIVE default).
    #[serde(serialize_with = "ser_opt_ref")]
    pub peer_authentication: Option<SharedRef>,
    /// True when a `portLevelMtls` entry decided `mode`.
    pub port_level: bool,
    /// The endpoint is captured by ztunnel (ambient mode).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ambient: bool,
    /// The DestinationRule subset a VirtualService route reaches this endpoint through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subset: Option<String>,
    /// Only requests (connections) with particular attributes reach this endpoint: a route with request
    /// conditions, source labels, destination subnets or another SNI.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub conditional: bool,
    /// A VirtualService route reaches this endpoint through another host than the row's.
    #[serde(skip)]
    pub other_host: bool,
    pub sends: Sends,
    pub verdict: Verdict,
    #[serde(skip)]
    pub workload_id: Option<ObjId>,
    #[serde(skip)]
    pub pa_id: Option<ObjId>,
    /// Set when auto mTLS decided `sends`.
    #[serde(skip)]
    pub auto: Option<AutoReason>,
    /// The endpoint's TLS mode is `istio` (what auto mTLS reads).
    #[serde(skip)]
    pub tls_mode_istio: bool,
    /// Index of the row's path (VirtualService destination) this endpoint is reached through.
    #[serde(skip)]
    pub path: usize,
}

impl Endpoint {
    /// The SERVER MODE text of this endpoint.
    pub fn server_text(&self) -> String {
        let mode = self.mode.as_str();
        match (&self.workload, self.sidecar, self.captured) {
            (None, _, _) => format!("{mode} (no workload in tree)"),
            (_, Sidecar::No, _) if self.ambient => format!("ambient {mode}"),
            (_, Sidecar::No, _) => "no sidecar".to_string(),
            (_, _, false) => format!("no sidecar (port {} not captured)", self.target_port.unwrap_or_default()),
            (_, Sidecar::Unknown, true) => format!("{mode} (sidecar unknown)"),
            (_, Sidecar::Yes, true) => mode.to_string(),
        }
    }
}

/// One client path: (service port, client namespace) with both sides and the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    #[serde(serialize_with = "ser_ref")]
    pub service: SharedRef,
    pub host: String,
    pub port: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_name: Option<String>,
    /// A namespace, or [`OTHER_NAMESPACES`] for every client namespace not listed on its own.
    pub client_namespace: String,
    /// For client workloads chosen by a DestinationRule `workloadSelector`: the selector as `k=v,...`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_selector: Option<String>,
    /// What the clients of this row are: with a sidecar, without one, or ambient.
    pub client_kind: ClientKind,
    /// The client workloads of the row in the tree (`kind namespace/name`), at most [`MAX_CLIENT_NAMES`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client_workloads: Vec<String>,
    /// How many client namespaces of the tree the `*` row stands for.
    #[serde(skip_serializing_if = "is_zero")]
    pub other_namespaces: usize,
    pub server_mode: String,
    pub client_tls: String,
    pub verdict: Verdict,
    /// The PeerAuthentications that decided the server side.
    #[serde(serialize_with = "ser_refs")]
    pub peer_authentications: Vec<SharedRef>,
    /// The DestinationRules the lookup chose (the one whose `trafficPolicy` applies first).
    #[serde(serialize_with = "ser_refs")]
    pub destination_rules: Vec<SharedRef>,
    pub endpoints: Vec<Endpoint>,
    #[serde(skip)]
    pub service_id: ObjId,
    /// A VirtualService sends the calls to subsets or other hosts: `client()` is the first path's policy only.
    #[serde(skip)]
    pub routed: bool,
    /// The client policy of each path (indexed by [`Endpoint::path`]).
    #[serde(skip)]
    pub path_clients: Vec<ClientPolicy>,
}

/// The client policy of a row without paths (none is built; a default for [`Row::client`]).
static NO_CLIENT_POLICY: std::sync::LazyLock<ClientPolicy> = std::sync::LazyLock::new(ClientPolicy::default);

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Row {
    /// The client policy of the row's first path (with a VirtualService routing elsewhere, of the first
    /// destination only; [`Row::path_clients`] has every path's).
    pub fn client(&self) -> &ClientPolicy {
        self.path_clients.first().unwrap_or(&NO_CLIENT_POLICY)
    }

    /// The identity of a row across base and head.
    pub fn key(&self) -> RowKey {
        let (namespace, name, port, client, selector, kind) = self.key_ref();
        RowKey {
            namespace: namespace.to_string(),
            name: name.to_string(),
            port,
            client_namespace: client.to_string(),
            client_selector: selector.map(str::to_string),
            client_kind: kind,
        }
    }

    /// The identity of a row, borrowed.
    pub fn key_ref(&self) -> KeyRef<'_> {
        (
            self.service.namespace.as_str(),
            self.service.name.as_str(),
            self.port,
            self.client_namespace.as_str(),
            self.client_selector.as_deref(),
            self.client_kind,
        )
    }

    /// The client policy of the path an endpoint is reached through.
    pub fn client_of(&self, ep: &Endpoint) -> &ClientPolicy {
        self.path_clients.get(ep.path).unwrap_or(self.client())
    }

    /// The endpoints whose verdict is a failure.
    pub fn failing(&self) -> impl Iterator<Item = &Endpoint> {
        self.endpoints.iter().filter(|e| e.verdict.is_failure())
    }
}

/// A borrowed [`RowKey`]: (service namespace, service name, port, client namespace, client selector, client kind).
pub type KeyRef<'a> = (&'a str, &'a str, u32, &'a str, Option<&'a str>, ClientKind);

/// At most this many client workloads are named on a row.
pub const MAX_CLIENT_NAMES: usize = 3;

/// Identity of a row: (service namespace, service name, port, client namespace, client selector, client kind).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RowKey {
    pub namespace: String,
    pub name: String,
    pub port: u32,
    pub client_namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_selector: Option<String>,
    pub client_kind: ClientKind,
}

/// Server posture of one port of a workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortPosture {
    pub port: u32,
    #[serde(serialize_with = "ser_mode")]
    pub mode: PaMode,
    pub captured: bool,
}

/// Server posture of one workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkloadPosture {
    pub workload: ObjectRef,
    pub sidecar: Sidecar,
    pub sidecar_reason: String,
    /// Workload-level mode (before `portLevelMtls`).
    #[serde(serialize_with = "ser_mode")]
    pub mode: PaMode,
    /// Ports that matter: container ports, Service target ports and `portLevelMtls` keys.
    pub ports: Vec<PortPosture>,
    #[serde(skip)]
    pub obj: ObjId,
    #[serde(skip)]
    pub policy: WorkloadPolicy,
}

/// The posture of a mesh snapshot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Posture {
    /// Shared: fix verification keeps the snapshot's failing rows with the findings they give
    /// ([`crate::reanalysis::scoped::posture_keys_by_row`]).
    pub rows: Vec<Arc<Row>>,
    pub workloads: Vec<WorkloadPosture>,
    /// The row an unlisted client namespace gets, for the service ports that have no `*` row (there it is the
    /// `*` row); used by [`diff`] when a namespace is listed on one side only.
    #[serde(skip)]
    defaults: Vec<Arc<Row>>,
    /// Rows and default rows by the namespaces a scope can name them by, built on first use: fix verification
    /// asks one snapshot posture for the rows of many small scopes ([`Posture::rows_in`]).
    #[serde(skip)]
    by_namespace: std::sync::OnceLock<Arc<RowsByNamespace>>,
    /// Workloads by reference, built on first use ([`Posture::workload`]).
    #[serde(skip)]
    workload_ids: std::sync::OnceLock<Arc<HashMap<ObjectRef, usize>>>,
}

/// Row positions of a [`Posture`] (rows, default rows) under the namespace of their Service (a row's host is its
/// Service's, `name.namespace.svc.<domain>`): every row a [`PostureScope`] includes is under one of the namespaces
/// it names, when it names them ([`PostureScope::service_namespaces`]).
#[derive(Debug, Default)]
struct RowsByNamespace {
    rows: HashMap<String, Vec<usize>>,
    defaults: HashMap<String, Vec<usize>>,
    /// No row's Service has a dot in its name or namespace ([`PostureScope::service_namespaces`]).
    plain_hosts: bool,
}

impl RowsByNamespace {
    fn of(rows: &[Arc<Row>], defaults: &[Arc<Row>]) -> Self {
        let index = |list: &[Arc<Row>]| {
            let mut out: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, r) in list.iter().enumerate() {
                out.entry(r.service.namespace.clone()).or_default().push(i);
            }
            out
        };
        let plain = |r: &Arc<Row>| !r.service.name.contains('.') && !r.service.namespace.contains('.');
        let plain_hosts = rows.iter().chain(defaults).all(plain);
        RowsByNamespace { rows: index(rows), defaults: index(defaults), plain_hosts }
    }
}

/// Row lookups by key for one [`Posture`]: positions sorted by key, searched by bisection (a hash map of the keys
/// took ~2.6 MB per index at 16,000 rows, and a review holds four at once).
#[derive(Debug, Default)]
pub struct PostureIndex<'a> {
    /// Positions of the indexed rows, sorted by key; equal keys keep position order and the last one answers.
    rows: Vec<usize>,
    /// Per service port and client kind, the row of unlisted namespaces: default rows (`false`, index into
    /// `defaults`) then `*` rows (`true`, index into `rows`), sorted by that key; the last of equal keys answers.
    defaults: Vec<(bool, usize)>,
    rows_of: std::marker::PhantomData<&'a Row>,
}

type PortKey<'a> = (&'a str, &'a str, u32, ClientKind);

fn port_key(r: &Row) -> PortKey<'_> {
    (r.service.namespace.as_str(), r.service.name.as_str(), r.port, r.client_kind)
}

/// The last item of `sorted` whose key is `key`.
fn last_with<'s, T, K: Ord>(sorted: &'s [T], key: &K, key_of: impl Fn(&T) -> K) -> Option<&'s T> {
    let end = sorted.partition_point(|x| key_of(x) <= *key);
    sorted[..end].last().filter(|x| key_of(x) == *key)
}

/// The keys of the rows two indexes hold (of `before` and of `after`), ascending, each once.
pub fn keys_of_both<'a>(
    before: &'a Posture,
    bi: &'a PostureIndex<'a>,
    after: &'a Posture,
    ai: &'a PostureIndex<'a>,
) -> impl Iterator<Item = KeyRef<'a>> + 'a {
    let mut b = bi.rows.iter().map(|i| before.rows[*i].key_ref()).peekable();
    let mut a = ai.rows.iter().map(|i| after.rows[*i].key_ref()).peekable();
    std::iter::from_fn(move || {
        let next = match (b.peek(), a.peek()) {
            (None, None) => return None,
            (Some(x), Some(y)) => *x.min(y),
            (Some(x), None) => *x,
            (None, Some(y)) => *y,
        };
        while b.next_if_eq(&next).is_some() {}
        while a.next_if_eq(&next).is_some() {}
        Some(next)
    })
}

impl Posture {
    /// Indexes the rows by key, for [`Posture::resolve_in`].
    pub fn index(&self) -> PostureIndex<'_> {
        self.index_where(|_| true)
    }

    /// Indexes the rows `keep` keeps (rows and default rows of whole services: a lookup falls back to the `*` row
    /// or the default row of the same service port).
    pub fn index_where(&self, mut keep: impl FnMut(&Row) -> bool) -> PostureIndex<'_> {
        let rows: Vec<usize> = (0..self.rows.len()).filter(|i| keep(&self.rows[*i])).collect();
        let defaults: Vec<usize> = (0..self.defaults.len()).filter(|i| keep(&self.defaults[*i])).collect();
        self.index_of(&rows, &defaults)
    }

    /// [`Posture::index_where`] for the rows a scope includes (all rows without one), found through the rows by
    /// namespace when the scope names its namespaces ([`Posture::rows_in`]).
    pub fn index_in(&self, scope: Option<&PostureScope>) -> PostureIndex<'_> {
        match scope {
            None => self.index(),
            Some(sc) => {
                let (rows, defaults) = self.rows_in(sc);
                self.index_of(&rows, &defaults)
            }
        }
    }

    /// [`Posture::index_in`] with every row tested against the scope (for a posture asked once, such as a
    /// scoped one: building the rows by namespace would cost more than the test).
    pub fn index_in_tested(&self, scope: Option<&PostureScope>) -> PostureIndex<'_> {
        let mut test = scope.map(PostureScope::row_test);
        self.index_where(|r| test.as_mut().is_none_or(|t| t(r)))
    }

    /// The index of these rows and default rows (positions, ascending).
    fn index_of(&self, rows: &[usize], defaults: &[usize]) -> PostureIndex<'_> {
        let mut by_key = rows.to_vec();
        // Stable: equal keys stay in position order.
        by_key.sort_by(|a, b| self.rows[*a].key_ref().cmp(&self.rows[*b].key_ref()));
        let stars = rows.iter().filter(|i| self.rows[**i].client_namespace == OTHER_NAMESPACES).map(|i| (true, *i));
        let mut fallbacks: Vec<(bool, usize)> = defaults.iter().map(|i| (false, *i)).chain(stars).collect();
        fallbacks.sort_by(|a, b| port_key(self.fallback(*a)).cmp(&port_key(self.fallback(*b))));
        PostureIndex { rows: by_key, defaults: fallbacks, rows_of: std::marker::PhantomData }
    }

    /// A row of an index's fallbacks: a `*` row (`true`) or a default row.
    fn fallback(&self, (in_rows, i): (bool, usize)) -> &Row {
        if in_rows { &self.rows[i] } else { &self.defaults[i] }
    }

    /// The positions (ascending) of the rows and default rows that `scope` includes: looked up by the namespaces
    /// the scope names, else (a wildcard host) every row tested.
    pub fn rows_in(&self, scope: &PostureScope) -> (Vec<usize>, Vec<usize>) {
        let index = self.by_namespace.get_or_init(|| Arc::new(RowsByNamespace::of(&self.rows, &self.defaults)));
        let Some(namespaces) = scope.service_namespaces(index.plain_hosts) else {
            let mut test = scope.row_test();
            let rows = (0..self.rows.len()).filter(|i| test(&self.rows[*i])).collect();
            let defaults = (0..self.defaults.len()).filter(|i| scope.includes_row(&self.defaults[*i])).collect();
            return (rows, defaults);
        };
        let pick = |map: &HashMap<String, Vec<usize>>, list: &[Arc<Row>]| {
            let mut out: Vec<usize> = namespaces
                .iter()
                .flat_map(|ns| map.get(*ns).into_iter().flatten().copied())
                .filter(|i| scope.includes_row(&list[*i]))
                .collect();
            out.sort_unstable();
            out.dedup();
            out
        };
        (pick(&index.rows, &self.rows), pick(&index.defaults, &self.defaults))
    }

    /// The workload posture of a workload, by reference (an index built on first use; the last of a reference).
    pub fn workload(&self, workload: &ObjectRef) -> Option<&WorkloadPosture> {
        let ids = self.workload_ids.get_or_init(|| {
            let mut ids = HashMap::with_capacity(self.workloads.len());
            for (i, w) in self.workloads.iter().enumerate() {
                ids.insert(w.workload.clone(), i);
            }
            Arc::new(ids)
        });
        ids.get(workload).map(|i| &self.workloads[*i])
    }

    /// The row of a key, or the row the key's client namespace falls under (its namespace row, else the row of
    /// unlisted namespaces; then the returned row's client columns are not the key's).
    pub fn resolve_in<'a>(&'a self, index: &PostureIndex<'a>, key: KeyRef<'_>) -> Option<&'a Row> {
        if let Some(i) = last_with(&index.rows, &key, |i| self.rows[*i].key_ref()) {
            return Some(&self.rows[*i]);
        }
        if key.4.is_some() {
            return self.resolve_in(index, (key.0, key.1, key.2, key.3, None, key.5));
        }
        last_with(&index.defaults, &(key.0, key.1, key.2, key.5), |f| port_key(self.fallback(*f)))
            .map(|f| self.fallback(*f))
    }

    /// [`Posture::resolve_in`] for one key, as an owned row carrying the key's client columns.
    pub fn resolve(&self, key: &RowKey) -> Option<Row> {
        let k = (
            key.namespace.as_str(),
            key.name.as_str(),
            key.port,
            key.client_namespace.as_str(),
            key.client_selector.as_deref(),
            key.client_kind,
        );
        self.resolve_in(&self.index(), k).map(|r| Row {
            client_namespace: key.client_namespace.clone(),
            client_selector: key.client_selector.clone(),
            ..r.clone()
        })
    }
}

/// Everything computed once per mesh that rows read.
struct Context<'m> {
    mesh: &'m Mesh,
    /// Shared references, made on first use.
    refs: Vec<OnceCell<SharedRef>>,
    inv: std::sync::Arc<Inventory>,
    drs: Arc<DrIndex>,
    pas: server::PaIndex<'m>,
    policies: Vec<WorkloadPolicy>,
    vs: Arc<routes::VsIndex>,
    /// Service positions in the inventory by host (route destinations).
    services_by_host: HashMap<String, usize>,
    /// The client workloads by namespace and kind (shared by every posture of the inventory).
    clients: std::sync::Arc<workload::Clients>,
}

impl Context<'_> {
    /// The shared reference of an object.
    fn r(&self, id: ObjId) -> SharedRef {
        self.refs[id].get_or_init(|| Arc::new(self.mesh.object_ref(id))).clone()
    }
}

/// One client class of a service: the namespace (or `*`), a selector, and what the lookup found.
struct ClientClass<'a> {
    namespace: String,
    selector: Option<String>,
    selector_labels: Option<Vec<(String, String)>>,
    found: Option<(LookupStep, &'a Entry)>,
}

/// Who sends on one row: the client class and the kind of its workloads.
struct Clients<'c> {
    namespace: &'c str,
    selector: Option<String>,
    /// The labels of `selector`.
    selector_labels: Option<&'c [(String, String)]>,
    kind: ClientKind,
    workloads: Vec<String>,
    others: usize,
}

impl Context<'_> {
    /// The client kinds present in a client class, with (a few of) their workloads: the workloads of the namespace
    /// (those a selector picks: sidecar clients only, since only they read DestinationRules), the workloads of the
    /// namespaces not `listed` for `*`, and for a namespace without workloads in the tree the kind its labels say.
    fn kinds_of(
        &self,
        namespace: &str,
        selector: Option<&[(String, String)]>,
        listed: &BTreeSet<&str>,
    ) -> Vec<(ClientKind, Vec<String>, usize)> {
        let name = |w: usize| {
            let r = self.r(self.inv.workloads[w].obj);
            format!("{} {}/{}", r.kind, r.namespace, r.name)
        };
        let mut out = Vec::new();
        if namespace == OTHER_NAMESPACES {
            for kind in ClientKind::ALL {
                let k = kind.index();
                let in_listed: usize =
                    listed.iter().filter_map(|ns| self.clients.kinds_by_namespace.get(*ns)).map(|v| v[k].len()).sum();
                if self.clients.kind_totals[k] > in_listed {
                    let names = self.clients.kind_workloads[k]
                        .iter()
                        .filter(|w| !listed.contains(self.inv.workloads[**w].namespace.as_str()))
                        .take(MAX_CLIENT_NAMES)
                        .map(|w| name(*w))
                        .collect();
                    // The namespaces of this kind the row stands for.
                    let listed_of_kind = listed
                        .iter()
                        .filter(|ns| self.clients.kinds_by_namespace.get(**ns).is_some_and(|v| !v[k].is_empty()))
                        .count();
                    out.push((kind, names, self.clients.kind_namespaces[k].saturating_sub(listed_of_kind)));
                }
            }
            return out;
        }
        if let Some(sel) = selector {
            let names: Vec<String> = self
                .inv
                .workloads_in(namespace)
                .iter()
                .filter(|w| {
                    let w = &self.inv.workloads[**w];
                    w.matches(sel) && w.client_kind() == ClientKind::Sidecar
                })
                .take(MAX_CLIENT_NAMES)
                .map(|w| name(*w))
                .collect();
            if !names.is_empty() {
                out.push((ClientKind::Sidecar, names, 0));
            }
            return out;
        }
        match self.clients.kinds_by_namespace.get(namespace) {
            Some(by_kind) => {
                for kind in ClientKind::ALL {
                    let list = &by_kind[kind.index()];
                    if !list.is_empty() {
                        out.push((kind, list.iter().take(MAX_CLIENT_NAMES).map(|w| name(*w)).collect(), 0));
                    }
                }
            }
            None => out.push((
                workload::namespace_client_kind(self.inv.namespace_labels(self.mesh, namespace)),
                Vec::new(),
                0,
            )),
        }
        out
    }
}

/// The services whose rows a fix verification recomputes: those a spliced file's PeerAuthentications and
/// DestinationRules can reach. Rows of other services cannot change, so their findings are the ones known before.
#[derive(Debug, Clone, Default)]
pub struct PostureScope {
    /// Services in these namespaces (a namespace's or a workload's PeerAuthentication changed).
    pub namespaces: std::collections::HashSet<String>,
    /// (host, DestinationRule namespace) of changed DestinationRules.
    pub hosts: Vec<(String, String)>,
    /// Further namespaces whose workloads can be endpoints of a scoped service's paths (VirtualServices route there).
    pub endpoint_namespaces: std::collections::HashSet<String>,
    /// The mesh's cluster domain (Service hosts are `name.namespace.svc.<domain>`): a wildcard host
    /// `*.<namespace>.svc.<domain>` names one namespace. Empty: wildcard hosts name none.
    pub cluster_domain: String,
}

impl PostureScope {
    /// The scope of a change to these objects, or `None` when it can reach every service (root namespace
    /// PeerAuthentications, mesh-wide DestinationRules, anything else than a PA or DR).
    ///
    /// A VirtualService that routes a service's traffic to another host makes that service's rows read the other
    /// host's DestinationRules and endpoints: the services it serves are in scope when a destination is.
    pub fn of<'a>(mesh: &Mesh, objects: impl Iterator<Item = &'a crate::manifest::Object>) -> Option<PostureScope> {
        PostureScope::of_with(&routes::VsIndex::build(mesh), mesh, objects)
    }

    /// [`PostureScope::of`] with the mesh's VirtualService index already built.
    pub fn of_with<'a>(
        vs: &routes::VsIndex,
        mesh: &Mesh,
        objects: impl Iterator<Item = &'a crate::manifest::Object>,
    ) -> Option<PostureScope> {
        let mut scope =
            PostureScope { cluster_domain: mesh.settings.cluster_domain.clone(), ..PostureScope::default() };
        let root = &mesh.settings.root_namespace;
        for o in objects {
            let ns = o.namespace.clone().unwrap_or_default();
            match o.kind.as_str() {
                "PeerAuthentication" if !ns.is_empty() && &ns != root => {
                    scope.namespaces.insert(ns);
                }
                // Wildcard hosts match by suffix (`*` and `*.local` reach every service).
                "DestinationRule" if !ns.is_empty() => {
                    scope.hosts.push((o.str_at(&["spec", "host"]).unwrap_or("*").to_string(), ns));
                }
                _ => return None,
            }
        }
        let routed = vs.routed_to(|host| scope.includes_host(host));
        scope.hosts.extend(routed);
        let reached = vs.routed_from(|host| scope.includes_host(host));
        scope.endpoint_namespaces.extend(reached);
        Some(scope)
    }

    /// Whether the rows of a path (`row`) are in this scope.
    pub fn includes_row(&self, row: &Row) -> bool {
        self.includes_parts(&row.service.namespace, &row.service.name, &row.host)
    }

    /// [`PostureScope::includes_row`] for rows taken in posture order: the rows of a service are adjacent and share
    /// its reference, so the scope is asked once per service.
    pub fn row_test(&self) -> impl FnMut(&Row) -> bool + '_ {
        let mut last: Option<(SharedRef, bool)> = None;
        move |row| match &last {
            Some((service, included)) if Arc::ptr_eq(service, &row.service) => *included,
            _ => {
                let included = self.includes_row(row);
                last = Some((row.service.clone(), included));
                included
            }
        }
    }

    /// Whether a Service with this fully qualified host (`name.namespace.svc...`) is in this scope.
    fn includes_host(&self, host: &str) -> bool {
        let mut labels = host.split('.');
        let (name, namespace) = (labels.next().unwrap_or(""), labels.next().unwrap_or(""));
        self.includes_parts(namespace, name, host)
    }

    /// The namespaces whose workloads can be endpoints of a scoped service (Services select pods of their own
    /// namespace only; VirtualServices route to the namespaces in `endpoint_namespaces`), or `None` when a wildcard
    /// host can reach any (see [`PostureScope::service_namespaces`] for `plain_hosts`).
    fn selectable_namespaces(&self, plain_hosts: bool) -> Option<BTreeSet<&str>> {
        let mut out = self.service_namespaces(plain_hosts)?;
        out.extend(self.endpoint_namespaces.iter().map(String::as_str));
        Some(out)
    }

    fn includes(&self, svc: &Service) -> bool {
        self.includes_parts(&svc.namespace, &svc.name, &svc.host)
    }

    /// Whether the Service `namespace`/`name` with fully qualified `host` is in this scope.
    pub fn includes_parts(&self, namespace: &str, name: &str, host: &str) -> bool {
        self.namespaces.contains(namespace)
            || self.hosts.iter().any(|(h, dr_ns)| match h.strip_prefix('*') {
                Some(suffix) => host.ends_with(suffix),
                None if !h.contains('.') => name == h && namespace == dr_ns,
                None => host == h || host.strip_prefix(h.as_str()).is_some_and(|r| r.starts_with('.')),
            })
    }

    /// The namespaces every Service this scope includes is in, when the hosts say (`None`: a wildcard host can
    /// reach any namespace). A superset: [`PostureScope::includes`] still decides per Service. With `plain_hosts`
    /// (no Service name or namespace holds a dot, [`crate::posture::workload::Clients::plain_hosts`]) a wildcard
    /// host `*.<namespace>.svc.<cluster domain>` names its namespace: a Service host `name.ns.svc.<domain>` ends
    /// with `.<namespace>.svc.<domain>` exactly when `ns` is that namespace.
    fn service_namespaces(&self, plain_hosts: bool) -> Option<BTreeSet<&str>> {
        let mut out: BTreeSet<&str> = self.namespaces.iter().map(String::as_str).collect();
        for (h, dr_ns) in &self.hosts {
            if h.starts_with('*') {
                out.insert(self.wildcard_namespace(h).filter(|_| plain_hosts)?);
                continue;
            }
            // `name` (the DestinationRule's namespace) or `name.namespace[.svc...]`.
            out.insert(h.split('.').nth(1).unwrap_or(dr_ns.as_str()));
        }
        Some(out)
    }

    /// The namespace of a wildcard host `*.<namespace>.svc.<cluster domain>` (a dot-free, non-empty namespace).
    fn wildcard_namespace<'h>(&self, host: &'h str) -> Option<&'h str> {
        if self.cluster_domain.is_empty() {
            return None;
        }
        let rest = host.strip_prefix("*.")?.strip_suffix(self.cluster_domain.as_str())?.strip_suffix(".svc.")?;
        (!rest.is_empty() && !rest.contains('.')).then_some(rest)
    }
}

/// Computes the posture of a mesh.
pub fn compute(mesh: &Mesh) -> Posture {
    compute_scoped(mesh, None)
}

/// Computes the posture of a mesh, for the services in `scope` only (all when `None`; a scoped posture lists the
/// workloads of the scope's namespaces only).
pub fn compute_scoped(mesh: &Mesh, scope: Option<&PostureScope>) -> Posture {
    compute_with(mesh, Arc::new(Inventory::build(mesh)), scope)
}

/// [`compute_scoped`] with the mesh's inventory already built (the analysis context keeps it across
/// re-analyses that do not change it).
pub fn compute_with(mesh: &Mesh, inv: Arc<Inventory>, scope: Option<&PostureScope>) -> Posture {
    compute_indexed(mesh, inv, Arc::new(DrIndex::build(mesh)), Arc::new(routes::VsIndex::build(mesh)), scope)
}

/// [`compute_with`] with the mesh's DestinationRule and VirtualService indexes already built (the analysis context
/// keeps them; an overlay rebuilds only the namespaces whose DestinationRules it touches).
pub fn compute_indexed(
    mesh: &Mesh,
    inv: Arc<Inventory>,
    drs: Arc<DrIndex>,
    vs: Arc<routes::VsIndex>,
    scope: Option<&PostureScope>,
) -> Posture {
    tracing::debug!(objects = mesh.objects.len(), scoped = scope.is_some(), "computing posture");
    let pas = server::PaIndex::build(mesh);
    // A scoped posture (fix verification) needs the policies of the scoped services' endpoints only; the others
    // get a placeholder that is never read (no scoped service selects them). With the namespaces known, only
    // their workloads are visited.
    let placeholder = || WorkloadPolicy {
        mode: PaMode::Permissive,
        decided_by: None,
        workload_pa: None,
        ignored_workload_pas: Vec::new(),
        port_level: Vec::new(),
    };
    let plain_hosts = inv.clients().plain_hosts;
    let policies = match scope.map(|sc| (sc, sc.selectable_namespaces(plain_hosts))) {
        Some((_, Some(namespaces))) => {
            let mut policies: Vec<WorkloadPolicy> = (0..inv.workloads.len()).map(|_| placeholder()).collect();
            for ns in namespaces {
                for &i in inv.workloads_in(ns) {
                    policies[i] = pas.workload_policy(ns, &inv.workloads[i].labels);
                }
            }
            policies
        }
        // No scope, or one with a wildcard host whose namespace is unknown (it can reach any namespace): every
        // workload's policy.
        _ => inv.workloads.iter().map(|w| pas.workload_policy(&w.namespace, &w.labels)).collect(),
    };
    let clients = inv.clients();
    let mut cx = Context {
        mesh,
        refs: vec![OnceCell::new(); mesh.objects.len()],
        inv,
        drs,
        pas,
        policies,
        vs,
        services_by_host: HashMap::new(),
        clients,
    };
    if !cx.vs.is_empty() {
        cx.services_by_host = cx.inv.services.iter().enumerate().map(|(i, s)| (s.host.clone(), i)).collect();
    }
    let clients = cx.clients.clone();
    let client_namespaces = &clients.namespaces;
    // A scope that names its namespaces reads only their Services (in row order); wildcard hosts read them all.
    let services: Vec<&Service> = match scope.and_then(|sc| sc.service_namespaces(plain_hosts)) {
        Some(namespaces) => {
            let mut ids: Vec<usize> = namespaces
                .iter()
                .flat_map(|ns| clients.services_by_namespace.get(*ns).into_iter().flatten().copied())
                .collect();
            ids.sort_by(|a, b| {
                let (a, b) = (&cx.inv.services[*a], &cx.inv.services[*b]);
                (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name))
            });
            ids.dedup();
            ids.into_iter().map(|i| &cx.inv.services[i]).collect()
        }
        None => clients.services_sorted.iter().map(|i| &cx.inv.services[*i]).collect(),
    };
    let mut rows = Vec::new();
    let mut defaults = Vec::new();
    let mut target_ports: HashMap<usize, BTreeSet<u32>> = HashMap::new();
    for svc in services {
        if scope.is_some_and(|sc| !sc.includes(svc)) {
            continue;
        }
        let eps = cx.inv.endpoints(svc);
        for p in &svc.ports {
            for &w in &eps {
                if let Some(t) = p.target_on(&cx.inv.workloads[w]) {
                    target_ports.entry(w).or_default().insert(t);
                }
            }
        }
        let default = cx.drs.lookup(None, &svc.namespace, &svc.host).and_then(|(s, e)| catch_all(s, &e));
        let classes = client_classes(&cx, svc, default, client_namespaces);
        let listed: BTreeSet<&str> =
            classes.iter().filter(|c| c.namespace != OTHER_NAMESPACES).map(|c| c.namespace.as_str()).collect();
        let class_kinds: Vec<Vec<(ClientKind, Vec<String>, usize)>> =
            classes.iter().map(|c| cx.kinds_of(&c.namespace, c.selector_labels.as_deref(), &listed)).collect();
        for p in &svc.ports {
            for kind in ClientKind::ALL {
                let has_star = classes
                    .iter()
                    .zip(&class_kinds)
                    .any(|(c, ks)| c.namespace == OTHER_NAMESPACES && ks.iter().any(|(k, _, _)| *k == kind));
                let anywhere = kind == ClientKind::Sidecar || cx.clients.kind_totals[kind.index()] > 0;
                if !has_star && anywhere {
                    let who = Clients {
                        namespace: OTHER_NAMESPACES,
                        selector: None,
                        selector_labels: None,
                        kind,
                        workloads: Vec::new(),
                        others: 0,
                    };
                    if let Some(d) = build_row(&cx, svc, p, &eps, who, default) {
                        defaults.push(Arc::new(d));
                    }
                }
            }
            for (c, kinds) in classes.iter().zip(&class_kinds) {
                for (kind, names, others) in kinds {
                    let who = Clients {
                        namespace: &c.namespace,
                        selector: c.selector.clone(),
                        selector_labels: c.selector_labels.as_deref(),
                        kind: *kind,
                        workloads: names.clone(),
                        others: if c.namespace == OTHER_NAMESPACES { *others } else { 0 },
                    };
                    if let Some(r) = build_row(&cx, svc, p, &eps, who, c.found) {
                        rows.push(Arc::new(r));
                    }
                }
            }
        }
    }
    // A scoped posture lists the workloads of the scope's namespaces only (their policies may change; Services
    // select pods of their own namespace, all of whose Services the scope includes, so their ports are complete).
    let listed: Vec<usize> = match scope {
        None => (0..cx.inv.workloads.len()).collect(),
        Some(sc) => {
            let mut ids: Vec<usize> = sc.namespaces.iter().flat_map(|ns| cx.inv.workloads_in(ns)).copied().collect();
            ids.sort_unstable();
            ids
        }
    };
    let workloads = listed
        .into_iter()
        .map(|i| (&cx.inv.workloads[i], &cx.policies[i], target_ports.remove(&i).unwrap_or_default()))
        .map(|(w, pol, mut ports)| {
            ports.extend(w.container_ports.iter().map(|(_, p)| *p));
            ports.extend(pol.port_level.iter().map(|(p, _)| *p));
            WorkloadPosture {
                workload: cx.r(w.obj).as_ref().clone(),
                sidecar: w.sidecar,
                sidecar_reason: w.sidecar_reason.clone(),
                mode: pol.mode,
                ports: ports
                    .into_iter()
                    .map(|port| PortPosture { port, mode: pol.port_mode(port).0, captured: w.capture.captures(port) })
                    .collect(),
                obj: w.obj,
                policy: pol.clone(),
            }
        })
        .collect();
    Posture { rows, workloads, defaults, ..Posture::default() }
}

/// The entry that applies to client workloads no `workloadSelector` picks. When the most specific host of the
/// table the lookup stopped at only has selector rules, that is none at all: Istio does not look further.
fn catch_all<'a>(step: LookupStep, entries: &[&'a Entry]) -> Option<(LookupStep, &'a Entry)> {
    entries.iter().rev().find(|e| e.selector.is_none()).map(|e| (step, *e))
}

fn selector_text(selector: &[(String, String)]) -> String {
    selector.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// The client classes of a service: its own namespace, every client namespace whose lookup differs from the
/// default (only namespaces [`DrIndex::special_for`] names can), selector classes, and `*` for the rest.
fn client_classes<'a>(
    cx: &'a Context,
    svc: &Service,
    default: Option<(LookupStep, &'a Entry)>,
    client_namespaces: &BTreeSet<String>,
) -> Vec<ClientClass<'a>> {
    let mut out = Vec::new();
    let mut special = cx.drs.special_for(&svc.host);
    special.extend(cx.vs.special_for(&svc.host));
    let default_vs = cx.vs.view(None, &svc.host);
    let candidates = std::iter::once(svc.namespace.as_str())
        .chain(special.into_iter().filter(|n| *n != svc.namespace && client_namespaces.contains(*n)));
    for ns in candidates {
        let found = cx.drs.lookup(Some(ns), &svc.namespace, &svc.host);
        let plain = found.as_ref().and_then(|(s, e)| catch_all(*s, e));
        let differs = plain.map(|(_, e)| &e.drs) != default.map(|(_, e)| &e.drs)
            || cx.vs.view(Some(ns), &svc.host) != default_vs
            || cx.vs.names_source_namespace(ns, &svc.host);
        let mut selector_classes = Vec::new();
        if let Some((step, entries)) = &found {
            for e in entries {
                let Some(sel) = &e.selector else { continue };
                if cx.inv.workloads_in(ns).iter().any(|w| cx.inv.workloads[*w].matches(sel)) {
                    selector_classes.push(ClientClass {
                        namespace: ns.to_string(),
                        selector: Some(selector_text(sel)),
                        selector_labels: Some(sel.clone()),
                        found: Some((*step, *e)),
                    });
                }
            }
        }
        if ns == svc.namespace || differs || !selector_classes.is_empty() {
            out.push(ClientClass { namespace: ns.to_string(), selector: None, selector_labels: None, found: plain });
            out.extend(selector_classes);
        }
    }
    out.sort_by(|a, b| (&a.namespace, &a.selector).cmp(&(&b.namespace, &b.selector)));
    // The class of every other client namespace: `kinds_of` finds its workloads (none when every namespace that
    // holds workloads is listed above, and then it has no row).
    out.push(ClientClass {
        namespace: OTHER_NAMESPACES.to_string(),
        selector: None,
        selector_labels: None,
        found: default,
    });
    out
}

/// One way traffic of a row takes: the client policy of a cluster and the endpoints behind it.
struct Path<'s> {
    client: ClientPolicy,
    service: &'s Service,
    port: &'s ServicePort,
    /// Workload indices (already filtered by the subset's labels).
    eps: Vec<usize>,
    subset: Option<String>,
    /// Only requests with particular attributes take this path (see [`routes`]).
    conditional: bool,
}

/// The paths of a sidecar client's calls to a service port: the VirtualService routes (destination host, subset,
/// port) when one applies, else the service's own cluster.
fn paths<'s>(
    cx: &'s Context,
    svc: &'s Service,
    port: &'s ServicePort,
    eps: &[usize],
    who: &Clients,
    found: Option<(LookupStep, &Entry)>,
) -> Vec<Path<'s>> {
    let own = || {
        vec![Path {
            client: client::client_policy(cx.mesh, found, port.port),
            service: svc,
            port,
            eps: eps.to_vec(),
            subset: None,
            conditional: false,
        }]
    };
    let client_ns = (who.namespace != OTHER_NAMESPACES).then_some(who.namespace);
    // Which of the row's client workloads carry a route's `sourceLabels`: the sidecar workloads of its namespace
    // (those its selector picks); unknown for `*` and for a namespace without workloads in the tree.
    let clients: Vec<&workload::Workload> = match client_ns {
        None => Vec::new(),
        Some(ns) => cx
            .inv
            .workloads_in(ns)
            .iter()
            .map(|w| &cx.inv.workloads[*w])
            .filter(|w| w.client_kind() == ClientKind::Sidecar)
            .filter(|w| who.selector_labels.is_none_or(|sel| w.matches(sel)))
            .collect(),
    };
    let labels = |wanted: &[(String, String)]| -> Option<bool> {
        if clients.is_empty() {
            return None;
        }
        let carrying = clients.iter().filter(|w| w.matches(wanted)).count();
        match carrying {
            0 => Some(false),
            n if n == clients.len() => Some(true),
            _ => None,
        }
    };
    let Some(dests) = cx.vs.destinations(client_ns, &svc.host, port.port, port.protocol, &labels) else {
        return own();
    };
    let mut out = Vec::new();
    for d in dests {
        let Some(dsvc) = cx.services_by_host.get(&d.host).map(|i| &cx.inv.services[*i]) else { continue };
        let wanted = d.port.unwrap_or(port.port);
        let dport = dsvc.ports.iter().find(|p| p.port == wanted).or(match dsvc.ports.as_slice() {
            [only] if d.port.is_none() => Some(only),
            _ => None,
        });
        let Some(dport) = dport else { continue };
        let dfound = if std::ptr::eq(dsvc, svc) {
            found
        } else {
            cx.drs.lookup(client_ns, &dsvc.namespace, &dsvc.host).and_then(|(s, e)| catch_all(s, &e))
        };
        let deps = if std::ptr::eq(dsvc, svc) { eps.to_vec() } else { cx.inv.endpoints(dsvc) };
        match &d.subset {
            None => out.push(Path {
                client: client::client_policy(cx.mesh, dfound, dport.port),
                service: dsvc,
                port: dport,
                eps: deps,
                subset: None,
                conditional: d.conditional,
            }),
            Some(name) => {
                // A subset no rule defines has no cluster: Istio answers 503 (no route), no TLS happens.
                let Some((policy, subset)) = client::subset_policy(cx.mesh, dfound, dport.port, name) else {
                    continue;
                };
                let eps = deps.into_iter().filter(|w| cx.inv.workloads[*w].matches(&subset.labels)).collect();
                out.push(Path {
                    client: policy,
                    service: dsvc,
                    port: dport,
                    eps,
                    subset: Some(name.clone()),
                    conditional: d.conditional,
                });
            }
        }
    }
    // Every route leads nowhere the tree knows (an unknown host, a subset no rule defines): the tree says nothing
    // of those paths; the service's own cluster stands in as before.
    if out.is_empty() { own() } else { out }
}

/// Builds the row of one (service port, client class), or `None` when neither side is known from the tree
/// (no workload of the service here and no DestinationRule chosen).
fn build_row(
    cx: &Context,
    svc: &Service,
    port: &ServicePort,
    eps: &[usize],
    who: Clients,
    found: Option<(LookupStep, &Entry)>,
) -> Option<Row> {
    let mesh = cx.mesh;
    // Only a sidecar reads DestinationRules and VirtualServices: other clients send what their application (or
    // ztunnel) sends.
    let paths = if who.kind == ClientKind::Sidecar {
        paths(cx, svc, port, eps, &who, found)
    } else {
        vec![Path {
            client: ClientPolicy::default(),
            service: svc,
            port,
            eps: eps.to_vec(),
            subset: None,
            conditional: false,
        }]
    };
    let routed = paths.iter().any(|p| p.subset.is_some() || p.conditional || !std::ptr::eq(p.service, svc));
    let mut endpoints: Vec<Endpoint> = Vec::new();
    let mut all_drs: Vec<ObjId> = Vec::new();
    for (pi, path) in paths.iter().enumerate() {
        for d in &path.client.drs {
            if !all_drs.contains(d) {
                all_drs.push(*d);
            }
        }
        let start = endpoints.len();
        for &i in &path.eps {
            let w = &cx.inv.workloads[i];
            let Some(target) = path.port.target_on(w) else {
                continue;
            };
            let (mode, pa, port_level) = cx.policies[i].port_mode(target);
            endpoints.push(Endpoint {
                workload: Some(cx.r(w.obj)),
                target_port: Some(target),
                sidecar: w.sidecar,
                captured: w.sidecar == Sidecar::No || w.capture.captures(target),
                mode,
                peer_authentication: pa.map(|p| cx.r(p)),
                port_level,
                ambient: w.ambient,
                subset: path.subset.clone(),
                conditional: path.conditional,
                other_host: !std::ptr::eq(path.service, svc),
                sends: Sends::Plaintext,
                verdict: Verdict::Plaintext,
                workload_id: Some(w.obj),
                pa_id: pa,
                auto: None,
                tls_mode_istio: w.tls_mode_istio,
                path: pi,
            });
        }
        if endpoints.len() == start && !routed {
            if path.client.drs.is_empty() {
                continue;
            }
            let (ns_mode, ns_pa) = cx.pas.namespace_mode(&path.service.namespace);
            let target = match &path.port.target {
                workload::TargetPort::Number(n) => Some(*n),
                workload::TargetPort::Name(_) => None,
            };
            let ambient = workload::namespace_client_kind(cx.inv.namespace_labels(mesh, &path.service.namespace))
                == ClientKind::Ambient;
            endpoints.push(Endpoint {
                workload: None,
                target_port: target,
                sidecar: if ambient { Sidecar::No } else { Sidecar::Unknown },
                captured: true,
                mode: ns_mode,
                peer_authentication: ns_pa.map(|p| cx.r(p)),
                port_level: false,
                ambient,
                subset: None,
                conditional: false,
                // Not routed: every path is the service's own.
                other_host: false,
                sends: Sends::Plaintext,
                verdict: Verdict::Plaintext,
                workload_id: None,
                pa_id: ns_pa,
                auto: None,
                tls_mode_istio: !ambient,
                path: pi,
            });
        }
    }
    if endpoints.is_empty() {
        return None;
    }
    // Rows live as long as their posture, and most have one endpoint (a vector grows to four first).
    endpoints.shrink_to_fit();
    all_drs.shrink_to_fit();
    // Istio's passthrough inference (`BestEffortInferServiceMTLSMode`): one endpoint whose TLS mode is not `istio`
    // disables auto mTLS for the whole service; otherwise the whole (ORIGINAL_DST) cluster gets mTLS.
    // The CLIENT TLS text of each endpoint (only the row keeps their summary).
    let mut client_texts: Vec<String> = Vec::with_capacity(endpoints.len());
    for e in &mut endpoints {
        let path = &paths[e.path];
        let client = &path.client;
        let (ns_mode, _) = cx.pas.namespace_mode(&path.service.namespace);
        let passthrough = path.service.headless || client.passthrough;
        let passthrough_without_sidecar = passthrough && path_has_plain_endpoint(cx, path);
        let (sends, auto) = match who.kind {
            ClientKind::NoSidecar => (Sends::Plaintext, None),
            // ztunnel tunnels to ambient endpoints and sends the application's bytes to anything else
            // (`pilot/pkg/serviceregistry/ambient/workloads.go` `setTunnelProtocol`: sidecar pods get no tunnel).
            ClientKind::Ambient => (if e.ambient { Sends::Mtls } else { Sends::Plaintext }, None),
            ClientKind::Sidecar => match &client.tls {
                // A sidecar reaches an ambient endpoint over HBONE whatever the rule says; SIMPLE / MUTUAL is
                // originated inside the tunnel (`cluster_tls.go` `applyHBONETransportSocketMatches`).
                ClientTls::Explicit { mode, .. } if e.ambient => match verdict::sends_for(mode) {
                    Sends::Plaintext => (Sends::Mtls, None),
                    other => (other, None),
                },
                _ if e.ambient => (Sends::Mtls, None),
                ClientTls::Explicit { mode, .. } => (verdict::sends_for(mode), None),
                ClientTls::Auto | ClientTls::AutoPortDropsTls { .. } => {
                    let (s, r) = verdict::auto_sends(AutoFacts {
                        enabled: mesh.settings.auto_mtls,
                        namespace_disable: ns_mode == PaMode::Disable,
                        passthrough,
                        passthrough_without_sidecar,
                        sidecar: if e.tls_mode_istio { Sidecar::Yes } else { Sidecar::No },
                        port_mode: e.mode,
                    });
                    (s, Some(r))
                }
            },
        };
        e.sends = sends;
        e.auto = auto;
        e.verdict = verdict::judge(sends, e.sidecar, e.captured, e.mode, e.ambient);
        let text = client_text(who.kind, &client.tls, e);
        let text = match &e.subset {
            Some(s) => format!("subset {s}: {text}"),
            None => text,
        };
        client_texts.push(if e.conditional { format!("{text} (matching requests)") } else { text });
    }
    let verdict = endpoints.iter().map(|e| e.verdict).max().unwrap_or(Verdict::Plaintext);
    let server_mode = summarize(&endpoints, endpoints.iter().map(Endpoint::server_text).collect());
    let client_tls = summarize(&endpoints, client_texts);
    // A PeerAuthentication decides nothing where no sidecar or ztunnel enforces it.
    let mut pas: Vec<ObjId> = endpoints
        .iter()
        .filter(|e| (e.sidecar != Sidecar::No && e.captured) || e.ambient)
        .filter_map(|e| e.pa_id)
        .collect();
    pas.sort();
    pas.dedup();
    let mut path_clients: Vec<ClientPolicy> = paths.into_iter().map(|p| p.client).collect();
    // Collected in place: the vector keeps the (larger) paths' allocation until shrunk.
    path_clients.shrink_to_fit();
    Some(Row {
        service: cx.r(svc.obj),
        host: svc.host.clone(),
        port: port.port,
        port_name: port.name.clone(),
        client_namespace: who.namespace.to_string(),
        client_selector: who.selector,
        client_kind: who.kind,
        client_workloads: who.workloads,
        other_namespaces: who.others,
        server_mode,
        client_tls,
        verdict,
        peer_authentications: pas.into_iter().map(|p| cx.r(p)).collect(),
        destination_rules: all_drs.iter().map(|d| cx.r(*d)).collect(),
        endpoints,
        service_id: svc.obj,
        routed,
        path_clients,
    })
}

/// True when a passthrough path has an endpoint whose TLS mode is not `istio` (and that ztunnel does not serve).
fn path_has_plain_endpoint(cx: &Context, path: &Path) -> bool {
    path.eps.iter().any(|w| {
        let w = &cx.inv.workloads[*w];
        path.port.target_on(w).is_some() && !w.tls_mode_istio && !w.ambient
    })
}

/// The CLIENT TLS text for one endpoint.
fn client_text(kind: ClientKind, tls: &ClientTls, e: &Endpoint) -> String {
    match kind {
        ClientKind::NoSidecar => return "plaintext (no sidecar)".to_string(),
        ClientKind::Ambient if e.ambient => return "HBONE (ztunnel)".to_string(),
        ClientKind::Ambient => return "plaintext (ztunnel, no tunnel)".to_string(),
        ClientKind::Sidecar if e.ambient => {
            return match e.sends {
                Sends::Tls => format!("HBONE + {}", tls_name(tls)),
                _ => "HBONE".to_string(),
            };
        }
        ClientKind::Sidecar => {}
    }
    match tls {
        ClientTls::Explicit { mode, written: false, .. } => format!("{} (tls without mode)", mode.as_str()),
        ClientTls::Explicit { mode, .. } => mode.as_str().to_string(),
        ClientTls::Auto | ClientTls::AutoPortDropsTls { .. } => match e.sends {
            Sends::Mtls => "auto: mTLS".to_string(),
            _ => "auto: plaintext".to_string(),
        },
    }
}

fn tls_name(tls: &ClientTls) -> &str {
    match tls {
        ClientTls::Explicit { mode, .. } => mode.as_str(),
        _ => "TLS",
    }
}

/// One text when every endpoint agrees, else `workload: text` for each endpoint (`texts`: one per endpoint).
fn summarize(endpoints: &[Endpoint], texts: Vec<String>) -> String {
    if texts.windows(2).all(|w| w[0] == w[1]) {
        return texts.into_iter().next().unwrap_or_default();
    }
    endpoints
        .iter()
        .zip(texts)
        .map(|(e, t)| format!("{}: {t}", e.workload.as_ref().map(|w| w.name.as_str()).unwrap_or("?")))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod scenarios_istio;

#[cfg(test)]
mod scope_tests {
    use super::*;
    use crate::rules::testing::{dr, mesh, pa};

    fn svc(ns: &str, name: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  selector: {{app: {name}}}\n  ports: [{{port: 80}}]\n"
        )
    }

    #[test]
    fn scope_reaches_the_services_a_change_can_affect() {
        let m = mesh(
            &(svc("a", "web")
                + &svc("b", "api")
                + &svc("c", "db")
                + &dr("a", "all-a", "*.a.svc.cluster.local", Some("ISTIO_MUTUAL"))
                + &dr("b", "all-b", "*.b.svc.cluster.local", Some("ISTIO_MUTUAL"))),
        );
        let inv = m.inventory();
        let names = |sc: &PostureScope| -> Vec<String> {
            inv.services.iter().filter(|s| sc.includes(s)).map(|s| s.name.clone()).collect()
        };
        let objs = crate::rules::testing::mesh(
            &(pa("a", "p", Some("STRICT"), false)
                + &dr("x", "d1", "api.b.svc.cluster.local", Some("DISABLE"))
                + &dr("c", "d2", "db", Some("DISABLE"))),
        );
        let sc = PostureScope::of(&m, objs.objects.iter().map(|o| &**o)).unwrap();
        assert_eq!(names(&sc), vec!["web", "api", "db"]);
        let only_dr = crate::rules::testing::mesh(&dr("x", "d", "*.b.svc.cluster.local", Some("DISABLE")));
        let sc = PostureScope::of(&m, only_dr.objects.iter().map(|o| &**o)).unwrap();
        assert_eq!(names(&sc), vec!["api"]);
        // The mesh's cluster domain goes with the scope: the wildcard names its namespace.
        assert_eq!(sc.cluster_domain, m.settings.cluster_domain);
        assert_eq!(sc.service_namespaces(true).map(|n| n.into_iter().collect::<Vec<_>>()), Some(vec!["b"]));
        // A root-namespace PeerAuthentication reaches everything: no scope.
        let root = crate::rules::testing::mesh(&pa("istio-system", "p", Some("STRICT"), false));
        assert!(PostureScope::of(&m, root.objects.iter().map(|o| &**o)).is_none());
        // A scoped posture has rows for the scoped services only.
        let full = compute(&m);
        assert!(full.rows.iter().any(|r| r.service.name == "web"));
        let scoped = compute_scoped(&m, Some(&sc));
        assert!(!scoped.rows.is_empty());
        assert!(scoped.rows.iter().all(|r| r.service.name == "api"));
    }
}

#[cfg(test)]
#[path = "mutation_tests.rs"]
mod mutation_tests;

#[cfg(test)]
#[path = "posture_mutation2_tests.rs"]
mod posture_mutation2_tests;

#[cfg(test)]
#[path = "scope_mutation3_tests.rs"]
mod scope_mutation3_tests;

#[cfg(test)]
#[path = "scope_mutation4_tests.rs"]
mod scope_mutation4_tests;

#[cfg(test)]
#[path = "posture_mutation5_tests.rs"]
mod posture_mutation5_tests;

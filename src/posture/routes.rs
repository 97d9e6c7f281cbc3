//! VirtualServices: where a sidecar client's traffic to a service host goes (destination host, subset, port), so
//! that a path's TLS is its subset's (`MergeSubsetTrafficPolicy`) and its endpoints are the subset's.
//!
//! Selection follows what a sidecar sees of `PushContext`'s VirtualService index: a VirtualService applies to the
//! mesh (no `gateways`, or `mesh` among them), is visible to the client namespace (`exportTo` empty, `*`, the client
//! namespace, or `.` in its own namespace), and names the host (exact, or a wildcard suffix; short names are relative
//! to the VirtualService's namespace). Of several, the client namespace's own comes first, then exact hosts before
//! wildcards, then the oldest. Every route block whose `match` does not exclude the port (`match[].port`) counts: the
//! http, tcp and tls routes' destinations are the paths traffic can take; a destination with `weight: 0` takes none.

use super::client::resolve_host;
use crate::mesh::{Mesh, ObjId};
use std::collections::{BTreeSet, HashMap};

/// One destination of a route.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Destination {
    /// The destination host, resolved to a full name.
    pub host: String,
    pub subset: Option<String>,
    /// `destination.port.number`; `None` keeps the port of the call.
    pub port: Option<u32>,
}

#[derive(Debug, Clone)]
struct Vs {
    obj: ObjId,
    namespace: String,
    hosts: Vec<String>,
    export_to: Vec<String>,
    /// (ports the route block's matches name, or `None` for any port; destinations with traffic).
    blocks: Vec<(Option<Vec<u32>>, Vec<Destination>)>,
}

/// The VirtualServices of a mesh that apply to sidecars, indexed by host so that a lookup costs the few
/// VirtualServices of the host, not all of them.
#[derive(Debug, Clone, Default)]
pub struct VsIndex {
    list: Vec<Vs>,
    /// Positions in `list` (oldest first) by exact host.
    exact: HashMap<String, Vec<usize>>,
    /// Positions in `list` (oldest first) of VirtualServices with a wildcard host.
    wildcard: Vec<usize>,
    /// Position in `list` by object.
    by_obj: HashMap<ObjId, usize>,
}

fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix('*') {
        Some(suffix) => host.ends_with(suffix),
        None => pattern == host,
    }
}

impl VsIndex {
    pub fn build(mesh: &Mesh) -> VsIndex {
        let cd = &mesh.settings.cluster_domain;
        let mut list = Vec::new();
        for (id, o) in mesh.objects.iter().enumerate() {
            if o.kind != "VirtualService" || !o.api_version.starts_with("networking.istio.io/") {
                continue;
            }
            let t = &o.tree;
            let Some(spec) = t.get(o.root, "spec") else { continue };
            let strings = |key: &str| -> Vec<String> {
                t.get(spec, key)
                    .map(|l| t.items(l).iter().filter_map(|i| t.scalar(*i).map(str::to_string)).collect())
                    .unwrap_or_default()
            };
            let gateways = strings("gateways");
            if !gateways.is_empty() && !gateways.iter().any(|g| g == "mesh") {
                continue;
            }
            let ns = mesh.namespaces[id].clone();
            let hosts = strings("hosts").iter().map(|h| resolve_host(h, &ns, cd)).collect();
            let mut blocks = Vec::new();
            for kind in ["http", "tcp", "tls"] {
                for block in t.get(spec, kind).map(|b| t.items(b).to_vec()).unwrap_or_default() {
                    let matches = t.get(block, "match").map(|m| t.items(m).to_vec()).unwrap_or_default();
                    let ports: Vec<u32> =
                        matches.iter().filter_map(|m| t.str_at(*m, &["port"]).and_then(|p| p.parse().ok())).collect();
                    // A match without a port matches every port.
                    let any_port = matches.is_empty() || matches.iter().any(|m| t.get(*m, "port").is_none());
                    let mut dests = Vec::new();
                    for r in t.get(block, "route").map(|r| t.items(r).to_vec()).unwrap_or_default() {
                        if t.str_at(r, &["weight"]) == Some("0") {
                            continue;
                        }
                        let Some(h) = t.str_at(r, &["destination", "host"]) else { continue };
                        dests.push(Destination {
                            host: resolve_host(h, &ns, cd),
                            subset: t.str_at(r, &["destination", "subset"]).map(str::to_string),
                            port: t.str_at(r, &["destination", "port", "number"]).and_then(|p| p.parse().ok()),
                        });
                    }
                    blocks.push(((!any_port).then_some(ports), dests));
                }
            }
            list.push(Vs { obj: id, namespace: ns, hosts, export_to: strings("exportTo"), blocks });
        }
        list.sort_by(|a, b| mesh.age_key(a.obj).cmp(&mesh.age_key(b.obj)));
        let mut exact: HashMap<String, Vec<usize>> = HashMap::new();
        let mut wildcard = Vec::new();
        for (i, v) in list.iter().enumerate() {
            for h in &v.hosts {
                if h.starts_with('*') {
                    if wildcard.last() != Some(&i) {
                        wildcard.push(i);
                    }
                } else {
                    let e = exact.entry(h.clone()).or_default();
                    if e.last() != Some(&i) {
                        e.push(i);
                    }
                }
            }
        }
        let by_obj = list.iter().enumerate().map(|(i, v)| (v.obj, i)).collect();
        VsIndex { list, exact, wildcard, by_obj }
    }

    /// The VirtualServices naming `host` (exactly or by a wildcard), oldest first.
    fn for_host<'a>(&'a self, host: &str) -> impl Iterator<Item = &'a Vs> {
        let mut idx: Vec<usize> = self.exact.get(host).cloned().unwrap_or_default();
        idx.extend(self.wildcard.iter().copied().filter(|i| self.list[*i].hosts.iter().any(|h| host_matches(h, host))));
        idx.sort_unstable();
        idx.dedup();
        idx.into_iter().map(move |i| &self.list[i])
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn visible(vs: &Vs, client: Option<&str>) -> bool {
        vs.export_to.is_empty()
            || vs
                .export_to
                .iter()
                .any(|e| e == "*" || client.is_some_and(|c| e == c || (e == "." && c == vs.namespace)))
    }

    /// The VirtualService that applies to a client namespace (`None`: any namespace not listed on its own) calling
    /// `host`.
    pub fn select(&self, client: Option<&str>, host: &str) -> Option<ObjId> {
        let candidates =
            self.list.iter().filter(|v| Self::visible(v, client) && v.hosts.iter().any(|h| host_matches(h, host)));
        candidates
            .min_by_key(|v| {
                let own = client != Some(v.namespace.as_str());
                let exact = !v.hosts.iter().any(|h| h == host);
                (own, exact)
            })
            .map(|v| v.obj)
    }

    /// The destinations of a VirtualService for calls on `port`, deduplicated.
    pub fn destinations(&self, vs: ObjId, port: u32) -> Vec<Destination> {
        let Some(v) = self.by_obj.get(&vs).map(|i| &self.list[*i]) else { return Vec::new() };
        let set: BTreeSet<Destination> = v
            .blocks
            .iter()
            .filter(|(ports, _)| ports.as_ref().is_none_or(|p| p.contains(&port)))
            .flat_map(|(_, d)| d.iter().cloned())
            .collect();
        set.into_iter().collect()
    }

    /// Namespaces whose selection for `host` may differ from that of an unlisted namespace: those holding a
    /// VirtualService for it and those named in its `exportTo`.
    pub fn special_for(&self, host: &str) -> BTreeSet<&str> {
        let mut out = BTreeSet::new();
        for v in self.for_host(host) {
            out.insert(v.namespace.as_str());
            out.extend(v.export_to.iter().filter(|e| !matches!(e.as_str(), "." | "*")).map(String::as_str));
        }
        out
    }
}

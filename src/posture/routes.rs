//! VirtualServices: where a sidecar client's traffic to a service port goes (destination host, subset, port), so
//! that a path's TLS is its subset's (`MergeSubsetTrafficPolicy`) and its endpoints are the subset's.
//!
//! As pilot builds a sidecar's outbound configuration:
//!
//! - **Which VirtualServices** (`pilot/pkg/model/push_context.go` `VirtualServicesForGateway`, `initVirtualServices`):
//!   those bound to the mesh (no `gateways`, or `mesh` among them) and visible to the client namespace, in the
//!   order: private to the client namespace (its own with `exportTo` `.` or its name), then those other namespaces
//!   export to it by name, then public ones (no `exportTo` or `*`), each group oldest first.
//! - **HTTP** (`pilot/pkg/networking/core/route/route.go` `BuildSidecarVirtualHostWrapper`,
//!   `BuildHTTPRoutesForVirtualService`, `TranslateRoute`, `IsCatchAllRoute`; `pilot/pkg/model/sidecar.go`
//!   `computeWildcardHostVirtualServiceIndex`): one VirtualService serves a host: an exact host before the most
//!   specific wildcard, then the first in the order above. Its `http` routes are tried in order; a match is skipped
//!   when its `port` is another port, when it names `gateways` without `mesh`, when its `sourceNamespace` is another
//!   namespace or its `sourceLabels` are not the client's; the first route with no match, or with a match that
//!   has no request condition (`uri` absent, `prefix: /` or `regex: .*`, and no `headers`, `queryParams`,
//!   `withoutHeaders`, `method`, `authority`, `scheme`), is the catch-all: a request takes it unless an earlier
//!   route matched, and no later route is ever reached. When no route applies to the port the VirtualService
//!   builds nothing and the service's own route is used.
//! - **TCP** (`pilot/pkg/networking/core/tls.go` `buildSidecarOutboundTCPFilterChainOpts`, `matchTCP`): the `tcp`
//!   routes of every VirtualService naming the host, in the order above; the first whose match (port, gateways,
//!   source labels and namespace) applies without `destinationSubnets` is terminal; routes with
//!   `destinationSubnets` apply to connections to those addresses only; without a terminal route the service's
//!   own cluster takes the rest. Not used on TLS ports.
//! - **TLS** (`buildSidecarOutboundTLSFilterChainOpts`, `matchTLS`): on TLS / HTTPS ports every applying `tls`
//!   match is a filter chain chosen by SNI at run time (the first for one SNI set); with none, the service's own
//!   cluster.
//!
//! A port's protocol is its `appProtocol`, else the prefix of its name (`http`, `http2`, `grpc`, `h2c`: HTTP;
//! `https`, `tls`: TLS; `tcp`, `mongo`, `mysql`, `redis`: TCP); anything else is detected at run time (protocol
//! sniffing), where HTTP requests take the `http` routes and other bytes the `tcp` routes: both are paths.
//!
//! **Requests are not known**: a path is marked `conditional` when only requests (or connections) with particular
//! attributes take it (a request condition, source labels some of the row's client workloads carry, destination
//! subnets, an SNI other than the service's host). The default path, the one a request without such attributes takes, is the catch-all route (HTTP), the
//! terminal route or the service's own cluster (TCP), the route whose SNI is the service host (TLS). Conditional
//! paths are judged too: the requests that take them get that verdict. An HTTP request that matches no route gets
//! Envoy's 404 and opens no connection: it has no path.

use super::client::resolve_host;
use crate::manifest::yaml::YamlDoc;
use crate::mesh::{Mesh, ObjId};
use std::collections::{BTreeSet, HashMap};

/// Whether the client workloads of a row carry labels: all, none, or some / unknown (`None`).
pub type Labels<'a> = dyn Fn(&[(String, String)]) -> Option<bool> + 'a;

/// One destination of a route.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Destination {
    /// The destination host, resolved to a full name.
    pub host: String,
    pub subset: Option<String>,
    /// `destination.port.number`; `None` keeps the port of the call.
    pub port: Option<u32>,
    /// Only requests (connections) with particular attributes take this destination.
    pub conditional: bool,
}

/// A port's protocol as Istio reads it from the Service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Tls,
    Tcp,
    /// Detected at run time (protocol sniffing).
    Auto,
}

impl Protocol {
    /// `appProtocol`, else the name's prefix before `-` (`pkg/config/protocol` `Parse`, case-insensitive).
    pub fn of_port(name: Option<&str>, app_protocol: Option<&str>) -> Protocol {
        let text = app_protocol.or_else(|| name.map(|n| n.split('-').next().unwrap_or(n))).unwrap_or("");
        match text.to_ascii_lowercase().as_str() {
            "http" | "http2" | "grpc" | "grpc-web" | "h2c" | "kubernetes.io/h2c" | "http_proxy" => Protocol::Http,
            "https" | "tls" => Protocol::Tls,
            "tcp" | "mongo" | "mysql" | "redis" | "udp" => Protocol::Tcp,
            _ => Protocol::Auto,
        }
    }
}

/// One `match` item, with what pilot can decide while building the configuration.
#[derive(Debug, Clone, Default)]
struct Match {
    port: Option<u32>,
    /// Names `gateways` (then it applies to sidecars only with `mesh` among them).
    gateways: Option<bool>,
    source_namespace: Option<String>,
    /// `sourceLabels`: the route applies to the client workloads that carry them.
    source_labels: Vec<(String, String)>,
    /// Needs run-time attributes: request conditions (HTTP), `destinationSubnets` (TCP), SNI hosts (TLS).
    runtime: bool,
    /// TLS: `sniHosts`, resolved.
    sni: Vec<String>,
}

/// One route block (`http[i]`, `tcp[i]`, `tls[i]`).
#[derive(Debug, Clone, Default)]
struct Route {
    matches: Vec<Match>,
    dests: Vec<(String, Option<String>, Option<u32>)>,
}

#[derive(Debug, Clone)]
struct Vs {
    obj: ObjId,
    namespace: String,
    hosts: Vec<String>,
    export_to: Vec<String>,
    http: Vec<Route>,
    tcp: Vec<Route>,
    tls: Vec<Route>,
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
}

fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix('*') {
        Some(suffix) => host.ends_with(suffix),
        None => pattern == host,
    }
}

fn strings(t: &YamlDoc, node: usize, key: &str) -> Vec<String> {
    t.get(node, key)
        .map(|l| t.items(l).iter().filter_map(|i| t.scalar(*i).map(str::to_string)).collect())
        .unwrap_or_default()
}

fn non_empty(t: &YamlDoc, node: usize, key: &str) -> bool {
    t.get(node, key)
        .is_some_and(|v| !t.is_null(v) && (t.scalar(v).is_some() || !t.entries(v).is_empty() || !t.items(v).is_empty()))
}

/// True when an HTTP match has a request condition: it is not Envoy's catch-all (`IsCatchAllRoute`: the path
/// matcher is prefix `/` or regex `.*`, and no header or query parameter matchers; `method`, `authority`, `scheme`
/// and `withoutHeaders` become header matchers, `TranslateRouteMatch`).
fn http_request_condition(t: &YamlDoc, m: usize) -> bool {
    let uri_catch_all = match t.get(m, "uri").filter(|u| !t.is_null(*u)) {
        None => true,
        Some(u) => matches!(
            (t.str_at(u, &["prefix"]), t.str_at(u, &["regex"]), t.get(u, "exact")),
            (Some("/"), None, None) | (None, Some(".*"), None)
        ),
    };
    !uri_catch_all
        || ["headers", "queryParams", "withoutHeaders", "method", "authority", "scheme"]
            .iter()
            .any(|k| non_empty(t, m, k))
}

impl VsIndex {
    /// The hosts (with the VirtualService's namespace) of the VirtualServices that route to another host for which
    /// `reaches` is true: paths to those hosts read the other host's DestinationRules and endpoints.
    pub fn routed_to(&self, reaches: impl Fn(&str) -> bool) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for v in &self.list {
            let elsewhere = v
                .http
                .iter()
                .chain(&v.tcp)
                .chain(&v.tls)
                .flat_map(|r| &r.dests)
                .any(|(h, _, _)| !v.hosts.contains(h) && reaches(h));
            if elsewhere {
                out.extend(v.hosts.iter().map(|h| (h.clone(), v.namespace.clone())));
            }
        }
        out
    }

    /// The namespaces of the other hosts that VirtualServices serving a host for which `serves` is true (or a
    /// wildcard host) route to: paths to the served hosts reach those namespaces' endpoints.
    pub fn routed_from(&self, serves: impl Fn(&str) -> bool) -> Vec<String> {
        let mut out = Vec::new();
        for v in self.list.iter().filter(|v| v.hosts.iter().any(|h| h.starts_with('*') || serves(h))) {
            for (h, _, _) in v.http.iter().chain(&v.tcp).chain(&v.tls).flat_map(|r| &r.dests) {
                if !v.hosts.contains(h) {
                    out.push(h.split('.').nth(1).unwrap_or_default().to_string());
                }
            }
        }
        out
    }

    pub fn build(mesh: &Mesh) -> VsIndex {
        let cd = &mesh.settings.cluster_domain;
        let mut list = Vec::new();
        for (id, o) in mesh.objects.iter().enumerate() {
            if o.kind != "VirtualService" || !o.api_version.starts_with("networking.istio.io/") {
                continue;
            }
            let t = &o.tree;
            let Some(spec) = t.get(o.root, "spec") else { continue };
            let gateways = strings(t, spec, "gateways");
            if !gateways.is_empty() && !gateways.iter().any(|g| g == "mesh") {
                continue;
            }
            let ns = mesh.namespaces[id].clone();
            let hosts = strings(t, spec, "hosts").iter().map(|h| resolve_host(h, &ns, cd)).collect();
            let routes = |kind: &str| -> Vec<Route> {
                let mut out = Vec::new();
                for block in t.get(spec, kind).map(|b| t.items(b).to_vec()).unwrap_or_default() {
                    let matches = t
                        .get(block, "match")
                        .map(|m| t.items(m).to_vec())
                        .unwrap_or_default()
                        .into_iter()
                        .map(|m| {
                            let gw = strings(t, m, "gateways");
                            Match {
                                port: t.str_at(m, &["port"]).and_then(|p| p.parse().ok()),
                                gateways: (!gw.is_empty()).then(|| gw.iter().any(|g| g == "mesh")),
                                source_namespace: t.str_at(m, &["sourceNamespace"]).map(str::to_string),
                                source_labels: t.get(m, "sourceLabels").map(|l| t.string_map(l)).unwrap_or_default(),
                                runtime: match kind {
                                    "http" => http_request_condition(t, m),
                                    "tcp" => non_empty(t, m, "destinationSubnets"),
                                    _ => true,
                                },
                                sni: strings(t, m, "sniHosts").iter().map(|h| resolve_host(h, &ns, cd)).collect(),
                            }
                        })
                        .collect();
                    let mut dests = Vec::new();
                    for r in t.get(block, "route").map(|r| t.items(r).to_vec()).unwrap_or_default() {
                        if t.str_at(r, &["weight"]) == Some("0") {
                            continue;
                        }
                        let Some(h) = t.str_at(r, &["destination", "host"]) else { continue };
                        dests.push((
                            resolve_host(h, &ns, cd),
                            t.str_at(r, &["destination", "subset"]).map(str::to_string),
                            t.str_at(r, &["destination", "port", "number"]).and_then(|p| p.parse().ok()),
                        ));
                    }
                    out.push(Route { matches, dests });
                }
                out
            };
            let (http, tcp, tls) = (routes("http"), routes("tcp"), routes("tls"));
            list.push(Vs { obj: id, namespace: ns, hosts, export_to: strings(t, spec, "exportTo"), http, tcp, tls });
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
        VsIndex { list, exact, wildcard }
    }

    /// The VirtualServices naming `host` (exactly or by a wildcard), oldest first.
    fn for_host(&self, host: &str) -> Vec<usize> {
        let mut idx: Vec<usize> = self.exact.get(host).cloned().unwrap_or_default();
        idx.extend(self.wildcard.iter().copied().filter(|i| self.list[*i].hosts.iter().any(|h| host_matches(h, host))));
        idx.sort_unstable();
        idx.dedup();
        idx
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Where a VirtualService stands in a client namespace's list: 0 private to it, 1 exported to it by name,
    /// 2 public; `None` when the client does not see it.
    fn category(vs: &Vs, client: Option<&str>) -> Option<u8> {
        let e = &vs.export_to;
        if e.is_empty() || e.iter().any(|x| x == "*") {
            return Some(2);
        }
        if e.iter().any(|x| x == "~") {
            return None;
        }
        let c = client?;
        if c == vs.namespace && e.iter().any(|x| x == "." || *x == vs.namespace) {
            return Some(0);
        }
        e.iter().any(|x| x == c).then_some(1)
    }

    /// The VirtualServices a client namespace (`None`: any namespace not listed on its own) sees for `host`, in
    /// the sidecar's order (private, exported to it, public; oldest first).
    fn ordered(&self, client: Option<&str>, host: &str) -> Vec<(u8, usize)> {
        let mut v: Vec<(u8, usize)> = self
            .for_host(host)
            .into_iter()
            .filter_map(|i| Self::category(&self.list[i], client).map(|c| (c, i)))
            .collect();
        v.sort_unstable();
        v
    }

    /// The VirtualService whose `http` routes serve `host` for a client namespace: an exact host first, then the
    /// most specific wildcard; among equals the first in the sidecar's order.
    fn select_index(&self, client: Option<&str>, host: &str) -> Option<usize> {
        let specificity = |vs: &Vs| -> usize {
            vs.hosts
                .iter()
                .filter(|h| host_matches(h, host))
                .map(|h| if h.starts_with('*') { h.len() } else { usize::MAX })
                .max()
                .unwrap_or(0)
        };
        let ordered = self.ordered(client, host);
        ordered
            .iter()
            .enumerate()
            .max_by(|(ia, (_, a)), (ib, (_, b))| {
                specificity(&self.list[*a]).cmp(&specificity(&self.list[*b])).then(ib.cmp(ia))
            })
            .map(|(_, (_, i))| *i)
    }

    /// The VirtualServices a client namespace's view of `host` depends on, for comparing namespaces: the sidecar's
    /// ordered list (the one `select_index` picks from it is a function of that list).
    pub fn view(&self, client: Option<&str>, host: &str) -> Vec<ObjId> {
        self.ordered(client, host).into_iter().map(|(_, i)| self.list[i].obj).collect()
    }

    /// Whether a match applies to a sidecar client in `client` on `port`: `Some(conditional)`, or `None` when it
    /// does not apply. HTTP ignores source labels and namespace when a match names gateways (`sourceMatchHTTP`).
    /// `labels` tells whether the row's client workloads carry some labels: all (`Some(true)`), none
    /// (`Some(false)`), or some or unknown (`None`, a conditional path).
    fn applies(m: &Match, client: Option<&str>, port: u32, http: bool, labels: &Labels) -> Option<bool> {
        if m.port.is_some_and(|p| p != port) {
            return None;
        }
        match m.gateways {
            Some(false) => return None,
            Some(true) if http => return Some(m.runtime),
            _ => {}
        }
        if let Some(ns) = &m.source_namespace
            && client != Some(ns.as_str())
        {
            return None;
        }
        if m.source_labels.is_empty() {
            return Some(m.runtime);
        }
        match labels(&m.source_labels) {
            Some(false) => None,
            Some(true) => Some(m.runtime),
            None => Some(true),
        }
    }

    /// The paths of a sidecar client's calls to `host:port`, or `None` when no VirtualService route applies and
    /// the service's own cluster takes the traffic.
    pub fn destinations(
        &self,
        client: Option<&str>,
        host: &str,
        port: u32,
        protocol: Protocol,
        labels: &Labels,
    ) -> Option<Vec<Destination>> {
        let mut out: Vec<Destination> = Vec::new();
        let mut routed = false;
        if matches!(protocol, Protocol::Http | Protocol::Auto)
            && let Some(i) = self.select_index(client, host)
        {
            let mut reached = Vec::new();
            'routes: for r in &self.list[i].http {
                if r.matches.is_empty() {
                    reached.push((r, false));
                    break;
                }
                for m in &r.matches {
                    match Self::applies(m, client, port, true, labels) {
                        None => {}
                        Some(true) => reached.push((r, true)),
                        Some(false) => {
                            reached.push((r, false));
                            break 'routes;
                        }
                    }
                }
            }
            // A route with several applying matches counts once, unconditional if any match is.
            for (r, conditional) in reached {
                routed = true;
                for d in &r.dests {
                    push(&mut out, d, conditional);
                }
            }
        }
        if protocol == Protocol::Tcp || protocol == Protocol::Auto {
            let mut terminal = false;
            let mut any = false;
            'vs: for (_, i) in self.ordered(client, host) {
                for r in &self.list[i].tcp {
                    let applying: Vec<bool> = if r.matches.is_empty() {
                        vec![false]
                    } else {
                        r.matches.iter().filter_map(|m| Self::applies(m, client, port, false, labels)).collect()
                    };
                    let Some(conditional) = applying.iter().copied().reduce(|a, b| a && b) else { continue };
                    any = true;
                    for d in &r.dests {
                        push(&mut out, d, conditional);
                    }
                    // A conditional route (destination subnets; source labels, which some client workloads carry
                    // and others do not) lets the rest go on to the next route.
                    if !conditional {
                        terminal = true;
                        break 'vs;
                    }
                }
            }
            if any {
                routed = true;
                if !terminal {
                    push(&mut out, &(host.to_string(), None, None), false);
                }
            }
        }
        if protocol == Protocol::Tls {
            let mut seen: BTreeSet<Vec<String>> = BTreeSet::new();
            for (_, i) in self.ordered(client, host) {
                for r in &self.list[i].tls {
                    for m in &r.matches {
                        if Self::applies(m, client, port, false, labels).is_none() || !seen.insert(m.sni.clone()) {
                            continue;
                        }
                        routed = true;
                        // Every TLS match needs its SNI: it is the default path when the SNI is the host's and its
                        // source labels (if any) are every client's.
                        let everyone = m.source_labels.is_empty() || labels(&m.source_labels) == Some(true);
                        let default = m.sni.iter().any(|s| host_matches(s, host)) && everyone;
                        for d in &r.dests {
                            push(&mut out, d, !default);
                        }
                    }
                }
            }
        }
        routed.then_some(out)
    }

    /// True when a route for `host` names `namespace` as its `sourceNamespace`.
    pub fn names_source_namespace(&self, namespace: &str, host: &str) -> bool {
        self.for_host(host).into_iter().any(|i| {
            let v = &self.list[i];
            v.http
                .iter()
                .chain(&v.tcp)
                .chain(&v.tls)
                .any(|r| r.matches.iter().any(|m| m.source_namespace.as_deref() == Some(namespace)))
        })
    }

    /// Namespaces whose view of `host` may differ from that of an unlisted namespace: those holding a
    /// VirtualService for it, those named in its `exportTo`, and those a match names as `sourceNamespace`.
    pub fn special_for(&self, host: &str) -> BTreeSet<&str> {
        let mut out = BTreeSet::new();
        for i in self.for_host(host) {
            let v = &self.list[i];
            out.insert(v.namespace.as_str());
            out.extend(v.export_to.iter().filter(|e| !matches!(e.as_str(), "." | "*" | "~")).map(String::as_str));
            for r in v.http.iter().chain(&v.tcp).chain(&v.tls) {
                out.extend(r.matches.iter().filter_map(|m| m.source_namespace.as_deref()));
            }
        }
        out
    }
}

/// Adds a destination, keeping one entry per (host, subset, port): unconditional when any route reaching it is.
fn push(out: &mut Vec<Destination>, d: &(String, Option<String>, Option<u32>), conditional: bool) {
    if let Some(e) = out.iter_mut().find(|e| e.host == d.0 && e.subset == d.1 && e.port == d.2) {
        e.conditional &= conditional;
        return;
    }
    out.push(Destination { host: d.0.clone(), subset: d.1.clone(), port: d.2, conditional });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_protocols_as_istio_reads_them() {
        let p = Protocol::of_port;
        assert_eq!(p(Some("http-web"), None), Protocol::Http);
        assert_eq!(p(Some("HTTP2"), None), Protocol::Http);
        assert_eq!(p(Some("grpc-web"), None), Protocol::Http);
        assert_eq!(p(Some("https"), None), Protocol::Tls);
        assert_eq!(p(Some("tls-passthrough"), None), Protocol::Tls);
        assert_eq!(p(Some("tcp-db"), None), Protocol::Tcp);
        assert_eq!(p(Some("mongo"), None), Protocol::Tcp);
        // appProtocol wins over the name.
        assert_eq!(p(Some("tcp-x"), Some("http")), Protocol::Http);
        assert_eq!(p(Some("http"), Some("kubernetes.io/h2c")), Protocol::Http);
        // No name, or an unknown prefix: detected at run time.
        assert_eq!(p(None, None), Protocol::Auto);
        assert_eq!(p(Some("web"), None), Protocol::Auto);
    }
}

#[cfg(test)]
#[path = "routes_mutation2_tests.rs"]
mod routes_mutation2_tests;

#[cfg(test)]
#[path = "routes_mutation5_tests.rs"]
mod routes_mutation5_tests;

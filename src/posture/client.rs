//! Client side: the DestinationRule Istio's lookup (`PushContext.destinationRule`) chooses for a client
//! namespace and a service host, and the TLS setting that applies on one service port.
//!
//! Istio indexes DestinationRules per namespace twice: every rule visible to its own namespace (`namespaceLocal`)
//! and every rule exported beyond it (`exportedByNamespace`); private rules of the root namespace go to a third
//! table. A client in namespace C looks in C's local table, then in the service namespace's exported table, then
//! in the root namespace's exported table, taking in each the most specific host (exact beats wildcard, longer
//! wildcard beats shorter) and stopping at the first table that answers. Rules never inherit from each other;
//! same-host rules of one table merge, the oldest `trafficPolicy` winning whole.

use crate::mesh::{DestinationRule, Mesh, ObjId, Tls, TlsMode};
use crate::settings::IstioVersion;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Where the lookup found the DestinationRule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LookupStep {
    /// The client's own namespace (for a client in the root namespace: the root namespace's private rules).
    ClientNamespace,
    /// The service's namespace, rules exported to the client.
    ServiceNamespace,
    /// The root namespace, rules exported to the client.
    RootNamespace,
}

/// Same-host DestinationRules of one table merged into one, as Istio's `mergeDestinationRule` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The merged rules (object ids), oldest first.
    pub drs: Vec<ObjId>,
    /// The rule whose `trafficPolicy` applies: the oldest that has one.
    pub policy: Option<PolicyRule>,
    /// `exportTo` of the entry: that of its first rule (from Istio 1.24 rules with other sets stay apart; before,
    /// every entry of the host shares one set, see [`Table::add`]).
    pub export_to: Vec<String>,
    /// `workloadSelector.matchLabels`, sorted; `None` for rules that apply to every client workload.
    pub selector: Option<Vec<(String, String)>>,
}

/// The rule of an [`Entry`] whose `trafficPolicy` applies, with its typed `tls` settings (the entry is read without
/// the mesh's list of rules, whose positions change when fix verification edits the mesh).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    pub obj: ObjId,
    /// `spec.trafficPolicy.tls`.
    pub tls: Tls,
    /// `spec.trafficPolicy.portLevelSettings`: (port number, tls).
    pub port_level: Vec<(u32, Tls)>,
}

impl PolicyRule {
    fn of(dr: &DestinationRule) -> Self {
        PolicyRule { obj: dr.obj, tls: dr.tls.clone(), port_level: dr.port_level.clone() }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Table {
    specific: HashMap<String, Vec<Entry>>,
    wildcard: Vec<(String, Vec<Entry>)>,
}

impl Table {
    /// Adds a rule for `host` as `mergeDestinationRule` does in the release `enhanced` names (true: Istio 1.24 and
    /// later, `ENABLE_ENHANCED_DESTINATIONRULE_MERGE`).
    fn add(
        &mut self,
        host: &str,
        dr: &DestinationRule,
        has_policy: bool,
        export_to: &[String],
        selector: Option<Vec<(String, String)>>,
        enhanced: bool,
    ) {
        let list = if host.starts_with('*') {
            match self.wildcard.iter().position(|(h, _)| h == host) {
                Some(i) => &mut self.wildcard[i].1,
                None => {
                    self.wildcard.push((host.to_string(), Vec::new()));
                    let last = self.wildcard.len() - 1;
                    &mut self.wildcard[last].1
                }
            }
        } else {
            self.specific.entry(host.to_string()).or_default()
        };
        if !enhanced {
            add_before_1_24(list, dr, has_policy, export_to, selector);
            return;
        }
        let mut append = true;
        for existing in list.iter_mut() {
            // Istio 1.24 and later (`ENABLE_ENHANCED_DESTINATIONRULE_MERGE`, on by default): rules merge only when
            // their exportTo sets are equal; a rule whose set is a superset of a non-empty existing one merges into
            // it and is also kept on its own; any other rule stays apart (`mergeDestinationRule`).
            if export_to == existing.export_to.as_slice() {
                append = false;
            } else if !existing.export_to.is_empty() && existing.export_to.iter().all(|e| export_to.contains(e)) {
                append = true;
            } else {
                append = true;
                continue;
            }
            let both_with = existing.selector.is_some() && selector.is_some();
            if both_with && existing.selector != selector {
                append = true;
                continue;
            }
            if existing.selector == selector {
                append = false;
            }
            // Istio merges a rule into every compatible entry of the host (subsets, a missing trafficPolicy,
            // a missing exportTo); an entry keeps its own trafficPolicy when it has one.
            existing.drs.push(dr.obj);
            if existing.policy.is_none() && has_policy {
                existing.policy = Some(PolicyRule::of(dr));
            }
        }
        if append {
            list.push(Entry {
                drs: vec![dr.obj],
                policy: has_policy.then(|| PolicyRule::of(dr)),
                export_to: export_to.to_vec(),
                selector,
            });
        }
    }

    /// Istio's `MostSpecificHostMatch` for a service host (never a wildcard itself).
    fn most_specific(&self, host: &str) -> Option<&[Entry]> {
        if let Some(l) = self.specific.get(host) {
            return Some(l);
        }
        self.wildcard
            .iter()
            .filter(|(w, _)| host.ends_with(&w[1..]))
            .max_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| b.0.cmp(&a.0)))
            .map(|(_, l)| l.as_slice())
    }
}

/// `mergeDestinationRule` of Istio 1.23 and earlier: every rule merges into the host's entries whatever its
/// `exportTo` (selector rules only into entries with the same selector, and a selector rule is also kept on its
/// own), and the host has one `exportTo` set for all its entries: the first rule's, replaced by a later rule's
/// explicit set only while it is empty (`p.exportTo[resolvedHost]`, read by `getExportedDestinationRuleFromNamespace`).
/// Every entry carries that shared set.
fn add_before_1_24(
    list: &mut Vec<Entry>,
    dr: &DestinationRule,
    has_policy: bool,
    export_to: &[String],
    selector: Option<Vec<(String, String)>>,
) {
    if list.is_empty() {
        list.push(Entry {
            drs: vec![dr.obj],
            policy: has_policy.then(|| PolicyRule::of(dr)),
            export_to: export_to.to_vec(),
            selector,
        });
        return;
    }
    let mut append = true;
    let mut host_export = list[0].export_to.clone();
    for existing in list.iter_mut() {
        let both_with = existing.selector.is_some() && selector.is_some();
        let matching = existing.selector.as_deref().unwrap_or_default() == selector.as_deref().unwrap_or_default();
        if both_with && !matching {
            continue;
        }
        if (existing.selector.is_none() && selector.is_none()) || (selector.is_some() && matching) {
            append = false;
        }
        existing.drs.push(dr.obj);
        if existing.policy.is_none() && has_policy {
            existing.policy = Some(PolicyRule::of(dr));
        }
        if host_export.is_empty() && !export_to.is_empty() {
            host_export = export_to.to_vec();
        }
    }
    if append {
        list.push(Entry {
            drs: vec![dr.obj],
            policy: has_policy.then(|| PolicyRule::of(dr)),
            export_to: Vec::new(),
            selector,
        });
    }
    for e in list.iter_mut() {
        e.export_to.clone_from(&host_export);
    }
}

/// The DestinationRule index of a mesh. Istio's tables are per namespace and a namespace's tables depend on its
/// own rules only (and the mesh settings), so the index keeps them per namespace: fix verification, which edits
/// the rules of a few namespaces, rebuilds those ([`DrIndex::rebuild`]) and shares the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrIndex {
    tables: HashMap<String, Arc<NamespaceTables>>,
    root: String,
    /// For each host as written in a namespace's local table (exact or wildcard), the namespaces that hold it.
    local_hosts: HashMap<String, BTreeSet<String>>,
    /// Namespaces named explicitly in some `exportTo`, with the number of namespaces whose rules name them.
    export_named: BTreeMap<String, usize>,
}

/// The tables of one namespace's rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct NamespaceTables {
    /// Rules visible to their own namespace (`namespaceLocal`).
    local: Table,
    /// Rules exported beyond it (`exportedByNamespace`).
    exported: Table,
    /// The root namespace only: its private rules.
    root_local: Table,
    /// The hosts of `local`.
    local_hosts: BTreeSet<String>,
    /// Namespaces these rules name in an `exportTo`.
    export_named: BTreeSet<String>,
}

/// What [`DrIndex::restore`] needs to undo a [`DrIndex::rebuild`]: the tables the rebuild replaced.
#[derive(Debug, Default)]
pub struct DrUndo {
    replaced: Vec<(String, Option<Arc<NamespaceTables>>)>,
}

/// A DestinationRule's host resolved as Istio's `ResolveShortnameToFQDN` does: a name without dots is
/// relative to the rule's namespace; anything with a dot is taken as written.
pub fn resolve_host(host: &str, namespace: &str, cluster_domain: &str) -> String {
    if host == "*" || host.contains('.') {
        host.to_string()
    } else {
        format!("{host}.{namespace}.svc.{cluster_domain}")
    }
}

impl DrIndex {
    /// Indexes every DestinationRule of the mesh.
    pub fn build(mesh: &Mesh) -> DrIndex {
        let mut idx = DrIndex { root: mesh.settings.root_namespace.clone(), ..DrIndex::default() };
        let mut by_namespace: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, dr) in mesh.destination_rules.iter().enumerate() {
            by_namespace.entry(dr.namespace.as_str()).or_default().push(i);
        }
        for (ns, rules) in by_namespace {
            let tables = NamespaceTables::build(mesh, ns, rules);
            idx.insert(ns, Arc::new(tables));
        }
        idx
    }

    /// Rebuilds the tables of `namespaces` from the mesh's rules there (after an edit of those rules only; the
    /// mesh settings unchanged). [`DrIndex::restore`] undoes it.
    pub fn rebuild<'a>(&mut self, mesh: &Mesh, namespaces: impl IntoIterator<Item = &'a str>) -> DrUndo {
        let mut undo = DrUndo::default();
        let namespaces: BTreeSet<&str> = namespaces.into_iter().collect();
        for ns in namespaces {
            let old = self.remove(ns);
            let rules = mesh.destination_rules_in(ns);
            if !rules.is_empty() {
                self.insert(ns, Arc::new(NamespaceTables::build(mesh, ns, rules)));
            }
            undo.replaced.push((ns.to_string(), old));
        }
        undo
    }

    /// Undoes [`DrIndex::rebuild`].
    pub fn restore(&mut self, undo: DrUndo) {
        for (ns, old) in undo.replaced.into_iter().rev() {
            self.remove(&ns);
            if let Some(old) = old {
                self.insert(&ns, old);
            }
        }
    }

    fn insert(&mut self, ns: &str, tables: Arc<NamespaceTables>) {
        for host in &tables.local_hosts {
            self.local_hosts.entry(host.clone()).or_default().insert(ns.to_string());
        }
        for named in &tables.export_named {
            *self.export_named.entry(named.clone()).or_default() += 1;
        }
        self.tables.insert(ns.to_string(), tables);
    }

    fn remove(&mut self, ns: &str) -> Option<Arc<NamespaceTables>> {
        let old = self.tables.remove(ns)?;
        for host in &old.local_hosts {
            if let Some(set) = self.local_hosts.get_mut(host) {
                set.remove(ns);
                if set.is_empty() {
                    self.local_hosts.remove(host);
                }
            }
        }
        for named in &old.export_named {
            if let Some(n) = self.export_named.get_mut(named) {
                *n -= 1;
                if *n == 0 {
                    self.export_named.remove(named);
                }
            }
        }
        Some(old)
    }

    fn local(&self, ns: &str) -> Option<&Table> {
        self.tables.get(ns).map(|t| &t.local)
    }

    fn exported(&self, ns: &str) -> Option<&Table> {
        self.tables.get(ns).map(|t| &t.exported)
    }

    fn root_local(&self) -> Option<&Table> {
        self.tables.get(&self.root).map(|t| &t.root_local)
    }

    /// The namespaces whose lookup for `host` may differ from that of a namespace without rules: those whose own
    /// table has a host matching it, those named in an `exportTo`, and the root namespace. Found through the
    /// host's own suffixes, so the cost does not grow with the number of namespaces.
    pub fn special_for(&self, host: &str) -> BTreeSet<&str> {
        let mut out: BTreeSet<&str> = self.export_named.keys().map(String::as_str).collect();
        out.insert(self.root.as_str());
        let keys = std::iter::once(host.to_string())
            .chain(std::iter::once("*".to_string()))
            .chain(host.match_indices('.').map(|(i, _)| format!("*{}", &host[i..])));
        for k in keys {
            if let Some(nss) = self.local_hosts.get(&k) {
                out.extend(nss.iter().map(String::as_str));
            }
        }
        out
    }

    /// The entries Istio's lookup returns for a client namespace (`None`: a namespace that holds no rules and
    /// is named by no `exportTo`) and a service, with the step that found them.
    pub fn lookup(
        &self,
        client: Option<&str>,
        service_namespace: &str,
        host: &str,
    ) -> Option<(LookupStep, Vec<&Entry>)> {
        let table = match client {
            Some(c) if c == self.root => self.root_local(),
            Some(c) => self.local(c),
            None => None,
        };
        if let Some(found) = table.and_then(|t| t.most_specific(host)) {
            return Some((LookupStep::ClientNamespace, found.iter().collect()));
        }
        let client_ns = client.unwrap_or("");
        let exported = |ns: &str| -> Option<Vec<&Entry>> {
            let found = self.exported(ns)?.most_specific(host)?;
            let visible: Vec<&Entry> = found
                .iter()
                .filter(|e| {
                    e.export_to.is_empty()
                        || e.export_to.iter().any(|x| x == "*" || (!client_ns.is_empty() && x == client_ns))
                })
                .collect();
            (!visible.is_empty()).then_some(visible)
        };
        if let Some(v) = exported(service_namespace) {
            return Some((LookupStep::ServiceNamespace, v));
        }
        exported(&self.root).map(|v| (LookupStep::RootNamespace, v))
    }
}

impl NamespaceTables {
    /// The tables of namespace `ns`, whose rules are `rules` (positions in `Mesh::destination_rules`, in mesh order).
    fn build(mesh: &Mesh, ns: &str, mut rules: Vec<usize>) -> NamespaceTables {
        let root = mesh.settings.root_namespace.as_str();
        let enhanced = mesh.settings.istio_version.at_least(IstioVersion::DR_MERGE_BY_EXPORT_TO);
        let mut t = NamespaceTables::default();
        // Istio sorts rules with a workload selector first, then by age (keys computed once per rule: the age key
        // looks the object up in `Mesh::newer`; the sort is stable, like `sort_by`).
        rules.sort_by_cached_key(|i| {
            let d = &mesh.destination_rules[*i];
            (d.workload_selector.is_none(), mesh.age_key(d.obj))
        });
        for i in rules {
            let dr = &mesh.destination_rules[i];
            if dr.host.is_empty() {
                continue;
            }
            debug_assert_eq!(dr.namespace, ns);
            let host = resolve_host(&dr.host, ns, &mesh.settings.cluster_domain);
            let o = &mesh.objects[dr.obj];
            let has_policy = o.tree.path(o.root, &["spec", "trafficPolicy"]).is_some_and(|n| !o.tree.is_null(n));
            let selector = dr.workload_selector.clone().map(|mut s| {
                s.sort();
                s
            });
            // Rules with a workload selector are private to their namespace.
            let export: Vec<String> = if selector.is_some() {
                vec![".".to_string()]
            } else {
                let mut e = dr.export_to.clone();
                e.sort();
                e.dedup();
                e
            };
            t.export_named.extend(export.iter().filter(|e| !matches!(e.as_str(), "." | "*" | "~")).cloned());
            let has = |v: &str| export.iter().any(|e| e == v);
            if export.is_empty() || has("*") || has(".") || has(ns) {
                t.local_hosts.insert(host.clone());
                t.local.add(&host, dr, has_policy, &export, selector.clone(), enhanced);
            }
            let private_only = export.len() == 1 && (has(".") || has(ns));
            if !private_only {
                t.exported.add(&host, dr, has_policy, &export, selector, enhanced);
            } else if ns == root {
                t.root_local.add(&host, dr, has_policy, &export, selector, enhanced);
            }
        }
        t
    }
}

/// The TLS setting a client applies on one service port.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ClientTls {
    /// No `tls` anywhere that applies: auto mTLS decides per endpoint.
    #[default]
    Auto,
    /// A `portLevelSettings` entry for the port has no `tls`, so it drops the rule's top-level `tls` (port-level
    /// settings do not inherit) and auto mTLS decides.
    AutoPortDropsTls { top: TlsMode },
    /// A `tls` block decides; `written` is false for a block without `mode` (which means DISABLE).
    Explicit { mode: TlsMode, written: bool, port_level: bool },
}

/// What decides the client side of one (client, service, port).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientPolicy {
    pub step: Option<LookupStep>,
    /// The merged rules (object ids), the one whose `trafficPolicy` applies first.
    pub drs: Vec<ObjId>,
    /// The rule whose `trafficPolicy` applies.
    pub policy_dr: Option<ObjId>,
    pub tls: ClientTls,
    /// `loadBalancer.simple: PASSTHROUGH` applies: auto mTLS then looks at every endpoint.
    pub passthrough: bool,
    /// For a subset cluster: the rule that defines the subset.
    pub subset_dr: Option<ObjId>,
    /// True when the subset's own `trafficPolicy` decides the TLS setting.
    pub subset_decides: bool,
}

/// The client policy of an entry on one service port (Istio's `GetPortLevelTrafficPolicy`).
pub fn client_policy(mesh: &Mesh, found: Option<(LookupStep, &Entry)>, port: u32) -> ClientPolicy {
    let Some((step, entry)) = found else {
        return ClientPolicy::default();
    };
    let policy = entry.policy.as_ref().map(|p| p.obj);
    let mut drs: Vec<ObjId> = Vec::with_capacity(entry.drs.len());
    drs.extend(policy);
    drs.extend(entry.drs.iter().filter(|d| Some(**d) != policy).copied());
    let mut out = ClientPolicy { step: Some(step), drs, ..ClientPolicy::default() };
    let Some(dr) = &entry.policy else { return out };
    out.policy_dr = Some(dr.obj);
    let o = &mesh.objects[dr.obj];
    let t = &o.tree;
    let tp = t.path(o.root, &["spec", "trafficPolicy"]);
    // The first portLevelSettings item for the port replaces the top level entirely.
    let port_item = tp
        .and_then(|tp| t.get(tp, "portLevelSettings"))
        .and_then(|pls| t.items(pls).iter().copied().find(|i| t.port_at(*i, &["port", "number"]) == Some(port)));
    let level = port_item.or(tp);
    out.passthrough = level.and_then(|l| t.str_at(l, &["loadBalancer", "simple"])) == Some("PASSTHROUGH");
    let port_tls = dr.port_level.iter().find(|(n, _)| *n == port).map(|(_, tls)| tls);
    out.tls = match (port_item.is_some(), port_tls, &dr.tls) {
        (true, Some(Tls::Set { mode, mode_written }), _) => {
            ClientTls::Explicit { mode: mode.clone(), written: *mode_written, port_level: true }
        }
        (true, _, Tls::Set { mode, .. }) => ClientTls::AutoPortDropsTls { top: mode.clone() },
        (true, _, Tls::Absent) => ClientTls::Auto,
        (false, _, Tls::Set { mode, mode_written }) => {
            ClientTls::Explicit { mode: mode.clone(), written: *mode_written, port_level: false }
        }
        (false, _, Tls::Absent) => ClientTls::Auto,
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{dr, mesh};

    const HOST: &str = "reviews.bookinfo.svc.cluster.local";

    fn names(m: &Mesh, found: Option<(LookupStep, Vec<&Entry>)>) -> (Option<LookupStep>, Vec<String>) {
        match found {
            None => (None, vec![]),
            Some((s, entries)) => {
                (Some(s), entries.iter().flat_map(|e| e.drs.iter().map(|d| m.objects[*d].name.clone())).collect())
            }
        }
    }

    #[test]
    fn client_namespace_wildcard_shadows_service_namespace_exact() {
        let y = dr("frontend", "wild", "*.local", Some("DISABLE"))
            + &dr("bookinfo", "exact", "reviews", Some("ISTIO_MUTUAL"));
        let m = mesh(&y);
        let idx = DrIndex::build(&m);
        assert_eq!(
            names(&m, idx.lookup(Some("frontend"), "bookinfo", HOST)),
            (Some(LookupStep::ClientNamespace), vec!["wild".into()])
        );
        assert_eq!(
            names(&m, idx.lookup(None, "bookinfo", HOST)),
            (Some(LookupStep::ServiceNamespace), vec!["exact".into()])
        );
        assert_eq!(
            names(&m, idx.lookup(Some("bookinfo"), "bookinfo", HOST)),
            (Some(LookupStep::ClientNamespace), vec!["exact".into()])
        );
    }

    #[test]
    fn most_specific_wildcard_and_root_fallback() {
        let y = dr("bookinfo", "short", "*.local", Some("DISABLE"))
            + &dr("bookinfo", "long", "*.bookinfo.svc.cluster.local", Some("ISTIO_MUTUAL"))
            + &dr("istio-system", "mesh", "*.local", Some("ISTIO_MUTUAL"));
        let m = mesh(&y);
        let idx = DrIndex::build(&m);
        assert_eq!(names(&m, idx.lookup(None, "bookinfo", HOST)).1, vec!["long".to_string()]);
        assert_eq!(names(&m, idx.lookup(None, "other", "x.other.svc.cluster.local")).1, vec!["mesh".to_string()]);
    }

    #[test]
    fn export_to_limits_visibility() {
        let y = "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: private, namespace: bookinfo}\n\
                 spec:\n  host: reviews\n  exportTo: [\".\"]\n  trafficPolicy: {tls: {mode: DISABLE}}\n"
            .to_string()
            + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: to-frontend, namespace: istio-system}\n\
               spec:\n  host: \"*.local\"\n  exportTo: [frontend]\n  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n";
        let m = mesh(&y);
        let idx = DrIndex::build(&m);
        assert_eq!(names(&m, idx.lookup(Some("bookinfo"), "bookinfo", HOST)).1, vec!["private".to_string()]);
        assert_eq!(names(&m, idx.lookup(Some("frontend"), "bookinfo", HOST)).1, vec!["to-frontend".to_string()]);
        assert_eq!(names(&m, idx.lookup(None, "bookinfo", HOST)), (None, vec![]));
        assert!(idx.special_for(HOST).contains("frontend"));
        assert!(idx.special_for(HOST).contains("bookinfo"));
        assert!(!idx.special_for("x.other.svc.cluster.local").contains("bookinfo"));
    }

    #[test]
    fn same_host_rules_merge_oldest_policy_first() {
        // `a` is older than `b` by name; `a` has no trafficPolicy, so `b`'s applies.
        let y = dr("bookinfo", "a", "reviews", None) + &dr("bookinfo", "b", "reviews", Some("ISTIO_MUTUAL"));
        let m = mesh(&y);
        let idx = DrIndex::build(&m);
        let (step, entries) = idx.lookup(None, "bookinfo", HOST).unwrap_or((LookupStep::RootNamespace, vec![]));
        assert_eq!(step, LookupStep::ServiceNamespace);
        assert_eq!(entries.len(), 1);
        let p = client_policy(&m, Some((step, entries[0])), 9080);
        assert_eq!(p.tls, ClientTls::Explicit { mode: TlsMode::IstioMutual, written: true, port_level: false });
        assert_eq!(m.objects[p.drs[0]].name, "b");
    }

    #[test]
    fn port_level_settings_replace_the_top_level() {
        let y = "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d, namespace: bookinfo}\n\
                 spec:\n  host: reviews\n  trafficPolicy:\n    tls: {mode: ISTIO_MUTUAL}\n    portLevelSettings:\n\
                 \x20   - port: {number: 9080}\n      connectionPool: {tcp: {maxConnections: 10}}\n\
                 \x20   - port: {number: 9443}\n      tls: {}\n";
        let m = mesh(y);
        let idx = DrIndex::build(&m);
        let (step, entries) = idx.lookup(None, "bookinfo", HOST).unwrap_or((LookupStep::RootNamespace, vec![]));
        let at = |port| client_policy(&m, Some((step, entries[0])), port).tls;
        assert_eq!(at(9080), ClientTls::AutoPortDropsTls { top: TlsMode::IstioMutual });
        assert_eq!(at(9443), ClientTls::Explicit { mode: TlsMode::Disable, written: false, port_level: true });
        assert_eq!(at(80), ClientTls::Explicit { mode: TlsMode::IstioMutual, written: true, port_level: false });
    }

    #[test]
    fn selector_rules_stay_in_their_namespace() {
        let y = "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: sel, namespace: frontend}\n\
                 spec:\n  host: reviews.bookinfo.svc.cluster.local\n  workloadSelector: {matchLabels: {app: web}}\n  trafficPolicy: {tls: {mode: DISABLE}}\n";
        let m = mesh(y);
        let idx = DrIndex::build(&m);
        let (_, entries) =
            idx.lookup(Some("frontend"), "bookinfo", HOST).unwrap_or((LookupStep::RootNamespace, vec![]));
        assert!(entries[0].selector.is_some());
        assert_eq!(idx.lookup(Some("other"), "bookinfo", HOST), None);
    }
}

/// A DestinationRule subset a route sends traffic to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subset {
    pub name: String,
    /// The rule that defines it.
    pub dr: ObjId,
    /// `labels`: the endpoints of the subset are the service's endpoints carrying them.
    pub labels: Vec<(String, String)>,
}

fn tls_at(t: &crate::manifest::yaml::YamlDoc, level: usize) -> Option<Tls> {
    let n = t.get(level, "tls")?;
    if t.is_null(n) {
        return None;
    }
    Some(match t.str_at(n, &["mode"]) {
        Some(m) => Tls::Set { mode: TlsMode::parse(m), mode_written: true },
        None => Tls::Set { mode: TlsMode::Disable, mode_written: false },
    })
}

/// The client policy of a subset cluster on one service port (Istio's `MergeSubsetTrafficPolicy`): the rule's
/// policy for the port, then the subset's: a subset `portLevelSettings` item for the port replaces the TLS setting
/// wholesale (no `tls` there means auto mTLS), else a subset `trafficPolicy.tls` replaces it, else the rule's stays.
/// Subsets of same-host rules that Istio merged are searched oldest rule first (the first subset of a name wins).
/// `None` when no merged rule defines the subset.
pub fn subset_policy(
    mesh: &Mesh,
    found: Option<(LookupStep, &Entry)>,
    port: u32,
    subset: &str,
) -> Option<(ClientPolicy, Subset)> {
    let (_, entry) = found?;
    let base = client_policy(mesh, found, port);
    for &obj in &entry.drs {
        let o = &mesh.objects[obj];
        let t = &o.tree;
        let Some(subsets) = t.path(o.root, &["spec", "subsets"]) else { continue };
        for s in t.items(subsets) {
            if t.str_at(*s, &["name"]) != Some(subset) {
                continue;
            }
            let labels = t.get(*s, "labels").map(|l| t.string_map(l)).unwrap_or_default();
            let mut out = base.clone();
            out.subset_dr = Some(obj);
            if let Some(tp) = t.get(*s, "trafficPolicy").filter(|n| !t.is_null(*n)) {
                let item = t.get(tp, "portLevelSettings").and_then(|pls| {
                    t.items(pls)
                        .iter()
                        .copied()
                        .find(|i| t.str_at(*i, &["port", "number"]).and_then(|n| n.parse::<u32>().ok()) == Some(port))
                });
                let level = item.unwrap_or(tp);
                let tls = tls_at(t, level);
                if item.is_some() || tls.is_some() {
                    out.tls = match tls {
                        Some(Tls::Set { mode, mode_written }) => {
                            ClientTls::Explicit { mode, written: mode_written, port_level: item.is_some() }
                        }
                        _ => ClientTls::Auto,
                    };
                    out.policy_dr = Some(obj);
                    out.subset_decides = true;
                }
                if let Some(lb) = t.str_at(level, &["loadBalancer", "simple"]) {
                    out.passthrough = lb == "PASSTHROUGH";
                }
            }
            return Some((out, Subset { name: subset.to_string(), dr: obj, labels }));
        }
    }
    None
}

#[cfg(test)]
#[path = "client_index_tests.rs"]
mod index_tests;

#[cfg(test)]
#[path = "client_mutation4_tests.rs"]
mod client_mutation4_tests;

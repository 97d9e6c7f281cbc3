//! Failing client paths explained: which object made the client send what it sends (the object a finding points
//! at), why, and the DestinationRule edit that changes the path where Istio's lookup meets it. Shared by the
//! MTLS001 and MTLS002 rules.

use super::client::{ClientTls, LookupStep, resolve_host};
use super::verdict::{AutoReason, Verdict};
use super::workload::{annotations_field, label};
use super::{ClientKind, Endpoint, OTHER_NAMESPACES, Posture, Row};
use crate::finding::Severity;
use crate::mesh::{DestinationRule, Mesh, ObjId, PaMode, TlsMode};
use crate::plan::{
    DR_PORT_LEVEL, DR_TLS, DR_TLS_MODE, FixEdit, FixPlan, NewObject, PA_MODE, PA_PORT_LEVEL, RuleFinding,
};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// Why one endpoint of a row fails, and what to point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub subject: ObjId,
    pub field: &'static [&'static str],
    pub related: Vec<(ObjId, &'static str)>,
    /// One sentence (no final period) on why the client sends what it sends.
    pub why: String,
    pub fixes: Vec<FixPlan>,
}

/// Who sends on a row, for messages: the namespace (or other namespaces), the selector, the kind of client and the
/// client workloads the tree holds.
pub fn clients(row: &Row) -> String {
    let base = clients_of(&row.client_namespace, row.client_selector.as_deref());
    let base = match row.client_kind {
        ClientKind::Sidecar => base,
        ClientKind::NoSidecar => base.replacen("clients", "clients without sidecar", 1),
        ClientKind::Ambient => base.replacen("clients", "ambient clients", 1),
    };
    if row.client_workloads.is_empty() {
        return base;
    }
    let more = if row.client_workloads.len() >= super::MAX_CLIENT_NAMES { ", ..." } else { "" };
    format!("{base} ({}{more})", row.client_workloads.join(", "))
}

/// Who sends from a client namespace (or `*`) and selector, for messages.
pub fn clients_of(namespace: &str, selector: Option<&str>) -> String {
    let base = if namespace == OTHER_NAMESPACES {
        "clients in other namespaces".to_string()
    } else {
        format!("clients in namespace `{namespace}`")
    };
    match selector {
        Some(s) => format!("{base} selected by `{s}`"),
        None => base,
    }
}

/// The server end of an endpoint, for messages.
pub fn endpoint_text(mesh: &Mesh, ep: &Endpoint) -> String {
    match (ep.workload_id, ep.target_port) {
        (Some(w), Some(p)) => format!("{} port {p}", mesh.object_ref(w)),
        (Some(w), None) => mesh.object_ref(w).to_string(),
        (None, _) => "no workload of it is in the tree".to_string(),
    }
}

fn dr_of(mesh: &Mesh, obj: ObjId) -> Option<&DestinationRule> {
    mesh.destination_rules.iter().find(|d| d.obj == obj)
}

fn name(mesh: &Mesh, obj: ObjId) -> String {
    let r = mesh.object_ref(obj);
    format!("{} {}/{}", r.kind, r.namespace, r.name)
}

fn service_port_count(mesh: &Mesh, service: ObjId) -> usize {
    let o = &mesh.objects[service];
    o.tree.path(o.root, &["spec", "ports"]).map(|p| o.tree.items(p).len()).unwrap_or(1)
}

/// Why auto mTLS sent what it sent to an endpoint.
fn auto_why(mesh: &Mesh, row: &Row, ep: &Endpoint) -> String {
    match ep.auto {
        Some(AutoReason::Off) => {
            "auto mTLS is off (`enableAutoMtls: false`) and no DestinationRule sets ISTIO_MUTUAL for this port".to_string()
        }
        Some(AutoReason::NamespaceDisable) => {
            let by = super::server::namespace_mode(mesh, &row.service.namespace).1.map(|p| name(mesh, p)).unwrap_or_default();
            format!(
                "no DestinationRule sets tls for this port, and auto mTLS infers a service's mode from namespace and mesh \
                 PeerAuthentications only: namespace `{}` is DISABLE ({by}), so clients send plaintext (istio/istio#56084)",
                row.service.namespace
            )
        }
        Some(AutoReason::Passthrough) => "the service is passthrough (headless, or `loadBalancer.simple: PASSTHROUGH`) and one of \
                                          its endpoints has no sidecar, so auto mTLS sends plaintext to all of them"
            .to_string(),
        Some(AutoReason::Mtls) => "no DestinationRule sets tls for this port, and auto mTLS sends mTLS because the pod carries a \
                                   sidecar and the port is not DISABLE; it does not know that the port bypasses the sidecar \
                                   (istio/istio#30311)"
            .to_string(),
        Some(AutoReason::NoSidecar) => "auto mTLS sends plaintext to a pod without sidecar".to_string(),
        Some(AutoReason::PortDisable) => "auto mTLS sends plaintext to a DISABLE port".to_string(),
        None => String::new(),
    }
}

/// The object a failing endpoint's finding points at, and the field.
pub fn subject(mesh: &Mesh, row: &Row, ep: &Endpoint) -> Option<(ObjId, &'static [&'static str])> {
    if !ep.verdict.is_failure() {
        return None;
    }
    let client = row.client_of(ep);
    Some(match (&client.tls, client.policy_dr) {
        // A subset's own trafficPolicy decides: point at the rule's subsets.
        (ClientTls::Explicit { .. }, Some(d)) if client.subset_decides => (d, DR_SUBSETS),
        (ClientTls::Explicit { .. } | ClientTls::AutoPortDropsTls { .. }, Some(d)) => (d, client_field(&client.tls)),
        // Auto mTLS chose plaintext: the STRICT PeerAuthentication is what rejects it, and is what changed when the
        // path broke (a namespace-wide DISABLE alone never fails).
        _ if ep.verdict == Verdict::FailPlaintextToStrict => {
            (ep.pa_id.unwrap_or(row.service_id), if ep.port_level { PA_PORT_LEVEL } else { PA_MODE })
        }
        // Auto mTLS sent mTLS to a port the sidecar does not capture: the workload's capture annotation decides.
        _ => {
            let w = ep.workload_id?;
            (w, annotations_field(&mesh.objects[w].kind))
        }
    })
}

/// The (subject, port) of each finding [`path_findings`] gives for `rows` and `pick`, with the row it comes from,
/// once per row and endpoint that gives it: a finding exists when one failing endpoint names its subject
/// ([`explain`] explains every endpoint [`subject`] names), so the findings of rows from two postures are the union
/// of each one's.
pub fn path_subjects<'r>(
    mesh: &Mesh,
    rows: impl IntoIterator<Item = &'r Arc<Row>>,
    pick: impl Fn(Verdict) -> bool,
) -> Vec<((ObjId, u32), &'r Arc<Row>)> {
    let mut out = Vec::new();
    for row in rows {
        for ep in row.failing().filter(|e| pick(e.verdict)) {
            if let Some((subject, _)) = subject(mesh, row, ep) {
                out.push(((subject, row.port), row));
            }
        }
    }
    out
}

/// The subsets of a DestinationRule.
pub const DR_SUBSETS: &[&str] = &["spec", "subsets"];

/// The field of the DestinationRule that decides a client TLS setting: the port's `portLevelSettings` item (which
/// also decides when it drops the top level), a `tls` block without mode, or the top-level `tls.mode`.
pub fn client_field(tls: &ClientTls) -> &'static [&'static str] {
    match tls {
        ClientTls::Explicit { port_level: true, .. } | ClientTls::AutoPortDropsTls { .. } => DR_PORT_LEVEL,
        ClientTls::Explicit { written: false, .. } => DR_TLS,
        _ => DR_TLS_MODE,
    }
}

/// The objects that take part in a failing path, with their roles.
pub fn related(mesh: &Mesh, row: &Row, ep: &Endpoint) -> Vec<(ObjId, &'static str)> {
    let mut related: Vec<(ObjId, &'static str)> = vec![(row.service_id, "Service")];
    if let Some(w) = ep.workload_id {
        related.push((w, "workload"));
    }
    if let Some(p) = ep.pa_id {
        related.push((p, "PeerAuthentication deciding the server mode"));
    }
    for d in &row.client_of(ep).drs {
        related.push((*d, "DestinationRule chosen by the client lookup"));
    }
    if ep.auto == Some(AutoReason::NamespaceDisable)
        && let Some(p) = super::server::namespace_mode(mesh, &row.service.namespace).1
    {
        related.push((p, "PeerAuthentication disabling auto mTLS"));
    }
    related
}

/// Explains a failing endpoint of a row, with fix candidates. `None` for endpoints that do not fail.
pub fn explain(mesh: &Mesh, row: &Row, ep: &Endpoint) -> Option<Cause> {
    let (subject, field) = subject(mesh, row, ep)?;
    if row.client_kind != ClientKind::Sidecar {
        return Some(outside_clients(mesh, row, ep, subject, field));
    }
    if ep.verdict == Verdict::FailTlsToStrict {
        let d = row.client_of(ep).policy_dr.map(|d| name(mesh, d)).unwrap_or_default();
        let why = format!(
            "{d} originates its own TLS; a STRICT sidecar accepts only Istio mTLS (its only inbound filter chain \
             requires an Istio client certificate), so the handshake fails"
        );
        let related = related(mesh, row, ep).into_iter().filter(|(o, _)| *o != subject).collect();
        return Some(Cause { subject, field, related, why, fixes: Vec::new() });
    }
    if row.routed {
        return Some(routed_cause(mesh, row, ep, subject, field));
    }
    let wants = if ep.verdict == Verdict::FailPlaintextToStrict { "ISTIO_MUTUAL" } else { "DISABLE" };
    let port = row.port;
    let (why, fixes) = match (&row.client().tls, row.client().policy_dr) {
        (ClientTls::Explicit { mode, written, port_level }, Some(d)) => {
            let dn = name(mesh, d);
            let why = match (port_level, written) {
                (true, _) => format!("{dn} sets tls.mode {} for port {port} in `portLevelSettings`", mode.as_str()),
                (false, true) => format!("{dn} sets tls.mode {}", mode.as_str()),
                (false, false) => {
                    format!("{dn} has a `tls` block without `mode`, which Istio reads as DISABLE")
                }
            };
            let mut fixes = targeted(mesh, row, wants);
            // Dropping the block of a rule for exactly this host hands the port to auto mTLS, which sends mTLS to
            // sidecars when it is on and the namespace is not DISABLE. First choice for a block without mode.
            let auto_sends_mtls = mesh.settings.auto_mtls
                && super::server::namespace_mode(mesh, &row.service.namespace).0 != PaMode::Disable;
            if !port_level && wants == "ISTIO_MUTUAL" && auto_sends_mtls && exact_rule(mesh, row, d).is_some() {
                let remove = FixPlan {
                    description: format!("remove the `tls` block of {dn} so that auto mTLS decides (mTLS to sidecars)"),
                    edits: vec![FixEdit::RemoveField { object: d, field: DR_TLS }],
                };
                fixes.insert(if *written { fixes.len() } else { 0 }, remove);
            }
            (why, fixes)
        }
        (ClientTls::AutoPortDropsTls { top }, Some(d)) => {
            let why = format!(
                "the `portLevelSettings` item for port {port} of {} has no `tls`, so the top-level tls.mode {} does not apply \
                 (port-level settings do not inherit) and auto mTLS decides: {}",
                name(mesh, d),
                top.as_str(),
                auto_why(mesh, row, ep)
            );
            let fixes = if *top == TlsMode::IstioMutual && wants == "ISTIO_MUTUAL" {
                vec![FixPlan {
                    description: format!("repeat tls.mode ISTIO_MUTUAL in the port {port} item of {}", name(mesh, d)),
                    edits: vec![FixEdit::SetPortLevelTlsMode { object: d, port, mode: "ISTIO_MUTUAL".into() }],
                }]
            } else {
                targeted(mesh, row, wants)
            };
            (why, fixes)
        }
        _ => (auto_why(mesh, row, ep), targeted(mesh, row, wants)),
    };
    let related = related(mesh, row, ep).into_iter().filter(|(o, _)| *o != subject).collect();
    Some(Cause { subject, field, related, why, fixes })
}

/// A failing path that a VirtualService routes (to a subset or another host): the cause is the path's policy; no
/// fix is offered (a rule for the host would not reach the subset cluster, and editing a shared subset can break
/// other routes).
fn routed_cause(mesh: &Mesh, row: &Row, ep: &Endpoint, subject: ObjId, field: &'static [&'static str]) -> Cause {
    let client = row.client_of(ep);
    let who = if ep.conditional {
        "the requests that match a VirtualService route's conditions go"
    } else {
        "a VirtualService route sends these calls"
    };
    let via = match &ep.subset {
        Some(s) => format!("{who} to subset `{s}`"),
        None if ep.other_host => format!("{who} to another host"),
        None => format!("{who} to the host's own cluster"),
    };
    let tls = match (&client.tls, client.policy_dr) {
        (ClientTls::Explicit { mode, .. }, Some(d)) if client.subset_decides => {
            format!(", whose own trafficPolicy in {} sets tls.mode {}", name(mesh, d), mode.as_str())
        }
        (ClientTls::Explicit { mode, .. }, Some(d)) => {
            format!(", where {} sets tls.mode {}", name(mesh, d), mode.as_str())
        }
        _ => format!(", where no tls applies: {}", auto_why(mesh, row, ep)),
    };
    let related = related(mesh, row, ep).into_iter().filter(|(o, _)| *o != subject).collect();
    Cause { subject, field, related, why: format!("{via}{tls}"), fixes: Vec::new() }
}

/// A failing path from clients without sidecar or from ambient clients: no DestinationRule changes what they send.
/// The STRICT PeerAuthentication is what rejects them; the fix offered relaxes it to PERMISSIVE (the other way out,
/// a sidecar or ambient mode for the clients, is named in the reason).
fn outside_clients(mesh: &Mesh, row: &Row, ep: &Endpoint, subject: ObjId, field: &'static [&'static str]) -> Cause {
    let why = match row.client_kind {
        ClientKind::Ambient => {
            "ztunnel tunnels (HBONE) only to ambient endpoints; to a pod with a sidecar it sends the \
                               application's plaintext, and no DestinationRule changes that"
                .to_string()
        }
        _ => {
            "these clients have no sidecar, so they send the application's plaintext whatever a DestinationRule says; \
              inject a sidecar into them (or enroll both sides in ambient mode), or accept plaintext on the port"
                .to_string()
        }
    };
    let mut fixes = Vec::new();
    if let Some(p) = ep.pa_id.filter(|p| *p == subject && !ep.port_level) {
        fixes.push(FixPlan {
            description: format!("set {} to mTLS mode PERMISSIVE, so that it accepts plaintext as well", name(mesh, p)),
            edits: vec![FixEdit::SetField { object: p, field: PA_MODE, value: "PERMISSIVE".to_string() }],
        });
    }
    let related = related(mesh, row, ep).into_iter().filter(|(o, _)| *o != subject).collect();
    Cause { subject, field, related, why, fixes }
}

/// The DestinationRule `d` when it is written for exactly the row's host and applies to every client workload.
fn exact_rule<'m>(mesh: &'m Mesh, row: &Row, d: ObjId) -> Option<&'m DestinationRule> {
    dr_of(mesh, d).filter(|dr| {
        dr.workload_selector.is_none()
            && !dr.host.starts_with('*')
            && resolve_host(&dr.host, &dr.namespace, &mesh.settings.cluster_domain) == row.host
    })
}

/// A DestinationRule edit that makes clients send `mode` on the row's port, placed where Istio's lookup meets it
/// before whatever decides today: the exact-host rule that decides is edited in place; otherwise a new rule for
/// exactly this host goes into the client namespace (when the deciding rule was found there) or into the
/// service's namespace, where it beats wildcard rules of that namespace and every rule of the root namespace.
pub fn targeted(mesh: &Mesh, row: &Row, mode: &str) -> Vec<FixPlan> {
    if row.client_selector.is_some() {
        // Selector rules compete inside one host entry; no placement is well defined.
        return Vec::new();
    }
    let cp = row.client();
    let port = row.port;
    let single_port = service_port_count(mesh, row.service_id) == 1;
    let deciding = cp.policy_dr.or_else(|| cp.drs.first().copied());
    if let Some(dr) = deciding.and_then(|d| exact_rule(mesh, row, d)) {
        let d = dr.obj;
        let on_port = dr.port_level.iter().any(|(p, _)| *p == port) || !single_port;
        let (description, edit) = if on_port {
            (
                format!("set tls.mode {mode} for port {port} in {}", name(mesh, d)),
                FixEdit::SetPortLevelTlsMode { object: d, port, mode: mode.to_string() },
            )
        } else {
            (
                format!("set tls.mode {mode} in {}", name(mesh, d)),
                FixEdit::SetField { object: d, field: DR_TLS_MODE, value: mode.to_string() },
            )
        };
        return vec![FixPlan { description, edits: vec![edit] }];
    }
    let in_client_ns = cp.step == Some(LookupStep::ClientNamespace) && row.client_namespace != OTHER_NAMESPACES;
    let (namespace, after) = match (in_client_ns, deciding) {
        (true, Some(d)) => (row.client_namespace.clone(), d),
        _ => (row.service.namespace.clone(), row.service_id),
    };
    // The new rule replaces the deciding one for this host entirely; keep its top-level tls for the other ports.
    let top = deciding.and_then(|d| dr_of(mesh, d)).and_then(|dr| dr.tls.mode()).map(|m| m.as_str().to_string());
    let (top_mode, ports) =
        if single_port { (Some(mode.to_string()), Vec::new()) } else { (top, vec![(port, mode.to_string())]) };
    let suffix = if mode == "DISABLE" { "plaintext" } else { "mtls" };
    let instead = match deciding {
        Some(d) => {
            format!("it replaces {} for this host only (settings of that rule do not carry over)", name(mesh, d))
        }
        None => "auto mTLS keeps deciding for other services".to_string(),
    };
    vec![FixPlan {
        description: format!(
            "add a DestinationRule for host `{}` in namespace `{namespace}` with tls.mode {mode}{}; {instead}",
            row.host,
            if single_port { String::new() } else { format!(" on port {port}") },
        ),
        edits: vec![FixEdit::AddObject {
            after,
            object: NewObject::PortDestinationRule {
                namespace,
                name_base: format!("{}-{suffix}", row.service.name),
                host: row.host.clone(),
                top_mode,
                ports,
            },
        }],
    }]
}

/// The sentence that says what breaks on a failing endpoint.
fn breaks(mesh: &Mesh, row: &Row, ep: &Endpoint) -> String {
    let target = format!("{}:{}", row.host, row.port);
    let at = endpoint_text(mesh, ep);
    let by = ep.pa_id.map(|p| format!(" by {}", name(mesh, p))).unwrap_or_default();
    match ep.verdict {
        Verdict::FailTlsToStrict => format!(
            "{} originate TLS to {target} ({at}), which is STRICT{by}: its sidecar requires Istio mTLS",
            clients(row)
        ),
        Verdict::FailPlaintextToStrict => format!(
            "{} send plaintext to {target} ({at}), which is STRICT{by}: its sidecar rejects every plaintext connection",
            clients(row)
        ),
        Verdict::FailMtlsToPlaintextOnly => format!(
            "{} send mTLS to {target} ({at}), which is DISABLE{by}: the sidecar passes the TLS bytes to an application that \
             expects plaintext",
            clients(row)
        ),
        _ => {
            let reason = match ep.workload_id.map(|w| &mesh.objects[w]) {
                Some(o) if !ep.captured => {
                    let ann = label(&super::workload::pod_annotations(o), super::workload::EXCLUDE_INBOUND)
                        .map(|_| super::workload::EXCLUDE_INBOUND)
                        .unwrap_or(super::workload::INCLUDE_INBOUND);
                    format!("its sidecar does not capture port {} (`{ann}`)", ep.target_port.unwrap_or_default())
                }
                _ => "it has no sidecar".to_string(),
            };
            format!(
                "{} send mTLS to {target} ({at}), but {reason}: the application receives TLS it cannot read",
                clients(row)
            )
        }
    }
}

/// Findings for the failing endpoints whose verdict `pick` selects, one per (subject object, service port): the
/// first path explains it, the others are counted. A fix is offered only when every grouped path would get the
/// same one (same service port, client policy and placement).
pub fn path_findings(
    mesh: &Mesh,
    posture: &Posture,
    code: &'static str,
    pick: impl Fn(Verdict) -> bool,
) -> Vec<RuleFinding> {
    struct Group<'p> {
        first: (&'p Row, &'p Endpoint),
        field: &'static [&'static str],
        fix_key: FixKey<'p>,
        fix_agrees: bool,
        related: Vec<(ObjId, &'static str)>,
        seen: HashSet<(ObjId, &'static str)>,
        last_row: usize,
        paths: usize,
        shown: Vec<String>,
    }
    let mut groups: BTreeMap<(ObjId, u32), Group> = BTreeMap::new();
    for (ri, row) in posture.rows.iter().enumerate() {
        for ep in row.failing().filter(|e| pick(e.verdict)) {
            let Some((subject, field)) = subject(mesh, row, ep) else {
                continue;
            };
            let key = fix_key(row, ep);
            let g = groups.entry((subject, row.port)).or_insert_with(|| Group {
                first: (row, ep),
                field,
                fix_key: key,
                fix_agrees: true,
                related: Vec::new(),
                seen: HashSet::new(),
                last_row: ri,
                paths: 0,
                shown: Vec::new(),
            });
            g.fix_agrees &= g.fix_key == key;
            for r in related(mesh, row, ep) {
                if r.0 != subject && g.seen.insert(r) {
                    g.related.push(r);
                }
            }
            if g.last_row != ri {
                g.last_row = ri;
                g.paths += 1;
                if g.shown.len() < 5 {
                    g.shown.push(format!("{} -> {}:{}", clients(row), row.host, row.port));
                }
            }
        }
    }
    groups
        .into_iter()
        .filter_map(|((subject, port), g)| {
            let (row, ep) = g.first;
            let cause = explain(mesh, row, ep)?;
            let mut message = format!("{}. {}", breaks(mesh, row, ep), upper_first(&cause.why));
            if g.paths > 0 {
                message.push_str(&format!(". Also failing: {}", g.shown.join("; ")));
                if g.paths > g.shown.len() {
                    message.push_str(&format!(" and {} more", g.paths - g.shown.len()));
                }
            }
            if !message.ends_with('.') {
                message.push('.');
            }
            Some(RuleFinding {
                code,
                severity: Severity::Error,
                message,
                subject,
                field: g.field,
                port: Some(port),
                related: g.related,
                fixes: if g.fix_agrees { cause.fixes } else { Vec::new() },
            })
        })
        .collect()
}

/// What a fix for one failing endpoint depends on: paths with equal keys get the same fix.
type FixKey<'p> =
    (ObjId, u32, &'p super::client::ClientPolicy, Option<&'p str>, bool, Verdict, Option<ObjId>, ClientKind);

fn fix_key<'p>(row: &'p Row, ep: &'p Endpoint) -> FixKey<'p> {
    let placement = (row.client().step == Some(LookupStep::ClientNamespace)).then_some(row.client_namespace.as_str());
    let wants = if matches!(ep.verdict, Verdict::FailPlaintextToStrict | Verdict::FailTlsToStrict) {
        ep.verdict
    } else {
        Verdict::FailMtlsToNoSidecar
    };
    let auto_subject =
        if matches!(row.client().tls, ClientTls::Explicit { .. }) { None } else { ep.pa_id.or(ep.workload_id) };
    (
        row.service_id,
        row.port,
        row.client(),
        placement,
        row.client_selector.is_some(),
        wants,
        auto_subject,
        row.client_kind,
    )
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
#[path = "remedy_mutation2_tests.rs"]
mod remedy_mutation2_tests;

#[cfg(test)]
#[path = "remedy_mutation5_tests.rs"]
mod remedy_mutation5_tests;

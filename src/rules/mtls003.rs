//! MTLS003: a change lowers the mesh's posture: a server mode drops (STRICT > PERMISSIVE > DISABLE > no sidecar)
//! or an mTLS client path turns into plaintext.
//!
//! This rule compares two snapshots, so it has no single-snapshot check: [`RULE`]'s `check` returns nothing (it
//! is registered for its metadata: title, help, docs) and a change review calls [`downgrades`]. Each downgrade is
//! reported once, at the widest scope that explains it (mesh > namespace > workload > port): workloads that only
//! inherit a lowered namespace mode are covered by the namespace's finding.

use super::{PA_MODE, PA_PORT_LEVEL, Rule, RuleFinding};
use crate::context::MeshContext;
use crate::finding::{ObjectRef, Severity, Side};
use crate::mesh::{Mesh, ObjId, PaMode, TlsMode};
use crate::posture::client::ClientTls;
use crate::posture::server::{namespace_mode, rank};
use crate::posture::verdict::AutoReason;
use crate::posture::workload::{INJECT_KEY, Sidecar, annotations_field, label, labels_field};
use crate::posture::{Posture, PostureScope, Row, Sends, Verdict, WorkloadPosture, remedy};
use std::collections::{BTreeMap, BTreeSet};

pub const RULE: Rule = Rule {
    code: "MTLS003",
    title: "Posture downgrade",
    default_severity: Severity::Warning,
    help: "The change lowers a server's mTLS mode (STRICT > PERMISSIVE > DISABLE, or removes the sidecar) or makes a \
           client path that used mTLS send plaintext. The finding sits on the object at the widest scope that explains \
           it (mesh, namespace, workload, port). Confirm the downgrade is intended.",
    check: no_single_snapshot_check,
    reads: super::Reads::Mesh,
};

/// MTLS003 needs a base and a head: on one snapshot there is nothing to compare. See [`downgrades`].
fn no_single_snapshot_check(_mesh: &MeshContext) -> Vec<RuleFinding> {
    Vec::new()
}

/// A downgrade finding. Every `ObjId` in `finding` (subject and related) indexes the mesh of `side`: `Head` when
/// the object exists after the change, `Base` when the change deleted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downgrade {
    pub side: Side,
    pub finding: RuleFinding,
}

impl Downgrade {
    /// The finding's subject, from the mesh of its side (`base` or `head`).
    pub fn subject_ref(&self, base: &Mesh, head: &Mesh) -> ObjectRef {
        let m = if self.side == Side::Base { base } else { head };
        m.object_ref(self.finding.subject)
    }
}

/// Server level of a posture: no sidecar (or an uncaptured port) is below DISABLE.
fn level(sidecar: Sidecar, captured: bool, mode: PaMode) -> u8 {
    if sidecar == Sidecar::No || !captured { 0 } else { rank(mode) }
}

fn level_text(sidecar: Sidecar, captured: bool, mode: PaMode) -> String {
    match (sidecar, captured) {
        (Sidecar::No, _) => "no sidecar".to_string(),
        (_, false) => "not captured by the sidecar".to_string(),
        _ => mode.as_str().to_string(),
    }
}

/// Finds an object by reference in a mesh.
fn find(mesh: &Mesh, r: &ObjectRef) -> Option<ObjId> {
    (0..mesh.objects.len()).find(|i| {
        mesh.objects[*i].kind == r.kind && mesh.objects[*i].name == r.name && mesh.namespaces[*i] == r.namespace
    })
}

/// What a downgrade was found from: the mesh-wide mode, one namespace's mode, one workload's posture, one client
/// path's rows.
/// A fix verification that changes only some services' rows and some namespaces' workloads recomputes the
/// downgrades of those ([`downgrades_within`]) and keeps the snapshot's others ([`Unit::outside`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unit {
    /// The mesh-wide mode (always recomputed).
    MeshMode,
    /// The namespace-wide mode of this namespace.
    NamespaceMode(String),
    /// The workload posture of a workload in this namespace.
    Workload(String),
    /// The client paths to the service (namespace, name, host).
    Path(String, String, String),
}

impl Unit {
    /// Whether an edit whose posture scope is `scope` leaves this unit's downgrades as they were.
    pub fn outside(&self, scope: &PostureScope) -> bool {
        match self {
            Unit::MeshMode => false,
            Unit::NamespaceMode(ns) => !scope.namespaces.contains(ns),
            Unit::Workload(ns) => !scope.namespaces.contains(ns),
            Unit::Path(ns, name, host) => !scope.includes_parts(ns, name, host),
        }
    }
}

/// A downgrade with the units it was found from, by (side, subject, port).
type Found = BTreeMap<(Side, ObjId, Option<u32>), (Downgrade, BTreeSet<Unit>)>;

struct Collector<'a> {
    base: &'a Mesh,
    head: &'a Mesh,
    out: Found,
    /// The unit the findings being added come from.
    unit: Unit,
}

impl Collector<'_> {
    /// Records a finding; a second one on the same subject and port extends the message. `related` holds head
    /// objects; for a base-side finding they are mapped to the base mesh (and dropped when absent there).
    fn add(
        &mut self,
        side: Side,
        subject: ObjId,
        field: &'static [&'static str],
        port: Option<u32>,
        message: String,
        related: Vec<(ObjId, &'static str)>,
    ) {
        let related = match side {
            Side::Head => related,
            Side::Base => related
                .into_iter()
                .filter_map(|(id, role)| Some((find(self.base, &self.head.object_ref(id))?, role)))
                .collect(),
        };
        let key = (side, subject, port);
        if let Some((d, units)) = self.out.get_mut(&key) {
            d.finding.message.push_str(&format!(" Also: {message}."));
            units.insert(self.unit.clone());
            return;
        }
        let finding = RuleFinding {
            code: RULE.code,
            severity: Severity::Warning,
            message: format!("{message}."),
            subject,
            field,
            port,
            related,
            fixes: Vec::new(),
        };
        self.out.insert(key, (Downgrade { side, finding }, BTreeSet::from([self.unit.clone()])));
    }

    /// The head object of a base object reference when it still exists, else the base object.
    fn surviving(&self, base_id: ObjId) -> (Side, ObjId) {
        match find(self.head, &self.base.object_ref(base_id)) {
            Some(h) => (Side::Head, h),
            None => (Side::Base, base_id),
        }
    }
}

/// The downgrades a change makes, from the postures and meshes of both sides. The findings carry no fixes: a
/// downgrade may be intended.
pub fn downgrades(before: &Posture, after: &Posture, base_mesh: &Mesh, head_mesh: &Mesh) -> Vec<Downgrade> {
    downgrades_within(before, after, base_mesh, head_mesh, None).into_iter().map(|(d, _)| d).collect()
}

/// [`downgrades`], each with the units it was found from; with `scope`, only those of the mesh-wide mode, of the
/// namespace modes and workloads of the scope's namespaces and of the client paths to the scope's services (`after` may then be
/// a posture of that scope only). With the snapshot's downgrades of the units [`Unit::outside`] the scope, these
/// are the downgrades of an edit with that posture scope.
pub fn downgrades_within(
    before: &Posture,
    after: &Posture,
    base_mesh: &Mesh,
    head_mesh: &Mesh,
    scope: Option<&PostureScope>,
) -> Vec<(Downgrade, BTreeSet<Unit>)> {
    let mut c = Collector { base: base_mesh, head: head_mesh, out: BTreeMap::new(), unit: Unit::MeshMode };
    let root = head_mesh.settings.root_namespace.clone();

    // Mesh level.
    let (mb, ma) = (base_mesh.mesh_mode(), head_mesh.mesh_mode());
    let mesh_down = rank(ma) < rank(mb);
    if mesh_down {
        let subject =
            head_mesh.mesh_pa().map(|p| (Side::Head, p.obj)).or(base_mesh.mesh_pa().map(|p| (Side::Base, p.obj)));
        if let Some((side, id)) = subject {
            let msg = format!(
                "the mesh-wide mTLS mode drops from {} to {}: every namespace without its own PeerAuthentication follows it",
                mb.as_str(),
                ma.as_str()
            );
            c.add(side, id, PA_MODE, None, msg, Vec::new());
        }
    }

    // Namespace level: namespaces with a namespace-wide PA on either side (under a scope, of the scope's
    // namespaces: only their PeerAuthentications changed, and the mesh-wide mode did not).
    let ns_lowered = |ns: &str| rank(namespace_mode(head_mesh, ns).0) < rank(namespace_mode(base_mesh, ns).0);
    let namespaces: BTreeSet<String> = match scope {
        None => base_mesh
            .peer_authentications
            .iter()
            .chain(&head_mesh.peer_authentications)
            .filter(|p| p.selector.is_none() && p.namespace != root)
            .map(|p| p.namespace.clone())
            .collect(),
        // (Never the root namespace, whose PeerAuthentications have no scope; a namespace without a namespace-wide
        // PA on either side follows the unchanged mesh-wide mode, so it is not lowered.)
        Some(sc) => sc.namespaces.iter().cloned().collect(),
    };
    for ns in &namespaces {
        if !ns_lowered(ns) {
            continue;
        }
        c.unit = Unit::NamespaceMode(ns.clone());
        let own_after = head_mesh.namespace_pa(ns).filter(|p| p.mode != PaMode::Unset);
        if mesh_down && own_after.is_none() {
            continue;
        }
        let subject = head_mesh
            .namespace_pa(ns)
            .map(|p| (Side::Head, p.obj))
            .or(base_mesh.namespace_pa(ns).map(|p| (Side::Base, p.obj)));
        if let Some((side, id)) = subject {
            let msg = format!(
                "namespace `{ns}` drops from {} to {}: its workloads without their own PeerAuthentication follow it",
                namespace_mode(base_mesh, ns).0.as_str(),
                namespace_mode(head_mesh, ns).0.as_str()
            );
            c.add(side, id, PA_MODE, None, msg, Vec::new());
        }
    }

    // Workload and port level.
    let in_scope = |ns: &str| scope.is_none_or(|sc| sc.namespaces.contains(ns));
    for wa in after.workloads.iter().filter(|w| in_scope(&w.workload.namespace)) {
        let Some(wb) = before.workload(&wa.workload) else {
            continue;
        };
        c.unit = Unit::Workload(wa.workload.namespace.clone());
        workload_downgrade(&mut c, wb, wa, &ns_lowered);
    }

    // Client paths that used mTLS and now send plaintext.
    client_downgrades(&mut c, before, after, &ns_lowered, scope);

    c.out.into_values().collect()
}

fn workload_downgrade(
    c: &mut Collector,
    wb: &WorkloadPosture,
    wa: &WorkloadPosture,
    ns_lowered: &dyn Fn(&str) -> bool,
) {
    let head = c.head;
    let w = &wa.workload;
    let kind = head.objects[wa.obj].kind.clone();
    let lb = level(wb.sidecar, true, wb.mode);
    let la = level(wa.sidecar, true, wa.mode);
    let mut workload_down = false;
    if la < lb {
        workload_down = true;
        if wa.sidecar == Sidecar::No && wb.sidecar != Sidecar::No {
            let (side, id, field) = sidecar_subject(c, wa, &kind);
            let msg = format!(
                "{w} loses its sidecar ({}): its ports stop enforcing {} and accept plaintext only",
                wa.sidecar_reason,
                wb.mode.as_str()
            );
            c.add(side, id, field, None, msg, vec![(wa.obj, "workload")]);
        } else {
            let own = wa
                .policy
                .workload_pa
                .filter(|p| head.peer_authentications.iter().any(|x| x.obj == *p && x.mode != PaMode::Unset));
            let implied = own.is_none() && ns_lowered(&w.namespace);
            if !implied {
                let subject = match (own.or(wa.policy.workload_pa), wb.policy.workload_pa) {
                    (Some(h), _) => (Side::Head, h, PA_MODE),
                    (None, Some(b)) => {
                        let (s, id) = c.surviving(b);
                        (s, id, PA_MODE)
                    }
                    (None, None) => (Side::Head, wa.obj, labels_field(&kind)),
                };
                let msg = format!("{w} drops from {} to {}", wb.mode.as_str(), wa.mode.as_str());
                c.add(subject.0, subject.1, subject.2, None, msg, vec![(wa.obj, "workload")]);
            }
        }
    }
    for pa in &wa.ports {
        let Some(pb) = wb.ports.iter().find(|p| p.port == pa.port) else {
            continue;
        };
        let (b, a) = (level(wb.sidecar, pb.captured, pb.mode), level(wa.sidecar, pa.captured, pa.mode));
        if a >= b || wa.sidecar == Sidecar::No {
            continue;
        }
        let own_entry = wa.policy.port_level.iter().any(|(p, _)| *p == pa.port);
        if workload_down && !own_entry && pa.captured == pb.captured {
            continue;
        }
        let msg = format!(
            "port {} of {w} drops from {} to {}",
            pa.port,
            level_text(wb.sidecar, pb.captured, pb.mode),
            level_text(wa.sidecar, pa.captured, pa.mode)
        );
        let (side, id, field) = if pb.captured && !pa.captured {
            (Side::Head, wa.obj, annotations_field(&kind))
        } else if let Some(h) = wa.policy.workload_pa.filter(|_| own_entry) {
            (Side::Head, h, PA_PORT_LEVEL)
        } else if let Some(b) = wb.policy.workload_pa {
            let (s, id) = c.surviving(b);
            (s, id, PA_PORT_LEVEL)
        } else {
            (Side::Head, wa.obj, labels_field(&kind))
        };
        c.add(side, id, field, Some(pa.port), msg, vec![(wa.obj, "workload")]);
    }
}

/// Where a lost sidecar comes from: the Namespace object when its labels changed, else the workload (its
/// injection label when it has one, else its annotations).
fn sidecar_subject(c: &Collector, wa: &WorkloadPosture, kind: &str) -> (Side, ObjId, &'static [&'static str]) {
    let ns = &wa.workload.namespace;
    let find_ns =
        |m: &Mesh| (0..m.objects.len()).find(|i| m.objects[*i].kind == "Namespace" && &m.objects[*i].name == ns);
    if let (Some(h), Some(b)) = (find_ns(c.head), find_ns(c.base))
        && c.head.objects[h].labels != c.base.objects[b].labels
    {
        return (Side::Head, h, &["metadata", "labels"]);
    }
    let o = &c.head.objects[wa.obj];
    let pod_labels = o.tree.path(o.root, labels_field(kind)).map(|l| o.tree.string_map(l)).unwrap_or_default();
    let field = match label(&pod_labels, INJECT_KEY) {
        Some(_) => labels_field(kind),
        None => annotations_field(kind),
    };
    (Side::Head, wa.obj, field)
}

fn all_mtls(r: &Row) -> bool {
    r.endpoints.iter().all(|e| e.verdict == Verdict::Mtls)
}

fn client_downgrades(
    c: &mut Collector,
    before: &Posture,
    after: &Posture,
    ns_lowered: &dyn Fn(&str) -> bool,
    scope: Option<&PostureScope>,
) {
    // The scope's rows of the snapshot's posture through its rows by namespace (it is asked for many scopes); those
    // of `after` (a posture of the scope, or a whole one) in posture order, the scope asked once per service.
    let (bi, ai) = (before.index_in(scope), after.index_in_tested(scope));
    for key in crate::posture::keys_of_both(before, &bi, after, &ai) {
        let (Some(b), Some(a)) = (before.resolve_in(&bi, key), after.resolve_in(&ai, key)) else {
            continue;
        };
        c.unit = Unit::Path(key.0.to_string(), key.1.to_string(), a.host.clone());
        if !all_mtls(b) || !a.endpoints.iter().any(|e| e.sends == Sends::Plaintext) {
            continue;
        }
        let path = format!("{} -> {}:{}", remedy::clients_of(key.3, key.4), a.host, a.port);
        let subject = match (&a.client().tls, a.client().policy_dr) {
            (ClientTls::Explicit { .. } | ClientTls::AutoPortDropsTls { .. }, Some(d)) => {
                Some((Side::Head, d, remedy::client_field(&a.client().tls)))
            }
            _ => {
                let reasons: Vec<AutoReason> =
                    a.endpoints.iter().filter(|e| e.sends == Sends::Plaintext).filter_map(|e| e.auto).collect();
                // Server-side causes (namespace DISABLE, lost sidecar, DISABLE port) are reported at their own scope.
                let server_side = reasons
                    .iter()
                    .any(|r| matches!(r, AutoReason::NoSidecar | AutoReason::PortDisable | AutoReason::Passthrough))
                    || (reasons.contains(&AutoReason::NamespaceDisable) && ns_lowered(&a.service.namespace));
                match (server_side, b.client().policy_dr) {
                    (false, Some(d)) => {
                        let (side, id) = c.surviving(d);
                        Some((side, id, remedy::client_field(&b.client().tls)))
                    }
                    _ => None,
                }
            }
        };
        let Some((side, id, field)) = subject else {
            continue;
        };
        let explicit = matches!(&a.client().tls, ClientTls::Explicit { mode: TlsMode::Disable, .. });
        let how = if explicit {
            "sends plaintext by DestinationRule"
        } else {
            "falls back to auto mTLS, which sends plaintext"
        };
        let msg = format!("{path} used mTLS and now {how} ({})", a.client_tls);
        c.add(side, id, field, None, msg, vec![(a.service_id, "Service")]);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::manifest::{load_file, yaml::Limits};
    use crate::posture::compute;
    use crate::posture::fixtures::{deployment, injected, service, workload_pa};
    use crate::rules::testing::{dr, pa};

    fn build(y: &str) -> Mesh {
        let f = load_file("t.yaml", y.as_bytes(), &Limits::default());
        Mesh::build(&[f], Default::default(), Default::default())
    }

    fn run(base: &str, head: &str) -> Vec<(Side, String, String, Option<u32>)> {
        let (bm, hm) = (build(base), build(head));
        let mut v: Vec<_> = downgrades(&compute(&bm), &compute(&hm), &bm, &hm)
            .into_iter()
            .map(|d| {
                let m = if d.side == Side::Head { &hm } else { &bm };
                (
                    d.side,
                    m.objects[d.finding.subject].kind.clone(),
                    m.objects[d.finding.subject].name.clone(),
                    d.finding.port,
                )
            })
            .collect();
        v.sort();
        v
    }

    fn app() -> String {
        injected("shop") + &service("shop", "cart", &[(80, "8080")]) + &deployment("shop", "cart", &[8080], &[])
    }

    #[test]
    fn namespace_downgrade_is_reported_once_on_the_namespace_pa() {
        let base = app() + &pa("shop", "ns", Some("STRICT"), false);
        let head = app() + &pa("shop", "ns", Some("PERMISSIVE"), false);
        assert_eq!(run(&base, &head), vec![(Side::Head, "PeerAuthentication".into(), "ns".into(), None)]);
    }

    #[test]
    fn mesh_downgrade_covers_inheriting_namespaces_and_client_paths() {
        let base = app() + &pa("istio-system", "mesh", Some("STRICT"), false);
        let head = app() + &pa("istio-system", "mesh", Some("DISABLE"), false);
        assert_eq!(run(&base, &head), vec![(Side::Head, "PeerAuthentication".into(), "mesh".into(), None)]);
        // Said once, as the mesh-wide mode: the root namespace is not also a namespace that drops.
        let (bm, hm) = (build(&base), build(&head));
        let found = downgrades(&compute(&bm), &compute(&hm), &bm, &hm);
        assert_eq!(found.len(), 1);
        let message = &found[0].finding.message;
        assert!(message.starts_with("the mesh-wide mTLS mode drops from STRICT to DISABLE"), "{message}");
        assert!(!message.contains("Also") && !message.contains("istio-system"), "{message}");
    }

    #[test]
    fn deleted_workload_pa_is_reported_on_the_base_side() {
        let base = app() + &workload_pa("shop", "cart", "cart", "STRICT", &[]);
        assert_eq!(run(&base, &app()), vec![(Side::Base, "PeerAuthentication".into(), "cart".into(), None)]);
    }

    #[test]
    fn port_level_downgrade() {
        let base = app() + &workload_pa("shop", "cart", "cart", "STRICT", &[]);
        let head = app() + &workload_pa("shop", "cart", "cart", "STRICT", &[("8080", "PERMISSIVE")]);
        assert_eq!(run(&base, &head), vec![(Side::Head, "PeerAuthentication".into(), "cart".into(), Some(8080))]);
    }

    #[test]
    fn lost_sidecar_points_at_the_workload() {
        let head = injected("shop")
            + &service("shop", "cart", &[(80, "8080")])
            + &deployment("shop", "cart", &[8080], &[("sidecar.istio.io/inject", "false")]);
        assert_eq!(run(&app(), &head), vec![(Side::Head, "Deployment".into(), "cart".into(), None)]);
    }

    #[test]
    fn client_path_to_plaintext_points_at_the_dr() {
        let base = app() + &dr("shop", "cart", "cart", Some("ISTIO_MUTUAL"));
        let head = app() + &dr("shop", "cart", "cart", Some("DISABLE"));
        assert_eq!(run(&base, &head), vec![(Side::Head, "DestinationRule".into(), "cart".into(), None)]);
    }

    #[test]
    fn upgrades_are_not_reported() {
        let base = app() + &pa("shop", "ns", Some("PERMISSIVE"), false);
        let head = app() + &pa("shop", "ns", Some("STRICT"), false);
        assert!(run(&base, &head).is_empty());
        assert!(run(&app(), &app()).is_empty());
        // A namespace-wide mode that stays as it was is no downgrade (nor, for its clients, a server-side cause).
        assert!(run(&head, &head).is_empty());
        assert!(run(&base, &base).is_empty());
    }
}

#[cfg(test)]
#[path = "mtls003_mutation2_tests.rs"]
mod mtls003_mutation2_tests;

#[cfg(test)]
#[path = "mtls003_mutation4_tests.rs"]
mod mtls003_mutation4_tests;

#[cfg(test)]
#[path = "mtls003_mutation5_tests.rs"]
mod mtls003_mutation5_tests;

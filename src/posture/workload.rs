//! Workloads, Services and Namespaces typed from the mesh's objects, with Istio's sidecar-injection decision.
//!
//! The injection decision follows the webhook configuration of a default Istio install
//! (`istiod/templates/mutatingwebhook.yaml`) and the injector's own check (`pkg/kube/inject/inject.go`
//! `injectRequired`): the webhooks only see pods of namespaces labelled `istio-injection=enabled` or
//! `istio.io/rev`, or pods that opt in with the *label* `sidecar.istio.io/inject: "true"` (or `istio.io/rev`)
//! in namespaces without either label; the injector then reads the label, else the annotation.

use crate::manifest::Object;
use crate::mesh::{Mesh, ObjId};
use crate::settings::{IstioVersion, parse_bool};
use serde::Serialize;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};

/// Pod label (preferred) or annotation that opts a pod in or out of injection.
pub const INJECT_KEY: &str = "sidecar.istio.io/inject";
/// Namespace or pod label naming an Istio revision.
pub const REV_LABEL: &str = "istio.io/rev";
/// Namespace label of the default injector.
pub const INJECTION_LABEL: &str = "istio-injection";
/// Pod annotation listing inbound ports the sidecar does not capture.
pub const EXCLUDE_INBOUND: &str = "traffic.sidecar.istio.io/excludeInboundPorts";
/// Pod annotation listing the only inbound ports the sidecar captures (`*` = all).
pub const INCLUDE_INBOUND: &str = "traffic.sidecar.istio.io/includeInboundPorts";
/// Namespace or pod label of ambient mode (`ambient`; a pod's `none` opts out).
pub const AMBIENT_LABEL: &str = "istio.io/dataplane-mode";
/// Pod label the injector sets on pods with a sidecar; auto mTLS reads it from the endpoint (`istio`: mTLS).
pub const TLS_MODE_LABEL: &str = "security.istio.io/tlsMode";
/// Pod annotation the injector writes on the pods it injected.
pub const SIDECAR_STATUS: &str = "sidecar.istio.io/status";
/// Name of the sidecar container.
pub const PROXY_CONTAINER: &str = "istio-proxy";
/// Namespaces the injector never touches (`inject.IgnoredNamespaces`).
const IGNORED_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease", "local-path-storage"];

/// Whether a workload runs an Istio sidecar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sidecar {
    Yes,
    No,
    /// The tree does not say (typically: the Namespace object is not in it). Posture computes as if the sidecar
    /// were there and never derives a failure from its absence.
    Unknown,
}

/// What a workload is as a client: what its traffic leaves the pod through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientKind {
    /// A sidecar (or a pod whose sidecar the tree does not decide): DestinationRules and auto mTLS apply.
    Sidecar,
    /// No sidecar and not captured by ztunnel: the application's own bytes, plaintext whatever a rule says.
    NoSidecar,
    /// Captured by ztunnel (ambient mode): HBONE to ambient endpoints, plaintext to anything else.
    Ambient,
}

impl ClientKind {
    pub const ALL: [ClientKind; 3] = [ClientKind::Sidecar, ClientKind::NoSidecar, ClientKind::Ambient];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Sidecar => "sidecar",
            ClientKind::NoSidecar => "no sidecar",
            ClientKind::Ambient => "ambient",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Which inbound ports the sidecar captures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capture {
    /// `includeInboundPorts` as a list; `None` means every port (`*`, the default).
    pub include: Option<Vec<u32>>,
    pub exclude: Vec<u32>,
}

impl Capture {
    /// True when traffic to `port` goes through the sidecar.
    pub fn captures(&self, port: u32) -> bool {
        self.include.as_ref().is_none_or(|l| l.contains(&port)) && !self.exclude.contains(&port)
    }
}

/// A workload: anything with a pod template (or a Pod).
#[derive(Debug, Clone)]
pub struct Workload {
    pub obj: ObjId,
    pub namespace: String,
    /// Pod-template labels.
    pub labels: Vec<(String, String)>,
    /// Container ports: (name, number).
    pub container_ports: Vec<(Option<String>, u32)>,
    pub host_network: bool,
    pub sidecar: Sidecar,
    /// Why the sidecar is (not) there, for messages.
    pub sidecar_reason: String,
    pub capture: Capture,
    /// Captured by ztunnel (ambient mode); never together with a sidecar.
    pub ambient: bool,
    /// The endpoint's TLS mode as auto mTLS reads it: the pod label `security.istio.io/tlsMode` (`istio` or not),
    /// which the injector sets on the pods it injects; without the label, whether a sidecar is there.
    pub tls_mode_istio: bool,
}

impl Workload {
    /// The workload as a client.
    pub fn client_kind(&self) -> ClientKind {
        if self.ambient {
            ClientKind::Ambient
        } else if self.sidecar == Sidecar::No {
            ClientKind::NoSidecar
        } else {
            ClientKind::Sidecar
        }
    }

    /// Number of a container port by name.
    pub fn container_port(&self, name: &str) -> Option<u32> {
        self.container_ports.iter().find(|(n, _)| n.as_deref() == Some(name)).map(|(_, p)| *p)
    }

    /// True when the pod labels carry every pair of `selector`.
    pub fn matches(&self, selector: &[(String, String)]) -> bool {
        selector.iter().all(|(k, v)| label(&self.labels, k) == Some(v.as_str()))
    }
}

/// A Service's `targetPort`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetPort {
    Number(u32),
    /// A container port name, resolved per workload.
    Name(String),
}

/// One TCP port of a Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePort {
    pub port: u32,
    pub name: Option<String>,
    pub target: TargetPort,
    /// The protocol Istio gives the port (`appProtocol`, else the name's prefix).
    pub protocol: super::routes::Protocol,
}

impl ServicePort {
    /// The target port on a workload; `None` when a named target port is not declared by its containers
    /// (Kubernetes then makes no endpoint for it).
    pub fn target_on(&self, w: &Workload) -> Option<u32> {
        match &self.target {
            TargetPort::Number(n) => Some(*n),
            TargetPort::Name(name) => w.container_port(name),
        }
    }
}

/// A Kubernetes Service.
#[derive(Debug, Clone)]
pub struct Service {
    pub obj: ObjId,
    pub namespace: String,
    pub name: String,
    /// `<name>.<namespace>.svc.<clusterDomain>`.
    pub host: String,
    /// Non-empty `spec.selector`; `None` means endpoints are managed elsewhere.
    pub selector: Option<Vec<(String, String)>>,
    /// TCP ports only: Istio does not intercept UDP or SCTP.
    pub ports: Vec<ServicePort>,
    /// `clusterIP: None`: Istio treats it as passthrough when inferring auto mTLS.
    pub headless: bool,
}

/// True for the kinds the inventory types (Services, workloads, Namespaces): a file without them can be spliced
/// into a mesh without retyping the inventory.
pub fn is_inventory_kind(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Service"
            | "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "Pod"
            | "Job"
            | "CronJob"
            | "Rollout"
    )
}

/// Every Service, workload and Namespace of the mesh, indexed for endpoint lookups.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub workloads: Vec<Workload>,
    pub services: Vec<Service>,
    /// Namespace objects by name.
    pub namespace_objects: HashMap<String, ObjId>,
    /// Workload indices by the hash of (namespace, label key, label value): services are matched through their
    /// first selector pair, so endpoint lookup never scans a whole namespace. Candidates are checked in full.
    by_label: HashMap<u64, Vec<usize>>,
    /// Workload indices by namespace.
    by_namespace: HashMap<String, Vec<usize>>,
    /// The client side of posture rows, derived once per inventory ([`Inventory::clients`]).
    clients: std::sync::OnceLock<std::sync::Arc<Clients>>,
}

/// What posture rows read of the client workloads, the same for every row and every re-analysis that keeps the
/// inventory: workloads by namespace and client kind, counts, and the Services in row order.
#[derive(Debug, Default)]
pub struct Clients {
    /// Workload indices per namespace and client kind.
    pub kinds_by_namespace: HashMap<String, [Vec<usize>; 3]>,
    /// Workload indices per client kind, and their counts.
    pub kind_workloads: [Vec<usize>; 3],
    pub kind_totals: [usize; 3],
    /// How many namespaces hold workloads of each client kind.
    pub kind_namespaces: [usize; 3],
    /// Namespaces that hold workloads.
    pub namespaces: std::collections::BTreeSet<String>,
    /// Service indices sorted by (namespace, name): the order of posture rows.
    pub services_sorted: Vec<usize>,
    /// Service indices by namespace.
    pub services_by_namespace: HashMap<String, Vec<usize>>,
    /// Every Service's name and namespace are dot-free DNS labels, so its host `name.namespace.svc.<domain>`
    /// says its namespace ([`crate::posture::PostureScope`] may then find a wildcard host's namespace).
    pub plain_hosts: bool,
}

impl Inventory {
    /// The client tables of posture rows (computed once per inventory; shared by every posture computed on it).
    pub fn clients(&self) -> std::sync::Arc<Clients> {
        self.clients
            .get_or_init(|| {
                let mut c = Clients::default();
                for (i, w) in self.workloads.iter().enumerate() {
                    let k = w.client_kind().index();
                    c.kinds_by_namespace.entry(w.namespace.clone()).or_default()[k].push(i);
                    c.kind_workloads[k].push(i);
                }
                c.kind_totals = [c.kind_workloads[0].len(), c.kind_workloads[1].len(), c.kind_workloads[2].len()];
                for v in c.kinds_by_namespace.values() {
                    for (count, list) in c.kind_namespaces.iter_mut().zip(v) {
                        *count += usize::from(!list.is_empty());
                    }
                }
                c.namespaces = self.workload_namespaces();
                c.services_sorted = (0..self.services.len()).collect();
                c.services_sorted.sort_by(|a, b| {
                    let (a, b) = (&self.services[*a], &self.services[*b]);
                    (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name))
                });
                for (i, s) in self.services.iter().enumerate() {
                    c.services_by_namespace.entry(s.namespace.clone()).or_default().push(i);
                }
                c.plain_hosts = self.services.iter().all(|s| !s.name.contains('.') && !s.namespace.contains('.'));
                std::sync::Arc::new(c)
            })
            .clone()
    }

    /// The same inventory after a splice replaced `old_len` objects at `start` with `new_len` others, none of
    /// them of an inventory kind: object ids past the spliced range move by the difference.
    pub fn shifted(&self, start: usize, old_len: usize, new_len: usize) -> Inventory {
        let mut inv = self.clone();
        let shift = |id: &mut ObjId| {
            if *id >= start + old_len {
                *id = *id + new_len - old_len;
            }
        };
        inv.workloads.iter_mut().for_each(|w| shift(&mut w.obj));
        inv.services.iter_mut().for_each(|s| shift(&mut s.obj));
        inv.namespace_objects.values_mut().for_each(shift);
        inv
    }
}

/// The value of a key in a label-like list (the last occurrence, as Kubernetes decodes duplicates).
pub fn label<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Field paths of the pod template under each workload kind (rules point at its labels and annotations).
pub fn pod_template_path(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => &[],
        "CronJob" => &["spec", "jobTemplate", "spec", "template"],
        _ => &["spec", "template"],
    }
}

/// Field path of a workload's pod annotations.
pub fn annotations_field(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => &["metadata", "annotations"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "metadata", "annotations"],
        _ => &["spec", "template", "metadata", "annotations"],
    }
}

/// A workload object's pod annotations.
pub fn pod_annotations(o: &Object) -> Vec<(String, String)> {
    o.tree.path(o.root, annotations_field(&o.kind)).map(|a| o.tree.string_map(a)).unwrap_or_default()
}

/// Field path of a workload's pod labels.
pub fn labels_field(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => &["metadata", "labels"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "metadata", "labels"],
        _ => &["spec", "template", "metadata", "labels"],
    }
}

/// True for the kinds and API groups read as workloads.
pub fn is_workload(kind: &str, api_version: &str) -> bool {
    let group = api_version.split_once('/').map(|(g, _)| g).unwrap_or("");
    match kind {
        "Pod" => api_version == "v1",
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => group == "apps" || group == "extensions",
        "Job" | "CronJob" => group == "batch",
        "Rollout" => group == "argoproj.io",
        _ => false,
    }
}

fn label_key(namespace: &str, key: &str, value: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (namespace, key, value).hash(&mut h);
    h.finish()
}

/// Parses a port list annotation (`"8080, 9090"`); `*` means every port (`None`).
fn port_list(text: &str) -> Option<Vec<u32>> {
    if text.trim() == "*" {
        return None;
    }
    Some(text.split(',').filter_map(|p| p.trim().parse::<u32>().ok()).collect())
}

impl Inventory {
    /// Types every Namespace, Service and workload of the mesh.
    pub fn build(mesh: &Mesh) -> Inventory {
        Inventory::build_in(mesh, |_| true)
    }

    /// Types the Services and workloads of the namespaces `keep` accepts (and every Namespace object).
    pub fn build_in(mesh: &Mesh, keep: impl Fn(&str) -> bool) -> Inventory {
        let mut inv = Inventory::default();
        for (id, o) in mesh.objects.iter().enumerate() {
            if o.kind == "Namespace" && o.api_version == "v1" {
                inv.namespace_objects.entry(o.name.clone()).or_insert(id);
            }
        }
        for (id, o) in mesh.objects.iter().enumerate() {
            if !keep(&mesh.namespaces[id]) {
                continue;
            }
            if o.kind == "Service" && o.api_version == "v1" {
                if let Some(s) = type_service(mesh, id) {
                    inv.services.push(s);
                }
            } else if is_workload(&o.kind, &o.api_version)
                && let Some(w) = inv.type_workload(mesh, id)
            {
                let i = inv.workloads.len();
                for (k, v) in &w.labels {
                    inv.by_label.entry(label_key(&w.namespace, k, v)).or_default().push(i);
                }
                inv.by_namespace.entry(w.namespace.clone()).or_default().push(i);
                inv.workloads.push(w);
            }
        }
        inv
    }

    /// Labels of a namespace, when its Namespace object is in the tree.
    pub fn namespace_labels<'m>(&self, mesh: &'m Mesh, namespace: &str) -> Option<&'m [(String, String)]> {
        self.namespace_objects.get(namespace).map(|id| mesh.objects[*id].labels.as_slice())
    }

    fn type_workload(&self, mesh: &Mesh, id: ObjId) -> Option<Workload> {
        let o = &mesh.objects[id];
        let t = &o.tree;
        let template = t.path(o.root, pod_template_path(&o.kind))?;
        if !t.is_map(template) {
            return None;
        }
        let meta = t.get(template, "metadata");
        let labels = meta.and_then(|m| t.get(m, "labels")).map(|l| t.string_map(l)).unwrap_or_default();
        let annotations = meta.and_then(|m| t.get(m, "annotations")).map(|l| t.string_map(l)).unwrap_or_default();
        let spec = t.get(template, "spec");
        let host_network = spec.and_then(|s| t.str_at(s, &["hostNetwork"])).and_then(parse_bool).unwrap_or(false);
        let mut container_ports = Vec::new();
        let containers = spec.and_then(|s| t.get(s, "containers")).map(|c| t.items(c)).unwrap_or_default();
        // Native sidecars (Kubernetes 1.29+, Istio's default since 1.27 where supported) are init containers.
        let init = spec.and_then(|s| t.get(s, "initContainers")).map(|c| t.items(c)).unwrap_or_default();
        let explicit_proxy = containers.iter().chain(init).any(|c| t.str_at(*c, &["name"]) == Some(PROXY_CONTAINER));
        for c in containers {
            for p in t.get(*c, "ports").map(|p| t.items(p)).unwrap_or_default() {
                if let Some(n) = t.port_at(*p, &["containerPort"]) {
                    container_ports.push((t.str_at(*p, &["name"]).map(str::to_string), n));
                }
            }
        }
        let namespace = mesh.namespaces[id].clone();
        let ns_labels = self.namespace_labels(mesh, &namespace);
        let (sidecar, sidecar_reason) = if explicit_proxy || label(&annotations, SIDECAR_STATUS).is_some() {
            let how = if explicit_proxy {
                format!("the pod spec carries the `{PROXY_CONTAINER}` container (already injected)")
            } else {
                format!("the pod carries the injector's `{SIDECAR_STATUS}` annotation (already injected)")
            };
            (Sidecar::Yes, how)
        } else {
            decide_sidecar(&namespace, ns_labels, &labels, &annotations, host_network, mesh.settings.istio_version)
        };
        let ambient = sidecar != Sidecar::Yes && !host_network && ambient_captured(ns_labels, &labels);
        let (sidecar, sidecar_reason) = if ambient {
            let why = match label(&labels, AMBIENT_LABEL) {
                Some("ambient") => format!("the pod label `{AMBIENT_LABEL}=ambient` puts it in ambient mode"),
                _ => format!("namespace `{namespace}` has `{AMBIENT_LABEL}=ambient`: ztunnel captures the pod"),
            };
            (Sidecar::No, why)
        } else {
            (sidecar, sidecar_reason)
        };
        let tls_mode_istio = match label(&labels, TLS_MODE_LABEL) {
            Some(v) => v == "istio",
            None => sidecar != Sidecar::No,
        };
        let capture = Capture {
            include: label(&annotations, INCLUDE_INBOUND).and_then(port_list),
            exclude: label(&annotations, EXCLUDE_INBOUND).and_then(port_list).unwrap_or_default(),
        };
        Some(Workload {
            obj: id,
            namespace,
            labels,
            container_ports,
            host_network,
            sidecar,
            sidecar_reason,
            capture,
            ambient,
            tls_mode_istio,
        })
    }

    /// Indices of the workloads a Service selects (same namespace, labels a superset of the selector).
    pub fn endpoints(&self, service: &Service) -> Vec<usize> {
        let Some(selector) = service.selector.as_deref() else {
            return Vec::new();
        };
        let Some((k, v)) = selector.first() else {
            return Vec::new();
        };
        self.by_label
            .get(&label_key(&service.namespace, k, v))
            .map(|c| {
                c.iter()
                    .copied()
                    .filter(|i| {
                        self.workloads[*i].namespace == service.namespace && self.workloads[*i].matches(selector)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Indices of the workloads of a namespace.
    pub fn workloads_in(&self, namespace: &str) -> &[usize] {
        self.by_namespace.get(namespace).map(Vec::as_slice).unwrap_or_default()
    }

    /// Namespaces that hold at least one workload, sorted.
    pub fn workload_namespaces(&self) -> BTreeSet<String> {
        self.by_namespace.keys().cloned().collect()
    }
}

fn type_service(mesh: &Mesh, id: ObjId) -> Option<Service> {
    let o = &mesh.objects[id];
    let t = &o.tree;
    let spec = t.get(o.root, "spec");
    if spec.and_then(|s| t.str_at(s, &["type"])) == Some("ExternalName") {
        // An alias for another name: no endpoints and no sidecar of its own.
        return None;
    }
    let selector = spec.and_then(|s| t.get(s, "selector")).map(|m| t.string_map(m)).filter(|m| !m.is_empty());
    let headless = spec.and_then(|s| t.str_at(s, &["clusterIP"])) == Some("None");
    let mut ports = Vec::new();
    for p in spec.and_then(|s| t.get(s, "ports")).map(|p| t.items(p)).unwrap_or_default() {
        let protocol = t.str_at(*p, &["protocol"]).unwrap_or("TCP");
        let Some(port) = t.port_at(*p, &["port"]) else {
            continue;
        };
        if protocol != "TCP" {
            continue;
        }
        let target = match t.str_at(*p, &["targetPort"]) {
            None => TargetPort::Number(port),
            Some(text) => match t.port_at(*p, &["targetPort"]) {
                Some(n) => TargetPort::Number(n),
                None => TargetPort::Name(text.to_string()),
            },
        };
        let name = t.str_at(*p, &["name"]).map(str::to_string);
        let protocol = super::routes::Protocol::of_port(name.as_deref(), t.str_at(*p, &["appProtocol"]));
        ports.push(ServicePort { port, name, target, protocol });
    }
    let namespace = mesh.namespaces[id].clone();
    Some(Service {
        obj: id,
        host: format!("{}.{namespace}.svc.{}", o.name, mesh.settings.cluster_domain),
        namespace,
        name: o.name.clone(),
        selector,
        ports,
        headless,
    })
}

/// The injection label/annotation as the injector reads it (`pkg/kube/inject/inject.go` `injectRequired`); `None`
/// means "use the namespace's default policy".
/// - Istio 1.27 and later: exactly `true` or `false`; anything else (`yes`, `False`, ...) is ignored (with a warning
///   in istiod's log) and the default applies.
/// - Istio 1.26 and earlier: `y`, `yes`, `true`, `on` in any case are true, the empty value is the default, and
///   every other value (`false`, `False`, `no`, `0`, `disabled`) is false.
pub fn inject_value(v: &str, istio: IstioVersion) -> Option<bool> {
    if istio.at_least(IstioVersion::STRICT_INJECT_VALUES) {
        return match v {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        };
    }
    match v.to_ascii_lowercase().as_str() {
        "" => None,
        "y" | "yes" | "true" | "on" => Some(true),
        _ => Some(false),
    }
}

/// Whether ztunnel captures a pod without sidecar: the default enablement selectors of the CNI
/// (`manifests/charts/istio-cni/values.yaml` `ambient.enablementSelectors`): the pod label
/// `istio.io/dataplane-mode=ambient`, or the namespace label `istio.io/dataplane-mode=ambient` unless the pod label is
/// `none`.
pub fn ambient_captured(ns_labels: Option<&[(String, String)]>, pod_labels: &[(String, String)]) -> bool {
    match label(pod_labels, AMBIENT_LABEL) {
        Some("ambient") => true,
        Some("none") => false,
        _ => ns_labels.and_then(|l| label(l, AMBIENT_LABEL)) == Some("ambient"),
    }
}

/// What a namespace's clients are when no workload of it is in the tree: decided by its labels.
pub fn namespace_client_kind(ns_labels: Option<&[(String, String)]>) -> ClientKind {
    let Some(l) = ns_labels else { return ClientKind::Sidecar };
    if label(l, INJECTION_LABEL) == Some("enabled")
        || label(l, INJECTION_LABEL).is_none() && label(l, REV_LABEL).is_some()
    {
        ClientKind::Sidecar
    } else if label(l, AMBIENT_LABEL) == Some("ambient") {
        ClientKind::Ambient
    } else {
        ClientKind::NoSidecar
    }
}

/// Decides sidecar presence as the webhooks and the injector do.
pub fn decide_sidecar(
    namespace: &str,
    ns_labels: Option<&[(String, String)]>,
    labels: &[(String, String)],
    annotations: &[(String, String)],
    host_network: bool,
    istio: IstioVersion,
) -> (Sidecar, String) {
    if host_network {
        return (Sidecar::No, "the pod uses hostNetwork, which Istio never injects".into());
    }
    if IGNORED_NAMESPACES.contains(&namespace) {
        return (Sidecar::No, format!("Istio never injects pods in namespace `{namespace}`"));
    }
    let pod_label = label(labels, INJECT_KEY);
    // The injector prefers the label over the annotation; an empty value means "use the default".
    let explicit = pod_label.or(label(annotations, INJECT_KEY)).and_then(|v| inject_value(v, istio));
    let opted_out = || (Sidecar::No, format!("the pod sets `{INJECT_KEY}` to a false value"));
    match ns_labels {
        Some(nl) => {
            if let Some(v) = label(nl, INJECTION_LABEL) {
                if v != "enabled" {
                    return (Sidecar::No, format!("namespace `{namespace}` has `{INJECTION_LABEL}={v}`"));
                }
                return if explicit == Some(false) {
                    opted_out()
                } else {
                    (Sidecar::Yes, format!("namespace `{namespace}` has `{INJECTION_LABEL}=enabled`"))
                };
            }
            if let Some(rev) = label(nl, REV_LABEL) {
                return if explicit == Some(false) {
                    opted_out()
                } else {
                    (Sidecar::Yes, format!("namespace `{namespace}` has `{REV_LABEL}={rev}`"))
                };
            }
            // Without a namespace label only the pod *label* reaches the webhook; the annotation alone does not.
            if pod_label == Some("true") {
                (Sidecar::Yes, format!("the pod label `{INJECT_KEY}: \"true\"` opts in"))
            } else if label(labels, REV_LABEL).is_some() && explicit != Some(false) {
                (Sidecar::Yes, format!("the pod label `{REV_LABEL}` opts in"))
            } else {
                (Sidecar::No, format!("namespace `{namespace}` has no injection label and the pod does not opt in"))
            }
        }
        None => {
            if explicit == Some(false) {
                opted_out()
            } else if pod_label == Some("true") || label(labels, REV_LABEL).is_some() {
                (Sidecar::Yes, "the pod label opts in to injection".into())
            } else {
                (Sidecar::Unknown, format!("the Namespace object `{namespace}` is not in the tree"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn injection_follows_the_webhooks() {
        let enabled = l(&[(INJECTION_LABEL, "enabled")]);
        let disabled = l(&[(INJECTION_LABEL, "disabled")]);
        let rev = l(&[(REV_LABEL, "1-22")]);
        let none = l(&[]);
        let opt_in_label = l(&[(INJECT_KEY, "true")]);
        let opt_out_label = l(&[(INJECT_KEY, "false")]);
        let d = |ns: Option<&[(String, String)]>, lab: &[(String, String)], ann: &[(String, String)]| {
            decide_sidecar("apps", ns, lab, ann, false, IstioVersion::CURRENT).0
        };
        assert_eq!(d(Some(&enabled), &none, &none), Sidecar::Yes);
        assert_eq!(d(Some(&enabled), &opt_out_label, &none), Sidecar::No);
        // The label wins over the annotation.
        assert_eq!(d(Some(&enabled), &opt_in_label, &opt_out_label), Sidecar::Yes);
        assert_eq!(d(Some(&enabled), &none, &opt_out_label), Sidecar::No);
        assert_eq!(d(Some(&disabled), &opt_in_label, &none), Sidecar::No);
        assert_eq!(d(Some(&rev), &none, &none), Sidecar::Yes);
        assert_eq!(d(Some(&none), &opt_in_label, &none), Sidecar::Yes);
        // An annotation alone does not reach the webhook in an unlabelled namespace.
        assert_eq!(d(Some(&none), &none, &opt_in_label), Sidecar::No);
        assert_eq!(d(None, &none, &none), Sidecar::Unknown);
        assert_eq!(d(None, &opt_out_label, &none), Sidecar::No);
        assert_eq!(decide_sidecar("apps", Some(&enabled), &none, &none, true, IstioVersion::CURRENT).0, Sidecar::No);
        assert_eq!(
            decide_sidecar("kube-system", Some(&enabled), &none, &none, false, IstioVersion::CURRENT).0,
            Sidecar::No
        );
    }

    #[test]
    fn capture_lists() {
        let c = Capture { include: port_list("*"), exclude: port_list("8080, 9090").unwrap_or_default() };
        assert!(c.captures(80) && !c.captures(8080) && !c.captures(9090));
        let c = Capture { include: port_list("80"), exclude: vec![] };
        assert!(c.captures(80) && !c.captures(81));
        let c = Capture { include: port_list(""), exclude: vec![] };
        assert!(!c.captures(80));
    }
}

#[cfg(test)]
#[path = "workload_mutation2_tests.rs"]
mod workload_mutation2_tests;

#[cfg(test)]
#[path = "workload_mutation4_tests.rs"]
mod workload_mutation4_tests;

#[cfg(test)]
#[path = "workload_mutation5_tests.rs"]
mod workload_mutation5_tests;

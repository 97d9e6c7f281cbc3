//! MTLS010: a STRICT port serves callers outside the mesh: the kube-apiserver calling an admission webhook
//! (`ValidatingWebhookConfiguration` / `MutatingWebhookConfiguration` `clientConfig.service`) or an aggregated API
//! (`APIService` `spec.service`). The kube-apiserver has no sidecar and no Istio certificate: it opens its own TLS to
//! the Service, which a STRICT sidecar (or ztunnel) refuses, so every admission request or API call fails.
//!
//! Kubelet probes are not callers of this kind: the injector rewrites HTTP and gRPC probes to the sidecar agent's
//! port 15020 (`sidecar.istio.io/rewriteAppHTTPProbers`, on by default), and TCP probes are answered by the sidecar
//! itself. Metrics scraping through the merged metrics endpoint (15020) is not affected either; a Prometheus outside
//! the mesh scraping an application port directly is, and is not modelled (its target is not in the manifests).

use super::{PA_MODE, PA_PORT_LEVEL, Rule, RuleFinding};
use crate::context::MeshContext;
use crate::finding::Severity;
use crate::manifest::Object;
use crate::mesh::{Mesh, ObjId, PaMode};
use crate::posture::server::PaIndex;
use crate::posture::workload::Sidecar;

pub const RULE: Rule = Rule {
    code: "MTLS010",
    title: "STRICT mTLS on a port the kube-apiserver calls",
    default_severity: Severity::Error,
    help: "An admission webhook (ValidatingWebhookConfiguration / MutatingWebhookConfiguration `clientConfig.service`) \
           or an aggregated API (`APIService` `spec.service`) points at a Service whose workload port is STRICT. The \
           kube-apiserver is outside the mesh: it has no sidecar and no Istio certificate and connects with its own TLS, \
           which the sidecar (or ztunnel) rejects in STRICT mode, so the webhook or API fails. Make that target port \
           PERMISSIVE with a workload PeerAuthentication, for example `portLevelMtls: {\"<targetPort>\": {mode: \
           PERMISSIVE}}` with a selector for the webhook's pods, or keep the webhook's pods out of the mesh.",
    check,
    reads: super::Reads::Callers,
};

/// (the calling object, the field that names the Service, namespace, name, port) of every kube-apiserver call.
/// The namespaces whose Services callers outside the mesh call: what the rule's findings read besides the callers
/// and the mesh part ([`super::Reads::Callers`]).
pub fn called_namespaces(mesh: &Mesh) -> std::collections::HashSet<String> {
    callers(mesh).into_iter().map(|(_, _, ns, _, _)| ns).collect()
}

fn callers(mesh: &Mesh) -> Vec<(ObjId, &'static [&'static str], String, String, u32)> {
    let mut out = Vec::new();
    let port_of = |o: &Object, n: usize| o.tree.str_at(n, &["port"]).and_then(|p| p.parse::<u32>().ok()).unwrap_or(443);
    for (id, o) in mesh.objects.iter().enumerate() {
        let t = &o.tree;
        match o.kind.as_str() {
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration"
                if o.api_version.starts_with("admissionregistration.k8s.io/") =>
            {
                for w in t.get(o.root, "webhooks").map(|w| t.items(w).to_vec()).unwrap_or_default() {
                    if let Some(s) = t.path(w, &["clientConfig", "service"]) {
                        let (Some(ns), Some(name)) = (t.str_at(s, &["namespace"]), t.str_at(s, &["name"])) else {
                            continue;
                        };
                        out.push((id, WEBHOOK_FIELD, ns.to_string(), name.to_string(), port_of(o, s)));
                    }
                }
            }
            "APIService" if o.api_version.starts_with("apiregistration.k8s.io/") => {
                if let Some(s) = t.path(o.root, &["spec", "service"]).filter(|s| t.is_map(*s)) {
                    let (Some(ns), Some(name)) = (t.str_at(s, &["namespace"]), t.str_at(s, &["name"])) else {
                        continue;
                    };
                    out.push((id, API_SERVICE_FIELD, ns.to_string(), name.to_string(), port_of(o, s)));
                }
            }
            _ => {}
        }
    }
    out
}

const WEBHOOK_FIELD: &[&str] = &["webhooks"];
const API_SERVICE_FIELD: &[&str] = &["spec", "service"];

fn check(mesh: &MeshContext) -> Vec<RuleFinding> {
    let calls = callers(mesh);
    if calls.is_empty() {
        return Vec::new();
    }
    let inv = mesh.inventory();
    let pas = PaIndex::build(mesh);
    let mut out = Vec::new();
    for (caller, field, ns, name, port) in calls {
        let Some(svc) = inv.services.iter().find(|s| s.namespace == ns && s.name == name) else { continue };
        let Some(sp) = svc.ports.iter().find(|p| p.port == port) else { continue };
        for w in inv.endpoints(svc) {
            let w = &inv.workloads[w];
            let Some(target) = sp.target_on(w) else { continue };
            let enforced = w.ambient || (w.sidecar != Sidecar::No && w.capture.captures(target));
            if !enforced {
                continue;
            }
            let policy = pas.workload_policy(&w.namespace, &w.labels);
            let (mode, pa, port_level) = policy.port_mode(target);
            if mode != PaMode::Strict {
                continue;
            }
            let c = mesh.object_ref(caller);
            let wr = mesh.object_ref(w.obj);
            let by = pa.map(|p| format!(" by {}", mesh.object_ref(p))).unwrap_or_default();
            let message = format!(
                "{} {} makes the kube-apiserver call Service {ns}/{name} port {port}, served by {} {}/{} on port {target}, \
                 which is STRICT{by}: the kube-apiserver is outside the mesh (no sidecar, no Istio certificate), so {} \
                 rejects its TLS connections and every call fails",
                c.kind,
                c.name,
                wr.kind,
                wr.namespace,
                wr.name,
                if w.ambient { "ztunnel" } else { "the sidecar" }
            );
            let (subject, subject_field) = match pa {
                Some(p) => (p, if port_level { PA_PORT_LEVEL } else { PA_MODE }),
                None => (caller, field),
            };
            let mut related = vec![(caller, "caller configuration"), (svc.obj, "Service"), (w.obj, "workload")];
            related.retain(|(o, _)| *o != subject);
            out.push(RuleFinding {
                code: RULE.code,
                severity: Severity::Error,
                message,
                subject,
                field: subject_field,
                port: Some(target),
                related,
                fixes: Vec::new(),
            });
        }
    }
    out.sort_by_key(|f| (f.subject, f.port));
    out.dedup_by_key(|f| (f.subject, f.port));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::check;
    use crate::posture::fixtures::{deployment, injected, namespace, service, workload_pa};
    use crate::rules::testing::{mesh, pa};

    fn webhook(port: Option<u32>) -> String {
        let port = port.map(|p| format!("\n      port: {p}")).unwrap_or_default();
        format!(
            "---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: policy\nwebhooks:\n\
             - name: validate.policy.example.com\n  clientConfig:\n    service:\n      namespace: policy\n      name: webhook{port}\n"
        )
    }

    fn policy_ns(ns_labels: String) -> String {
        ns_labels + &service("policy", "webhook", &[(443, "9443")]) + &deployment("policy", "webhook", &[9443], &[])
    }

    #[test]
    fn a_strict_webhook_port_fails_the_kube_apiserver() {
        let y = policy_ns(injected("policy")) + &pa("istio-system", "mesh", Some("STRICT"), false) + &webhook(None);
        let m = mesh(&y);
        let f = check(&m);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(m.objects[f[0].subject].name, "mesh");
        assert_eq!(f[0].port, Some(9443));
        assert!(
            f[0].message.contains(
                "ValidatingWebhookConfiguration policy makes the kube-apiserver call Service policy/webhook port 443"
            ),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn permissive_target_port_or_no_sidecar_passes() {
        let strict = pa("istio-system", "mesh", Some("STRICT"), false);
        // The webhook's target port is PERMISSIVE by a workload policy.
        let y = policy_ns(injected("policy"))
            + &strict
            + &workload_pa("policy", "webhook-port", "webhook", "STRICT", &[("9443", "PERMISSIVE")])
            + &webhook(None);
        assert!(check(&mesh(&y)).is_empty());
        // The webhook's pods have no sidecar.
        let y = policy_ns(namespace("policy", &[])) + &strict + &webhook(None);
        assert!(check(&mesh(&y)).is_empty());
        // Another port than the Service's.
        let y = policy_ns(injected("policy")) + &strict + &webhook(Some(8443));
        assert!(check(&mesh(&y)).is_empty());
    }

    #[test]
    fn an_api_service_behind_strict_fails() {
        let api = "---\napiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1beta1.metrics.k8s.io}\n\
                   spec:\n  group: metrics.k8s.io\n  version: v1beta1\n  service: {namespace: policy, name: webhook}\n";
        let y = policy_ns(injected("policy")) + &pa("policy", "default", Some("STRICT"), false) + api;
        let m = mesh(&y);
        let f = check(&m);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("APIService v1beta1.metrics.k8s.io"), "{}", f[0].message);
        // A local APIService (no service) calls nothing.
        let local = "---\napiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1.apps}\nspec:\n  group: apps\n";
        let y = policy_ns(injected("policy")) + &pa("policy", "default", Some("STRICT"), false) + local;
        assert!(check(&mesh(&y)).is_empty());
    }
}

#[cfg(test)]
#[path = "mtls010_mutation5_tests.rs"]
mod mtls010_mutation5_tests;

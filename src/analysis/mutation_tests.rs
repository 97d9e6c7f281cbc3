//! Tests of loading and of where findings and their related objects point (issue 15: mutants of `load_files`,
//! `parallel_map_min`, `field_location`, `concretize` and `object_span` survived the lib tests).

use super::{analyze, concretize, field_location, load_files};
use crate::finding::{Location, Severity, Side};
use crate::manifest::yaml::Limits;
use crate::posture::fixtures::{deployment, injected, service};
use crate::rules::testing::{mesh, pa};
use crate::rules::{DR_TLS_MODE, RuleFinding};
use crate::settings::AnalysisOptions;

/// The 1-based line of the first line of `text` that is `line` exactly.
fn line_of(text: &str, line: &str) -> usize {
    text.lines().position(|l| l == line).map(|i| i + 1).unwrap_or_else(|| panic!("no line {line:?} in\n{text}"))
}

#[test]
fn loading_keeps_every_file_in_order_and_leaves_chart_templates_out() {
    let pa_text = pa("a", "default", Some("STRICT"), false);
    let files = vec![
        ("chart/Chart.yaml".to_string(), b"apiVersion: v2\nname: c\nversion: 1.0.0\n".to_vec()),
        ("chart/templates/pa.yaml".to_string(), b"{{ .Values.broken }}: [\n".to_vec()),
        ("a/pa.yaml".to_string(), pa_text.clone().into_bytes()),
        ("b/dr.yaml".to_string(), crate::rules::testing::dr("b", "d", "x.b.svc.cluster.local", None).into_bytes()),
    ];
    let loaded = load_files(files, &Limits::default());
    let paths: Vec<&str> = loaded.iter().filter_map(|f| f.source.as_ref()).map(|s| s.path.as_str()).collect();
    assert_eq!(paths, ["chart/Chart.yaml", "a/pa.yaml", "b/dr.yaml"]);
    assert!(loaded.iter().all(|f| f.errors.is_empty()), "{loaded:?}");
    let objects: Vec<(&str, &str)> =
        loaded.iter().flat_map(|f| &f.objects).map(|o| (o.kind.as_str(), o.name.as_str())).collect();
    assert_eq!(objects, [("PeerAuthentication", "default"), ("DestinationRule", "d")]);
    assert_eq!(loaded[1].source.as_ref().map(|s| s.text()), Some(pa_text.as_str()));
}

#[test]
fn loading_past_the_total_limit_refuses_the_rest_with_an_error_each() {
    let text = pa("a", "default", Some("STRICT"), false).into_bytes();
    let limits = Limits { max_total_bytes: text.len() + 10, ..Limits::default() };
    let files = vec![("one.yaml".to_string(), text.clone()), ("two.yaml".to_string(), text)];
    let loaded = load_files(files, &limits);
    assert_eq!(loaded.len(), 2);
    assert_eq!(loaded[0].objects.len(), 1);
    assert!(loaded[0].errors.is_empty());
    assert!(loaded[1].objects.is_empty());
    assert_eq!(loaded[1].errors.len(), 1);
    assert_eq!(loaded[1].errors[0].path, "two.yaml");
}

/// A change that touches no manifest (or a tree of none) loads nothing, and does not crash.
#[test]
fn loading_no_files_gives_no_files() {
    assert!(load_files(Vec::new(), &Limits::default()).is_empty());
    assert!(super::parallel_map_min(&[] as &[u8], 2, |b| *b).is_empty());
    assert_eq!(super::parallel_map_min(&[7u8], 2, |b| *b + 1), [8]);
}

/// A field that is not written (a DestinationRule's `tls` without `mode`) is located at the key of its nearest
/// written parent (`tls:`), not at the first line of the parent's value.
#[test]
fn a_missing_field_points_at_its_written_parents_key_line() {
    let text = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: d\n  namespace: a\nspec:\n  \
                host: x.a.svc.cluster.local\n  trafficPolicy:\n    tls:\n      sni: x.example.com\n";
    let m = mesh(text);
    let tls = line_of(text, "    tls:");
    let loc = field_location(&m, 0, DR_TLS_MODE, Side::Head);
    assert_eq!((loc.path.as_str(), loc.line), ("test.yaml", tls));
    // A written scalar: its own line.
    let sni = line_of(text, "      sni: x.example.com");
    let loc = field_location(&m, 0, &["spec", "trafficPolicy", "tls", "sni"], Side::Head);
    assert_eq!((loc.line, loc.end_line), (sni, sni));
    // Nothing of the path written: the object's first line.
    let loc = field_location(&m, 0, &["status", "x"], Side::Head);
    assert_eq!((loc.line, loc.end_line), (1, 1));
}

/// A finding on a top-level field written as a block (MTLS010's `webhooks` of a webhook configuration, when it is
/// the subject) keeps the block's lines; a deeper field's multi-line parent is narrowed to its key line.
#[test]
fn a_finding_on_a_top_level_block_keeps_its_lines() {
    let text = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  \
                name: policy\nwebhooks:\n- name: validate.policy.example.com\n  clientConfig:\n    service:\n      \
                namespace: policy\n      name: webhook\n";
    let m = mesh(text);
    let rf = |field: &'static [&'static str]| RuleFinding {
        code: "MTLS010",
        severity: Severity::Error,
        message: "m".into(),
        subject: 0,
        field,
        port: None,
        related: Vec::new(),
        fixes: Vec::new(),
    };
    let first = line_of(text, "- name: validate.policy.example.com");
    let last = line_of(text, "      name: webhook");
    let f = concretize(&m, &rf(&["webhooks"]), Side::Head);
    assert_eq!((f.location.line, f.location.end_line), (first, last));
    let f = concretize(&m, &rf(&["webhooks", "x"]), Side::Head);
    let key = line_of(text, "webhooks:");
    assert_eq!((f.location.line, f.location.end_line), (key, key));
}

/// MTLS010 names the webhook configuration and the workload behind the STRICT port as related objects: each is
/// shown at its own document in its own file.
#[test]
fn related_objects_of_other_kinds_are_shown_at_their_documents() {
    let webhook = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  \
                   name: policy\nwebhooks:\n- name: validate.policy.example.com\n  clientConfig:\n    service:\n      \
                   namespace: policy\n      name: webhook\n";
    let app = injected("policy")
        + &service("policy", "webhook", &[(443, "9443")])
        + &deployment("policy", "webhook", &[9443], &[]);
    let files: Vec<(String, Vec<u8>)> = [
        ("mesh.yaml", pa("istio-system", "mesh", Some("STRICT"), false)),
        ("policy/app.yaml", app.clone()),
        ("policy/webhook.yaml", webhook.to_string()),
    ]
    .into_iter()
    .map(|(p, t)| (p.to_string(), t.into_bytes()))
    .collect();
    let loaded = load_files(files, &Limits::default());
    let opts = AnalysisOptions { no_fixes: true, ..AnalysisOptions::default() };
    let a = analyze(&loaded, &opts, Side::Head, Default::default());
    let f = a.findings.iter().find(|f| f.code == "MTLS010").unwrap_or_else(|| panic!("{:?}", a.findings));
    let at = |role: &str| -> Location {
        f.related.iter().find(|r| r.role == role).map(|r| r.location.clone()).unwrap_or_else(|| panic!("{f:?}"))
    };
    let caller = at("caller configuration");
    assert_eq!((caller.path.as_str(), caller.line, caller.end_line), ("policy/webhook.yaml", 1, 1));
    // The Deployment is the third document of its file: its `apiVersion:` line follows the third `---`.
    let deployment_line = app.lines().enumerate().filter(|(_, l)| *l == "---").nth(2).map(|(i, _)| i + 2);
    let workload = at("workload");
    assert_eq!((workload.path.as_str(), Some(workload.line)), ("policy/app.yaml", deployment_line));
    assert_eq!(workload.end_line, workload.line);
}

//! Every rule of the CRD table, tested: each rule gets an object it rejects (exactly one violation, with the
//! API server's field and message) and one it accepts (no violation at all), built at the rule's own path. The
//! cases are written here by hand, keyed by (kind, check, path); a rule of `istio-crds.yaml` without a case, or a
//! case no rule uses, fails [`every_rule_has_a_case`].
//!
//! Paths under a `trafficPolicy` repeat four times in the CRD (top level, its `portLevelSettings`, a subset's, a
//! subset's `portLevelSettings`): a case keyed `TP.<rest>` covers the four, and each of the four rules is still
//! built and checked at its own place. The duration rule is the same CEL text on 44 fields: its case (path `*`)
//! applies to each.
#![allow(clippy::unwrap_used)]

use super::{CrdRule, rules, validate};
use crate::manifest::{load_file, yaml::Limits};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// (kind, check, path key, rejected value, accepted value, expected `field: message` of the rejection; `{field}`
/// stands for the rule's path with its first list item and map key).
type Case = (&'static str, &'static str, &'static str, &'static str, &'static str, &'static str);

const MAX_U32: &str =
    "{field}: Invalid value: 4294967296: {field} in body should be less than or equal to 4.294967295e+09";
const MIN_0: &str = "{field}: Invalid value: -1: {field} in body should be greater than or equal to 0";
const PA_MODES: &str = "\"UNSET\", \"DISABLE\", \"PERMISSIVE\", \"STRICT\"";

#[rustfmt::skip]
const CASES: &[Case] = &[
    // DestinationRule: structure.
    ("DestinationRule", "required", "spec", r#"{"exportTo": ["."]}"#, r#"{"host": "a"}"#, "{field}.host: Required value"),
    ("DestinationRule", "required", "spec.subsets[]", r#"{"labels": {"v": "1"}}"#, r#"{"name": "v1"}"#, "{field}.name: Required value"),
    ("DestinationRule", "required", "TP.loadBalancer.consistentHash.httpCookie", r#"{"ttl": "1s"}"#, r#"{"name": "c"}"#, "{field}.name: Required value"),
    ("DestinationRule", "required", "TP.loadBalancer.consistentHash.httpCookie.attributes[]", r#"{"value": "x"}"#, r#"{"name": "a"}"#, "{field}.name: Required value"),
    ("DestinationRule", "required", "TP.loadBalancer.warmup", r#"{"aggression": 1}"#, r#"{"duration": "30s"}"#, "{field}.duration: Required value"),
    ("DestinationRule", "required", "TP.tunnel", r#"{"targetPort": 443}"#, r#"{"targetHost": "h", "targetPort": 443}"#, "{field}.targetHost: Required value"),
    ("DestinationRule", "oneOf", "TP.loadBalancer", r#"{"simple": "ROUND_ROBIN", "consistentHash": {"useSourceIp": true}}"#, r#"{"simple": "ROUND_ROBIN"}"#,
        "{field}: Invalid value: \"\": \"{field}\" must validate one and only one schema (oneOf). Found 2 valid alternatives"),
    ("DestinationRule", "maxItems", "TP.portLevelSettings", "@items:4097:{\"port\": {\"number\": 80}}", "@items:4096:{\"port\": {\"number\": 80}}",
        "{field}: Too many: 4097: must have at most 4096 items"),
    // DestinationRule: enums.
    ("DestinationRule", "enum", "TP.connectionPool.http.h2UpgradePolicy", r#""UPGRADES""#, r#""DO_NOT_UPGRADE""#,
        "{field}: Unsupported value: \"UPGRADES\": supported values: \"DEFAULT\", \"DO_NOT_UPGRADE\", \"UPGRADE\""),
    ("DestinationRule", "enum", "TP.loadBalancer.simple", r#""ROUND-ROBIN""#, r#""LEAST_REQUEST""#,
        "{field}: Unsupported value: \"ROUND-ROBIN\": supported values: \"UNSPECIFIED\", \"LEAST_CONN\", \"RANDOM\", \"PASSTHROUGH\", \"ROUND_ROBIN\", \"LEAST_REQUEST\""),
    ("DestinationRule", "enum", "TP.tls.mode", r#""ISTIO_MTLS""#, r#""ISTIO_MUTUAL""#,
        "{field}: Unsupported value: \"ISTIO_MTLS\": supported values: \"DISABLE\", \"SIMPLE\", \"MUTUAL\", \"ISTIO_MUTUAL\""),
    ("DestinationRule", "enum", "TP.proxyProtocol.version", r#""V3""#, r#""V2""#, "{field}: Unsupported value: \"V3\": supported values: \"V1\", \"V2\""),
    // DestinationRule: durations (CEL, the same rule on every duration field).
    ("DestinationRule", "cel:duration(self) >= duration('1ms')", "*", r#""500us""#, r#""1ms""#,
        "{field}: Invalid value: \"500us\": must be a valid duration greater than 1ms"),
    // DestinationRule: ranges.
    ("DestinationRule", "maximum", "TP.connectionPool.tcp.tcpKeepalive.probes", "4294967296", "4294967295", MAX_U32),
    ("DestinationRule", "minimum", "TP.connectionPool.tcp.tcpKeepalive.probes", "-1", "0", MIN_0),
    ("DestinationRule", "maximum", "TP.loadBalancer.backendUtilization.errorUtilizationPenaltyPercent", "4294967296", "150", MAX_U32),
    ("DestinationRule", "minimum", "TP.loadBalancer.backendUtilization.errorUtilizationPenaltyPercent", "-1", "0", MIN_0),
    ("DestinationRule", "minimum", "TP.loadBalancer.consistentHash.maglev.tableSize", "-1", "65537", MIN_0),
    ("DestinationRule", "minimum", "TP.loadBalancer.consistentHash.minimumRingSize", "-1", "1024", MIN_0),
    ("DestinationRule", "minimum", "TP.loadBalancer.consistentHash.ringHash.minimumRingSize", "-1", "1024", MIN_0),
    ("DestinationRule", "maximum", "TP.loadBalancer.localityLbSetting.distribute[].to{}", "4294967296", "80", MAX_U32),
    ("DestinationRule", "minimum", "TP.loadBalancer.localityLbSetting.distribute[].to{}", "-1", "20", MIN_0),
    ("DestinationRule", "minimum", "TP.loadBalancer.warmup.aggression", "-0.5", "1.5",
        "{field}: Invalid value: -0.5: {field} in body should be greater than or equal to 0"),
    ("DestinationRule", "maximum", "TP.loadBalancer.warmup.minimumPercent", "100.5", "100",
        "{field}: Invalid value: 100.5: {field} in body should be less than or equal to 100"),
    ("DestinationRule", "minimum", "TP.loadBalancer.warmup.minimumPercent", "-1", "0", MIN_0),
    ("DestinationRule", "maximum", "TP.loadBalancer.zoneAwareLbSetting.minClusterSize", "4294967296", "4294967295", MAX_U32),
    ("DestinationRule", "minimum", "TP.loadBalancer.zoneAwareLbSetting.minClusterSize", "0", "1",
        "{field}: Invalid value: 0: {field} in body should be greater than or equal to 1"),
    ("DestinationRule", "maximum", "TP.outlierDetection.consecutive5xxErrors", "4294967296", "5", MAX_U32),
    ("DestinationRule", "minimum", "TP.outlierDetection.consecutive5xxErrors", "-1", "0", MIN_0),
    ("DestinationRule", "maximum", "TP.outlierDetection.consecutiveGatewayErrors", "4294967296", "5", MAX_U32),
    ("DestinationRule", "minimum", "TP.outlierDetection.consecutiveGatewayErrors", "-1", "0", MIN_0),
    ("DestinationRule", "maximum", "TP.outlierDetection.consecutiveLocalOriginFailures", "4294967296", "5", MAX_U32),
    ("DestinationRule", "minimum", "TP.outlierDetection.consecutiveLocalOriginFailures", "-1", "0", MIN_0),
    ("DestinationRule", "maximum", "TP.outlierDetection.outlierDetectionHttpErrorCodes[]", "600", "599",
        "{field}: Invalid value: 600: {field} in body should be less than or equal to 599"),
    ("DestinationRule", "minimum", "TP.outlierDetection.outlierDetectionHttpErrorCodes[]", "99", "100",
        "{field}: Invalid value: 99: {field} in body should be greater than or equal to 100"),
    ("DestinationRule", "maximum", "TP.port.number", "4294967296", "8080", MAX_U32),
    ("DestinationRule", "minimum", "TP.port.number", "-1", "0", MIN_0),
    ("DestinationRule", "maximum", "TP.retryBudget.minRetryConcurrency", "4294967296", "10", MAX_U32),
    ("DestinationRule", "minimum", "TP.retryBudget.minRetryConcurrency", "-1", "0", MIN_0),
    ("DestinationRule", "maximum", "TP.retryBudget.percent", "101", "25.5",
        "{field}: Invalid value: 101: {field} in body should be less than or equal to 100"),
    ("DestinationRule", "minimum", "TP.retryBudget.percent", "-1", "0", MIN_0),
    ("DestinationRule", "maximum", "TP.tunnel.targetPort", "4294967296", "443", MAX_U32),
    ("DestinationRule", "minimum", "TP.tunnel.targetPort", "-1", "0", MIN_0),
    // DestinationRule: workloadSelector.
    ("DestinationRule", "cel:self.all(key, !key.contains(\"*\"))", "spec.workloadSelector.matchLabels", r#"{"app*": "web"}"#, r#"{"app": "web"}"#,
        "{field}: Invalid value: wildcard not allowed in label key match"),
    ("DestinationRule", "cel:self.all(key, key.size() != 0)", "spec.workloadSelector.matchLabels", r#"{"": "web"}"#, r#"{"app": "web"}"#,
        "{field}: Invalid value: key must not be empty"),
    ("DestinationRule", "maxProperties", "spec.workloadSelector.matchLabels", "@keys:4097", "@keys:4096",
        "{field}: Too many: 4097: must have at most 4096 items"),
    ("DestinationRule", "cel:!self.contains(\"*\")", "spec.workloadSelector.matchLabels{}", r#""web-*""#, r#""web""#,
        "{field}: Invalid value: \"web-*\": wildcard not allowed in label value match"),
    ("DestinationRule", "maxLength", "spec.workloadSelector.matchLabels{}", "@string:64", "@string:63",
        "{field}: Too long: may not be more than 63 bytes"),
    // PeerAuthentication.
    ("PeerAuthentication", "cel:has(self.portLevelMtls) ? (((has(self.selector) && has(self.selector.matchLabels)) ? self.selector.matchLabels : {}).size() > 0) : true",
        "spec", r#"{"portLevelMtls": {"8080": {"mode": "DISABLE"}}}"#,
        r#"{"selector": {"matchLabels": {"app": "x"}}, "portLevelMtls": {"8080": {"mode": "DISABLE"}}}"#,
        "{field}: Invalid value: portLevelMtls requires selector"),
    ("PeerAuthentication", "enum", "spec.mtls.mode", r#""strict""#, r#""STRICT""#, "{field}: Unsupported value: \"strict\": supported values: PA_MODES"),
    ("PeerAuthentication", "cel:self.all(key, 0 < int(key) && int(key) <= 65535)", "spec.portLevelMtls", r#"{"0": {"mode": "DISABLE"}}"#,
        r#"{"65535": {"mode": "DISABLE"}}"#, "{field}: Invalid value: port must be between 1-65535"),
    ("PeerAuthentication", "minProperties", "spec.portLevelMtls", "{}", r#"{"8080": {"mode": "STRICT"}}"#,
        "{field}: Invalid value: 0: {field} in body should have at least 1 properties"),
    ("PeerAuthentication", "enum", "spec.portLevelMtls{}.mode", r#""OFF""#, r#""UNSET""#, "{field}: Unsupported value: \"OFF\": supported values: PA_MODES"),
    ("PeerAuthentication", "cel:self.all(key, !key.contains(\"*\"))", "spec.selector.matchLabels", r#"{"app*": "web"}"#, r#"{"app": "web"}"#,
        "{field}: Invalid value: wildcard not allowed in label key match"),
    ("PeerAuthentication", "cel:self.all(key, key.size() != 0)", "spec.selector.matchLabels", r#"{"": "web"}"#, r#"{"app": "web"}"#,
        "{field}: Invalid value: key must not be empty"),
    ("PeerAuthentication", "maxProperties", "spec.selector.matchLabels", "@keys:4097", "@keys:4096",
        "{field}: Too many: 4097: must have at most 4096 items"),
    ("PeerAuthentication", "cel:!self.contains(\"*\")", "spec.selector.matchLabels{}", r#""web-*""#, r#""web""#,
        "{field}: Invalid value: \"web-*\": wildcard not allowed in label value match"),
    ("PeerAuthentication", "maxLength", "spec.selector.matchLabels{}", "@string:64", "@string:63",
        "{field}: Too long: may not be more than 63 bytes"),
];

/// The four places of a traffic policy, longest first.
const TP_PREFIXES: &[&str] = &[
    "spec.subsets[].trafficPolicy.portLevelSettings[].",
    "spec.trafficPolicy.portLevelSettings[].",
    "spec.subsets[].trafficPolicy.",
    "spec.trafficPolicy.",
];

fn check_key(r: &CrdRule) -> String {
    match r.check.as_str() {
        "cel" => format!("cel:{}", r.rule.as_deref().unwrap_or_default()),
        other => other.to_string(),
    }
}

fn path_key(path: &str) -> String {
    TP_PREFIXES
        .iter()
        .find_map(|p| path.strip_prefix(p).map(|rest| format!("TP.{rest}")))
        .unwrap_or_else(|| path.to_string())
}

/// The case of a rule.
fn case_of(r: &CrdRule) -> Option<&'static Case> {
    let (check, path) = (check_key(r), path_key(&r.path));
    CASES.iter().find(|c| c.0 == r.kind && c.1 == check && (c.2 == path || c.2 == "*"))
}

fn value_of(text: &str) -> Value {
    if let Some(n) = text.strip_prefix("@keys:") {
        let n: usize = n.parse().unwrap();
        return Value::Object((0..n).map(|i| (format!("k{i}"), json!("v"))).collect());
    }
    if let Some(n) = text.strip_prefix("@string:") {
        return json!("x".repeat(n.parse().unwrap()));
    }
    if let Some(rest) = text.strip_prefix("@items:") {
        let (n, item) = rest.split_once(':').unwrap();
        let item: Value = serde_json::from_str(item).unwrap();
        return Value::Array(vec![item; n.parse().unwrap()]);
    }
    serde_json::from_str(text).unwrap_or_else(|e| panic!("case value {text}: {e}"))
}

/// The key used for a map's entry on a path (a port for `portLevelMtls`).
fn map_key(name: &str) -> &'static str {
    if name == "portLevelMtls" { "8080" } else { "app" }
}

/// `{"spec": ...}` with `value` at `path` (first list item, first map entry).
fn place(path: &str, value: Value) -> Value {
    let mut v = value;
    for seg in path.split('.').rev() {
        let (name, suffix) = seg.find(['[', '{']).map_or((seg, ""), |i| (&seg[..i], &seg[i..]));
        for s in suffix.as_bytes().chunks(2).rev() {
            v = if s == b"[]" { Value::Array(vec![v]) } else { json!({ map_key(name): v }) };
        }
        v = json!({ name: v });
    }
    v
}

/// The field the API server names for `path` as [`place`] builds it.
fn field_of(path: &str) -> String {
    let mut out = String::new();
    for seg in path.split('.') {
        let (name, suffix) = seg.find(['[', '{']).map_or((seg, ""), |i| (&seg[..i], &seg[i..]));
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(name);
        for s in suffix.as_bytes().chunks(2) {
            out.push_str(if s == b"[]" { "[0]" } else { if name == "portLevelMtls" { "[8080]" } else { "[app]" } });
        }
    }
    out
}

/// Default values of required fields, so that an object breaks only the rule under test.
fn default_for(key: &str) -> Value {
    match key {
        "host" => json!("a"),
        "name" => json!("n"),
        "duration" => json!("30s"),
        "targetHost" => json!("h"),
        "targetPort" => json!(443),
        other => panic!("no default for required field {other}"),
    }
}

/// Adds the fields `required` rules (other than `skip`) ask for, wherever their path reaches a map.
fn fill_required(v: &mut Value, segs: &[&str], keys: &[String]) {
    let Some((seg, rest)) = segs.split_first() else {
        if let Value::Object(m) = v {
            for k in keys {
                m.entry(k.clone()).or_insert_with(|| default_for(k));
            }
        }
        return;
    };
    let (name, suffix) = seg.find(['[', '{']).map_or((*seg, ""), |i| (&seg[..i], &seg[i..]));
    let Some(first) = v.get_mut(name) else { return };
    let mut nodes: Vec<&mut Value> = vec![first];
    for s in suffix.as_bytes().chunks(2) {
        nodes = nodes
            .into_iter()
            .flat_map(|n| -> Vec<&mut Value> {
                match (s, n) {
                    (b"[]", Value::Array(a)) => a.iter_mut().collect(),
                    (b"{}", Value::Object(m)) => m.values_mut().collect(),
                    _ => Vec::new(),
                }
            })
            .collect();
    }
    for n in nodes {
        fill_required(n, rest, keys);
    }
}

fn object(kind: &str, spec_root: Value, skip: &CrdRule) -> String {
    let mut obj = spec_root;
    for r in rules().iter().filter(|r| r.kind == kind && r.check == "required") {
        if std::ptr::eq(r, skip) {
            continue;
        }
        let segs: Vec<&str> = r.path.split('.').collect();
        fill_required(&mut obj, &segs, &r.values);
    }
    // A PeerAuthentication with `portLevelMtls` needs a selector, except for the rule that says so.
    let pa_rule = kind == "PeerAuthentication" && skip.path == "spec" && skip.check == "cel";
    if kind == "PeerAuthentication" && !pa_rule && obj["spec"].get("portLevelMtls").is_some() {
        obj["spec"].as_object_mut().unwrap().entry("selector").or_insert(json!({"matchLabels": {"app": "x"}}));
    }
    let api = if kind == "PeerAuthentication" { "security.istio.io/v1" } else { "networking.istio.io/v1" };
    let mut full = Map::new();
    full.insert("apiVersion".into(), json!(api));
    full.insert("kind".into(), json!(kind));
    full.insert("metadata".into(), json!({"name": "x", "namespace": "n"}));
    full.extend(obj.as_object().unwrap().clone());
    Value::Object(full).to_string()
}

fn violations(text: &str) -> Vec<String> {
    let f = load_file("case.yaml", text.as_bytes(), &Limits::default());
    assert_eq!(f.objects.len(), 1, "{:?}", f.errors);
    validate(&f.objects[0]).into_iter().map(|v| format!("{}: {}", v.field, v.message)).collect()
}

#[test]
fn every_rule_has_a_case() {
    let mut used = BTreeSet::new();
    let missing: Vec<String> = rules()
        .iter()
        .filter_map(|r| match case_of(r) {
            Some(c) => {
                used.insert((c.0, c.1, c.2));
                None
            }
            None => Some(format!("{} {} {}", r.kind, check_key(r), r.path)),
        })
        .collect();
    assert!(missing.is_empty(), "rules without a case in validation/rule_cases.rs:\n{}", missing.join("\n"));
    let stale: Vec<_> = CASES.iter().filter(|c| !used.contains(&(c.0, c.1, c.2))).collect();
    assert!(stale.is_empty(), "cases no rule uses: {stale:?}");
}

#[test]
fn every_rule_rejects_its_bad_object_and_accepts_its_good_one() {
    let mut checked = 0;
    for r in rules() {
        let Some(case) = case_of(r) else { continue };
        let (_, _, _, bad, good, expected) = *case;
        let field = field_of(&r.path);
        let expected = expected.replace("PA_MODES", PA_MODES).replace("{field}", &field);
        let rejected = object(&r.kind, place(&r.path, value_of(bad)), r);
        assert_eq!(violations(&rejected), [expected], "{} {} {}:\n{rejected}", r.kind, r.check, r.path);
        let accepted = object(&r.kind, place(&r.path, value_of(good)), r);
        assert_eq!(violations(&accepted), Vec::<String>::new(), "{} {} {}:\n{accepted}", r.kind, r.check, r.path);
        checked += 1;
    }
    assert_eq!(checked, rules().len());
}

#[test]
fn a_rule_without_a_case_is_noticed() {
    // The completeness check above must be able to fail: a rule the table does not have finds no case.
    let invented = CrdRule {
        kind: "DestinationRule".into(),
        path: "spec.trafficPolicy.newField".into(),
        check: "maximum".into(),
        message: None,
        rule: None,
        values: vec![],
        limit: Some(3),
    };
    assert!(case_of(&invented).is_none());
    let real = rules().iter().find(|r| r.check == "cel").unwrap();
    assert!(case_of(real).is_some());
}

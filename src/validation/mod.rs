//! Validation as the Kubernetes API server does it for Istio's PeerAuthentication and DestinationRule: the
//! structural schema (`enum`, `required`, `oneOf`, size and range limits) and the CEL rules
//! (`x-kubernetes-validations`) of Istio's CustomResourceDefinitions.
//!
//! The rules are data, copied from Istio's CRDs into `istio-crds.yaml` (its header names the source and licence).
//! Each check kind, and each CEL rule by its exact text, has an implementation here; a rule without one makes the
//! table test fail, so a CRD update cannot silently lose a check. An object that violates a rule is rejected by
//! the API server and never applied: the mesh leaves it out and reports it as an error with the field's line and
//! the rule's message.
//!
//! Pure: no I/O. The table is parsed once.

use crate::manifest::Object;
use crate::manifest::yaml::{NodeId, Value, YamlDoc};
use serde::Deserialize;
use std::sync::OnceLock;

/// One rule of the table.
#[derive(Debug, Clone, Deserialize)]
pub struct CrdRule {
    pub kind: String,
    /// Field path under the object: `.` between fields, `[]` for list items, `{}` for map values.
    pub path: String,
    /// `cel`, `enum`, `required`, `oneOf`, `minimum`, `maximum`, `minItems`, `maxItems`, `minProperties`,
    /// `maxProperties`, `maxLength`.
    pub check: String,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub limit: Option<i64>,
}

/// A rule an object breaks (kept on the object: [`Object::schema`]).
pub use crate::manifest::Violation;

const TABLE: &str = include_str!("istio-crds.yaml");

/// The rule table.
pub fn rules() -> &'static [CrdRule] {
    static RULES: OnceLock<Vec<CrdRule>> = OnceLock::new();
    RULES.get_or_init(|| serde_yaml_ng::from_str(TABLE).unwrap_or_default())
}

/// The kinds and API groups the table covers.
fn covered(kind: &str, api_version: &str) -> bool {
    match kind {
        "PeerAuthentication" => api_version.starts_with("security.istio.io/"),
        "DestinationRule" => api_version.starts_with("networking.istio.io/"),
        _ => false,
    }
}

/// The rules an object breaks, in table order (empty for kinds the table does not cover). Computed once per
/// object ([`Object::schema`]): later calls, from the other side of a review or a re-analysis, read the verdict.
pub fn validate(o: &Object) -> Vec<Violation> {
    if !covered(&o.kind, &o.api_version) {
        return Vec::new();
    }
    o.schema.get_or_init(|| compute(o).into()).to_vec()
}

/// True when the object's verdict has been computed (by [`validate`]).
pub fn is_validated(o: &Object) -> bool {
    o.schema.get().is_some()
}

fn compute(o: &Object) -> Vec<Violation> {
    let Some(tree) = path_trees().get(o.kind.as_str()) else { return Vec::new() };
    let t = &o.tree;
    let mut found: Vec<(usize, Violation)> = Vec::new();
    let mut field = String::new();
    walk(t, o.root, &mut field, t.node(o.root).line, tree, &mut found);
    // Table order (a rule's nodes in document order, as the walk reaches them).
    found.sort_by_key(|(rule, _)| *rule);
    found.into_iter().map(|(_, v)| v).collect()
}

/// One step of a table path: a field, every item of a list (`[]`), every value of a map (`{}`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Field(String),
    Items,
    Values,
}

/// The rules of one kind as a tree of their paths' steps, each rule (its position in the table) at its path's
/// end: one walk of an object reaches each field once, however many rules read under it (a DestinationRule has
/// 189, most under `spec.trafficPolicy` and `spec.subsets[]`).
#[derive(Debug, Default)]
struct PathTree {
    rules: Vec<usize>,
    children: Vec<(Step, PathTree)>,
}

fn steps(path: &str) -> Vec<Step> {
    let mut out = Vec::new();
    for seg in path.split('.') {
        let (name, suffix) = match seg.find(['[', '{']) {
            Some(i) => (&seg[..i], &seg[i..]),
            None => (seg, ""),
        };
        out.push(Step::Field(name.to_string()));
        for s in suffix.as_bytes().chunks(2) {
            out.push(if s == b"[]" { Step::Items } else { Step::Values });
        }
    }
    out
}

/// The path trees by kind, built once from the table.
fn path_trees() -> &'static std::collections::HashMap<String, PathTree> {
    static TREES: OnceLock<std::collections::HashMap<String, PathTree>> = OnceLock::new();
    TREES.get_or_init(|| {
        let mut trees: std::collections::HashMap<String, PathTree> = std::collections::HashMap::new();
        for (i, r) in rules().iter().enumerate() {
            let mut at = trees.entry(r.kind.clone()).or_default();
            for step in steps(&r.path) {
                let pos = match at.children.iter().position(|(s, _)| *s == step) {
                    Some(pos) => pos,
                    None => {
                        at.children.push((step, PathTree::default()));
                        at.children.len() - 1
                    }
                };
                at = &mut at.children[pos].1;
            }
            at.rules.push(i);
        }
        trees
    })
}

/// Checks the rules of `tree` on node `n` (its field name as the API server writes it in `field`, its line to
/// report in `line`), then walks on into the children the tree names. A field that is missing or null ends the
/// walk there; the line of a field is its key's, of a list item the item's, of a map value its key's.
fn walk(t: &YamlDoc, n: NodeId, field: &mut String, line: usize, tree: &PathTree, out: &mut Vec<(usize, Violation)>) {
    for &i in &tree.rules {
        for (at, message) in check(t, n, &rules()[i], field) {
            out.push((i, Violation { line, field: at.unwrap_or_else(|| field.clone()), message }));
        }
    }
    let len = field.len();
    for (step, sub) in &tree.children {
        match step {
            Step::Field(name) => {
                let Some(c) = t.get(n, name).filter(|c| !t.is_null(*c)) else { continue };
                let line = t.key_node(n, name).map(|k| t.node(k).line).unwrap_or(t.node(c).line);
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(name);
                walk(t, t.resolve(c), field, line, sub, out);
            }
            Step::Items => {
                for (i, item) in t.items(n).iter().enumerate() {
                    let item = t.resolve(*item);
                    field.push_str(&format!("[{i}]"));
                    walk(t, item, field, t.node(item).line, sub, out);
                    field.truncate(len);
                }
            }
            Step::Values => {
                for (k, v) in t.entries(n) {
                    field.push('[');
                    field.push_str(t.key_text(*k).unwrap_or(""));
                    field.push(']');
                    walk(t, t.resolve(*v), field, t.node(*k).line, sub, out);
                    field.truncate(len);
                }
            }
        }
        field.truncate(len);
    }
}

fn is_seq(t: &YamlDoc, n: NodeId) -> bool {
    matches!(t.node(t.resolve(n)).value, Value::Seq { .. })
}

fn keys(t: &YamlDoc, n: NodeId) -> Vec<&str> {
    t.entries(n).iter().filter_map(|(k, _)| t.key_text(*k)).collect()
}

/// A value of an integer field as the API server prints it: numbers bare, anything else quoted (Go's `%q`).
fn shown(v: &str) -> String {
    if v.parse::<i64>().is_ok() || (v.parse::<f64>().is_ok() && !v.contains(['n', 'N', 'i', 'I'])) {
        v.to_string()
    } else {
        format!("{v:?}")
    }
}

/// A schema limit as kube-openapi prints it: Go's `%v` of a float64 (`65535`, `4.294967295e+09`, `1e+06`).
pub fn go_float(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let sign = if n < 0 { "-" } else { "" };
    if n == 0 {
        return "0".to_string();
    }
    let dp = digits.len();
    let significant = digits.trim_end_matches('0');
    let nd = significant.len();
    // strconv.FormatFloat(f, 'g', -1, 64): %e when the exponent is >= the precision (6 for the shortest form,
    // or the digit count when that is smaller and the number has no fraction).
    let mut eprec = 6;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    let exp = dp - 1;
    if exp >= eprec {
        let mantissa =
            if nd > 1 { format!("{}.{}", &significant[..1], &significant[1..]) } else { significant.to_string() };
        format!("{sign}{mantissa}e+{exp:02}")
    } else {
        format!("{sign}{digits}")
    }
}

/// The message of a broken rule, or `None` when the node keeps it. `field` is the node's path as the API server
/// names it. The texts are the API server's (`k8s.io/apimachinery` `field.Error.ErrorBody`, with kube-openapi's
/// messages for the structural checks, as `apiextensions-apiserver` `kubeOpenAPIResultToFieldErrors` builds them);
/// a required field is reported on the missing field's path.
fn check(t: &YamlDoc, n: NodeId, r: &CrdRule, field: &str) -> Vec<(Option<String>, String)> {
    if r.check == "required" {
        // One error per missing field.
        if !t.is_map(n) {
            return Vec::new();
        }
        return r
            .values
            .iter()
            .filter(|k| t.get(n, k).is_none_or(|v| t.is_null(v)))
            .map(|k| (Some(format!("{field}.{k}")), "Required value".to_string()))
            .collect();
    }
    check_one(t, n, r, field).into_iter().collect()
}

fn check_one(t: &YamlDoc, n: NodeId, r: &CrdRule, field: &str) -> Option<(Option<String>, String)> {
    let limit = r.limit.unwrap_or_default();
    let here = |m: String| Some((None, m));
    match r.check.as_str() {
        "enum" => {
            let v = t.scalar(n)?;
            if r.values.iter().any(|x| x == v) {
                return None;
            }
            let supported: Vec<String> = r.values.iter().map(|x| format!("{x:?}")).collect();
            here(format!("Unsupported value: {v:?}: supported values: {}", supported.join(", ")))
        }
        "oneOf" => {
            let set = r.values.iter().filter(|k| t.get(n, k).is_some_and(|v| !t.is_null(v))).count();
            (set > 1).then(|| {
                (None, format!("Invalid value: \"\": {field:?} must validate one and only one schema (oneOf). Found {set} valid alternatives"))
            })
        }
        "minimum" | "maximum" => {
            let v = t.scalar(n)?;
            let Ok(x) = v.parse::<f64>() else {
                return here(format!(
                    "Invalid value: {}: {field} in body must be of type integer: \"string\"",
                    shown(v)
                ));
            };
            let (broken, text) = if r.check == "minimum" {
                (x < limit as f64, "greater than or equal to")
            } else {
                (x > limit as f64, "less than or equal to")
            };
            broken.then(|| {
                (None, format!("Invalid value: {}: {field} in body should be {text} {}", shown(v), go_float(limit)))
            })
        }
        "minItems" | "maxItems" => {
            if !is_seq(t, n) {
                return None;
            }
            let len = t.items(n).len() as i64;
            match r.check.as_str() {
                "minItems" if len < limit => {
                    here(format!("Invalid value: {len}: {field} in body should have at least {limit} items"))
                }
                "maxItems" if len > limit => {
                    here(format!("Too many: {len}: must have at most {limit} {}", items(limit)))
                }
                _ => None,
            }
        }
        "minProperties" | "maxProperties" => {
            if !t.is_map(n) {
                return None;
            }
            let len = t.entries(n).len() as i64;
            match r.check.as_str() {
                "minProperties" if len < limit => {
                    here(format!("Invalid value: {len}: {field} in body should have at least {limit} properties"))
                }
                // `TooManyPropertiesCode` becomes `field.TooMany`, which counts items.
                "maxProperties" if len > limit => {
                    here(format!("Too many: {len}: must have at most {limit} {}", items(limit)))
                }
                _ => None,
            }
        }
        "maxLength" => {
            let v = t.scalar(n)?;
            let len = v.chars().count() as i64;
            let unit = if limit == 1 { "byte" } else { "bytes" };
            (len > limit).then(|| (None, format!("Too long: may not be more than {limit} {unit}")))
        }
        "cel" => {
            if !cel(t, n, r.rule.as_deref().unwrap_or_default()) {
                return None;
            }
            let message = r.message.clone().unwrap_or_default();
            // A rule on an object or a list omits the value; on a scalar it is shown.
            here(match t.scalar(n).filter(|_| !t.is_map(n) && !is_seq(t, n)) {
                Some(v) => format!("Invalid value: {v:?}: {message}"),
                None => format!("Invalid value: {message}"),
            })
        }
        _ => None,
    }
}

fn items(limit: i64) -> &'static str {
    if limit == 1 { "item" } else { "items" }
}

/// CEL rules by their exact text: true when the node breaks the rule. An unknown rule is never broken here (the
/// table test makes sure there is none).
fn cel(t: &YamlDoc, n: NodeId, rule: &str) -> bool {
    match rule {
        // PeerAuthentication `spec`.
        "has(self.portLevelMtls) ? (((has(self.selector) && has(self.selector.matchLabels)) ? self.selector.matchLabels : {}).size() > 0) : true" =>
        {
            let has = |k: &str| t.get(n, k).is_some_and(|v| !t.is_null(v));
            let labels = t.path(n, &["selector", "matchLabels"]).filter(|m| !t.is_null(*m));
            has("portLevelMtls") && labels.is_none_or(|m| t.entries(m).is_empty())
        }
        // `portLevelMtls` keys; `int()` of a key that is not a number is an evaluation error, which rejects too.
        "self.all(key, 0 < int(key) && int(key) <= 65535)" => {
            keys(t, n).iter().any(|k| !k.trim().parse::<i64>().is_ok_and(|p| 0 < p && p <= 65535))
        }
        "self.all(key, !key.contains(\"*\"))" => keys(t, n).iter().any(|k| k.contains('*')),
        "self.all(key, key.size() != 0)" => keys(t, n).iter().any(|k| k.is_empty()),
        "!self.contains(\"*\")" => t.scalar(n).is_some_and(|v| v.contains('*')),
        "duration(self) >= duration('1ms')" => {
            t.scalar(n).is_some_and(|v| go_duration_nanos(v).is_none_or(|d| d < 1_000_000))
        }
        _ => false,
    }
}

/// True for the CEL rules [`cel`] implements.
pub fn cel_known(rule: &str) -> bool {
    const KNOWN: &[&str] = &[
        "has(self.portLevelMtls) ? (((has(self.selector) && has(self.selector.matchLabels)) ? self.selector.matchLabels : {}).size() > 0) : true",
        "self.all(key, 0 < int(key) && int(key) <= 65535)",
        "self.all(key, !key.contains(\"*\"))",
        "self.all(key, key.size() != 0)",
        "!self.contains(\"*\")",
        "duration(self) >= duration('1ms')",
    ];
    KNOWN.contains(&rule)
}

/// A Go / CEL duration (`1h2m3.5s`, `300ms`, `-1s`) in nanoseconds; `None` when it does not parse.
pub fn go_duration_nanos(text: &str) -> Option<i128> {
    let (neg, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let (num, after) = rest.split_at(num_end);
        if num.is_empty() || num == "." {
            return None;
        }
        let value: f64 = num.parse().ok()?;
        let unit_end = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_end);
        let scale = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += value * scale;
        rest = next;
    }
    let nanos = total as i128;
    Some(if neg { -nanos } else { nanos })
}

#[cfg(test)]
mod rule_cases;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::manifest::{load_file, yaml::Limits};

    fn violations(yaml: &str) -> Vec<Violation> {
        let f = load_file("t.yaml", yaml.as_bytes(), &Limits::default());
        assert_eq!(f.objects.len(), 1, "{:?}", f.errors);
        validate(&f.objects[0])
    }

    fn messages(yaml: &str) -> Vec<String> {
        violations(yaml).into_iter().map(|v| format!("{}: {}", v.field, v.message)).collect()
    }

    const PA: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: n}\n";
    const DR: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d, namespace: n}\n";

    #[test]
    fn the_table_is_complete_and_every_check_is_implemented() {
        let rules = rules();
        assert!(rules.len() > 150, "{}", rules.len());
        for kind in ["PeerAuthentication", "DestinationRule"] {
            assert!(rules.iter().any(|r| r.kind == kind));
        }
        for r in rules {
            match r.check.as_str() {
                "cel" => assert!(cel_known(r.rule.as_deref().unwrap_or("")), "no implementation for {r:?}"),
                "enum" | "required" | "oneOf" => assert!(!r.values.is_empty(), "{r:?}"),
                "minimum" | "maximum" | "minItems" | "maxItems" | "minProperties" | "maxProperties" | "maxLength" => {
                    assert!(r.limit.is_some(), "{r:?}")
                }
                other => panic!("unknown check {other} in {r:?}"),
            }
        }
    }

    #[test]
    fn port_level_mtls_requires_a_selector() {
        let bad = format!("{PA}spec:\n  mtls: {{mode: STRICT}}\n  portLevelMtls:\n    8080: {{mode: DISABLE}}\n");
        assert_eq!(messages(&bad), ["spec: Invalid value: portLevelMtls requires selector"]);
        assert_eq!(violations(&bad)[0].line, 4);
        let empty = bad.replace("  mtls:", "  selector: {matchLabels: {}}\n  mtls:");
        assert_eq!(messages(&empty), ["spec: Invalid value: portLevelMtls requires selector"]);
        let good = bad.replace("  mtls:", "  selector: {matchLabels: {app: x}}\n  mtls:");
        assert!(messages(&good).is_empty(), "{:?}", messages(&good));
    }

    #[test]
    fn port_level_mtls_keys_and_size() {
        let with = |body: &str| format!("{PA}spec:\n  selector: {{matchLabels: {{app: x}}}}\n  portLevelMtls:\n{body}");
        assert_eq!(
            messages(&with("    \"0\": {mode: DISABLE}\n")),
            ["spec.portLevelMtls: Invalid value: port must be between 1-65535"]
        );
        // A key CEL cannot read as a number fails the rule too (the API server reports an evaluation error there).
        assert_eq!(messages(&with("    http: {mode: DISABLE}\n")).len(), 1);
        assert_eq!(messages(&with("    65536: {mode: DISABLE}\n")).len(), 1);
        assert!(messages(&with("    65535: {mode: DISABLE}\n")).is_empty());
        let empty = format!("{PA}spec:\n  selector: {{matchLabels: {{app: x}}}}\n  portLevelMtls: {{}}\n");
        assert_eq!(
            messages(&empty),
            ["spec.portLevelMtls: Invalid value: 0: spec.portLevelMtls in body should have at least 1 properties"]
        );
    }

    #[test]
    fn modes_are_enums() {
        let bad = format!("{PA}spec:\n  mtls: {{mode: strict}}\n");
        let m = messages(&bad);
        assert_eq!(m.len(), 1);
        assert!(m[0].starts_with("spec.mtls.mode: Unsupported value: \"strict\""), "{m:?}");
        assert!(messages(&bad.replace("strict", "STRICT")).is_empty());
        let port =
            format!("{PA}spec:\n  selector: {{matchLabels: {{app: x}}}}\n  portLevelMtls:\n    80: {{mode: OFF}}\n");
        assert_eq!(messages(&port).len(), 1);
        let dr = format!("{DR}spec:\n  host: a\n  trafficPolicy:\n    tls: {{mode: ISTIO_MTLS}}\n");
        assert!(messages(&dr)[0].starts_with("spec.trafficPolicy.tls.mode: Unsupported value"), "{:?}", messages(&dr));
        let sub = format!(
            "{DR}spec:\n  host: a\n  subsets:\n  - name: v1\n    trafficPolicy:\n      portLevelSettings:\n      - port: {{number: 80}}\n        tls: {{mode: mutual}}\n"
        );
        assert_eq!(messages(&sub).len(), 1);
        assert!(messages(&sub)[0].starts_with("spec.subsets[0].trafficPolicy.portLevelSettings[0].tls.mode"));
        assert!(messages(&sub.replace("mutual", "MUTUAL")).is_empty());
    }

    #[test]
    fn selectors_reject_wildcards_and_empty_keys() {
        let sel =
            |labels: &str| format!("{PA}spec:\n  selector:\n    matchLabels:\n{labels}  mtls: {{mode: STRICT}}\n");
        assert_eq!(
            messages(&sel("      app: \"web-*\"\n")),
            ["spec.selector.matchLabels[app]: Invalid value: \"web-*\": wildcard not allowed in label value match"]
        );
        assert_eq!(
            messages(&sel("      \"app*\": web\n")),
            ["spec.selector.matchLabels: Invalid value: wildcard not allowed in label key match"]
        );
        assert_eq!(
            messages(&sel("      \"\": web\n")),
            ["spec.selector.matchLabels: Invalid value: key must not be empty"]
        );
        assert_eq!(messages(&sel(&format!("      app: {}\n", "x".repeat(64)))).len(), 1);
        assert!(messages(&sel("      app: web\n")).is_empty());
        let dr = format!("{DR}spec:\n  host: a\n  workloadSelector:\n    matchLabels: {{app: \"*\"}}\n");
        assert_eq!(messages(&dr).len(), 1);
    }

    #[test]
    fn destination_rule_structure() {
        assert_eq!(messages(&format!("{DR}spec:\n  exportTo: [\".\"]\n")), ["spec.host: Required value"]);
        let sub = format!("{DR}spec:\n  host: a\n  subsets:\n  - labels: {{v: \"1\"}}\n");
        assert_eq!(messages(&sub), ["spec.subsets[0].name: Required value"]);
        let lb = format!(
            "{DR}spec:\n  host: a\n  trafficPolicy:\n    loadBalancer:\n      simple: ROUND_ROBIN\n      consistentHash: {{useSourceIp: true}}\n"
        );
        assert_eq!(messages(&lb).len(), 1, "{:?}", messages(&lb));
        let port =
            format!("{DR}spec:\n  host: a\n  trafficPolicy:\n    portLevelSettings:\n    - port: {{number: -1}}\n");
        assert_eq!(messages(&port).len(), 1, "{:?}", messages(&port));
        let timeout = format!(
            "{DR}spec:\n  host: a\n  trafficPolicy:\n    connectionPool:\n      tcp: {{connectTimeout: 500us}}\n"
        );
        assert_eq!(
            messages(&timeout),
            [
                "spec.trafficPolicy.connectionPool.tcp.connectTimeout: Invalid value: \"500us\": must be a valid duration greater than 1ms"
            ]
        );
        assert!(messages(&timeout.replace("500us", "1.5s")).is_empty());
        assert_eq!(messages(&timeout.replace("500us", "10 seconds")).len(), 1);
        assert!(messages(&format!("{DR}spec:\n  host: a\n  trafficPolicy: {{tls: {{mode: SIMPLE}}}}\n")).is_empty());
    }

    #[test]
    fn limits_print_as_go_prints_a_float64() {
        assert_eq!(go_float(0), "0");
        assert_eq!(go_float(100), "100");
        assert_eq!(go_float(65535), "65535");
        assert_eq!(go_float(100000), "100000");
        assert_eq!(go_float(999999), "999999");
        assert_eq!(go_float(1000000), "1e+06");
        assert_eq!(go_float(4294967295), "4.294967295e+09");
        assert_eq!(go_float(-2147483648), "-2.147483648e+09");
    }

    #[test]
    fn a_tunnel_without_both_fields_reports_each() {
        let dr = format!("{DR}spec:\n  host: a\n  trafficPolicy:\n    tunnel: {{protocol: CONNECT}}\n");
        assert_eq!(
            messages(&dr),
            [
                "spec.trafficPolicy.tunnel.targetHost: Required value",
                "spec.trafficPolicy.tunnel.targetPort: Required value"
            ]
        );
    }

    #[test]
    fn durations_parse_as_go_does() {
        assert_eq!(go_duration_nanos("1ms"), Some(1_000_000));
        assert_eq!(go_duration_nanos("1h2m3s"), Some(3_723_000_000_000));
        assert_eq!(go_duration_nanos("1.5s"), Some(1_500_000_000));
        assert_eq!(go_duration_nanos("0"), Some(0));
        assert_eq!(go_duration_nanos("10"), None);
        assert_eq!(go_duration_nanos(""), None);
        assert_eq!(go_duration_nanos("5d"), None);
    }

    #[test]
    fn other_kinds_are_not_validated() {
        let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 80}]\n";
        assert!(messages(svc).is_empty());
    }
}

#[cfg(test)]
#[path = "memo_tests.rs"]
mod memo_tests;

#[cfg(test)]
#[path = "walk_tests.rs"]
mod walk_tests;

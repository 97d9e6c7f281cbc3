//! SARIF 2.1.0: rules with help and `helpUri`, results with `physicalLocation`, fixes as `fixes` entries.

use super::rule_url;
use crate::finding::{Severity, Status};
use crate::review::Review;
use crate::rules::RULES;
use serde_json::{Value, json};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// `Missing PeerAuthentication for mesh-wide mTLS` -> `MissingPeerAuthenticationForMeshWideMTLS` (SARIF rule names
/// are identifiers).
fn pascal_case(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next().map(|c| c.to_ascii_uppercase().to_string() + cs.as_str()).unwrap_or_default()
        })
        .collect()
}

/// Renders the SARIF log. In a diff only introduced and existing findings are results (resolved ones are gone).
pub fn render(review: &Review, docs_base: &str) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": pascal_case(r.title),
                "shortDescription": {"text": r.title},
                "fullDescription": {"text": r.help},
                "help": {"text": format!("{}\n{}", r.help, rule_url(docs_base, r.code))},
                "helpUri": rule_url(docs_base, r.code),
                "defaultConfiguration": {"level": level(r.default_severity)},
            })
        })
        .collect();
    let results: Vec<Value> = review
        .findings
        .iter()
        .filter(|f| f.status != Status::Resolved)
        .map(|f| {
            let mut r = json!({
                "ruleId": f.code,
                "level": level(f.severity),
                "message": {"text": format!("{}{}", f.message, super::mesh_note(review, f))},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.location.path},
                        "region": {"startLine": f.location.line, "endLine": f.location.end_line},
                    },
                    "logicalLocations": [{"fullyQualifiedName": f.object.to_string(), "kind": "object"}],
                }],
                "partialFingerprints": {"mtlsReview/v1": f.fingerprint()},
                "properties": {"status": f.status, "meshes": f.meshes, "targets": f.targets},
            });
            if let Some(i) = RULES.iter().position(|x| x.code == f.code) {
                r["ruleIndex"] = json!(i);
            }
            if let Some(fix) = &f.fix {
                let inserted = if fix.replacement.is_empty() { String::new() } else { format!("{}\n", fix.replacement) };
                r["fixes"] = json!([{
                    "description": {"text": fix.description},
                    "artifactChanges": [{
                        "artifactLocation": {"uri": fix.path},
                        "replacements": [{
                            // Whole lines: from the start of start_line to the start of the line after end_line.
                            "deletedRegion": {"startLine": fix.start_line, "startColumn": 1, "endLine": fix.end_line + 1, "endColumn": 1},
                            "insertedContent": {"text": inserted},
                        }],
                    }],
                }]);
            }
            r
        })
        .collect();
    let notifications: Vec<Value> = review
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": if e.error.kind.is_fatal() { "error" } else { "warning" },
                "message": {"text": e.error.message},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": e.error.path}, "region": {"startLine": e.error.line}}}],
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mtls-review",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules,
            }},
            "results": results,
            "invocations": [{"executionSuccessful": true, "toolExecutionNotifications": notifications}],
            "columnKind": "unicodeCodePoints",
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

/// SARIF with the default rule links (the action's `sarif` output).
pub fn render_review(review: &Review) -> String {
    render(review, super::DEFAULT_DOCS_URL)
}

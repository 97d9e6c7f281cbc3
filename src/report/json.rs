//! The JSON report: the stable contract other tools read (`version: 1`).

use crate::review::Review;
use serde_json::{Value, json};

/// Renders the JSON report. Single snapshots omit the review-only keys.
pub fn render(review: &Review) -> String {
    let errors: Vec<Value> = review
        .errors
        .iter()
        .map(|e| {
            let mut v =
                json!({"path": e.error.path, "line": e.error.line, "message": e.error.message, "kind": e.error.kind});
            if review.diff {
                v["introduced"] = json!(e.introduced);
            }
            v
        })
        .collect();
    let mut findings = serde_json::to_value(&review.findings).unwrap_or(Value::Null);
    if review.diff
        && let Value::Array(items) = &mut findings
    {
        for f in items.iter_mut() {
            if f.get("anchors").is_none() && f["status"] == "introduced" {
                f["anchors"] = json!([]);
            }
        }
    }
    // The short form of each finding: its rule's title and one clause.
    if let Value::Array(items) = &mut findings {
        for (v, f) in items.iter_mut().zip(&review.findings) {
            v["title"] = json!(super::title(f.code));
            v["short"] = json!(f.short_clause());
        }
    }
    let mut out = json!({
        "version": 1,
        "findings": findings,
        "errors": errors,
        "settings": review.settings,
    });
    if review.diff {
        out["base"] = json!(review.base);
        out["head"] = json!(review.head);
        out["posture"] = serde_json::to_value(&review.posture).unwrap_or(Value::Null);
        out["config_changed"] = json!(review.config_changed);
        out["connectivity"] = serde_json::to_value(&review.connectivity).unwrap_or(Value::Null);
    }
    let mut s = serde_json::to_string_pretty(&out).unwrap_or_default();
    s.push('\n');
    s
}

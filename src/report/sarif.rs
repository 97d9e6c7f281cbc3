//! SARIF 2.1.0 for GitHub code scanning: rules with `security-severity`, `tags`, `help.text` and `help.markdown`
//! (the rule pages, compiled in), results with `startColumn`, `relatedLocations`, `baselineState` in a change
//! review, stable `partialFingerprints`, and URIs relative to the repository root (`uriBaseId` `%SRCROOT%`).
//!
//! `security-severity` bands (GitHub maps >= 9.0 to critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low; see
//! docs/github-action.md): a rule whose default severity is `error` (the calls it reports fail) scores 7.5, high;
//! a `warning` rule that means plaintext where mTLS was meant (MTLS003, MTLS008) 6.5, a rule about settings that
//! silently do not apply 5.0, both medium; `note` 2.0, low.

use super::{first_column, rule_url};
use crate::finding::{Finding, Severity, Side, Status};
use crate::review::Review;
use crate::rules::{RULES, Rule};
use serde_json::{Value, json};

/// The rule pages, compiled in (`help.markdown`).
pub const RULE_DOCS: &[(&str, &str)] = &[
    ("MTLS001", include_str!("../../docs/rules/MTLS001.md")),
    ("MTLS002", include_str!("../../docs/rules/MTLS002.md")),
    ("MTLS003", include_str!("../../docs/rules/MTLS003.md")),
    ("MTLS005", include_str!("../../docs/rules/MTLS005.md")),
    ("MTLS006", include_str!("../../docs/rules/MTLS006.md")),
    ("MTLS007", include_str!("../../docs/rules/MTLS007.md")),
    ("MTLS008", include_str!("../../docs/rules/MTLS008.md")),
    ("MTLS009", include_str!("../../docs/rules/MTLS009.md")),
    ("MTLS010", include_str!("../../docs/rules/MTLS010.md")),
    ("TIS0205", include_str!("../../docs/rules/TIS0205.md")),
    ("TIS0206", include_str!("../../docs/rules/TIS0206.md")),
    ("TIS0207", include_str!("../../docs/rules/TIS0207.md")),
    ("TIS0208", include_str!("../../docs/rules/TIS0208.md")),
    ("TIS0401", include_str!("../../docs/rules/TIS0401.md")),
    ("TIS0501", include_str!("../../docs/rules/TIS0501.md")),
    ("TIS0502", include_str!("../../docs/rules/TIS0502.md")),
    ("TIS0503", include_str!("../../docs/rules/TIS0503.md")),
];

/// Rules whose findings mean traffic in plaintext where mTLS was meant (CWE-319, cleartext transmission).
const PLAINTEXT_RULES: &[&str] = &["MTLS003", "MTLS008"];

/// How to render the SARIF log.
#[derive(Debug, Clone)]
pub struct SarifOptions {
    pub docs_base: String,
    /// Prepended to every path so URIs are relative to the repository root (`clusters/prod/` when `check` read
    /// `clusters/prod` of a repository); empty when paths already are (git mode, the Action).
    pub uri_prefix: String,
}

impl Default for SarifOptions {
    fn default() -> Self {
        SarifOptions { docs_base: super::DEFAULT_DOCS_URL.to_string(), uri_prefix: String::new() }
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// The rule's `security-severity` (see the module doc for the bands).
pub fn security_severity(r: &Rule) -> &'static str {
    match r.default_severity {
        Severity::Error => "7.5",
        Severity::Warning if PLAINTEXT_RULES.contains(&r.code) => "6.5",
        Severity::Warning => "5.0",
        Severity::Note => "2.0",
    }
}

fn tags(r: &Rule) -> Vec<&'static str> {
    let mut t = vec!["security", "istio", "mtls"];
    t.push(if r.code.starts_with("TIS") { "kiali" } else { "connectivity" });
    if PLAINTEXT_RULES.contains(&r.code) {
        t.push("external/cwe/cwe-319");
    }
    t
}

/// The page of a rule (`docs/rules/CODE.md`), if it has one.
pub fn rule_doc(code: &str) -> Option<&'static str> {
    RULE_DOCS.iter().find(|(c, _)| *c == code).map(|(_, d)| *d)
}

/// A rule page as plain text (`help.text`): headings, emphasis and code marks dropped, links as `text (url)`.
fn plain_text(markdown: &str) -> String {
    let mut out = String::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            continue;
        }
        let l = line.trim_start_matches('#').trim_start_matches(' ');
        let l = if line.starts_with('#') { l.to_string() } else { line.to_string() };
        let mut t = l.replace("**", "").replace('`', "");
        // [text](url) -> text (url)
        while let Some(open) = t.find("](") {
            let Some(start) = t[..open].rfind('[') else { break };
            let Some(close) = t[open..].find(')').map(|c| open + c) else { break };
            let text = t[start + 1..open].to_string();
            let url = t[open + 2..close].to_string();
            t.replace_range(start..=close, &format!("{text} ({url})"));
        }
        out.push_str(t.trim_end());
        out.push('\n');
    }
    out
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

fn uri(opts: &SarifOptions, path: &str) -> Value {
    json!({"uri": format!("{}{path}", opts.uri_prefix), "uriBaseId": "%SRCROOT%"})
}

/// A region of whole lines, with the first non-blank column of the first line and the end of the last one when
/// the source is known.
fn region(review: &Review, side: Side, path: &str, line: usize, end_line: usize) -> Value {
    let src = match side {
        Side::Head => review.head_sources.get(path),
        Side::Base => review.base_sources.get(path),
    };
    let lines = src.map(|s| s.lines()).unwrap_or_default();
    let mut r = json!({"startLine": line.max(1), "endLine": end_line.max(line).max(1)});
    if let Some(first) = lines.get(line.wrapping_sub(1)) {
        r["startColumn"] = json!(first_column(first));
        if let Some(last) = lines.get(end_line.max(line) - 1) {
            r["endColumn"] = json!(last.chars().count() + 1);
        }
    }
    r
}

fn result(review: &Review, f: &Finding, opts: &SarifOptions) -> Value {
    let text = format!("{}{}", f.message, super::mesh_note(review, f));
    let markdown = format!("**{}**: {}{}", super::title(f.code), f.short_clause(), super::mesh_note(review, f));
    let mut r = json!({
        "ruleId": f.code,
        "level": level(f.severity),
        "message": {"text": text, "markdown": format!("{markdown}\n\n{}", super::markdown::escape(&f.message))},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": uri(opts, &f.location.path),
                "region": region(review, f.location.side, &f.location.path, f.location.line, f.location.end_line),
            },
            "logicalLocations": [{"fullyQualifiedName": f.object.to_string(), "kind": "object"}],
        }],
        "partialFingerprints": {"mtlsReview/v1": f.fingerprint()},
        "properties": {"meshes": f.meshes, "targets": f.targets},
    });
    if review.diff {
        r["baselineState"] = json!(match f.status {
            Status::Introduced => "new",
            Status::Existing => "unchanged",
            Status::Resolved => "absent",
        });
        if f.status == Status::Resolved {
            // Gone from the head: a passing result (SARIF requires level `none` for it).
            r["kind"] = json!("pass");
            r["level"] = json!("none");
        }
    }
    if let Some(group) = &f.group {
        r["properties"]["group"] = json!(group);
    }
    if !f.related.is_empty() {
        let related: Vec<Value> = f
            .related
            .iter()
            .enumerate()
            .map(|(i, x)| {
                json!({
                    "id": i + 1,
                    "message": {"text": format!("{}: {}", x.role, x.object)},
                    "physicalLocation": {
                        "artifactLocation": uri(opts, &x.location.path),
                        "region": region(review, x.location.side, &x.location.path, x.location.line, x.location.end_line),
                    },
                })
            })
            .collect();
        r["relatedLocations"] = json!(related);
    }
    if let Some(i) = RULES.iter().position(|x| x.code == f.code) {
        r["ruleIndex"] = json!(i);
    }
    if let Some(fix) = &f.fix
        && f.status != Status::Resolved
    {
        let inserted = if fix.replacement.is_empty() { String::new() } else { format!("{}\n", fix.replacement) };
        r["fixes"] = json!([{
            "description": {"text": fix.description},
            "artifactChanges": [{
                "artifactLocation": uri(opts, &fix.path),
                "replacements": [{
                    // Whole lines: from the start of start_line to the start of the line after end_line.
                    "deletedRegion": {"startLine": fix.start_line, "startColumn": 1, "endLine": fix.end_line + 1, "endColumn": 1},
                    "insertedContent": {"text": inserted},
                }],
            }],
        }]);
    }
    r
}

/// Renders the SARIF log. A single snapshot has no baseline: its results carry no `baselineState`.
pub fn render(review: &Review, opts: &SarifOptions) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            let url = rule_url(&opts.docs_base, r.code);
            let markdown = rule_doc(r.code).map(str::to_string).unwrap_or_else(|| format!("{}\n\n{url}", r.help));
            let text = rule_doc(r.code).map(plain_text).unwrap_or_else(|| format!("{}\n\n{url}", r.help));
            json!({
                "id": r.code,
                "name": pascal_case(r.title),
                "shortDescription": {"text": r.title},
                "fullDescription": {"text": r.help},
                "help": {"text": text, "markdown": markdown},
                "helpUri": url,
                "defaultConfiguration": {"level": level(r.default_severity)},
                "properties": {"security-severity": security_severity(r), "tags": tags(r), "precision": "high"},
            })
        })
        .collect();
    let results: Vec<Value> = review.findings.iter().map(|f| result(review, f, opts)).collect();
    let notifications: Vec<Value> = review
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": if e.error.kind.is_fatal() { "error" } else { "warning" },
                "message": {"text": e.error.message},
                "locations": [{"physicalLocation": {"artifactLocation": uri(opts, &e.error.path), "region": {"startLine": e.error.line.max(1)}}}],
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
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The root of the repository (the working directory of the run when it is not in one)."}}},
            "results": results,
            "invocations": [{"executionSuccessful": true, "toolExecutionNotifications": notifications}],
            "columnKind": "unicodeCodePoints",
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

/// SARIF with the default rule links and repository-relative paths (the action's `sarif` output).
pub fn render_review(review: &Review) -> String {
    render(review, &SarifOptions::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_its_page_and_a_score_in_a_band() {
        for r in RULES {
            let doc = rule_doc(r.code).unwrap_or_else(|| panic!("{} has no docs/rules page", r.code));
            assert!(doc.starts_with(&format!("# {}: ", r.code)), "{}", r.code);
            let score: f64 = security_severity(r).parse().expect("a number");
            assert!((0.1..=10.0).contains(&score));
        }
        assert_eq!(RULE_DOCS.len(), RULES.len(), "a page for a rule that is not registered");
    }

    #[test]
    fn help_text_is_the_page_without_markup() {
        assert_eq!(plain_text("# T: x\n\nA **b** `c` [d](https://e/f).\n"), "T: x\n\nA b c d (https://e/f).\n");
        assert_eq!(plain_text("a:\n\n```yaml\nkind: X\n```\n"), "a:\n\nkind: X\n");
    }

    #[test]
    fn a_change_review_has_baseline_states_and_resolved_findings_pass() {
        let review = crate::report::text::tests::grouped_review();
        let v: Value = serde_json::from_str(&render(
            &review,
            &SarifOptions { uri_prefix: "clusters/prod/".into(), ..SarifOptions::default() },
        ))
        .expect("json");
        let results = v["runs"][0]["results"].as_array().expect("results");
        let states: Vec<&str> = results.iter().map(|r| r["baselineState"].as_str().unwrap_or("")).collect();
        assert_eq!(states, ["new", "new", "absent"]);
        assert_eq!(results[2]["level"], "none");
        assert_eq!(results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "clusters/prod/pa.yaml");
        assert_eq!(results[0]["locations"][0]["physicalLocation"]["region"]["startColumn"], 5);
        assert_eq!(results[0]["relatedLocations"][0]["physicalLocation"]["region"]["startLine"], 10);
        assert!(results[0].get("properties").and_then(|p| p.get("status")).is_none());
    }
}

//! GitHub-flavoured Markdown: the step summary and the review body. Posture changes first, then introduced,
//! resolved and existing findings, then files that could not be analyzed.

use super::{counts, plural, rule_url};
use crate::finding::{Finding, Status};
use crate::review::{NamespacePosture, Review};

/// Escapes text for a Markdown table cell or inline text.
pub fn escape(s: &str) -> String {
    s.replace('|', "\\|").replace('<', "&lt;").replace('>', "&gt;").replace('\n', " ")
}

/// Renders the review as Markdown with rule links under `docs_base`.
pub fn render(review: &Review, docs_base: &str) -> String {
    let mut out = String::from("## mtls-review\n\n");
    let (e, w, n) = counts(review);
    let verdict = if review.diff { "This change introduces" } else { "Found" };
    let mut parts = vec![plural(e, "error"), plural(w, "warning")];
    if n > 0 {
        parts.push(plural(n, "note"));
    }
    out.push_str(&format!("{verdict} **{}**", parts.join("** and **")));
    if review.diff {
        let resolved = review.findings.iter().filter(|f| f.status == Status::Resolved).count();
        let existing = review.findings.iter().filter(|f| f.status == Status::Existing).count();
        out.push_str(&format!("; it resolves {resolved}, and {existing} existed before."));
    } else {
        out.push('.');
    }
    out.push('\n');
    if review.diff {
        out.push_str(&posture_section(review));
        if !review.connectivity.is_empty() {
            // Large tables fold away so the review body stays readable.
            let n = review.connectivity.len();
            out.push_str(&format!("\n### Connectivity changes ({n})\n\n"));
            let table = super::posture::render_diff_markdown(&review.connectivity);
            if n > 10 {
                out.push_str(&format!("<details><summary>{n} client paths change</summary>\n\n{table}\n</details>\n"));
            } else {
                out.push_str(&table);
            }
        }
    }
    if review.config_changed {
        out.push_str(
            "\n> [!NOTE]\n> This change edits `.mtls-review.yaml`. The review used the base branch's version, so a change \
             cannot silence its own findings.\n",
        );
    }
    let sections: &[(Status, &str)] = if review.diff {
        &[(Status::Introduced, "Introduced"), (Status::Resolved, "Resolved"), (Status::Existing, "Existing")]
    } else {
        &[(Status::Existing, "Findings")]
    };
    for (status, title) in sections {
        let items: Vec<&Finding> = review.findings.iter().filter(|f| f.status == *status).collect();
        if items.is_empty() {
            continue;
        }
        out.push_str(&format!("\n### {title} ({})\n\n", items.len()));
        out.push_str("| | Rule | Object | Where | Finding |\n|---|---|---|---|---|\n");
        for f in items {
            let icon = match f.severity {
                crate::finding::Severity::Error => "🔴 error",
                crate::finding::Severity::Warning => "🟡 warning",
                crate::finding::Severity::Note => "🔵 note",
            };
            let side = if f.location.side == crate::finding::Side::Base { " (base)" } else { "" };
            let unanchored = if *status == Status::Introduced && f.anchors.as_ref().is_some_and(Vec::is_empty) {
                " (no changed line)"
            } else {
                ""
            };
            out.push_str(&format!(
                "| {icon} | [{code}]({url}) | {obj} | `{path}:{line}`{side}{unanchored} | {msg}{fix} |\n",
                code = f.code,
                url = rule_url(docs_base, f.code),
                obj = escape(&format!("{}{}", f.object, super::mesh_note(review, f))),
                path = escape(&f.location.path),
                line = f.location.line,
                msg = escape(&f.message),
                fix = f.fix.as_ref().map(|x| format!(" **Fix:** {}", escape(&x.description))).unwrap_or_default(),
            ));
        }
    }
    let errors: Vec<_> = review.errors.iter().filter(|e| e.error.kind.is_fatal()).collect();
    if !errors.is_empty() {
        out.push_str(&format!("\n### Files not analyzed ({})\n\n", errors.len()));
        for e in errors {
            let intro = if review.diff && e.introduced { " — **introduced by this change**" } else { "" };
            out.push_str(&format!(
                "- `{}:{}`: {}{intro}\n",
                escape(&e.error.path),
                e.error.line,
                escape(&e.error.message)
            ));
        }
    }
    if review.findings.is_empty() && review.errors.is_empty() {
        out.push_str("\nNo mTLS findings. ✅\n");
    }
    out
}

/// The posture table: `before -> after` for each scope whose server or client mode changed.
fn posture_section(review: &Review) -> String {
    let p = &review.posture;
    if p.changed.is_empty() {
        return "\nmTLS posture: unchanged.\n".to_string();
    }
    let mut out = String::from(
        "\n### mTLS posture changes\n\n| Scope | Server mode | Client TLS (namespace-wide DR) | Decided by |\n|---|---|---|---|\n",
    );
    for scope in &p.changed {
        let before = p.before.iter().find(|x| &x.scope == scope);
        let after = p.after.iter().find(|x| &x.scope == scope);
        let cell = |f: fn(&NamespacePosture) -> String| {
            let b = before.map(f).unwrap_or_else(|| "—".into());
            let a = after.map(f).unwrap_or_else(|| "—".into());
            if a == b { b } else { format!("{b} → **{a}**") }
        };
        let server = cell(|x| x.server_mode.clone());
        let client = cell(|x| x.client_tls.clone());
        let decided = after.or(before).map(|x| {
            let mut d = x.server_decided_by.clone();
            if let Some(c) = &x.client_decided_by {
                d.push_str(&format!("; {c}"));
            }
            d
        });
        let scope_label = if scope == "mesh" { "mesh".to_string() } else { format!("namespace `{scope}`") };
        out.push_str(&format!("| {scope_label} | {server} | {client} | {} |\n", escape(&decided.unwrap_or_default())));
    }
    out
}

/// The review summary with the default rule links (the GitHub step summary and review body).
pub fn render_review(review: &Review) -> String {
    render(review, super::DEFAULT_DOCS_URL)
}

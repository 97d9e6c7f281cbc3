//! Reports: one renderer per file, each a pure function of a [`Review`] to text. The core never prints.

pub mod json;
pub mod markdown;
pub mod posture;
pub mod sarif;
pub mod targets;
pub mod text;
pub mod workflow;

use crate::finding::Severity;
use crate::review::Review;

/// Default base URL of the rule pages (`<base>/<CODE>.md`).
pub const DEFAULT_DOCS_URL: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/rules");

/// The URL of a rule's page.
pub fn rule_url(docs_base: &str, code: &str) -> String {
    format!("{}/{code}.md", docs_base.trim_end_matches('/'))
}

/// Counts of findings by severity among those that count for the report (introduced in a diff, all otherwise).
pub fn counts(review: &Review) -> (usize, usize, usize) {
    let mut c = (0, 0, 0);
    for f in review.findings.iter().filter(|f| !review.diff || f.status == crate::finding::Status::Introduced) {
        match f.severity {
            Severity::Error => c.0 += 1,
            Severity::Warning => c.1 += 1,
            Severity::Note => c.2 += 1,
        }
    }
    c
}

/// "1 error", "2 warnings".
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") }
}

/// ` [mesh dev]` / ` [meshes dev, prod]` when the review holds several meshes (a tree read as one mesh names none).
pub fn mesh_note(review: &crate::review::Review, f: &crate::finding::Finding) -> String {
    if review.meshes.len() <= 1 || f.meshes.is_empty() {
        return String::new();
    }
    let word = if f.meshes.len() == 1 { "mesh" } else { "meshes" };
    format!(" [{word} {}]", f.meshes.join(", "))
}

/// A rule's title (the code itself for an unknown code).
pub fn title(code: &str) -> &'static str {
    crate::rules::rule(code).map(|r| r.title).unwrap_or("mTLS finding")
}

/// The short form of a finding: the rule's title and one clause (`Missing PeerAuthentication for namespace-wide
/// mTLS: servers accept only plaintext and these calls fail`). The long form is `Finding::message`.
pub fn short(f: &crate::finding::Finding) -> String {
    let clause = f.short_clause();
    if clause.is_empty() { title(f.code).to_string() } else { format!("{}: {clause}", title(f.code)) }
}

/// A line range as people write it: `7`, or `7-12`.
pub fn line_range(line: usize, end_line: usize) -> String {
    if end_line > line { format!("{line}-{end_line}") } else { line.to_string() }
}

/// The 1-based column of a line's first non-blank character (where a caret under it starts).
pub fn first_column(line_text: &str) -> usize {
    line_text.chars().take_while(|c| c.is_whitespace()).count() + 1
}

/// What a source line does, for a label under it: `mode: ISTIO_MUTUAL` of a DestinationRule `sends ISTIO_MUTUAL`,
/// `mode: STRICT` of a PeerAuthentication `accepts only mTLS`. `None` for other lines.
pub fn line_label(kind: &str, line_text: &str) -> Option<String> {
    let (key, value) = line_text.trim().trim_start_matches("- ").split_once(':')?;
    let value = value.split('#').next().unwrap_or("").trim().trim_matches(|c| c == '"' || c == '\'');
    if key.trim() != "mode" {
        return None;
    }
    let upper = value.to_ascii_uppercase();
    match kind {
        "DestinationRule" => Some(match upper.as_str() {
            "" => "sends plaintext (a tls block without mode)".to_string(),
            "DISABLE" => "sends plaintext (DISABLE)".to_string(),
            "ISTIO_MUTUAL" => "sends ISTIO_MUTUAL".to_string(),
            _ => format!("sends {value}"),
        }),
        "PeerAuthentication" => Some(match upper.as_str() {
            "STRICT" => "accepts only mTLS (STRICT)".to_string(),
            "PERMISSIVE" => "accepts mTLS and plaintext (PERMISSIVE)".to_string(),
            "DISABLE" => "accepts only plaintext (DISABLE)".to_string(),
            "UNSET" | "" => "inherits the mode (UNSET)".to_string(),
            _ => format!("mode {value}"),
        }),
        _ => None,
    }
}

/// True when the change deletes the file at `path` (a base-side path with no head side).
pub fn deleted_file(review: &Review, path: &str) -> bool {
    review.changes.iter().any(|c| c.head_path.is_none() && c.base_path.as_deref() == Some(path))
}

/// Why the run passes or fails under `fail_on`, in one line: `fails: fail-on error: 2 introduced errors`,
/// `passes: fail-on error: no introduced error (1 warning below the threshold)`. The same rule as the exit code
/// (`app::fails`): in a change review only introduced findings and files the change broke count.
pub fn verdict(review: &Review, fail_on: crate::settings::FailOn) -> (bool, String) {
    use crate::settings::FailOn;
    let name = match fail_on {
        FailOn::Error => "error",
        FailOn::Warning => "warning",
        FailOn::Note => "note",
        FailOn::Never => "never",
    };
    let counted = |f: &&crate::finding::Finding| !review.diff || f.status == crate::finding::Status::Introduced;
    let adj = if review.diff { "introduced " } else { "" };
    let mut failing: Vec<String> = Vec::new();
    let mut below: Vec<String> = Vec::new();
    for sev in [Severity::Error, Severity::Warning, Severity::Note] {
        let n = review.findings.iter().filter(counted).filter(|f| f.severity == sev).count();
        if n == 0 {
            continue;
        }
        let text = plural(n, &format!("{adj}{}", sev.as_str()));
        if fail_on.fails(sev) { failing.push(text) } else { below.push(text) }
    }
    let broken =
        if review.diff { review.errors.iter().filter(|e| e.introduced && e.error.kind.is_fatal()).count() } else { 0 };
    if broken > 0 {
        let text = format!("{} the change broke", plural(broken, "file"));
        if fail_on.fails(Severity::Error) { failing.push(text) } else { below.push(text) }
    }
    if !failing.is_empty() {
        return (true, format!("fails: fail-on {name}: {}", failing.join(", ")));
    }
    let what = match fail_on {
        FailOn::Never => "nothing fails the run".to_string(),
        _ => format!("no {adj}finding at {name} or above"),
    };
    let rest = if below.is_empty() { String::new() } else { format!(" ({} below the threshold)", below.join(", ")) };
    (false, format!("passes: fail-on {name}: {what}{rest}"))
}

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

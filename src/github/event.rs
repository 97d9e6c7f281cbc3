//! The webhook payload of the event that started the workflow: which pull request, which commits, and whether
//! it comes from a fork.
//!
//! Read as raw JSON into small structs of our own: recorded payloads differ in which fields they carry (some lack
//! `node_id`), and we need only a handful.

use serde::Deserialize;
use std::path::Path;
use thiserror::Error;

/// The events the action reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// `pull_request`: runs in the context of the merge commit; a fork's run gets a read-only token.
    PullRequest,
    /// `pull_request_target`: runs in the context of the base branch with a write token, even for forks.
    PullRequestTarget,
}

impl EventKind {
    /// Maps `GITHUB_EVENT_NAME`; `None` for events the action does not review.
    pub fn from_name(name: &str) -> Option<EventKind> {
        match name {
            "pull_request" => Some(EventKind::PullRequest),
            "pull_request_target" => Some(EventKind::PullRequestTarget),
            _ => None,
        }
    }
}

/// What the action needs to know about the pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    /// `pull_request.base.sha`: the base branch tip the pull request was last compared against.
    pub base_sha: String,
    /// `pull_request.head.sha`: the commit review comments and the check run refer to (never `GITHUB_SHA`, which
    /// on `pull_request` is a merge commit GitHub made).
    pub head_sha: String,
    pub base_ref: String,
    pub head_ref: String,
    /// `pull_request.base.repo.full_name`.
    pub base_repo: String,
    /// `pull_request.head.repo.full_name`; `None` when the fork was deleted (`head.repo` is null).
    pub head_repo: Option<String>,
}

impl PullRequest {
    /// True when the head lives in another repository (a fork, or a deleted fork).
    pub fn is_cross_repository(&self) -> bool {
        self.head_repo.as_deref() != Some(self.base_repo.as_str())
    }

    /// True when this run's token is read-only because of where the pull request comes from: a `pull_request`
    /// event from a fork. (`pull_request_target` runs with the base repository's token.)
    pub fn has_read_only_token(&self, kind: EventKind) -> bool {
        kind == EventKind::PullRequest && self.is_cross_repository()
    }
}

/// A payload the action cannot use.
#[derive(Debug, Error)]
pub enum EventError {
    #[error("cannot read the event payload {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("the event payload {path} is not a pull_request payload: {message}")]
    Parse { path: String, message: String },
}

#[derive(Deserialize)]
struct Payload {
    pull_request: RawPr,
    #[serde(default)]
    number: Option<u64>,
}

#[derive(Deserialize)]
struct RawPr {
    #[serde(default)]
    number: Option<u64>,
    base: RawRef,
    head: RawRef,
}

#[derive(Deserialize)]
struct RawRef {
    sha: String,
    #[serde(default, rename = "ref")]
    git_ref: String,
    #[serde(default)]
    repo: Option<RawRepo>,
}

#[derive(Deserialize)]
struct RawRepo {
    full_name: String,
}

/// Parses a `pull_request` / `pull_request_target` payload.
pub fn parse(path_label: &str, json: &str) -> Result<PullRequest, EventError> {
    let bad = |message: String| EventError::Parse { path: path_label.to_string(), message };
    let p: Payload = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    let number = p.pull_request.number.or(p.number).ok_or_else(|| bad("no pull request number".into()))?;
    let base_repo = p.pull_request.base.repo.map(|r| r.full_name).ok_or_else(|| bad("no base repository".into()))?;
    for sha in [&p.pull_request.base.sha, &p.pull_request.head.sha] {
        if sha.len() < 7 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(format!("`{sha}` is not a commit SHA")));
        }
    }
    Ok(PullRequest {
        number,
        base_sha: p.pull_request.base.sha,
        head_sha: p.pull_request.head.sha,
        base_ref: p.pull_request.base.git_ref,
        head_ref: p.pull_request.head.git_ref,
        base_repo,
        head_repo: p.pull_request.head.repo.map(|r| r.full_name),
    })
}

/// Reads and parses the payload file.
pub fn read(path: &Path) -> Result<PullRequest, EventError> {
    let label = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| EventError::Read { path: label.clone(), source })?;
    parse(&label, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_repository_and_fork() {
        let same = r#"{"number":3,"pull_request":{"base":{"sha":"f95f852b","ref":"main","repo":{"full_name":"o/r"}},
            "head":{"sha":"ec26c3e5","ref":"feature","repo":{"full_name":"o/r"}}}}"#;
        let pr = parse("e.json", same).unwrap();
        assert_eq!((pr.number, pr.head_sha.as_str()), (3, "ec26c3e5"));
        assert!(!pr.has_read_only_token(EventKind::PullRequest));
        let fork = same.replace(r#""ref":"feature","repo":{"full_name":"o/r"}"#, r#""ref":"feature","repo":null"#);
        let pr = parse("e.json", &fork).unwrap();
        assert!(pr.has_read_only_token(EventKind::PullRequest));
        assert!(!pr.has_read_only_token(EventKind::PullRequestTarget));
    }

    #[test]
    fn a_push_payload_is_refused_with_its_path() {
        let err = parse("push.json", r#"{"ref":"refs/heads/main"}"#).unwrap_err();
        assert!(err.to_string().contains("push.json"));
    }
}

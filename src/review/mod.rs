//! Change review: base vs head. Matches findings by identity (introduced / existing / resolved), anchors
//! introduced findings on the changed lines that caused them, and compares posture before and after.

pub mod build;
pub mod compact;
pub mod diff;
pub mod group;
pub mod posture;
#[cfg(test)]
mod tests;

pub use build::{ReviewInput, TreeFile, review};

use crate::finding::{Finding, LoadError, Side};
use crate::manifest::SourceText;
use crate::settings::MeshSettings;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One diff hunk of a file, as a unified diff with 3 lines of context (what GitHub shows on the PR page).
/// Lines are 1-based; a `*_lines` of 0 means the hunk has no lines on that side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hunk {
    pub base_start: usize,
    pub base_lines: usize,
    pub head_start: usize,
    pub head_lines: usize,
}

impl Hunk {
    /// True when `line` on `side` lies inside this hunk (a line GitHub accepts a review comment on).
    pub fn contains(&self, side: Side, line: usize) -> bool {
        let (start, len) = match side {
            Side::Base => (self.base_start, self.base_lines),
            Side::Head => (self.head_start, self.head_lines),
        };
        // An empty range when the hunk has no lines on that side.
        (start..start + len).contains(&line)
    }
}

/// How one file changed between base and head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    /// Path on the head side (`None`: deleted).
    pub head_path: Option<String>,
    /// Path on the base side (`None`: added).
    pub base_path: Option<String>,
    /// Hunks with 3 lines of context.
    pub hunks: Vec<Hunk>,
    /// Line ranges (inclusive) added or modified on the head side.
    pub added: Vec<(usize, usize)>,
    /// Line ranges (inclusive) deleted from the base side.
    pub deleted: Vec<(usize, usize)>,
}

/// The result of reviewing a change (or, with `diff == false`, of checking one snapshot).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Review {
    /// True for a base-vs-head review; false for a single snapshot (every finding `existing`).
    #[serde(skip)]
    pub diff: bool,
    /// Head-side (or snapshot) source texts by path, for rendering source lines.
    #[serde(skip)]
    pub head_sources: BTreeMap<String, Arc<SourceText>>,
    /// Base-side source texts by path.
    #[serde(skip)]
    pub base_sources: BTreeMap<String, Arc<SourceText>>,
    /// Introduced, existing and resolved findings (introduced ones carry `anchors`), in report order.
    pub findings: Vec<Finding>,
    /// Files that could not be read or parsed, on the head side; `introduced` when the change added or modified them.
    pub errors: Vec<ReviewError>,
    pub settings: MeshSettings,
    /// The merge base (git) or the base directory.
    pub base: String,
    /// The head revision or directory.
    pub head: String,
    /// Changed files with their hunks.
    pub changes: Vec<FileChange>,
    /// True when `.mtls-review.yaml` differs between base and head (the base side's is used).
    pub config_changed: bool,
    /// Posture before and after at namespace granularity.
    pub posture: PostureChange,
    /// Client paths (service port x client namespace) whose verdict or modes change.
    pub connectivity: Vec<crate::posture::RowChange>,
    /// The meshes of the head side (or the snapshot) and their targets.
    pub meshes: Vec<MeshSummary>,
}

/// Validates the head side's project config (`.mtls-review.yaml`) of a review: the base side's is the one used,
/// but a change that makes it invalid would merge green and break every later review. An invalid head config
/// (different from the base's) is an introduced error on its line.
pub fn check_head_config(review: &mut Review, base: Option<&str>, head: Option<&str>) {
    let Some(head) = head.filter(|h| Some(*h) != base) else {
        return;
    };
    let path = crate::settings::PROJECT_CONFIG_FILE;
    if let Err(e) = crate::rules::parse_project_config(path, head) {
        review.errors.push(ReviewError {
            error: LoadError {
                path: path.to_string(),
                line: e.line,
                message: format!(
                    "invalid project config on the head side: {} (this review uses the base side's; every later review \
                     would stop on it)",
                    e.message
                ),
                kind: crate::finding::ErrorKind::Parse,
            },
            introduced: true,
        });
        review.errors.sort_by(|a, b| a.error.cmp(&b.error).then(b.introduced.cmp(&a.introduced)));
    }
}

/// One mesh and the targets that feed it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MeshSummary {
    pub name: String,
    pub targets: Vec<String>,
}

/// A load error with its change status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewError {
    #[serde(flatten)]
    pub error: LoadError,
    /// True when the change added or modified the file and it no longer parses (counts as an introduced error).
    pub introduced: bool,
}

/// Namespace-granularity posture on both sides.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PostureChange {
    pub before: Vec<NamespacePosture>,
    pub after: Vec<NamespacePosture>,
    /// Scopes (`mesh` or a namespace) whose server or client mode changed.
    pub changed: Vec<String>,
}

/// The effective modes of one scope (`mesh` or a namespace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamespacePosture {
    /// `mesh` for the mesh-wide row, else the namespace.
    pub scope: String,
    /// Effective server mode: STRICT, PERMISSIVE, DISABLE.
    pub server_mode: String,
    /// What decides it: `mesh PeerAuthentication istio-system/default`, `namespace PeerAuthentication ns/name`,
    /// or `default`.
    pub server_decided_by: String,
    /// The namespace-wide (or for `mesh`, mesh-wide) DestinationRule TLS mode, or `auto` when none sets it.
    pub client_tls: String,
    pub client_decided_by: Option<String>,
}

#[cfg(test)]
#[path = "mod_mutation_tests.rs"]
mod mutation_tests;

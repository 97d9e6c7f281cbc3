//! Sources: where the bytes come from (a directory, a git tree via git2, two of them). Nothing else touches
//! the file system or git.

pub mod dir;
pub mod git;

use std::path::PathBuf;
use thiserror::Error;

/// Files of one tree: (path relative to the tree's root, `/`-separated; bytes).
pub type Files = Vec<(String, Vec<u8>)>;

/// What a source could not do.
#[derive(Debug, Error)]
pub enum SourceError {
    #[error("{}: no such file or directory", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// A revision that does not resolve to a commit here; `shallow` tells a shallow clone (history cut off)
    /// from a full one (a name that does not exist, or a commit never fetched).
    #[error("{}", missing_commit_message(side, rev, *shallow, fetch))]
    MissingCommit {
        /// `base` or `head`.
        side: &'static str,
        rev: String,
        shallow: bool,
        /// The command that fetches it (`git fetch origin main` for `origin/main`).
        fetch: String,
    },
    #[error("{}", no_merge_base_message(base, head, *shallow))]
    NoMergeBase { base: String, head: String, shallow: bool },
    #[error("{}: not a git repository ({message})", path.display())]
    NotARepository { path: PathBuf, message: String },
    #[error("git: {message}")]
    Git { message: String },
    #[error(
        "no manifests read from {place}: nothing was checked. Point the paths at the directories that hold the \
         manifests (.yaml, .yml, .json)"
    )]
    NoManifests { place: String },
    #[error("{what} `{path}` matches no file {place}: mistyped?")]
    NoMatch { what: &'static str, path: String, place: String },
    #[error("invalid project config (base side): {0}")]
    Config(#[from] crate::settings::ConfigError),
}

fn missing_commit_message(side: &str, rev: &str, shallow: bool, fetch: &str) -> String {
    let commit_id = (4..=40).contains(&rev.len()) && rev.bytes().all(|b| b.is_ascii_hexdigit());
    if !commit_id {
        // A name (branch, tag, remote-tracking branch): shallowness cuts history, never names.
        return format!(
            "the {side} revision `{rev}` is not in this repository: no branch or tag of that name here. Check the \
             name, or fetch it (`{fetch}`)"
        );
    }
    if shallow {
        format!(
            "the {side} revision `{rev}` is not in this repository, a shallow clone (actions/checkout fetches one \
             commit by default): set `fetch-depth: 0` on actions/checkout, or fetch it (`{fetch}`)"
        )
    } else {
        format!(
            "the {side} revision `{rev}` is not in this repository (a full clone: no history is cut off, the commit \
             was never fetched or does not exist). Check the id, or fetch it (`{fetch}`)"
        )
    }
}

fn no_merge_base_message(base: &str, head: &str, shallow: bool) -> String {
    if shallow {
        format!(
            "no merge base between the base `{base}` and the head `{head}`: this shallow clone lacks the history \
             connecting them. Set `fetch-depth: 0` on actions/checkout, or run `git fetch --unshallow`"
        )
    } else {
        format!(
            "no merge base between the base `{base}` and the head `{head}`: they share no history (a full clone, \
             so nothing is missing). Is the base the branch the head was made from?"
        )
    }
}

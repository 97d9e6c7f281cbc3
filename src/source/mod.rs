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
    #[error(
        "commit `{rev}` is not in this repository. The clone is probably shallow (actions/checkout fetches one commit \
         by default): set `fetch-depth: 0` on actions/checkout, or fetch the base commit (`git fetch origin {rev}`)"
    )]
    MissingCommit { rev: String },
    #[error(
        "no merge base between `{base}` and `{head}`: the history connecting them is missing (shallow clone?). Set \
         `fetch-depth: 0` on actions/checkout, or run `git fetch --unshallow`"
    )]
    NoMergeBase { base: String, head: String },
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

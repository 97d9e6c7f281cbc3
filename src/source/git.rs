//! Reads the two trees of a change straight from the git object database with git2: no checkout, no work tree.
//! The head is compared with the merge base of base and head, as the pull request page does.

use super::SourceError;
use crate::manifest::is_manifest_path;
use crate::review::{Review, ReviewInput, TreeFile};
use crate::settings::{AnalysisOptions, PROJECT_CONFIG_FILE};
use git2::{
    DiffFindOptions, DiffOptions, ErrorClass, ErrorCode, ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult,
};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Both sides read from a repository, and the project config text of the base and head commits.
pub struct GitChange {
    pub input: ReviewInput,
    /// `.mtls-review.yaml` as of the base commit (the one that applies).
    pub base_config: Option<String>,
    /// `.mtls-review.yaml` as of the head commit (validated: a change must not break the next review's config).
    pub head_config: Option<String>,
}

fn git_err(e: git2::Error) -> SourceError {
    SourceError::Git { message: e.message().to_string() }
}

/// Opens the repository containing `dir`.
pub fn open(dir: &Path) -> Result<Repository, SourceError> {
    Repository::discover(dir)
        .map_err(|e| SourceError::NotARepository { path: dir.to_path_buf(), message: e.message().to_string() })
}

/// Resolves the revision of one side (`base` or `head`) to a commit. A revision that is not there is reported
/// with the side, whether the clone is shallow, and the command that fetches it.
pub fn resolve_commit(repo: &Repository, rev: &str, side: &'static str) -> Result<Oid, SourceError> {
    let missing = || SourceError::MissingCommit {
        side,
        rev: rev.to_string(),
        shallow: repo.is_shallow(),
        fetch: fetch_command(repo, rev),
    };
    let is_sha = rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit());
    let obj = if is_sha {
        let oid = Oid::from_str(rev).map_err(|_| missing())?;
        repo.find_object(oid, None).map_err(|e| match (e.class(), e.code()) {
            (ErrorClass::Odb, _) | (_, ErrorCode::NotFound) => missing(),
            _ => git_err(e),
        })?
    } else {
        repo.revparse_single(rev).map_err(|e| match e.code() {
            ErrorCode::NotFound | ErrorCode::Ambiguous => missing(),
            _ => git_err(e),
        })?
    };
    obj.peel_to_commit().map(|c| c.id()).map_err(|_| missing())
}

/// The command that fetches `rev`: for a remote-tracking name (`origin/main`, `refs/remotes/origin/main`) the
/// branch from its remote (`git fetch origin main`), else the revision from `origin` (or the only remote).
pub fn fetch_command(repo: &Repository, rev: &str) -> String {
    let mut remotes: Vec<String> = Vec::new();
    if let Ok(names) = repo.remotes() {
        for i in 0..names.len() {
            if let Ok(Some(n)) = names.get(i) {
                remotes.push(n.to_string());
            }
        }
    }
    let name = rev.strip_prefix("refs/remotes/").unwrap_or(rev);
    // The longest remote name that prefixes the revision (remote names may contain `/`).
    let tracking = remotes
        .iter()
        .filter(|r| name.len() > r.len() + 1 && name.starts_with(r.as_str()) && name.as_bytes()[r.len()] == b'/')
        .max_by_key(|r| r.len());
    if let Some(remote) = tracking {
        return format!("git fetch {remote} {}", &name[remote.len() + 1..]);
    }
    let remote = if remotes.iter().any(|r| r == "origin") || remotes.len() != 1 {
        "origin".to_string()
    } else {
        remotes[0].clone()
    };
    let rev = rev.strip_prefix("refs/heads/").unwrap_or(rev);
    format!("git fetch {remote} {rev}")
}

/// Files of a tree that the loader reads, under `paths` (repository-relative prefixes; empty: everything).
/// Submodules and symlinks are skipped.
fn tree_files(
    repo: &Repository,
    tree: &git2::Tree,
    paths: &[String],
    mut support: Option<&mut Vec<(String, Oid)>>,
) -> Result<Vec<(String, Oid)>, SourceError> {
    let prefixes: Vec<String> =
        paths.iter().map(|p| p.trim_matches('/').to_string()).filter(|p| !p.is_empty() && p != ".").collect();
    let mut out = Vec::new();
    tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() != Some(ObjectType::Blob) || entry.filemode() == 0o120000 {
            return TreeWalkResult::Ok;
        }
        let Ok(name) = entry.name() else { return TreeWalkResult::Ok };
        let path = format!("{dir}{name}");
        let under = prefixes.is_empty()
            || crate::manifest::is_kustomization(&path)
            || prefixes.iter().any(|p| path == *p || path.starts_with(&format!("{p}/")));
        if under && is_manifest_path(&path) {
            out.push((path, entry.id()));
        } else if support.is_some() && !is_manifest_path(&path) {
            if let Some(s) = support.as_mut() {
                s.push((path, entry.id()));
            }
        }
        TreeWalkResult::Ok
    })
    .map_err(git_err)?;
    let _ = repo;
    out.sort();
    Ok(out)
}

/// Reads these blobs (distinct ids), split over the machine's cores, each thread with its own handle on the
/// repository (a `Repository` is not shared between threads). Few blobs are read on this thread.
fn read_blobs(repo: &Repository, ids: &[Oid]) -> Result<HashMap<Oid, Arc<[u8]>>, SourceError> {
    type Read = Result<Vec<(Oid, Arc<[u8]>)>, SourceError>;
    let read = |repo: &Repository, ids: &[Oid]| -> Read {
        ids.iter().map(|id| Ok((*id, Arc::from(repo.find_blob(*id).map_err(git_err)?.content())))).collect()
    };
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8);
    if threads < 2 || ids.len() < PARALLEL_BLOBS {
        return Ok(read(repo, ids)?.into_iter().collect());
    }
    let mut chunks = ids.chunks(ids.len().div_ceil(threads));
    let first = chunks.next().unwrap_or_default();
    let path = repo.path().to_path_buf();
    let results: Vec<Read> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .map(|chunk| {
                let path = &path;
                s.spawn(move || read(&Repository::open(path).map_err(git_err)?, chunk))
            })
            .collect();
        let mut out = vec![read(repo, first)];
        for h in handles {
            out.push(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        out
    });
    let mut cache = HashMap::with_capacity(ids.len());
    for r in results {
        cache.extend(r?);
    }
    Ok(cache)
}

/// Reviews with at least this many distinct manifest blobs read them on several threads.
const PARALLEL_BLOBS: usize = 512;

fn read_blob(repo: &Repository, id: Oid, cache: &mut HashMap<Oid, Arc<[u8]>>) -> Result<Arc<[u8]>, SourceError> {
    if let Some(b) = cache.get(&id) {
        return Ok(b.clone());
    }
    let blob = repo.find_blob(id).map_err(git_err)?;
    let bytes: Arc<[u8]> = Arc::from(blob.content());
    cache.insert(id, bytes.clone());
    Ok(bytes)
}

fn config_at(repo: &Repository, commit: Oid) -> Result<Option<String>, SourceError> {
    let tree = repo.find_commit(commit).and_then(|c| c.tree()).map_err(git_err)?;
    match tree.get_path(Path::new(PROJECT_CONFIG_FILE)) {
        Ok(entry) => {
            let blob = repo.find_blob(entry.id()).map_err(git_err)?;
            Ok(Some(String::from_utf8_lossy(blob.content()).into_owned()))
        }
        Err(_) => Ok(None),
    }
}

/// Reads base (the merge base of `base` and `head`) and head trees, with renames.
pub fn read_change(repo_dir: &Path, base: &str, head: &str, paths: &[String]) -> Result<GitChange, SourceError> {
    let repo = open(repo_dir)?;
    let base_id = resolve_commit(&repo, base, "base")?;
    let head_id = resolve_commit(&repo, head, "head")?;
    let merge_base = repo.merge_base(base_id, head_id).map_err(|e| match e.code() {
        ErrorCode::NotFound => {
            SourceError::NoMergeBase { base: base.to_string(), head: head.to_string(), shallow: repo.is_shallow() }
        }
        _ => git_err(e),
    })?;
    let mb_tree = repo.find_commit(merge_base).and_then(|c| c.tree()).map_err(git_err)?;
    let head_tree = repo.find_commit(head_id).and_then(|c| c.tree()).map_err(git_err)?;
    // A subtree that is on neither side is a typo, not an empty review.
    for p in paths.iter().map(|p| p.trim_matches('/')).filter(|p| !p.is_empty() && *p != ".") {
        if mb_tree.get_path(Path::new(p)).is_err() && head_tree.get_path(Path::new(p)).is_err() {
            return Err(SourceError::NoMatch {
                what: "path",
                path: p.to_string(),
                place: format!("in the base ({}) or head ({}) commit", short(merge_base), short(head_id)),
            });
        }
    }
    let clock = std::time::Instant::now();
    // Both trees walked first; the manifests' blobs (each once) are then read on every core.
    let (mut base_support, mut head_support) = (Vec::new(), Vec::new());
    let base_list = tree_files(&repo, &mb_tree, paths, Some(&mut base_support))?;
    let head_list = tree_files(&repo, &head_tree, paths, Some(&mut head_support))?;
    let mut ids: Vec<Oid> = base_list.iter().chain(&head_list).map(|(_, id)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut cache = read_blobs(&repo, &ids)?;
    let mut side = |list: Vec<(String, Oid)>,
                    support: Vec<(String, Oid)>|
     -> Result<(Vec<TreeFile>, Vec<TreeFile>), SourceError> {
        let files = list
            .into_iter()
            .map(|(path, id)| Ok(TreeFile { path, id: id.to_string(), bytes: read_blob(&repo, id, &mut cache)? }))
            .collect::<Result<Vec<_>, SourceError>>()?;
        let mut extra = Vec::new();
        // Renderer inputs (generator files, chart templates): small files only, and only when some kustomization
        // or chart could read them.
        if files.iter().any(|f| crate::manifest::is_kustomization(&f.path) || f.path.ends_with("Chart.yaml")) {
            for (path, id) in support {
                let small = repo
                    .odb()
                    .and_then(|o| o.read_header(id))
                    .is_ok_and(|(size, _)| size as u64 <= super::dir::MAX_SUPPORT_FILE_BYTES);
                if small {
                    extra.push(TreeFile { path, id: id.to_string(), bytes: read_blob(&repo, id, &mut cache)? });
                }
            }
        }
        Ok((files, extra))
    };
    let (base_files, base_support) = side(base_list, base_support)?;
    let (head_files, head_support) = side(head_list, head_support)?;
    tracing::debug!(
        base = base_files.len(),
        head = head_files.len(),
        blobs = cache.len(),
        ms = clock.elapsed().as_millis() as u64,
        "git: trees walked, blobs read"
    );
    if base_files.is_empty() && head_files.is_empty() {
        let under = if paths.is_empty() { String::new() } else { format!(" under {}", paths.join(", ")) };
        return Err(SourceError::NoManifests {
            place: format!("the base ({}) and head ({}) commits{under}", short(merge_base), short(head_id)),
        });
    }
    // Renames and moves, as git detects them (content similarity).
    let mut opts = DiffOptions::new();
    let mut diff = repo.diff_tree_to_tree(Some(&mb_tree), Some(&head_tree), Some(&mut opts)).map_err(git_err)?;
    diff.find_similar(Some(DiffFindOptions::new().renames(true))).map_err(git_err)?;
    let renames = diff
        .deltas()
        .filter(|d| d.status() == git2::Delta::Renamed)
        .filter_map(|d| {
            let old = d.old_file().path()?.to_str()?.to_string();
            let new = d.new_file().path()?.to_str()?.to_string();
            Some((old, new))
        })
        .collect();
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "git: renames found");
    let base_config = config_at(&repo, base_id)?;
    let head_config = config_at(&repo, head_id)?;
    Ok(GitChange {
        input: ReviewInput {
            base: base_files,
            head: head_files,
            renames,
            base_label: merge_base.to_string(),
            head_label: head_id.to_string(),
            config_changed: base_config != head_config,
            base_support,
            head_support,
        },
        base_config,
        head_config,
    })
}

/// A commit id as people read it (12 hex digits).
fn short(id: Oid) -> String {
    id.to_string().chars().take(12).collect()
}

/// Reviews `head` against the merge base of `base` and `head` in the repository at `repo`. The project config
/// file comes from the base commit unless `options.project` was set by the caller (non-default).
pub fn review_revisions(
    repo: &Path,
    base: &str,
    head: &str,
    paths: &[String],
    options: &AnalysisOptions,
) -> Result<Review, SourceError> {
    let change = read_change(repo, base, head, paths)?;
    let mut opts = options.clone();
    if opts.project == Default::default()
        && let Some(text) = &change.base_config
    {
        opts.project = crate::rules::parse_project_config(PROJECT_CONFIG_FILE, text)?;
    }
    let mut review = crate::review::review(&change.input, &opts);
    crate::review::check_head_config(&mut review, change.base_config.as_deref(), change.head_config.as_deref());
    Ok(review)
}

#[cfg(test)]
#[path = "git_tests.rs"]
mod tests;

//! The history the review needs: the base and head commits and their merge base. `actions/checkout` fetches only
//! the merge commit at depth 1, so what is missing is fetched with the git CLI (which uses the credentials
//! `actions/checkout` left configured).
//!
//! Docker actions run as root over a workspace owned by the runner's user; git and libgit2 refuse such a
//! repository (`dubious ownership`, `code=Owner`). Every git command here passes `safe.directory` on its command
//! line, and [`trust_workspace_owner`] turns libgit2's check off for the engine.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use thiserror::Error;

/// How far to deepen a shallow clone before giving up and unshallowing.
const DEEPEN_STEPS: [u32; 2] = [100, 1000];

/// The history could not be made complete enough.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum HistoryError {
    #[error(
        "cannot find {what} in the checkout ({detail}). Check out the full history: in the workflow, give \
         actions/checkout `fetch-depth: 0`"
    )]
    Missing { what: String, detail: String },
    #[error("git is not available: {0}")]
    NoGit(String),
}

/// A git working copy driven through the CLI.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
    /// Redacted from any git output we surface.
    token: Option<String>,
}

impl Git {
    /// A repository at `dir`; `token` is only used to redact output.
    pub fn new(dir: &Path, token: Option<&str>) -> Git {
        Git { dir: dir.to_path_buf(), token: token.map(str::to_string) }
    }

    /// Runs git; `Ok(stdout)` on success, else `Err(stderr)` (redacted).
    fn run(&self, args: &[&str]) -> Result<String, String> {
        tracing::debug!(?args, "git");
        let out = Command::new("git")
            .arg("-c")
            .arg("safe.directory=*")
            .arg("-C")
            .arg(&self.dir)
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        let redact = |s: &[u8]| {
            let text = String::from_utf8_lossy(s).trim().to_string();
            match &self.token {
                Some(t) => super::client::redact(&text, t),
                None => text,
            }
        };
        if out.status.success() { Ok(redact(&out.stdout)) } else { Err(redact(&out.stderr)) }
    }

    /// True when the commit object is present.
    pub fn has_commit(&self, sha: &str) -> bool {
        self.run(&["cat-file", "-e", &format!("{sha}^{{commit}}")]).is_ok()
    }

    /// The merge base, when the history holds one.
    pub fn merge_base(&self, a: &str, b: &str) -> Option<String> {
        self.run(&["merge-base", a, b]).ok().filter(|s| !s.is_empty())
    }

    fn is_shallow(&self) -> bool {
        self.run(&["rev-parse", "--is-shallow-repository"]).is_ok_and(|s| s == "true")
    }

    /// The text of `path` at `rev`, when it exists there.
    pub fn show(&self, rev: &str, path: &str) -> Option<String> {
        self.run(&["show", &format!("{rev}:{path}")]).ok()
    }

    fn fetch(&self, extra: &[&str], refspecs: &[String]) -> Result<(), String> {
        let mut args = vec!["fetch", "--no-tags", "--no-recurse-submodules", "--quiet"];
        args.extend_from_slice(extra);
        args.push("origin");
        args.extend(refspecs.iter().map(String::as_str));
        self.run(&args).map(|_| ())
    }
}

/// Makes sure `base`, `head` and their merge base are in the repository, fetching what is missing: first the two
/// commits (by SHA, else through `refs/pull/N/head` and the base branch), then deeper history until the merge base
/// appears, then the whole history. Returns the merge base.
pub fn ensure_history(
    git: &Git,
    base: &str,
    head: &str,
    pr_number: u64,
    base_ref: &str,
) -> Result<String, HistoryError> {
    if git.run(&["rev-parse", "--git-dir"]).is_err() {
        let detail = git.run(&["rev-parse", "--git-dir"]).err().unwrap_or_default();
        if detail.starts_with("cannot run git") {
            return Err(HistoryError::NoGit(detail));
        }
        return Err(HistoryError::Missing { what: "a git repository".into(), detail });
    }
    if let Some(mb) = complete(git, base, head) {
        return Ok(mb);
    }
    let mut last_error = String::new();
    let shallow_depth = if git.is_shallow() { vec!["--depth=50"] } else { Vec::new() };
    if !(git.has_commit(base) && git.has_commit(head)) {
        tracing::info!("fetching the base and head commits");
        let by_sha = git.fetch(&shallow_depth, &[base.to_string(), head.to_string()]);
        if let Err(e) = by_sha {
            last_error = e;
            // Servers that refuse fetching by SHA still serve the pull request's ref and the base branch.
            let mut refspecs = vec![format!("+refs/pull/{pr_number}/head:refs/remotes/origin/pr/{pr_number}")];
            if !base_ref.is_empty() {
                refspecs.push(format!("+refs/heads/{base_ref}:refs/remotes/origin/{base_ref}"));
            }
            if let Err(e) = git.fetch(&shallow_depth, &refspecs) {
                last_error = e;
            }
        }
    }
    if let Some(mb) = complete(git, base, head) {
        return Ok(mb);
    }
    if git.has_commit(base) && git.has_commit(head) && git.is_shallow() {
        for depth in DEEPEN_STEPS {
            tracing::info!(depth, "deepening the history to find the merge base");
            let deepen = format!("--deepen={depth}");
            if let Err(e) = git.fetch(&[deepen.as_str()], &[base.to_string(), head.to_string()]) {
                last_error = e;
                break;
            }
            if let Some(mb) = complete(git, base, head) {
                return Ok(mb);
            }
        }
        tracing::info!("unshallowing the repository");
        if let Err(e) = git.fetch(&["--unshallow"], &[base.to_string(), head.to_string()]) {
            last_error = e;
        }
        if let Some(mb) = complete(git, base, head) {
            return Ok(mb);
        }
    }
    let what = match (git.has_commit(base), git.has_commit(head)) {
        (false, false) => format!("the base commit {base} and the head commit {head}"),
        (false, true) => format!("the base commit {base}"),
        (true, false) => format!("the head commit {head}"),
        (true, true) => format!("the merge base of {base} and {head}"),
    };
    let detail = if last_error.is_empty() { "fetching did not bring it".to_string() } else { last_error };
    Err(HistoryError::Missing { what, detail })
}

/// The merge base when both commits and it are present.
fn complete(git: &Git, base: &str, head: &str) -> Option<String> {
    if git.has_commit(base) && git.has_commit(head) { git.merge_base(base, head) } else { None }
}

/// Turns off libgit2's repository owner check for this process, so the engine can open a workspace owned by
/// the runner's user while the action's container runs as root. The checkout is the one this job made; the check
/// protects shared machines from repositories planted by other users, which does not apply to a job container.
#[allow(unsafe_code)]
pub fn trust_workspace_owner() {
    // SAFETY: libgit2 reads this global option without synchronisation; we set it once at start-up, before any
    // thread opens a repository.
    if let Err(e) = unsafe { git2::opts::set_verify_owner_validation(false) } {
        tracing::warn!(error = %e, "cannot turn off libgit2's owner check");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.test", "-c", "init.defaultBranch=main"])
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn commit(dir: &Path, file: &str, text: &str) -> String {
        std::fs::write(dir.join(file), text).unwrap();
        git(dir, &["add", "."]);
        git(dir, &["commit", "-q", "-m", file]);
        git(dir, &["rev-parse", "HEAD"])
    }

    /// Appends `n` empty commits to the current branch in one `git fast-import` (hundreds of `git commit` runs
    /// would take seconds).
    fn empty_commits(dir: &Path, n: usize) {
        if n == 0 {
            return;
        }
        let branch = git(dir, &["symbolic-ref", "HEAD"]);
        let parent =
            Command::new("git").arg("-C").arg(dir).args(["rev-parse", "--verify", "-q", "HEAD"]).output().unwrap();
        let parent = String::from_utf8_lossy(&parent.stdout).trim().to_string();
        let mut stream = String::new();
        for i in 0..n {
            stream.push_str(&format!(
                "commit {branch}\ncommitter t <t@example.test> 1700000000 +0000\ndata 2\n{}\n",
                i % 10
            ));
            if i == 0 && !parent.is_empty() {
                stream.push_str(&format!("from {parent}\n"));
            }
            if i == 0 && parent.is_empty() {
                stream.push_str("M 644 inline main.txt\ndata 2\nr\n");
            }
            stream.push('\n');
        }
        let mut child = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["fast-import", "--quiet"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), stream.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success());
        git(dir, &["reset", "-q", "--hard"]);
    }

    /// An upstream with main (`before_fork` commits, then `after_fork` more) and a branch off the last of the
    /// first ones, and a depth-1 clone of main.
    fn upstream_and_shallow_clone(
        before_fork: usize,
        after_fork: usize,
    ) -> (tempfile::TempDir, String, String, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let up = tmp.path().join("up");
        std::fs::create_dir(&up).unwrap();
        git(&up, &["init", "-q"]);
        empty_commits(&up, before_fork);
        let fork_point = commit(&up, "main.txt", "fork point\n");
        empty_commits(&up, after_fork);
        let base = git(&up, &["rev-parse", "HEAD"]);
        git(&up, &["checkout", "-q", "-b", "feature", &fork_point]);
        let head = commit(&up, "feature.txt", "f\n");
        git(&up, &["checkout", "-q", "main"]);
        // Serve the branch the way GitHub serves pull requests.
        git(&up, &["update-ref", "refs/pull/7/head", &head]);
        let clone = tmp.path().join("clone");
        let url = format!("file://{}", up.display());
        git(tmp.path(), &["clone", "-q", "--depth=1", &url, "clone"]);
        (tmp, base, head, clone)
    }

    #[test]
    fn fetches_missing_commits_and_deepens_to_the_merge_base() {
        let (_tmp, base, head, clone) = upstream_and_shallow_clone(4, 5);
        let g = Git::new(&clone, None);
        assert!(!g.has_commit(&head));
        let mb = ensure_history(&g, &base, &head, 7, "main").unwrap();
        assert!(g.has_commit(&head) && g.has_commit(&mb));
        assert_eq!(g.show(&head, "feature.txt").as_deref(), Some("f"));
    }

    #[test]
    fn deepens_when_the_merge_base_is_beyond_the_first_fetch() {
        // 80 commits on main since the fork point: fetching 50 from each tip does not reach it, deepening by 100
        // does (and stops short of the 150 commits before it).
        let (_tmp, base, head, clone) = upstream_and_shallow_clone(150, 80);
        let g = Git::new(&clone, None);
        let mb = ensure_history(&g, &base, &head, 7, "main").unwrap();
        assert_eq!(g.run(&["rev-parse", &format!("{head}^")]).unwrap(), mb);
        assert!(g.is_shallow(), "deepened, not unshallowed: the first step sufficed");
    }

    #[test]
    fn complete_history_needs_no_fetch() {
        let (tmp, base, head, _clone) = upstream_and_shallow_clone(4, 5);
        let g = Git::new(&tmp.path().join("up"), None);
        assert!(ensure_history(&g, &base, &head, 7, "main").is_ok());
    }

    #[test]
    fn an_unknown_commit_names_fetch_depth_zero() {
        let (_tmp, base, _head, clone) = upstream_and_shallow_clone(4, 5);
        let g = Git::new(&clone, Some("secret-token"));
        let missing = "0123456789012345678901234567890123456789";
        let err = ensure_history(&g, &base, missing, 99, "").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("fetch-depth: 0") && text.contains(missing), "{text}");
    }
}

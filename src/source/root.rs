//! Where a scanned directory sits in its git repository, so reports can name files from the repository root.

use std::path::Path;

/// The path of `dir` inside the git repository holding it, `/`-separated with a trailing `/` (`clusters/prod/`),
/// `""` for the repository root; `None` outside a repository (or a bare one).
pub fn repo_prefix(dir: &Path) -> Option<String> {
    let repo = git2::Repository::discover(dir).ok()?;
    let workdir = repo.workdir()?.canonicalize().ok()?;
    let dir = dir.canonicalize().ok()?;
    let rel = dir.strip_prefix(&workdir).ok()?;
    let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    Some(parts.iter().map(|p| format!("{p}/")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subdirectory_of_a_repository_has_its_prefix_and_other_directories_none() {
        let d = tempfile::tempdir().expect("tempdir");
        let outside = d.path().join("plain");
        std::fs::create_dir_all(&outside).expect("mkdir");
        assert_eq!(repo_prefix(&outside), None);
        let repo = d.path().join("repo");
        git2::Repository::init(&repo).expect("init");
        std::fs::create_dir_all(repo.join("clusters/prod")).expect("mkdir");
        assert_eq!(repo_prefix(&repo).as_deref(), Some(""));
        assert_eq!(repo_prefix(&repo.join("clusters/prod")).as_deref(), Some("clusters/prod/"));
    }
}

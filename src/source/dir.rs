//! Reads manifests from files and directories: `*.yaml`, `*.yml`, `*.json` and kustomization files; `.git`
//! skipped; symlinks not followed.

use super::{Files, SourceError};
use crate::manifest::is_manifest_path;
use std::path::{Path, PathBuf};

/// The scanned root for a set of paths: the single directory given, the parent of a single file given, or the
/// current directory when several paths are given.
pub fn scanned_root(paths: &[PathBuf]) -> Result<PathBuf, SourceError> {
    for p in paths {
        if std::fs::symlink_metadata(p).is_err() {
            return Err(SourceError::NotFound { path: p.clone() });
        }
    }
    Ok(match paths {
        [one] if one.is_dir() => one.clone(),
        [one] => one
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from(".")),
        _ => PathBuf::from("."),
    })
}

/// Reads every manifest file under `paths`, with paths relative to `root`, sorted.
pub fn read_tree(root: &Path, paths: &[PathBuf]) -> Result<Files, SourceError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::symlink_metadata(p).map_err(|_| SourceError::NotFound { path: p.clone() })?;
        if meta.is_dir() {
            walk(root, p, &mut out)?;
        } else if meta.is_file() {
            let bytes = std::fs::read(p).map_err(|source| SourceError::Io { path: p.clone(), source })?;
            out.push((relative(root, p), bytes));
        }
    }
    // Kustomization files above the given paths, up to the scanned root, give namespaces to the objects below.
    let root_canon = canonical(root);
    for p in paths {
        let mut dir = p.parent();
        while let (Some(d), Some(r)) = (dir, &root_canon) {
            let Some(dc) = canonical(d) else { break };
            if !dc.starts_with(r) || canonical(p).as_ref() == Some(r) {
                break;
            }
            for name in ["kustomization.yaml", "kustomization.yml", "Kustomization"] {
                let k = d.join(name);
                if std::fs::symlink_metadata(&k).is_ok_and(|m| m.is_file())
                    && let Ok(bytes) = std::fs::read(&k)
                {
                    out.push((relative(root, &k), bytes));
                }
            }
            if &dc == r {
                break;
            }
            dir = d.parent();
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    Ok(out)
}

/// The canonical form of a directory path (`""` is the current directory).
fn canonical(p: &Path) -> Option<PathBuf> {
    if p.as_os_str().is_empty() { Path::new(".").canonicalize().ok() } else { p.canonicalize().ok() }
}

/// Largest file that is read as a renderer's input without being a manifest (a generator's `.properties`, a
/// chart's templates).
pub const MAX_SUPPORT_FILE_BYTES: u64 = 1 << 20;

/// The files under `dir` that are not manifests (renderer inputs: generator files, Helm templates), paths
/// relative to `root`, sorted; files over [`MAX_SUPPORT_FILE_BYTES`], `.git` and symlinks are skipped.
pub fn read_support(root: &Path, dir: &Path) -> Files {
    let mut out = Vec::new();
    walk_all(root, dir, &mut out, 0);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn walk_all(root: &Path, dir: &Path, out: &mut Files, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    if depth > 64 {
        return;
    }
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() && e.file_name() != ".git" {
            walk_all(root, &path, out, depth + 1);
        } else if ft.is_file() {
            let rel = relative(root, &path);
            let small = e.metadata().is_ok_and(|m| m.len() <= MAX_SUPPORT_FILE_BYTES);
            if small
                && !is_manifest_path(&rel)
                && let Ok(bytes) = std::fs::read(&path)
            {
                out.push((rel, bytes));
            }
        }
    }
}

/// Reads what a tree references outside its root (`../../base` of an overlay scanned on its own): every file
/// under a referenced directory, or the referenced file, with paths relative to `root` (`../../base/pa.yaml`).
pub fn read_outside(root: &Path, reference: &str) -> Files {
    let p = root.join(reference);
    let mut out = Vec::new();
    if p.is_dir() {
        walk_all(root, &p, &mut out, 0);
        let mut manifests = Vec::new();
        let _ = walk(root, &p, &mut manifests);
        out.extend(manifests);
    } else if p.is_file()
        && let Ok(bytes) = std::fs::read(&p)
    {
        out.push((relative(root, &p), bytes));
    }
    let prefix_len = reference.split('/').take_while(|s| *s == "..").count();
    // `relative` gives a path outside the root in its own (absolute) form: rebuild it from the reference.
    for (path, _) in &mut out {
        if path.starts_with('/')
            && let Ok(base) = root.join("../".repeat(prefix_len)).canonicalize()
            && let Ok(abs) = Path::new(path.as_str()).canonicalize()
            && let Ok(rest) = abs.strip_prefix(&base)
        {
            *path = format!("{}{}", "../".repeat(prefix_len), rest.to_string_lossy().replace('\\', "/"));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Files) -> Result<(), SourceError> {
    let entries = std::fs::read_dir(dir).map_err(|source| SourceError::Io { path: dir.to_path_buf(), source })?;
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_symlink() {
            continue;
        }
        if ft.is_dir() {
            if e.file_name() == ".git" {
                continue;
            }
            walk(root, &path, out)?;
        } else if ft.is_file() {
            let rel = relative(root, &path);
            if is_manifest_path(&rel) {
                let bytes = std::fs::read(&path).map_err(|source| SourceError::Io { path: path.clone(), source })?;
                out.push((rel, bytes));
            }
        }
    }
    Ok(())
}

/// `path` relative to `root`, `/`-separated; paths outside `root` keep their own form.
pub fn relative(root: &Path, path: &Path) -> String {
    let canonical: Option<PathBuf> = match (root.canonicalize(), path.canonicalize()) {
        (Ok(r), Ok(c)) => c.strip_prefix(&r).ok().map(Path::to_path_buf),
        _ => None,
    };
    let p: &Path = match path.strip_prefix(root) {
        Ok(p) => p,
        Err(_) => canonical.as_deref().unwrap_or(path),
    };
    let parts: Vec<String> = p
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

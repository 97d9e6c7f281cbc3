//! Reading both trees of a change from git: every manifest's bytes as committed, whether the blobs are read on
//! one thread (few) or split over several (many), and a missing blob as an error, not a panic.

use super::*;

/// Commits `files` (path, text) on top of `parent` and returns the commit.
fn commit(repo: &Repository, files: &[(String, String)], parent: Option<Oid>) -> Oid {
    let mut builder = git2::build::TreeUpdateBuilder::new();
    for (path, text) in files {
        let blob = repo.blob(text.as_bytes()).unwrap();
        builder.upsert(path, blob, git2::FileMode::Blob);
    }
    let base_tree = match parent {
        Some(p) => repo.find_commit(p).unwrap().tree().unwrap(),
        None => repo.find_tree(repo.treebuilder(None).unwrap().write().unwrap()).unwrap(),
    };
    let tree = repo.find_tree(builder.create_updated(repo, &base_tree).unwrap()).unwrap();
    let sig = git2::Signature::now("t", "t@example.com").unwrap();
    let parents: Vec<git2::Commit> = parent.map(|p| repo.find_commit(p).unwrap()).into_iter().collect();
    let parents: Vec<&git2::Commit> = parents.iter().collect();
    repo.commit(None, &sig, &sig, "c", &tree, &parents).unwrap()
}

fn manifest(i: usize, mode: &str) -> String {
    format!(
        "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: ns-{i}\nspec:\n  mtls:\n    mode: {mode}\n"
    )
}

/// Files as (path, text).
type Texts = Vec<(String, String)>;

fn change_of(count: usize) -> (tempfile::TempDir, GitChange, Texts, Texts) {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init_bare(dir.path()).unwrap();
    let base: Texts = (0..count).map(|i| (format!("ns/{i:04}.yaml"), manifest(i, "STRICT"))).collect();
    let mut head = base.clone();
    head[count / 2].1 = manifest(count / 2, "DISABLE");
    head.push(("new/extra.yaml".to_string(), manifest(count, "PERMISSIVE")));
    let b = commit(&repo, &base, None);
    let h = commit(&repo, &head[count / 2..], Some(b));
    let change = read_change(dir.path(), &b.to_string(), &h.to_string(), &[]).unwrap();
    (dir, change, base, head)
}

fn texts(files: &[TreeFile]) -> Texts {
    files.iter().map(|f| (f.path.clone(), String::from_utf8(f.bytes.to_vec()).unwrap())).collect()
}

#[test]
fn both_trees_are_read_as_committed_on_one_thread_or_several() {
    for count in [3, PARALLEL_BLOBS + 37] {
        let (_dir, change, base, mut head) = change_of(count);
        head.sort();
        assert_eq!(texts(&change.input.base), base, "{count}");
        assert_eq!(texts(&change.input.head), head, "{count}");
        // A file identical on both sides is one blob, shared.
        let b = &change.input.base[0];
        let h = change.input.head.iter().find(|f| f.path == b.path).unwrap();
        assert_eq!(b.id, h.id);
        assert!(Arc::ptr_eq(&b.bytes, &h.bytes), "{count}");
    }
}

#[test]
fn a_missing_blob_is_an_error_on_either_path() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init_bare(dir.path()).unwrap();
    let present: Vec<Oid> =
        (0..PARALLEL_BLOBS + 5).map(|i| repo.blob(manifest(i, "STRICT").as_bytes()).unwrap()).collect();
    let missing = Oid::from_str("0123456789012345678901234567890123456789").unwrap();
    let all = read_blobs(&repo, &present).unwrap();
    assert_eq!(all.len(), present.len());
    assert_eq!(&*all[&present[7]], manifest(7, "STRICT").as_bytes());
    for ids in [vec![present[0], missing], [present.clone(), vec![missing]].concat()] {
        assert!(matches!(read_blobs(&repo, &ids), Err(SourceError::Git { .. })), "{}", ids.len());
    }
}

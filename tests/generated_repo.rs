//! The benchmark's repository generator, end to end at a small size: `check --base --head` on a generated
//! GitOps repository finds exactly the findings the generator planted (introduced, existing, resolved), sees
//! the rename and the deletion, and the generator is deterministic. No timing here: see `benches/review.rs`.

#[path = "../benches/generator/mod.rs"]
mod generator;

use generator::{GenOptions, Generated, generate};
use mtls_review::app::{self, CheckRequest, Format};
use mtls_review::finding::Status;
use std::path::Path;

fn options() -> GenOptions {
    // 20 namespaces; a change big enough to hold every kind of edit.
    GenOptions { min_changed_files: 20, ..GenOptions::new(400) }
}

fn findings(review: &mtls_review::review::Review, status: Status) -> Vec<(&'static str, String, String, String)> {
    let mut v: Vec<_> = review
        .findings
        .iter()
        // The generator plants TIS findings; posture findings (MTLS*) are checked separately.
        .filter(|f| f.status == status && f.code.starts_with("TIS"))
        .map(|f| (f.code, f.object.kind.clone(), f.object.namespace.clone(), f.object.name.clone()))
        .collect();
    v.sort();
    v.dedup();
    v
}

fn expected(v: &[generator::Expected]) -> Vec<(&'static str, String, String, String)> {
    v.iter().map(|(c, k, ns, n)| (*c, k.to_string(), ns.clone(), n.clone())).collect()
}

fn check(repo: &Path, g: &Generated) -> app::Outcome {
    let req = CheckRequest {
        base: Some(g.base.clone()),
        head: Some(g.head.clone()),
        repo: Some(repo.to_path_buf()),
        format: Some(Format::Json),
        ..CheckRequest::default()
    };
    app::check(&req).expect("check runs")
}

#[test]
fn review_of_a_generated_change_finds_what_was_planted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("repo.git");
    let g = generate(&repo, &options()).expect("generate");
    assert_eq!(g.documents, 402);
    assert!(g.changed_files >= 20, "{}", g.changed_files);
    // One of each finding-changing edit at least.
    let codes: Vec<&str> = g.introduced.iter().map(|e| e.0).collect();
    assert!(codes.contains(&"TIS0502") && codes.contains(&"TIS0207"), "{codes:?}");
    assert!(!g.resolved.is_empty() && !g.renames.is_empty() && !g.deleted.is_empty());

    let out = check(&repo, &g);
    let r = &out.review;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(findings(r, Status::Introduced), expected(&g.introduced));
    assert_eq!(findings(r, Status::Resolved), expected(&g.resolved));
    assert_eq!(findings(r, Status::Existing), expected(&g.existing));
    assert_eq!(out.exit_code, 1);
    // Posture findings the change introduces sit in the namespaces whose policies it changed.
    let planted: std::collections::HashSet<&str> = g.introduced.iter().map(|e| e.2.as_str()).collect();
    for f in r.findings.iter().filter(|f| f.status == Status::Introduced && f.code.starts_with("MTLS")) {
        assert!(
            planted.contains(f.object.namespace.as_str()),
            "{} on {} outside the planted namespaces",
            f.code,
            f.object
        );
    }
    // Every introduced finding is anchored on a changed line of the change.
    for f in r.findings.iter().filter(|f| f.status == Status::Introduced) {
        assert!(f.anchors.as_ref().is_some_and(|a| !a.is_empty()), "{} on {} has no anchor", f.code, f.object);
    }
    // The rename is a rename, the deletion a deletion.
    for (old, new) in &g.renames {
        assert!(
            r.changes.iter().any(|c| c.base_path.as_ref() == Some(old) && c.head_path.as_ref() == Some(new)),
            "rename {old} -> {new} not seen"
        );
    }
    for d in &g.deleted {
        assert!(r.changes.iter().any(|c| c.base_path.as_ref() == Some(d) && c.head_path.is_none()), "{d}");
    }
    assert_eq!(r.changes.len(), g.changed_files - g.renames.len());
}

#[test]
fn generator_is_deterministic() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let ga = generate(a.path(), &GenOptions::new(200)).expect("generate");
    let gb = generate(b.path(), &GenOptions::new(200)).expect("generate");
    assert_eq!((ga.base, ga.head), (gb.base, gb.head));
    assert!(ga.changed_files >= 1);
}

//! Tests of `parent` and `is_remote`, written for issue 15's second mutation sample of `src/target/closure.rs`.

use super::*;

#[test]
fn parent_is_the_directory_part() {
    assert_eq!((parent("a/b/c.yaml"), parent("a/c.yaml"), parent("c.yaml")), ("a/b", "a", ""));
}

#[test]
fn remote_references_are_urls_and_git_hosts_only() {
    for r in ["https://example.com/x.yaml", "git@github.com:a/b.git", "github.com/a/b", "gitlab.com/a/b"] {
        assert!(is_remote(r), "{r}");
    }
    for r in ["base", "../base/pa.yaml", "overlays/prod"] {
        assert!(!is_remote(r), "{r}");
    }
}

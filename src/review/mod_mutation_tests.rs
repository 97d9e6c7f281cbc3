//! Tests written against the mutants `cargo mutants` left alive in `src/review/mod.rs` (issue 15): the lines a
//! hunk holds on each side, and the head side's project config check.

use super::*;
use crate::finding::ErrorKind;
use crate::settings::PROJECT_CONFIG_FILE;

#[test]
fn a_hunk_holds_exactly_its_lines_on_each_side() {
    let h = Hunk { base_start: 5, base_lines: 3, head_start: 10, head_lines: 1 };
    let base: Vec<usize> = (1..20).filter(|l| h.contains(Side::Base, *l)).collect();
    let head: Vec<usize> = (1..20).filter(|l| h.contains(Side::Head, *l)).collect();
    assert_eq!((base, head), (vec![5, 6, 7], vec![10]));
    // No lines on a side: nothing there, not even its start.
    let h = Hunk { base_start: 4, base_lines: 0, head_start: 4, head_lines: 2 };
    assert!((1..20).all(|l| !h.contains(Side::Base, l)));
    assert_eq!((1..20).filter(|l| h.contains(Side::Head, *l)).collect::<Vec<_>>(), vec![4, 5]);
}

#[test]
fn an_invalid_head_config_that_differs_from_the_base_is_an_introduced_error() {
    let bad = "ignore:\n  - TIS9999\n";
    let mut r = Review::default();
    let other = LoadError { path: "a.yaml".into(), line: 1, message: "m".into(), kind: ErrorKind::Parse };
    r.errors.push(ReviewError { error: other.clone(), introduced: false });
    check_head_config(&mut r, Some("ignore: []\n"), Some(bad));
    assert_eq!(r.errors.len(), 2, "{:?}", r.errors);
    // Sorted: the config's path sorts before `a.yaml`.
    let e = &r.errors[0];
    assert!(e.introduced);
    assert_eq!((e.error.path.as_str(), e.error.line, e.error.kind), (PROJECT_CONFIG_FILE, 2, ErrorKind::Parse));
    assert!(e.error.message.starts_with("invalid project config on the head side: ignore: "), "{}", e.error.message);
    assert!(e.error.message.ends_with("(this review uses the base side's; every later review would stop on it)"));
    assert_eq!(r.errors[1].error, other);
    // The same (invalid) text on both sides, no head config, or a valid one: nothing to report.
    for (base, head) in
        [(Some(bad), Some(bad)), (Some(bad), None), (None, Some("ignore: [TIS0206]\n")), (None, Some(""))]
    {
        let mut r = Review::default();
        check_head_config(&mut r, base, head);
        assert_eq!(r.errors, vec![], "{base:?} {head:?}");
    }
    // A head config where the base has none is checked too.
    let mut r = Review::default();
    check_head_config(&mut r, None, Some(bad));
    assert_eq!(r.errors.len(), 1);
}

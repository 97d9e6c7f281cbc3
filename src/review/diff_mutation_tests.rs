//! Tests written against the mutants `cargo mutants` left alive in `src/review/diff.rs` (issue 15): the size
//! limit of the LCS diff at its boundary, and large files, which must still get exact hunks (not the whole-file
//! fallback).

use super::*;

fn numbered(n: usize) -> String {
    (1..=n).map(|i| format!("{i}\n")).collect()
}

/// What changed, as (deleted, added) inclusive line ranges, from a list of operations.
/// Inclusive line ranges.
type Ranges = Vec<(usize, usize)>;

fn changed(ops: &[DiffOp]) -> (Ranges, Ranges) {
    let range = |r: std::ops::Range<usize>| (!r.is_empty()).then(|| (r.start + 1, r.end));
    let del = ops.iter().filter(|o| o.tag() != DiffTag::Equal).filter_map(|o| range(o.old_range())).collect();
    let add = ops.iter().filter(|o| o.tag() != DiffTag::Equal).filter_map(|o| range(o.new_range())).collect();
    (del, add)
}

#[test]
fn a_large_file_gets_exact_hunks() {
    // 2001 x 2001 lines: more cells than the LCS diff is allowed, far below what Myers handles.
    let old = numbered(2001);
    let new = old.replace("\n1000\n", "\nthousand\n");
    let c = file_change(Some("a"), Some(&old), Some("a"), Some(&new));
    assert_eq!((c.added.clone(), c.deleted.clone()), (vec![(1000, 1000)], vec![(1000, 1000)]));
    assert_eq!(c.hunks, vec![Hunk { base_start: 997, base_lines: 7, head_start: 997, head_lines: 7 }]);
}

#[test]
fn the_lcs_diff_runs_up_to_its_cell_limit_and_not_beyond() {
    let lcs = [Algorithm::Lcs];
    // Small texts: the LCS diff's exact change.
    let (old, new) = ("a\nb\nc\n", "a\nx\nc\n");
    assert_eq!(changed(&line_ops_by(old, new, &lcs)), (vec![(2, 2)], vec![(2, 2)]));
    // 2000 x 2000 lines: exactly the limit (LCS_MAX_CELLS), still diffed line by line.
    assert_eq!(2000 * 2000, LCS_MAX_CELLS);
    let old = numbered(2000);
    let new = old.replace("\n7\n", "\nseven\n");
    assert_eq!(changed(&line_ops_by(&old, &new, &lcs)), (vec![(7, 7)], vec![(7, 7)]));
    // One line more on one side: over the limit, the whole text is replaced.
    let longer = format!("{new}2001\n");
    assert_eq!(line_ops_by(&old, &longer, &lcs), replace_all(2000, 2001));
    // No algorithm left to try: the whole-text fallback as well.
    assert_eq!(line_ops_by("a\n", "b\n", &[]), replace_all(1, 1));
}

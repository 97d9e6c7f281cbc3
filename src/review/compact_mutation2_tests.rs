//! Where git's indent heuristic and sliding put ambiguous changes, written for issue 15's second mutation sample
//! of `src/review/compact.rs`. Each case's changed lines are those of `git diff --no-index` (git 2.47, indent
//! heuristic on) for the same two texts; each pins one part of the heuristic's score or of the group walk.

use super::tests::changed;
use super::*;

#[test]
fn empty_texts_give_no_operations() {
    assert_eq!(git_compact(&[], &[], &[]).map(|ops| ops.len()), Some(0));
}

#[test]
fn blank_lines_before_and_after_a_split_weigh_as_git_weighs_them() {
    // An inserted blank line after two blank lines goes last (the blank run before the split counts).
    assert_eq!(changed("\n\n", "\n\n\n"), (vec![], vec![3]));
    // Blank lines after the split, past a tab-indented line.
    assert_eq!(changed("\n\tt\n\n\n\tt\n", "\n\tt\n"), (vec![3, 4, 5], vec![]));
    // A deleted blank line and indented line between two equal lines: the group starts the file.
    assert_eq!(changed("e\n\n  c: 2\ne\n", "e\n"), (vec![1, 2, 3], vec![]));
}

#[test]
fn the_end_of_file_and_indent_changes_are_penalised_as_git_does() {
    // Deleting an indented line and its copy of the line above: git keeps the group off the end of the file.
    assert_eq!(changed("e\n\tt\ne\n", "e\n"), (vec![1, 2], vec![]));
    // An indented line inserted between braces and blank lines: placed after the first blank line.
    assert_eq!(changed("}\n\n}\n", "}\n\n\tt\n}\n\n}\n"), (vec![], vec![3, 4, 5]));
    // A deeper line removed from the middle of a block: the split at the less indented line wins.
    assert_eq!(changed("a:\na:\n  c: 2\n    d: 3\n  c: 2\na:\na:\n", "a:\na:\n  c: 2\na:\na:\n"), (vec![4, 5], vec![]));
}

#[test]
fn a_group_slid_down_into_the_next_one_merges_with_it() {
    assert_eq!(changed("\n\ne\n", "\tt\n\n"), (vec![2, 3], vec![1]));
}

#[test]
fn a_group_slid_up_into_the_previous_one_merges_with_it() {
    let old = "  c: 2\n    d: 3\n\na:\na:\n\n\n    d: 3\n\n";
    let new = "  c: 2\n    d: 3\n\n\n    d: 3\n\na:\n";
    assert_eq!(changed(old, new), (vec![4, 5, 6], vec![7]));
}

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

#[test]
fn ops_that_skip_or_repeat_lines_are_refused() {
    // The second op starts one line past the end of the first on both sides: line 2 of each text is in no op,
    // though the ops end at the end of both texts and leave as many unchanged lines on each side.
    let text = ["a\n", "b\n", "c\n"];
    let ops =
        [DiffOp::Equal { old_index: 0, new_index: 0, len: 1 }, DiffOp::Equal { old_index: 2, new_index: 2, len: 1 }];
    assert_eq!(git_compact(&text, &text, &ops), None);
    // Ops that tile the base side but not the head side: the second starts past head line 2 (in no op), the third
    // covers head line 3 again.
    let ops = [
        DiffOp::Equal { old_index: 0, new_index: 0, len: 1 },
        DiffOp::Equal { old_index: 1, new_index: 2, len: 1 },
        DiffOp::Equal { old_index: 2, new_index: 2, len: 1 },
    ];
    assert_eq!(git_compact(&text, &text, &ops), None);
    // The same texts tiled by one op.
    let tiled = [DiffOp::Equal { old_index: 0, new_index: 0, len: 3 }];
    assert_eq!(git_compact(&text, &text, &tiled), Some(tiled.to_vec()));
}

#[test]
fn a_block_split_on_a_dedent_followed_by_a_deeper_line_is_penalised_as_git_does() {
    // git diff puts the inserted pair at lines 2-3 (of 1-2, 2-3 and 3-4): the candidates differ in which split
    // comes before a dedented line that a deeper line follows, and that penalty (24 without blank lines) decides.
    assert_eq!(changed("  b: 1\na:\n", "  b: 1\na:\n  b: 1\na:\n"), (vec![], vec![2, 3]));
    assert_eq!(changed("  b: 1\na:\n", "  b: 1\n}\n  b: 1\na:\n"), (vec![], vec![2, 3]));
}

#[test]
fn the_heuristic_considers_sliding_a_group_up_past_its_own_size() {
    // A copy of the first line inserted after it: git puts it first (the split at the start of the file, before
    // the indented line, scores best), a shift of the group's size plus one above where sliding down left it.
    assert_eq!(changed("a:\n  b: 1\n", "a:\na:\n  b: 1\n"), (vec![], vec![1]));
    assert_eq!(changed("}\n  b: 1\n", "}\n}\n  b: 1\n"), (vec![], vec![1]));
}

//! Where git puts ambiguous changes, written for issue 15's sample shard 3/10 of `src/review/compact.rs`
//! (`Flags::ch -> false`, `||` -> `&&` in `add_split`'s indent test and `-` -> `/` in the heuristic's first shift
//! survived). Each case's changed lines are those of `git diff --no-index` (git 2.47, indent heuristic on) for
//! the same two texts.

use super::tests::changed;

#[test]
fn a_group_slid_down_comes_back_up_to_line_up_with_the_other_sides_change() {
    // A blank line replaced by `a:` before another blank line: git says line 1 was replaced (the deletion lines
    // up with the insertion), not that line 2 was deleted and `a:` inserted above.
    assert_eq!(changed("\n\n", "a:\n\n"), (vec![1], vec![1]));
}

#[test]
fn a_split_with_nothing_above_it_is_not_penalised_for_its_indent() {
    // A copy of the first line inserted after it: git puts it second. The split at the start of the file has no
    // line above it: git weighs it by the start-of-file penalty alone, not as a change of indent.
    assert_eq!(changed("e\na:\n", "e\ne\na:\n"), (vec![], vec![2]));
}

#[test]
fn the_heuristic_starts_one_line_above_the_group_slid_up_by_its_size() {
    // A copy of `a:`, `\tt` inserted: sliding down leaves it at lines 4-5, and git puts it first (lines 1-2), the
    // highest shift the heuristic weighs (the group's size plus one line above where sliding down left it).
    assert_eq!(changed("a:\n\tt\na:\n", "a:\n\tt\na:\n\tt\na:\n"), (vec![], vec![1, 2]));
}

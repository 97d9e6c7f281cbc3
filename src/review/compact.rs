//! Where a line diff puts an ambiguous change, as git puts it. When several minimal diffs exist (an inserted line
//! equal to the one after it can be said to be inserted before or after it), `git diff` (and so the pull request
//! page, whose hunks are the only lines GitHub accepts review comments on) slides each group of changed lines
//! as far down as it can, then back up to line up with a change of the other side, else to the position its indent
//! heuristic scores best (default since git 2.14). This module applies the same rules to `similar`'s operations,
//! so our changed lines, hunks and anchors are git's in the common cases.
//!
//! The rules and the heuristic's weights are those documented in git's `xdiff/xdiffi.c` (`xdl_change_compact`);
//! the code is written for this crate over per-line "changed" flags.

use similar::DiffOp;

/// The line diff `ops` of `old` to `new` with its change groups slid as git slides them, or `None` when `ops`
/// do not tile both texts.
pub fn git_compact(old: &[&str], new: &[&str], ops: &[DiffOp]) -> Option<Vec<DiffOp>> {
    let (mut o, mut n) = (0, 0);
    for op in ops {
        let (or, nr) = (op.old_range(), op.new_range());
        // (An `Equal` op has one length for both sides, so only the starts can be off.)
        if or.start != o || nr.start != n {
            return None;
        }
        (o, n) = (or.end, nr.end);
    }
    if (o, n) != (old.len(), new.len()) {
        return None;
    }
    let mut a = Side { recs: old, changed: vec![false; old.len()] };
    let mut b = Side { recs: new, changed: vec![false; new.len()] };
    for op in ops {
        for i in op.old_range() {
            if op.tag() != similar::DiffTag::Equal {
                *a.changed.get_mut(i)? = true;
            }
        }
        for i in op.new_range() {
            if op.tag() != similar::DiffTag::Equal {
                *b.changed.get_mut(i)? = true;
            }
        }
    }
    // The unchanged lines of both sides must pair up, one for one, in order.
    if a.changed.iter().filter(|c| !**c).count() != b.changed.iter().filter(|c| !**c).count() {
        return None;
    }
    compact_side(&mut a, &b.changed)?;
    compact_side(&mut b, &a.changed)?;
    Some(ops_of(&a.changed, &b.changed))
}

/// One side of the diff: its lines and which of them are changed.
struct Side<'t> {
    recs: &'t [&'t str],
    changed: Vec<bool>,
}

impl Side<'_> {
    fn len(&self) -> isize {
        self.recs.len() as isize
    }

    /// Changed flag with false outside the file (git's sentinels).
    fn ch(&self, i: isize) -> bool {
        i >= 0 && i < self.len() && self.changed[i as usize]
    }

    fn set(&mut self, i: isize, v: bool) {
        self.changed[i as usize] = v;
    }

    fn rec(&self, i: isize) -> &str {
        self.recs[i as usize]
    }
}

/// A group of changed lines `start..end` (possibly empty): the lines between two unchanged lines.
#[derive(Clone, Copy)]
struct Group {
    start: isize,
    end: isize,
}

fn group_first(s: &Side) -> Group {
    let mut g = Group { start: 0, end: 0 };
    while s.ch(g.end) {
        g.end += 1;
    }
    g
}

/// Flags of the other side, read-only, with the same group walk.
struct Flags<'f>(&'f [bool]);

impl Flags<'_> {
    fn ch(&self, i: isize) -> bool {
        i >= 0 && (i as usize) < self.0.len() && self.0[i as usize]
    }
    fn len(&self) -> isize {
        self.0.len() as isize
    }
}

fn next_in(ch: impl Fn(isize) -> bool, len: isize, g: &mut Group) -> bool {
    if g.end == len {
        return false;
    }
    g.start = g.end + 1;
    g.end = g.start;
    while ch(g.end) {
        g.end += 1;
    }
    true
}

fn previous_in(ch: impl Fn(isize) -> bool, g: &mut Group) -> bool {
    if g.start == 0 {
        return false;
    }
    g.end = g.start - 1;
    g.start = g.end;
    while ch(g.start - 1) {
        g.start -= 1;
    }
    true
}

fn slide_down(s: &mut Side, g: &mut Group) -> bool {
    if g.end < s.len() && s.rec(g.start) == s.rec(g.end) {
        s.set(g.start, false);
        g.start += 1;
        s.set(g.end, true);
        g.end += 1;
        while s.ch(g.end) {
            g.end += 1;
        }
        true
    } else {
        false
    }
}

fn slide_up(s: &mut Side, g: &mut Group) -> bool {
    if g.start > 0 && s.rec(g.start - 1) == s.rec(g.end - 1) {
        g.start -= 1;
        s.set(g.start, true);
        g.end -= 1;
        s.set(g.end, false);
        while s.ch(g.start - 1) {
            g.start -= 1;
        }
        true
    } else {
        false
    }
}

/// Largest indent measured (columns).
const MAX_INDENT: i32 = 200;
/// Blank lines looked past before and after a split.
const MAX_BLANKS: i32 = 20;
/// How far up the indent heuristic considers sliding a group.
const MAX_SLIDING: isize = 100;

/// Indent of a line in columns (tabs to the next multiple of 8), or -1 for a blank line.
fn indent(line: &str) -> i32 {
    let mut n = 0;
    for c in line.bytes() {
        match c {
            b' ' => n += 1,
            b'\t' => n += 8 - n % 8,
            b'\n' | b'\r' | 0x0b | 0x0c => {}
            _ => return n,
        }
        if n >= MAX_INDENT {
            return MAX_INDENT;
        }
    }
    -1
}

#[derive(Clone, Copy, Default)]
struct Score {
    effective_indent: i32,
    penalty: i32,
}

/// Adds the badness of splitting `s` before line `split` to `score`.
fn add_split(s: &Side, split: isize, score: &mut Score) {
    let end_of_file = split >= s.len();
    let ind = if end_of_file { -1 } else { indent(s.rec(split)) };
    let (mut pre_blank, mut pre_indent) = (0, -1);
    let mut i = split - 1;
    while i >= 0 {
        pre_indent = indent(s.rec(i));
        if pre_indent != -1 {
            break;
        }
        pre_blank += 1;
        if pre_blank == MAX_BLANKS {
            pre_indent = 0;
            break;
        }
        i -= 1;
    }
    let (mut post_blank_run, mut post_indent) = (0, -1);
    let mut i = split + 1;
    while i < s.len() {
        post_indent = indent(s.rec(i));
        if post_indent != -1 {
            break;
        }
        post_blank_run += 1;
        if post_blank_run == MAX_BLANKS {
            post_indent = 0;
            break;
        }
        i += 1;
    }
    if pre_indent == -1 && pre_blank == 0 {
        score.penalty += 1; // start of file
    }
    if end_of_file {
        score.penalty += 21;
    }
    let post_blank = if ind == -1 { 1 + post_blank_run } else { 0 };
    let total_blank = pre_blank + post_blank;
    score.penalty += -30 * total_blank + 6 * post_blank;
    let ind = if ind != -1 { ind } else { post_indent };
    let any_blanks = total_blank != 0;
    score.effective_indent += ind;
    if ind == -1 || pre_indent == -1 || ind == pre_indent {
    } else if ind > pre_indent {
        score.penalty += if any_blanks { 10 } else { -4 };
    } else if post_indent != -1 && post_indent > ind {
        score.penalty += if any_blanks { 17 } else { 24 };
    } else {
        score.penalty += if any_blanks { 17 } else { 23 };
    }
}

fn score_cmp(a: Score, b: Score) -> i32 {
    60 * (a.effective_indent.cmp(&b.effective_indent) as i32) + (a.penalty - b.penalty)
}

/// Slides the change groups of `s`, walking the groups of `other` (the other side's flags) in step; `None`
/// when the two sides' groups fall out of step (ops that did not pair lines).
fn compact_side(s: &mut Side, other: &[bool]) -> Option<()> {
    let o = Flags(other);
    let mut g = group_first(s);
    let mut go = {
        let mut g = Group { start: 0, end: 0 };
        while o.ch(g.end) {
            g.end += 1;
        }
        g
    };
    loop {
        if g.end != g.start {
            let mut end_matching_other;
            let mut earliest_end;
            loop {
                let size = g.end - g.start;
                end_matching_other = -1;
                while slide_up(s, &mut g) {
                    if !previous_in(|i| o.ch(i), &mut go) {
                        return None;
                    }
                }
                earliest_end = g.end;
                if go.end > go.start {
                    end_matching_other = g.end;
                }
                while slide_down(s, &mut g) {
                    if !next_in(|i| o.ch(i), o.len(), &mut go) {
                        return None;
                    }
                    if go.end > go.start {
                        end_matching_other = g.end;
                    }
                }
                if size == g.end - g.start {
                    break;
                }
            }
            if g.end == earliest_end {
                // Not movable.
            } else if end_matching_other != -1 {
                while go.end == go.start {
                    if !slide_up(s, &mut g) || !previous_in(|i| o.ch(i), &mut go) {
                        return None;
                    }
                }
            } else {
                let size = g.end - g.start;
                let mut shift = earliest_end.max(g.end - size - 1).max(g.end - MAX_SLIDING);
                let mut best: Option<(isize, Score)> = None;
                while shift <= g.end {
                    let mut score = Score::default();
                    add_split(s, shift, &mut score);
                    add_split(s, shift - size, &mut score);
                    if best.is_none_or(|(_, b)| score_cmp(score, b) <= 0) {
                        best = Some((shift, score));
                    }
                    shift += 1;
                }
                let best_shift = best.map_or(g.end, |b| b.0);
                while g.end > best_shift {
                    if !slide_up(s, &mut g) || !previous_in(|i| o.ch(i), &mut go) {
                        return None;
                    }
                }
            }
        }
        if !next_in(|i| s.ch(i), s.len(), &mut g) {
            break;
        }
        if !next_in(|i| o.ch(i), o.len(), &mut go) {
            return None;
        }
    }
    Some(())
}

/// Operations from the two sides' changed flags (their unchanged lines pair up in order).
fn ops_of(a: &[bool], b: &[bool]) -> Vec<DiffOp> {
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::new();
    while i < a.len() || j < b.len() {
        let (i0, j0) = (i, j);
        while i < a.len() && j < b.len() && !a[i] && !b[j] {
            i += 1;
            j += 1;
        }
        if i > i0 {
            ops.push(DiffOp::Equal { old_index: i0, new_index: j0, len: i - i0 });
        }
        let (i1, j1) = (i, j);
        while i < a.len() && a[i] {
            i += 1;
        }
        while j < b.len() && b[j] {
            j += 1;
        }
        match (i - i1, j - j1) {
            (0, 0) => {
                if i0 == i && j0 == j {
                    // Unpaired unchanged lines (cannot happen once counts agree): stop rather than loop.
                    break;
                }
            }
            (d, 0) => ops.push(DiffOp::Delete { old_index: i1, old_len: d, new_index: j1 }),
            (0, n) => ops.push(DiffOp::Insert { old_index: i1, new_index: j1, new_len: n }),
            (d, n) => ops.push(DiffOp::Replace { old_index: i1, old_len: d, new_index: j1, new_len: n }),
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use similar::{Algorithm, TextDiff};

    /// Changed lines (1-based) of the base and of the head side, after sliding.
    pub(super) fn changed(old: &str, new: &str) -> (Vec<usize>, Vec<usize>) {
        let d = TextDiff::configure().algorithm(Algorithm::Myers).diff_lines(old, new);
        let ops = git_compact(d.old_slices(), d.new_slices(), d.ops()).unwrap();
        let mut del = Vec::new();
        let mut add = Vec::new();
        for op in ops {
            if op.tag() != similar::DiffTag::Equal {
                del.extend(op.old_range().map(|i| i + 1));
                add.extend(op.new_range().map(|i| i + 1));
            }
        }
        (del, add)
    }

    #[test]
    fn an_inserted_copy_of_a_block_is_placed_as_git_places_it() {
        // git diff: the new entry is the lines after the existing one (indent heuristic), not the ones before.
        let old = "items:\n- name: a\n  port: 1\n";
        let new = "items:\n- name: a\n  port: 1\n- name: a\n  port: 1\n";
        assert_eq!(changed(old, new), (vec![], vec![4, 5]));
        // A blank line and a block inserted between two blocks: git keeps the blank line above the new block.
        let old = "a:\n  x: 1\n\nb:\n  y: 2\n";
        let new = "a:\n  x: 1\n\nc:\n  z: 3\n\nb:\n  y: 2\n";
        assert_eq!(changed(old, new), (vec![], vec![4, 5, 6]));
    }

    #[test]
    fn a_slid_group_lines_up_with_a_change_on_the_other_side() {
        let (old, new) = ("a\nb\nb\nc\n", "a\nb\nx\nc\n");
        assert_eq!(changed(old, new), (vec![3], vec![3]));
    }

    #[test]
    fn ops_that_do_not_pair_lines_are_refused() {
        let ops = [DiffOp::Equal { old_index: 0, new_index: 0, len: 2 }];
        assert!(git_compact(&["a\n"], &["a\n", "b\n"], &ops).is_none());
        assert!(git_compact(&["a\n"], &["a\n"], &[DiffOp::Equal { old_index: 0, new_index: 0, len: 5 }]).is_none());
    }

    #[test]
    fn indent_counts_tabs_to_multiples_of_eight_and_blank_lines_are_minus_one() {
        assert_eq!((indent("  a"), indent("\ta"), indent(" \ta"), indent("  \r\n"), indent("")), (2, 8, 8, -1, -1));
        assert_eq!(indent(&" ".repeat(300)), MAX_INDENT);
    }
}

#[cfg(test)]
#[path = "compact_mutation2_tests.rs"]
mod mutation2_tests;

#[cfg(test)]
#[path = "compact_mutation3_tests.rs"]
mod mutation3_tests;

//! Changed lines between two versions of a file, with the `similar` crate: unified-diff hunks with 3 lines of
//! context (what GitHub shows on a pull request), and the exact added and deleted line ranges.

use super::{FileChange, Hunk};
use similar::{Algorithm, DiffOp, DiffTag, TextDiff};

/// Merges sorted inclusive ranges that touch or overlap. `file_change` gets its ranges from `similar`'s
/// operations, which in practice never put two changes of one side next to each other (a deletion and an
/// insertion come as one replacement, changes are separated by equal runs): the merge step is a guard for the
/// `added`/`deleted` contract (disjoint, non-touching ranges, which anchoring relies on), since `similar` does not
/// promise that shape and has broken the ordering one before (see [`line_ops`]).
pub fn merge_ranges(mut ranges: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    ranges.sort();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if a <= last.1 + 1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Compares two texts (either may be absent: added or deleted file).
pub fn file_change(
    base_path: Option<&str>,
    base: Option<&str>,
    head_path: Option<&str>,
    head: Option<&str>,
) -> FileChange {
    let old = base.unwrap_or("");
    let new = head.unwrap_or("");
    let ops = line_ops(old, new);
    let mut added = Vec::new();
    let mut deleted = Vec::new();
    for op in &ops {
        let (tag, o, n) = (op.tag(), op.old_range(), op.new_range());
        if matches!(tag, DiffTag::Delete | DiffTag::Replace) && !o.is_empty() {
            deleted.push((o.start + 1, o.end));
        }
        if matches!(tag, DiffTag::Insert | DiffTag::Replace) && !n.is_empty() {
            added.push((n.start + 1, n.end));
        }
    }
    let hunks = similar::group_diff_ops(ops, 3)
        .iter()
        .filter_map(|group| {
            let os = group.iter().map(|o| o.old_range().start).min()?;
            let oe = group.iter().map(|o| o.old_range().end).max()?;
            let ns = group.iter().map(|o| o.new_range().start).min()?;
            let ne = group.iter().map(|o| o.new_range().end).max()?;
            Some(Hunk { base_start: os + 1, base_lines: oe - os, head_start: ns + 1, head_lines: ne - ns })
        })
        .collect();
    FileChange {
        head_path: head_path.map(str::to_string),
        base_path: base_path.map(str::to_string),
        hunks,
        added: merge_ranges(added),
        deleted: merge_ranges(deleted),
    }
}

/// The line operations from `old` to `new`: `similar`'s Myers diff, its positions recomputed from the
/// operations' lengths (similar sometimes yields wrong positions: base `x` and 8 newlines against 7 newlines,
/// `y`, 5 newlines, `x` gives a deletion at head line 3 before an equal run from head line 1; an insertion can
/// carry the base position of the equal run before it) and kept only when every equal run then really pairs
/// equal lines and both texts are covered; else its patience diff under the same check, then its LCS diff
/// (quadratic memory, so only for small texts), else one replacement of the whole text (coarse, never wrong).
/// Each is then laid out as git lays out ambiguous changes (see [`super::compact`]).
fn line_ops(old: &str, new: &str) -> Vec<DiffOp> {
    line_ops_by(old, new, &[Algorithm::Myers, Algorithm::Patience, Algorithm::Lcs])
}

/// [`line_ops`] with the algorithms tried in order (a parameter so that tests can reach the later ones, which
/// `line_ops` only tries when the earlier ones' operations do not tile).
fn line_ops_by(old: &str, new: &str, algorithms: &[Algorithm]) -> Vec<DiffOp> {
    let old_lines = TextDiff::from_lines(old, "").ops().iter().map(|o| o.old_range().end).max().unwrap_or(0);
    let new_lines = TextDiff::from_lines("", new).ops().iter().map(|o| o.new_range().end).max().unwrap_or(0);
    for &algorithm in algorithms {
        if algorithm == Algorithm::Lcs && old_lines.saturating_mul(new_lines) > LCS_MAX_CELLS {
            break;
        }
        let diff = TextDiff::configure().algorithm(algorithm).diff_lines(old, new);
        if let Some(ops) = retile(diff.ops(), diff.old_slices(), diff.new_slices()) {
            // Ambiguous changes where git (and the pull request page) puts them.
            let (old, new) = (diff.old_slices(), diff.new_slices());
            if let Some(slid) = super::compact::git_compact(old, new, &ops).and_then(|s| retile(&s, old, new)) {
                return slid;
            }
            return ops;
        }
    }
    replace_all(old_lines, new_lines)
}

/// One operation that replaces a text of `old` lines by one of `new` lines.
fn replace_all(old: usize, new: usize) -> Vec<DiffOp> {
    match (old, new) {
        (0, 0) => Vec::new(),
        (0, n) => vec![DiffOp::Insert { old_index: 0, new_index: 0, new_len: n }],
        (o, 0) => vec![DiffOp::Delete { old_index: 0, old_len: o, new_index: 0 }],
        (o, n) => vec![DiffOp::Replace { old_index: 0, old_len: o, new_index: 0, new_len: n }],
    }
}

/// Largest base lines x head lines for which the LCS diff (a table of that many cells) is tried.
const LCS_MAX_CELLS: usize = 4_000_000;

/// The operations laid end to end from the start of both texts (positions from the lengths alone), or `None`
/// when they do not cover exactly `old` and `new` or an equal run pairs lines that differ.
fn retile(ops: &[DiffOp], old: &[&str], new: &[&str]) -> Option<Vec<DiffOp>> {
    let (mut o, mut n) = (0, 0);
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        let (ol, nl) = (op.old_range().len(), op.new_range().len());
        let op = match op.tag() {
            DiffTag::Equal => {
                if ol != nl || old.get(o..o + ol)? != new.get(n..n + nl)? {
                    return None;
                }
                DiffOp::Equal { old_index: o, new_index: n, len: ol }
            }
            DiffTag::Delete => DiffOp::Delete { old_index: o, old_len: ol, new_index: n },
            DiffTag::Insert => DiffOp::Insert { old_index: o, new_index: n, new_len: nl },
            DiffTag::Replace => DiffOp::Replace { old_index: o, old_len: ol, new_index: n, new_len: nl },
        };
        (o, n) = (o + ol, n + nl);
        out.push(op);
    }
    (o == old.len() && n == new.len()).then_some(out)
}

/// True when any line of `a..=b` lies in one of `ranges`; returns the overlapping parts.
pub fn overlap(ranges: &[(usize, usize)], a: usize, b: usize) -> Vec<(usize, usize)> {
    ranges.iter().filter(|(x, y)| *x <= b && *y >= a).map(|(x, y)| ((*x).max(a), (*y).min(b))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modified_added_and_deleted_lines() {
        let c = file_change(Some("a"), Some("1\n2\n3\n4\n"), Some("a"), Some("1\nX\n3\n4\n5\n"));
        assert_eq!(c.added, vec![(2, 2), (5, 5)]);
        assert_eq!(c.deleted, vec![(2, 2)]);
        assert_eq!(c.hunks, vec![Hunk { base_start: 1, base_lines: 4, head_start: 1, head_lines: 5 }]);
        let d = file_change(Some("a"), Some("1\n2\n"), None, None);
        assert_eq!((d.added.len(), d.deleted.clone()), (0, vec![(1, 2)]));
    }

    #[test]
    fn merge_ranges_sorts_and_merges_touching_and_overlapping_ranges() {
        assert_eq!(merge_ranges(vec![]), vec![]);
        assert_eq!(merge_ranges(vec![(5, 6), (1, 2)]), vec![(1, 2), (5, 6)]);
        // Touching (3 follows 2), overlapping, contained.
        assert_eq!(merge_ranges(vec![(3, 4), (1, 2)]), vec![(1, 4)]);
        assert_eq!(merge_ranges(vec![(1, 5), (3, 8), (10, 10)]), vec![(1, 8), (10, 10)]);
        assert_eq!(merge_ranges(vec![(1, 9), (2, 3), (11, 12)]), vec![(1, 9), (11, 12)]);
        // One line apart stays apart.
        assert_eq!(merge_ranges(vec![(1, 2), (4, 4)]), vec![(1, 2), (4, 4)]);
    }

    #[test]
    fn overlap_clips_to_the_object() {
        let ranges = [(2, 3), (8, 9), (12, 12)];
        assert_eq!(overlap(&ranges, 3, 8), vec![(3, 3), (8, 8)]);
        assert_eq!(overlap(&ranges, 1, 20), vec![(2, 3), (8, 9), (12, 12)]);
        assert_eq!(overlap(&ranges, 9, 12), vec![(9, 9), (12, 12)]);
        // An object between two changes, and before and after all of them.
        assert_eq!(overlap(&ranges, 4, 7), vec![]);
        assert_eq!(overlap(&ranges, 1, 1), vec![]);
        assert_eq!(overlap(&ranges, 13, 30), vec![]);
        assert_eq!(overlap(&ranges, 12, 12), vec![(12, 12)]);
    }

    #[test]
    fn hunks_inside_a_file_have_exact_starts_and_lengths() {
        let old: String = (1..=30).map(|i| format!("{i}\n")).collect();
        // Line 10 becomes two lines (head shifts by one after it), line 25 is deleted, line 30 changes (its
        // hunk's context is cut by the end of the file).
        let new: String = (1..=30)
            .filter(|i| *i != 25)
            .map(|i| match i {
                10 => "x\ny\n".to_string(),
                30 => "thirty\n".to_string(),
                i => format!("{i}\n"),
            })
            .collect();
        let c = file_change(Some("a"), Some(&old), Some("a"), Some(&new));
        assert_eq!(c.added, vec![(10, 11), (30, 30)]);
        assert_eq!(c.deleted, vec![(10, 10), (25, 25), (30, 30)]);
        assert_eq!(
            c.hunks,
            vec![
                // Base 7..=13, head 7..=14.
                Hunk { base_start: 7, base_lines: 7, head_start: 7, head_lines: 8 },
                // Base 22..=30 (25 and 30 are 5 apart: one hunk), head 23..=30.
                Hunk { base_start: 22, base_lines: 9, head_start: 23, head_lines: 8 },
            ]
        );
        // A pure insertion and a pure deletion in the middle: the other side's length counts context only.
        let ins = old.replace("15\n", "15\nnew\n");
        let c = file_change(Some("a"), Some(&old), Some("a"), Some(&ins));
        assert_eq!(c.hunks, vec![Hunk { base_start: 13, base_lines: 6, head_start: 13, head_lines: 7 }]);
        assert_eq!((c.added.clone(), c.deleted.clone()), (vec![(16, 16)], vec![]));
        let c = file_change(Some("a"), Some(&ins), Some("a"), Some(&old));
        assert_eq!(c.hunks, vec![Hunk { base_start: 13, base_lines: 7, head_start: 13, head_lines: 6 }]);
        // An added file: one hunk with no base lines.
        let c = file_change(None, None, Some("a"), Some("a\nb\n"));
        assert_eq!(c.hunks, vec![Hunk { base_start: 1, base_lines: 0, head_start: 1, head_lines: 2 }]);
        assert!(!c.hunks[0].contains(crate::finding::Side::Base, 1));
        assert!(
            c.hunks[0].contains(crate::finding::Side::Head, 2) && !c.hunks[0].contains(crate::finding::Side::Head, 3)
        );
    }

    #[test]
    fn retile_relays_positions_and_refuses_what_does_not_cover_or_pair_equal_lines() {
        let eq = |o: usize, n: usize, len: usize| DiffOp::Equal { old_index: o, new_index: n, len };
        let ins = |o: usize, n: usize, len: usize| DiffOp::Insert { old_index: o, new_index: n, new_len: len };
        let del = |o: usize, n: usize, len: usize| DiffOp::Delete { old_index: o, old_len: len, new_index: n };
        let old = ["a\n", "b\n", "c\n", "d\n"];
        let new = ["a\n", "b\n", "X\n", "d\n"];
        assert_eq!(retile(&[], &[], &[]), Some(vec![]));
        // Positions come from the lengths alone: wrong indexes (as similar sometimes yields) are laid end to end.
        let relaid = retile(&[eq(0, 0, 2), del(7, 9, 1), ins(1, 0, 1), eq(0, 5, 1)], &old, &new);
        assert_eq!(relaid, Some(vec![eq(0, 0, 2), del(2, 2, 1), ins(3, 2, 1), eq(3, 3, 1)]));
        // Not covering the end of either text.
        assert_eq!(retile(&[eq(0, 0, 2)], &old, &new), None);
        assert_eq!(retile(&[eq(0, 0, 2), del(2, 2, 2)], &old, &new), None);
        // An equal run that pairs lines that differ, or of two lengths.
        assert_eq!(retile(&[eq(0, 0, 4)], &old, &new), None);
        let uneven = DiffOp::Replace { old_index: 0, old_len: 1, new_index: 0, new_len: 3 };
        assert_eq!(
            retile(&[uneven, eq(1, 3, 1)], &["a\n", "b\n"], &["x\n", "y\n", "z\n", "b\n"]).map(|v| v.len()),
            Some(2)
        );
        assert_eq!(retile(&[uneven, eq(1, 3, 1)], &["a\n", "b\n"], &["x\n", "y\n", "z\n", "c\n"]), None);
    }

    #[test]
    fn the_fallback_replaces_the_whole_text() {
        assert_eq!(replace_all(0, 0), vec![]);
        assert_eq!(replace_all(0, 3), vec![DiffOp::Insert { old_index: 0, new_index: 0, new_len: 3 }]);
        assert_eq!(replace_all(2, 0), vec![DiffOp::Delete { old_index: 0, old_len: 2, new_index: 0 }]);
        assert_eq!(replace_all(2, 3), vec![DiffOp::Replace { old_index: 0, old_len: 2, new_index: 0, new_len: 3 }]);
    }

    #[test]
    fn far_apart_changes_make_two_hunks() {
        let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let new = old.replace("2\n", "two\n").replace("18\n", "eighteen\n");
        let c = file_change(Some("a"), Some(&old), Some("a"), Some(&new));
        assert_eq!(c.hunks.len(), 2);
        assert!(c.hunks[1].contains(crate::finding::Side::Head, 18));
        assert!(!c.hunks[0].contains(crate::finding::Side::Head, 10));
    }
    #[test]
    fn operations_out_of_order_from_similar_do_not_break_hunks() {
        // similar's Myers yields a deletion at head line 3 before an equal run from head line 1 here.
        let old = format!("x{}", "\n".repeat(8));
        let new = format!("{}y{}x", "\n".repeat(7), "\n".repeat(5));
        let c = file_change(Some("a"), Some(&old), Some("a"), Some(&new));
        check_change(&old, &new, &c);
    }

    /// Lines without their endings, as the diff counts them.
    fn lines(t: &str) -> Vec<&str> {
        t.split_inclusive('\n').collect()
    }

    /// A change is right when: removing its deleted lines from the base and its added lines from the head
    /// leaves the same sequence (the unchanged lines, matched in order), every range is inside its file, and
    /// the hunks are ordered, disjoint, inside the files and cover every changed line.
    fn check_change(old: &str, new: &str, c: &FileChange) {
        let (ol, nl) = (lines(old), lines(new));
        let inside = |r: &[(usize, usize)], n: usize| r.iter().all(|(a, b)| 1 <= *a && a <= b && *b <= n);
        assert!(inside(&c.deleted, ol.len()) && inside(&c.added, nl.len()), "{c:?}");
        let keep = |ls: &[&str], r: &[(usize, usize)]| -> Vec<String> {
            ls.iter()
                .enumerate()
                .filter(|(i, _)| !r.iter().any(|(a, b)| (*a..=*b).contains(&(i + 1))))
                .map(|(_, l)| l.trim_end_matches('\n').to_string())
                .collect()
        };
        assert_eq!(keep(&ol, &c.deleted), keep(&nl, &c.added), "{old:?} -> {new:?}: {c:?}");
        let mut prev_end = (0, 0);
        for h in &c.hunks {
            assert!(h.base_start >= 1 && h.head_start >= 1, "{h:?}");
            assert!(
                h.base_start - 1 + h.base_lines <= ol.len() && h.head_start - 1 + h.head_lines <= nl.len(),
                "{h:?}"
            );
            assert!(h.base_start > prev_end.0 && h.head_start > prev_end.1, "{:?}", c.hunks);
            prev_end = (h.base_start - 1 + h.base_lines, h.head_start - 1 + h.head_lines);
        }
        for (a, b) in &c.added {
            for l in *a..=*b {
                assert!(c.hunks.iter().any(|h| h.contains(crate::finding::Side::Head, l)), "head {l}: {c:?}");
            }
        }
        for (a, b) in &c.deleted {
            for l in *a..=*b {
                assert!(c.hunks.iter().any(|h| h.contains(crate::finding::Side::Base, l)), "base {l}: {c:?}");
            }
        }
        // As few changed lines as a longest common subsequence allows, or the whole-file fallback.
        let lcs = lcs_len(&ol, &nl);
        let changed = |r: &[(usize, usize)]| r.iter().map(|(a, b)| b - a + 1).sum::<usize>();
        let (d, a) = (changed(&c.deleted), changed(&c.added));
        assert!(d >= ol.len() - lcs && a >= nl.len() - lcs);
    }

    fn lcs_len(a: &[&str], b: &[&str]) -> usize {
        let mut row = vec![0usize; b.len() + 1];
        for x in a {
            let mut diag = 0;
            for (j, y) in b.iter().enumerate() {
                let up = row[j + 1];
                row[j + 1] =
                    if x.trim_end_matches('\n') == y.trim_end_matches('\n') { diag + 1 } else { up.max(row[j]) };
                diag = up;
            }
        }
        row[b.len()]
    }

    #[test]
    fn random_edits_of_a_manifest_give_right_hunks() {
        const BASE: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: shop\nspec:\n  mtls:\n    mode: STRICT\n\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: web\nspec:\n  host: web\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n\n\n---\n";
        let pool = ["", "x", "y", "---", "  mode: DISABLE", "spec:", "    mode: STRICT", "\n"];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for case in 0..3000 {
            let mut old: Vec<String> = BASE.lines().map(str::to_string).collect();
            if case % 3 == 0 {
                old.truncate(next(old.len() + 1));
            }
            let mut new = old.clone();
            for _ in 0..1 + next(4) {
                let at = next(new.len() + 1);
                match next(3) {
                    0 if at < new.len() => {
                        new.remove(at);
                    }
                    1 if at < new.len() => new[at] = pool[next(pool.len())].to_string(),
                    _ => new.insert(at, pool[next(pool.len())].to_string()),
                }
            }
            let join = |v: &[String], nl: bool| {
                let mut s = v.join("\n");
                if nl && !s.is_empty() {
                    s.push('\n');
                }
                s
            };
            let (o, n) = (join(&old, next(4) > 0), join(&new, next(4) > 0));
            let c = file_change(Some("a"), Some(&o), Some("a"), Some(&n));
            check_change(&o, &n, &c);
        }
    }
}

#[cfg(test)]
#[path = "diff_mutation_tests.rs"]
mod mutation_tests;

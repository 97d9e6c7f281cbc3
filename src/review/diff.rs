//! Changed lines between two versions of a file, with the `similar` crate: unified-diff hunks with 3 lines of
//! context (what GitHub shows on a pull request), and the exact added and deleted line ranges.

use super::{FileChange, Hunk};
use similar::{DiffTag, TextDiff};

/// Merges sorted inclusive ranges that touch or overlap.
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
    let diff = TextDiff::configure().algorithm(similar::Algorithm::Myers).diff_lines(old, new);
    let mut added = Vec::new();
    let mut deleted = Vec::new();
    for op in diff.ops() {
        let (tag, o, n) = (op.tag(), op.old_range(), op.new_range());
        if matches!(tag, DiffTag::Delete | DiffTag::Replace) && !o.is_empty() {
            deleted.push((o.start + 1, o.end));
        }
        if matches!(tag, DiffTag::Insert | DiffTag::Replace) && !n.is_empty() {
            added.push((n.start + 1, n.end));
        }
    }
    let hunks = diff
        .grouped_ops(3)
        .iter()
        .filter_map(|group| {
            let first = group.first()?;
            let last = group.last()?;
            let (os, oe) = (first.old_range().start, last.old_range().end);
            let (ns, ne) = (first.new_range().start, last.new_range().end);
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
    fn far_apart_changes_make_two_hunks() {
        let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let new = old.replace("2\n", "two\n").replace("18\n", "eighteen\n");
        let c = file_change(Some("a"), Some(&old), Some("a"), Some(&new));
        assert_eq!(c.hunks.len(), 2);
        assert!(c.hunks[1].contains(crate::finding::Side::Head, 18));
        assert!(!c.hunks[0].contains(crate::finding::Side::Head, 10));
    }
}

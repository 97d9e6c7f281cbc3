//! Tests written against the mutants `cargo mutants` left alive in the grouping logic (issue 15): which spans a
//! finding groups on, how groups form and are ordered, what a group's id depends on, the base-side revert
//! candidate (exact lines and text) and the list wording. Fix verification is tested in `src/fix.rs`.

use super::*;
use crate::finding::{Anchor, Location, ObjectRef, Severity};
use crate::manifest::{SourceText, load_file, yaml::Limits};
use std::sync::Arc;

fn finding(code: &'static str, severity: Severity, status: Status, path: &str, lines: (usize, usize)) -> Finding {
    Finding {
        code,
        severity,
        status,
        message: format!("{code} message"),
        object: ObjectRef { kind: "PeerAuthentication".into(), namespace: "shop".into(), name: code.into() },
        port: None,
        location: Location { side: Side::Head, path: path.into(), line: lines.0, end_line: lines.1 },
        related: Vec::new(),
        fix: None,
        help: None,
        anchors: None,
        meshes: Vec::new(),
        targets: Vec::new(),
        group: None,
    }
}

fn anchor(side: Side, path: &str, line: usize, end_line: usize) -> Anchor {
    Anchor { side, path: path.into(), line, end_line }
}

fn with_anchors(mut f: Finding, anchors: Vec<Anchor>) -> Finding {
    f.anchors = Some(anchors);
    f
}

#[test]
fn spans_are_the_anchors_of_an_introduced_finding_else_its_location() {
    use Severity::*;
    use Status::*;
    // Anchors, each ordered (an anchor written end first still spans its lines), on their own side and path.
    let f = with_anchors(
        finding("TIS0206", Error, Introduced, "a.yaml", (1, 30)),
        vec![anchor(Side::Head, "a.yaml", 9, 7), anchor(Side::Base, "b.yaml", 3, 3)],
    );
    assert_eq!(spans(&f), vec![(Side::Head, "a.yaml", 7, 9), (Side::Base, "b.yaml", 3, 3)]);
    // No anchors, or an empty list: the location.
    let f = finding("TIS0206", Error, Introduced, "a.yaml", (4, 6));
    assert_eq!(spans(&f), vec![(Side::Head, "a.yaml", 4, 6)]);
    let f = with_anchors(finding("TIS0206", Error, Introduced, "a.yaml", (4, 6)), vec![]);
    assert_eq!(spans(&f), vec![(Side::Head, "a.yaml", 4, 6)]);
    // An existing finding groups on its location even when it carries anchors; a resolved one never groups.
    let f =
        with_anchors(finding("TIS0206", Error, Existing, "a.yaml", (4, 6)), vec![anchor(Side::Head, "a.yaml", 9, 9)]);
    assert_eq!(spans(&f), vec![(Side::Head, "a.yaml", 4, 6)]);
    assert_eq!(spans(&finding("TIS0206", Error, Resolved, "a.yaml", (4, 6))), vec![]);
}

#[test]
fn findings_group_only_on_a_common_line_of_the_same_side_and_path() {
    use Severity::*;
    use Status::*;
    let at = |code, path, lines| finding(code, Error, Existing, path, lines);
    // Lines 1-3 and 4-6 touch but share no line: two singletons, no group.
    assert_eq!(plan(&[at("TIS0502", "a.yaml", (1, 3)), at("TIS0206", "a.yaml", (4, 6))]), Vec::<Vec<usize>>::new());
    // A long span holds the run open past a short one inside it: 0 (1-10) joins 2 (9-9) though 1 (2-3) ended.
    let fs = [at("TIS0502", "a.yaml", (1, 10)), at("TIS0206", "a.yaml", (2, 3)), at("MTLS002", "a.yaml", (9, 9))];
    assert_eq!(plan(&fs), vec![vec![0, 1, 2]]);
    // Same lines on the other side (a deleted object's base lines) do not group with head lines.
    let base =
        with_anchors(finding("TIS0502", Error, Introduced, "a.yaml", (5, 5)), vec![anchor(Side::Base, "a.yaml", 5, 5)]);
    let head =
        with_anchors(finding("TIS0206", Error, Introduced, "a.yaml", (5, 5)), vec![anchor(Side::Head, "a.yaml", 5, 5)]);
    assert_eq!(plan(&[base, head]), Vec::<Vec<usize>>::new());
    // Two groups, in the order of their first member; inside each the worst first, then in input order.
    let fs = [
        finding("TIS0101", Note, Existing, "b.yaml", (1, 1)),
        finding("TIS0502", Warning, Existing, "a.yaml", (2, 2)),
        finding("TIS0206", Error, Existing, "b.yaml", (1, 1)),
        finding("MTLS002", Warning, Existing, "a.yaml", (2, 2)),
        finding("TIS0205", Error, Existing, "b.yaml", (1, 1)),
        finding("TIS0207", Error, Existing, "c.yaml", (1, 1)),
    ];
    assert_eq!(plan(&fs), vec![vec![2, 4, 0], vec![1, 3]]);
    // Joins through a later member: 0 and 2 share no line, both overlap 1 (both overlap 5).
    let fs = [
        at("TIS0502", "a.yaml", (1, 2)),
        at("TIS0206", "b.yaml", (1, 1)),
        at("MTLS002", "a.yaml", (5, 6)),
        with_anchors(finding("TIS0205", Error, Introduced, "x", (0, 0)), vec![]),
        at("TIS0207", "b.yaml", (1, 1)),
        at("TIS0208", "a.yaml", (2, 5)),
    ];
    assert_eq!(plan(&fs), vec![vec![0, 2, 5], vec![1, 4]]);
}

#[test]
fn arrange_keeps_singletons_in_place_and_moves_members_to_their_first() {
    use Severity::*;
    use Status::*;
    let mut fs = vec![
        finding("TIS0101", Note, Existing, "z.yaml", (1, 1)),
        finding("TIS0502", Warning, Existing, "a.yaml", (2, 2)),
        finding("TIS0205", Error, Existing, "y.yaml", (1, 1)),
        finding("TIS0206", Error, Existing, "a.yaml", (2, 2)),
        finding("TIS0207", Error, Existing, "x.yaml", (1, 1)),
    ];
    fs[4].group = Some("stale".into());
    arrange(&mut fs);
    let codes: Vec<&str> = fs.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["TIS0101", "TIS0206", "TIS0502", "TIS0205", "TIS0207"]);
    let groups: Vec<Option<&str>> = fs.iter().map(|f| f.group.as_deref()).collect();
    let id = group_id(&[&fs[1], &fs[2]]);
    assert_eq!(groups, [None, Some(id.as_str()), Some(id.as_str()), None, None]);
    // No group at all: the stale id is cleared too.
    let mut fs = vec![finding("TIS0101", Note, Existing, "z.yaml", (1, 1))];
    fs[0].group = Some("stale".into());
    arrange(&mut fs);
    assert_eq!(fs[0].group, None);
}

#[test]
fn a_group_id_depends_on_the_lines_of_its_first_path_only() {
    use Severity::*;
    use Status::*;
    let at =
        |code, path: &str, anchors: Vec<Anchor>| with_anchors(finding(code, Error, Introduced, path, (1, 1)), anchors);
    let id = |first: (usize, usize), other: (usize, usize)| {
        let a = at("TIS0502", "a.yaml", vec![anchor(Side::Head, "a.yaml", first.0, first.1)]);
        let b = at(
            "MTLS003",
            "a.yaml",
            vec![anchor(Side::Head, "a.yaml", 7, 7), anchor(Side::Head, "b.yaml", other.0, other.1)],
        );
        group_id(&[&a, &b])
    };
    // The range of the first path is min start .. max end over its spans: 3-7 either way here.
    assert_eq!(id((3, 4), (1, 1)), id((3, 5), (50, 60)));
    assert_ne!(id((3, 4), (1, 1)), id((2, 4), (1, 1)));
    assert_ne!(id((7, 7), (1, 1)), id((7, 8), (1, 1)));
    // The side is part of where a group is.
    let on = |side| {
        let a = at("TIS0502", "a.yaml", vec![anchor(side, "a.yaml", 3, 3)]);
        let b = at("MTLS003", "a.yaml", vec![anchor(side, "a.yaml", 3, 3)]);
        group_id(&[&a, &b])
    };
    assert_ne!(on(Side::Head), on(Side::Base));
}

#[test]
fn list_joins_codes_in_prose() {
    assert_eq!(list(&[]), "");
    assert_eq!(list(&["A"]), "A");
    assert_eq!(list(&["A", "B"]), "A and B");
    assert_eq!(list(&["A", "B", "C"]), "A, B and C");
}

fn file(path: &str, text: &str) -> LoadedFile {
    load_file(path, text.as_bytes(), &Limits::default())
}

fn numbered(n: usize) -> String {
    (1..=n).map(|i| format!("l{i}\n")).collect()
}

/// The revert candidate of one introduced finding anchored on `anchors` of head `f.yaml`.
fn revert_of(base: &str, head: &str, anchors: Vec<Anchor>) -> Option<Fix> {
    let f = with_anchors(finding("TIS0206", Severity::Error, Status::Introduced, "f.yaml", (1, 1)), anchors);
    revert(&[&f], &[file("f.yaml", base)], &[file("f.yaml", head)])
}

fn fix(start_line: usize, end_line: usize, replacement: &str) -> Option<Fix> {
    let lines =
        if start_line == end_line { format!("line {start_line}") } else { format!("lines {start_line}-{end_line}") };
    Some(Fix {
        description: format!("restore {lines} of `f.yaml` as on the base branch"),
        path: "f.yaml".into(),
        start_line,
        end_line,
        replacement: replacement.into(),
    })
}

#[test]
fn revert_restores_the_changed_lines_under_the_anchors() {
    let h = |line, end| anchor(Side::Head, "f.yaml", line, end);
    let base = numbered(8);
    // One changed line.
    let head = base.replace("l2\n", "X\n");
    assert_eq!(revert_of(&base, &head, vec![h(2, 2)]), fix(2, 2, "l2"));
    // Two changed runs under the anchors: the unchanged line between them is kept as it is.
    let head = base.replace("l3\n", "X\n").replace("l5\n", "Y\n");
    assert_eq!(revert_of(&base, &head, vec![h(3, 3), h(5, 5)]), fix(3, 5, "l3\nl4\nl5"));
    // A change outside the anchors stays: only line 2 is restored, not line 4.
    let head = base.replace("l2\n", "X\n").replace("l4\n", "Y\n");
    assert_eq!(revert_of(&base, &head, vec![h(2, 2)]), fix(2, 2, "l2"));
    // A run that begins right after the anchored lines (an unchanged line 2 anchored) is not under them.
    let head = base.replace("l3\n", "X\n");
    assert_eq!(revert_of(&base, &head, vec![h(2, 2)]), None);
    // Runs that touch the anchors at either end are restored whole: one starting on the last anchored line, one
    // ending on the first.
    let head = base.replace("l3\n", "X\nX2\n");
    assert_eq!(revert_of(&base, &head, vec![h(2, 3)]), fix(3, 4, "l3"));
    let head = base.replace("l1\nl2\n", "X\nY\n");
    assert_eq!(revert_of(&base, &head, vec![h(2, 3)]), fix(1, 2, "l1\nl2"));
    // Inserted lines are restored to nothing; a deletion has no head line to put back.
    let head = base.replace("l4\n", "l4\nNEW\n");
    assert_eq!(revert_of(&base, &head, vec![h(5, 5)]), fix(5, 5, ""));
    let head = base.replace("l4\n", "");
    assert_eq!(revert_of(&base, &head, vec![h(3, 5)]), None);
}

#[test]
fn revert_needs_head_anchors_in_one_file_on_both_sides() {
    let base = numbered(4);
    let head = base.replace("l2\n", "X\n");
    assert_eq!(revert_of(&base, &head, vec![anchor(Side::Base, "f.yaml", 2, 2)]), None);
    assert_eq!(
        revert_of(&base, &head, vec![anchor(Side::Head, "f.yaml", 2, 2), anchor(Side::Head, "g.yaml", 2, 2)]),
        None
    );
    assert_eq!(
        revert_of(&base, &head, vec![anchor(Side::Head, "f.yaml", 2, 2), anchor(Side::Base, "f.yaml", 2, 2)]),
        None
    );
    // The file only on the head side, or under another name on the base side.
    let f = with_anchors(
        finding("TIS0206", Severity::Error, Status::Introduced, "f.yaml", (1, 1)),
        vec![anchor(Side::Head, "f.yaml", 2, 2)],
    );
    assert_eq!(revert(&[&f], &[], &[file("f.yaml", &head)]), None);
    assert_eq!(revert(&[&f], &[file("g.yaml", &base)], &[file("f.yaml", &head)]), None);
    assert_eq!(revert(&[&f], &[file("f.yaml", &base)], &[file("g.yaml", &head)]), None);
}

#[test]
fn text_of_finds_plain_sources_and_rendered_inputs_by_path() {
    let plain = file("a.yaml", "a: 1\n");
    let input = |path: &str, text: &str| Arc::new(SourceText::new(path, text, false, false));
    let rendered =
        LoadedFile { inputs: vec![input("c.yaml", "c: 3\n"), input("b.yaml", "b: 2\n")], ..LoadedFile::default() };
    let files = [plain, rendered];
    assert_eq!(text_of(&files, "a.yaml").map(|s| s.text()), Some("a: 1\n"));
    assert_eq!(text_of(&files, "b.yaml").map(|s| s.text()), Some("b: 2\n"));
    assert_eq!(text_of(&files, "c.yaml").map(|s| s.text()), Some("c: 3\n"));
    assert!(text_of(&files, "d.yaml").is_none());
}

//! Grouping by cause: the findings one change introduces on the same lines (same file, overlapping anchors) are
//! one group, shown together (one inline comment) with one fix that resolves all of them, verified together by
//! re-analysis. Findings of a snapshot (and a review's existing findings) group on overlapping locations: one
//! line that several rules flag.
//!
//! The contract with the renderers ([`Finding::group`]): the members of a group share one id and are adjacent in
//! [`Review::findings`](super::Review), the worst first; the first carries the group's fix, the others' fixes are
//! alternatives. Only groups of two or more findings get an id.

use crate::analysis::is_suppressed;
use crate::analysis::verify::{FindingKey, Verifier, error_set, group_fixes};
use crate::context::MeshContext;
use crate::finding::{Finding, Fix, Side, Status, stable_hash};
use crate::manifest::LoadedFile;
use crate::mesh::Mesh;
use crate::rules::mtls003::{Downgrade, Unit, downgrades_within};
use crate::rules::{self, FixPlan};
use crate::settings::AnalysisOptions;
use std::collections::{BTreeMap, BTreeSet};

/// The line spans a finding groups on: an introduced finding's anchors (its location when it has none), an
/// existing finding's location; resolved findings are never grouped.
fn spans(f: &Finding) -> Vec<(Side, &str, usize, usize)> {
    let location = || vec![(f.location.side, f.location.path.as_str(), f.location.line, f.location.end_line)];
    match f.status {
        Status::Introduced => match f.anchors.as_deref() {
            Some(a) if !a.is_empty() => {
                a.iter().map(|a| (a.side, a.path.as_str(), a.line.min(a.end_line), a.line.max(a.end_line))).collect()
            }
            _ => location(),
        },
        Status::Existing => location(),
        Status::Resolved => Vec::new(),
    }
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// The groups of `findings` (two or more members each) as indices, each group worst first (then in the order
/// of `findings`), groups in the order of their first member. Findings group with others of the same status
/// whose spans overlap (same side, same path, a common line), transitively.
pub fn plan(findings: &[Finding]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..findings.len()).collect();
    // Spans by (status, side, path), swept in line order: overlapping ones join.
    // (start line, end line, finding) by (status, side, path).
    type Spans<'a> = BTreeMap<(Status, Side, &'a str), Vec<(usize, usize, usize)>>;
    let mut by_file: Spans = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        for (side, path, a, b) in spans(f) {
            by_file.entry((f.status, side, path)).or_default().push((a, b, i));
        }
    }
    for spans in by_file.values_mut() {
        spans.sort();
        let mut open: Option<(usize, usize)> = None; // (end line of the run, a member)
        for &(a, b, i) in spans.iter() {
            match open {
                Some((end, j)) if a <= end => {
                    let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                    if ri != rj {
                        parent[ri.max(rj)] = ri.min(rj);
                    }
                    open = Some((end.max(b), j));
                }
                _ => open = Some((b, i)),
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..findings.len() {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = groups.into_values().filter(|g| g.len() > 1).collect();
    for g in &mut out {
        g.sort_by_key(|&i| (std::cmp::Reverse(findings[i].severity), i));
    }
    out.sort_by_key(|g| g.iter().min().copied());
    out
}

/// A group's stable id: a hash of where it is (the path and line range of its spans) and of its members'
/// fingerprints (sorted), so the same findings on the same lines give the same id on every run and platform.
pub fn group_id(members: &[&Finding]) -> String {
    let mut fps: Vec<String> = members.iter().map(|f| f.fingerprint()).collect();
    fps.sort();
    let all: Vec<(Side, &str, usize, usize)> = members.iter().flat_map(|f| spans(f)).collect();
    let (path, side) = all.first().map(|s| (s.1, s.0)).unwrap_or(("", Side::Head));
    let lo = all.iter().filter(|s| s.1 == path).map(|s| s.2).min().unwrap_or(0);
    let hi = all.iter().filter(|s| s.1 == path).map(|s| s.3).max().unwrap_or(0);
    format!("g{}", stable_hash(&format!("group|{side:?}|{path}|{lo}-{hi}|{}", fps.join(","))))
}

/// Sets the group ids of `findings` and makes each group adjacent, the worst first, at the place of its first
/// member; every other finding keeps its place. Run on the final list of a review (after the meshes' findings
/// are merged).
pub fn arrange(findings: &mut Vec<Finding>) {
    for f in findings.iter_mut() {
        f.group = None;
    }
    let groups = plan(findings);
    if groups.is_empty() {
        return;
    }
    let mut first_of: BTreeMap<usize, usize> = BTreeMap::new(); // first member -> group
    let mut member: Vec<bool> = vec![false; findings.len()];
    for (g, idx) in groups.iter().enumerate() {
        let id = group_id(&idx.iter().map(|&i| &findings[i]).collect::<Vec<_>>());
        for &i in idx {
            findings[i].group = Some(id.clone());
            member[i] = true;
        }
        first_of.insert(idx.iter().copied().min().unwrap_or(0), g);
    }
    let mut slots: Vec<Option<Finding>> = std::mem::take(findings).into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(slots.len());
    for i in 0..slots.len() {
        if let Some(&g) = first_of.get(&i) {
            out.extend(groups[g].iter().filter_map(|&j| slots[j].take()));
        } else if !member[i]
            && let Some(f) = slots[i].take()
        {
            out.push(f);
        }
    }
    *findings = out;
}

/// The text of `path` among `files` (a plain file's source, or a rendered target's input).
fn text_of<'a>(files: &'a [LoadedFile], path: &str) -> Option<&'a crate::manifest::SourceText> {
    files
        .iter()
        .filter_map(|f| f.source.as_deref())
        .find(|s| s.path == path)
        .or_else(|| files.iter().flat_map(|f| f.inputs.iter()).map(|s| &**s).find(|s| s.path == path))
}

/// A change review's last candidate for a group: the changed lines under its head-side anchors put back as they
/// are on the base side (only for anchors in one file that exists on both sides).
fn revert(members: &[&Finding], base_files: &[LoadedFile], head_files: &[LoadedFile]) -> Option<Fix> {
    let spans: Vec<(Side, &str, usize, usize)> = members.iter().flat_map(|f| spans(f)).collect();
    let (_, path, ..) = *spans.first()?;
    if spans.iter().any(|s| s.0 != Side::Head || s.1 != path) {
        return None;
    }
    let (lo, hi) = (spans.iter().map(|s| s.2).min()?, spans.iter().map(|s| s.3).max()?);
    let (base, head) = (text_of(base_files, path)?, text_of(head_files, path)?);
    let (old, new) = (base.lines(), head.lines());
    let diff = similar::TextDiff::from_slices(&old, &new);
    let (mut start, mut end, mut replacement): (Option<usize>, usize, Vec<&str>) = (None, 0, Vec::new());
    for op in diff.ops() {
        let (o, n) = (op.old_range(), op.new_range());
        // Changed head lines (1-based n.start+1..=n.end) that touch lo..=hi.
        if op.tag() == similar::DiffTag::Equal || n.is_empty() || n.start + 1 > hi || n.end < lo {
            continue;
        }
        if start.is_some() && n.start > end {
            // Changed runs with unchanged lines between them: the unchanged lines are kept.
            replacement.extend_from_slice(&new[end..n.start]);
        }
        start.get_or_insert(n.start + 1);
        replacement.extend_from_slice(&old[o.clone()]);
        end = n.end;
    }
    let start = start?;
    let lines = if start == end { format!("line {start}") } else { format!("lines {start}-{end}") };
    Some(Fix {
        description: format!("restore {lines} of `{path}` as on the base branch"),
        path: path.to_string(),
        start_line: start,
        end_line: end,
        replacement: replacement.join("\n"),
    })
}

/// The fix plans of a finding, from the mesh's rule findings.
fn plans_of<'r>(mesh: &Mesh, raw: &'r [rules::RuleFinding], f: &Finding) -> Vec<&'r FixPlan> {
    raw.iter()
        .filter(|rf| rf.code == f.code && rf.port == f.port && mesh.object_ref(rf.subject) == f.object)
        .flat_map(|rf| rf.fixes.iter())
        .collect()
}

/// Gives each group of `findings` with status `status` one fix for all its members: the candidates (the members'
/// own verified fixes, then every fix plan of theirs) are applied one at a time to the mesh's `files` and
/// re-analysed; the first that makes every member go away without a new error goes on the group's worst
/// finding; when none does, the one that resolves the worst finding and most of the others. The help of the
/// worst finding says which members its fix resolves. `base` (a change review) lets verification see MTLS003,
/// which compares the head with the base side. `raw` is what every rule found on `mesh`
/// ([`crate::analysis::Analysis::rule_findings`]).
pub fn fix_groups(
    findings: &mut [Finding],
    status: Status,
    files: &[LoadedFile],
    mesh: &MeshContext,
    raw: &[rules::RuleFinding],
    base: Option<(&MeshContext, &[LoadedFile])>,
    opts: &AnalysisOptions,
) {
    let groups: Vec<Vec<usize>> =
        plan(findings).into_iter().filter(|g| g.iter().all(|&i| findings[i].status == status)).collect();
    if groups.is_empty() || opts.no_fixes {
        return;
    }
    let errors_before = error_set(mesh, raw);
    // A verifier that also sees MTLS003 (it compares with the base side) for the groups that hold one; the others
    // use a plain one, whose posture re-analysis can stay scoped.
    // The snapshot's own downgrades with the units they come from, computed once: a candidate whose edit has a
    // posture scope keeps those of the units outside it and recomputes the rest.
    let snapshot_downgrades: std::sync::OnceLock<Vec<(FindingKey, BTreeSet<Unit>)>> = std::sync::OnceLock::new();
    let make_verifier = |downgrades: bool| {
        let verifier = Verifier::new(files, mesh, opts, &errors_before);
        let Some((base, _)) = base.filter(|_| downgrades) else {
            return verifier;
        };
        let before = base.posture();
        let snapshot_downgrades = &snapshot_downgrades;
        verifier.with_extra(Box::new(move |head: &MeshContext| -> Vec<FindingKey> {
            let key = |d: &Downgrade, head: &MeshContext| {
                let m = if d.side == Side::Base { base } else { head };
                (!is_suppressed(m, &d.finding, opts))
                    .then(|| (d.finding.code, d.subject_ref(base, head), d.finding.port, d.finding.severity))
            };
            let after = head.posture();
            // Under a verification scope the posture has the scope's rows only (a fix verification that lists
            // every finding): the scope's downgrades anew, the snapshot's for the rest.
            let Some(scope) = head.scope() else {
                return downgrades_within(&before, &after, base, head, None)
                    .iter()
                    .filter_map(|(d, _)| key(d, head))
                    .collect();
            };
            let known = snapshot_downgrades.get_or_init(|| {
                downgrades_within(&before, &mesh.posture(), base, mesh, None)
                    .into_iter()
                    .filter_map(|(d, units)| Some((key(&d, mesh)?, units)))
                    .collect()
            });
            let mut keys: BTreeSet<FindingKey> = known
                .iter()
                .filter(|(_, units)| units.iter().any(|u| u.outside(scope)))
                .map(|(k, _)| k.clone())
                .collect();
            keys.extend(
                downgrades_within(&before, &after, base, head, Some(scope)).iter().filter_map(|(d, _)| key(d, head)),
            );
            keys.into_iter().collect()
        }))
    };
    // Groups are verified in parallel (independent, order kept), verifiers (copies of the mesh) per chunk.
    let shared: &[Finding] = findings;
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8);
    let chunks: Vec<&[Vec<usize>]> = groups.chunks(groups.len().div_ceil(threads).max(1)).collect();
    // Per chunk, per group: the verified candidates with what each resolves.
    type Verified = Vec<Vec<(Fix, Vec<bool>)>>;
    let verified: Vec<Verified> = crate::analysis::parallel_map_min(&chunks, 2, |chunk| {
        let (mut plain, mut with_downgrades) = (None, None);
        chunk
            .iter()
            .map(|g| {
                let members: Vec<&Finding> = g.iter().map(|&i| &shared[i]).collect();
                let fixes: Vec<Fix> = members.iter().filter_map(|f| f.fix.clone()).collect();
                let plans: Vec<&FixPlan> = members.iter().flat_map(|f| plans_of(mesh, raw, f)).collect();
                let revert = base.and_then(|(_, base_files)| revert(&members, base_files, files));
                let downgrades = members.iter().any(|f| f.code == "MTLS003");
                let slot = if downgrades { &mut with_downgrades } else { &mut plain };
                let verifier = slot.get_or_insert_with(|| make_verifier(downgrades));
                group_fixes(files, mesh, &fixes, &plans, revert, &members, opts, verifier)
            })
            .collect()
    });
    for (g, candidates) in groups.iter().zip(verified.into_iter().flatten()) {
        let members: Vec<&Finding> = g.iter().map(|&i| &findings[i]).collect();
        // The first that resolves every member, else the one resolving the worst and most of the others.
        let score = |c: &[bool]| c.iter().filter(|x| **x).count();
        let chosen = candidates.iter().position(|(_, c)| c.iter().all(|x| *x)).or_else(|| {
            let best = candidates.iter().filter(|(_, c)| c[0]).map(|(_, c)| score(c)).max()?;
            candidates.iter().position(|(_, c)| c[0] && score(c) == best)
        });
        let Some(chosen) = chosen else {
            continue;
        };
        let codes = |c: &[bool], want: bool, skip_lead: bool| -> Vec<&str> {
            members
                .iter()
                .zip(c)
                .skip(usize::from(skip_lead))
                .filter(|(_, x)| **x == want)
                .map(|(f, _)| f.code)
                .collect()
        };
        let (fix, cleared) = &candidates[chosen];
        let (others, left) = (codes(cleared, true, true), codes(cleared, false, false));
        let mut lines = vec![if left.is_empty() {
            format!("This fix also resolves {} on the same lines (verified together by re-analysis).", list(&others))
        } else if others.is_empty() {
            format!("No single verified fix resolves all the findings on these lines: this one leaves {}.", list(&left))
        } else {
            format!(
                "No single verified fix resolves all the findings on these lines: this one also resolves {}, not {}.",
                list(&others),
                list(&left)
            )
        }];
        // The other verified candidates, with what each resolves, replace the unverified `alternatively:` lines.
        for (i, (alt, c)) in candidates.iter().enumerate() {
            if i != chosen && c.iter().any(|x| *x) {
                lines.push(format!("alternatively: {} (resolves {})", alt.description, list(&codes(c, true, false))));
            }
        }
        let lead = &mut findings[g[0]];
        for line in lead.help.iter().flat_map(|h| h.lines()) {
            if !line.starts_with("alternatively: ") && !line.trim().is_empty() {
                lines.push(line.to_string());
            }
        }
        lead.help = Some(lines.join("\n"));
        lead.fix = Some(fix.clone());
    }
}

/// `A`, `A and B`, `A, B and C`.
fn list(codes: &[&str]) -> String {
    match codes {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Anchor, Location, ObjectRef, Severity};

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
            anchors: (status == Status::Introduced)
                .then(|| vec![Anchor { side: Side::Head, path: path.into(), line: lines.0, end_line: lines.1 }]),
            meshes: Vec::new(),
            targets: Vec::new(),
            group: None,
        }
    }

    #[test]
    fn overlapping_anchors_group_worst_first_and_adjacent() {
        use Severity::*;
        use Status::*;
        let mut fs = vec![
            finding("MTLS003", Warning, Introduced, "a.yaml", (7, 7)),
            finding("TIS0101", Note, Introduced, "b.yaml", (1, 1)),
            finding("TIS0502", Error, Introduced, "a.yaml", (7, 8)),
            finding("TIS0206", Error, Introduced, "a.yaml", (8, 8)),
            finding("TIS0205", Error, Introduced, "a.yaml", (20, 20)),
            // Same lines, other status: not the same change.
            finding("TIS0207", Error, Existing, "a.yaml", (7, 7)),
        ];
        arrange(&mut fs);
        let codes: Vec<&str> = fs.iter().map(|f| f.code).collect();
        assert_eq!(codes, ["TIS0502", "TIS0206", "MTLS003", "TIS0101", "TIS0205", "TIS0207"]);
        let g = fs[0].group.clone();
        assert!(g.is_some());
        assert!(fs[..3].iter().all(|f| f.group == g));
        assert!(fs[3..].iter().all(|f| f.group.is_none()));
    }

    #[test]
    fn group_ids_are_stable_and_depend_on_members_and_place() {
        use Severity::*;
        use Status::*;
        let a = finding("TIS0502", Error, Introduced, "a.yaml", (7, 7));
        let b = finding("MTLS003", Warning, Introduced, "a.yaml", (7, 7));
        let c = finding("TIS0206", Error, Introduced, "a.yaml", (7, 7));
        assert_eq!(group_id(&[&a, &b]), group_id(&[&b, &a]));
        assert_ne!(group_id(&[&a, &b]), group_id(&[&a, &c]));
        let moved = finding("MTLS003", Warning, Introduced, "a.yaml", (9, 9));
        let moved_a = finding("TIS0502", Error, Introduced, "a.yaml", (9, 9));
        assert_ne!(group_id(&[&a, &b]), group_id(&[&moved_a, &moved]));
        // The id is a fixed function of its input (it is written into JSON that other tools compare).
        assert_eq!(group_id(&[&a, &b]), group_id(&[&a.clone(), &b.clone()]));
        assert!(group_id(&[&a, &b]).starts_with('g') && group_id(&[&a, &b]).len() == 17);
    }

    #[test]
    fn transitive_overlap_joins_and_disjoint_lines_do_not() {
        use Severity::*;
        use Status::*;
        let fs = vec![
            finding("TIS0502", Error, Existing, "a.yaml", (1, 3)),
            finding("TIS0206", Error, Existing, "a.yaml", (3, 5)),
            finding("MTLS002", Error, Existing, "a.yaml", (5, 5)),
            finding("TIS0205", Error, Existing, "a.yaml", (6, 6)),
            finding("TIS0207", Error, Existing, "b.yaml", (1, 3)),
            finding("TIS0208", Error, Resolved, "a.yaml", (1, 3)),
        ];
        assert_eq!(plan(&fs), vec![vec![0, 1, 2]]);
    }
}

#[cfg(test)]
#[path = "group_mutation_tests.rs"]
mod mutation_tests;

#[cfg(test)]
#[path = "group_mutation2_tests.rs"]
mod mutation2_tests;

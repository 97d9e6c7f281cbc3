//! Hunks and anchors against `git diff`: random edits of the repository's real-looking manifests (its fixtures),
//! each reviewed base against head; every hunk and every anchor of an introduced finding must lie inside its
//! file, the changed lines must be as many as `git diff --no-index` finds (both are minimal line diffs; ties may
//! be broken differently), every changed line must lie in one of git's hunks, and every anchor inside a hunk of
//! git's diff (the lines GitHub accepts a review comment on) and of our own.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use mtls_review::finding::{Side, Status};
use mtls_review::review::diff::file_change;
use mtls_review::review::{Hunk, ReviewInput, TreeFile, review};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

/// Lines a reviewer would write into these manifests: the mTLS settings the rules read, structure, noise.
const POOL: &[&str] = &[
    "",
    "---",
    "# comment",
    "spec:",
    "  mtls:",
    "    mode: DISABLE",
    "    mode: PERMISSIVE",
    "    mode: STRICT",
    "  trafficPolicy:",
    "    tls:",
    "      mode: DISABLE",
    "      mode: SIMPLE",
    "      mode: ISTIO_MUTUAL",
    "  portLevelMtls:",
    "    8080:",
    "      mode: DISABLE",
    "  namespace: shop",
    "  replicas: 3",
    "apiVersion: security.istio.io/v1",
    "kind: PeerAuthentication",
    "kind: DestinationRule",
    "metadata:",
    "  name: default",
];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

fn fixture_texts() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"), &mut paths);
    paths.sort();
    let texts: Vec<String> = paths.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    assert!(texts.len() >= 10, "fixtures missing");
    texts
}

/// One random edit script applied to `lines`: deletions, replacements, insertions (from the pool or another
/// line of the file), duplicated and moved blocks.
fn edit(rng: &mut Rng, lines: &[String]) -> Vec<String> {
    let mut new = lines.to_vec();
    for _ in 0..1 + rng.below(5) {
        let at = rng.below(new.len() + 1);
        let line = |rng: &mut Rng, new: &[String]| {
            if rng.below(3) == 0 && !new.is_empty() {
                new[rng.below(new.len())].clone()
            } else {
                POOL[rng.below(POOL.len())].to_string()
            }
        };
        match rng.below(8) {
            // A change of mTLS mode where the file sets one (what most of these pull requests are).
            6 | 7 => {
                let modes: Vec<usize> = (0..new.len()).filter(|i| new[*i].trim_start().starts_with("mode:")).collect();
                if !modes.is_empty() {
                    let i = modes[rng.below(modes.len())];
                    let indent = new[i].len() - new[i].trim_start().len();
                    let mode = ["DISABLE", "PERMISSIVE", "SIMPLE", "STRICT", "UNSET"][rng.below(5)];
                    new[i] = format!("{}mode: {mode}", " ".repeat(indent));
                }
            }
            0 if at < new.len() => {
                let n = (1 + rng.below(4)).min(new.len() - at);
                new.drain(at..at + n);
            }
            1 if at < new.len() => new[at] = line(rng, &new),
            2 if at < new.len() => {
                let n = (1 + rng.below(6)).min(new.len() - at);
                let block: Vec<String> = new[at..at + n].to_vec();
                let to = rng.below(new.len() + 1);
                new.splice(to..to, block);
            }
            3 if at < new.len() => {
                let n = (1 + rng.below(6)).min(new.len() - at);
                let block: Vec<String> = new.drain(at..at + n).collect();
                let to = rng.below(new.len() + 1);
                new.splice(to..to, block);
            }
            _ => {
                let l = line(rng, &new);
                new.insert(at, l);
            }
        }
    }
    new
}

/// Joins lines with `nl`, with or without a final line break.
fn join(lines: &[String], nl: &str, final_nl: bool) -> String {
    let mut s = lines.join(nl);
    if final_nl && !s.is_empty() {
        s.push_str(nl);
    }
    s
}

/// What `git diff --no-index` says about two texts: hunks, added head lines, deleted base lines.
struct GitDiff {
    hunks: Vec<Hunk>,
    added: BTreeSet<usize>,
    deleted: BTreeSet<usize>,
}

fn git_diff(dir: &Path, old: &str, new: &str) -> GitDiff {
    std::fs::write(dir.join("a.yaml"), old).unwrap();
    std::fs::write(dir.join("b.yaml"), new).unwrap();
    // Git's defaults only (no user or system configuration: diff.algorithm, diff.interHunkContext, ...).
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["-c", "core.autocrlf=false", "-c", "diff.noprefix=false"])
        .args([
            "diff",
            "--no-index",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--diff-algorithm=myers",
            "--indent-heuristic",
        ])
        .args(["-U3", "a.yaml", "b.yaml"])
        .output()
        .expect("git");
    assert!(out.status.code().is_some_and(|c| c <= 1), "git diff: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut d = GitDiff { hunks: Vec::new(), added: BTreeSet::new(), deleted: BTreeSet::new() };
    let (mut o, mut n) = (0, 0);
    let range = |s: &str| -> (usize, usize) {
        let s = &s[1..];
        match s.split_once(',') {
            Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
            None => (s.parse().unwrap(), 1),
        }
    };
    let mut in_hunk = false;
    for line in text.split('\n') {
        if let Some(h) = line.strip_prefix("@@ ") {
            let mut parts = h.split(' ');
            let (bs, bl) = range(parts.next().unwrap());
            let (hs, hl) = range(parts.next().unwrap());
            d.hunks.push(Hunk { base_start: bs, base_lines: bl, head_start: hs, head_lines: hl });
            // An empty side's start is the line before the hunk.
            (o, n) = (if bl == 0 { bs + 1 } else { bs }, if hl == 0 { hs + 1 } else { hs });
            in_hunk = true;
        } else if !in_hunk {
            continue;
        } else if line.starts_with('+') {
            d.added.insert(n);
            n += 1;
        } else if line.starts_with('-') {
            d.deleted.insert(o);
            o += 1;
        } else if line.starts_with(' ') {
            o += 1;
            n += 1;
        }
    }
    d
}

/// Lines as git and GitHub count them: LF only.
fn git_lines(t: &str) -> usize {
    t.split_inclusive('\n').count()
}

fn in_hunks(hunks: &[Hunk], side: Side, line: usize) -> bool {
    hunks.iter().any(|h| h.contains(side, line))
}

fn expand(ranges: &[(usize, usize)]) -> BTreeSet<usize> {
    ranges.iter().flat_map(|(a, b)| *a..=*b).collect()
}

#[test]
fn hunks_and_anchors_of_random_edits_lie_in_the_file_and_in_git_diffs_hunks() {
    let dir = tempfile::tempdir().unwrap();
    let texts = fixture_texts();
    let has = |t: &String, kinds: &[&str]| kinds.iter().any(|k| t.lines().any(|l| l == format!("kind: {k}")));
    let istio: Vec<&String> = texts.iter().filter(|t| has(t, &["PeerAuthentication", "DestinationRule"])).collect();
    let workloads: Vec<&String> = texts.iter().filter(|t| has(t, &["Deployment", "Service"])).collect();
    assert!(istio.len() >= 3 && workloads.len() >= 3);
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let (mut anchors_checked, mut introduced, mut same_lines) = (0, 0, 0);
    const CASES: usize = 600;
    for case in 0..CASES {
        // Base: one or two fixture files joined as one stream, as a rendered or hand-written manifest file is.
        // Mostly Istio policy with the workloads it governs (where an edit can introduce a finding).
        let (first, second): (&str, Option<&str>) = if rng.below(3) > 0 {
            (istio[rng.below(istio.len())], Some(workloads[rng.below(workloads.len())]))
        } else {
            let second = (rng.below(2) == 0).then(|| texts[rng.below(texts.len())].as_str());
            (&texts[rng.below(texts.len())], second)
        };
        let mut lines: Vec<String> = first.lines().map(str::to_string).collect();
        if let Some(second) = second {
            lines.push("---".into());
            lines.extend(second.lines().map(str::to_string));
        }
        let new_lines = edit(&mut rng, &lines);
        let nl = ["\n", "\n", "\r\n"][rng.below(3)];
        let old = join(&lines, nl, rng.below(4) > 0);
        let new = join(&new_lines, nl, rng.below(4) > 0);
        let ctx = format!("case {case}:\nbase {old:?}\nhead {new:?}\n");

        let ours = file_change(Some("m.yaml"), Some(&old), Some("m.yaml"), Some(&new));
        let git = git_diff(dir.path(), &old, &new);
        let (ol, nl_) = (git_lines(&old), git_lines(&new));
        for h in &ours.hunks {
            assert!(h.base_start >= 1 && h.base_start - 1 + h.base_lines <= ol, "{h:?} {ctx}");
            assert!(h.head_start >= 1 && h.head_start - 1 + h.head_lines <= nl_, "{h:?} {ctx}");
        }
        let (added, deleted) = (expand(&ours.added), expand(&ours.deleted));
        assert!(added.iter().all(|l| (1..=nl_).contains(l)) && deleted.iter().all(|l| (1..=ol).contains(l)), "{ctx}");
        // Both minimal: as many changed lines as git (which lines, when several alignments are minimal, may differ).
        assert_eq!(
            (added.len(), deleted.len()),
            (git.added.len(), git.deleted.len()),
            "{ctx}ours {ours:?}\ngit +{:?} -{:?}",
            git.added,
            git.deleted
        );
        if added == git.added && deleted == git.deleted {
            same_lines += 1;
        }
        // Every line we call changed is one GitHub shows in the pull request's diff.
        assert!(added.iter().all(|l| in_hunks(&git.hunks, Side::Head, *l)), "{ctx}ours {ours:?}\ngit {:?}", git.hunks);
        assert!(
            deleted.iter().all(|l| in_hunks(&git.hunks, Side::Base, *l)),
            "{ctx}ours {ours:?}\ngit {:?}",
            git.hunks
        );

        // The review's anchors.
        let file = |tag: &str, t: &str| TreeFile {
            path: "m.yaml".into(),
            id: format!("{tag}{case}"),
            bytes: Arc::from(t.as_bytes()),
        };
        let input = ReviewInput { base: vec![file("b", &old)], head: vec![file("h", &new)], ..Default::default() };
        let r = review(&input, &Default::default());
        for f in r.findings.iter().filter(|f| f.status == Status::Introduced) {
            introduced += 1;
            for a in f.anchors.iter().flatten() {
                anchors_checked += 1;
                let (n, hunks) = match a.side {
                    Side::Head => (nl_, &ours.hunks),
                    Side::Base => (ol, &ours.hunks),
                };
                assert!(1 <= a.line && a.line <= a.end_line && a.end_line <= n, "{a:?} {ctx}");
                for l in a.line..=a.end_line {
                    assert!(in_hunks(hunks, a.side, l), "{a:?} outside our hunks {:?} {ctx}", ours.hunks);
                    assert!(in_hunks(&git.hunks, a.side, l), "{a:?} outside git's hunks {:?} {ctx}", git.hunks);
                }
            }
        }
    }
    // The test exercised what it claims (introduced findings with anchors), and the very lines git calls changed
    // are ours in nearly every case (575 of 600 with this seed; the rest are other minimal alignments).
    assert!(
        introduced > CASES / 10 && anchors_checked > CASES / 10,
        "{introduced} introduced, {anchors_checked} anchors"
    );
    assert!(same_lines * 10 >= CASES * 9, "{same_lines} of {CASES} cases with git's very lines");
}

/// Found by the `review` fuzz target (a deleted file with a lone CR): hunks count lines as the loader counts them
/// (LF, CRLF and a lone CR, as `similar` splits lines), so a finding's lines and its file's hunks agree; git (and
/// GitHub) count LF only, so on such a file GitHub's lines differ (a comment GitHub refuses there is found with
/// GitHub's own patch and moved to the review's body).
#[test]
fn a_lone_cr_counts_as_a_line_break_in_hunks_as_in_the_loader() {
    let text = "apiVersion: v1\nkind: Destinati\rnRule\nmetadata:\n  name: web\n";
    let c = file_change(Some("m.yaml"), Some(text), None, None);
    let lines = mtls_review::manifest::yaml::LineIndex::new(text).line_count();
    assert_eq!(lines, 5);
    assert_eq!(c.hunks, vec![Hunk { base_start: 1, base_lines: lines, head_start: 1, head_lines: 0 }]);
    assert_eq!(c.deleted, vec![(1, lines)]);
    let head = text.replace("web", "api");
    let c = file_change(Some("m.yaml"), Some(text), Some("m.yaml"), Some(&head));
    assert_eq!(c.added, vec![(5, 5)]);
}

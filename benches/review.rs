//! Benchmark of the whole `mtls-review check --base X --head Y --format json` on generated GitOps repositories
//! (see `generator/mod.rs`). Shapes (documents, files changed by the head commit, introduced findings):
//! 2,000 and 20,000 documents with 1% of the files changed; 20,000 documents with 5% changed and exactly 100
//! introduced findings (each with a fix); 200,000 documents with 1% changed.
//!
//! Run: `cargo bench --bench review` (release profile). Some shapes only: `cargo bench --bench review -- 20000
//! 20000:50:100` or `MTLS_BENCH_SIZES=20000,200000`, a shape written `DOCUMENTS[:CHANGED_PER_MILLE[:INTRODUCED]]`
//! (10 per mille = 1%). Timed runs per shape: `MTLS_BENCH_RUNS` (default: after one warm-up run, as many as fit in
//! about 2 s, between 5 and 50, for a review under a second; 3 under 10 s; 1 above). With `MTLS_BENCH_DIR=/some/dir`
//! the repositories are kept there as `<documents>.git` (1% changed) or `<documents>-<per mille>-<introduced>.git`
//! (refs `main` and `change`), with a `.meta` file beside each: a later run with the same options reuses them
//! instead of generating again.
//!
//! For each shape it generates the repository (not timed), then times
//! - in process: `app::check` (git read, parse, analysis of both sides, fixes, anchors, JSON rendering);
//! - end to end: the release binary as a subprocess, under `/usr/bin/time` for its peak RSS when that exists;
//! - in the same run, the reference points: PyYAML's C loader (`yaml.load_all(..., Loader=yaml.CSafeLoader)` over
//!   every file of the head tree, checked out; skipped with a note when python3 or PyYAML is missing) and
//!   `git grep -l -e PeerAuthentication -e DestinationRule BASE HEAD` (every blob of both trees read once).
//!
//! It prints the ratios the performance targets are stated in (PyYAML parse / review, review / git grep, peak RSS,
//! and the 200,000-document review over the 20,000-document one).
//!
//! Run as a test (`cargo test --benches`, `--all-targets`: no `--bench` argument, no sizes) it does one smoke run
//! at 402 documents.
//!
//! The generated tree has a `kustomization.yaml` per namespace, which discovery would render with kustomize (about
//! 2,000 renders at 20,000 documents: a rendering benchmark, which `benches/targets.rs` is). This benchmark measures
//! reading and analysis, so it reviews the tree as plain files with a config naming one plain target
//! (`meshes: [{name: default, targets: [{path: ., render: plain}]}]`, passed as `--config`).
//!
//! It prints figures and never fails on them: timing is for people, not assertions. It does assert that the
//! review finds exactly the findings the generator planted, so a fast but wrong review cannot pass unnoticed.

// A bench binary reports on stdout and may unwrap: a failure here is a broken benchmark, not user input.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

mod generator;

use mtls_review::app::{self, CheckRequest, Format};
use mtls_review::finding::Status;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Row {
    shape: Shape,
    documents: usize,
    files: usize,
    bytes: usize,
    changed: usize,
    introduced: usize,
    /// `posture --base --head` in process.
    posture: Vec<Duration>,
    in_process: Vec<Duration>,
    binary: Vec<Duration>,
    peak_rss_kb: Option<u64>,
    /// PyYAML's C loader parsing the head tree (`None` without python3 and yaml).
    pyyaml: Vec<Duration>,
    /// `git grep -l -e PeerAuthentication -e DestinationRule BASE HEAD`.
    git_grep: Vec<Duration>,
}

/// Writes the files of `commit`'s tree under `dir`.
fn checkout(repo: &Path, commit: &str, dir: &Path) {
    let repo = git2::Repository::open_bare(repo).unwrap();
    let tree = repo.find_commit(git2::Oid::from_str(commit).unwrap()).unwrap().tree().unwrap();
    tree.walk(git2::TreeWalkMode::PreOrder, |root, entry| {
        if let Some(git2::ObjectType::Blob) = entry.kind() {
            let path = dir.join(root).join(entry.name().unwrap());
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, repo.find_blob(entry.id()).unwrap().content()).unwrap();
        }
        git2::TreeWalkResult::Ok
    })
    .unwrap();
}

/// The reference points of the same run: PyYAML's C loader parsing the head tree, `git grep` over both trees.
fn baselines(repo: &Path, g: &generator::Generated, scratch: &Path, runs: usize) -> (Vec<Duration>, Vec<Duration>) {
    let head = scratch.join("head-tree");
    checkout(repo, &g.head, &head);
    const PARSE: &str = "import os, sys, yaml\nn = 0\nfor d, _, fs in os.walk(sys.argv[1]):\n    for f in fs:\n        with open(os.path.join(d, f), 'rb') as h:\n            n += sum(1 for _ in yaml.load_all(h, Loader=yaml.CSafeLoader))\nprint(n)\n";
    let python = std::env::var("MTLS_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let timed = |cmd: &mut Command| -> Option<Duration> {
        let start = Instant::now();
        let out = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().ok()?;
        out.success().then(|| start.elapsed())
    };
    let mut pyyaml = Vec::new();
    let mut git_grep = Vec::new();
    let has_pyyaml = Command::new(&python)
        .args(["-c", "import yaml; yaml.CSafeLoader"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_pyyaml {
        println!(
            "note: {python} with PyYAML's C loader (yaml.CSafeLoader) is not available: the PyYAML reference is skipped"
        );
    }
    for _ in 0..runs.clamp(1, 5) {
        if has_pyyaml && let Some(d) = timed(Command::new(&python).arg("-c").arg(PARSE).arg(&head)) {
            pyyaml.push(d);
        }
        let mut grep = Command::new("git");
        grep.arg("--git-dir").arg(repo).args(["grep", "-l", "-e", "PeerAuthentication", "-e", "DestinationRule"]);
        if let Some(d) = timed(grep.arg(&g.base).arg(&g.head)) {
            git_grep.push(d);
        }
    }
    (pyyaml, git_grep)
}

fn median(v: &[Duration]) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    s.get(s.len() / 2).copied().unwrap_or_default()
}

fn min(v: &[Duration]) -> Duration {
    v.iter().min().copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// Runs the binary once; returns its wall time and, under GNU time, its peak RSS in KiB.
fn run_binary(
    bin: &Path,
    repo: &Path,
    config: &Path,
    g: &generator::Generated,
    scratch: &Path,
) -> (Duration, Option<u64>) {
    let time = Path::new("/usr/bin/time");
    let rss_file = scratch.join("rss.txt");
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.arg("-f").arg("%M").arg("-o").arg(&rss_file).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(["check", "--format", "json", "--base", &g.base, "--head", &g.head, "--repo"])
        .arg(repo)
        .arg("--config")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let start = Instant::now();
    let status = cmd.status().unwrap();
    let wall = start.elapsed();
    // 1: the change introduces error findings, as generated.
    assert_eq!(status.code(), Some(1), "mtls-review check exited with {status}");
    let rss = std::fs::read_to_string(&rss_file).ok().and_then(|t| t.trim().lines().last()?.trim().parse().ok());
    (wall, rss)
}

/// One mesh, one target: the whole tree read as plain manifests.
const PLAIN_CONFIG: &str = "meshes:\n  - name: default\n    targets:\n      - path: .\n        render: plain\n";

/// One benchmark case: the size of the base tree and the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    documents: usize,
    /// Files the head commit changes, per thousand.
    per_mille: usize,
    /// Exactly this many introduced findings (`None`: the generator's edit cycle decides).
    introduced: Option<usize>,
}

impl Shape {
    /// `DOCUMENTS[:CHANGED_PER_MILLE[:INTRODUCED]]`; a bare size takes MTLS_BENCH_CHANGED_PER_MILLE and
    /// MTLS_BENCH_INTRODUCED when they are set.
    fn parse(s: &str) -> Option<Shape> {
        let mut parts = s.trim().split(':');
        let documents = parts.next()?.parse().ok()?;
        let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<usize>().ok());
        let per_mille = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => env("MTLS_BENCH_CHANGED_PER_MILLE").unwrap_or(10),
        };
        let introduced = match parts.next() {
            Some(p) => Some(p.parse().ok()?),
            None => env("MTLS_BENCH_INTRODUCED"),
        };
        Some(Shape { documents, per_mille, introduced })
    }

    fn label(&self) -> String {
        let pct = self.per_mille as f64 / 10.0;
        match self.introduced {
            Some(n) => format!("{} docs, {pct}% changed, {n} introduced", self.documents),
            None => format!("{} docs, {pct}% changed", self.documents),
        }
    }

    /// The repository's name under MTLS_BENCH_DIR (`20000.git` for the default change, as before).
    fn repo_name(&self) -> String {
        match (self.per_mille, self.introduced) {
            (10, None) => format!("{}.git", self.documents),
            (p, i) => {
                format!("{}-{p}-{}.git", self.documents, i.map(|i| i.to_string()).unwrap_or_else(|| "auto".into()))
            }
        }
    }
}

/// What a generated repository holds, written beside it so a later run can reuse it (`<repo>.meta`).
fn write_meta(path: &Path, opts: &generator::GenOptions, g: &generator::Generated) {
    let mut t = format!(
        "options\t{}\t{}\t{}\t{}\nbase\t{}\nhead\t{}\ncounts\t{}\t{}\t{}\t{}\t{}\n",
        opts.documents,
        opts.seed,
        opts.changed_per_mille,
        opts.introduced.map(|i| i.to_string()).unwrap_or_else(|| "-".into()),
        g.base,
        g.head,
        g.documents,
        g.files,
        g.bytes,
        g.namespaces,
        g.changed_files
    );
    for (tag, list) in [("introduced", &g.introduced), ("resolved", &g.resolved), ("existing", &g.existing)] {
        for (code, kind, ns, name) in list {
            t.push_str(&format!("{tag}\t{code}\t{kind}\t{ns}\t{name}\n"));
        }
    }
    std::fs::write(path, t).unwrap();
}

/// The repository described by `<repo>.meta` when it was generated with the same options and is still there.
fn read_meta(path: &Path, repo: &Path, opts: &generator::GenOptions) -> Option<generator::Generated> {
    let text = std::fs::read_to_string(path).ok()?;
    let want = format!(
        "{}\t{}\t{}\t{}",
        opts.documents,
        opts.seed,
        opts.changed_per_mille,
        opts.introduced.map(|i| i.to_string()).unwrap_or_else(|| "-".into())
    );
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let mut g = generator::Generated {
        base: String::new(),
        head: String::new(),
        documents: 0,
        files: 0,
        bytes: 0,
        namespaces: 0,
        changed_files: 0,
        introduced: Vec::new(),
        resolved: Vec::new(),
        existing: Vec::new(),
        renames: Vec::new(),
        deleted: Vec::new(),
    };
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["options", rest @ ..] if rest.join("\t") == want => {}
            ["options", ..] => return None,
            ["base", b] => g.base = b.to_string(),
            ["head", h] => g.head = h.to_string(),
            ["counts", d, fl, b, n, c] => {
                g.documents = d.parse().ok()?;
                g.files = fl.parse().ok()?;
                g.bytes = b.parse().ok()?;
                g.namespaces = n.parse().ok()?;
                g.changed_files = c.parse().ok()?;
            }
            [tag, code, kind, ns, name] => {
                let e = (leak(code), leak(kind), ns.to_string(), name.to_string());
                match *tag {
                    "introduced" => g.introduced.push(e),
                    "resolved" => g.resolved.push(e),
                    "existing" => g.existing.push(e),
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
    let repo = git2::Repository::open_bare(repo).ok()?;
    for c in [&g.base, &g.head] {
        repo.find_commit(git2::Oid::from_str(c).ok()?).ok()?;
    }
    Some(g)
}

/// The machine's load average (1, 5, 15 minutes), as `/proc/loadavg` gives it.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

fn bench(shape: Shape, runs: Option<usize>) -> Row {
    println!("{}: load average {}", shape.label(), load_average());
    let scratch = tempfile::tempdir().unwrap();
    let mut gen_opts = generator::GenOptions::new(shape.documents);
    gen_opts.changed_per_mille = shape.per_mille;
    gen_opts.introduced = shape.introduced;
    // MTLS_BENCH_DIR keeps the repositories (for profiling the binary by hand, and for reuse by the next run).
    let (repo, meta) = match std::env::var_os("MTLS_BENCH_DIR") {
        Some(d) => {
            std::fs::create_dir_all(&d).unwrap();
            let p = Path::new(&d).join(shape.repo_name());
            (p.clone(), Some(p.with_extension("meta")))
        }
        None => (scratch.path().join("repo.git"), None),
    };
    let started = Instant::now();
    let reused = meta.as_deref().and_then(|m| read_meta(m, &repo, &gen_opts));
    let was_reused = reused.is_some();
    let g = match reused {
        Some(g) => g,
        None => {
            let _ = std::fs::remove_dir_all(&repo);
            let g = generator::generate(&repo, &gen_opts).unwrap();
            if let Some(m) = &meta {
                write_meta(m, &gen_opts, &g);
            }
            g
        }
    };
    println!(
        "{}: {} {} documents in {} files ({:.1} MB, {} namespaces), head changes {} files, in {:.1} s",
        shape.label(),
        if was_reused { "reused" } else { "generated" },
        g.documents,
        g.files,
        g.bytes as f64 / 1e6,
        g.namespaces,
        g.changed_files,
        started.elapsed().as_secs_f64()
    );

    if std::env::var_os("MTLS_BENCH_GENERATE_ONLY").is_some() {
        println!("base {} head {} in {}", g.base, g.head, repo.display());
        std::process::exit(0);
    }
    // Plain files, not kustomize renders (see the module docs).
    let config = scratch.path().join("plain.yaml");
    std::fs::write(&config, PLAIN_CONFIG).unwrap();
    let req = CheckRequest {
        config: Some(config.clone()),
        base: Some(g.base.clone()),
        head: Some(g.head.clone()),
        repo: Some(repo.clone()),
        format: Some(Format::Json),
        ..CheckRequest::default()
    };
    // Warm-up, and the correctness check.
    let warm_up = Instant::now();
    let outcome = app::check(&req).unwrap();
    let warm = warm_up.elapsed().as_secs_f64();
    let runs = runs.unwrap_or_else(|| {
        if warm >= 10.0 {
            1
        } else if warm >= 1.0 {
            3
        } else {
            (2.0 / warm.max(1e-3)).ceil().clamp(5.0, 50.0) as usize
        }
    });
    let pick = |s: Status| {
        let mut v: Vec<_> = outcome
            .review
            .findings
            .iter()
            // The generator plants TIS findings; the posture rules' findings are not part of the plan.
            .filter(|f| f.status == s && f.code.starts_with("TIS"))
            .map(|f| (f.code, f.object.kind.as_str(), f.object.namespace.clone(), f.object.name.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let expect = |v: &[generator::Expected]| -> Vec<_> {
        v.iter().map(|(c, k, ns, n)| (*c, *k, ns.clone(), n.clone())).collect::<Vec<_>>()
    };
    assert_eq!(pick(Status::Introduced), expect(&g.introduced), "introduced findings");
    assert_eq!(pick(Status::Resolved), expect(&g.resolved), "resolved findings");
    assert_eq!(pick(Status::Existing), expect(&g.existing), "existing findings");
    assert_eq!(outcome.exit_code, 1);

    let mut in_process = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let o = app::check(&req).unwrap();
        in_process.push(start.elapsed());
        assert_eq!(o.output.len(), outcome.output.len());
    }

    // `mtls-review posture --base --head` (connectivity changes) on the same change, in process.
    let mut posture = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let table = app::posture(&req).unwrap();
        posture.push(start.elapsed());
        assert!(table.contains("\"changes\""), "posture diff as JSON");
    }

    let bin = Path::new(env!("CARGO_BIN_EXE_mtls-review"));
    let mut binary = Vec::new();
    let mut peak_rss_kb: Option<u64> = None;
    run_binary(bin, &repo, &config, &g, scratch.path()); // warm-up (page cache)
    for _ in 0..runs {
        let (wall, rss) = run_binary(bin, &repo, &config, &g, scratch.path());
        binary.push(wall);
        peak_rss_kb = match (peak_rss_kb, rss) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
    let (pyyaml, git_grep) = baselines(&repo, &g, scratch.path(), runs);
    Row {
        shape,
        pyyaml,
        git_grep,
        documents: g.documents,
        files: g.files,
        bytes: g.bytes,
        changed: g.changed_files,
        introduced: g.introduced.len(),
        in_process,
        posture,
        binary,
        peak_rss_kb,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a shape. Without `--bench` and without shapes
    // (`cargo test --benches` or `--all-targets` runs bench targets as tests), one small smoke run only.
    let benching = std::env::args().any(|a| a == "--bench");
    let args: Vec<Shape> =
        std::env::args().skip(1).filter(|a| !a.starts_with('-')).filter_map(|a| Shape::parse(&a)).collect();
    let env_sizes = std::env::var("MTLS_BENCH_SIZES").ok();
    let smoke = !benching && args.is_empty() && env_sizes.is_none();
    let one = |documents, per_mille, introduced| Shape { documents, per_mille, introduced };
    let shapes: Vec<Shape> = if !args.is_empty() {
        args
    } else if let Some(s) = env_sizes {
        s.split(',').filter_map(Shape::parse).collect()
    } else if smoke {
        vec![one(402, 10, None)]
    } else {
        vec![one(2_000, 10, None), one(20_000, 10, None), one(20_000, 50, Some(100)), one(200_000, 10, None)]
    };
    let runs: Option<usize> = std::env::var("MTLS_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .map(|r: usize| r.max(1))
        .or(smoke.then_some(1));

    let mut rows: Vec<Row> = Vec::new();
    for &s in &shapes {
        let r = bench(s, runs);
        // Each shape's figures as soon as they are measured (a long run cut short keeps the shapes it finished).
        let secs = |v: &[Duration]| median(v).as_secs_f64();
        println!(
            "  measured: binary median {} ms, in process {} ms, peak RSS {}, PyYAML parse {} ms, git grep {} ms, load \
             average {}",
            ms(median(&r.binary)),
            ms(median(&r.in_process)),
            r.peak_rss_kb.map(|k| format!("{:.1} MB", k as f64 / 1024.0)).unwrap_or_else(|| "n/a".into()),
            if r.pyyaml.is_empty() { "n/a".to_string() } else { ms(median(&r.pyyaml)) },
            if r.git_grep.is_empty() { "n/a".to_string() } else { format!("{:.1}", secs(&r.git_grep) * 1000.0) },
            load_average()
        );
        rows.push(r);
    }

    println!();
    println!(
        "{:>9} {:>6} {:>6} {:>7} {:>10} | {:>12} {:>9} | {:>12} {:>9} {:>8}",
        "documents", "files", "MB", "changed", "introduced", "in-proc med", "min", "binary med", "min", "peak MB"
    );
    for r in &rows {
        println!(
            "{:>9} {:>6} {:>6.1} {:>7} {:>10} | {:>9} ms {:>6} ms | {:>9} ms {:>6} ms {:>8}",
            r.documents,
            r.files,
            r.bytes as f64 / 1e6,
            r.changed,
            r.introduced,
            ms(median(&r.in_process)),
            ms(min(&r.in_process)),
            ms(median(&r.binary)),
            ms(min(&r.binary)),
            r.peak_rss_kb.map(|k| format!("{:.1}", k as f64 / 1024.0)).unwrap_or_else(|| "n/a".into()),
        );
    }
    println!();
    println!("reference points of the same run (medians; review = the binary, end to end):");
    let secs = |v: &[Duration]| median(v).as_secs_f64();
    for r in &rows {
        let binary = secs(&r.binary);
        let parse = if r.pyyaml.is_empty() {
            "PyYAML C loader: skipped".to_string()
        } else {
            format!(
                "PyYAML C loader parse {} ms, parse / review {:.1}x",
                ms(median(&r.pyyaml)),
                secs(&r.pyyaml) / binary.max(1e-9)
            )
        };
        let grep = if r.git_grep.is_empty() {
            "git grep: failed".to_string()
        } else {
            format!(
                "git grep -l {} ms, review / git grep {:.2}x",
                ms(median(&r.git_grep)),
                binary / secs(&r.git_grep).max(1e-9)
            )
        };
        println!("  {}: review {} ms; {parse}; {grep}", r.shape.label(), ms(median(&r.binary)));
    }
    // The 200,000-document target is stated against the 20,000-document review of the same change (1%).
    let at = |docs: usize| {
        rows.iter().find(|r| r.shape.documents == docs && r.shape.per_mille == 10 && r.shape.introduced.is_none())
    };
    for (small, large) in [(2_000, 20_000), (20_000, 200_000)] {
        if let (Some(s), Some(l)) = (at(small), at(large)) {
            println!(
                "  {} over {} documents (1% changed): binary median {:.1}x, in-process median {:.1}x",
                large,
                small,
                secs(&l.binary) / secs(&s.binary).max(1e-9),
                secs(&l.in_process) / secs(&s.in_process).max(1e-9)
            );
        }
    }
    for r in &rows {
        println!(
            "  posture --base --head, {}: median {} ms, min {} ms (in process)",
            r.shape.label(),
            ms(median(&r.posture)),
            ms(min(&r.posture))
        );
    }
    let counts: Vec<String> = rows.iter().map(|r| format!("{}: {}", r.shape.label(), r.in_process.len())).collect();
    println!("timed runs per shape after one warm-up ({}); median and min wall time", counts.join("; "));
    println!("load average at the end: {}", load_average());
}

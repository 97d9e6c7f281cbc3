//! Benchmark of the whole `mtls-review check --base X --head Y --format json` on generated GitOps repositories
//! (see `generator/mod.rs`): 2,000 and 20,000 documents, a head commit that changes about 1% of the files.
//!
//! Run: `cargo bench --bench review` (release profile). One size: `cargo bench --bench review -- 20000`, or
//! `MTLS_BENCH_SIZES=2000,20000`; timed runs per size: `MTLS_BENCH_RUNS` (default: as many as fit in about 2 s,
//! between 5 and 50, after one warm-up run; short runs are noisy, so small sizes get more of them). With
//! `MTLS_BENCH_DIR=/some/dir` the repositories are kept there as `<documents>.git` (refs `main` and `change`).
//!
//! For each size it generates the repository (not timed), then times
//! - in process: `app::check` (git read, parse, analysis of both sides, fixes, anchors, JSON rendering);
//! - end to end: the release binary as a subprocess, under `/usr/bin/time` for its peak RSS when that exists.
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
    for _ in 0..runs.clamp(1, 5) {
        if let Some(d) = timed(Command::new(&python).arg("-c").arg(PARSE).arg(&head)) {
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

fn bench(documents: usize, runs: Option<usize>) -> Row {
    let scratch = tempfile::tempdir().unwrap();
    // MTLS_BENCH_DIR keeps the repositories (for profiling the binary by hand): `$MTLS_BENCH_DIR/<documents>.git`.
    let repo = match std::env::var_os("MTLS_BENCH_DIR") {
        Some(d) => {
            let p = Path::new(&d).join(format!("{documents}.git"));
            let _ = std::fs::remove_dir_all(&p);
            p
        }
        None => scratch.path().join("repo.git"),
    };
    let started = Instant::now();
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<usize>().ok());
    let mut gen_opts = generator::GenOptions::new(documents);
    if let Some(c) = env("MTLS_BENCH_CHANGED_PER_MILLE") {
        gen_opts.changed_per_mille = c;
    }
    gen_opts.introduced = env("MTLS_BENCH_INTRODUCED");
    let g = generator::generate(&repo, &gen_opts).unwrap();
    println!(
        "generated {} documents in {} files ({:.1} MB, {} namespaces), head changes {} files, in {:.1} s",
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
    let runs =
        runs.unwrap_or_else(|| (2.0 / warm_up.elapsed().as_secs_f64().max(1e-3)).ceil().clamp(5.0, 50.0) as usize);
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
    // `cargo bench` passes `--bench`; any other argument is a size. Without `--bench` and without sizes
    // (`cargo test --benches` or `--all-targets` runs bench targets as tests), one small smoke run only.
    let benching = std::env::args().any(|a| a == "--bench");
    let args: Vec<usize> =
        std::env::args().skip(1).filter(|a| !a.starts_with('-')).filter_map(|a| a.parse().ok()).collect();
    let env_sizes = std::env::var("MTLS_BENCH_SIZES").ok();
    let smoke = !benching && args.is_empty() && env_sizes.is_none();
    let sizes: Vec<usize> = if !args.is_empty() {
        args
    } else if let Some(s) = env_sizes {
        s.split(',').filter_map(|x| x.trim().parse().ok()).collect()
    } else if smoke {
        vec![402]
    } else {
        vec![2_000, 20_000]
    };
    let runs: Option<usize> = std::env::var("MTLS_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .map(|r: usize| r.max(1))
        .or(smoke.then_some(1));

    let rows: Vec<Row> = sizes.iter().map(|&n| bench(n, runs)).collect();

    println!();
    println!(
        "{:>9} {:>6} {:>8} {:>7} {:>10} | {:>12} {:>9} | {:>12} {:>9} {:>13}",
        "documents", "files", "MB", "changed", "introduced", "in-proc med", "min", "binary med", "min", "peak RSS MB"
    );
    for r in &rows {
        println!(
            "{:>9} {:>6} {:>8.1} {:>7} {:>10} | {:>9} ms {:>6} ms | {:>9} ms {:>6} ms {:>13}",
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
    if let (Some(small), Some(large)) =
        (rows.iter().min_by_key(|r| r.documents), rows.iter().max_by_key(|r| r.documents))
        && large.documents > small.documents
    {
        let ratio = |f: fn(&Row) -> Duration| f(large).as_secs_f64() / f(small).as_secs_f64().max(1e-9);
        println!(
            "ratio {}/{} documents: in-process median {:.1}x, binary median {:.1}x",
            large.documents,
            small.documents,
            ratio(|r| median(&r.in_process)),
            ratio(|r| median(&r.binary)),
        );
    }
    for r in &rows {
        let secs = |v: &[Duration]| median(v).as_secs_f64();
        let binary = secs(&r.binary);
        if !r.pyyaml.is_empty() {
            println!(
                "{} documents: PyYAML C loader parses the head tree in {} ms (median): that is {:.1}x the review \
                 (binary median)",
                r.documents,
                ms(median(&r.pyyaml)),
                secs(&r.pyyaml) / binary.max(1e-9)
            );
        }
        if !r.git_grep.is_empty() {
            println!(
                "{} documents: git grep -l over both trees {} ms (median): the review takes {:.2}x of it",
                r.documents,
                ms(median(&r.git_grep)),
                binary / secs(&r.git_grep).max(1e-9)
            );
        }
    }
    for r in &rows {
        println!(
            "posture --base --head at {} documents: median {} ms, min {} ms (in process)",
            r.documents,
            ms(median(&r.posture)),
            ms(min(&r.posture))
        );
    }
    let counts: Vec<String> = rows.iter().map(|r| format!("{}: {}", r.documents, r.in_process.len())).collect();
    println!("timed runs per size after one warm-up ({}); median and min wall time", counts.join(", "));
}

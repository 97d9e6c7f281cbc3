//! Benchmark of the loader (and the line diff) on the inputs where a parser or a differ goes quadratic: one
//! minified JSON `kind: List` on a single long line, many documents in one file, hundreds of thousands of
//! duplicate keys, and a diff of files made of long runs of identical lines. Each shape is timed at doubling sizes;
//! the figure to read is the time ratio from one size to the next (about 2 for linear work, 4 for quadratic).
//!
//! Run: `cargo bench --bench yaml` (release profile); one shape: `cargo bench --bench yaml -- json-list`
//! (shapes: `json-list`, `documents`, `duplicates`, `diff`). Timed runs per size: `MTLS_BENCH_RUNS` (default 3,
//! the minimum is reported). Run as a test (`cargo test --benches`) it does one smoke run of each shape at the
//! smallest size.
//!
//! It prints figures and never fails on them: timing is for people, not assertions. It asserts what the loader
//! read (item counts, capped errors), so a fast but wrong loader cannot pass unnoticed.

// A bench binary reports on stdout and may unwrap: a failure here is a broken benchmark, not user input.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use mtls_review::manifest::{load_file, yaml::Limits};
use mtls_review::review::diff::file_change;
use std::time::{Duration, Instant};

/// A minified JSON List of Deployments and Services of about `bytes` bytes, and its number of items.
fn json_list(bytes: usize) -> (String, usize) {
    let mut s = String::from("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[");
    let mut n = 0;
    while s.len() < bytes {
        if n > 0 {
            s.push(',');
        }
        let i = n / 2;
        if n % 2 == 0 {
            s.push_str(&format!(
                "{{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{{\"name\":\"app{i}\",\"namespace\":\"ns{}\",\"labels\":{{\"app\":\"app{i}\",\"version\":\"v1\"}}}},\"spec\":{{\"selector\":{{\"matchLabels\":{{\"app\":\"app{i}\"}}}},\"template\":{{\"metadata\":{{\"labels\":{{\"app\":\"app{i}\"}}}},\"spec\":{{\"containers\":[{{\"name\":\"c\",\"image\":\"nginx\",\"ports\":[{{\"containerPort\":8080}}]}}]}}}}}}}}",
                i % 50
            ));
        } else {
            s.push_str(&format!(
                "{{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{{\"name\":\"app{i}\",\"namespace\":\"ns{}\"}},\"spec\":{{\"selector\":{{\"app\":\"app{i}\"}},\"ports\":[{{\"port\":80,\"targetPort\":8080}}]}}}}",
                i % 50
            ));
        }
        n += 1;
    }
    s.push_str("]}");
    (s, n)
}

/// `docs` PeerAuthentication and Service documents in one YAML stream.
fn documents(docs: usize) -> String {
    (0..docs)
        .map(|i| {
            if i % 2 == 0 {
                format!("---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: pa{i}\n  namespace: ns{}\nspec:\n  mtls:\n    mode: STRICT\n", i % 50)
            } else {
                format!("---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s{i}\n  namespace: ns{}\nspec:\n  ports:\n  - port: 80\n    targetPort: 8080\n", i % 50)
            }
        })
        .collect()
}

/// One Service whose labels hold the same key `keys` times.
fn duplicates(keys: usize) -> String {
    let mut s = String::from("apiVersion: v1\nkind: Service\nmetadata:\n  name: dup\n  namespace: ns\n  labels:\n");
    for i in 0..keys {
        s.push_str(&format!("    k: v{i}\n"));
    }
    s
}

/// Base and head of a file made of long runs of identical lines, with an insertion in each run (every insertion
/// can slide along its run).
fn identical_runs(lines: usize) -> (String, String) {
    let (mut old, mut new) = (String::new(), String::new());
    for i in 0..lines {
        let l = if (i / 1000) % 2 == 0 { "\n" } else { "      mode: STRICT\n" };
        old.push_str(l);
        new.push_str(l);
        if i % 1000 == 500 {
            new.push_str(l);
        }
    }
    (old, new)
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        out = Some(v);
    }
    (best, out.unwrap())
}

fn report(shape: &str, rows: &[(String, usize, Duration)]) {
    println!("{shape}:");
    for (i, (label, bytes, d)) in rows.iter().enumerate() {
        let ratio = i.checked_sub(1).map(|p| d.as_secs_f64() / rows[p].2.as_secs_f64().max(1e-9));
        println!(
            "  {label:>16}  {:>9.2} MB  {:>9.1} ms  {:>7.1} MB/s{}",
            *bytes as f64 / 1e6,
            d.as_secs_f64() * 1000.0,
            *bytes as f64 / 1e6 / d.as_secs_f64().max(1e-9),
            ratio.map_or(String::new(), |r| format!("  x{r:.2} for x2 input"))
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let bench = std::env::args().any(|a| a == "--bench");
    let runs: usize = std::env::var("MTLS_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    // Smoke run (as a test, debug build): the smallest size, an eighth of it.
    let (runs, steps, scale) = if bench { (runs.max(1), 4, 8) } else { (1, 1, 1) };
    let wanted = |s: &str| args.is_empty() || args.iter().any(|a| a == s);
    let limits = Limits::default();

    if wanted("json-list") {
        let mut rows = Vec::new();
        for k in 0..steps {
            let (text, items) = json_list((scale << k) * 128 * 1024);
            let (d, f) = time(runs, || load_file("list.json", text.as_bytes(), &limits));
            assert!(f.errors.is_empty(), "{:?}", f.errors);
            assert_eq!(f.objects.len(), items);
            rows.push((format!("{items} items"), text.len(), d));
        }
        report("minified JSON List (one line)", &rows);
    }
    if wanted("documents") {
        let mut rows = Vec::new();
        for k in 0..steps {
            let n = (scale << k) * 1250;
            let text = documents(n);
            let (d, f) = time(runs, || load_file("all.yaml", text.as_bytes(), &limits));
            assert!(f.errors.is_empty(), "{:?}", f.errors);
            assert_eq!(f.objects.len(), n);
            rows.push((format!("{n} documents"), text.len(), d));
        }
        report("documents in one file", &rows);
    }
    if wanted("duplicates") {
        let mut rows = Vec::new();
        for k in 0..steps {
            let n = (scale << k) * 9375;
            let text = duplicates(n);
            let (d, f) = time(runs, || load_file("dup.yaml", text.as_bytes(), &limits));
            // The first errors of the file, then one summary entry.
            assert_eq!(f.errors.len(), limits.max_errors_per_file + 1);
            assert_eq!(f.objects.len(), 1);
            rows.push((format!("{n} keys"), text.len(), d));
        }
        report("duplicate keys (errors capped)", &rows);
    }
    if wanted("diff") {
        let mut rows = Vec::new();
        for k in 0..steps {
            let n = (scale << k) * 6250;
            let (old, new) = identical_runs(n);
            let (d, c) = time(runs, || file_change(Some("a"), Some(&old), Some("a"), Some(&new)));
            let added: usize = c.added.iter().map(|(a, b)| b - a + 1).sum();
            assert_eq!((added, c.deleted.len()), ((0..n).filter(|i| i % 1000 == 500).count(), 0));
            rows.push((format!("{n} lines"), old.len() + new.len(), d));
        }
        report("line diff of long runs of identical lines", &rows);
    }
}

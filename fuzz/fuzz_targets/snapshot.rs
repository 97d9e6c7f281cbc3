//! Snapshot analysis: a tree of up to four files cut from the input (at 0xff bytes), loaded and analysed;
//! nothing may panic, and every finding and error lies inside its file (lines as YAML counts them).
#![no_main]
#[path = "contain.rs"]
mod contain;
use libfuzzer_sys::fuzz_target;
use mtls_review::analysis::{analyze, load_files};
use mtls_review::finding::Side;
use mtls_review::manifest::yaml::{Limits, LineIndex};

fuzz_target!(|data: &[u8]| {
    contain::like_the_release_binary();
    let files: Vec<(String, Vec<u8>)> =
        data.split(|b| *b == 0xff).take(4).enumerate().map(|(i, b)| (format!("d{i}/m.yaml"), b.to_vec())).collect();
    let lines: Vec<(String, usize)> =
        files.iter().map(|(p, b)| (p.clone(), LineIndex::new(&String::from_utf8_lossy(b)).line_count())).collect();
    let n = |path: &str| lines.iter().find(|(p, _)| p == path).map(|(_, n)| *n);
    let loaded = load_files(files, &Limits::default());
    for f in &loaded {
        for e in &f.errors {
            assert!(n(&e.path).is_none_or(|n| 1 <= e.line && e.line <= n), "{e:?}");
        }
    }
    let a = analyze(&loaded, &Default::default(), Side::Head, Default::default());
    for f in &a.findings {
        let l = &f.location;
        assert!(n(&l.path).is_none_or(|n| 1 <= l.line && l.line <= l.end_line && l.end_line <= n), "{f:?}");
    }
});

//! Base/head review: the input is cut (at 0xff bytes) into a base and a head version of two files, which are
//! reviewed; nothing may panic, every hunk lies inside its file (lines as YAML and `similar` count them: LF, CRLF and lone CR; git counts LF only,
//! see fuzz/README.md), every anchor of an
//! introduced finding lies inside its file and inside a hunk of its side, and every finding's location inside
//! its file (lines as YAML counts them).
#![no_main]
#[path = "contain.rs"]
mod contain;
use libfuzzer_sys::fuzz_target;
use mtls_review::finding::{Side, Status};
use mtls_review::manifest::yaml::LineIndex;
use mtls_review::review::{ReviewInput, TreeFile, review};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A content id, as git's blob ids are: identical bytes, identical id (so unchanged files are seen as such).
fn id(b: &[u8]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    b.hash(&mut h);
    format!("{:016x}", h.finish())
}

fuzz_target!(|data: &[u8]| {
    contain::like_the_release_binary();
    let mut parts = data.split(|b| *b == 0xff);
    let mut side = || -> Vec<TreeFile> {
        (0..2)
            .filter_map(|i| {
                let b = parts.next()?;
                Some(TreeFile { path: format!("f{i}.yaml"), id: id(b), bytes: Arc::from(b) })
            })
            .collect()
    };
    let base = side();
    let head = side();
    let input = ReviewInput { base, head, ..Default::default() };
    let r = review(&input, &Default::default());
    let text = |files: &[TreeFile], path: &str| -> Option<String> {
        files.iter().find(|f| f.path == path).map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
    };
    for c in &r.changes {
        let base_n =
            c.base_path.as_deref().and_then(|p| text(&input.base, p)).map_or(0, |t| LineIndex::new(&t).line_count());
        let head_n =
            c.head_path.as_deref().and_then(|p| text(&input.head, p)).map_or(0, |t| LineIndex::new(&t).line_count());
        for h in &c.hunks {
            assert!(h.base_lines == 0 || (h.base_start >= 1 && h.base_start - 1 + h.base_lines <= base_n), "{h:?}");
            assert!(h.head_lines == 0 || (h.head_start >= 1 && h.head_start - 1 + h.head_lines <= head_n), "{h:?}");
        }
    }
    for f in &r.findings {
        let files = if f.location.side == Side::Base { &input.base } else { &input.head };
        if let Some(t) = text(files, &f.location.path) {
            let n = LineIndex::new(&t).line_count();
            assert!(
                1 <= f.location.line && f.location.line <= f.location.end_line && f.location.end_line <= n,
                "{f:?}"
            );
        }
        if f.status != Status::Introduced {
            continue;
        }
        for a in f.anchors.iter().flatten() {
            let c = r.changes.iter().find(|c| match a.side {
                Side::Head => c.head_path.as_deref() == Some(a.path.as_str()),
                Side::Base => c.base_path.as_deref() == Some(a.path.as_str()),
            });
            let c = c.unwrap_or_else(|| panic!("anchor {a:?} in a file without changes"));
            for l in a.line..=a.end_line {
                assert!(c.hunks.iter().any(|h| h.contains(a.side, l)), "anchor {a:?} outside {:?}", c.hunks);
            }
        }
    }
});

//! Base/head review: the input is split into a base and a head version of two files; review, never panic;
//! every hunk lies inside its file.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mtls_review::review::{review, ReviewInput, TreeFile};
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0xff);
    let mut side = |tag: &str| -> Vec<TreeFile> {
        (0..2)
            .filter_map(|i| {
                let b = parts.next()?;
                Some(TreeFile { path: format!("f{i}.yaml"), id: format!("{tag}{}", b.len()), bytes: Arc::from(b) })
            })
            .collect()
    };
    let base = side("b");
    let head = side("h");
    let input = ReviewInput { base, head, ..Default::default() };
    let _ = review(&input, &Default::default());
    for f in input.base.iter().zip(input.head.iter()) {
        let (Ok(a), Ok(b)) = (std::str::from_utf8(&f.0.bytes), std::str::from_utf8(&f.1.bytes)) else { continue };
        let c = mtls_review::review::diff::file_change(Some("f"), Some(a), Some("f"), Some(b));
        let (na, nb) = (a.split_inclusive('\n').count(), b.split_inclusive('\n').count());
        for h in &c.hunks {
            assert!(h.base_start >= 1 && h.base_start - 1 + h.base_lines <= na);
            assert!(h.head_start >= 1 && h.head_start - 1 + h.head_lines <= nb);
        }
    }
});

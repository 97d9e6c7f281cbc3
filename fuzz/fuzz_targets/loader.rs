//! Loader bytes: any file content; nothing may panic or overflow, every line reported lies in the file.
#![no_main]
#[path = "contain.rs"]
mod contain;
use libfuzzer_sys::fuzz_target;
use mtls_review::manifest::{
    load_file,
    yaml::{Limits, LineIndex, Schema, go_value, parse_stream},
};

fuzz_target!(|data: &[u8]| {
    contain::like_the_release_binary();
    let f = load_file("f.yaml", data, &Limits::default());
    if let Some(src) = &f.source {
        let n = LineIndex::new(src.text()).line_count();
        assert!(f.errors.iter().all(|e| e.line >= 1 && e.line <= n));
        assert!(f.objects.iter().all(|o| o.line >= 1 && o.line <= o.end_line && o.end_line <= n));
        let s = parse_stream(src.text(), &Limits::default());
        for d in &s.docs {
            assert!(d.nodes.iter().all(|x| x.line >= 1 && x.line <= x.end_line && x.end_line <= n));
            let _ = go_value(d, Schema::V2, 100_000);
            let _ = go_value(d, Schema::V3, 100_000);
        }
    }
});

//! Snapshot analysis: a tree of up to four files cut from the input; load, analyse, never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mtls_review::analysis::{analyze, load_files};
use mtls_review::finding::Side;
use mtls_review::manifest::yaml::Limits;

fuzz_target!(|data: &[u8]| {
    let files: Vec<(String, Vec<u8>)> =
        data.split(|b| *b == 0xff).take(4).enumerate().map(|(i, b)| (format!("d{i}/m.yaml"), b.to_vec())).collect();
    let loaded = load_files(files, &Limits::default());
    let _ = analyze(&loaded, &Default::default(), Side::Head, Default::default());
});

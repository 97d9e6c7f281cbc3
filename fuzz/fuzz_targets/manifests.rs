//! Structure-aware manifests with a read-back oracle: the input picks a layout (block, flow, JSON-ish, line
//! breaks, quoting, merge keys, comments) for a PeerAuthentication with known values; the loader must read
//! exactly those values back, on the lines they were written.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mtls_review::manifest::{load_file, yaml::Limits};

const MODES: &[&str] = &["STRICT", "PERMISSIVE", "DISABLE", "UNSET"];
const NAMES: &[&str] = &["default", "web", "a-b", "x1", "yes", "0120", "on"];

fuzz_target!(|data: &[u8]| {
    let b = |i: usize| data.get(i).copied().unwrap_or(0) as usize;
    let mode = MODES[b(0) % MODES.len()];
    let name = NAMES[b(1) % NAMES.len()];
    let nl = ["\n", "\r\n", "\r"][b(2) % 3];
    let quote = |s: &str, k: usize| match k % 3 {
        0 if !matches!(s, "yes" | "on" | "0120") => s.to_string(),
        1 => format!("'{s}'"),
        _ => format!("\"{s}\""),
    };
    let sep = ["", "\t", "  "][b(3) % 3];
    let comment = if b(4) % 2 == 0 { "" } else { " # c" };
    let mode_line = match b(5) % 4 {
        0 => format!("    mode: {sep}{}{comment}", quote(mode, b(6))),
        1 => format!("    mode: {}{comment}", quote(mode, b(6))),
        2 => format!("    {{mode: {}}}", quote(mode, b(6))),
        _ => format!("    <<: {{mode: {}}}", quote(mode, b(6))),
    };
    let (mtls, mode_at) = if b(5) % 4 == 2 {
        (format!("  mtls:{nl}{}", mode_line.replacen("    {", "    {", 1)).replace("  mtls:", "  mtls:"), 8)
    } else {
        (format!("  mtls:{nl}{mode_line}"), 8)
    };
    let mtls = if b(5) % 4 == 2 { format!("  mtls: {}", mode_line.trim_start()) } else { mtls };
    let lead = if b(7) % 2 == 0 { String::new() } else { format!("# header{nl}---{nl}") };
    let text = format!(
        "{lead}apiVersion: security.istio.io/v1{nl}kind: PeerAuthentication{nl}metadata:{nl}  name: {}{nl}  namespace: ns{nl}spec:{nl}{mtls}{nl}",
        quote(name, b(8))
    );
    let f = load_file("pa.yaml", text.as_bytes(), &Limits::default());
    assert!(f.errors.is_empty(), "{text:?}: {:?}", f.errors);
    assert_eq!(f.objects.len(), 1, "{text:?}");
    let o = &f.objects[0];
    assert_eq!(o.name, name, "{text:?}");
    assert_eq!(o.str_at(&["spec", "mtls", "mode"]), Some(mode), "{text:?}");
    let off = if lead.is_empty() { 0 } else { 2 };
    let want = if b(5) % 4 == 2 { mode_at - 1 + off } else { mode_at + off };
    assert_eq!(o.field_lines(&["spec", "mtls", "mode"]).map(|l| l.0), Some(want), "{text:?}");
    assert_eq!(o.field_lines(&["metadata", "name"]).map(|l| l.0), Some(4 + off), "{text:?}");
});

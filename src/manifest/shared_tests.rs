//! A file loaded from bytes a tree holds keeps its text in those bytes (no second copy), with or without a BOM;
//! a file loaded from a slice owns a copy; both read the same.

use super::*;

const PA: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: shop\nspec:\n  mtls:\n    mode: STRICT\n";

#[test]
fn a_shared_load_keeps_the_text_in_the_trees_bytes() {
    for (bom, crlf) in [(false, false), (true, false), (false, true), (true, true)] {
        let text = if crlf { PA.replace('\n', "\r\n") } else { PA.to_string() };
        let mut raw = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        raw.extend_from_slice(text.as_bytes());
        let bytes: Arc<[u8]> = Arc::from(raw);
        let shared = load_shared("shop/pa.yaml", &bytes, &Limits::default());
        let copied = load_file("shop/pa.yaml", &bytes, &Limits::default());
        let (s, c) = (shared.source.as_ref().unwrap(), copied.source.as_ref().unwrap());
        assert_eq!(s.text(), text, "bom {bom}");
        assert_eq!(c.text(), text, "bom {bom}");
        assert_eq!((s.bom, s.crlf, s.path.as_str()), (bom, crlf, "shop/pa.yaml"));
        assert_eq!((c.bom, c.crlf), (bom, crlf));
        assert!(Arc::ptr_eq(&s.bytes, &bytes), "shared");
        assert!(!Arc::ptr_eq(&c.bytes, &bytes), "copied");
        assert_eq!(shared.objects.len(), 1);
        assert_eq!(s.lines().len(), 8);
    }
}

#[test]
fn text_made_from_a_string_or_from_bytes_that_are_not_utf8_from_the_start() {
    let t = SourceText::new("a.yaml", "a: 1\n", false, false);
    assert_eq!(t.text(), "a: 1\n");
    let bytes: Arc<[u8]> = Arc::from(&b"\xEF\xBB\xBFa: 1\n"[..]);
    // From inside the BOM the bytes are not UTF-8: no shared text.
    assert!(SourceText::shared("a.yaml", &bytes, 1, false, true).is_none());
    assert!(SourceText::shared("a.yaml", &bytes, 99, false, true).is_none());
    assert_eq!(
        SourceText::shared("a.yaml", &bytes, 3, false, true).map(|s| s.text().to_string()),
        Some("a: 1\n".into())
    );
}

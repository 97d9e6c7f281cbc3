//! Tests of the file-style and token helpers of `fix.rs` that mutation testing showed unpinned (issue 15): how a
//! file's indentation and quoting are read, and where a quoted scalar token ends on its line.

use super::{file_style, scalar_token};
use crate::manifest::load_file;
use crate::manifest::yaml::{Limits, Style};

/// The (indent, quote, json) style `file_style` reads from the first object of `text` stored at `path`.
fn style_of(path: &str, text: &str) -> (usize, Option<char>, bool) {
    let f = load_file(path, text.as_bytes(), &Limits::default());
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    let s = file_style(&f.objects[0]);
    (s.indent, s.quote, s.json)
}

const HEAD: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n";

#[test]
fn indentation_is_read_from_metadata_within_one_to_eight_columns() {
    let block = |n: usize| format!("{HEAD}metadata:\n{0}name: default\n{0}namespace: shop\n", " ".repeat(n));
    assert_eq!(style_of("a.yaml", &block(3)), (3, None, false));
    assert_eq!(style_of("a.yaml", &block(8)), (8, None, false));
    // Wider than eight columns is not taken as the file's indentation step: the default two.
    assert_eq!(style_of("a.yaml", &block(10)), (2, None, false));
    // A flow mapping's entries say nothing about block indentation, even within range.
    let flow = format!("{HEAD}metadata:\n    {{name: default, namespace: shop}}\n");
    assert_eq!(style_of("a.yaml", &flow), (2, None, false));
}

#[test]
fn quoting_follows_the_name_and_json_always_double_quotes() {
    let named = |name: &str| format!("{HEAD}metadata:\n  name: {name}\n  namespace: shop\n");
    assert_eq!(style_of("a.yaml", &named("'default'")), (2, Some('\''), false));
    assert_eq!(style_of("a.yaml", &named("\"default\"")), (2, Some('"'), false));
    assert_eq!(style_of("a.yaml", &named("default")), (2, None, false));
    let json = r#"{"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": {"name": "default", "namespace": "shop"}}"#;
    assert_eq!(style_of("a.JSON", json), (2, Some('"'), true));
}

#[test]
fn scalar_tokens_end_where_their_quotes_close() {
    // A doubled single quote is an escaped quote inside the token, not its end.
    let line = "    mode: 'it''s' # note";
    assert_eq!(scalar_token(line, 10, Style::SingleQuoted, "it's"), Some((10, 17)));
    assert_eq!(&line[10..17], "'it''s'");
    assert_eq!(scalar_token("mode: 'a'", 6, Style::SingleQuoted, "a"), Some((6, 9)));
    // Escapes at the first and at a later position: scanning goes on right after each doubled quote.
    assert_eq!(scalar_token("mode: '''a' x", 6, Style::SingleQuoted, "'a"), Some((6, 11)));
    assert_eq!(scalar_token("mode: 'abcd''e' x", 6, Style::SingleQuoted, "abcd'e"), Some((6, 15)));
    assert_eq!(scalar_token("mode: 'open", 6, Style::SingleQuoted, "open"), None);
    // A backslash escapes a double quote.
    let dq = r#"mode: "a\"b" # x"#;
    assert_eq!(scalar_token(dq, 6, Style::DoubleQuoted, "a\"b"), Some((6, 12)));
    assert_eq!(scalar_token(r#"mode: "a\\" x"#, 6, Style::DoubleQuoted, "a\\"), Some((6, 11)));
    assert_eq!(scalar_token(r#"mode: "open"#, 6, Style::DoubleQuoted, "open"), None);
    // Plain tokens must start with their text; block scalars are never edited in place.
    assert_eq!(scalar_token("mode: STRICT # x", 6, Style::Plain, "STRICT"), Some((6, 12)));
    assert_eq!(scalar_token("mode: STRICT", 6, Style::Plain, "DISABLE"), None);
    assert_eq!(scalar_token("mode: |", 6, Style::Literal, "x"), None);
    // Columns count characters, not bytes.
    assert_eq!(scalar_token("é: 'x'", 3, Style::SingleQuoted, "x"), Some((4, 7)));
    assert_eq!(scalar_token("ab", 5, Style::Plain, "x"), None);
}

#[test]
fn an_empty_null_parent_in_a_flow_mapping_becomes_a_flow_mapping_in_place() {
    let pa = |spec: &str| {
        format!(
            "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: shop\nspec: {spec}\n"
        )
    };
    let set = |text: &str| {
        let f = load_file("x.yaml", text.as_bytes(), &Limits::default());
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        super::set_field(f.source.as_ref().unwrap(), &f.objects[0], &["spec", "mtls", "mode"], "STRICT")
            .map(|e| (e.start, e.end, e.lines))
    };
    let one = |line: &str| Some((6, 6, vec![line.to_string()]));
    // `mtls:` with nothing after it (an empty null), alone, before another entry, and padded.
    assert_eq!(set(&pa("{mtls: }")), one("spec: {mtls: {mode: STRICT}}"));
    assert_eq!(set(&pa("{mtls: , selector: {}}")), one("spec: {mtls: {mode: STRICT}, selector: {}}"));
    assert_eq!(set(&pa("{ mtls:   }")), one("spec: { mtls:   {mode: STRICT}}"));
    // A written null token is replaced, what follows it stays.
    assert_eq!(set(&pa("{mtls: ~} # c")), one("spec: {mtls: {mode: STRICT}} # c"));
    // Each result parses back to the value asked for.
    for spec in ["{mtls: }", "{mtls: , selector: {}}", "{ mtls:   }", "{mtls: ~} # c"] {
        let (_, _, lines) = set(&pa(spec)).unwrap();
        let text = pa(spec).replace(&format!("spec: {spec}"), &lines[0]);
        let f = load_file("x.yaml", text.as_bytes(), &Limits::default());
        assert!(f.errors.is_empty(), "{text}: {:?}", f.errors);
        let o = &f.objects[0];
        assert_eq!(o.tree.str_at(o.root, &["spec", "mtls", "mode"]), Some("STRICT"), "{text}");
    }
}

#[test]
fn empty_mappings_and_lists_are_written_as_flow_collections_in_block_output() {
    use super::{FileStyle, Y, emit_map};
    let style = FileStyle { indent: 2, quote: None, json: false };
    let entries = vec![
        ("selector".to_string(), Y::Map(vec![])),
        ("ports".to_string(), Y::List(vec![])),
        ("mtls".to_string(), Y::Map(vec![("mode".to_string(), Y::Str("STRICT".into()))])),
        ("hosts".to_string(), Y::List(vec![Y::Str("a".into()), Y::Num(80)])),
    ];
    let mut out = Vec::new();
    emit_map(&entries, 2, false, &style, &mut out);
    assert_eq!(
        out,
        ["  selector: {}", "  ports: []", "  mtls:", "    mode: STRICT", "  hosts:", "    - a", "    - 80"]
    );
    let text = format!("spec:\n{}\n", out.join("\n"));
    let f = load_file("x.yaml", text.as_bytes(), &Limits::default());
    assert!(f.errors.is_empty(), "{text}: {:?}", f.errors);
}

#[test]
fn the_api_version_most_used_for_the_kind_wins_over_the_default() {
    let dr = |name: &str, version: &str| {
        format!(
            "apiVersion: networking.istio.io/{version}\nkind: DestinationRule\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n  host: {name}\n"
        )
    };
    let text = [dr("a", "v1beta1"), dr("b", "v1beta1"), dr("c", "v1")].join("---\n");
    let f = load_file("x.yaml", text.as_bytes(), &Limits::default());
    let mesh = crate::mesh::Mesh::build(std::slice::from_ref(&f), Default::default(), Default::default());
    assert_eq!(
        super::api_version_for(&mesh, "DestinationRule", "networking.istio.io/v1"),
        "networking.istio.io/v1beta1"
    );
    assert_eq!(super::api_version_for(&mesh, "PeerAuthentication", "security.istio.io/v1"), "security.istio.io/v1");
}

#[test]
fn a_port_level_setting_is_not_added_to_a_flow_traffic_policy_or_spec() {
    let head =
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: cart\n  namespace: shop\n";
    let set = |text: &str| {
        let f = load_file("x.yaml", text.as_bytes(), &Limits::default());
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        super::set_port_level_tls(f.source.as_ref().unwrap(), &f.objects[0], 80, "DISABLE").map(|e| e.lines)
    };
    // Block lines under a flow collection would not parse: no line fix.
    assert_eq!(set(&format!("{head}spec:\n  host: cart\n  trafficPolicy: {{tls: {{mode: ISTIO_MUTUAL}}}}\n")), None);
    assert_eq!(set(&format!("{head}spec: {{host: cart}}\n")), None);
    // A block trafficPolicy takes the new list under its last line.
    assert_eq!(
        set(&format!("{head}spec:\n  host: cart\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n")),
        Some(
            [
                "      mode: ISTIO_MUTUAL",
                "    portLevelSettings:",
                "      - port:",
                "          number: 80",
                "        tls:",
                "          mode: DISABLE",
            ]
            .map(String::from)
            .to_vec()
        )
    );
}

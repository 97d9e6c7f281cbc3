//! Tests of go-yaml readings and positions (issue 15, second sample: mutants of `key_text`, `Positions::end_line`,
//! `parse_error`, `parse_chunk`'s literal style, `go_scalar`'s unknown `!!` tags and `looks_like_timestamp`'s
//! length gate survived the lib tests).

use super::*;

fn one_doc(text: &str) -> YamlDoc {
    let mut parsed = parse_stream(text, &Limits::default());
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(parsed.docs.len(), 1);
    parsed.docs.remove(0)
}

/// An alias used as a key reads as the text of the scalar it names (go-yaml expands it): `*k : 80` is `port: 80`.
#[test]
fn an_alias_key_reads_as_its_anchored_scalar() {
    let doc = one_doc("name: &k port\n*k : 80\n");
    let root = doc.root.unwrap_or_else(|| unreachable!());
    let value = doc.get(root, "port").unwrap_or_else(|| panic!("the alias key is `port`"));
    assert_eq!(doc.int(value), Some(80));
    let keys: Vec<Option<&str>> = doc.entries(root).iter().map(|(k, _)| doc.key_text(*k)).collect();
    assert_eq!(keys, [Some("name"), Some("port")]);
}

/// A file of blank lines holds no document and no error (its chunk ends where it starts).
#[test]
fn a_file_of_blank_lines_has_no_documents_and_no_errors() {
    for text in ["\n", "\n\n  \n"] {
        let parsed = parse_stream(text, &Limits::default());
        assert!(parsed.docs.is_empty(), "{text:?}");
        assert_eq!(parsed.errors, [], "{text:?}");
    }
}

/// A parse error names the 1-based column of the character (a tab after a space, where no token can start).
#[test]
fn a_parse_error_gives_its_line_and_column() {
    let parsed = parse_stream("a: 1\n---\n \tb\n", &Limits::default());
    assert_eq!(parsed.docs.len(), 1);
    assert_eq!(
        parsed.errors,
        [YamlError {
            line: 3,
            message:
                "found character that cannot start any token (line 3, column 2), while scanning for the next token \
                      at line 3"
                    .into()
        }]
    );
}

/// A literal block scalar keeps its style: `|-` text `null` is the string `null`, not a null.
#[test]
fn a_literal_block_scalar_is_a_string_even_when_it_reads_null() {
    let doc = one_doc("a: |-\n  null\nb: >-\n  null\n");
    let root = doc.root.unwrap_or_else(|| unreachable!());
    for key in ["a", "b"] {
        let id = doc.get(root, key).unwrap_or_else(|| unreachable!());
        assert_eq!(doc.scalar(id), Some("null"), "{key}");
        assert!(!doc.is_null(id), "{key}");
    }
    let a = doc.get(root, "a").unwrap_or_else(|| unreachable!());
    assert!(matches!(doc.node(a).value, Value::Scalar { style: Style::Literal, .. }));
    let b = doc.get(root, "b").unwrap_or_else(|| unreachable!());
    assert!(matches!(doc.node(b).value, Value::Scalar { style: Style::Folded, .. }));
}

/// A `!!` tag go-yaml does not know refuses the scalar (it cannot decode it); a local tag reads as a string.
#[test]
fn an_unknown_yaml_org_tag_is_refused() {
    assert_eq!(go_scalar("x", Style::Plain, Some("tag:yaml.org,2002:foo"), Schema::V2), Err("tag !!foo".to_string()));
    assert_eq!(go_scalar("x", Style::Plain, Some("!local"), Schema::V2), Ok("str:x".to_string()));
}

/// The shortest v3 timestamp, `YYYY-M-D` (8 characters), is one; 7 characters are too few.
#[test]
fn the_shortest_date_is_a_timestamp() {
    assert!(looks_like_timestamp("2024-1-1"));
    assert_eq!(go_plain("2024-1-1", Schema::V3), "ts");
    assert!(!looks_like_timestamp("2024-1-"));
    assert!(!looks_like_timestamp("202-1-1"));
}

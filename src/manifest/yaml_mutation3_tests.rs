//! Tests of go-yaml readings (issue 15, third sample, shard 2/10: mutants of `visit_entries`' v3 order,
//! `merged_entries_in`'s duplicate filter, `yaml11_int`'s digit check and `split_chunks`' last chunk survived).

use super::*;

fn one_doc(text: &str) -> YamlDoc {
    let mut parsed = parse_stream(text, &Limits::default());
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(parsed.docs.len(), 1);
    parsed.docs.remove(0)
}

/// The merged entries of a mapping as (key, scalar value) texts, in the order returned.
fn merged(doc: &YamlDoc, map: NodeId, schema: Schema) -> Vec<(String, String)> {
    doc.merged_entries_in(map, schema)
        .into_iter()
        .map(|(k, v)| (doc.key_text(k).unwrap_or("?").to_string(), doc.scalar(v).unwrap_or("?").to_string()))
        .collect()
}

/// go-yaml v3 reads a mapping's explicit keys before its merge key: `x: 3` written beside `<<: *b` wins over the
/// merged `x: 1`, and the merged `y` is added; the `<<` key itself is no entry.
#[test]
fn v3_explicit_keys_win_over_merged_ones() {
    let doc = one_doc("b: &b {x: '1', y: '2'}\nm:\n  <<: *b\n  x: '3'\n");
    let root = doc.root.unwrap_or_else(|| unreachable!());
    let m = doc.get(root, "m").unwrap_or_else(|| unreachable!());
    let mut v3 = merged(&doc, m, Schema::V3);
    v3.sort();
    assert_eq!(v3, [("x".to_string(), "3".to_string()), ("y".to_string(), "2".to_string())]);
    let mut v2 = merged(&doc, m, Schema::V2);
    v2.sort();
    assert_eq!(v2, v3);
}

/// A key written twice in a mapping without merge keys is one entry: the last one (go-yaml v2's reading).
#[test]
fn a_duplicate_key_is_one_merged_entry_the_last() {
    let parsed = parse_stream("a: '1'\nb: '2'\na: '3'\n", &Limits::default());
    assert_eq!(parsed.docs.len(), 1);
    let doc = &parsed.docs[0];
    let root = doc.root.unwrap_or_else(|| unreachable!());
    assert_eq!(merged(doc, root, Schema::V2), [("b".to_string(), "2".to_string()), ("a".to_string(), "3".to_string())]);
}

/// A sign after a base prefix is no integer for go-yaml (`strconv.ParseInt("0x+1", 0, 64)` fails), though Rust's
/// `from_str_radix` would take it.
#[test]
fn a_sign_after_the_base_prefix_is_no_integer() {
    assert_eq!(yaml11_int("0x+1"), None);
    assert_eq!(yaml11_int("0+7"), None);
    assert_eq!(yaml11_int("0o+7"), None);
    assert_eq!(yaml11_int("0x1f"), Some(31));
    assert_eq!(yaml11_int("017"), Some(15));
}

/// An empty file is no chunk at all (no empty document to parse); a file ending in a `---` line keeps that line
/// as the last chunk.
#[test]
fn chunks_of_an_empty_file_and_of_a_trailing_marker() {
    let index = LineIndex::new("");
    assert!(split_chunks("", &index).is_empty());
    let text = "a: 1\n---\n";
    let index = LineIndex::new(text);
    assert_eq!(split_chunks(text, &index), [(0, "a: 1\n"), (5, "---\n")]);
}

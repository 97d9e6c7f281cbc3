//! Tests of the file size limit's boundary and of null scalars (issue 15: `>` -> `>=` in `load_file_inner`'s size
//! check and `==` -> `!=` in `YamlDoc::is_null` survived the lib tests).

use super::load_file;
use super::yaml::{Limits, parse_stream};
use crate::finding::ErrorKind;

const PA: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  \
                  namespace: a\nspec:\n  mtls:\n    mode: STRICT\n";

/// `max_file_bytes` is the largest file accepted: a file of exactly that size is read, one byte more is refused.
#[test]
fn a_file_of_exactly_the_size_limit_is_read_and_one_byte_more_is_refused() {
    let limits = Limits { max_file_bytes: PA.len(), ..Limits::default() };
    let f = load_file("pa.yaml", PA.as_bytes(), &limits);
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    assert_eq!(f.objects.len(), 1);
    assert_eq!(f.objects[0].name, "default");
    let longer = format!("{PA}\n");
    let f = load_file("pa.yaml", longer.as_bytes(), &limits);
    assert!(f.objects.is_empty());
    assert_eq!(f.errors.len(), 1, "{:?}", f.errors);
    assert_eq!((f.errors[0].path.as_str(), f.errors[0].line, f.errors[0].kind), ("pa.yaml", 1, ErrorKind::Limit));
}

/// Plain `null`, `~` and an empty value are null (a field written so counts as not written, as in go-yaml);
/// the same texts quoted are strings, and a `!!str` tag makes a plain one a string.
#[test]
fn only_plain_null_scalars_are_null() {
    let text = "a: null\nb: ~\nc:\nd: NULL\ne: \"null\"\nf: '~'\ng: \"\"\nh: !!str null\ni: !!null ~\nj: STRICT\n";
    let stream = parse_stream(text, &Limits::default());
    assert!(stream.errors.is_empty(), "{:?}", stream.errors);
    let doc = &stream.docs[0];
    let root = doc.root.unwrap_or_else(|| panic!("no root"));
    let null: Vec<(&str, bool)> = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]
        .into_iter()
        .map(|k| (k, doc.is_null(doc.get(root, k).unwrap_or_else(|| panic!("no {k}")))))
        .collect();
    assert_eq!(
        null,
        [
            ("a", true),
            ("b", true),
            ("c", true),
            ("d", true),
            ("e", false),
            ("f", false),
            ("g", false),
            ("h", false),
            ("i", true),
            ("j", false)
        ]
    );
}

//! Tests of how a file's stream errors are classed (issue 15, a fresh 1-in-13 sample of the core: `||` -> `&&` in
//! `load_file_inner`'s limit test survived).

use super::load_file;
use super::yaml::Limits;
use crate::finding::ErrorKind;

const PA: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  \
                  namespace: a\nspec:\n  mtls:\n    mode: STRICT\n";

/// A limit the parser meets inside a file (too many documents, too many nodes) is a `limit` error, as the whole
/// file's size limit is; a syntax error is a `parse` error. Each keeps the documents before it.
#[test]
fn limits_met_inside_a_file_are_limit_errors_and_syntax_errors_parse_errors() {
    let three = format!("{PA}---\n{}---\n{}", PA.replace("default", "b"), PA.replace("default", "c"));
    let f = load_file("pa.yaml", three.as_bytes(), &Limits { max_documents: 2, ..Limits::default() });
    let names: Vec<&str> = f.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["default", "b"]);
    let got: Vec<(&str, ErrorKind)> = f.errors.iter().map(|e| (e.message.as_str(), e.kind)).collect();
    assert_eq!(got, [("more than 2 documents in one file; the rest is ignored", ErrorKind::Limit)]);

    let f = load_file("pa.yaml", PA.as_bytes(), &Limits { max_nodes: 5, ..Limits::default() });
    assert!(f.objects.is_empty(), "{:?}", f.objects);
    let got: Vec<(&str, ErrorKind)> = f.errors.iter().map(|e| (e.message.as_str(), e.kind)).collect();
    assert_eq!(got, [("more than 5 nodes in one document; refused", ErrorKind::Limit)]);

    let broken = format!("{PA}---\nspec: [unclosed\n");
    let f = load_file("pa.yaml", broken.as_bytes(), &Limits::default());
    assert_eq!(f.objects.len(), 1);
    assert_eq!(f.errors.iter().map(|e| e.kind).collect::<Vec<_>>(), [ErrorKind::Parse], "{:?}", f.errors);
}

//! Tests of parse errors and go-yaml's plain scalars (issue 15, sample shard 3/10: `+` -> `*` in `parse_error`'s
//! context line and the null guard -> `false` in `go_plain` survived; in the 1-in-13 sample of 2026-12-03, the
//! `"true"` arm of `go_plain`).

use super::*;

/// A parse error in a later document names the line of its context (here the flow sequence left open) in the
/// whole file, not in its document.
#[test]
fn a_parse_error_in_a_later_document_names_its_context_line_in_the_file() {
    let text = "a: 1\nb: 2\nc: 3\n---\nx: [1,\n  2\ny: 3\nz: 4\n";
    let parsed = parse_stream(text, &Limits::default());
    assert_eq!(parsed.docs.len(), 1);
    assert_eq!(
        parsed.errors,
        [YamlError {
            line: 7,
            message: "did not find expected ',' or ']' (line 7, column 2), while parsing a flow sequence at line 5"
                .into()
        }]
    );
}

/// The plain null forms read as null (an empty value too), in both schemas; other spellings are strings.
#[test]
fn plain_null_forms_are_null_and_other_spellings_strings() {
    for schema in [Schema::V2, Schema::V3] {
        for text in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(go_plain(text, schema), "null", "{text:?}");
        }
        assert_eq!(go_plain("nULL", schema), "str:nULL");
    }
    let doc = parse_stream("a: ~\nb:\nc: NULL\n", &Limits::default()).docs.remove(0);
    assert_eq!(
        go_value(&doc, Schema::V2, 100),
        Ok(serde_json::json!({"str:a": "null", "str:b": "null", "str:c": "null"}))
    );
}

/// go-yaml's plain booleans: `true`/`True`/`TRUE` (and the `false` forms) in both schemas; other spellings are
/// strings (v3), and v2 adds YAML 1.1's `yes`/`on` forms.
#[test]
fn plain_true_and_false_forms_are_booleans_in_both_schemas() {
    for schema in [Schema::V2, Schema::V3] {
        for text in ["true", "True", "TRUE"] {
            assert_eq!(go_plain(text, schema), "bool:true", "{text:?} {schema:?}");
        }
        for text in ["false", "False", "FALSE"] {
            assert_eq!(go_plain(text, schema), "bool:false", "{text:?} {schema:?}");
        }
    }
    assert_eq!(go_plain("tRUE", Schema::V3), "str:tRUE");
    assert_eq!(go_plain("On", Schema::V2), "bool:true");
    assert_eq!(go_plain("On", Schema::V3), "str:On");
}

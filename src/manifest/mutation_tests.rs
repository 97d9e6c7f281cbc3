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

mod go_values {
    //! Scalars as go-yaml decodes them (the differential test against go-yaml and the fuzz oracles compare with
    //! `go_value`; these pin the cases the lib tests missed).
    use crate::manifest::yaml::{Limits, Schema, Style, go_scalar, go_value, parse_stream};

    fn plain(text: &str, schema: Schema) -> Result<String, String> {
        go_scalar(text, Style::Plain, None, schema)
    }

    fn tagged(text: &str, tag: &str, schema: Schema) -> Result<String, String> {
        go_scalar(text, Style::Plain, Some(&format!("tag:yaml.org,2002:{tag}")), schema)
    }

    fn float(v: f64) -> String {
        format!("float:{:016x}", v.to_bits())
    }

    #[test]
    fn yaml_1_1_booleans_both_ways_in_v2_only() {
        for t in ["n", "N", "no", "No", "NO", "off", "Off", "OFF"] {
            assert_eq!(plain(t, Schema::V2), Ok("bool:false".to_string()), "{t}");
            assert_eq!(plain(t, Schema::V3), Ok(format!("str:{t}")), "{t}");
        }
        for t in ["y", "yes", "on", "ON"] {
            assert_eq!(plain(t, Schema::V2), Ok("bool:true".to_string()), "{t}");
        }
    }

    /// A binary literal past `i64` is still an integer (Go's `ParseUint` with base 0).
    #[test]
    fn a_binary_literal_past_i64_is_an_unsigned_integer() {
        let ones = format!("0b{}", "1".repeat(64));
        assert_eq!(plain(&ones, Schema::V2), Ok(format!("int:{}", u64::MAX)));
        let hex = "0xFFFFFFFFFFFFFFFF";
        assert_eq!(plain(hex, Schema::V2), Ok(format!("int:{}", u64::MAX)));
        assert_eq!(plain("0b101", Schema::V2), Ok("int:5".to_string()));
    }

    #[test]
    fn floats_with_a_sign_and_no_integer_part() {
        assert_eq!(plain("-.5", Schema::V2), Ok(float(-0.5)));
        assert_eq!(plain("+.25e1", Schema::V2), Ok(float(2.5)));
        assert_eq!(plain(".5", Schema::V2), Ok(float(0.5)));
        assert_eq!(plain("1.", Schema::V2), Ok(float(1.0)));
        assert_eq!(plain("-.", Schema::V2), Ok("str:-.".to_string()));
    }

    /// `!!float 1` is the float 1; `!!timestamp` on a date is accepted (a string in v2, a timestamp in v3).
    #[test]
    fn tagged_floats_and_timestamps() {
        assert_eq!(tagged("1", "float", Schema::V2), Ok(float(1.0)));
        assert_eq!(tagged("1.5", "float", Schema::V2), Ok(float(1.5)));
        assert_eq!(tagged("2001-12-14", "timestamp", Schema::V2), Ok("str:2001-12-14".to_string()));
        assert_eq!(tagged("2001-12-14", "timestamp", Schema::V3), Ok("ts".to_string()));
        assert!(tagged("hello", "timestamp", Schema::V2).is_err());
        assert!(tagged("x", "float", Schema::V2).is_err());
    }

    #[test]
    fn v3_reads_dates_as_timestamps_and_v2_as_strings() {
        assert_eq!(plain("2001-12-14", Schema::V3), Ok("ts".to_string()));
        assert_eq!(plain("2001-12-14t21:59:43.10-05:00", Schema::V3), Ok("ts".to_string()));
        assert_eq!(plain("2001-12-14", Schema::V2), Ok("str:2001-12-14".to_string()));
        assert_eq!(plain("20011-2-14", Schema::V3), Ok("str:20011-2-14".to_string()));
    }

    /// Aliases of sequences nest when expanded: past 500 levels the document cannot be written as Go values.
    #[test]
    fn sequences_nested_past_500_levels_by_aliases_are_refused() {
        let mut text = String::from("a0: &a0 [x]\n");
        for i in 1..=600 {
            text.push_str(&format!("a{i}: &a{i} [*a{}]\n", i - 1));
        }
        let stream = parse_stream(&text, &Limits::default());
        assert!(stream.errors.is_empty(), "{:?}", stream.errors);
        let err = go_value(&stream.docs[0], Schema::V2, 10_000_000).err();
        assert_eq!(err.as_deref(), Some("nested deeper than 500 levels after alias expansion"));
        // 400 levels are fine.
        let short: String = text.lines().take(400).map(|l| format!("{l}\n")).collect();
        let stream = parse_stream(&short, &Limits::default());
        assert!(go_value(&stream.docs[0], Schema::V2, 10_000_000).is_ok());
    }
}

mod lines {
    //! Where documents and nodes end, and how a file is split into documents.
    use crate::manifest::load_file;
    use crate::manifest::yaml::{Limits, parse_stream};

    fn pa(name: &str) -> String {
        format!(
            "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: {name}\n  namespace: a\nspec:\n  mtls:\n    mode: STRICT\n"
        )
    }

    /// An object ends at its last line of content: comments and blank lines before the next `---` are not part
    /// of it (a fix or a related object's span never takes them).
    #[test]
    fn an_object_ends_at_its_last_content_line() {
        let text = format!("{}# about the next one\n\n# more\n---\n{}", pa("one"), pa("two"));
        let f = load_file("t.yaml", text.as_bytes(), &Limits::default());
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        assert_eq!((f.objects[0].line, f.objects[0].end_line), (1, 8));
        assert_eq!((f.objects[1].line, f.objects[1].end_line), (13, 20));
    }

    /// A node ends on the line of its last visible character, not on the blank lines after it.
    #[test]
    fn a_block_scalar_ends_at_its_last_text_line() {
        let text = "a: |\n  x\n  y\n\n\nb: [1,\n  2]   \n\nc: 1\n";
        let stream = parse_stream(text, &Limits::default());
        let doc = &stream.docs[0];
        let root = doc.root.unwrap_or_else(|| panic!("no root"));
        let end = |k: &str| doc.node(doc.get(root, k).unwrap_or_else(|| panic!("{k}"))).end_line;
        assert_eq!(end("a"), 3);
        assert_eq!(end("b"), 7);
        assert_eq!(end("c"), 9);
    }

    /// A `%YAML` directive belongs to the document after it, even with blank lines or comments before that
    /// document's `---`: both documents are read, without errors.
    #[test]
    fn a_directive_belongs_to_the_next_document_across_blank_lines_and_comments() {
        for between in ["\n", "# the next one\n", "\n# c\n\n"] {
            let text = format!("{}---\n%YAML 1.1\n{between}---\n{}", pa("one"), pa("two"));
            let f = load_file("t.yaml", text.as_bytes(), &Limits::default());
            assert!(f.errors.is_empty(), "{between:?}: {:?}", f.errors);
            let names: Vec<&str> = f.objects.iter().map(|o| o.name.as_str()).collect();
            assert_eq!(names, ["one", "two"], "{between:?}");
        }
    }
}

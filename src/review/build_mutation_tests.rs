//! Tests of `detect_renames` (directory mode's rename detection), written for issue 15's mutation testing of
//! `src/review/build.rs`: identical content pairs first, then the same file name with at least half the lines
//! alike, the most alike winning; a large set of unpaired files skips the similarity pass.

use super::*;

fn file(path: &str, text: &str) -> TreeFile {
    TreeFile { path: path.into(), id: crate::finding::stable_hash(text), bytes: text.as_bytes().into() }
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

const APP: &str = "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\nf: 6\ng: 7\nh: 8\n";

#[test]
fn identical_content_pairs_whatever_the_name() {
    let base = [file("a/x.yaml", APP), file("keep.yaml", "k: 1\n"), file("gone.yaml", "only: base\n")];
    let head = [file("b/y.yaml", APP), file("keep.yaml", "k: 1\n"), file("new.yaml", "only: head\n")];
    assert_eq!(detect_renames(&base, &head), pairs(&[("a/x.yaml", "b/y.yaml")]));
    // A file on both sides is no rename even when its content moved elsewhere.
    let base = [file("x.yaml", APP), file("y.yaml", "y: 1\n")];
    let head = [file("x.yaml", "x: 2\n"), file("y.yaml", APP)];
    assert_eq!(detect_renames(&base, &head), vec![]);
}

#[test]
fn an_edited_file_pairs_with_the_most_alike_of_the_same_name() {
    let edited = APP.replace("c: 3", "c: 30");
    let more = APP.replace("c: 3", "c: 30").replace("d: 4", "d: 40").replace("e: 5", "e: 50");
    let base = [file("old/app.yaml", APP)];
    let head = [file("new/app.yaml", &more), file("other/app.yaml", &edited), file("new/ap.yaml", APP.trim_end())];
    assert_eq!(detect_renames(&base, &head), pairs(&[("old/app.yaml", "other/app.yaml")]));
    // Half the lines alike is enough (ratio 0.5), fewer is not.
    let base = [file("old/app.yaml", "a: 1\nb: 2\n")];
    assert_eq!(
        detect_renames(&base, &[file("new/app.yaml", "a: 1\nx: 9\n")]),
        pairs(&[("old/app.yaml", "new/app.yaml")])
    );
    assert_eq!(detect_renames(&base, &[file("new/app.yaml", "a: 1\nx: 9\ny: 8\nz: 7\n")]), vec![]);
    // Output sorted by base path.
    let base = [file("z/one.yaml", "one: 1\n"), file("a/two.yaml", "two: 2\n")];
    let head = [file("y/one.yaml", "one: 1\n"), file("b/two.yaml", "two: 2\n")];
    assert_eq!(detect_renames(&base, &head), pairs(&[("a/two.yaml", "b/two.yaml"), ("z/one.yaml", "y/one.yaml")]));
}

#[test]
fn many_unpaired_files_skip_the_similarity_pass() {
    // 101 base-only x 100 head-only files (10 100 pairs, over the bound of 10 000): the edited app.yaml is not
    // paired; with one file fewer on the base side (10 000) it is.
    let mut base: Vec<TreeFile> = (0..100).map(|i| file(&format!("b{i}.yaml"), &format!("b: {i}\n"))).collect();
    base.push(file("old/app.yaml", APP));
    let mut head: Vec<TreeFile> = (0..99).map(|i| file(&format!("h{i}.yaml"), &format!("h: {i}\n"))).collect();
    head.push(file("new/app.yaml", &APP.replace("c: 3", "c: 30")));
    assert_eq!(detect_renames(&base, &head), vec![]);
    base.remove(0);
    assert_eq!(detect_renames(&base, &head), pairs(&[("old/app.yaml", "new/app.yaml")]));
}

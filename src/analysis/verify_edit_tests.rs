//! Tests of how fix candidates are told apart (issue 15: `same_edit` returning `true` survived, which would keep
//! only the first candidate of a group).

use super::same_edit;
use crate::finding::Fix;

fn fix(description: &str, path: &str, start: usize, end: usize, replacement: &str) -> Fix {
    Fix {
        description: description.into(),
        path: path.into(),
        start_line: start,
        end_line: end,
        replacement: replacement.into(),
    }
}

#[test]
fn candidates_are_the_same_edit_only_when_path_lines_and_text_agree() {
    let a = fix("set mode STRICT", "a.yaml", 3, 4, "    mode: STRICT");
    // The description is not part of the edit.
    assert!(same_edit(&a, &fix("another description", "a.yaml", 3, 4, "    mode: STRICT")));
    assert!(same_edit(&a, &a.clone()));
    // Any of the four parts differing makes another edit.
    assert!(!same_edit(&a, &fix("set mode STRICT", "b.yaml", 3, 4, "    mode: STRICT")));
    assert!(!same_edit(&a, &fix("set mode STRICT", "a.yaml", 2, 4, "    mode: STRICT")));
    assert!(!same_edit(&a, &fix("set mode STRICT", "a.yaml", 3, 5, "    mode: STRICT")));
    assert!(!same_edit(&a, &fix("set mode STRICT", "a.yaml", 3, 4, "    mode: PERMISSIVE")));
}

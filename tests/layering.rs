//! The module graph among the core rooms has no circle and follows the layering of the developers' guide: data
//! flows manifest/settings/finding -> mesh -> posture -> context -> rules -> reanalysis -> fix/analysis -> review.
//!
//! The graph is read from the sources: the modules `src/lib.rs` declares, followed through `mod x;` declarations
//! (and `#[path]`), leaving out modules declared under `#[cfg(test)]` and `#[cfg(test)]` items (test code may reach
//! up: a rule's tests build meshes through the analysis). Every `crate::<room>` (and `crate::{a, b}`, and `super::`
//! chains that reach the crate root) in the rest is an edge from the file's room to that room.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The core rooms by layer: a room may use rooms of its own layer or below, never above, and the graph among them
/// has no circle (that also covers rooms of one layer).
const LAYERS: &[&[&str]] = &[
    &["finding", "manifest", "settings", "validation"],
    &["mesh"],
    &["plan", "posture"],
    &["context"],
    &["rules"],
    &["reanalysis"],
    &["fix", "analysis"],
    &["review"],
];

fn layer(room: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&room))
}

/// The text with comments removed and string and character literals blanked (same length: offsets still point at
/// the same places in the original).
fn blank(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let blank_range = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = src[i..].find('\n').map(|e| i + e).unwrap_or(b.len());
                blank_range(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let (mut depth, mut j) = (1, i + 2);
                while j < b.len() && depth > 0 {
                    if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                        depth += 1;
                        j += 2;
                    } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                        depth -= 1;
                        j += 2;
                    } else {
                        j += 1;
                    }
                }
                blank_range(&mut out, i, j);
                i = j;
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let hashes = b[i + 1..].iter().take_while(|c| **c == b'#').count();
                if b.get(i + 1 + hashes) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let close = format!("\"{}", "#".repeat(hashes));
                let body = i + 2 + hashes;
                let end = src[body..].find(&close).map(|e| body + e + close.len()).unwrap_or(b.len());
                blank_range(&mut out, body, end - close.len().min(end - body));
                i = end;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                blank_range(&mut out, i + 1, j);
                i = j + 1;
            }
            b'\'' => {
                // A character literal ('x', '\n', '\u{..}'), else a lifetime.
                let end = if b.get(i + 1) == Some(&b'\\') {
                    src[i + 2..].find('\'').map(|e| i + 2 + e)
                } else {
                    let c = src[i + 1..].chars().next().map(char::len_utf8).unwrap_or(1);
                    (b.get(i + 1 + c) == Some(&b'\'')).then_some(i + 1 + c)
                };
                match end {
                    Some(e) => {
                        blank_range(&mut out, i + 1, e);
                        i = e + 1;
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The end of the item starting at `from` (after its attributes): its `;` or its closing brace.
fn item_end(t: &[u8], from: usize) -> usize {
    let mut depth = 0usize;
    let mut i = from;
    while i < t.len() {
        match t[i] {
            b'{' | b'(' | b'[' => depth += 1,
            b'}' | b')' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 && t[i] == b'}' {
                    return i + 1;
                }
            }
            b';' if depth == 0 => return i + 1,
            _ => {}
        }
        i += 1;
    }
    t.len()
}

/// The end of the attribute `#[...]` starting at `at`.
fn attr_end(t: &[u8], at: usize) -> usize {
    let mut depth = 0usize;
    for (i, c) in t.iter().enumerate().skip(at + 1) {
        match c {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    t.len()
}

fn skip_ws(t: &[u8], mut i: usize) -> usize {
    while i < t.len() && t[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// A file's non-test text (blanked, `#[cfg(test)]` items cut out) and the file modules it declares outside test
/// code: (name, `#[path]` if any).
fn non_test(raw: &str) -> (String, Vec<(String, Option<String>)>) {
    let blanked = blank(raw);
    let t = blanked.as_bytes();
    let mut keep = vec![true; t.len()];
    let mut mods = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if t[i] != b'#' || t.get(i + 1) != Some(&b'[') {
            i += 1;
            continue;
        }
        // A run of attributes, then the item they apply to.
        let start = i;
        let (mut test, mut path) = (false, None);
        let mut j = i;
        while j < t.len() && t[j] == b'#' && t.get(j + 1) == Some(&b'[') {
            let end = attr_end(t, j);
            let attr: String = blanked[j + 2..end - 1].chars().filter(|c| !c.is_whitespace()).collect();
            if attr == "cfg(test)" {
                test = true;
            }
            if attr.starts_with("path=") {
                // The path's text is blanked: read it from the original at the same place.
                let text = &raw[j..end];
                path = text.split('"').nth(1).map(str::to_string);
            }
            j = skip_ws(t, end);
        }
        let item = j;
        let end = item_end(t, item);
        if let Some((name, file_mod)) = mod_decl(&blanked[item..end]) {
            if file_mod && !test {
                mods.push((name, path));
            }
        }
        if test {
            keep[start..end].iter_mut().for_each(|k| *k = false);
            i = end.max(start + 1);
        } else {
            // Inside a kept item (an inline module, an impl) test items are cut out too.
            i = item.max(start + 1);
        }
    }
    // Module declarations without attributes.
    let mut at = 0;
    while let Some(p) = blanked[at..].find("mod ") {
        let pos = at + p;
        at = pos + 4;
        let before_ok = pos == 0 || !(t[pos - 1].is_ascii_alphanumeric() || t[pos - 1] == b'_');
        if !before_ok || !keep[pos] {
            continue;
        }
        let end = item_end(t, pos);
        if let Some((name, true)) = mod_decl(&blanked[pos..end]) {
            if !mods.iter().any(|(n, _)| *n == name) {
                mods.push((name, None));
            }
        }
    }
    let text: String = blanked.chars().zip(keep_chars(&blanked, &keep)).map(|(c, k)| if k { c } else { ' ' }).collect();
    (text, mods)
}

/// `keep` per char (it is per byte).
fn keep_chars(s: &str, keep: &[bool]) -> Vec<bool> {
    s.char_indices().map(|(i, _)| keep[i]).collect()
}

/// `[pub[(..)]] mod name;` (a file module: true) or `mod name { .. }` (inline: false).
fn mod_decl(item: &str) -> Option<(String, bool)> {
    let mut s = item.trim_start();
    if let Some(rest) = s.strip_prefix("pub") {
        s = rest.trim_start();
        if s.starts_with('(') {
            s = s[s.find(')')? + 1..].trim_start();
        }
    }
    let rest = s.strip_prefix("mod")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim_start();
    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    if name.is_empty() {
        return None;
    }
    let after = rest[name.len()..].trim_start();
    Some((name, after.starts_with(';')))
}

/// The rooms a text refers to: `crate::x`, `crate::{x, y::z}`, and `super::` chains `depth` deep (the file's module
/// depth below the crate root) that reach the root.
fn references(text: &str, depth: usize) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    let mut roots: Vec<usize> = Vec::new();
    let t = text.as_bytes();
    let mut at = 0;
    while let Some(p) = text[at..].find("crate::") {
        let pos = at + p;
        at = pos + 7;
        if pos > 0 && (t[pos - 1].is_ascii_alphanumeric() || t[pos - 1] == b'_' || t[pos - 1] == b'$') {
            continue;
        }
        roots.push(pos + 7);
    }
    if depth > 0 {
        let chain = "super::".repeat(depth);
        let mut at = 0;
        while let Some(p) = text[at..].find(&chain) {
            let pos = at + p;
            at = pos + chain.len();
            let before_ok =
                pos == 0 || !(t[pos - 1].is_ascii_alphanumeric() || t[pos - 1] == b'_' || t[pos - 1] == b':');
            if before_ok && !text[pos + chain.len()..].starts_with("super::") {
                roots.push(pos + chain.len());
            }
        }
    }
    for r in roots {
        let rest = &text[r..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group.
            let mut depth = 0usize;
            let mut name_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => name_start = true,
                    c if c.is_whitespace() => {}
                    _ if name_start && depth == 0 => {
                        let name = ident(&group[i..]);
                        if !name.is_empty() && name != "self" {
                            out.insert(name);
                        }
                        name_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// Edges (from room, to room) with the file they come from, of the crate whose files are `files` (path under `src/`
/// -> text), starting at `lib.rs`.
fn edges(files: &BTreeMap<String, String>) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    // (file, room, module depth, whether the file owns a directory of that name for its modules)
    let mut todo: Vec<(String, Option<String>, usize)> = vec![("lib.rs".to_string(), None, 0)];
    let mut seen = BTreeSet::new();
    while let Some((file, room, depth)) = todo.pop() {
        if !seen.insert(file.clone()) {
            continue;
        }
        let Some(raw) = files.get(&file) else { continue };
        let (text, mods) = non_test(raw);
        if let Some(room) = &room {
            for to in references(&text, depth) {
                if to != *room {
                    out.entry((room.clone(), to)).or_insert_with(|| file.clone());
                }
            }
        }
        let (dir, name) = match file.rsplit_once('/') {
            Some((d, n)) => (format!("{d}/"), n.to_string()),
            None => (String::new(), file.clone()),
        };
        let owns = name == "lib.rs" || name == "mod.rs";
        let sub = if owns { dir.clone() } else { format!("{dir}{}/", name.trim_end_matches(".rs")) };
        for (m, path) in mods {
            let child_room = room.clone().unwrap_or_else(|| m.clone());
            let child = match path {
                Some(p) => format!("{dir}{p}"),
                None if files.contains_key(&format!("{sub}{m}.rs")) => format!("{sub}{m}.rs"),
                None => format!("{sub}{m}/mod.rs"),
            };
            todo.push((child, Some(child_room), depth + 1));
        }
    }
    out
}

/// What is wrong with the core rooms' graph: edges up the layers, and circles.
fn violations(edges: &BTreeMap<(String, String), String>) -> Vec<String> {
    let mut out = Vec::new();
    let core: BTreeMap<&str, usize> =
        edges.keys().flat_map(|(a, b)| [a.as_str(), b.as_str()]).filter_map(|r| Some((r, layer(r)?))).collect();
    for ((from, to), file) in edges {
        if let (Some(&lf), Some(&lt)) = (core.get(from.as_str()), core.get(to.as_str()))
            && lt > lf
        {
            out.push(format!("{from} -> {to} (src/{file}) goes up the layers: {to} is above {from}"));
        }
    }
    // Circles among the core rooms (depth-first search from each room).
    let next = |r: &str| -> Vec<&str> {
        edges.keys().filter(|(a, b)| a == r && core.contains_key(b.as_str())).map(|(_, b)| b.as_str()).collect()
    };
    for &start in core.keys() {
        let mut stack: Vec<(&str, Vec<&str>)> = vec![(start, vec![start])];
        let mut visited = BTreeSet::new();
        while let Some((r, path)) = stack.pop() {
            for n in next(r) {
                if n == start {
                    let mut circle = path.clone();
                    circle.push(start);
                    let files: Vec<String> = circle
                        .windows(2)
                        .map(|w| format!("src/{}", edges[&(w[0].to_string(), w[1].to_string())]))
                        .collect();
                    out.push(format!("import circle {} (via {})", circle.join(" -> "), files.join(", ")));
                    break;
                }
                if visited.insert(n) {
                    let mut p = path.clone();
                    p.push(n);
                    stack.push((n, p));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn read_tree(dir: &Path, rel: &str, out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let path = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
        if p.is_dir() {
            read_tree(&p, &path, out);
        } else if name.ends_with(".rs") {
            out.insert(path, std::fs::read_to_string(&p).unwrap_or_default());
        }
    }
}

#[test]
fn core_rooms_follow_the_layering_without_circles() {
    let mut files = BTreeMap::new();
    read_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), "", &mut files);
    let edges = edges(&files);
    // The graph was read: the pipeline's edges are there.
    for (a, b) in [("mesh", "manifest"), ("rules", "context"), ("context", "posture"), ("review", "analysis")] {
        assert!(edges.contains_key(&(a.to_string(), b.to_string())), "no edge {a} -> {b} found: {edges:?}");
    }
    let problems = violations(&edges);
    assert!(problems.is_empty(), "the core module graph breaks the layering:\n{}", problems.join("\n"));
}

fn tree(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect()
}

#[test]
fn a_back_edge_or_a_circle_is_named() {
    let lib = "pub mod mesh;\npub mod rules;\n#[cfg(test)]\nmod testing;\n";
    // rules -> mesh is fine; mesh -> rules goes up the layers and closes a circle.
    let files = tree(&[
        ("lib.rs", lib),
        ("mesh.rs", "use crate::manifest::Object;\nfn f() { let _ = crate::rules::RULES; }\n"),
        ("rules/mod.rs", "use crate::mesh::Mesh;\npub mod tis0206;\n"),
        ("rules/tis0206.rs", "use super::super::context::MeshContext;\n"),
        ("testing.rs", "use crate::review::Review;\n"),
    ]);
    let e = edges(&files);
    assert!(e.contains_key(&("rules".into(), "context".into())), "super:: chains reach the root: {e:?}");
    assert!(!e.keys().any(|(a, _)| a == "testing"), "modules declared under cfg(test) are not read");
    let v = violations(&e);
    assert!(v.iter().any(|m| m.starts_with("mesh -> rules (src/mesh.rs) goes up")), "{v:?}");
    assert!(v.iter().any(|m| m.starts_with("import circle mesh -> rules -> mesh")), "{v:?}");
    // Test code, comments and strings do not count; grouped imports do.
    let files = tree(&[
        ("lib.rs", "pub mod mesh;\n"),
        (
            "mesh.rs",
            "// crate::rules\nconst S: &str = \"crate::rules\";\nuse crate::{finding, manifest::Object};\n\
             #[cfg(test)]\nmod tests {\n    use crate::rules::RULES;\n    fn f() -> char { '{' }\n}\n\
             #[cfg(test)]\n#[path = \"mesh_tests.rs\"]\nmod more;\n",
        ),
        ("mesh_tests.rs", "use crate::review::Review;\n"),
    ]);
    let e = edges(&files);
    let rooms: Vec<&str> = e.keys().map(|(_, b)| b.as_str()).collect();
    assert_eq!(rooms, ["finding", "manifest"]);
    assert!(violations(&e).is_empty());
    // A `#[path]` module outside test code is read.
    let files = tree(&[
        ("lib.rs", "pub mod fix;\n"),
        ("fix.rs", "#[path = \"fix_x.rs\"]\nmod x;\n"),
        ("fix_x.rs", "use crate::review::R;\n"),
    ]);
    assert!(violations(&edges(&files)).iter().any(|m| m.starts_with("fix -> review (src/fix_x.rs)")));
}

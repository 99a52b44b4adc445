//! The layers of `src/lib.rs` hold in the code: no module imports one from
//! a layer above its own.
//!
//! Every `.rs` file under `src/` is read as text (comments and string
//! literals left out); each `crate::` path in it, and each `super::` path
//! that climbs to the crate root, names a top-level module, or an item the
//! crate root re-exports (`crate::StreamReader`), which counts as the layer
//! of the module it comes from. A file belongs to the layer of its
//! top-level module (`src/reader/peek.rs` to `reader`). `error` stands
//! beside every layer: anything may import it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The layers, bottom-up, as `src/lib.rs` lists them. A module may import
/// from its own layer and the ones below it.
const LAYERS: &[&[&str]] = &[
    &["buffer", "io", "future"],
    &["codec"],
    &["reader", "writer"],
    &["framed"],
    &["frame"],
];

/// Importable from any layer.
const BESIDE: &[&str] = &["error"];

#[test]
#[cfg_attr(
    miri,
    ignore = "a text check of the sources, with no unsafe code to verify; too slow under Miri"
)]
fn no_module_imports_from_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
    let layering = Layering::from_lib(&lib);
    let mut violations = Vec::new();
    for path in rust_files(&src) {
        let text = fs::read_to_string(&path).unwrap();
        let rel = path.strip_prefix(&src).unwrap();
        violations.extend(layering.check(rel, &text));
    }
    assert!(
        violations.is_empty(),
        "imports from a higher layer (see the layer list in src/lib.rs):\n{}",
        violations.join("\n")
    );
}

/// The check can fail: an upward import, direct or through a crate-root
/// re-export, grouped or through `super::`, is reported with its file and
/// line; downward imports and `error` are not.
#[test]
#[cfg_attr(
    miri,
    ignore = "a text check of the sources, with no unsafe code to verify; too slow under Miri"
)]
fn an_upward_import_is_reported() {
    let lib = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let layering = Layering::from_lib(&lib);
    let codec = Path::new("codec/decoder.rs");
    let fine = "use crate::buffer::Buffer;\nuse crate::{Error, Bytes};\n// use crate::reader::X;\nconst S: &str = \"crate::reader\";\n";
    assert_eq!(layering.check(codec, fine), Vec::<String>::new());
    for (text, line) in [
        ("\n\nuse crate::reader::StreamReader;\n", 3),
        ("use crate::StreamReader;\n", 1),
        ("use crate::{\n    Error,\n    framed::FramedRead,\n};\n", 3),
        ("fn f(_: &crate::StreamWriter<()>) {}\n", 1),
    ] {
        let found = layering.check(codec, text);
        assert_eq!(found.len(), 1, "{text:?}: {found:?}");
        assert!(
            found[0].starts_with(&format!("src/codec/decoder.rs:{line}:")),
            "{found:?}"
        );
    }
    // `super::` from a top-level module's own file climbs to the root ...
    let found = layering.check(Path::new("codec/mod.rs"), "use super::StreamReader;\n");
    assert_eq!(found.len(), 1, "{found:?}");
    // ... but inside an inline module it stays in the file.
    let nested = "mod tests {\n    use super::*;\n    use super::StreamReader;\n}\n";
    assert_eq!(
        layering.check(Path::new("codec/mod.rs"), nested),
        Vec::<String>::new()
    );
}

struct Layering {
    /// Top-level module -> its layer (`None`: beside every layer).
    modules: BTreeMap<String, Option<usize>>,
    /// Name re-exported at the crate root -> the top-level module it comes
    /// from (`None`: from another crate, such as `Bytes`).
    reexports: BTreeMap<String, Option<String>>,
}

impl Layering {
    fn from_lib(lib: &str) -> Layering {
        let mut modules = BTreeMap::new();
        for (i, layer) in LAYERS.iter().enumerate() {
            for m in *layer {
                modules.insert(m.to_string(), Some(i));
            }
        }
        for m in BESIDE {
            modules.insert(m.to_string(), None);
        }
        let code = strip(lib);
        let words: Vec<&str> = code
            .split(|c: char| c.is_whitespace() || c == ';')
            .filter(|w| !w.is_empty())
            .collect();
        // Every module lib.rs declares has its place in the list.
        for w in words.windows(2) {
            if w[0] == "mod" && !modules.contains_key(w[1]) {
                panic!("module `{}` is in no layer: add it to LAYERS", w[1]);
            }
        }
        let mut reexports = BTreeMap::new();
        for stmt in code.split(';') {
            let Some(at) = stmt.find("pub use ") else {
                continue;
            };
            let path = stmt[at + "pub use ".len()..].trim();
            let (first, rest) = path.split_once("::").unwrap_or((path, ""));
            let from = modules.contains_key(first).then(|| first.to_string());
            for name in rest.split(|c: char| "{},".contains(c) || c.is_whitespace()) {
                let name = name.rsplit("::").next().unwrap();
                if !name.is_empty() {
                    reexports.insert(name.to_string(), from.clone());
                }
            }
        }
        Layering { modules, reexports }
    }

    /// The upward imports in `text`, the file at `rel` under `src/`.
    fn check(&self, rel: &Path, text: &str) -> Vec<String> {
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let top = parts[0].trim_end_matches(".rs").to_string();
        if top == "lib" {
            return Vec::new(); // the crate root re-exports every layer
        }
        let layer = *self
            .modules
            .get(&top)
            .unwrap_or_else(|| panic!("src/{} is in no layer", rel.display()));
        // `super::` at file scope reaches the root from `src/x.rs` and
        // `src/x/mod.rs` only.
        let at_top = parts.len() == 1 || parts.last().map(String::as_str) == Some("mod.rs");
        let code = strip(text);
        let mut found = Vec::new();
        let mut depth = 0usize;
        let mut inline_mods: Vec<usize> = Vec::new();
        let bytes = code.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'{' => depth += 1,
                b'}' => {
                    depth = depth.saturating_sub(1);
                    if inline_mods.last() == Some(&depth) {
                        inline_mods.pop();
                    }
                }
                _ => {}
            }
            let ident_before = i > 0 && (is_ident(bytes[i - 1]) || bytes[i - 1] == b'$');
            if !ident_before && bytes[i..].starts_with(b"mod ") {
                let rest = &code[i + 4..];
                let name_len = rest.bytes().take_while(|&b| is_ident(b)).count();
                if rest[name_len..].trim_start().starts_with('{') {
                    inline_mods.push(depth);
                }
            }
            let root_path = if ident_before {
                None
            } else if bytes[i..].starts_with(b"crate::") {
                Some(i + "crate::".len())
            } else if bytes[i..].starts_with(b"super::") && at_top && inline_mods.is_empty() {
                Some(i + "super::".len())
            } else {
                None
            };
            // `pub(in crate::x)` is a visibility, not an import.
            let is_import = root_path.is_some() && !code[..i].trim_end().ends_with("(in");
            if let Some(start) = root_path.filter(|_| is_import) {
                for (offset, name) in first_segments(&code[start..]) {
                    let line = code[..start + offset].matches('\n').count() + 1;
                    let at = format!("src/{}:{line}", rel.display());
                    let (target, theirs) = match self.resolve(&name) {
                        Some(found) => found,
                        None => {
                            found.push(format!(
                                "{at}: `crate::{name}` is neither a module in LAYERS nor a crate-root re-export"
                            ));
                            continue;
                        }
                    };
                    let upward = match (layer, theirs) {
                        (_, None) => false,
                        (None, Some(_)) => true,
                        (Some(mine), Some(theirs)) => theirs > mine,
                    };
                    if upward {
                        found.push(format!(
                            "{at}: `{top}` ({}) imports `crate::{name}` from `{target}` ({}), a layer above",
                            layer_name(layer),
                            layer_name(theirs)
                        ));
                    }
                }
            }
            i += 1;
        }
        found
    }

    /// The module a name after `crate::` comes from, and its layer (`None`
    /// for `error` and other crates' items); `None` for an unknown name.
    fn resolve(&self, name: &str) -> Option<(String, Option<usize>)> {
        if let Some(layer) = self.modules.get(name) {
            return Some((name.to_string(), *layer));
        }
        match self.reexports.get(name)? {
            Some(module) => Some((module.clone(), self.modules[module])),
            None => Some((name.to_string(), None)),
        }
    }
}

fn layer_name(layer: Option<usize>) -> String {
    match layer {
        Some(l) => format!("layer {l}: {}", LAYERS[l].join(", ")),
        None => "beside the layers".to_string(),
    }
}

/// The first segment of each path a `crate::` prefix starts, with its
/// offset in `rest`: `reader` for `reader::X`, `Error` and `framed` for
/// `{Error, framed::FramedRead}`.
fn first_segments(rest: &str) -> Vec<(usize, String)> {
    let b = rest.as_bytes();
    let ident_at = |at: usize| -> (usize, String) {
        let at = at
            + b[at..]
                .iter()
                .take_while(|c| c.is_ascii_whitespace())
                .count();
        let name = b[at..]
            .iter()
            .take_while(|&&c| is_ident(c))
            .map(|&c| char::from(c));
        (at, name.collect())
    };
    let (at, first) = ident_at(0);
    if !first.is_empty() || b.get(at) != Some(&b'{') {
        return vec![(at, first)];
    }
    // A group: the first segment of each item at its top level.
    let mut names = vec![ident_at(at + 1)];
    let mut depth = 0;
    for (i, &c) in b.iter().enumerate().skip(at + 1) {
        match c {
            b'{' => depth += 1,
            b'}' if depth == 0 => break,
            b'}' => depth -= 1,
            b',' if depth == 0 => names.push(ident_at(i + 1)),
            _ => {}
        }
    }
    names.retain(|(_, name)| !name.is_empty() && name != "self");
    names
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `text` with comments and the insides of string and character literals
/// blanked out (newlines kept, so line numbers still hold).
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let blank = |c: u8| if c == b'\n' { b'\n' } else { b' ' };
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut nest = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    nest += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    nest -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if nest == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if b[i] == b'r' && raw_string_at(b, i) {
            // A raw string: r"...", r#"..."#, br"...".
            let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat(b'#').take(hashes));
            out.push(b'r');
            i += 1 + hashes + 1;
            out.extend(std::iter::repeat(b' ').take(hashes + 1));
            while i < b.len() && !b[i..].starts_with(&close) {
                out.push(blank(b[i]));
                i += 1;
            }
            out.extend(std::iter::repeat(b' ').take(close.len()));
            i += close.len();
        } else if b[i] == b'"' {
            out.push(b'"');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    out.push(b' ');
                    i += 1;
                }
                if i < b.len() {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
            out.push(b'"');
            i += 1;
        } else if b[i] == b'\'' && (b.get(i + 1) == Some(&b'\\') || b.get(i + 2) == Some(&b'\'')) {
            // A character literal (a lifetime has no closing quote).
            out.push(b'\'');
            i += 1;
            while i < b.len() && b[i] != b'\'' {
                if b[i] == b'\\' {
                    out.push(b' ');
                    i += 1;
                }
                out.push(b' ');
                i += 1;
            }
            out.push(b'\'');
            i += 1;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out.truncate(text.len());
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether the `r` at `i` starts a raw string literal.
fn raw_string_at(b: &[u8], i: usize) -> bool {
    let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
    let prefix_ok = match i {
        0 => true,
        1 => !is_ident(b[0]) || b[0] == b'b',
        _ => !is_ident(b[i - 1]) || (b[i - 1] == b'b' && !is_ident(b[i - 2])),
    };
    prefix_ok && b.get(i + 1 + hashes) == Some(&b'"')
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

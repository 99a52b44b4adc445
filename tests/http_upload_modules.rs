//! The upload example's modules (examples/file_upload) stay untangled: each
//! imports only from modules below it, so there is no cycle (multipart and
//! tus never import from server); temp files live in storage; the 413 for
//! a body over the limit is written in one place.
#![cfg(not(miri))]

use std::collections::BTreeSet;
use std::path::Path;

/// Bottom to top: a module may import from the ones before it only.
const ORDER: &[&str] = &[
    "idle",
    "http",
    "chunked",
    "storage",
    "exchange",
    "multipart",
    "tus",
    "server",
    "demo",
    "main",
];

fn source(module: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/file_upload");
    std::fs::read_to_string(dir.join(format!("{module}.rs"))).unwrap()
}

/// The example's modules a file names through `crate::` (plain paths and
/// `use crate::{a, b::c}` groups).
fn imports(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap()];
            for item in group.split(',') {
                let name = item.trim().split("::").next().unwrap().trim();
                out.insert(name.to_string());
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            out.insert(rest[..end].to_string());
        }
    }
    out.retain(|m| ORDER.contains(&m.as_str()));
    out
}

#[test]
fn every_module_imports_only_from_modules_below_it() {
    let found: BTreeSet<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/file_upload"))
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().into_string().unwrap();
                name.strip_suffix(".rs").map(str::to_string)
            })
            .collect();
    let listed: BTreeSet<String> = ORDER.iter().map(|m| m.to_string()).collect();
    assert_eq!(found, listed, "every module has its place in ORDER");
    for (at, module) in ORDER.iter().enumerate() {
        for imported in imports(&source(module)) {
            let their = ORDER.iter().position(|m| *m == imported).unwrap();
            assert!(
                their < at,
                "{module} imports {imported}, which is not below it"
            );
        }
    }
}

#[test]
fn temp_files_live_in_storage_and_the_413_is_written_once() {
    for module in ORDER {
        let text = source(module);
        assert_eq!(
            text.contains("pub struct TempFile"),
            *module == "storage",
            "TempFile is defined in storage only ({module})"
        );
        let limit_answers = text.matches("is over the limit of").count();
        assert_eq!(
            limit_answers,
            usize::from(*module == "exchange"),
            "the 413 text is written once, in exchange::too_large ({module})"
        );
    }
}

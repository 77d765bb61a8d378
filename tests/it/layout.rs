//! The architecture, checked: the dependency rule between the top-level modules (arrows point
//! down only; DESIGN.md, src/lib.rs), no web-framework or database crate in the core, and no
//! import circle among the modules of `src/http`. Read from the source, so a change that
//! breaks the rule fails here, not in review.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module's layer: a module may use only modules of a lower layer.
const LAYERS: [(&str, u8); 21] = [
    ("main", 12),
    ("cli", 11),
    ("app", 10),
    ("bootstrap", 10),
    ("http", 9),
    ("oidc", 8),
    ("rp_api", 8),
    ("authn", 7),
    ("identity", 6),
    ("consent", 6),
    ("audit", 5),
    ("otp", 5),
    ("backchannel", 5),
    ("crypto", 4),
    ("notify", 4),
    ("store", 3),
    ("metrics", 2),
    ("config", 2),
    ("clock", 1),
    ("ids", 1),
    ("lib", 13),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Code lines only: comments say which module owns what, and may name any.
fn code(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level module a file belongs to.
fn top(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

fn layer(m: &str) -> u8 {
    LAYERS
        .iter()
        .find(|(n, _)| *n == m)
        .unwrap_or_else(|| panic!("src/{m}: give the module a layer in tests/it/layout.rs"))
        .1
}

/// Every `crate::NAME` a piece of code uses.
fn crate_uses(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let name: String = code[i + 7..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

#[test]
fn arrows_point_down_only() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut wrong = Vec::new();
    for f in &files {
        let from = top(f);
        let text = code(&std::fs::read_to_string(f).unwrap());
        for to in crate_uses(&text) {
            if to != from && layer(&to) >= layer(&from) {
                wrong.push(format!("{} uses crate::{to}", f.display()));
            }
        }
        let core = !matches!(
            from.as_str(),
            "http" | "store" | "app" | "cli" | "main" | "lib"
        );
        for framework in ["axum::", "sqlx::", "redis::"] {
            if core && text.contains(framework) {
                wrong.push(format!("{} (core) uses {framework}", f.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the dependency rule is broken:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_import_circle_in_http() {
    let dir = src().join("http");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    let name = |p: &Path| p.file_stem().unwrap().to_string_lossy().to_string();
    let modules: BTreeSet<String> = files
        .iter()
        .map(|p| name(p))
        .filter(|n| n != "mod")
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let from = name(f);
        let text = code(&std::fs::read_to_string(f).unwrap());
        let mut to = BTreeSet::new();
        // `super::x::…`, `super::{x, y::…}` and `use super::x;`.
        for (i, _) in text.match_indices("super::") {
            let rest = &text[i + 7..];
            let names: Vec<String> = match rest.strip_prefix('{') {
                Some(group) => group
                    .split('}')
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(|n| n.trim().split("::").next().unwrap_or_default().to_string())
                    .collect(),
                None => vec![
                    rest.chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect(),
                ],
            };
            to.extend(
                names
                    .into_iter()
                    .filter(|n| modules.contains(n) && *n != from),
            );
        }
        edges.insert(from, to);
    }
    // Depth-first search for a cycle.
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == n) {
            let mut cycle = path[at..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in edges.keys() {
        if let Some(cycle) = visit(n, &edges, &mut Vec::new(), &mut done) {
            panic!("import circle in src/http: {}", cycle.join(" → "));
        }
    }
    assert!(edges.len() > 10, "the check saw the modules: {edges:?}");
}

//! Embeds every `policies/**/*.cases.json` (and the bundle each names), and every owner suite
//! `tests/owners/**/*.json`, into the conformance tests, so the same cases run natively and
//! compiled to wasm, where there is no file system.

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p.to_string_lossy().ends_with(".cases.json") {
            out.push(p);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let policies = root.join("policies");
    println!("cargo:rerun-if-changed=policies");
    let mut files = Vec::new();
    walk(&policies, &mut files);
    let mut src = String::from("pub const FIXTURES: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        let _ = writeln!(src, "    ({rel:?}, include_str!({:?})),", f.display().to_string());
    }
    src.push_str("];\n\npub fn bundle_text(path: &str) -> Option<&'static str> {\n    match path {\n");
    let mut bundles: Vec<PathBuf> = Vec::new();
    walk_json(&policies, &mut bundles);
    for b in &bundles {
        println!("cargo:rerun-if-changed={}", b.display());
        let rel = b.strip_prefix(&root).unwrap_or(b).display().to_string();
        let _ = writeln!(
            src,
            "        {rel:?} => Some(include_str!({:?})),",
            b.display().to_string()
        );
    }
    src.push_str("        _ => None,\n    }\n}\n");
    // Owner conformance suites (tests/owners/<owner>/*.json; see tests/common/owners.rs).
    let owners = root.join("tests").join("owners");
    println!("cargo:rerun-if-changed=tests/owners");
    let mut suites = Vec::new();
    walk_ext(&owners, ".json", &mut suites);
    src.push_str("\npub const OWNER_SUITES: &[(&str, &str)] = &[\n");
    for f in &suites {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        let _ = writeln!(src, "    ({rel:?}, include_str!({:?})),", f.display().to_string());
    }
    src.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("fixtures.rs");
    let _ = std::fs::write(out, src);
}

fn walk_json(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let s = p.to_string_lossy().to_string();
        if p.is_dir() {
            walk_json(&p, out);
        } else if s.ends_with(".json") && !s.ends_with(".cases.json") && !s.ends_with(".schema.json") {
            out.push(p);
        }
    }
}

fn walk_ext(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk_ext(&p, ext, out);
            println!("cargo:rerun-if-changed={}", p.display());
        } else if p.to_string_lossy().ends_with(ext) {
            out.push(p);
        }
    }
}

//! The fuzz targets on stable Rust: every file of the committed corpus (fuzz/corpus/<target>/),
//! then deterministic mutations of it, through the same target functions cargo-fuzz runs
//! (fuzz/src/lib.rs). A panic is a finding; the seed and iteration in the message reproduce it.
//! Longer runs: `FUZZ_SMOKE_ITERS=1000000 cargo test --release --test fuzz_smoke`.

#[path = "../fuzz/src/lib.rs"]
mod targets;
#[path = "common/xorshift.rs"]
mod xorshift;

use std::path::Path;

use xorshift::Rng;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files.iter().filter_map(|f| std::fs::read(f).ok()).collect()
}

const TOKENS: &[&[u8]] = &[
    b"/",
    b"..",
    b".",
    b"%2e",
    b"%2F",
    b"%5C",
    b"\\",
    b"%",
    b";",
    b"?",
    b"#",
    b"\0",
    b"\xff",
    b"\xc3\xa9",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"*",
    b"{**}",
    b"{*}",
    b"null",
    b"-1",
    b"1e999",
    b"\"\"",
    b"spiffe://",
    b"\n",
    b"[::1]",
    b"@",
];

/// One to four random edits: flip, insert a byte or a token, delete, duplicate, splice another
/// seed, truncate.
fn mutate(rng: &mut Rng, seed: &[u8], all: &[Vec<u8>]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(7) {
            0 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.insert(at, rng.next() as u8),
            2 => {
                let t = rng.pick(TOKENS);
                v.splice(at..at, t.iter().copied());
            }
            3 => {
                let end = (at + rng.below(16)).min(v.len());
                v.drain(at..end);
            }
            4 => {
                let end = (at + rng.below(32)).min(v.len());
                let chunk = v[at..end].to_vec();
                v.splice(at..at, chunk);
            }
            5 if !all.is_empty() => {
                let other = &all[rng.below(all.len())];
                let from = rng.below(other.len() + 1);
                let end = (from + rng.below(64)).min(other.len());
                v.splice(at..at, other[from..end].iter().copied());
            }
            _ => v.truncate(at),
        }
    }
    v
}

fn iters(default: usize) -> usize {
    std::env::var("FUZZ_SMOKE_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn run(target: &str, f: fn(&[u8]), n: usize, seed: u64) {
    let seeds = corpus(target);
    assert!(!seeds.is_empty(), "no corpus for {target}");
    for s in &seeds {
        f(s);
    }
    let mut rng = Rng::new(seed);
    for i in 0..n {
        let base = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, base, &seeds);
        let r = std::panic::catch_unwind(|| f(&input));
        assert!(
            r.is_ok(),
            "{target}: iteration {i} (seed {seed}) panicked on {:?}",
            String::from_utf8_lossy(&input)
        );
    }
}

#[test]
fn bundle_parser_survives_the_corpus_and_mutations() {
    run("bundle", targets::bundle, iters(5_000), 1);
}

#[test]
fn path_canonicalizer_survives_the_corpus_and_mutations() {
    run("path", targets::path, iters(100_000), 2);
}

#[test]
fn evaluator_survives_the_corpus_and_mutations() {
    run("evaluate", targets::evaluate, iters(10_000), 3);
}

#[test]
fn every_dialect_survives_odd_field_values() {
    run("fields", targets::fields, iters(5_000), 4);
}

#[test]
fn request_edge_survives_the_corpus_and_mutations() {
    run("incoming", targets::incoming_edge, iters(20_000), 5);
}

//! The owners' own tests, ported as data (tests/owners/<owner>/*.json, each citing the owner's
//! repository, commit and file): natively under `cargo test`, and compiled to wasm32 under Node
//! with wasm-bindgen-test. The Envoy run is tests/e2e/test_owners.py. Format:
//! tests/common/owners.rs.

mod common;

// One generated file embeds both the policies/ fixtures and the owner suites; each test binary
// reads one of the two.
#[allow(dead_code)]
mod fixtures {
    include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
}

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn every_owner_suite_decides_as_the_owner_does() {
    let mut failures = Vec::new();
    let mut tally = common::owners::Tally::new();
    for (file, text) in fixtures::OWNER_SUITES {
        common::owners::run(file, text, &mut failures, &mut tally);
    }
    let summary: Vec<String> = tally
        .iter()
        .map(|(owner, (cases, failed))| format!("{owner}: {} of {cases} pass", cases - failed))
        .collect();
    // Printed for README's conformance table (`cargo test --test owners -- --nocapture`).
    println!("owner conformance: {}", summary.join("; "));
    assert!(
        failures.is_empty(),
        "{} owner-derived cases failed ({}):\n{}",
        failures.len(),
        summary.join("; "),
        failures.join("\n")
    );
}

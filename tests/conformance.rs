//! Every `policies/**/*.cases.json` through the engine: natively under `cargo test`, and compiled
//! to wasm32 under Node with wasm-bindgen-test, proving the same decisions inside a wasm VM.

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
fn every_policy_fixture_decides_as_its_cases_say() {
    assert!(!fixtures::FIXTURES.is_empty(), "no fixtures found under policies/");
    let mut failures = Vec::new();
    let mut cases = 0;
    for (file, text) in fixtures::FIXTURES {
        cases += text.matches("\"expect\"").count();
        failures.extend(common::cases::run(file, text, fixtures::bundle_text));
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

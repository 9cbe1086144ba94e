//! The case files (`policies/<dialect>/<name>.cases.json`), run natively and in wasm: the format
//! and the check are the library's (`spiffe_authz::cases`, which the CLI's `test` uses too);
//! here, a failure becomes a readable line. The Envoy end-to-end tests read the same JSON.

use spiffe_authz::cases::CaseFile;
pub use spiffe_authz::cases::{Case, Mismatch};
use spiffe_authz::{Engine, Workload};

/// Runs one case file; returns the failures as readable lines.
pub fn run(file: &str, text: &str, bundle_text: impl Fn(&str) -> Option<&'static str>) -> Vec<String> {
    let cf: CaseFile = match serde_json::from_str(text) {
        Ok(c) => c,
        Err(e) => return vec![format!("{file}: {e}")],
    };
    let Some(name) = cf.bundle else {
        return vec![format!("{file}: no bundle named")];
    };
    let Some(b) = bundle_text(&name) else {
        return vec![format!("{file}: bundle {name} not found")];
    };
    let engine = match Engine::from_json(b.as_bytes(), &Workload::default()) {
        Ok(e) => e,
        Err(e) => return vec![format!("{file}: bundle {name}: {e}")],
    };
    cf.cases
        .iter()
        .filter_map(|c| check(&engine, c).map(|bad| format!("{file}: case {:?}: {bad}", c.name)))
        .collect()
}

/// Decides one case; `None` when the engine agrees with it, else what differs.
pub fn check(engine: &Engine, c: &Case) -> Option<String> {
    let (got, bad) = spiffe_authz::cases::check(engine, c);
    (!bad.is_empty()).then(|| {
        let diffs: Vec<String> = bad
            .iter()
            .map(|Mismatch { field, expected, got }| format!("{field}: expected {expected}, got {got}"))
            .collect();
        format!("{} ({})", diffs.join("; "), got.reason)
    })
}

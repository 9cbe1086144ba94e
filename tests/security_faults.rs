//! Faults fail closed, black-box: a bundle that cannot be loaded is an error (the filter then
//! refuses the configuration: the listener is rejected at start-up, an update is NACKed), and
//! the fault-injection hook exists only in builds made for testing.
//!
//! The VM-level proof (a trap answers 503, never forwards) is in tests/e2e/test_security.py,
//! with a `--features fault-injection` build of the filter.

use spiffe_authz::{Engine, Request, Workload};

const CRASHING: &str = r#"{"settings": {"defaultAction": "allow", "testing": {"panicOnPath": "/__crash"}}}"#;

#[test]
fn unloadable_bundles_are_errors() {
    for bad in [
        &b""[..],
        b"null",
        b"{",
        b"\xff\xfe",
        br#"{"resources": [{}]}"#,
        br#"{"resources": [{"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy"}]}"#,
        br#"{"settings": {"path": {"escapedSlashes": "decode"}}}"#,
        br#"{"settings": {"path": {"maxLength": 0}}}"#,
        br#"{"settings": {"path": {"unknown": 1}}}"#,
        br#"{"settings": {"defaultAction": "maybe"}}"#,
        br#"{"unknown": 1}"#,
    ] {
        assert!(
            Engine::from_json(bad, &Workload::default()).is_err(),
            "{:?} loaded",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn path_settings_load() {
    let e = Engine::from_json(
        br#"{"settings": {"path": {"escapedSlashes": "keep", "backslash": "slash", "forward": "reject-if-changed", "maxLength": 100}}}"#,
        &Workload::default(),
    )
    .unwrap();
    let o = &e.plan().path;
    assert_eq!(o.max_length, 100);
    assert_eq!(o.forward, spiffe_authz::request::path::Forward::RejectIfChanged);
}

#[cfg(not(feature = "fault-injection"))]
#[test]
fn a_normal_build_refuses_fault_injection() {
    let err = Engine::from_json(CRASHING.as_bytes(), &Workload::default()).unwrap_err();
    assert!(err.to_string().contains("testing"), "{err}");
}

#[cfg(feature = "fault-injection")]
#[test]
fn a_test_build_panics_on_the_chosen_path_only() {
    let e = Engine::from_json(CRASHING.as_bytes(), &Workload::default()).unwrap();
    assert!(e.evaluate(&Request::new("GET", "/ok")).allowed());
    let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        e.evaluate(&Request::new("GET", "/__crash")).allowed()
    }));
    assert!(crashed.is_err(), "no panic");
}

#[test]
fn the_request_type_is_used() {
    // Keeps the import used in both feature configurations.
    assert_eq!(Request::new("GET", "/a/../b").path, "/b");
}

/// Every string of every policy fixture, replaced in turn by values that break careless string
/// code (multi-byte characters at the ends, NUL, lone wildcards, long values): loading never
/// panics, it loads or it is refused.
#[test]
fn odd_strings_in_any_field_of_any_fixture_never_panic() {
    const ODD: &[&str] = &[
        "",
        "\u{e9}",
        "a\u{e9}",
        "\u{e9}*",
        "*\u{e9}",
        "/\u{e9}",
        "/a\u{e9}*",
        "/\u{e9}/{*}",
        "{\u{e9}}",
        ":\u{e9}",
        "\u{e9}+",
        "\u{e9}?",
        "*",
        "**",
        "\0",
        "/",
        "//",
        "[",
        "spiffe://\u{e9}",
        "\u{1F600}/ns/\u{e9}",
    ];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|f| f.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.to_string_lossy().ends_with(".cases.json"))
        .collect();
    files.sort();
    let mut loads = 0;
    for f in &files {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        let mut at = Vec::new();
        strings(&v, &mut Vec::new(), &mut at);
        for p in &at {
            for odd in ODD
                .iter()
                .map(|s| s.to_string())
                .chain([format!("/{}", "a/".repeat(300))])
            {
                let mut w = v.clone();
                if let Some(slot) = p.iter().try_fold(&mut w, |w, k| match k {
                    Key::I(i) => w.get_mut(*i),
                    Key::K(k) => w.get_mut(k.as_str()),
                }) {
                    *slot = serde_json::Value::String(odd.clone());
                }
                let bytes = serde_json::to_vec(&w).unwrap();
                let r = std::panic::catch_unwind(|| {
                    if let Ok(e) = Engine::from_json(&bytes, &Workload::default()) {
                        let _ = e.evaluate(&Request::new("GET", "/\u{e9}"));
                    }
                });
                assert!(r.is_ok(), "{}: {p:?} = {odd:?} panicked", f.display());
                loads += 1;
            }
        }
    }
    assert!(loads > 1_000, "{loads}");
}

#[derive(Clone, Debug)]
enum Key {
    I(usize),
    K(String),
}

/// The paths of every string leaf.
fn strings(v: &serde_json::Value, here: &mut Vec<Key>, out: &mut Vec<Vec<Key>>) {
    match v {
        serde_json::Value::String(_) => out.push(here.clone()),
        serde_json::Value::Array(xs) => {
            for (i, x) in xs.iter().enumerate() {
                here.push(Key::I(i));
                strings(x, here, out);
                here.pop();
            }
        }
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                here.push(Key::K(k.clone()));
                strings(x, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

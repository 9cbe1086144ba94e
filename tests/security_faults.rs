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
    let o = e.path_options();
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

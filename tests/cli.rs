//! The command-line contract: exit codes, JSON output, errors naming resource and field.

use std::path::PathBuf;
use std::process::{Command, Output};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spiffe-authz"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run spiffe-authz")
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)))
}

fn temp_bundle(name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write bundle");
    p
}

const BUNDLE: &str = "policies/istio/seed-001-backend.json";

#[test]
fn check_allowed_exits_0_with_the_deciding_policy() {
    let o = cli(&[
        "check",
        "--bundle",
        BUNDLE,
        "--principal",
        "spiffe://cluster.local/ns/myapp/sa/frontend-sa",
        "--path",
        "/api/profile",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    assert_eq!(v["allowed"], true);
    assert_eq!(v["policy"], "AuthorizationPolicy myapp/allow-frontend-get-profile");
    assert_eq!(v["rule"], 0);
    assert_eq!(v["dialect"], "istio");
    assert!(v["reason"].as_str().is_some_and(|r| !r.is_empty()));
}

#[test]
fn check_denied_exits_1() {
    let o = cli(&[
        "check",
        "--bundle",
        BUNDLE,
        "--principal",
        "spiffe://cluster.local/ns/myapp/sa/other",
        "--path",
        "/api/profile",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["allowed"], false);
    assert_eq!(v["policy"], serde_json::Value::Null);
    assert_eq!(v["reason"], "no ALLOW policy matched");
}

#[test]
fn no_principal_means_no_certificate() {
    let o = cli(&["check", "--bundle", BUNDLE, "--path", "/api/profile"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn a_deny_names_the_deny_policy_and_rule() {
    let o = cli(&[
        "check",
        "--bundle",
        "policies/istio/seed-001-deny-all.json",
        "--principal",
        "spiffe://cluster.local/ns/myapp/sa/frontend-sa",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["policy"], "AuthorizationPolicy myapp/deny-all");
    assert_eq!(v["rule"], 0);
}

#[test]
fn request_flags_reach_the_engine() {
    let ops = "spiffe://prod.example/ns/shop/sa/ops";
    let args = [
        "check",
        "--bundle",
        "policies/istio/features.json",
        "--principal",
        ops,
        "--path",
        "/admin/x",
        "--port",
        "8080",
    ];
    assert_eq!(cli(&args).status.code(), Some(1), "no ticket header");
    let mut with_header = args.to_vec();
    with_header.extend(["--header", "x-ticket: OPS-1"]);
    assert_eq!(cli(&with_header).status.code(), Some(0));
    let web = "spiffe://prod.example/ns/frontend/sa/web";
    let host = [
        "check",
        "--bundle",
        "policies/istio/features.json",
        "--principal",
        web,
        "--path",
        "/items",
    ];
    let mut good = host.to_vec();
    good.extend(["--host", "Shop.Example.com:443"]);
    assert_eq!(cli(&good).status.code(), Some(0));
    let mut bad = host.to_vec();
    bad.extend(["--host", "evil.example.com"]);
    assert_eq!(cli(&bad).status.code(), Some(1));
    let ip = [
        "check",
        "--bundle",
        "policies/istio/features.json",
        "--path",
        "/metrics",
        "--source-ip",
        "192.168.7.1",
    ];
    assert_eq!(cli(&ip).status.code(), Some(0));
}

#[test]
fn unusable_bundle_exits_2_naming_resource_and_field() {
    let p = temp_bundle(
        "bad-principal.json",
        r#"{"workload": {"namespace": "a"}, "resources": [
        {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {"name": "p", "namespace": "a"},
         "spec": {"rules": [{"from": [{"source": {"serviceAccounts": ["ok", "a*b"]}}]}]}}]}"#,
    );
    let o = cli(&["check", "--bundle", p.to_str().unwrap_or_default()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("resources[0] (AuthorizationPolicy a/p)"), "{err}");
    assert!(err.contains("spec.rules[0].from[0].source.serviceAccounts[1]"), "{err}");
    assert!(o.stdout.is_empty());
    let o = cli(&["validate", "--bundle", p.to_str().unwrap_or_default()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn bad_arguments_exit_2() {
    assert_eq!(cli(&["check"]).status.code(), Some(2), "no --bundle");
    assert_eq!(
        cli(&["check", "--bundle", BUNDLE, "--port", "http"]).status.code(),
        Some(2)
    );
    assert_eq!(cli(&["check", "--bundle", "/nonexistent.json"]).status.code(), Some(2));
    assert_eq!(cli(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        cli(&["check", "--bundle", BUNDLE, "--bogus", "1"]).status.code(),
        Some(2)
    );
}

#[test]
fn validate_prints_warnings_and_exits_0() {
    let o = cli(&["validate", "--bundle", "policies/istio/seed-004-verbatim.json"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("spec.rules[0].from[0].source.principals[0]"), "{out}");
    assert!(out.contains("never matches"), "{out}");
}

#[test]
fn grpc_flag_marks_the_request() {
    let o = cli(&[
        "check",
        "--bundle",
        BUNDLE,
        "--principal",
        "spiffe://cluster.local/ns/myapp/sa/frontend-sa",
        "--path",
        "/api/profile",
        "--grpc",
    ]);
    // gRPC requests are POSTs: the GET-only rule does not match.
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn metadata_flag_feeds_istio_filter_conditions() {
    let p = temp_bundle(
        "metadata.json",
        r#"{"workload": {"namespace": "a"}, "resources": [
        {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {"name": "p", "namespace": "a"},
         "spec": {"action": "DENY", "rules": [{"when": [{"key": "experimental.envoy.filters.http.lua[verdict]", "values": ["block"]}]}]}}]}"#,
    );
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "--bundle", p.to_str().unwrap_or_default()];
        args.extend(extra);
        cli(&args).status.code()
    };
    assert_eq!(
        check(&["--metadata", r#"envoy.filters.http.lua={"verdict": "block"}"#]),
        Some(1)
    );
    assert_eq!(
        check(&["--metadata", r#"envoy.filters.http.lua={"verdict": "pass"}"#]),
        Some(0)
    );
    assert_eq!(check(&[]), Some(0));
    assert_eq!(check(&["--metadata", "nope"]), Some(2));
}

//! `spiffe-authz test` (request/expectation files, like `opa test`) and `spiffe-authz diff`
//! (the requests a policy change decides differently), through the binary.

mod common;

use std::path::{Path, PathBuf};

use common::cli::{cli, stdout};
use serde_json::Value;

/// A directory of its own per test, with the given files.
fn dir(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("dir");
    for (f, text) in files {
        std::fs::write(d.join(f), text).expect("write");
    }
    d
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

const BACKEND: &str = "policies/istio/seed-001-backend.json";

/// The backend policy as a user keeps it: a bundle and YAML cases beside it, without `bundle:`.
const CASES_YAML: &str = "\
cases:
- name: frontend may read its profile
  principal: cluster.local/ns/myapp/sa/frontend-sa
  path: /api/profile
  expect: allow
  policy: AuthorizationPolicy myapp/allow-frontend-get-profile
  rule: 0
- name: frontend may not write its profile
  principal: spiffe://cluster.local/ns/myapp/sa/frontend-sa
  method: POST
  path: /api/profile
  expect: deny
";

#[test]
fn every_example_policy_passes_its_cases() {
    let o = cli(&["test", "policies"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let text = stdout(&o);
    let passed: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("PASS: "))
        .and_then(|l| l.split('/').next())
        .and_then(|n| n.parse().ok())
        .expect("PASS: n/m");
    assert!(passed > 150, "{text}");
}

#[test]
fn yaml_cases_beside_their_bundle_pass() {
    let backend = std::fs::read_to_string(BACKEND).expect("bundle");
    let d = dir(
        "test-beside",
        &[("backend.json", &backend), ("backend.cases.yaml", CASES_YAML)],
    );
    let o = cli(&["test", &s(&d), "-v"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("PASS  "), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("backend.cases.yaml:2:3: frontend may read its profile"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_mismatch_exits_1_with_a_readable_difference_and_reports_for_ci() {
    let backend = std::fs::read_to_string(BACKEND).expect("bundle");
    let wrong = CASES_YAML.replace(
        "  method: POST\n  path: /api/profile\n  expect: deny",
        "  method: POST\n  path: /api/profile\n  expect: allow",
    );
    let d = dir(
        "test-fail",
        &[("backend.json", &backend), ("backend.cases.yaml", &wrong)],
    );
    let o = cli(&["test", &s(&d)]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    for want in [
        "FAIL  ",
        "backend.cases.yaml:8:3: frontend may not write its profile",
        "request: POST /api/profile from spiffe://cluster.local/ns/myapp/sa/frontend-sa",
        "- expect:   allow",
        "+ expect:   deny",
        "decided by no rule (a default): no ALLOW policy matched",
        "PASS: 1/2",
        "FAIL: 1/2",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }

    let report = d.join("report.json");
    let o = cli(&["test", &s(&d), "-o", "json", "--output-file", &s(&report)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("FAIL: 1/2"),
        "the text summary still goes to stdout"
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    assert_eq!(
        (v["summary"]["passed"].as_u64(), v["summary"]["failed"].as_u64()),
        (Some(1), Some(1))
    );
    let case = &v["files"][0]["cases"][1];
    assert_eq!(case["passed"], false);
    assert_eq!(
        case["mismatches"][0],
        serde_json::json!({"field": "expect", "expected": "allow", "got": "deny"})
    );

    let o = cli(&["test", &s(&d), "-o", "junit"]);
    let xml = stdout(&o);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains("<testsuites name=\"spiffe-authz test\" tests=\"2\" failures=\"1\" errors=\"0\">"),
        "{xml}"
    );
    assert!(
        xml.contains("<failure message=\"expect: expected allow, got deny\">"),
        "{xml}"
    );
}

#[test]
fn an_unusable_case_file_exits_2_pointing_at_the_field() {
    let backend = std::fs::read_to_string(BACKEND).expect("bundle");
    let typo = CASES_YAML.replace("  expect: deny", "  expct: deny");
    let d = dir(
        "test-typo",
        &[("backend.json", &backend), ("backend.cases.yaml", &typo)],
    );
    let o = cli(&["test", &s(&d)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stdout(&o).contains("backend.cases.yaml:12:3: cases[1].expct: unknown field `expct`"),
        "{}",
        stdout(&o)
    );
    let d = dir("test-nobundle", &[("lonely.cases.yaml", CASES_YAML)]);
    let o = cli(&["test", &s(&d)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("bundle not found"), "{}", stdout(&o));
    assert_eq!(cli(&["test", "/nonexistent"]).status.code(), Some(2));
}

#[test]
fn diff_lists_the_requests_a_change_flips_with_the_rules_before_and_after() {
    let o = cli(&["diff", BACKEND, "policies/istio/seed-001-deny-all.json"]);
    assert_eq!(o.status.code(), Some(1), "decisions changed");
    let text = stdout(&o);
    for want in [
        "ALLOW -> DENY  from spiffe://cluster.local/ns/myapp/sa/frontend-sa\n    GET /api/profile\n",
        "before: allow by AuthorizationPolicy myapp/allow-frontend-get-profile rule 0",
        "after:  deny by AuthorizationPolicy myapp/deny-all rule 0: a DENY policy matched",
        "ALLOW -> DENY  from spiffe://cluster.local/ns/myapp/sa/admin-sa\n    POST /api/admin/\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    // The edges: one step past the prefix and the prefix without its slash are probed; neither
    // was allowed before, so neither flips.
    let o = cli(&["diff", BACKEND, "policies/istio/seed-001-deny-all.json", "-o", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    let paths: Vec<&str> = v["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["request"]["path"].as_str())
        .collect();
    assert!(paths.contains(&"/api/admin/zz"), "{paths:?}");
    assert!(!paths.contains(&"/api/admin"), "{paths:?}");
    assert!(v["probed"].as_u64().is_some_and(|n| n > 50), "{v}");
    let unchanged = cli(&["diff", BACKEND, BACKEND]);
    assert_eq!(unchanged.status.code(), Some(0));
    assert!(stdout(&unchanged).starts_with("0 of "), "{}", stdout(&unchanged));
}

#[test]
fn diff_probes_the_unauthenticated_peer_and_unlisted_callers() {
    let old = r#"{"workload": {"namespace": "shop"}, "resources": [{"apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy", "metadata": {"name": "allow-web"},
        "spec": {"rules": [{"from": [{"source": {"principals": ["cluster.local/ns/shop/sa/web"]}}]}]}}]}"#;
    let new = old.replace(
        r#"{"principals": ["cluster.local/ns/shop/sa/web"]}"#,
        r#"{"namespaces": ["shop"]}"#,
    );
    let d = dir("diff-widen", &[("old.json", old), ("new.json", &new)]);
    let o = cli(&["diff", &s(&d.join("old.json")), &s(&d.join("new.json")), "-o", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    let callers: Vec<&str> = v["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["request"]["principal"].as_str())
        .collect();
    assert!(
        callers.contains(&"spiffe://cluster.local/ns/shop/sa/zz-unlisted"),
        "another SA of the namespace: {callers:?}"
    );
    assert!(!callers.iter().any(|c| c.contains("zz-other-namespace")), "{callers:?}");
    let change = &v["changes"][0];
    assert_eq!(change["before"]["effect"], "deny");
    assert_eq!(change["after"]["by"], "AuthorizationPolicy shop/allow-web rule 0");
}

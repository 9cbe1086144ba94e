//! Delivery round trips: every fixture bundle → Kubernetes YAML manifests → `spiffe-authz
//! bundle` → the same decisions; → `spiffe-authz wasmplugin` → the WasmPlugin's `pluginConfig`
//! → the same decisions. Plus `package` and `validate` warnings through the binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spiffe-authz"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run spiffe-authz")
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf-8")
}

fn tmp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

fn case_files() -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        let mut es: Vec<PathBuf> = std::fs::read_dir(d)
            .expect("policies/")
            .map(|e| e.expect("entry").path())
            .collect();
        es.sort();
        for p in es {
            if p.is_dir() {
                walk(&p, out)
            } else if p.to_string_lossy().ends_with(".cases.json") {
                out.push(p)
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("policies"), &mut out);
    out
}

/// The bundle as a kubectl user keeps it: one YAML document per resource (every third wrapped
/// in a `kind: List`), the workload as flags, the settings as a YAML file.
fn to_manifests(name: &str, bundle: &Value) -> Vec<String> {
    let mut docs = vec!["# converted from a fixture\n".to_string()];
    for (i, r) in bundle["resources"].as_array().into_iter().flatten().enumerate() {
        let doc = if i % 3 == 2 {
            serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [r]})
        } else {
            r.clone()
        };
        docs.push(serde_saphyr::to_string(&doc).expect("yaml"));
    }
    let yaml = tmp(&format!("{name}.yaml"));
    std::fs::write(&yaml, docs.join("---\n")).expect("write yaml");
    let mut args = vec!["bundle".to_string(), "-f".into(), yaml.display().to_string()];
    let w = &bundle["workload"];
    for (key, flag) in [
        ("namespace", "--workload-namespace"),
        ("serviceAccount", "--workload-service-account"),
        ("appId", "--app-id"),
        ("trustDomain", "--trust-domain"),
    ] {
        if let Some(v) = w[key].as_str() {
            args.extend([flag.to_string(), v.to_string()]);
        }
    }
    for (map, flag) in [("labels", "--workload-label"), ("ports", "--workload-port")] {
        for (k, v) in w[map].as_object().into_iter().flatten() {
            let v = v.as_str().map(String::from).unwrap_or_else(|| v.to_string());
            args.extend([flag.to_string(), format!("{k}={v}")]);
        }
    }
    if let Some(s) = bundle.get("settings") {
        let p = tmp(&format!("{name}.settings.yaml"));
        std::fs::write(&p, serde_saphyr::to_string(s).expect("yaml")).expect("write settings");
        args.extend(["--settings".to_string(), p.display().to_string()]);
    }
    args
}

fn decide_all(cases_path: &Path, bundle: String) -> Vec<String> {
    let text = std::fs::read_to_string(cases_path).expect("cases");
    let bundle: &'static str = Box::leak(bundle.into_boxed_str());
    common::cases::run(&cases_path.display().to_string(), &text, |_| Some(bundle))
}

#[test]
fn every_fixture_survives_yaml_bundle_and_wasmplugin_round_trips() {
    let files = case_files();
    assert!(!files.is_empty());
    let mut failures = Vec::new();
    for cases in &files {
        let cf: Value = serde_json::from_str(&std::fs::read_to_string(cases).expect("read")).expect("json");
        let bundle_path = cf["bundle"].as_str().expect("bundle");
        let original: Value =
            serde_json::from_str(&std::fs::read_to_string(root().join(bundle_path)).expect("bundle")).expect("json");
        let name = bundle_path.replace('/', "_");
        let args = to_manifests(&name, &original);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let rebuilt = ok(cli(&args));
        let rebuilt_v: Value = serde_json::from_str(&rebuilt).expect("bundle json");
        assert_eq!(
            rebuilt_v["resources"], original["resources"],
            "{bundle_path}: resources changed"
        );
        failures.extend(decide_all(cases, rebuilt.clone()));

        let b = tmp(&format!("{name}.rebuilt.json"));
        std::fs::write(&b, &rebuilt).expect("write");
        let wp = ok(cli(&[
            "wasmplugin",
            "--bundle",
            &b.display().to_string(),
            "--url",
            "oci://registry.example/spiffe-authz:test",
            "--sha256",
            &"0".repeat(64),
        ]));
        let plugin: Value = serde_saphyr::from_str(&wp).expect("WasmPlugin YAML");
        assert_eq!(plugin["apiVersion"], "extensions.istio.io/v1alpha1");
        assert_eq!(plugin["kind"], "WasmPlugin");
        assert_eq!(plugin["spec"]["phase"], "AUTHZ");
        assert_eq!(plugin["spec"]["failStrategy"], "FAIL_CLOSE");
        let config = serde_json::to_string(&plugin["spec"]["pluginConfig"]).expect("json");
        failures.extend(decide_all(cases, config));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn package_then_wasmplugin_uses_the_manifest_digest() {
    let wasm = tmp("tiny.wasm");
    std::fs::write(&wasm, b"\0asm\x01\0\0\0").expect("write");
    let out = tmp("oci");
    let digest = ok(cli(&[
        "package",
        "--wasm",
        &wasm.display().to_string(),
        "--out",
        &out.display().to_string(),
        "--tag",
        "v1",
    ]));
    let digest = digest.trim().strip_prefix("sha256:").expect("sha256:").to_string();
    let wp = ok(cli(&[
        "wasmplugin",
        "--bundle",
        "policies/istio/default-deny.json",
        "--url",
        "oci://registry.example/spiffe-authz:v1",
        "--oci-layout",
        &out.display().to_string(),
    ]));
    let plugin: Value = serde_saphyr::from_str(&wp).expect("yaml");
    assert_eq!(plugin["spec"]["sha256"], digest.as_str());
    assert_eq!(
        plugin["metadata"]["namespace"].as_str().map(|s| !s.is_empty()),
        Some(true)
    );
}

#[test]
fn validate_warns_about_rules_that_cannot_mean_what_they_say() {
    let bundle = r#"{"workload": {"namespace": "shop", "labels": {"app": "cart"}},
      "resources": [
        {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
         "metadata": {"name": "allow-not-evil", "namespace": "shop"},
         "spec": {"rules": [{"from": [{"source": {"notNamespaces": ["evil"]}}]}]}},
        {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
         "metadata": {"name": "lowercase", "namespace": "shop"},
         "spec": {"action": "DENY", "rules": [{"to": [{"operation": {"methods": ["delete"]}}]}]}},
        {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
         "metadata": {"name": "other-app", "namespace": "shop"},
         "spec": {"selector": {"matchLabels": {"app": "web"}}, "rules": [{}]}}]}"#;
    let p = tmp("lint.json");
    std::fs::write(&p, bundle).expect("write");
    let out = ok(cli(&["validate", "--bundle", &p.display().to_string()]));
    for want in [
        "resources[0] (AuthorizationPolicy shop/allow-not-evil): spec.rules[0]: an ALLOW rule with only negative fields (notNamespaces)",
        "resources[1] (AuthorizationPolicy shop/lowercase): spec.rules[0].to[0].operation.methods[0]: \"delete\": HTTP methods are case-sensitive",
        "resources[2] (AuthorizationPolicy shop/other-app): does not select this workload",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

#[test]
fn explain_shows_every_rule_why_and_the_dry_run_mode() {
    let o = cli(&[
        "explain",
        "--bundle",
        "policies/istio/dry-run-mode.json",
        "--principal",
        "spiffe://cluster.local/ns/orders/sa/orders",
        "--method",
        "GET",
        "--path",
        "/refunds/1",
    ]);
    // Forwarded (dry-run), so exit 0 although the verdict is deny.
    let out = ok(o);
    for want in [
        "mode: dry-run",
        "AuthorizationPolicy payments/deny-refunds-outside-finance: DENY\n    rule 0: MATCHES",
        "AuthorizationPolicy payments/allow-orders: ALLOW\n    rule 0: no match: method GET is not one of [\"POST\"]",
        "decision: deny (AuthorizationPolicy payments/deny-refunds-outside-finance rule 0: a DENY policy matched)",
        "forwarded: DRY-RUN",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    let check = ok(cli(&[
        "check",
        "--bundle",
        "policies/istio/dry-run-mode.json",
        "--method",
        "GET",
    ]));
    let v: Value = serde_json::from_str(&check).expect("json");
    assert_eq!(
        (v["effect"].as_str(), v["allowed"].as_bool(), v["enforced"].as_bool()),
        (Some("deny"), Some(true), Some(false))
    );
}

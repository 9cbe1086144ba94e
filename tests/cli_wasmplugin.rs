//! `spiffe-authz wasmplugin`: inbound only by default, the mesh-wide form in the root namespace,
//! targetRefs, refusals of what the API server would refuse, and size warnings.

mod common;

use common::cli::{cli, stderr, tmp_file};
use serde_json::{json, Value};

fn plugin(extra: &[&str]) -> (Value, String) {
    plugin_of("policies/istio/seed-001-backend.json", extra)
}

fn plugin_of(bundle: &str, extra: &[&str]) -> (Value, String) {
    let args = [
        &[
            "wasmplugin",
            "--bundle",
            bundle,
            "--url",
            "oci://registry.example/spiffe-authz:1",
            "-o",
            "json",
        ],
        extra,
    ]
    .concat();
    let o = cli(&args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    (serde_json::from_slice(&o.stdout).expect("json"), stderr(&o))
}

fn bundle_file(name: &str, bundle: &Value) -> String {
    tmp_file(name, &bundle.to_string())
}

#[test]
fn inbound_traffic_only_by_default() {
    let (p, warnings) = plugin(&[]);
    assert_eq!(p["spec"]["match"], json!([{"mode": "SERVER"}]));
    assert_eq!(
        (p["spec"]["phase"].as_str(), p["spec"]["failStrategy"].as_str()),
        (Some("AUTHZ"), Some("FAIL_CLOSE"))
    );
    assert_eq!(p["metadata"]["namespace"], "myapp");
    assert_eq!(p["spec"]["selector"]["matchLabels"]["app"], "backend");
    assert!(warnings.is_empty(), "{warnings}");
    let (p, warnings) = plugin(&["--mode", "CLIENT_AND_SERVER", "--match-port", "8080"]);
    assert_eq!(
        p["spec"]["match"],
        json!([{"mode": "CLIENT_AND_SERVER", "ports": [{"number": 8080}]}])
    );
    assert!(warnings.contains("outgoing calls"), "{warnings}");
}

#[test]
fn mesh_wide_goes_to_the_bundles_root_namespace() {
    let b = bundle_file(
        "meshwide.json",
        &json!({"settings": {"rootNamespace": "mesh-root"}, "resources": []}),
    );
    let (p, _) = plugin_of(&b, &[]);
    assert_eq!(p["metadata"]["namespace"], "mesh-root");
    assert!(p["spec"].get("selector").is_none(), "{p}");
    let b = bundle_file("meshwide-default.json", &json!({"resources": []}));
    assert_eq!(plugin_of(&b, &[]).0["metadata"]["namespace"], "istio-system");
}

#[test]
fn target_refs_for_waypoints() {
    let (p, warnings) = plugin(&["--target-ref", "Gateway/waypoint", "--target-ref", "Service/backend"]);
    assert_eq!(
        p["spec"]["targetRefs"],
        json!([{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "waypoint"},
               {"group": "", "kind": "Service", "name": "backend"}])
    );
    assert!(
        p["spec"].get("selector").is_none(),
        "targetRefs replace the bundle's labels: {p}"
    );
    assert!(warnings.contains("io.istio.peer_principal"), "{warnings}");
    let o = cli(&[
        "wasmplugin",
        "--bundle",
        "policies/istio/seed-001-backend.json",
        "--url",
        "oci://r/x:1",
        "--target-ref",
        "Gateway/w",
        "--selector",
        "app=x",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "selector and targetRefs are exclusive (the CRD's oneof)"
    );
}

#[test]
fn what_the_api_server_refuses_is_refused_here() {
    let long = "v".repeat(64);
    for (extra, why) in [
        (vec!["--name", "Spiffe_Authz"], "name"),
        (vec!["--namespace", "My-NS"], "namespace"),
        (vec!["--selector", &format!("app={long}")], "63"),
        (vec!["--selector", "app=web-*"], "wildcard"),
        (vec!["--target-ref", "Deployment/web"], "Gateway"),
    ] {
        let args = [
            &[
                "wasmplugin",
                "--bundle",
                "policies/istio/seed-001-backend.json",
                "--url",
                "oci://r/x:1",
            ][..],
            &extra,
        ]
        .concat();
        let o = cli(&args);
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        assert!(stderr(&o).contains(why), "{extra:?}: {}", stderr(&o));
    }
    for url in ["ftp://r/x.wasm", "oci://reg istry/x", "https:///x.wasm"] {
        let o = cli(&[
            "wasmplugin",
            "--bundle",
            "policies/istio/seed-001-backend.json",
            "--url",
            url,
        ]);
        assert_eq!(o.status.code(), Some(2), "{url}");
        assert!(stderr(&o).contains("--url"), "{url}: {}", stderr(&o));
    }
}

/// An ALLOW policy naming `n` principals.
fn bundle_with(n: usize) -> Value {
    let principals: Vec<String> = (0..n)
        .map(|i| format!("cluster.local/ns/clients/sa/client-{i:07}"))
        .collect();
    json!({"workload": {"namespace": "shop"}, "resources": [{
        "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {"name": "big"},
        "spec": {"rules": [{"from": [{"source": {"principals": principals}}]}]}}]})
}

#[test]
fn sizes_that_kubectl_apply_or_the_api_server_refuse_are_warned_about() {
    // ~45 bytes per principal: 6,000 ≈ 270 KiB (over the 256 KiB annotation limit), 40,000 ≈
    // 1.6 MiB (over the 1.5 MiB object limit), as they are (compressed they fit: next test).
    let never = ["--compress", "never"];
    let (_, w) = plugin_of(&bundle_file("big.json", &bundle_with(6_000)), &never);
    assert!(
        w.contains("last-applied-configuration") && w.contains("--server-side"),
        "{w}"
    );
    let (_, w) = plugin_of(&bundle_file("huge.json", &bundle_with(40_000)), &never);
    assert!(w.contains("1572864-byte object limit") && w.contains("ECDS"), "{w}");
    let (_, w) = plugin_of(&bundle_file("small.json", &bundle_with(100)), &[]);
    assert!(w.is_empty(), "{w}");
}

#[test]
fn a_bundle_too_large_for_kubectl_apply_travels_compressed() {
    let big = bundle_file("auto.json", &bundle_with(40_000));
    let (p, w) = plugin_of(&big, &[]);
    assert_eq!(p["spec"]["pluginConfig"]["encoding"], "gzip+base64", "{w}");
    assert!(w.contains("compact form"), "{w}");
    let size = serde_json::to_string(&p).expect("json").len();
    assert!(size < 262_144, "{size} bytes: fits client-side kubectl apply");
    // The filter's engine reads it back as the same bundle.
    let config = bundle_file("auto.config.json", &p["spec"]["pluginConfig"]);
    let caller = "spiffe://cluster.local/ns/clients/sa/client-0039999";
    let o = cli(&["check", "--bundle", &config, "--principal", caller]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = cli(&[
        "check",
        "--bundle",
        &config,
        "--principal",
        "spiffe://cluster.local/ns/clients/sa/other",
    ]);
    assert_eq!(o.status.code(), Some(1));
    // Small bundles stay readable unless asked; --compress never keeps the plain form.
    let (p, _) = plugin(&[]);
    assert!(p["spec"]["pluginConfig"]["resources"].is_array());
    let (p, _) = plugin(&["--compress", "always"]);
    assert_eq!(p["spec"]["pluginConfig"]["encoding"], "gzip+base64");
    let (p, _) = plugin_of(&big, &["--compress", "never"]);
    assert!(p["spec"]["pluginConfig"]["resources"].is_array());
}

#[test]
fn bundle_compress_writes_the_compact_form() {
    let o = cli(&[
        "bundle",
        "-f",
        "policies/istio/manifests/backend.yaml",
        "--workload-namespace",
        "myapp",
        "--workload-label",
        "app=backend",
        "--compress",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["encoding"], "gzip+base64");
    let f = bundle_file("compressed.json", &v);
    let o = cli(&[
        "check",
        "--bundle",
        &f,
        "--principal",
        "spiffe://cluster.local/ns/myapp/sa/frontend-sa",
        "--path",
        "/api/profile",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = cli(&["diff", &f, "policies/istio/seed-001-backend.json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "the same bundle: {}",
        String::from_utf8_lossy(&o.stdout)
    );
}

//! The command line as kubectl and istioctl users expect it: --help and --version, exit 2 on
//! anything unknown, `-o` formats, `--bundle -`, `--principal` spellings, and errors that point
//! into the user's file.

mod common;

use std::path::PathBuf;

use common::cli::{cli, cli_in, stderr, stdout, tmp_file};
use serde_json::Value;

const BUNDLE: &str = "policies/istio/seed-001-backend.json";
const FRONTEND: &str = "spiffe://cluster.local/ns/myapp/sa/frontend-sa";

fn tmp(name: &str, text: &str) -> String {
    tmp_file(name, text)
}

const COMMANDS: [&str; 10] = [
    "check",
    "explain",
    "validate",
    "test",
    "diff",
    "bundle",
    "wasmplugin",
    "package",
    "push",
    "authz",
];

#[test]
fn every_command_answers_help_and_the_tool_its_version() {
    for cmd in COMMANDS {
        let o = cli(&[cmd, "--help"]);
        assert_eq!(o.status.code(), Some(0), "{cmd} --help: {}", stderr(&o));
        assert!(
            stdout(&o).contains(&format!("Usage: spiffe-authz {cmd}")),
            "{cmd}: {}",
            stdout(&o)
        );
    }
    let o = cli(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).trim(), format!("spiffe-authz {}", env!("CARGO_PKG_VERSION")));
    assert_eq!(cli(&["help", "check"]).status.code(), Some(0));
}

#[test]
fn unknown_or_misspelled_arguments_exit_2_and_decide_nothing() {
    for args in [
        &["check", "--bundle", BUNDLE, "-principal", FRONTEND][..],
        &["check", "--bundle", BUNDLE, "--principle", FRONTEND],
        &["check", "--bundle", BUNDLE, "--bogus", "1"],
        &["check", "--bundle", BUNDLE, "stray"],
        &["bundle", "--nope"],
        &[
            "wasmplugin",
            "--bundle",
            BUNDLE,
            "--url",
            "oci://r/x:1",
            "--mode",
            "INBOUND",
        ],
        &["frobnicate"],
        &["check"],
    ] {
        let o = cli(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?} printed a decision: {}", stdout(&o));
    }
    let o = cli(&["check", "--bundle", BUNDLE, "-principal", FRONTEND]);
    assert!(stderr(&o).contains("--principal"), "{}", stderr(&o));
    let o = cli(&["check", "--bundle", BUNDLE, "--principle", FRONTEND]);
    assert!(
        stderr(&o).contains("tip: a similar argument exists: '--principal'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn istio_and_linkerd_principals_are_the_spiffe_id_they_name() {
    let decide = |p: &str| cli(&["check", "--bundle", BUNDLE, "--principal", p, "--path", "/api/profile"]);
    assert_eq!(decide(FRONTEND).status.code(), Some(0));
    assert_eq!(decide("cluster.local/ns/myapp/sa/frontend-sa").status.code(), Some(0));
    let linkerd = "frontend-sa.myapp.serviceaccount.identity.linkerd.cluster.local";
    assert_eq!(decide(linkerd).status.code(), Some(0));
    let o = decide("frontend-sa");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not a SPIFFE ID"), "{}", stderr(&o));
    let o = decide("spiffe://Cluster.local/ns/myapp/sa/frontend-sa");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unauthenticated"), "{}", stderr(&o));
}

#[test]
fn bundle_dash_reads_standard_input_everywhere() {
    let text = std::fs::read_to_string(BUNDLE).expect("bundle");
    let args = ["--principal", FRONTEND, "--path", "/api/profile"];
    let o = cli_in(&[&["check", "--bundle", "-"][..], &args].concat(), &text);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = cli_in(&[&["explain", "-b", "-"][..], &args].concat(), &text);
    assert!(stdout(&o).contains("decision: allow"), "{}", stdout(&o));
    assert_eq!(cli_in(&["validate", "--bundle", "-"], &text).status.code(), Some(0));
    let o = cli_in(&["wasmplugin", "--bundle", "-", "--url", "oci://r/x:1"], &text);
    assert!(stdout(&o).contains("kind: WasmPlugin"), "{}", stderr(&o));
    let o = cli_in(&["diff", "-", BUNDLE], &text);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("push-stdin");
    std::fs::create_dir_all(&dir).expect("dir");
    let o = cli_in(&["push", "--bundle", "-", "--dir", &dir.display().to_string()], &text);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let manifests = std::fs::read_to_string("policies/istio/manifests/backend.yaml").expect("yaml");
    let o = cli_in(&["bundle", "-f", "-", "--workload-namespace", "myapp"], &manifests);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn output_is_a_format_and_the_file_a_separate_flag() {
    let args = [
        "check",
        "--bundle",
        BUNDLE,
        "--principal",
        FRONTEND,
        "--path",
        "/api/profile",
    ];
    let json: Value = serde_json::from_slice(&cli(&[&args[..], &["-o", "json"]].concat()).stdout).expect("json");
    let yaml: Value = serde_saphyr::from_str(&stdout(&cli(&[&args[..], &["-o", "yaml"]].concat()))).expect("yaml");
    assert_eq!(json, yaml);
    assert_eq!(json["policy"], "AuthorizationPolicy myapp/allow-frontend-get-profile");
    let o = cli(&[&args[..], &["-o", "out.json"]].concat());
    assert_eq!(o.status.code(), Some(2), "-o names a format, not a file");

    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("b.yaml");
    let o = cli(&[
        "bundle",
        "-f",
        "policies/istio/manifests/backend.yaml",
        "--workload-namespace",
        "myapp",
        "-o",
        "yaml",
        "--output-file",
        &file.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let written: Value = serde_saphyr::from_str(&std::fs::read_to_string(&file).expect("file")).expect("yaml");
    assert_eq!(written["workload"]["namespace"], "myapp");
    // A YAML bundle is a bundle: the other commands read it.
    let o = cli(&[
        "check",
        "--bundle",
        &file.display().to_string(),
        "--principal",
        FRONTEND,
        "--path",
        "/api/profile",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn validate_and_authz_have_json_output() {
    let o = cli(&[
        "validate",
        "--bundle",
        "policies/istio/seed-004-verbatim.json",
        "-o",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(
        (v["valid"].as_bool(), v["layers"][0].as_str()),
        (Some(true), Some("istio"))
    );
    assert!(
        v["warnings"][0]["field"]
            .as_str()
            .is_some_and(|f| f.contains("principals[0]")),
        "{v}"
    );

    let bad = tmp(
        "bad.json",
        r#"{"resources": [{"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
        "metadata": {"name": "p"}, "spec": {"action": "CUSTOM"}}]}"#,
    );
    let o = cli(&["validate", "--bundle", &bad, "-o", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["valid"], false);
    assert!(v["error"].as_str().is_some_and(|e| e.contains("spec.action")), "{v}");

    let stats = "spiffe_authz_policy_denied{dialect=\"istio\",policy_kind=\"AuthorizationPolicy\",\
                 policy_namespace=\"a\",policy_name=\"p\"} 3\n";
    let o = cli_in(&["authz", "-o", "json"], stats);
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v[0]["policy"], "AuthorizationPolicy a/p");
    assert_eq!(v[0]["denied"], 3);
}

#[test]
fn yaml_errors_point_at_the_field_in_the_users_file() {
    let manifest = tmp(
        "typo.yaml",
        "# the backend's policies\n\
         apiVersion: security.istio.io/v1\n\
         kind: AuthorizationPolicy\n\
         metadata: {name: a, namespace: shop}\n\
         spec:\n  rules:\n  - from:\n    - source:\n        notPrincipal: [x]\n",
    );
    let o = cli(&["bundle", "-f", &manifest]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains(&format!("{manifest}:9:9: resources[0] (AuthorizationPolicy shop/a)")),
        "{e}"
    );
    assert!(e.contains("unknown field `notPrincipal`"), "{e}");
    assert!(!e.contains("at line 1 column"), "no position in the internal JSON: {e}");

    let yaml_bundle = tmp(
        "bundle.yaml",
        "workload: {namespace: shop}\nresources:\n- apiVersion: security.istio.io/v1\n  kind: AuthorizationPolicy\n  \
         metadata: {name: a}\n  spec:\n    rules:\n    - to:\n      - operation:\n          paths: [\"/a/{**}/{*}\"]\n",
    );
    let o = cli(&["validate", "--bundle", &yaml_bundle]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!("{yaml_bundle}:10:19: resources[0]")),
        "{}",
        stderr(&o)
    );
}

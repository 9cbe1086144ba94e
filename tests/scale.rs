//! Large bundles decide correctly: 100,000 principals, 10,000 path rules, 10,000 policies.
//! (How fast is the benchmark's business: `./build.sh bench`.)

use spiffe_authz::{Engine, Peer, Request, Workload};

fn policy(name: &str, rules: &str) -> String {
    format!(
        r#"{{"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
            "metadata": {{"name": "{name}", "namespace": "ns"}}, "spec": {{"rules": {rules}}}}}"#
    )
}

fn engine(resources: &[String]) -> Engine {
    let json = format!(
        r#"{{"workload": {{"namespace": "ns"}}, "resources": [{}]}}"#,
        resources.join(",")
    );
    Engine::from_json(json.as_bytes(), &Workload::default()).expect("bundle loads")
}

fn req(principal: &str, path: &str) -> Request {
    let mut r = Request::new("GET", path);
    r.peer = Peer::from_uri_san(principal);
    r
}

#[test]
fn one_policy_with_100k_principals() {
    let principals: Vec<String> = (0..100_000)
        .map(|i| format!("\"cluster.local/ns/n{}/sa/s{i}\"", i % 100))
        .collect();
    let e = engine(&[policy(
        "big",
        &format!(
            r#"[{{"from": [{{"source": {{"principals": [{}]}}}}]}}]"#,
            principals.join(",")
        ),
    )]);
    assert!(e.evaluate(&req("spiffe://cluster.local/ns/n0/sa/s0", "/")).allowed());
    assert!(e
        .evaluate(&req("spiffe://cluster.local/ns/n99/sa/s99999", "/"))
        .allowed());
    assert!(!e
        .evaluate(&req("spiffe://cluster.local/ns/n0/sa/s99999", "/"))
        .allowed());
    assert!(!e
        .evaluate(&req("spiffe://cluster.local/ns/n0/sa/s100000", "/"))
        .allowed());
}

#[test]
fn ten_thousand_policies_each_naming_one_principal() {
    let ps: Vec<String> = (0..10_000)
        .map(|i| {
            policy(
                &format!("p{i}"),
                &format!(r#"[{{"from": [{{"source": {{"principals": ["cluster.local/ns/a/sa/s{i}"]}}}}]}}]"#),
            )
        })
        .collect();
    let e = engine(&ps);
    let req_ = req("spiffe://cluster.local/ns/a/sa/s7777", "/");
    let d = e.evaluate(&req_);
    assert!(d.allowed());
    assert_eq!(d.verdict.by().map(|b| b.meta.name.as_str()), Some("p7777"));
    assert!(!e.evaluate(&req("spiffe://cluster.local/ns/a/sa/s10000", "/")).allowed());
}

#[test]
fn ten_thousand_path_rules_for_one_principal() {
    let rules: Vec<String> = (0..10_000)
        .map(|i| {
            let path = if i % 2 == 0 { format!("/api/v{i}/items/{{*}}") } else { format!("/api/v{i}/*") };
            format!(r#"{{"from": [{{"source": {{"principals": ["cluster.local/ns/a/sa/web"]}}}}], "to": [{{"operation": {{"paths": ["{path}"]}}}}]}}"#)
        })
        .collect();
    let e = engine(&[policy("paths", &format!("[{}]", rules.join(",")))]);
    let web = "spiffe://cluster.local/ns/a/sa/web";
    let req_ = req(web, "/api/v9998/items/3");
    let d = e.evaluate(&req_);
    assert!(d.allowed());
    assert_eq!(d.verdict.by().and_then(|b| b.rule), Some(9998));
    let req_ = req(web, "/api/v9999/anything/below");
    let d = e.evaluate(&req_);
    assert_eq!(d.verdict.by().and_then(|b| b.rule), Some(9999));
    assert!(!e.evaluate(&req(web, "/api/v9998/items/3/x")).allowed());
    assert!(!e.evaluate(&req(web, "/api/v10000/x")).allowed());
    assert!(!e
        .evaluate(&req("spiffe://cluster.local/ns/a/sa/other", "/api/v1/x"))
        .allowed());
}

//! Drako at scale: 10,000 bindings on one workload cost about what one does (bindings are found
//! through a path index, not scanned), and a ClientGroup of 10,000 SPIFFE IDs is a hash lookup.

use std::time::Instant;

use spiffe_authz::{Engine, Peer, Request, Workload};

const HEAD: &str = r#""apiVersion": "woven-city.global/v1alpha1", "metadata": {"namespace": "shop", "name": "#;

fn binding(name: &str, path: &str, policy: &str) -> String {
    format!(
        r#"{{{HEAD}"{name}"}}, "kind": "DrakoPolicyBinding", "spec": {{"destinationServiceAccounts": ["orders-sa"],
            "paths": ["{path}"], "authenticationMode": "None", "clientAuthenticationModes": ["SpiffeId"],
            "policies": ["{policy}"], "decisionStrategy": "{policy}"}}}}"#
    )
}

fn clients(name: &str, n: usize) -> String {
    let list: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"type": "SpiffeId", "value": "spiffe://cluster.local/ns/n{}/sa/s{i}"}}"#,
                i % 50
            )
        })
        .collect();
    format!(
        r#"{{{HEAD}"{name}"}}, "kind": "DrakoPolicy", "spec": {{"type": "ClientGroup", "spec": {{"clientGroup": {{"clientList": [{}]}}}}}}}}"#,
        list.join(",")
    )
}

fn engine(resources: &[String]) -> Engine {
    let json = format!(
        r#"{{"workload": {{"namespace": "shop", "serviceAccount": "orders-sa"}}, "resources": [{}]}}"#,
        resources.join(",")
    );
    Engine::from_json(json.as_bytes(), &Workload::default()).expect("bundle loads")
}

fn req(principal: &str, path: &str) -> Request {
    let mut r = Request::new("GET", path);
    r.peer = Peer::from_uri_san(principal);
    r
}

/// Nanoseconds per decision, best of five rounds.
fn ns_per_decision(e: &Engine, r: &Request) -> f64 {
    let n = 2_000;
    (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                std::hint::black_box(e.evaluate(std::hint::black_box(r)).allowed());
            }
            t.elapsed().as_nanos() as f64 / f64::from(n)
        })
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn ten_thousand_bindings_decide_like_one() {
    let who = "spiffe://cluster.local/ns/n7/sa/s7";
    let mut one = vec![clients("group", 100)];
    one.push(binding("b0", "/svc/0/:", "group"));
    let mut many = vec![clients("group", 10_000)];
    many.extend((0..10_000).map(|i| binding(&format!("b{i}"), &format!("/svc/{i}/:"), "group")));
    let (one, many) = (engine(&one), engine(&many));

    let hit = req(who, "/svc/9999/x");
    let d = many.evaluate(&hit);
    assert!(d.allowed(), "{}", d.verdict.reason);
    assert_eq!(d.verdict.by().map(|b| b.meta.name.as_str()), Some("b9999"));
    assert!(!many.evaluate(&req(who, "/svc/9999")).allowed());
    assert!(!many
        .evaluate(&req("spiffe://cluster.local/ns/n7/sa/s10000", "/svc/1/x"))
        .allowed());

    let t1 = ns_per_decision(&one, &req(who, "/svc/0/x"));
    let tn = ns_per_decision(&many, &hit);
    println!("drako: 1 binding {t1:.0} ns/decision, 10,000 bindings {tn:.0} ns/decision");
    // A scan of 10,000 bindings would be thousands of times slower; allow for noise.
    assert!(tn < t1 * 10.0, "1 binding {t1:.0} ns, 10,000 bindings {tn:.0} ns");
}

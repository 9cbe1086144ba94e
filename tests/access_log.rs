//! `Decision::access_log`: the token Envoy's access log prints for a decision (README "Envoy"),
//! and `settings.accessLog`.

use spiffe_authz::{Engine, Peer, Request, Workload};

fn engine(settings: &str) -> Engine {
    let bundle = format!(
        r#"{{"workload": {{"namespace": "shop"}}, "settings": {settings}, "resources": [
        {{"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {{"name": "deny-admin"}},
          "spec": {{"action": "DENY", "rules": [{{"to": [{{"operation": {{"paths": ["/admin*"]}}}}]}}]}}}},
        {{"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {{"name": "allow-web"}},
          "spec": {{"rules": [{{}}, {{"from": [{{"source": {{"principals": ["cluster.local/ns/shop/sa/web"]}}}}]}}]}}}}]}}"#
    );
    Engine::from_json(bundle.as_bytes(), &Workload::default()).expect("bundle")
}

fn token(e: &Engine, peer: &str, path: &str) -> String {
    let mut r = Request::new("GET", path);
    r.peer = Peer::from_uri_san(peer);
    e.evaluate(&r).access_log()
}

const WEB: &str = "spiffe://cluster.local/ns/shop/sa/web";

#[test]
fn a_rule_names_its_resource_and_index() {
    let e = engine("{}");
    assert_eq!(
        token(&e, WEB, "/admin"),
        "spiffe_authz:deny:istio:AuthorizationPolicy:shop/deny-admin:0"
    );
    // allow-web's rule 0 (`{}`) matches everyone first.
    assert_eq!(
        token(&e, WEB, "/x"),
        "spiffe_authz:allow:istio:AuthorizationPolicy:shop/allow-web:0"
    );
}

#[test]
fn a_default_names_itself_and_dry_run_says_it_was_not_enforced() {
    let empty = Engine::from_json(br#"{"resources": []}"#, &Workload::default()).expect("bundle");
    assert_eq!(token(&empty, WEB, "/"), "spiffe_authz:deny:bundle:default:-/deny:-");
    let dry = engine(r#"{"mode": "dry-run"}"#);
    assert_eq!(
        token(&dry, WEB, "/admin"),
        "spiffe_authz:dry-run-deny:istio:AuthorizationPolicy:shop/deny-admin:0"
    );
}

#[test]
fn allowed_requests_are_recorded_only_when_settings_ask() {
    assert!(!engine("{}").logs_allowed());
    assert!(!engine(r#"{"accessLog": "denied"}"#).logs_allowed());
    assert!(engine(r#"{"accessLog": "all"}"#).logs_allowed());
    let e = Engine::from_json(
        br#"{"settings": {"accessLog": "some"}, "resources": []}"#,
        &Workload::default(),
    );
    assert!(e.unwrap_err().to_string().contains("settings.accessLog"));
}

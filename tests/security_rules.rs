//! Rules, black-box: host spellings and repeated headers cannot dodge a rule, and a request any
//! DENY policy matches is never allowed, whatever ALLOW policies a random bundle holds.

#[path = "common/xorshift.rs"]
mod xorshift;

use spiffe_authz::request::parse_authority;
use spiffe_authz::{Effect, Engine, Peer, Request, Workload};
use xorshift::Rng;

fn bundle(policies: &[String]) -> String {
    format!(
        r#"{{"workload": {{"namespace": "app", "serviceAccount": "app", "labels": {{"app": "app"}}}},
            "resources": [{}]}}"#,
        policies.join(",")
    )
}

fn policy(name: &str, action: &str, rules: &str) -> String {
    format!(
        r#"{{"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
            "metadata": {{"name": "{name}", "namespace": "app"}},
            "spec": {{"action": "{action}", "rules": {rules}}}}}"#
    )
}

fn engine(policies: &[String]) -> Result<Engine, spiffe_authz::BundleError> {
    Engine::from_json(bundle(policies).as_bytes(), &Workload::default())
}

fn allow_all() -> String {
    policy("allow-all", "ALLOW", "[{}]")
}

/// The filter's host step: 400 for what is no host, else the decision on the normalized host.
fn decide_host(e: &Engine, authority: &str) -> &'static str {
    if parse_authority(authority).is_err() {
        return "400";
    }
    let mut r = Request::new("GET", "/");
    r.set_authority(authority);
    if e.evaluate(&r).allowed() {
        "allow"
    } else {
        "deny"
    }
}

#[test]
fn host_spellings_cannot_dodge_a_deny() {
    let e = engine(&[
        policy(
            "deny-secret",
            "DENY",
            r#"[{"to": [{"operation": {"hosts": ["secret.com", "*.internal", "[::1]"]}}]}]"#,
        ),
        allow_all(),
    ])
    .unwrap();
    for a in [
        "secret.com",
        "Secret.com",
        "SECRET.COM",
        "secret.com:80",
        "secret.com:8080",
        "secret.com.",
        "secret.com..",
        "Secret.Com.:443",
        " secret.com",
        "db.internal",
        "DB.Internal.",
        "[::1]",
        "[::1]:80",
        "[0:0:0:0:0:0:0:1]",
        "[0::1]:443",
    ] {
        assert_eq!(decide_host(&e, a), "deny", "{a:?}");
    }
    for a in [
        "user@secret.com",
        "secret.com@other",
        "secret.com:http",
        "secret.com/x",
        "::1",
        "secret%2ecom",
    ] {
        assert_eq!(decide_host(&e, a), "400", "{a:?}");
    }
    for a in ["other.com", "secret.com.evil", "notsecret.com", "internal", "[::2]"] {
        assert_eq!(decide_host(&e, a), "allow", "{a:?}");
    }
}

/// An ALLOW grants the `:authority` Istio matches (case-insensitive, the whole value): a port
/// needs `host:*`, a trailing dot is another authority.
#[test]
fn host_spellings_reach_an_allow_as_istio_matches_them() {
    let e = engine(&[policy(
        "allow-shop",
        "ALLOW",
        r#"[{"to": [{"operation": {"hosts": ["Shop.Example.com", "shop.example.com:*"]}}]}]"#,
    )])
    .unwrap();
    for a in ["shop.example.com", "SHOP.example.COM:8443", "shop.example.com:80"] {
        assert_eq!(decide_host(&e, a), "allow", "{a:?}");
    }
    for a in [
        "shop.example.com.",
        "shop.example.com.evil",
        "evil.com",
        "",
        "shop.example.co",
    ] {
        assert_eq!(decide_host(&e, a), "deny", "{a:?}");
    }
}

fn with_headers(e: &Engine, hs: &[(&str, &str)]) -> bool {
    let mut r = Request::new("GET", "/");
    hs.iter().for_each(|(k, v)| r.add_header(k, v));
    e.evaluate(&r).allowed()
}

#[test]
fn repeated_headers_cannot_dodge_a_deny() {
    let e = engine(&[
        policy(
            "deny-admin-role",
            "DENY",
            r#"[{"when": [{"key": "request.headers[X-Role]", "values": ["admin"]}]}]"#,
        ),
        allow_all(),
    ])
    .unwrap();
    let denied: &[&[(&str, &str)]] = &[
        &[("x-role", "admin")],
        &[("x-role", "user"), ("x-role", "admin")],
        &[("x-role", "admin"), ("x-role", "user")],
        &[("X-Role", "user"), ("x-ROLE", "admin")],
        &[("x-role", "user,admin")],
        &[("x-role", "user, admin")],
        &[("x-role", "user"), ("x-role", ""), ("x-role", "admin")],
    ];
    for hs in denied {
        assert!(!with_headers(&e, hs), "{hs:?}");
    }
    for hs in [
        &[][..],
        &[("x-role", "user")],
        &[("x-role", "administrator")],
        &[("x-other", "admin")],
    ] {
        assert!(with_headers(&e, hs), "{hs:?}");
    }
}

#[test]
fn repeated_headers_cannot_dodge_a_deny_with_not_values() {
    // "Deny unless the environment is staging": every value must be staging.
    let e = engine(&[
        policy(
            "staging-only",
            "DENY",
            r#"[{"when": [{"key": "request.headers[x-env]", "notValues": ["staging"]}]}]"#,
        ),
        allow_all(),
    ])
    .unwrap();
    assert!(with_headers(&e, &[("x-env", "staging")]));
    assert!(with_headers(&e, &[("x-env", "staging"), ("x-env", "staging")]));
    for hs in [
        &[][..],
        &[("x-env", "prod")],
        &[("x-env", "staging"), ("x-env", "prod")],
        &[("x-env", "prod"), ("x-env", "staging")],
        &[("x-env", "staging,prod")],
    ] {
        assert!(!with_headers(&e, hs), "{hs:?}");
    }
}

#[test]
fn repeated_headers_cannot_stretch_an_allow() {
    let e = engine(&[policy(
        "readers",
        "ALLOW",
        r#"[{"when": [{"key": "request.headers[x-role]", "values": ["reader"]}]},
            {"when": [{"key": "request.headers[x-tenant]", "notValues": ["root"]}], "to": [{"operation": {"paths": ["/t"]}}]}]"#,
    )])
    .unwrap();
    assert!(with_headers(&e, &[("x-role", "reader")]));
    assert!(with_headers(&e, &[("x-role", "reader"), ("x-role", "reader")]));
    for hs in [
        &[][..],
        &[("x-role", "reader"), ("x-role", "admin")],
        &[("x-role", "admin"), ("x-role", "reader")],
        &[("x-role", "reader,admin")],
    ] {
        assert!(!with_headers(&e, hs), "{hs:?}");
    }
    let at_t = |hs: &[(&str, &str)]| {
        let mut r = Request::new("GET", "/t");
        hs.iter().for_each(|(k, v)| r.add_header(k, v));
        e.evaluate(&r).allowed()
    };
    assert!(at_t(&[("x-tenant", "a")]));
    assert!(at_t(&[]));
    assert!(!at_t(&[("x-tenant", "a"), ("x-tenant", "root")]));
    assert!(!at_t(&[("x-tenant", "a, root")]));
}

/// Two DENY rules for one caller (issue 17): the rule index files both under the caller's
/// principal, and each still refuses what it names (a bucket that kept only its first rule
/// would let the POST through).
#[test]
fn every_deny_rule_for_one_caller_holds() {
    let rules = |methods: &[&str]| {
        let rules: Vec<String> = methods
            .iter()
            .map(|m| {
                format!(
                    r#"{{"from": [{{"source": {{"principals": ["cluster.local/ns/app/sa/client"]}}}}],
                        "to": [{{"operation": {{"methods": ["{m}"]}}}}]}}"#
                )
            })
            .collect();
        format!("[{}]", rules.join(","))
    };
    let one_policy = vec![policy("deny", "DENY", &rules(&["GET", "POST"])), allow_all()];
    let two_policies = vec![
        policy("deny-get", "DENY", &rules(&["GET"])),
        policy("deny-post", "DENY", &rules(&["POST"])),
        allow_all(),
    ];
    for policies in [one_policy, two_policies] {
        let e = engine(&policies).expect("bundle loads");
        for (peer, method, want) in [
            ("spiffe://cluster.local/ns/app/sa/client", "GET", Effect::Deny),
            ("spiffe://cluster.local/ns/app/sa/client", "POST", Effect::Deny),
            ("spiffe://cluster.local/ns/app/sa/client", "PUT", Effect::Allow),
            ("spiffe://cluster.local/ns/app/sa/other", "POST", Effect::Allow),
        ] {
            let mut r = Request::new(method, "/");
            r.peer = Peer::from_uri_san(peer);
            assert_eq!(e.evaluate(&r).verdict.effect, want, "{peer} {method}");
        }
    }
}

/// A random rule from a small vocabulary, so that random requests match often.
fn random_rule(rng: &mut Rng) -> String {
    let principals = ["td/ns/a/sa/a", "td/ns/b/sa/b", "td/ns/a/*", "*"];
    let namespaces = ["a", "b", "c"];
    let paths = ["/x", "/x/*", "/y", "*", "/x/{*}/z", "*.png"];
    let methods = ["GET", "POST"];
    let hosts = ["h.com", "*.com"];
    let headers = ["1", "2"];
    let list = |rng: &mut Rng, vs: &[&str]| -> String {
        let n = 1 + rng.below(2);
        let items: Vec<String> = (0..n).map(|_| format!("{:?}", rng.pick(vs))).collect();
        format!("[{}]", items.join(","))
    };
    let mut from = Vec::new();
    if rng.one_in(2) {
        from.push(format!(r#""principals": {}"#, list(rng, &principals)));
    }
    if rng.one_in(3) {
        from.push(format!(r#""notNamespaces": {}"#, list(rng, &namespaces)));
    }
    if rng.one_in(4) {
        from.push(format!(r#""namespaces": {}"#, list(rng, &namespaces)));
    }
    let mut to = Vec::new();
    if rng.one_in(2) {
        to.push(format!(r#""paths": {}"#, list(rng, &paths)));
    }
    if rng.one_in(3) {
        to.push(format!(r#""notPaths": {}"#, list(rng, &paths)));
    }
    if rng.one_in(3) {
        to.push(format!(r#""methods": {}"#, list(rng, &methods)));
    }
    if rng.one_in(4) {
        to.push(format!(r#""hosts": {}"#, list(rng, &hosts)));
    }
    let mut parts = Vec::new();
    if !from.is_empty() {
        parts.push(format!(r#""from": [{{"source": {{{}}}}}]"#, from.join(",")));
    }
    if !to.is_empty() {
        parts.push(format!(r#""to": [{{"operation": {{{}}}}}]"#, to.join(",")));
    }
    if rng.one_in(3) {
        let k = if rng.one_in(2) { "values" } else { "notValues" };
        parts.push(format!(
            r#""when": [{{"key": "request.headers[x-h]", "{k}": {}}}]"#,
            list(rng, &headers)
        ));
    }
    format!("{{{}}}", parts.join(","))
}

fn random_policy(rng: &mut Rng, name: &str, action: &str) -> String {
    // istiod refuses a DENY without rules.
    let n = rng.below(3) + usize::from(action == "DENY");
    let rules: Vec<String> = (0..n).map(|_| random_rule(rng)).collect();
    policy(name, action, &format!("[{}]", rules.join(",")))
}

fn random_request(rng: &mut Rng) -> Request {
    let mut r = Request::new(
        rng.pick(&["GET", "POST", "PUT"]),
        rng.pick(&["/x", "/x/a/z", "/y", "/z.png", "/"]),
    );
    let peers = [
        "spiffe://td/ns/a/sa/a",
        "spiffe://td/ns/b/sa/b",
        "spiffe://td/ns/c/sa/c",
        "",
        "spiffe://other/ns/a/sa/a",
    ];
    r.peer = Peer::from_uri_san(rng.pick(&peers));
    r.set_authority(rng.pick(&["h.com", "H.COM:80", "x.org", ""]));
    for _ in 0..rng.below(3) {
        r.add_header("x-h", rng.pick(&["1", "2", "3", "1,2"]));
    }
    r
}

#[test]
fn deny_overrides_any_allow_in_random_bundles() {
    let mut rng = Rng::new(23);
    let (mut denied_by_deny, mut allowed_total) = (0, 0);
    for n in 0..400 {
        let denies: Vec<String> = (0..1 + rng.below(2))
            .map(|i| random_policy(&mut rng, &format!("deny-{i}"), "DENY"))
            .collect();
        let mut allows: Vec<String> = (0..1 + rng.below(3))
            .map(|i| random_policy(&mut rng, &format!("allow-{i}"), "ALLOW"))
            .collect();
        if rng.one_in(2) {
            allows.push(allow_all());
        }
        let only_denies = engine(&denies).unwrap();
        let full = engine(&[denies.clone(), allows.clone()].concat()).unwrap();
        for m in 0..50 {
            let req = random_request(&mut rng);
            // With no ALLOW policy, Istio allows unless a DENY matches: this is "some DENY matches".
            let deny_matches = !only_denies.evaluate(&req).allowed();
            let d = full.evaluate(&req);
            if deny_matches {
                denied_by_deny += 1;
                assert!(
                    !d.allowed(),
                    "bundle {n} request {m}: a DENY matched but {:?} allowed\n{req:?}\n{}",
                    d.verdict,
                    bundle(&[denies.clone(), allows.clone()].concat())
                );
                assert_eq!(d.verdict.effect, Effect::Deny);
                assert!(
                    d.verdict.by().is_some_and(|b| b.meta.name.starts_with("deny-")),
                    "{:?}",
                    d.verdict
                );
            } else if d.allowed() {
                allowed_total += 1;
            }
        }
    }
    assert!(
        denied_by_deny > 1_000 && allowed_total > 1_000,
        "{denied_by_deny} / {allowed_total}"
    );
}

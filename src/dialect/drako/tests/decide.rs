//! Decisions, as Drako makes them.

use serde_json::json;

use super::*;

#[test]
fn exactly_one_binding_must_match() {
    let rs = vec![
        policy("allow", allow_all()),
        binding(
            "orders",
            json!({"paths": ["/api/orders", "/api/orders/:"], "methods": ["GET"], "policies": ["allow"], "decisionStrategy": "allow"}),
        ),
        binding(
            "export",
            json!({"paths": ["/api/orders/export"], "policies": ["allow"], "decisionStrategy": "allow"}),
        ),
        binding(
            "admin",
            json!({"paths": ["/admin/*"], "excludePaths": ["/admin/health"], "policies": ["allow"], "decisionStrategy": "allow"}),
        ),
        // Another service account, another namespace: never selected here.
        obj(
            "DrakoPolicyBinding",
            "shop",
            "payments",
            json!({"destinationServiceAccounts": ["payments-sa"], "authenticationMode": "None",
            "policies": [], "decisionStrategy": "true"}),
        ),
        obj(
            "DrakoPolicyBinding",
            "other",
            "orders-elsewhere",
            json!({"destinationServiceAccounts": ["orders-sa"], "authenticationMode": "None",
            "policies": [], "decisionStrategy": "true"}),
        ),
    ];
    let e = engine(rs).unwrap();
    let cases: &[(&str, &str, bool, &str)] = &[
        ("GET", "/api/orders", true, "orders"),
        ("POST", "/api/orders", false, "no DrakoPolicyBinding"),
        ("GET", "/api/orders/7", true, "orders"),
        ("GET", "/api/orders/7/items", false, "no DrakoPolicyBinding"),
        (
            "GET",
            "/api/orders/export",
            false,
            "2 DrakoPolicyBindings match the request (orders, export)",
        ),
        ("POST", "/api/orders/export", true, "export"),
        // path-tree: `/admin/*` needs the slash after `admin`.
        ("GET", "/admin", false, "no DrakoPolicyBinding"),
        ("GET", "/admin/", true, "admin"),
        ("GET", "/admin/users/1", true, "admin"),
        ("GET", "/admin/health", false, "no DrakoPolicyBinding"),
        ("GET", "/elsewhere", false, "no DrakoPolicyBinding"),
    ];
    for (m, p, want, why) in cases {
        let req_ = req(Some(FOO), m, p);
        let d = e.evaluate(&req_);
        assert_eq!(d.allowed(), *want, "{m} {p}: {}", d.verdict.reason);
        let named = d.verdict.by().map(|b| b.meta.name.clone()).unwrap_or_default();
        assert!(
            named == *why || d.verdict.reason.to_string().contains(why),
            "{m} {p}: {named} / {}",
            d.verdict.reason
        );
    }
}

#[test]
fn destination_hosts_select_by_host_and_port() {
    let rs = vec![
        policy("allow", allow_all()),
        binding(
            "internal",
            json!({"destinationHosts": [{"hostname": "Orders.Shop", "port": 9090}], "policies": ["allow"], "decisionStrategy": "allow"}),
        ),
        binding(
            "public",
            json!({"destinationHosts": [{"hostname": "orders.example.com"}], "policies": ["allow"], "decisionStrategy": "allow"}),
        ),
    ];
    let e = engine(rs).unwrap();
    for (authority, want) in [
        ("orders.shop:9090", true),
        ("ORDERS.shop:9090", true),
        ("orders.shop:8080", false),
        ("orders.shop", false),
        ("orders.example.com", true),
        ("orders.example.com:8443", true),
        ("orders.example.org", false),
    ] {
        let mut r = req(Some(FOO), "GET", "/");
        r.set_authority(authority);
        assert_eq!(allowed(&e, &r), want, "{authority}");
    }
    assert!(e.plan().headers().iter().any(|h| h == ":scheme"));
}

#[test]
fn client_authentication_modes_skip_fail_and_bypass() {
    let group = clients(&[FOO]);
    let with = |modes: Value, strategy: &str| {
        engine(vec![
            policy("group", group.clone()),
            policy("allow", allow_all()),
            binding(
                "b",
                json!({"clientAuthenticationModes": modes, "policies": [strategy], "decisionStrategy": strategy}),
            ),
        ])
        .unwrap()
    };
    // Default [SpiffeId, Oauth2ClientId]: a member allowed, no certificate denied.
    let default = engine(vec![
        policy("group", group.clone()),
        binding(
            "b",
            json!({"clientAuthenticationModes": null, "policies": ["group"], "decisionStrategy": "group"}),
        ),
    ])
    .unwrap();
    assert!(allowed(&default, &req(Some(FOO), "GET", "/")));
    assert!(!allowed(&default, &req(None, "GET", "/")));
    assert!(default.plan().headers().iter().any(|h| h == "authorization"));
    // SpiffeId only: no certificate fails client authentication even with AllowAll.
    let spiffe_allow = with(json!(["SpiffeId"]), "allow");
    assert!(allowed(&spiffe_allow, &req(Some(BAR), "GET", "/")));
    let req_ = req(None, "GET", "/");
    let d = spiffe_allow.evaluate(&req_);
    assert!(!d.allowed() && d.verdict.reason.to_string().contains("client authentication failed"));
    // A SPIFFE ID not shaped /ns/<ns>/sa/<sa> fails SpiffeId.
    assert!(!allowed(
        &spiffe_allow,
        &req(Some("spiffe://cluster.local/workload/x"), "GET", "/")
    ));
    // None bypasses when every other mode is skipped ...
    let bypass_allow = with(json!(["SpiffeId", "None"]), "allow");
    assert!(allowed(&bypass_allow, &req(None, "GET", "/")));
    // ... but a ClientGroup then has no identifier to match.
    let bypass_group = with(json!(["SpiffeId", "None"]), "group");
    assert!(!allowed(&bypass_group, &req(None, "GET", "/")));
    assert!(allowed(&bypass_group, &req(Some(FOO), "GET", "/")));
    // A bearer token is attempted (Oauth2ClientId) and cannot be validated: no bypass.
    let oauth_none = with(json!(["Oauth2ClientId", "None"]), "allow");
    assert!(allowed(&oauth_none, &req(None, "GET", "/")));
    let mut bearer = req(None, "GET", "/");
    bearer.add_header("authorization", "Bearer abc");
    assert!(!allowed(&oauth_none, &bearer));
    // ClientGroup SPIFFE entries need SpiffeId among the modes.
    let oauth_group = with(json!(["Oauth2ClientId", "None"]), "group");
    assert!(!allowed(&oauth_group, &req(Some(FOO), "GET", "/")));
}

#[test]
fn policy_types_decide() {
    let source = json!({"type": "Source", "spec": {"source": {"namespace": "bar", "serviceAccount": "bar-client"}}});
    let origin = json!({"type": "Origin", "spec": {"origin": {"allowed": ["192.168.0.1", "10.1.0.0/16"]}}});
    let e = engine(simple(
        "(group || source) && origin",
        &[("group", clients(&[FOO])), ("source", source), ("origin", origin)],
    ))
    .unwrap();
    let at = |peer: &str, ip: &str| {
        let mut r = req(Some(peer), "GET", "/");
        r.source_ip = ip.parse().ok();
        r
    };
    assert!(allowed(&e, &at(FOO, "192.168.0.1")));
    assert!(!allowed(&e, &at(FOO, "192.168.0.2")));
    assert!(allowed(&e, &at(BAR, "10.1.2.3")));
    assert!(!allowed(&e, &at("spiffe://cluster.local/ns/bar/sa/other", "10.1.2.3")));
    let deny = engine(simple(
        "allow && !deny",
        &[("allow", allow_all()), ("deny", json!({"type": "DenyAll"}))],
    ))
    .unwrap();
    assert!(allowed(&deny, &req(Some(FOO), "GET", "/")));
    let deny = engine(simple("deny", &[("deny", json!({"type": "DenyAll"}))])).unwrap();
    let req_ = req(Some(FOO), "GET", "/");
    let d = deny.evaluate(&req_);
    assert!(
        !d.allowed() && d.verdict.reason.to_string().contains("deny=false"),
        "{}",
        d.verdict.reason
    );
}

#[test]
fn equality_strategies() {
    let e = engine(simple(
        "foo == bar",
        &[("foo", clients(&[FOO])), ("bar", clients(&[BAR]))],
    ))
    .unwrap();
    // Neither member: both false, equal.
    assert!(allowed(&e, &req(Some("spiffe://cluster.local/ns/x/sa/y"), "GET", "/")));
    assert!(!allowed(&e, &req(Some(FOO), "GET", "/")));
    let e = engine(simple(
        "foo != bar",
        &[("foo", clients(&[FOO])), ("bar", clients(&[BAR]))],
    ))
    .unwrap();
    assert!(allowed(&e, &req(Some(FOO), "GET", "/")));
    assert!(!allowed(&e, &req(Some("spiffe://cluster.local/ns/x/sa/y"), "GET", "/")));
}

#[test]
fn headers_injected_and_stripped() {
    let mut rs = simple("allow", &[("allow", allow_all())]);
    if let Some(b) = rs.last_mut() {
        b["spec"]["injectHeaders"] = json!([{"type": "ClientIds"}]);
        b["spec"]["clientAuthenticationModes"] = json!(["SpiffeId", "None"]);
    }
    let e = engine(rs).unwrap();
    let req_ = req(Some(FOO), "GET", "/");
    let d = e.evaluate(&req_);
    let hs: Vec<(&str, &str)> = d.set_headers.iter().map(|(k, v)| (*k, v.as_ref())).collect();
    let ids = format!("[{{\"type\":\"SpiffeId\",\"value\":\"{FOO}\"}}]");
    assert_eq!(
        hs,
        vec![("x-user-id", "anonymous"), ("x-drako-client-ids", ids.as_str())]
    );
    // Bypassed client authentication: no identifier, no x-drako-client-ids.
    let req_ = req(None, "GET", "/");
    let d = e.evaluate(&req_);
    assert!(d.allowed());
    let hs: Vec<(&str, &str)> = d.set_headers.iter().map(|(k, v)| (*k, v.as_ref())).collect();
    assert_eq!(hs, vec![("x-user-id", "anonymous")]);
    for h in ["x-user-id", "x-drako-*"] {
        assert!(e.plan().strip().contains(&h), "{h}");
    }
}

#[test]
fn many_bindings_cost_one_lookup() {
    let mut rs = vec![policy("allow", allow_all())];
    for i in 0..5000 {
        rs.push(binding(
            &format!("b{i}"),
            json!({"paths": [format!("/svc/{i}/:")], "policies": ["allow"], "decisionStrategy": "allow"}),
        ));
    }
    let e = engine(rs).unwrap();
    let req_ = req(Some(FOO), "GET", "/svc/4321/x");
    let d = e.evaluate(&req_);
    assert!(d.allowed());
    assert_eq!(d.verdict.by().map(|b| b.meta.name.as_str()), Some("b4321"));
    assert!(!allowed(&e, &req(Some(FOO), "GET", "/svc/4321")));
}

#[test]
fn explain_names_bindings_policies_and_the_strategy() {
    let e = engine(simple(
        "group && !deny",
        &[("group", clients(&[FOO])), ("deny", json!({"type": "DenyAll"}))],
    ))
    .unwrap();
    let r = req(Some(FOO), "GET", "/");
    let lines = e
        .explain(&r)
        .layers
        .into_iter()
        .flat_map(|l| l.lines)
        .collect::<Vec<_>>()
        .join("\n");
    for want in [
        "DrakoPolicyBinding shop/b: matches",
        "SpiffeId",
        "group (ClientGroup) = true",
        "deny (DenyAll) = false",
        "= true",
        "verdict: allow",
    ] {
        assert!(lines.contains(want), "{lines}\n  should contain {want:?}");
    }
}

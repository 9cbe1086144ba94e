//! HTTPRoute / GRPCRoute selection, route authorizations, 404, explain.

use super::*;

fn http_route(name: &str, rules: Value) -> Value {
    obj(
        "HTTPRoute",
        name,
        json!({"parentRefs": [{"group": "policy.linkerd.io", "kind": "Server", "name": "voting"}], "rules": rules}),
    )
}

fn to_route(kind: &str, name: &str) -> Value {
    let group = if kind == "GRPCRoute" {
        "gateway.networking.k8s.io"
    } else {
        "policy.linkerd.io"
    };
    json!({"group": group, "kind": kind, "name": name})
}

#[test]
fn routes_404_and_both_levels_authorize() {
    let e = engine(vec![
        server("voting", json!(8080), "HTTP/1", json!({})),
        http_route(
            "api",
            json!([{"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}]}]),
        ),
        policy(
            "route",
            to_route("HTTPRoute", "api"),
            json!([{"kind": "ServiceAccount", "name": "web"}]),
        ),
        saz(
            "server",
            json!({"meshTLS": {"serviceAccounts": [{"name": "vote-bot"}]}}),
        ),
    ]);
    let at = |peer, path| decide(&e, &Req { path, ..r(peer, 8080) });
    assert_eq!(
        at(Some(WEB), "/api/x").1.as_deref(),
        Some("AuthorizationPolicy emojivoto/route")
    );
    assert_eq!(
        at(Some(BOT), "/api/x").1.as_deref(),
        Some("ServerAuthorization emojivoto/server")
    );
    assert_eq!(
        at(Some("spiffe://cluster.local/ns/emojivoto/sa/x"), "/api/x").0,
        Effect::Deny
    );
    assert_eq!(at(Some(WEB), "/other").0, Effect::NotFound);
    assert_eq!(at(Some(WEB), "/other").1.as_deref(), Some("Server emojivoto/voting"));
}

#[test]
fn route_authorizations_follow_the_route_group() {
    // A targetRef naming the gateway group does not reach a policy.linkerd.io HTTPRoute.
    let e = engine(vec![
        server("voting", json!(8080), "HTTP/1", json!({})),
        http_route("api", json!([{}])),
        policy(
            "p",
            json!({"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "api"}),
            json!([]),
        ),
    ]);
    assert_eq!(effect(&e, &r(Some(WEB), 8080)), Effect::Deny);
}

#[test]
fn older_routes_win_ties() {
    let mut old = http_route("b-old", json!([{"matches": [{"path": {"value": "/x"}}]}]));
    old["metadata"]["creationTimestamp"] = json!("2024-01-01T00:00:00Z");
    let mut new = http_route("a-new", json!([{"matches": [{"path": {"value": "/x"}}]}]));
    new["metadata"]["creationTimestamp"] = json!("2025-01-01T00:00:00Z");
    let e = engine(vec![
        server("voting", json!(8080), "HTTP/1", json!({})),
        new,
        old,
        policy("old", to_route("HTTPRoute", "b-old"), json!([])),
    ]);
    assert_eq!(
        decide(
            &e,
            &Req {
                path: "/x",
                ..r(None, 8080)
            }
        )
        .1
        .as_deref(),
        Some("AuthorizationPolicy emojivoto/old")
    );
    // Without timestamps: alphabetical, so a-new wins and has no authorization.
    let e = engine(vec![
        server("voting", json!(8080), "HTTP/1", json!({})),
        http_route("a-new", json!([{"matches": [{"path": {"value": "/x"}}]}])),
        http_route("b-old", json!([{"matches": [{"path": {"value": "/x"}}]}])),
        policy("old", to_route("HTTPRoute", "b-old"), json!([])),
    ]);
    assert_eq!(
        effect(
            &e,
            &Req {
                path: "/x",
                ..r(None, 8080)
            }
        ),
        Effect::Deny
    );
}

#[test]
fn grpc_routes_on_grpc_servers() {
    let route = obj(
        "GRPCRoute",
        "vote",
        json!({"parentRefs": [{"group": "policy.linkerd.io", "kind": "Server", "name": "voting"}],
               "rules": [{"matches": [{"method": {"service": "emojivoto.v1.VotingService", "method": "VoteDog"}}]}]}),
    );
    let e = engine(vec![
        server("voting", json!("grpc"), "gRPC", json!({})),
        route,
        policy(
            "dog",
            to_route("GRPCRoute", "vote"),
            json!([{"kind": "ServiceAccount", "name": "web"}]),
        ),
        http_route("ignored", json!([{}])),
    ]);
    assert!(e
        .warnings()
        .iter()
        .any(|w| w.message.contains("HTTPRoutes attached to it are not used")));
    let call = |peer, method, path| {
        effect(
            &e,
            &Req {
                method,
                path,
                ..r(peer, 8080)
            },
        )
    };
    assert_eq!(
        call(Some(WEB), "POST", "/emojivoto.v1.VotingService/VoteDog"),
        Effect::Allow
    );
    assert_eq!(
        call(Some(BOT), "POST", "/emojivoto.v1.VotingService/VoteDog"),
        Effect::Deny
    );
    assert_eq!(
        call(Some(WEB), "POST", "/emojivoto.v1.VotingService/VoteCat"),
        Effect::NotFound
    );
    assert_eq!(call(Some(WEB), "GET", "/"), Effect::NotFound);
}

#[test]
fn opaque_servers_authorize_the_connection() {
    let e = engine(vec![
        server("voting", json!(8080), "opaque", json!({})),
        saz("web", json!({"meshTLS": {"serviceAccounts": [{"name": "web"}]}})),
    ]);
    assert_eq!(
        effect(
            &e,
            &Req {
                path: "/anything",
                ..r(Some(WEB), 8080)
            }
        ),
        Effect::Allow
    );
    assert_eq!(effect(&e, &r(Some(BOT), 8080)), Effect::Deny);
}

#[test]
fn invalid_route_matches_are_refused() {
    let s = || server("voting", json!(8080), "HTTP/1", json!({}));
    let cases = [
        (
            json!([{"matches": [{"path": {"type": "RegularExpression", "value": "/a("}}]}]),
            "spec.rules[0].matches[0].path.value: invalid regular expression",
        ),
        (
            json!([{"matches": [{"queryParams": [{"name": "a", "value": ""}]}]}]),
            "queryParams[0].value: must not be empty",
        ),
        (
            json!([{"matches": [{"headers": [{"type": "Prefix", "name": "a", "value": "b"}]}]}]),
            "headers[0].type",
        ),
        (
            json!([{"filters": [{"type": "RequestRedirect"}]}]),
            "spec.rules[0].filters[0]: a filter must set the field its `type` names",
        ),
        (
            json!([{"filters": [{"type": "URLRewrite", "urlRewrite": {}}]}]),
            "URLRewrite filter is not supported",
        ),
        (
            json!([{"matches": [{"path": {"value": "relative"}}]}]),
            "must be absolute",
        ),
        (json!([{"matches": [{"method": "get"}]}]), "matches[0].method"),
    ];
    for (rules, want) in cases {
        let err = refused(vec![s(), http_route("r", rules)]);
        assert!(err.contains(want), "{want}: {err}");
    }
}

#[test]
fn route_headers_are_read() {
    let e = engine(vec![
        server("voting", json!(8080), "HTTP/1", json!({})),
        http_route(
            "r",
            json!([{"matches": [{"headers": [{"name": "X-Canary", "value": "1"}]}]}]),
        ),
        policy("p", to_route("HTTPRoute", "r"), json!([])),
    ]);
    assert_eq!(e.plan().headers(), ["x-canary"]);
    let mut q = Req {
        path: "/",
        ..r(None, 8080)
    }
    .build();
    assert_eq!(e.evaluate(&q).verdict.effect, Effect::NotFound);
    q.add_header("x-canary", "1");
    assert_eq!(e.evaluate(&q).verdict.effect, Effect::Allow);
}

#[test]
fn explain_walks_server_route_and_authorizations() {
    let e = engine(vec![
        server("voting", json!(8080), "HTTP/1", json!({})),
        http_route("api", json!([{"matches": [{"path": {"value": "/api"}}]}])),
        saz("web", json!({"meshTLS": {"serviceAccounts": [{"name": "web"}]}})),
    ]);
    let q = Req {
        path: "/api",
        ..r(Some(BOT), 8080)
    }
    .build();
    let lines: Vec<String> = e.explain(&q).layers.into_iter().flat_map(|l| l.lines).collect();
    let text = lines.join("\n");
    for want in [
        "vote-bot.emojivoto.serviceaccount.identity.linkerd.cluster.local",
        "port 8080 -> Server emojivoto/voting (proxyProtocol HTTP/1, accessPolicy deny)",
        "route: HTTPRoute emojivoto/api rule 0",
        "ServerAuthorization emojivoto/web: does not permit: client identity not listed",
        "default:localhost: does not permit: client address not in its networks",
        "verdict: deny",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

#[test]
fn objects_reaching_no_server_are_reported() {
    let e = engine(vec![
        server("voting", json!(8080), "HTTP/1", json!({})),
        obj(
            "ServerAuthorization",
            "typo",
            json!({"server": {"name": "votin"}, "client": {"unauthenticated": true}}),
        ),
        policy("p", to_route("HTTPRoute", "nope"), json!([])),
        obj(
            "GRPCRoute",
            "g",
            json!({"parentRefs": [{"group": "policy.linkerd.io", "kind": "Server", "name": "voting"}]}),
        ),
    ]);
    let w: Vec<String> = e.warnings().iter().map(|w| w.to_string()).collect();
    let has = |s: &str| w.iter().any(|x| x.contains(s));
    assert!(
        has("ServerAuthorization emojivoto/typo): applies to no Server"),
        "{w:?}"
    );
    assert!(has("AuthorizationPolicy emojivoto/p): applies to no Server"), "{w:?}");
    assert!(has("GRPCRoutes attached to it are not used"), "{w:?}");
}

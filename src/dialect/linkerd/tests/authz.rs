//! ServerAuthorization, AuthorizationPolicy and its authentications, accessPolicy.

use super::*;

/// ServerAuthorization clients: each form with a client it admits and one it refuses.
#[test]
fn server_authorization_clients() {
    let other_ns = "spiffe://cluster.local/ns/other/sa/web";
    let cases: &[(Value, Option<&str>, &str, bool)] = &[
        (json!({"unauthenticated": true}), None, POD_IP, true),
        (json!({"unauthenticated": true}), None, "203.0.113.1", false), // cluster networks only
        (
            json!({"unauthenticated": true, "networks": [{"cidr": "0.0.0.0/0"}]}),
            None,
            "203.0.113.1",
            true,
        ),
        (
            json!({"unauthenticated": true, "networks": [{"cidr": "10.0.0.0/8", "except": ["10.42.0.0/16"]}]}),
            None,
            POD_IP,
            false,
        ),
        (
            json!({"unauthenticated": true, "networks": [{"cidr": "10.0.0.0/8", "except": ["10.42.0.0/16"]}]}),
            None,
            "10.43.0.1",
            true,
        ),
        (
            json!({"meshTLS": {"unauthenticatedTLS": true}}),
            Some(BOT),
            POD_IP,
            true,
        ),
        (json!({"meshTLS": {"unauthenticatedTLS": true}}), None, POD_IP, false),
        (
            json!({"meshTLS": {"serviceAccounts": [{"name": "web"}]}}),
            Some(WEB),
            POD_IP,
            true,
        ),
        (
            json!({"meshTLS": {"serviceAccounts": [{"name": "web"}]}}),
            Some(other_ns),
            POD_IP,
            false,
        ),
        (
            json!({"meshTLS": {"serviceAccounts": [{"name": "web", "namespace": "other"}]}}),
            Some(other_ns),
            POD_IP,
            true,
        ),
        (
            json!({"meshTLS": {"serviceAccounts": [{"name": "web", "namespace": "other"}]}}),
            Some(WEB),
            POD_IP,
            false,
        ),
        (
            json!({"meshTLS": {"identities": ["web.emojivoto.serviceaccount.identity.linkerd.cluster.local"]}}),
            Some(WEB),
            POD_IP,
            true,
        ),
        (
            json!({"meshTLS": {"identities": ["web.emojivoto.serviceaccount.identity.linkerd.cluster.local"]}}),
            Some(BOT),
            POD_IP,
            false,
        ),
        (
            json!({"meshTLS": {"identities": ["*.emojivoto.serviceaccount.identity.linkerd.cluster.local"]}}),
            Some(BOT),
            POD_IP,
            true,
        ),
        (
            json!({"meshTLS": {"identities": ["*.emojivoto.serviceaccount.identity.linkerd.cluster.local"]}}),
            Some(other_ns),
            POD_IP,
            false,
        ),
        (json!({"meshTLS": {"identities": ["*"]}}), Some(other_ns), POD_IP, true),
        (json!({"meshTLS": {"identities": ["*"]}}), None, POD_IP, false),
        (json!({"meshTLS": {"identities": [WEB]}}), Some(WEB), POD_IP, true),
        (json!({"meshTLS": {"identities": [WEB]}}), Some(BOT), POD_IP, false),
    ];
    for (client, peer, ip, want) in cases {
        let e = engine(vec![
            server("voting", json!(8080), "HTTP/1", json!({})),
            saz("a", client.clone()),
        ]);
        let q = Req {
            ip: Some(ip),
            ..r(*peer, 8080)
        };
        let (eff, by, _) = decide(&e, &q);
        assert_eq!(eff == Effect::Allow, *want, "{client} {peer:?} {ip}");
        let want_by = if *want {
            "ServerAuthorization emojivoto/a"
        } else {
            "Server emojivoto/voting"
        };
        assert_eq!(by.as_deref(), Some(want_by));
    }
}

#[test]
fn server_authorization_selects_servers_by_name_or_labels() {
    let by = |server_sel: Value| {
        let z = obj(
            "ServerAuthorization",
            "a",
            json!({"server": server_sel, "client": {"meshTLS": {"serviceAccounts": [{"name": "web"}]}}}),
        );
        let e = engine(vec![server("voting", json!(8080), "HTTP/1", json!({})), z]);
        effect(&e, &r(Some(WEB), 8080))
    };
    assert_eq!(by(json!({"name": "voting"})), Effect::Allow);
    assert_eq!(by(json!({"name": "other"})), Effect::Deny);
    assert_eq!(
        by(json!({"selector": {"matchLabels": {"tier": "backend"}}})),
        Effect::Allow
    );
    assert_eq!(
        by(json!({"selector": {"matchLabels": {"tier": "frontend"}}})),
        Effect::Deny
    );
    assert_eq!(
        by(json!({"selector": {}})),
        Effect::Allow,
        "an empty selector selects every Server"
    );
}

#[test]
fn server_authorization_errors() {
    let s = || server("voting", json!(8080), "HTTP/1", json!({}));
    let err = refused(vec![
        s(),
        obj(
            "ServerAuthorization",
            "a",
            json!({"server": {"name": "voting"}, "client": {}}),
        ),
    ]);
    assert!(err.contains("no client authentication configured"), "{err}");
    let err = refused(vec![s(), saz("a", json!({"meshTLS": {}}))]);
    assert!(err.contains("authorizes no clients"), "{err}");
    let err = refused(vec![
        s(),
        saz(
            "a",
            json!({"unauthenticated": true, "networks": [{"cidr": "10.0.0.0/33"}]}),
        ),
    ]);
    assert!(err.contains("spec.client.networks[0].cidr"), "{err}");
}

#[test]
fn authorization_policy_authentications_are_anded() {
    let e = engine(vec![
        server("voting", json!(8080), "HTTP/1", json!({})),
        policy("p", to_server(), json!([mtls_ref("web"), net_ref("pods")])),
        mtls(
            "web",
            json!({"identities": ["web.emojivoto.serviceaccount.identity.linkerd.cluster.local"]}),
        ),
        nets("pods", "10.42.0.0/16"),
    ]);
    let cases = [
        (Some(WEB), POD_IP, Effect::Allow),
        (Some(WEB), "10.99.0.1", Effect::Deny),
        (Some(BOT), POD_IP, Effect::Deny),
        (None, POD_IP, Effect::Deny),
    ];
    for (peer, ip, want) in cases {
        let q = Req {
            ip: Some(ip),
            ..r(peer, 8080)
        };
        assert_eq!(effect(&e, &q), want, "{peer:?} {ip}");
    }
}

#[test]
fn authorization_policy_without_networks_admits_every_address() {
    let e = engine(vec![
        server("voting", json!(8080), "HTTP/1", json!({})),
        policy("p", to_server(), json!([{"kind": "ServiceAccount", "name": "web"}])),
    ]);
    let q = |ip| Req {
        ip,
        ..r(Some(WEB), 8080)
    };
    assert_eq!(effect(&e, &q(Some("198.51.100.1"))), Effect::Allow);
    assert_eq!(
        effect(&e, &q(None)),
        Effect::Allow,
        "every network holds without an address"
    );
    assert_eq!(effect(&e, &r(Some(BOT), 8080)), Effect::Deny);
    // Only networks: anyone from there, authenticated or not.
    let e = engine(vec![
        server("voting", json!(8080), "HTTP/1", json!({})),
        policy("p", to_server(), json!([net_ref("pods")])),
        nets("pods", "10.42.0.0/16"),
    ]);
    assert_eq!(effect(&e, &r(None, 8080)), Effect::Allow);
    assert_eq!(
        effect(
            &e,
            &Req {
                ip: Some("10.1.0.1"),
                ..r(None, 8080)
            }
        ),
        Effect::Deny
    );
    assert_eq!(
        effect(
            &e,
            &Req {
                ip: None,
                ..r(None, 8080)
            }
        ),
        Effect::Deny,
        "unknown address: fail closed"
    );
}

#[test]
fn mesh_tls_identity_refs() {
    let e = engine(vec![
        server("voting", json!(8080), "HTTP/1", json!({})),
        policy("p", to_server(), json!([mtls_ref("m")])),
        mtls(
            "m",
            json!({"identityRefs": [{"kind": "ServiceAccount", "name": "web"}, {"kind": "Namespace", "name": "ops"}]}),
        ),
    ]);
    let cases = [
        (WEB, Effect::Allow),
        (BOT, Effect::Deny),
        ("spiffe://cluster.local/ns/ops/sa/anyone", Effect::Allow),
        ("spiffe://cluster.local/ns/ops2/sa/anyone", Effect::Deny),
    ];
    for (p, want) in cases {
        assert_eq!(effect(&e, &r(Some(p), 8080)), want, "{p}");
    }
}

#[test]
fn namespace_target_applies_to_every_server() {
    let e = engine(vec![
        server("voting", json!(8080), "HTTP/1", json!({})),
        server("admin", json!(8081), "HTTP/1", json!({})),
        policy(
            "ns",
            json!({"kind": "Namespace", "name": NS}),
            json!([{"kind": "ServiceAccount", "name": "web"}]),
        ),
    ]);
    for port in [8080, 8081] {
        assert_eq!(
            decide(&e, &r(Some(WEB), port)).1.as_deref(),
            Some("AuthorizationPolicy emojivoto/ns")
        );
        assert_eq!(effect(&e, &r(Some(BOT), port)), Effect::Deny);
    }
}

/// "If any of the referred objects cannot be found, the authorization will be ignored" (the
/// AuthorizationPolicy CRD): loaded, warned about, granting nothing.
#[test]
fn policies_with_missing_authentications_are_ignored() {
    for missing in [mtls_ref("missing"), net_ref("missing")] {
        let e = engine(vec![
            server("voting", json!(8080), "HTTP/1", json!({})),
            policy("p", to_server(), json!([missing])),
        ]);
        assert!(e.warnings().iter().any(|w| w.message.contains("could not find")));
        assert_eq!(effect(&e, &r(Some(WEB), 8080)), Effect::Deny);
    }
    let e = engine(vec![
        server("voting", json!(8080), "HTTP/1", json!({})),
        mtls("m", json!({"identities": ["*"]})),
        policy("p", to_server(), json!([mtls_ref("m")])),
    ]);
    assert_eq!(effect(&e, &r(Some(WEB), 8080)), Effect::Allow);
}

#[test]
fn authorization_policy_errors() {
    let s = || server("voting", json!(8080), "HTTP/1", json!({}));
    let cases = [
        (
            vec![
                s(),
                mtls("m", json!({"identities": ["*"]})),
                policy(
                    "p",
                    to_server(),
                    json!([mtls_ref("m"), {"kind": "ServiceAccount", "name": "web"}]),
                ),
            ],
            "a MeshTLSAuthentication and ServiceAccount may not be set together",
        ),
        (
            vec![s(), policy("p", json!({"kind": "Service", "name": "x"}), json!([]))],
            "unsupported authorization target",
        ),
        (
            vec![
                s(),
                policy("p", json!({"kind": "Namespace", "name": "other"}), json!([])),
            ],
            "cannot target another namespace: other",
        ),
        (
            vec![s(), policy("p", to_server(), json!([{"kind": "Secret", "name": "x"}]))],
            "unsupported authentication kind(s): Secret",
        ),
        (
            vec![s(), mtls("m", json!({}))],
            "exactly one of identities and identityRefs",
        ),
        (
            vec![s(), mtls("m", json!({"identityRefs": [{"kind": "Pod", "name": "x"}]}))],
            "invalid identity target kind: Pod",
        ),
        (
            vec![s(), mtls("m", json!({"identities": ["**.cluster.local"]}))],
            "id **.cluster.local is invalid",
        ),
        (
            vec![
                s(),
                mtls(
                    "m",
                    json!({"identityRefs": [{"kind": "Namespace", "name": "x", "namespace": "x"}]}),
                ),
            ],
            "cannot have a namespace",
        ),
        (
            vec![s(), obj("NetworkAuthentication", "n", json!({}))],
            "at least one network must be specified",
        ),
        (
            vec![
                s(),
                obj(
                    "NetworkAuthentication",
                    "n",
                    json!({"networks": [{"cidr": "10.1.1.0/24", "except": ["10.1.2.0/24"]}]}),
                ),
            ],
            "does not include exception",
        ),
    ];
    for (rs, want) in cases {
        let err = refused(rs);
        assert!(err.contains(want), "{want}: {err}");
    }
}

#[test]
fn access_policy_audit_allows_and_reports() {
    let e = engine(vec![
        server("voting", json!(8080), "HTTP/1", json!({"accessPolicy": "audit"})),
        saz("web", json!({"meshTLS": {"serviceAccounts": [{"name": "web"}]}})),
    ]);
    let (eff, by, dry) = decide(&e, &r(Some(BOT), 8080));
    assert_eq!(
        (eff, by.as_deref(), dry),
        (Effect::Allow, Some("Server emojivoto/voting"), vec![Effect::Deny])
    );
    let (eff, by, dry) = decide(&e, &r(Some(WEB), 8080));
    assert_eq!(
        (eff, by.as_deref(), dry),
        (Effect::Allow, Some("ServerAuthorization emojivoto/web"), vec![]),
        "an authorized client is not reported"
    );
}

#[test]
fn access_policy_can_be_any_default_policy() {
    let e = engine(vec![server(
        "voting",
        json!(8080),
        "HTTP/1",
        json!({"accessPolicy": "all-authenticated"}),
    )]);
    assert_eq!(effect(&e, &r(Some(BOT), 8080)), Effect::Allow);
    assert_eq!(effect(&e, &r(None, 8080)), Effect::Deny);
}

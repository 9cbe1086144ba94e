//! Server selection, ports, default policies and settings.

use super::*;

#[test]
fn server_selects_by_labels_and_port() {
    let sel = |m: Value| {
        let mut s = server("voting", json!(8080), "HTTP/1", json!({}));
        s["spec"]["podSelector"] = m;
        engine(vec![
            s,
            saz("web", json!({"meshTLS": {"serviceAccounts": [{"name": "web"}]}})),
        ])
    };
    // (selector, selects?) — a selected Server denies vote-bot; an unselected one leaves the
    // default all-unauthenticated policy.
    let cases = [
        (json!({"matchLabels": {"app": "voting-svc"}}), true),
        (json!({"matchLabels": {"app": "web-svc"}}), false),
        (json!({}), true),
        (
            json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "voting-svc"]}]}),
            true,
        ),
        (
            json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["a"]}]}),
            false,
        ),
        (
            json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["a"]}]}),
            true,
        ),
        (
            json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["voting-svc"]}]}),
            false,
        ),
        (
            json!({"matchExpressions": [{"key": "app", "operator": "Exists"}]}),
            true,
        ),
        (
            json!({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}),
            false,
        ),
        (
            json!({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}),
            true,
        ),
        (
            json!({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}),
            false,
        ),
    ];
    for (m, selects) in cases {
        let e = sel(m.clone());
        let want = if selects { Effect::Deny } else { Effect::Allow };
        assert_eq!(effect(&e, &r(Some(BOT), 8080)), want, "{m}");
        assert_eq!(effect(&e, &r(Some(WEB), 8080)), Effect::Allow, "{m}");
    }
}

#[test]
fn named_ports_resolve_through_the_workload() {
    let e = engine(vec![server("voting", json!("grpc"), "gRPC", json!({}))]);
    assert_eq!(
        effect(&e, &r(Some(WEB), 8080)),
        Effect::Deny,
        "grpc = 8080 has the Server"
    );
    assert_eq!(
        effect(&e, &r(Some(WEB), 8081)),
        Effect::Allow,
        "8081 has none: default policy"
    );
    let e = engine(vec![server("voting", json!("admin"), "gRPC", json!({}))]);
    assert!(e
        .warnings()
        .iter()
        .any(|w| w.message.contains("no port named \"admin\"")));
    assert_eq!(effect(&e, &r(Some(WEB), 8080)), Effect::Allow);
}

#[test]
fn servers_of_other_namespaces_do_not_apply() {
    let mut s = server("voting", json!(8080), "HTTP/1", json!({}));
    s["metadata"]["namespace"] = json!("other");
    let e = engine(vec![s]);
    assert_eq!(effect(&e, &r(Some(BOT), 8080)), Effect::Allow);
}

/// Two Servers selecting one port: the older wins, by creation timestamp then name
/// (`Pod::reindex_servers`); the other is skipped with a warning.
#[test]
fn overlapping_servers_the_oldest_wins() {
    let mut b = server(
        "b",
        json!(8080),
        "HTTP/1",
        json!({"accessPolicy": "all-unauthenticated"}),
    );
    b["metadata"]["creationTimestamp"] = json!("2024-01-01T00:00:00Z");
    let mut a = server("a", json!("grpc"), "HTTP/1", json!({}));
    a["metadata"]["creationTimestamp"] = json!("2024-01-02T00:00:00Z");
    let e = engine(vec![a.clone(), b.clone()]);
    assert_eq!(effect(&e, &r(Some(BOT), 8080)), Effect::Allow, "b is older");
    assert!(e
        .warnings()
        .iter()
        .any(|w| w.message.contains("port 8080 is already served by Server emojivoto/b")));
    a["metadata"]["creationTimestamp"] = json!("2024-01-01T00:00:00Z");
    let e = engine(vec![b, a]);
    assert_eq!(effect(&e, &r(Some(BOT), 8080)), Effect::Deny, "same age: a by name");
}

#[test]
fn server_validation_names_the_field() {
    let cases = [
        (server("s", json!(0), "HTTP/1", json!({})), "spec.port"),
        (server("s", json!(8080), "http", json!({})), "spec.proxyProtocol"),
        (
            server("s", json!(8080), "HTTP/1", json!({"accessPolicy": "allow"})),
            "spec.accessPolicy",
        ),
        (
            server(
                "s",
                json!(8080),
                "HTTP/1",
                json!({"podSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}}),
            ),
            "matchExpressions[0].values",
        ),
        (server("s", json!(8080), "HTTP/1", json!({"portt": 1})), "spec.portt"),
    ];
    for (s, field) in cases {
        let err = refused(vec![s]);
        assert!(err.contains(field), "{field}: {err}");
    }
}

/// Every default inbound policy on a port without a Server, each with a client it admits and
/// one it refuses (unauthenticated from outside the cluster is refused by all but the
/// `all-unauthenticated` and `audit` ones).
#[test]
fn default_inbound_policies() {
    let outside = "198.51.100.1";
    let cases: &[(&str, Option<&str>, &str, Effect)] = &[
        ("all-unauthenticated", None, outside, Effect::Allow),
        ("all-authenticated", Some(BOT), outside, Effect::Allow),
        ("all-authenticated", None, POD_IP, Effect::Deny),
        ("cluster-unauthenticated", None, POD_IP, Effect::Allow),
        ("cluster-unauthenticated", None, outside, Effect::Deny),
        ("cluster-authenticated", Some(BOT), POD_IP, Effect::Allow),
        ("cluster-authenticated", Some(BOT), outside, Effect::Deny),
        ("cluster-authenticated", None, POD_IP, Effect::Deny),
        ("deny", Some(WEB), POD_IP, Effect::Deny),
        ("deny", None, "127.0.0.1", Effect::Allow), // the proxy's localhost authorization
        ("audit", None, outside, Effect::Allow),
    ];
    for (p, peer, ip, want) in cases {
        let e = load(vec![], json!({"linkerd": {"defaultInboundPolicy": p}}));
        // An empty bundle has no Linkerd layer; give it one object that selects nothing.
        let e = e.and_then(|_| {
            let mut s = server("x", json!(1), "HTTP/1", json!({}));
            s["spec"]["podSelector"] = json!({"matchLabels": {"app": "nothing"}});
            load(vec![s], json!({"linkerd": {"defaultInboundPolicy": p}}))
        });
        let e = e.unwrap();
        let q = Req {
            ip: Some(ip),
            ..r(*peer, 9999)
        };
        let (eff, by, dry) = decide(&e, &q);
        assert_eq!(eff, *want, "{p} {peer:?} {ip}");
        assert_eq!(by, None, "a default policy is no resource");
        assert_eq!(!dry.is_empty(), *p == "audit", "{p}");
    }
}

#[test]
fn cluster_networks_come_from_settings() {
    let mut s = server("x", json!(1), "HTTP/1", json!({}));
    s["spec"]["podSelector"] = json!({"matchLabels": {"app": "nothing"}});
    let e = load(
        vec![s],
        json!({"linkerd": {"defaultInboundPolicy": "cluster-unauthenticated", "clusterNetworks": ["192.0.2.0/24"]}}),
    )
    .unwrap();
    assert_eq!(
        effect(
            &e,
            &Req {
                ip: Some("192.0.2.9"),
                ..r(None, 9)
            }
        ),
        Effect::Allow
    );
    assert_eq!(
        effect(
            &e,
            &Req {
                ip: Some("10.0.0.1"),
                ..r(None, 9)
            }
        ),
        Effect::Deny
    );
}

#[test]
fn bad_settings_are_refused() {
    let s = || server("voting", json!(8080), "HTTP/1", json!({}));
    let err = load(vec![s()], json!({"linkerd": {"defaultInboundPolicy": "allow"}}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("settings.linkerd.defaultInboundPolicy"), "{err}");
    let err = load(
        vec![s()],
        json!({"linkerd": {"clusterNetworks": ["10.0.0.0/8", "nope"]}}),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("settings.linkerd.clusterNetworks[1]"), "{err}");
}

#[test]
fn localhost_authorization_can_be_turned_off() {
    let rs = || vec![server("voting", json!(8080), "HTTP/1", json!({}))];
    let local = Req {
        ip: Some("127.0.0.1"),
        ..r(Some(BOT), 8080)
    };
    assert_eq!(effect(&engine(rs()), &local), Effect::Allow);
    let e = load(rs(), json!({"linkerd": {"authorizeLocalhost": false}})).unwrap();
    assert_eq!(effect(&e, &local), Effect::Deny);
}

#[test]
fn control_plane_namespace_and_trust_domain_shape_identities() {
    let e = load(
        vec![
            server("voting", json!(8080), "HTTP/1", json!({})),
            saz(
                "a",
                json!({"meshTLS": {"identities": ["web.emojivoto.serviceaccount.identity.l5d.cluster.local"]}}),
            ),
        ],
        json!({"linkerd": {"controlPlaneNamespace": "l5d"}}),
    )
    .unwrap();
    assert_eq!(effect(&e, &r(Some(WEB), 8080)), Effect::Allow);
    let e = engine(vec![
        server("voting", json!(8080), "HTTP/1", json!({})),
        saz(
            "a",
            json!({"meshTLS": {"identities": ["web.emojivoto.serviceaccount.identity.l5d.cluster.local"]}}),
        ),
    ]);
    assert_eq!(effect(&e, &r(Some(WEB), 8080)), Effect::Deny);
}

#[test]
fn unknown_port_with_several_servers_fails_closed() {
    let e = engine(vec![
        server("a", json!(8080), "HTTP/1", json!({})),
        server("b", json!(8081), "HTTP/1", json!({})),
        policy("ns", json!({"kind": "Namespace", "name": NS}), json!([])),
    ]);
    assert_eq!(
        effect(
            &e,
            &Req {
                port: None,
                ..r(Some(WEB), 0)
            }
        ),
        Effect::Deny
    );
    assert_eq!(effect(&e, &r(Some(WEB), 8080)), Effect::Allow);
}

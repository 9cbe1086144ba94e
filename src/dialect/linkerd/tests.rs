//! The Linkerd layer end to end through the engine: one table per rule, positive and negative
//! cases named alike.

use serde_json::{json, Value};

use crate::decision::Effect;
use crate::error::BundleError;
use crate::{Engine, Peer, Request, Workload};

const NS: &str = "emojivoto";
const WEB: &str = "spiffe://cluster.local/ns/emojivoto/sa/web";
const BOT: &str = "spiffe://cluster.local/ns/emojivoto/sa/vote-bot";
const POD_IP: &str = "10.42.0.7";

fn server(name: &str, port: Value, proto: &str, extra: Value) -> Value {
    let mut spec = json!({"podSelector": {"matchLabels": {"app": "voting-svc"}}, "port": port, "proxyProtocol": proto});
    if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    json!({"apiVersion": "policy.linkerd.io/v1beta3", "kind": "Server",
           "metadata": {"name": name, "namespace": NS, "labels": {"app": "voting-svc", "tier": "backend"}},
           "spec": spec})
}

fn obj(kind: &str, name: &str, spec: Value) -> Value {
    let api = match kind {
        "ServerAuthorization" => "policy.linkerd.io/v1beta1",
        "GRPCRoute" => "gateway.networking.k8s.io/v1",
        "HTTPRoute" => "policy.linkerd.io/v1beta3",
        _ => "policy.linkerd.io/v1alpha1",
    };
    json!({"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": NS}, "spec": spec})
}

fn saz(name: &str, client: Value) -> Value {
    obj(
        "ServerAuthorization",
        name,
        json!({"server": {"name": "voting"}, "client": client}),
    )
}

fn load(resources: Vec<Value>, settings: Value) -> Result<Engine, BundleError> {
    let b = json!({
        "workload": {"namespace": NS, "serviceAccount": "voting", "labels": {"app": "voting-svc"},
                     "ports": {"grpc": 8080, "http": 8081}},
        "settings": settings,
        "resources": resources,
    });
    Engine::from_json(b.to_string().as_bytes(), &Workload::default())
}

fn engine(resources: Vec<Value>) -> Engine {
    load(resources, json!({})).unwrap_or_else(|e| panic!("{e}"))
}

fn refused(resources: Vec<Value>) -> String {
    load(resources, json!({}))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

struct Req<'a> {
    peer: Option<&'a str>,
    method: &'a str,
    path: &'a str,
    port: Option<u16>,
    ip: Option<&'a str>,
}

fn r(peer: Option<&str>, port: u16) -> Req<'_> {
    Req {
        peer,
        method: "GET",
        path: "/",
        port: Some(port),
        ip: Some(POD_IP),
    }
}

impl Req<'_> {
    fn build(&self) -> Request {
        let mut q = Request::new(self.method, self.path);
        q.peer = self.peer.map_or(Peer::Unauthenticated, Peer::from_uri_san);
        q.port = self.port;
        q.source_ip = self.ip.map(|i| i.parse().unwrap());
        q
    }
}

/// (effect, deciding resource, dry-run effects).
fn decide(e: &Engine, q: &Req<'_>) -> (Effect, Option<String>, Vec<Effect>) {
    let d = e.evaluate(&q.build());
    (
        d.verdict.effect,
        d.verdict.by.map(|b| b.meta.to_string()),
        d.dry_run.iter().map(|v| v.effect).collect(),
    )
}

fn effect(e: &Engine, q: &Req<'_>) -> Effect {
    decide(e, q).0
}

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

#[test]
fn overlapping_servers_are_refused() {
    let err = refused(vec![
        server("a", json!(8080), "HTTP/1", json!({})),
        server("b", json!("grpc"), "HTTP/1", json!({})),
    ]);
    assert!(
        err.contains("port 8080 is already served by Server emojivoto/a"),
        "{err}"
    );
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

fn policy(name: &str, target: Value, refs: Value) -> Value {
    obj(
        "AuthorizationPolicy",
        name,
        json!({"targetRef": target, "requiredAuthenticationRefs": refs}),
    )
}

fn mtls(name: &str, spec: Value) -> Value {
    obj("MeshTLSAuthentication", name, spec)
}

fn nets(name: &str, cidr: &str) -> Value {
    obj("NetworkAuthentication", name, json!({"networks": [{"cidr": cidr}]}))
}

fn to_server() -> Value {
    json!({"group": "policy.linkerd.io", "kind": "Server", "name": "voting"})
}

fn mtls_ref(n: &str) -> Value {
    json!({"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication", "name": n})
}

fn net_ref(n: &str) -> Value {
    json!({"group": "policy.linkerd.io", "kind": "NetworkAuthentication", "name": n})
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

#[test]
fn authorization_policy_errors() {
    let s = || server("voting", json!(8080), "HTTP/1", json!({}));
    let cases = [
        (
            vec![s(), policy("p", to_server(), json!([mtls_ref("missing")]))],
            "could not find MeshTLSAuthentication missing in namespace emojivoto",
        ),
        (
            vec![s(), policy("p", to_server(), json!([net_ref("missing")]))],
            "could not find NetworkAuthentication",
        ),
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
            "must not include multiple",
        ),
        (
            vec![s(), policy("p", json!({"kind": "Service", "name": "x"}), json!([]))],
            "unsupported authorization target",
        ),
        (
            vec![s(), policy("p", to_server(), json!([{"kind": "Secret", "name": "x"}]))],
            "unsupported authentication target",
        ),
        (vec![s(), mtls("m", json!({}))], "no identities configured"),
        (
            vec![s(), mtls("m", json!({"identityRefs": [{"kind": "Pod", "name": "x"}]}))],
            "spec.identityRefs[0].kind",
        ),
        (vec![s(), obj("NetworkAuthentication", "n", json!({}))], "spec.networks"),
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
fn unsupported_route_features_are_refused() {
    let s = || server("voting", json!(8080), "HTTP/1", json!({}));
    let cases = [
        (
            json!([{"matches": [{"path": {"type": "RegularExpression", "value": "/a.*"}}]}]),
            "spec.rules[0].matches[0].path.type",
        ),
        (
            json!([{"matches": [{"queryParams": [{"name": "a", "value": "b"}]}]}]),
            "queryParams",
        ),
        (
            json!([{"matches": [{"headers": [{"type": "RegularExpression", "name": "a", "value": "b"}]}]}]),
            "headers[0].type",
        ),
        (
            json!([{"filters": [{"type": "RequestRedirect"}]}]),
            "spec.rules[0].filters",
        ),
        (
            json!([{"matches": [{"path": {"value": "relative"}}]}]),
            "must start with '/'",
        ),
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
    assert_eq!(e.headers_read(), ["x-canary"]);
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
    let lines: Vec<String> = e
        .explain(
            &Req {
                path: "/api",
                ..r(Some(BOT), 8080)
            }
            .build(),
        )
        .into_iter()
        .flat_map(|(_, l)| l)
        .collect();
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

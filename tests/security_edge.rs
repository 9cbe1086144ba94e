//! The request edge, black-box (issue 12): what reaches a decision from headers and connection
//! attributes as Envoy hands them over, for the bypass classes found through real Envoy
//! (tests/e2e/test_bypass.py): header values with whitespace around them, repeated/merged Host,
//! forwarded addresses, identities outside the SPIFFE spec, gRPC over HTTP/1.1, miscased
//! methods, underscores in header names. Table tests, then property tests.

#[path = "common/xorshift.rs"]
mod xorshift;

use spiffe_authz::request::{incoming, Attribute, HostReads};
use spiffe_authz::{Engine, Peer, Workload};
use xorshift::Rng;

const CLIENT: &str = "spiffe://cluster.local/ns/client/sa/client";
const DAPR_CLIENT: &str = "spiffe://cluster.local/ns/client/client-app";

/// DENY rules an attacker wants to dodge (client is otherwise allowed), and an ALLOW on a peer
/// block for another path.
const ISTIO: &str = r#"{"workload": {"namespace": "app", "serviceAccount": "app"}, "resources": [
  {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {"name": "deny", "namespace": "app"},
   "spec": {"action": "DENY", "rules": [
     {"to": [{"operation": {"hosts": ["secret.com"]}}]},
     {"to": [{"operation": {"methods": ["DELETE"]}}]},
     {"when": [{"key": "request.headers[x-role]", "values": ["admin"]}]},
     {"from": [{"source": {"ipBlocks": ["127.0.0.2"]}}], "to": [{"operation": {"paths": ["/ipdeny"]}}]},
     {"from": [{"source": {"remoteIpBlocks": ["10.0.0.0/8"]}}], "to": [{"operation": {"paths": ["/remote-deny"]}}]}]}},
  {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {"name": "allow", "namespace": "app"},
   "spec": {"rules": [
     {"from": [{"source": {"principals": ["cluster.local/ns/client/sa/client"]}}]},
     {"from": [{"source": {"ipBlocks": ["10.0.0.0/8"]}}], "to": [{"operation": {"paths": ["/ipallow"]}}]}]}}]}"#;

const DAPR: &str = r#"{"workload": {"namespace": "app", "appId": "app", "trustDomain": "cluster.local"}, "resources": [
  {"apiVersion": "dapr.io/v1alpha1", "kind": "Configuration", "metadata": {"name": "c", "namespace": "app"},
   "spec": {"accessControl": {"defaultAction": "deny", "trustDomain": "cluster.local", "policies": [
     {"appId": "client-app", "defaultAction": "allow", "trustDomain": "cluster.local", "namespace": "client",
      "operations": [{"name": "/admin", "httpVerb": ["*"], "action": "deny"}]}]}}}]}"#;

/// What the host holds: the peer's URI SAN, `source.address`, `request.protocol`.
struct Host {
    peer: &'static str,
    source: &'static str,
    protocol: &'static str,
}

const H1: Host = Host {
    peer: CLIENT,
    source: "127.0.0.2:40000",
    protocol: "HTTP/1.1",
};

impl HostReads for Host {
    fn read(&mut self, a: Attribute) -> Option<Vec<u8>> {
        let v = match a {
            Attribute::PeerUriSan => self.peer,
            Attribute::SourceAddress => self.source,
            Attribute::Protocol => self.protocol,
            _ => return None,
        };
        (!v.is_empty()).then(|| v.as_bytes().to_vec())
    }
}

/// "allow", "deny" or "400 <what>" for a request with these headers (pseudo-headers included).
fn outcome(e: &Engine, headers: &[(&str, &str)], mut host: Host) -> String {
    let mut hs: Vec<(String, Vec<u8>)> = vec![(":method".into(), b"GET".to_vec()), (":path".into(), b"/".to_vec())];
    for (k, v) in headers {
        hs.retain(|(n, _)| !(k.starts_with(':') && n == k));
        hs.push((k.to_string(), v.as_bytes().to_vec()));
    }
    match incoming(e.plan(), hs, &mut host) {
        Err(r) => format!("400 {}", r.error.what()),
        Ok(i) if e.evaluate(&i.request).allowed() => "allow".into(),
        Ok(_) => "deny".into(),
    }
}

fn engine(json: &str) -> Engine {
    Engine::from_json(json.as_bytes(), &Workload::default()).expect("bundle loads")
}

#[test]
fn istio_rules_cannot_be_dodged_at_the_edge() {
    let e = engine(ISTIO);
    type Case = (
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static str,
        &'static str,
    );
    let cases: &[Case] = &[
        // (name, headers, source.address, outcome)
        ("control", &[], "127.0.0.2:1", "allow"),
        ("role admin", &[("x-role", "admin")], "127.0.0.2:1", "deny"),
        (
            "role with a trailing space",
            &[("x-role", "admin ")],
            "127.0.0.2:1",
            "deny",
        ),
        (
            "role with a leading tab",
            &[("x-role", "\tadmin")],
            "127.0.0.2:1",
            "deny",
        ),
        ("role, inner space", &[("x-role", "ad min")], "127.0.0.2:1", "allow"),
        ("x_role alias", &[("x_role", "admin")], "127.0.0.2:1", "400 header name"),
        ("other underscore", &[("x_other", "1")], "127.0.0.2:1", "allow"),
        ("host", &[(":authority", "secret.com")], "127.0.0.2:1", "deny"),
        (
            "merged hosts",
            &[(":authority", "other.example,secret.com")],
            "127.0.0.2:1",
            "400 authority",
        ),
        ("DELETE", &[(":method", "DELETE")], "127.0.0.2:1", "deny"),
        ("delete", &[(":method", "delete")], "127.0.0.2:1", "400 method"),
        ("Delete", &[(":method", "Delete")], "127.0.0.2:1", "400 method"),
        (
            "custom lowercase method",
            &[(":method", "purge")],
            "127.0.0.2:1",
            "allow",
        ),
        ("peer in the DENY block", &[(":path", "/ipdeny")], "127.0.0.2:1", "deny"),
        ("peer outside it", &[(":path", "/ipdeny")], "127.0.0.3:1", "allow"),
        (
            "X-Forwarded-For made the address",
            &[(":path", "/ipdeny")],
            "10.1.2.3:0",
            "deny",
        ),
        (
            "remote DENY: resolved client",
            &[(":path", "/remote-deny")],
            "10.1.2.3:0",
            "deny",
        ),
        (
            "remote DENY: peer",
            &[(":path", "/remote-deny")],
            "127.0.0.2:1",
            "allow",
        ),
    ];
    for (name, headers, source, want) in cases {
        let host = Host { source, ..H1 };
        assert_eq!(outcome(&e, headers, host), *want, "{name}");
    }
    // An ALLOW on a peer block is not met by a header-made address, with or without identity.
    for peer in [CLIENT, "spiffe://cluster.local/ns/other/sa/other", ""] {
        let host = |source| Host { peer, source, ..H1 };
        let want = if peer == CLIENT { "allow" } else { "deny" };
        assert_eq!(
            outcome(&e, &[(":path", "/ipallow")], host("10.1.2.3:0")),
            want,
            "{peer}"
        );
        assert_eq!(
            outcome(&e, &[(":path", "/ipallow")], host("10.1.2.3:5")),
            "allow",
            "{peer}"
        );
    }
}

#[test]
fn identities_outside_the_spiffe_spec_are_unauthenticated() {
    let e = engine(ISTIO);
    for peer in [
        "spiffe://cluster.local/ns/client/sa/clien%74",
        "spiffe://cluster.local/ns/client/sa/client;x=1",
        "spiffe://cluster.local/ns/client/sa/client@x",
        "spiffe://cluster.local/ns/cli%65nt/sa/client",
        "spiffe://Cluster.local/ns/client/sa/client",
        "spiffe://cluster.local/ns//sa/client",
    ] {
        // Not authenticated (a `spiffe://` URI that is not a SPIFFE ID is Peer::InvalidSpiffe:
        // no rule sees an identity in it either).
        assert_eq!(Peer::from_uri_san(peer).id(), None, "{peer}");
        assert_eq!(outcome(&e, &[], Host { peer, ..H1 }), "deny", "{peer}");
    }
}

#[test]
fn grpc_only_over_http2_for_dapr() {
    let e = engine(DAPR);
    let grpc = |path| {
        [
            (":method", "POST"),
            (":path", path),
            ("content-type", "application/grpc"),
        ]
    };
    let host = |protocol| Host {
        peer: DAPR_CLIENT,
        protocol,
        ..H1
    };
    // HTTP matching lowercases the operation; gRPC's is case-sensitive.
    assert_eq!(outcome(&e, &grpc("/ADMIN"), host("HTTP/1.1")), "deny");
    assert_eq!(outcome(&e, &grpc("/ADMIN"), host("HTTP/1.0")), "deny");
    assert_eq!(outcome(&e, &grpc("/ADMIN"), host("")), "deny", "protocol unknown");
    assert_eq!(outcome(&e, &grpc("/ADMIN"), host("HTTP/2")), "allow");
    assert_eq!(outcome(&e, &grpc("/admin"), host("HTTP/2")), "deny");
    assert_eq!(outcome(&e, &[(":path", "/ADMIN")], host("HTTP/2")), "deny");
}

/// Random header values around `admin` (spaces, tabs, repeated, listed): whenever the value an
/// HTTP/1.1 application reads is `admin`, the DENY holds.
#[test]
fn property_whitespace_never_dodges_a_header_deny() {
    let e = engine(ISTIO);
    let mut rng = Rng::new(12);
    let ows = [" ", "\t", "", ""];
    for i in 0..20_000 {
        let mut v = String::new();
        (0..rng.below(3)).for_each(|_| v.push_str(rng.pick(&ows)));
        let word = rng.pick(&["admin", "user", "admin", "ad min", "Admin"]);
        v.push_str(word);
        (0..rng.below(3)).for_each(|_| v.push_str(rng.pick(&ows)));
        let app_reads = v.trim_matches([' ', '\t']);
        let got = outcome(&e, &[("x-role", v.as_str())], H1);
        assert_eq!(got == "deny", app_reads == "admin", "#{i}: x-role {v:?} -> {got}");
    }
}

/// Random URI SANs over the characters that matter: accepted exactly when the SPIFFE spec says
/// so (a reference written from the spec's grammar, independently of the parser).
#[test]
fn property_spiffe_ids_are_accepted_exactly_by_the_spec() {
    fn spec(uri: &str) -> bool {
        let Some(rest) = uri.strip_prefix("spiffe://") else {
            return false;
        };
        let (td, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let td_ok = !td.is_empty()
            && td.len() <= 255
            && td
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c));
        let path_ok = path.is_empty()
            || path[1..].split('/').all(|s| {
                !s.is_empty()
                    && s != "."
                    && s != ".."
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
            });
        td_ok && path_ok && uri.len() <= 2048
    }
    let pieces = [
        "spiffe://",
        "SPIFFE://",
        "td",
        "Td",
        "cluster.local",
        "/",
        "/",
        "ns",
        "sa",
        "a",
        "B",
        "9",
        ".",
        "..",
        "-",
        "_",
        "%61",
        ";",
        "@",
        ":",
        "~",
        "!",
        "?",
        "#",
        " ",
        "é",
    ];
    let mut rng = Rng::new(5);
    let (mut ok, mut bad) = (0, 0);
    for i in 0..100_000 {
        let mut uri = String::from(if rng.one_in(8) { rng.pick(&pieces) } else { "spiffe://" });
        (0..rng.below(9)).for_each(|_| uri.push_str(rng.pick(&pieces)));
        let accepted = Peer::from_uri_san(uri.as_str()).id().is_some();
        assert_eq!(accepted, spec(&uri), "#{i}: {uri:?}");
        if accepted {
            ok += 1
        } else {
            bad += 1
        }
    }
    assert!(ok > 5_000 && bad > 5_000, "generator too one-sided: {ok}/{bad}");
}

//! What the engine sees, built from what the host gives: table-driven, with a host that counts
//! its reads (each is a host call in Envoy).

use std::collections::HashMap;

use super::*;
use crate::request::path::Options;
use crate::request::Reads;

/// A host holding some attributes, recording every read.
#[derive(Default)]
struct FakeHost {
    attrs: HashMap<Attribute, Vec<u8>>,
    reads: Vec<Attribute>,
}

impl HostReads for FakeHost {
    fn read(&mut self, a: Attribute) -> Option<Vec<u8>> {
        self.reads.push(a);
        self.attrs.get(&a).cloned()
    }
}

const WEB: &str = "spiffe://cluster.local/ns/shop/sa/web";

fn plan(reads: Reads, headers: &[&str], strip: &[&'static str]) -> ReadPlan {
    let mut p = ReadPlan::new(Options::default());
    p.read(reads);
    headers.iter().for_each(|h| p.read_header(h));
    strip.iter().for_each(|s| p.strip_header(s));
    p.seal()
}

fn headers(hs: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    hs.iter().map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())).collect()
}

fn host(attrs: &[(Attribute, &[u8])]) -> FakeHost {
    FakeHost {
        attrs: attrs.iter().map(|(a, b)| (*a, b.to_vec())).collect(),
        reads: Vec::new(),
    }
}

fn get(hs: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    let mut all = headers(&[
        (":method", "GET"),
        (":path", "/api/x"),
        (":authority", "Shop.example:8080"),
    ]);
    all.extend(headers(hs));
    all
}

#[test]
fn pseudo_headers_become_the_request() {
    let mut h = host(&[(Attribute::PeerUriSan, WEB.as_bytes())]);
    let i = incoming(&plan(Reads::NONE, &[], &[]), &get(&[]), &mut h).unwrap();
    let r = &i.request;
    assert_eq!(
        (r.method.as_str(), r.path.as_str(), r.host.as_str(), r.host_port, r.grpc),
        ("GET", "/api/x", "shop.example", Some(8080), false)
    );
    assert_eq!(r.peer.id().map(|id| id.as_str()), Some(WEB));
    assert_eq!((i.forward_path, i.remove.len()), (None, 0));
    // Pseudo-headers the rules do not read are not kept as headers.
    assert!(r.headers.is_empty());
}

#[test]
fn only_the_attributes_the_plan_needs_are_read() {
    use Attribute::*;
    let all: &[(Attribute, &[u8])] = &[
        (PeerUriSan, WEB.as_bytes()),
        (DestinationPort, &8080i64.to_le_bytes()),
        (SourceAddress, b"10.0.0.1:53210"),
        (DestinationAddress, b"[::1]:8080"),
        (Sni, b"shop.example"),
    ];
    let cases: &[(Reads, &[Attribute])] = &[
        (Reads::NONE, &[PeerUriSan]),
        (
            Reads {
                port: true,
                ..Reads::NONE
            },
            &[PeerUriSan, DestinationPort],
        ),
        (
            Reads {
                port: true,
                source_ip: true,
                ..Reads::NONE
            },
            &[PeerUriSan, DestinationPort, SourceAddress],
        ),
        (
            Reads {
                destination_ip: true,
                sni: true,
                jwt: true,
                ..Reads::NONE
            },
            &[PeerUriSan, DestinationAddress, Sni, JwtMetadata],
        ),
    ];
    for (reads, want) in cases {
        let mut h = host(all);
        let r = incoming(&plan(*reads, &[], &[]), &get(&[]), &mut h).unwrap().request;
        assert_eq!(h.reads, *want, "{reads:?}");
        assert_eq!(r.port, reads.port.then_some(8080));
        assert_eq!(r.source_ip, reads.source_ip.then(|| [10, 0, 0, 1].into()));
        assert_eq!(r.remote_ip, r.source_ip, "the remote address is the peer's");
        assert_eq!(
            r.destination_ip,
            reads.destination_ip.then_some(std::net::Ipv6Addr::LOCALHOST.into())
        );
        assert_eq!(r.sni.as_deref(), reads.sni.then_some("shop.example"));
    }
}

#[test]
fn attributes_decode_or_are_absent() {
    use Attribute::*;
    let all = Reads {
        port: true,
        source_ip: true,
        destination_ip: true,
        sni: true,
        jwt: true,
        protocol: true,
    };
    /// (attribute bytes, port, peer address, remote address, sni)
    type Case<'a> = (
        &'a [(Attribute, &'a [u8])],
        Option<u16>,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );
    let cases: &[Case<'_>] = &[
        (
            &[
                (DestinationPort, &443i64.to_le_bytes()),
                (SourceAddress, b"10.0.0.2:5678"),
            ],
            Some(443),
            Some("10.0.0.2"),
            Some("10.0.0.2"),
            None,
        ),
        (&[(DestinationPort, &70000i64.to_le_bytes())], None, None, None, None),
        (&[(DestinationPort, b"8080")], None, None, None, None),
        (
            &[(SourceAddress, b"[fd00::1]:1234"), (Sni, b"")],
            None,
            Some("fd00::1"),
            Some("fd00::1"),
            None,
        ),
        // Envoy took the address from X-Forwarded-For: port 0, the peer is unknown.
        (&[(SourceAddress, b"10.1.2.3:0")], None, None, Some("10.1.2.3"), None),
        (&[(SourceAddress, b"[::1]:0")], None, None, Some("::1"), None),
        (&[(SourceAddress, b"10.0.0.2")], None, None, Some("10.0.0.2"), None),
        (
            &[(SourceAddress, b"not an address"), (Sni, b"a.example")],
            None,
            None,
            None,
            Some("a.example"),
        ),
    ];
    for (attrs, port, source, remote, sni) in cases {
        let r = incoming(&plan(all, &[], &[]), &get(&[]), &mut host(attrs))
            .unwrap()
            .request;
        assert_eq!(r.port, *port, "{attrs:?}");
        assert_eq!(r.source_ip, source.map(|s| s.parse().unwrap()), "{attrs:?}");
        assert_eq!(r.remote_ip, remote.map(|s| s.parse().unwrap()), "{attrs:?}");
        assert_eq!(r.sni.as_deref(), *sni, "{attrs:?}");
        assert_eq!(r.jwt, None);
    }
}

#[test]
fn the_peer_is_a_valid_spiffe_id_an_invalid_one_or_unauthenticated() {
    // A `spiffe://` URI that is not a SPIFFE ID is told apart from no SPIFFE ID at all: Drako
    // tries and fails to authenticate the first (no `None` bypass), Dapr's handshake refuses it.
    let cases: &[(Option<&[u8]>, &str)] = &[
        (Some(WEB.as_bytes()), WEB),
        (None, "unauthenticated"),
        (Some(b""), "unauthenticated"),
        (Some(b"https://cluster.local/ns/shop/sa/web"), "unauthenticated"),
        (Some(b"spiffe:/cluster.local/ns/shop/sa/web"), "unauthenticated"),
        (Some(b"spiffe://Cluster.local/ns/shop/sa/web"), "invalid"),
        (Some(b"spiffe://cluster.local/ns/shop/sa/\xff"), "invalid"),
    ];
    for (san, want) in cases {
        let mut h = host(&san.map(|s| (Attribute::PeerUriSan, s)).into_iter().collect::<Vec<_>>());
        let r = incoming(&plan(Reads::NONE, &[], &[]), &get(&[]), &mut h)
            .unwrap()
            .request;
        let got = match &r.peer {
            Peer::Spiffe(id) => id.as_str(),
            Peer::InvalidSpiffe => "invalid",
            Peer::Unauthenticated => "unauthenticated",
        };
        assert_eq!(got, *want, "{san:?}");
    }
}

#[test]
fn the_jwt_is_read_from_jwt_authn_metadata() {
    let payload = crate::request::encode_pairs(&[(b"iss", b"https://issuer"), (b"sub", b"alice")]);
    let md = crate::request::encode_pairs(&[(b"https://issuer", &payload)]);
    let reads = Reads {
        jwt: true,
        ..Reads::NONE
    };
    let r = incoming(
        &plan(reads, &[], &[]),
        &get(&[]),
        &mut host(&[(Attribute::JwtMetadata, &md)]),
    )
    .unwrap()
    .request;
    assert_eq!(
        r.jwt,
        Some(serde_json::json!({"iss": "https://issuer", "sub": "alice"}))
    );
    let r = incoming(
        &plan(reads, &[], &[]),
        &get(&[]),
        &mut host(&[(Attribute::JwtMetadata, b"junk")]),
    )
    .unwrap()
    .request;
    assert_eq!(r.jwt, None);
}

#[test]
fn headers_the_rules_read_are_kept_every_value() {
    let p = plan(Reads::NONE, &["x-role", ":method"], &[]);
    let hs = get(&[
        ("X-Role", "user"),
        ("x-other", "1"),
        ("x-role", "admin"),
        ("content-type", "application/grpc+proto"),
        ("x-bytes", "\u{0}"),
    ]);
    let r = incoming(&p, &hs, &mut host(&[])).unwrap().request;
    let kept: Vec<(&str, &str)> = r.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        kept,
        [
            (":method", "GET"),
            ("x-role", "user"),
            ("x-role", "admin"),
            ("content-type", "application/grpc+proto")
        ]
    );
    assert!(r.grpc);
    assert_eq!(r.method, "GET", "a header the rules read is also the method");
    // A value that is not UTF-8 is kept, converted lossily.
    let p = plan(Reads::NONE, &["x-bin"], &[]);
    let mut hs = get(&[]);
    hs.push(("x-bin".into(), vec![b'a', 0xff]));
    let r = incoming(&p, &hs, &mut host(&[])).unwrap().request;
    assert_eq!(r.header_values("x-bin").collect::<Vec<_>>(), ["a\u{fffd}"]);
}

#[test]
fn a_repeated_pseudo_header_counts_once() {
    let mut hs = get(&[]);
    hs.extend(headers(&[
        (":path", "/admin"),
        (":method", "DELETE"),
        ("content-type", "text/plain"),
    ]));
    hs.insert(0, ("content-type".into(), b"application/grpc".to_vec()));
    let r = incoming(&plan(Reads::NONE, &[], &[]), &hs, &mut host(&[]))
        .unwrap()
        .request;
    assert_eq!((r.path.as_str(), r.method.as_str(), r.grpc), ("/api/x", "GET", true));
}

#[test]
fn the_path_decided_on_is_the_path_forwarded() {
    // (raw :path, canonical path, :path to forward)
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("/a/b", "/a/b", None),
        ("/a/b?x=1", "/a/b", None),
        ("/a//b/../c?x=%2F", "/a/c", Some("/a/c?x=%2F")),
        ("/%61dmin", "/admin", Some("/admin")),
        ("/a#frag", "/a", Some("/a")),
    ];
    for (raw, path, forward) in cases {
        let hs = headers(&[(":path", raw), (":authority", "a")]);
        let i = incoming(&plan(Reads::NONE, &[], &[]), &hs, &mut host(&[])).unwrap();
        assert_eq!(
            (i.request.path.as_str(), i.forward_path.as_deref()),
            (*path, *forward),
            "{raw}"
        );
    }
}

#[test]
fn what_cannot_be_read_is_refused_before_any_attribute_is_read() {
    // (:path, :authority, content-type, what is refused)
    let cases: &[(&str, &str, &str, RequestError)] = &[
        ("/a%2Fb", "a", "text/plain", RequestError::Path(PathError::EscapedSlash)),
        (
            "/a/../..;/b",
            "a",
            "application/grpc",
            RequestError::Path(PathError::DotSegmentWithParameters),
        ),
        ("*", "a", "", RequestError::Path(PathError::NotAbsolute)),
        ("/", "user@a", "", RequestError::Authority(HostError::UserInfo)),
        (
            "/",
            "a:99999",
            "application/grpc",
            RequestError::Authority(HostError::InvalidPort),
        ),
    ];
    for (path, authority, ct, want) in cases {
        let mut h = host(&[(Attribute::PeerUriSan, WEB.as_bytes())]);
        let hs = headers(&[(":path", path), (":authority", authority), ("content-type", ct)]);
        let err = incoming(&plan(Reads::NONE, &[], &[]), &hs, &mut h).unwrap_err();
        assert_eq!(err.error, *want, "{path} {authority}");
        assert_eq!(err.grpc, ct.starts_with("application/grpc"));
        assert!(h.reads.is_empty(), "no host read for a refused request");
    }
    let missing = incoming(&plan(Reads::NONE, &[], &[]), &headers(&[]), &mut host(&[])).unwrap_err();
    assert_eq!(missing.error.what(), "path");
}

/// A bundle that strips headers but has no rule reading one (the fast path that skips headers
/// nobody reads must not skip those): each is still removed.
#[test]
fn headers_are_stripped_when_no_rule_reads_any() {
    let p = plan(Reads::NONE, &[], &["x-drako-*", "x-user-id"]);
    let hs = get(&[("X-User-Id", "admin"), ("accept", "*/*"), ("x-drako-client-ids", "[]")]);
    let i = incoming(&p, &hs, &mut host(&[])).unwrap();
    assert_eq!(i.remove, ["x-user-id", "x-drako-client-ids"]);
}

/// Every `content-type` value reaches the request, whatever the bundle reads (the first decides
/// gRPC); other headers only when a rule reads them.
#[test]
fn every_content_type_is_kept_other_headers_only_when_read() {
    let hs = get(&[
        ("content-type", "text/plain"),
        ("Content-Type", "application/json"),
        ("accept", "*/*"),
    ]);
    for reads in [&[][..], &["accept"][..]] {
        let i = incoming(&plan(Reads::NONE, reads, &[]), &hs, &mut host(&[])).unwrap();
        let r = &i.request;
        assert_eq!(
            r.header_values("content-type").collect::<Vec<_>>(),
            ["text/plain", "application/json"],
            "{reads:?}"
        );
        assert_eq!(r.header_values("accept").count(), reads.len(), "{reads:?}");
    }
}

#[test]
fn spoofable_headers_are_removed_each_once() {
    let p = plan(Reads::NONE, &["x-user-id"], &["x-drako-*", "x-user-id"]);
    let hs = get(&[
        ("x-user-id", "admin"),
        ("x-drako-client-ids", "[]"),
        ("X-User-Id", "root"),
        ("x-drakon", "kept"),
    ]);
    let i = incoming(&p, &hs, &mut host(&[])).unwrap();
    assert_eq!(i.remove, ["x-user-id", "x-drako-client-ids"]);
    // The engine still sees what the client sent: removal happens on the forwarded request.
    assert_eq!(
        i.request.header_values("x-user-id").collect::<Vec<_>>(),
        ["admin", "root"]
    );
}

/// The property paths the filter asks Envoy for (Envoy's attribute names): a typo would read
/// nothing, and every request would be decided as unauthenticated, without a port or address.
#[test]
fn attributes_are_read_under_envoys_names() {
    use Attribute::*;
    let cases: &[(Attribute, &[&str])] = &[
        (PeerUriSan, &["connection", "uri_san_peer_certificate"]),
        (DestinationPort, &["destination", "port"]),
        (SourceAddress, &["source", "address"]),
        (DestinationAddress, &["destination", "address"]),
        (Sni, &["connection", "requested_server_name"]),
        (
            JwtMetadata,
            &["metadata", "filter_metadata", "envoy.filters.http.jwt_authn"],
        ),
        (Protocol, &["request", "protocol"]),
    ];
    for (a, path) in cases {
        assert_eq!(a.key(), path.join("\0").as_bytes(), "{a:?}");
    }
}

#[test]
fn a_grpc_method_with_a_query_or_fragment_is_refused_http_keeps_its_query() {
    for (path, grpc, refused) in [
        ("/pkg.Svc/Call?x", true, true),
        ("/pkg.Svc/Call#x", true, true),
        ("/pkg.Svc/Call", true, false),
        ("/api/x?y", false, false),
    ] {
        let mut hs = headers(&[(":method", "POST"), (":path", path), (":authority", "svc")]);
        if grpc {
            hs.extend(headers(&[("content-type", "application/grpc")]));
        }
        let got = incoming(&plan(Reads::NONE, &[], &[]), &hs, &mut host(&[]));
        assert_eq!(
            got.as_ref().err().map(|r| (&r.error, r.grpc)),
            refused.then_some((&RequestError::GrpcMethod, true)),
            "{path} grpc={grpc}"
        );
    }
}

//! What an operator relies on at the request edge, black-box through `request::incoming` and
//! the engine (issue 17): the exact `maxLength` boundaries, the path forwarded being the path
//! decided on, `escapedSlashes` and `backslash` each setting, ports in `:authority`, and the
//! texts of the 400 log line (`spiffe-authz: bad request: <what> refused (<error>); 400`).

use spiffe_authz::request::{incoming, Attribute, HostReads, Incoming, Refused};
use spiffe_authz::{Engine, SpiffeId, Workload};

const CLIENT: &str = "spiffe://cluster.local/ns/client/sa/client";

/// The client is allowed everything but `/admin/secret` (exact), anything on `secret.com`, and
/// DELETE; `path` is the bundle's `settings.path`.
fn bundle(path: &str) -> String {
    format!(
        r#"{{"workload": {{"namespace": "app", "serviceAccount": "app"}}, "settings": {{"path": {path}}},
  "resources": [
  {{"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {{"name": "deny", "namespace": "app"}},
   "spec": {{"action": "DENY", "rules": [
     {{"to": [{{"operation": {{"paths": ["/admin/secret"]}}}}]}},
     {{"to": [{{"operation": {{"hosts": ["secret.com"]}}}}]}},
     {{"to": [{{"operation": {{"methods": ["DELETE"]}}}}]}}]}}}},
  {{"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {{"name": "allow", "namespace": "app"}},
   "spec": {{"rules": [{{"from": [{{"source": {{"principals": ["cluster.local/ns/client/sa/client"]}}}}]}}]}}}}]}}"#
    )
}

fn engine(path: &str) -> Engine {
    Engine::from_json(bundle(path).as_bytes(), &Workload::default()).expect("bundle loads")
}

/// A host whose peer is the client; nothing else.
struct Host;

impl HostReads for Host {
    fn read(&mut self, a: Attribute) -> Option<Vec<u8>> {
        (a == Attribute::PeerUriSan).then(|| CLIENT.as_bytes().to_vec())
    }
}

fn request(e: &Engine, headers: &[(&str, &str)]) -> Result<Incoming, Refused> {
    let mut hs: Vec<(String, Vec<u8>)> = vec![
        (":method".into(), b"GET".to_vec()),
        (":path".into(), b"/".to_vec()),
        (":authority".into(), b"app.example".to_vec()),
    ];
    for (k, v) in headers {
        hs.retain(|(n, _)| n != k);
        hs.push((k.to_string(), v.as_bytes().to_vec()));
    }
    incoming(e.plan(), &hs, &mut Host)
}

/// What the filter does with `:path`: `allow <forwarded :path>` (the client's when unchanged),
/// `deny`, or the 400 log line's `<what> refused (<error>)`.
fn path(e: &Engine, raw: &str) -> String {
    outcome(e, &[(":path", raw)], raw)
}

fn outcome(e: &Engine, headers: &[(&str, &str)], raw_path: &str) -> String {
    match request(e, headers) {
        Err(r) => format!("{} refused ({})", r.error.what(), r.error),
        Ok(i) if e.evaluate(&i.request).allowed() => {
            // What reaches the application is what was decided on.
            let forwarded = i.forward_path.clone().unwrap_or_else(|| raw_path.to_string());
            let decided = forwarded.split('?').next().unwrap_or_default();
            assert_eq!(decided, i.request.path, "{raw_path:?}: forwarded {forwarded:?}");
            format!("allow {forwarded}")
        }
        Ok(_) => "deny".into(),
    }
}

#[test]
fn max_length_holds_exactly_for_what_is_sent_and_what_is_forwarded() {
    let e = engine(r#"{"maxLength": 16}"#);
    let too_long = "path refused (path is longer than 16 bytes)";
    let a = |n: usize| "a".repeat(n);
    let cases: Vec<(String, String)> = vec![
        // Exactly the limit: accepted, as sent; one more byte: refused.
        (format!("/{}", a(15)), format!("allow /{}", a(15))),
        (format!("/{}", a(16)), too_long.into()),
        // The query counts.
        (format!("/{}?{}", a(7), a(7)), format!("allow /{}?{}", a(7), a(7))),
        (format!("/{}?{}", a(7), a(8)), too_long.into()),
        // Over the limit as sent, within it once cleaned up: refused all the same.
        (format!("//{}", a(15)), too_long.into()),
        (format!("/x/../{}", a(10)), format!("allow /{}", a(10))),
        (format!("/x/../{}", a(11)), too_long.into()),
        // Within the limit as sent, over it once encoded (`|` is `%7C`): refused...
        ("/||||||".into(), too_long.into()),
        // ...unless what is forwarded still fits, to the byte.
        ("/|||||".into(), "allow /%7C%7C%7C%7C%7C".into()),
        ("/||||?qq".into(), "allow /%7C%7C%7C%7C?qq".into()),
        ("/||||?qqq".into(), too_long.into()),
    ];
    for (raw, want) in &cases {
        assert_eq!(&path(&e, raw), want, "{raw:?}");
    }
    // The default limit is 8192.
    let e = engine("{}");
    assert_eq!(path(&e, &format!("/{}", a(8191))), format!("allow /{}", a(8191)));
    assert_eq!(
        path(&e, &format!("/{}", a(8192))),
        "path refused (path is longer than 8192 bytes)"
    );
}

#[test]
fn the_path_forwarded_is_the_path_decided_on() {
    let e = engine("{}");
    let cases: &[(&str, &str)] = &[
        // Already canonical: forwarded untouched (no `:path` rewrite).
        ("/a/b", "allow /a/b"),
        ("/a/b?x=%2f&y=..", "allow /a/b?x=%2f&y=.."),
        // Anything else is rewritten, the query kept.
        ("/a/b#frag", "allow /a/b"),
        ("/a/b?q#frag", "allow /a/b?q"),
        ("//a//b/?q", "allow /a/b/?q"),
        ("/a/./b/../c", "allow /a/c"),
        ("/%61/b", "allow /a/b"),
        ("/a/%7e", "allow /a/~"),
        ("/a%2a", "allow /a*"),
        ("/a%c3%a9", "allow /a%C3%A9"),
        ("/a|b", "allow /a%7Cb"),
        // Every spelling of the denied path is the denied path.
        ("/admin/secret", "deny"),
        ("/admin//secret", "deny"),
        ("/admin/./secret", "deny"),
        ("/x/../admin/secret", "deny"),
        ("/%61dmin/secret", "deny"),
        ("/admin/secret#x", "deny"),
        ("/admin/secret?x", "deny"),
        ("/admin/secret/", "allow /admin/secret/"),
    ];
    for (raw, want) in cases {
        assert_eq!(path(&e, raw), *want, "{raw:?}");
    }
    // An unchanged path is no rewrite at all (the filter then leaves `:path` alone).
    for raw in ["/a/b", "/a/b?q", "/"] {
        let i = request(&e, &[(":path", raw)]).expect(raw);
        assert_eq!(i.forward_path, None, "{raw:?}");
    }
    let e = engine(r#"{"forward": "reject-if-changed"}"#);
    assert_eq!(path(&e, "/a/b?q"), "allow /a/b?q");
    for raw in ["//a", "/a#f", "/%61", "/a|b"] {
        assert_eq!(
            path(&e, raw),
            "path refused (path is not canonical (settings.path.forward: reject-if-changed))",
            "{raw:?}"
        );
    }
}

#[test]
fn escaped_slashes_each_setting() {
    let refused = "path refused (path contains an encoded slash (%2F or %5C))";
    let backslash = "path refused (path contains a backslash)";
    let reject = engine("{}");
    let keep = engine(r#"{"escapedSlashes": "keep"}"#);
    let unescape = engine(r#"{"escapedSlashes": "unescape"}"#);
    let unescape_slash = engine(r#"{"escapedSlashes": "unescape", "backslash": "slash"}"#);
    // (raw, reject, keep, unescape, unescape + backslash: slash)
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        ("/x%2Fy", refused, "allow /x%2Fy", "allow /x/y", "allow /x/y"),
        ("/x%2fy", refused, "allow /x%2Fy", "allow /x/y", "allow /x/y"),
        ("/x%5cy", refused, "allow /x%5Cy", backslash, "allow /x/y"),
        ("/admin%2Fsecret", refused, "allow /admin%2Fsecret", "deny", "deny"),
        ("/admin%2fsecret", refused, "allow /admin%2Fsecret", "deny", "deny"),
        ("/admin%5Csecret", refused, "allow /admin%5Csecret", backslash, "deny"),
        (
            "/public%2F..%2Fadmin%2Fsecret",
            refused,
            "allow /public%2F..%2Fadmin%2Fsecret",
            "deny",
            "deny",
        ),
        ("/x%2F%2Fy", refused, "allow /x%2F%2Fy", "allow /x/y", "allow /x/y"),
        ("/x\\y", backslash, backslash, backslash, "allow /x/y"),
    ];
    for (raw, r, k, u, us) in cases {
        assert_eq!(path(&reject, raw), *r, "reject {raw:?}");
        assert_eq!(path(&keep, raw), *k, "keep {raw:?}");
        assert_eq!(path(&unescape, raw), *u, "unescape {raw:?}");
        assert_eq!(path(&unescape_slash, raw), *us, "unescape+slash {raw:?}");
    }
}

/// Every reason a path is refused, as the 400 log line says it.
#[test]
fn path_refusals_name_their_reason() {
    let e = engine("{}");
    let params = engine(r#"{"pathParameters": "strip"}"#);
    let cases: &[(&Engine, &str, &str)] = &[
        (&e, "*", "path does not start with '/'"),
        (&e, "", "path does not start with '/'"),
        (&e, "/a\x01", "path contains control character 0x01"),
        (&e, "/a%1f", "path contains control character 0x1F"),
        (&e, "/a%7F", "path contains control character 0x7F"),
        (&e, "/a b", "path contains control character 0x20"),
        (&e, "/é", "path contains a non-ASCII byte"),
        (&e, "/a%g1", "path contains '%' not followed by two hex digits"),
        (&e, "/a%1", "path contains '%' not followed by two hex digits"),
        (&params, "/..;/admin", "path contains a '.;' or '..;' segment"),
        (&e, "/a%3Fb", "path contains an encoded '?', '#' or ';' (%3F, %23, %3B)"),
        (&e, "/a%23", "path contains an encoded '?', '#' or ';' (%3F, %23, %3B)"),
        (&e, "/a%3b", "path contains an encoded '?', '#' or ';' (%3F, %23, %3B)"),
        (
            &e,
            "/admin;x=1",
            "path contains a ';' parameter (settings.path.pathParameters: reject)",
        ),
    ];
    for (e, raw, want) in cases {
        assert_eq!(path(e, raw), format!("path refused ({want})"), "{raw:?}");
    }
    assert_eq!(path(&params, "/admin;x=1/secret"), "deny");
}

/// Host rules see the host without its port; the port as written is what Drako compares.
#[test]
fn authority_ports_five_digits_and_leading_zeros() {
    let e = engine("{}");
    let invalid_port = "authority refused (authority has an invalid port)";
    let cases: &[(&str, &str, Option<u16>)] = &[
        ("secret.com", "deny", None),
        ("secret.com:1", "deny", Some(1)),
        ("secret.com:65535", "deny", Some(65535)),
        ("secret.com:10000", "deny", Some(10000)),
        ("secret.com:00443", "deny", Some(443)),
        ("secret.com:08080", "deny", Some(8080)),
        ("secret.com:0", invalid_port, None),
        ("secret.com:00000", invalid_port, None),
        ("secret.com:65536", invalid_port, None),
        ("secret.com:99999", invalid_port, None),
        ("secret.com:000443", invalid_port, None),
        ("secret.com:123456", invalid_port, None),
        ("secret.com:-1", invalid_port, None),
        ("secret.com:", "deny", None),
        ("[::1]:65535", "allow /", Some(65535)),
        ("[::1]:0443", "allow /", Some(443)),
        ("[::1]:065535", invalid_port, None),
        ("other.com:65535", "allow /", Some(65535)),
    ];
    for (authority, want, port) in cases {
        assert_eq!(outcome(&e, &[(":authority", authority)], "/"), *want, "{authority}");
        if let Ok(i) = request(&e, &[(":authority", authority)]) {
            assert_eq!(i.request.host_port, *port, "{authority}");
        }
    }
}

/// Every reason an authority, a method or a header name is refused, as the 400 log line says it.
#[test]
fn other_refusals_name_their_reason() {
    let e = engine("{}");
    let cases: &[(&str, &str, &str)] = &[
        (
            ":authority",
            "user@secret.com",
            "authority refused (authority contains a userinfo ('@'))",
        ),
        (
            ":authority",
            "other.example,secret.com",
            "authority refused (authority holds several hosts (a repeated Host header?))",
        ),
        (
            ":authority",
            "[::1",
            "authority refused (authority has an invalid IP literal)",
        ),
        (
            ":authority",
            "::1",
            "authority refused (authority has an invalid IP literal)",
        ),
        (
            ":authority",
            "secret.com/x",
            "authority refused (authority contains a character no host name has)",
        ),
        (
            ":method",
            "delete",
            "method refused (a standard method must be uppercase)",
        ),
    ];
    for (name, value, want) in cases {
        assert_eq!(outcome(&e, &[(*name, *value)], "/"), *want, "{name}: {value}");
    }
    let headers = Engine::from_json(
        br#"{"workload": {"namespace": "app"}, "resources": [
      {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {"name": "deny", "namespace": "app"},
       "spec": {"action": "DENY", "rules": [{"when": [{"key": "request.headers[x-role]", "values": ["admin"]}]}]}}]}"#,
        &Workload::default(),
    )
    .expect("bundle loads");
    assert_eq!(
        outcome(&headers, &[("x_role", "admin")], "/"),
        "header name refused (header \"x_role\" reads as a header the policy tests to CGI/WSGI \
         applications ('_' is '-'))"
    );
}

/// The peer in every log line is the SPIFFE ID exactly as the certificate carries it.
#[test]
fn spiffe_ids_display_as_written() {
    let id = SpiffeId::parse(CLIENT).expect("valid");
    assert_eq!(id.to_string(), CLIENT);
    assert_eq!(format!("{id:?}"), format!("SpiffeId({CLIENT})"));
    assert_eq!(id.as_str(), CLIENT);
    let e = engine("{}");
    let i = request(&e, &[]).expect("request");
    assert_eq!(i.request.peer.id().map(ToString::to_string).as_deref(), Some(CLIENT));
}

//! The fuzz targets' bodies, shared by cargo-fuzz (`fuzz_targets/*.rs`, nightly) and by the
//! stable-Rust driver `tests/fuzz_smoke.rs`, which includes this file as a module and feeds it
//! the committed corpus plus deterministic mutations. Every target must return normally for
//! every input: a panic is a finding. Only `spiffe_authz`, `serde_json` and `std` may be used.

use std::path::PathBuf;

use spiffe_authz::request::path::{self, Backslash, EscapedSlashes, Options, PathParameters};
use spiffe_authz::request::{incoming, normalize_host, parse_authority, Attribute, HostReads};
use spiffe_authz::{Engine, Peer, Request, Workload};

/// The bundle parser of every dialect: `Engine::from_json` on arbitrary bytes; when a bundle
/// loads, a few requests through it.
pub fn bundle(data: &[u8]) {
    for defaults in [Workload::default(), workload()] {
        if let Ok(e) = Engine::from_json(data, &defaults) {
            for (m, p) in [("GET", "/"), ("POST", "/admin/x"), ("GET", "/api/v1/items")] {
                let mut r = Request::new(m, p);
                r.peer = Peer::from_uri_san("spiffe://cluster.local/ns/default/sa/default");
                r.set_authority("example.com:80");
                r.add_header("content-type", "application/grpc");
                let _ = e.evaluate(&r);
                let _ = e.explain(&r);
            }
        }
    }
}

/// Structure-aware bundle fuzzing: one string field of a policy fixture (chosen by the first
/// three bytes) replaced by the rest of the input, so every dialect's field parsers see odd
/// values inside otherwise valid objects (byte-level mutation rarely keeps JSON valid).
pub fn fields(data: &[u8]) {
    let [f, hi, lo, rest @ ..] = data else {
        return;
    };
    let value = String::from_utf8_lossy(rest);
    FIXTURE_JSON.with(|docs| {
        let Some(doc) = docs.get(usize::from(*f) % docs.len().max(1)) else {
            return;
        };
        let mut leaves = Vec::new();
        leaf_paths(doc, &mut Vec::new(), &mut leaves);
        let Some(at) = leaves.get((usize::from(*hi) << 8 | usize::from(*lo)) % leaves.len().max(1)) else {
            return;
        };
        let mut doc = doc.clone();
        let mut slot = Some(&mut doc);
        for k in at {
            slot = slot.and_then(|v| match k {
                Key::Index(i) => v.get_mut(*i),
                Key::Name(n) => v.get_mut(n.as_str()),
            });
        }
        if let Some(slot) = slot {
            *slot = serde_json::Value::String(value.into_owned());
        }
        if let Ok(bytes) = serde_json::to_vec(&doc) {
            bundle(&bytes);
        }
    });
}

enum Key {
    Index(usize),
    Name(String),
}

fn leaf_paths(v: &serde_json::Value, here: &mut Vec<(bool, usize, String)>, out: &mut Vec<Vec<Key>>) {
    match v {
        serde_json::Value::String(_) => out.push(
            here.iter()
                .map(|(is_index, i, n)| {
                    if *is_index {
                        Key::Index(*i)
                    } else {
                        Key::Name(n.clone())
                    }
                })
                .collect(),
        ),
        serde_json::Value::Array(xs) => {
            for (i, x) in xs.iter().enumerate() {
                here.push((true, i, String::new()));
                leaf_paths(x, here, out);
                here.pop();
            }
        }
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                here.push((false, 0, k.clone()));
                leaf_paths(x, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

/// The canonicalizer (with each option set) and the other edge parsers (authority, URI SAN) on
/// arbitrary text; checks the canonical form's invariants.
pub fn path(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    for opts in option_sets() {
        if let Ok(c) = path::canonical(&s, &opts) {
            let p = c.path.as_str();
            assert!(p.starts_with('/'), "{s:?} -> {p:?}");
            assert!(
                !p.contains("//") && !p.contains("/./") && !p.contains("/../"),
                "{s:?} -> {p:?}"
            );
            assert!(!p.ends_with("/.") && !p.ends_with("/.."), "{s:?} -> {p:?}");
            assert!(p.bytes().all(|b| b.is_ascii_graphic()), "{s:?} -> {p:?}");
            assert!(c.forward().starts_with(p), "{s:?}");
            let again = path::canonicalize(p, &opts);
            assert!(again.as_deref() == Ok(p), "not idempotent: {s:?} -> {p:?} -> {again:?}");
        }
    }
    let _ = parse_authority(&s);
    let _ = normalize_host(&s);
    let _ = Peer::from_uri_san(s.as_ref());
}

/// The evaluator: a request built from the bytes, through a policy fixture (first byte) or,
/// when the first byte is 0xFF, through a bundle taken from the input (up to a NUL byte).
pub fn evaluate(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    if sel == 0xFF {
        let (json, req) = match rest.iter().position(|&b| b == 0) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &[][..]),
        };
        if let Ok(e) = Engine::from_json(json, &workload()) {
            decide(&e, sel, req);
        }
        return;
    }
    FIXTURES.with(|es| {
        if let Some(e) = es.get(usize::from(sel) % es.len().max(1)) {
            decide(e, sel, rest);
        }
    });
}

/// Builds a request from `method\npath\nauthority\nprincipal\nname:value\n...` and decides it
/// as the filter would (canonical path), and once more with the raw path (robustness).
fn decide(e: &Engine, sel: u8, req: &[u8]) {
    let text = String::from_utf8_lossy(req);
    let mut lines = text.split('\n');
    let method = lines.next().unwrap_or("GET");
    let raw_path = lines.next().unwrap_or("/");
    let authority = lines.next().unwrap_or("");
    let principal = lines.next().unwrap_or("");
    let mut r = Request::new(method, "/");
    r.peer = Peer::from_uri_san(principal);
    r.set_authority(authority);
    r.port = (sel & 1 == 1).then_some(8080);
    r.source_ip = (sel & 2 == 2).then(|| std::net::IpAddr::from([10, 0, 0, sel]));
    r.grpc = sel & 4 == 4;
    for h in lines {
        let (k, v) = h.split_once(':').unwrap_or((h, ""));
        r.add_header(k, v.trim());
    }
    if let Ok(c) = path::canonical(raw_path, &e.plan().path) {
        r.path = c.path;
        let a = e.evaluate(&r).verdict.effect;
        let b = e.evaluate(&r).verdict.effect;
        assert!(a == b, "nondeterministic decision");
        let _ = e.explain(&r);
    }
    r.path = raw_path.to_string();
    let _ = e.evaluate(&r);
}

fn option_sets() -> [Options; 5] {
    let mut keep = Options::default();
    keep.escaped_slashes = EscapedSlashes::Keep;
    let mut unescape = Options::default();
    unescape.escaped_slashes = EscapedSlashes::Unescape;
    unescape.backslash = Backslash::Slash;
    let mut strip = Options::default();
    strip.path_parameters = PathParameters::Strip;
    let mut params = Options::default();
    params.path_parameters = PathParameters::Keep;
    [Options::default(), keep, unescape, strip, params]
}

/// A host answering from the fuzzer's input: each attribute is one of the input's lines.
struct LineHost<'a>(Vec<&'a [u8]>);

impl HostReads for LineHost<'_> {
    fn read(&mut self, a: Attribute) -> Option<Vec<u8>> {
        let i = match a {
            Attribute::PeerUriSan => 0,
            Attribute::SourceAddress => 1,
            Attribute::Protocol => 2,
            Attribute::DestinationPort => 3,
            Attribute::DestinationAddress => 4,
            Attribute::Sni => 5,
            Attribute::JwtMetadata => 6,
        };
        self.0.get(i).filter(|v| !v.is_empty()).map(|v| v.to_vec())
    }
}

/// The request edge (`request::incoming`, what the filter runs on Envoy's headers and
/// attributes) with each fixture's read plan: the first byte picks the fixture; then seven
/// attribute lines (peer URI SAN, source address, protocol, ...), then `name:value` header
/// lines, all raw bytes. Checks what the edge promises the engine: header values without
/// surrounding whitespace, one host, standard methods in uppercase, no peer from a port-0
/// address.
pub fn incoming_edge(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let mut lines = rest.split(|&b| b == b'\n');
    let attrs: Vec<&[u8]> = lines.by_ref().take(7).collect();
    let headers: Vec<(String, Vec<u8>)> = lines
        .map(|l| {
            let at = l.iter().skip(1).position(|&b| b == b':').map_or(l.len(), |i| i + 1);
            (
                String::from_utf8_lossy(&l[..at]).into_owned(),
                l.get(at + 1..).unwrap_or_default().to_vec(),
            )
        })
        .collect();
    let source_port_0 = attrs.get(1).is_some_and(|a| a.ends_with(b":0"));
    FIXTURES.with(|es| {
        let Some(e) = es.get(usize::from(sel) % es.len().max(1)) else {
            return;
        };
        let Ok(i) = incoming(e.plan(), &headers, &mut LineHost(attrs.clone())) else {
            return;
        };
        let r = &i.request;
        for (n, v) in &r.headers {
            assert!(
                !v.starts_with([' ', '\t']) && !v.ends_with([' ', '\t']),
                "{n}: {v:?} not trimmed"
            );
        }
        assert!(!r.host.contains(','), "several hosts {:?}", r.host);
        assert!(
            !["get", "post", "put", "delete", "patch", "head", "options"]
                .iter()
                .any(|m| r.method.eq_ignore_ascii_case(m))
                || r.method.bytes().all(|b| b.is_ascii_uppercase()),
            "method {:?}",
            r.method
        );
        if source_port_0 {
            assert!(r.source_ip.is_none(), "a port-0 address made a peer");
        }
        let _ = e.evaluate(r);
    });
}

fn workload() -> Workload {
    Workload {
        namespace: Some("default".into()),
        service_account: Some("default".into()),
        app_id: Some("default".into()),
        ..Workload::default()
    }
}

thread_local! {
    /// Every bundle under `policies/` that loads.
    static FIXTURES: Vec<Engine> = fixture_bytes()
        .iter()
        .filter_map(|b| Engine::from_json(b, &Workload::default()).ok())
        .collect();
    /// The same bundles as JSON values.
    static FIXTURE_JSON: Vec<serde_json::Value> = fixture_bytes()
        .iter()
        .filter_map(|b| serde_json::from_slice(b).ok())
        .collect();
}

fn fixture_bytes() -> Vec<Vec<u8>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = [root.join("policies"), root.join("../policies")]
        .into_iter()
        .find(|d| d.is_dir());
    let mut files: Vec<PathBuf> = dir
        .and_then(|d| std::fs::read_dir(d).ok())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|d| std::fs::read_dir(d.path()).ok())
        .flatten()
        .flatten()
        .map(|f| f.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.to_string_lossy().ends_with(".cases.json"))
        .collect();
    files.sort();
    files.iter().filter_map(|f| std::fs::read(f).ok()).collect()
}

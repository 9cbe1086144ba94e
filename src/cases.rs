//! Request/expectation files (`policies/**/*.cases.json`, YAML too): one format for the CLI's
//! `spiffe-authz test`, the conformance and owner suites (natively and in wasm under Node) and,
//! through the same JSON, the Envoy end-to-end tests.
//!
//! ```yaml
//! bundle: backend.json          # the CLI's default: the bundle beside the file
//! cases:
//! - name: frontend may GET its profile
//!   principal: spiffe://cluster.local/ns/myapp/sa/frontend-sa   # the client certificate's URI SAN
//!   method: GET                 # default GET
//!   path: /api/profile          # default /
//!   host: backend               # port, sourceIp, remoteIp, destinationIp, sni, headers [[name, value]],
//!                               # grpc, jwt {...}, metadata {filter: {key: value}}
//!   expect: allow               # allow, deny, not-found, or bad-request (the filter answers 400 itself)
//!   policy: AuthorizationPolicy myapp/allow-frontend   # checked when given (null: a default decided)
//!   rule: 0                     # allowed, setHeaders, dryRun: checked when given
//! ```
//!
//! Each case's request is built by the filter's own glue ([`crate::request::incoming`], from the
//! case's headers and its connection attributes in Envoy's encodings), so the same code decides
//! what the engine sees in the CLI, natively, in wasm and in Envoy: a case whose request the
//! filter refuses with 400 gets `bad-request`. `allowed` is whether the request is forwarded,
//! which differs from `expect` only in dry-run (`settings.mode: dry-run`).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::decision::Decision;
use crate::request::{incoming, Attribute, HostReads, Peer, Request};
use crate::Engine;

/// A case file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// The bundle the cases are decided against (a path; how it is resolved is the reader's).
    pub bundle: Option<String>,
    /// A note for the reader.
    #[serde(default)]
    pub description: String,
    pub cases: Vec<Case>,
}

/// One request and what the engine must decide on it.
#[derive(Deserialize, Serialize, Clone, Debug)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Case {
    pub name: String,
    /// The client certificate's URI SAN, as the filter reads it (one that is not a valid SPIFFE
    /// ID is unauthenticated); none: no client certificate.
    pub principal: Option<String>,
    #[serde(default = "get")]
    pub method: String,
    #[serde(default = "root")]
    pub path: String,
    pub host: Option<String>,
    /// The connection's destination port.
    pub port: Option<u16>,
    /// The TCP peer's address.
    pub source_ip: Option<IpAddr>,
    /// The original client address (Istio `remoteIpBlocks`, `remote.ip`); defaults to `sourceIp`.
    pub remote_ip: Option<IpAddr>,
    /// The connection's local address (Istio `destination.ip`).
    pub destination_ip: Option<IpAddr>,
    /// The TLS SNI the client sent (Istio `connection.sni`).
    pub sni: Option<String>,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// A gRPC call (HTTP/2, `content-type: application/grpc`).
    #[serde(default)]
    pub grpc: bool,
    pub expect: Expect,
    /// `Some(None)`: `policy: null`, a default decided; `None`: not checked.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub policy: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_headers: Option<BTreeMap<String, String>>,
    /// Whether the request is forwarded (checked when given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<bool>,
    /// The effects of the decision's dry-run verdicts, in order (checked when given): Istio
    /// AUDIT matches and `istio.io/dry-run` policies, Linkerd `audit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<Vec<String>>,
    /// The payload of a validated JWT (what Envoy's jwt_authn leaves in metadata), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<serde_json::Value>,
    /// Other filters' dynamic metadata, `{filter: {key: value}}` (Istio
    /// `experimental.envoy.filters.*` conditions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    /// Whether the Envoy end-to-end run can reproduce this case (default true). A case marked
    /// `false` whose request the filter would refuse is decided on the request as written.
    #[serde(default, skip_serializing)]
    pub e2e: Option<bool>,
    /// Where an owner-derived case comes from (tests/owners): a note, never checked.
    #[serde(default, skip_serializing)]
    pub source: Option<serde_json::Value>,
}

/// The verdict a case expects.
#[derive(Deserialize, Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    Allow,
    Deny,
    NotFound,
    /// The filter refuses the request itself (400, gRPC INVALID_ARGUMENT) before any policy.
    BadRequest,
}

impl Expect {
    pub fn name(self) -> &'static str {
        match self {
            Expect::Allow => "allow",
            Expect::Deny => "deny",
            Expect::NotFound => "not-found",
            Expect::BadRequest => "bad-request",
        }
    }
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn get() -> String {
    "GET".into()
}
fn root() -> String {
    "/".into()
}

/// The case's connection as Envoy reports it (`get_property`), in Envoy's encodings.
struct CaseHost<'c>(&'c Case);

/// `10.0.0.1:40000`, `[::1]:40000`: how Envoy writes an address property.
fn address(ip: IpAddr, port: u16) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
    .into_bytes()
}

impl HostReads for CaseHost<'_> {
    fn read(&mut self, a: Attribute) -> Option<Vec<u8>> {
        let c = self.0;
        match a {
            Attribute::PeerUriSan => c.principal.as_ref().map(|p| p.as_bytes().to_vec()),
            Attribute::DestinationPort => c.port.map(|p| i64::from(p).to_le_bytes().to_vec()),
            Attribute::SourceAddress => c.source_ip.map(|ip| address(ip, 40000)),
            Attribute::JwtMetadata => c.jwt.as_ref().map(|p| pairs(&[("payload", p)])),
            // A gRPC case is a real gRPC call (HTTP/2); the others are HTTP/1.1 requests.
            Attribute::Protocol => Some(if c.grpc { &b"HTTP/2"[..] } else { b"HTTP/1.1" }.to_vec()),
            Attribute::DestinationAddress => c.destination_ip.map(|ip| address(ip, 8080)),
            Attribute::Sni => c.sni.as_ref().map(|s| s.as_bytes().to_vec()),
        }
    }

    fn read_filter_metadata(&mut self, filter: &str) -> Option<Vec<u8>> {
        let m = self.0.metadata.as_ref()?.get(filter)?.as_object()?;
        Some(pairs(&m.iter().map(|(k, v)| (k.as_str(), v)).collect::<Vec<_>>()))
    }
}

/// Envoy 1.40's serialization of a map property (Proxy-Wasm pairs): nested maps as pairs, lists
/// as pairs whose values are empty, strings as their bytes, numbers as 8-byte doubles.
fn pairs(entries: &[(&str, &serde_json::Value)]) -> Vec<u8> {
    use serde_json::Value;
    let encode = |v: &Value| -> Vec<u8> {
        match v {
            Value::Object(m) => pairs(&m.iter().map(|(k, v)| (k.as_str(), v)).collect::<Vec<_>>()),
            Value::Array(items) => {
                let empty = Value::String(String::new());
                let keys: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                pairs(&keys.iter().map(|k| (*k, &empty)).collect::<Vec<_>>())
            }
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Number(n) => n.as_f64().unwrap_or_default().to_le_bytes().to_vec(),
            Value::Bool(_) | Value::Null => Vec::new(),
        }
    };
    let values: Vec<Vec<u8>> = entries.iter().map(|(_, v)| encode(v)).collect();
    let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    let mut out = len(entries.len()).to_vec();
    for ((k, _), v) in entries.iter().zip(&values) {
        out.extend(len(k.len()));
        out.extend(len(v.len()));
    }
    for ((k, _), v) in entries.iter().zip(&values) {
        out.extend(k.as_bytes());
        out.push(0);
        out.extend(v);
        out.push(0);
    }
    out
}

impl Case {
    /// The request as the filter builds it (`request::incoming`, the same glue), from the case's
    /// headers and the connection attributes the bundle's plan asks for; `Err`: why the filter
    /// answers 400.
    pub fn request(&self, engine: &Engine) -> Result<Request, String> {
        let mut hs: Vec<(&str, &[u8])> = vec![
            (":method", self.method.as_bytes()),
            (":path", self.path.as_bytes()),
            (":authority", self.host.as_deref().unwrap_or("").as_bytes()),
        ];
        hs.extend(self.headers.iter().map(|(k, v)| (k.as_str(), v.as_bytes())));
        if self.grpc {
            hs.push(("content-type", b"application/grpc"));
        }
        let mut req = incoming(engine.plan(), &hs, &mut CaseHost(self))
            .map(|i| i.request)
            .map_err(|r| r.error.to_string())?;
        // The client address a trusted front proxy reported (X-Forwarded-For), which the filter
        // reads as `source.address` only where Envoy trusts it: set as given.
        if self.remote_ip.is_some() {
            req.remote_ip = self.remote_ip;
        }
        Ok(req)
    }

    /// The request built field by field, as written, for what the filter would refuse first.
    pub fn direct_request(&self) -> Request {
        let mut r = Request::new(&self.method, &self.path);
        if let Some(p) = &self.principal {
            r.peer = Peer::from_uri_san(p.as_str());
        }
        if let Some(h) = &self.host {
            r.set_authority(h);
        }
        r.port = self.port;
        r.source_ip = self.source_ip;
        r.remote_ip = self.remote_ip;
        r.destination_ip = self.destination_ip;
        r.sni = self.sni.clone();
        r.jwt = self.jwt.clone();
        if let Some(serde_json::Value::Object(m)) = &self.metadata {
            r.metadata = m.iter().map(|(f, v)| (f.clone(), v.clone())).collect();
        }
        for (k, v) in &self.headers {
            r.add_header(k, v);
        }
        if self.grpc {
            r.grpc = true;
            r.add_header("content-type", "application/grpc");
        }
        r
    }
}

/// What was decided, in the terms a case states.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Got {
    /// `allow`, `deny`, `not-found`, or `bad-request` (the filter's 400).
    pub effect: &'static str,
    pub policy: Option<String>,
    pub rule: Option<usize>,
    pub reason: String,
    pub allowed: bool,
    pub set_headers: BTreeMap<String, String>,
    pub dry_run: Vec<&'static str>,
}

impl Got {
    pub fn of(d: &Decision<'_>) -> Got {
        Got {
            effect: d.verdict.effect.name(),
            policy: d.verdict.by().map(|b| b.meta.to_string()),
            rule: d.verdict.by().and_then(|b| b.rule),
            reason: d.verdict.reason.to_string(),
            allowed: d.allowed(),
            set_headers: d
                .set_headers
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.to_string()))
                .collect(),
            dry_run: d.dry_run.iter().map(|v| v.effect.name()).collect(),
        }
    }

    /// The filter answered 400 before asking the engine.
    fn refused(why: String) -> Got {
        Got {
            effect: Expect::BadRequest.name(),
            policy: None,
            rule: None,
            reason: why,
            allowed: false,
            set_headers: BTreeMap::new(),
            dry_run: Vec::new(),
        }
    }
}

/// One difference between a case and the decision: the field, what the case expects, what was
/// decided.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub field: &'static str,
    pub expected: String,
    pub got: String,
}

/// Decides a case as the filter would; the differences (none: it passes).
pub fn check(engine: &Engine, c: &Case) -> (Got, Vec<Mismatch>) {
    let got = match c.request(engine) {
        Ok(req) => Got::of(&engine.evaluate(&req)),
        Err(_) if c.e2e == Some(false) && c.expect != Expect::BadRequest => {
            Got::of(&engine.evaluate(&c.direct_request()))
        }
        Err(why) => Got::refused(why),
    };
    let mut bad = Vec::new();
    let mut differ = |field, expected: String, actual: String| {
        if expected != actual {
            bad.push(Mismatch {
                field,
                expected,
                got: actual,
            });
        }
    };
    differ("expect", c.expect.name().into(), got.effect.into());
    if got.effect != Expect::BadRequest.name() {
        if let Some(p) = &c.policy {
            differ("policy", show(p), show(&got.policy));
        }
        if let Some(r) = c.rule {
            differ("rule", r.to_string(), show(&got.rule));
        }
        if let Some(want) = &c.dry_run {
            differ("dryRun", format!("{want:?}"), format!("{:?}", got.dry_run));
        }
        if let Some(h) = &c.set_headers {
            differ("setHeaders", format!("{h:?}"), format!("{:?}", got.set_headers));
        }
    }
    if let Some(a) = c.allowed {
        differ("allowed", a.to_string(), got.allowed.to_string());
    }
    (got, bad)
}

fn show<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map_or("null".into(), |v| v.to_string())
}

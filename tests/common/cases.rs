//! The case-file format shared by the conformance test (native and wasm) and, through the same
//! JSON, by the Envoy end-to-end tests.
//!
//! `policies/<dialect>/<name>.cases.json`:
//! ```json
//! {"bundle": "policies/istio/seed-frontend.json",
//!  "cases": [{"name": "frontend may GET", "principal": "spiffe://cluster.local/ns/myapp/sa/frontend-sa",
//!             "method": "GET", "path": "/api/profile", "host": "backend", "port": 8080,
//!             "sourceIp": "10.0.0.1", "headers": [["x-a", "1"]], "grpc": false,
//!             "expect": "allow", "policy": "AuthorizationPolicy myapp/allow", "rule": 0,
//!             "setHeaders": {"x-user-id": "anonymous"}}]}
//! ```
//! Only `name` and `expect` are required; `policy`, `rule` and `setHeaders` are checked when given.
//! `expect` is `allow`, `deny`, `not-found`, or `bad-request`: the filter refuses the request
//! itself (400, gRPC INVALID_ARGUMENT) before any policy is asked (`settings.path`).
//! Each case's request is built by the filter's own glue (`request::incoming`, from the case's
//! headers and its connection attributes in Envoy's encodings), so the same code decides what
//! the engine sees natively, in wasm under Node and in Envoy.
//! `expect` is the verdict's effect; `allowed` (checked when given) is whether the request is
//! forwarded, which differs from `expect` only in dry-run (`settings.mode: dry-run`): the verdict
//! stays `deny`, reported and counted, and the request goes through.

use serde::Deserialize;
use spiffe_authz::request::{incoming, Attribute, HostReads, ReadPlan};
use spiffe_authz::{Engine, Peer, Request, Workload};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    pub bundle: String,
    #[serde(default)]
    pub description: String,
    pub cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Case {
    pub name: String,
    pub principal: Option<String>,
    #[serde(default = "get")]
    pub method: String,
    #[serde(default = "root")]
    pub path: String,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub source_ip: Option<String>,
    /// The original client address (Istio `remoteIpBlocks`, `remote.ip`); defaults to `sourceIp`.
    pub remote_ip: Option<String>,
    /// The connection's local address (Istio `destination.ip`).
    pub destination_ip: Option<String>,
    /// The TLS SNI the client sent (Istio `connection.sni`).
    pub sni: Option<String>,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub grpc: bool,
    pub expect: String,
    pub policy: Option<String>,
    pub rule: Option<usize>,
    pub set_headers: Option<std::collections::BTreeMap<String, String>>,
    /// Whether the request is forwarded (checked when given; see the module docs).
    pub allowed: Option<bool>,
    /// The payload of a validated JWT (what Envoy's jwt_authn leaves in metadata), if any.
    /// The Envoy end-to-end run cannot make up such a token: mark these cases `"e2e": false`
    /// (tests/e2e/test_jwt.py signs real tokens instead).
    pub jwt: Option<serde_json::Value>,
    /// Other filters' dynamic metadata, `{filter: {key: value}}` (Istio
    /// `experimental.envoy.filters.*` conditions). Not set through Envoy: mark these `"e2e": false`.
    pub metadata: Option<serde_json::Value>,
    /// The effects of the decision's dry-run verdicts, in order (checked when given): Istio
    /// AUDIT matches and `istio.io/dry-run` policies, Linkerd `audit`.
    pub dry_run: Option<Vec<String>>,
    /// Whether the Envoy end-to-end run can reproduce this case (default true; false for cases
    /// that need a source address or port other than loopback's).
    #[serde(default)]
    pub e2e: Option<bool>,
    /// Where an owner-derived case comes from (tests/owners): a note, never checked.
    #[serde(default)]
    pub source: Option<serde_json::Value>,
}

fn get() -> String {
    "GET".into()
}
fn root() -> String {
    "/".into()
}

/// The case's connection as Envoy would report it (`get_property`), in Envoy's encodings.
struct CaseHost<'c>(&'c Case);

impl HostReads for CaseHost<'_> {
    fn read(&mut self, a: Attribute) -> Option<Vec<u8>> {
        let c = self.0;
        match a {
            Attribute::PeerUriSan => c.principal.as_ref().map(|p| p.as_bytes().to_vec()),
            Attribute::DestinationPort => c.port.map(|p| i64::from(p).to_le_bytes().to_vec()),
            // As Envoy writes `source.address`: `10.0.0.1:40000`, `[::1]:40000`.
            Attribute::SourceAddress => c.source_ip.as_ref().map(|ip| {
                let ip = if ip.contains(':') {
                    format!("[{ip}]")
                } else {
                    ip.clone()
                };
                format!("{ip}:40000").into_bytes()
            }),
            Attribute::JwtMetadata => c.jwt.as_ref().map(|p| pairs(&[("payload", p)])),
            // A gRPC case is a real gRPC call (HTTP/2); the others are HTTP/1.1 requests.
            Attribute::Protocol => Some(if c.grpc { &b"HTTP/2"[..] } else { b"HTTP/1.1" }.to_vec()),
            Attribute::DestinationAddress => c.destination_ip.as_ref().map(|ip| format!("{ip}:8080").into_bytes()),
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
                let keys: Vec<String> = items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect();
                pairs(&keys.iter().map(|k| (k.as_str(), &empty)).collect::<Vec<_>>())
            }
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Number(n) => n.as_f64().unwrap_or_default().to_le_bytes().to_vec(),
            Value::Bool(_) | Value::Null => Vec::new(),
        }
    };
    let values: Vec<Vec<u8>> = entries.iter().map(|(_, v)| encode(v)).collect();
    let mut out = (entries.len() as u32).to_le_bytes().to_vec();
    for ((k, _), v) in entries.iter().zip(&values) {
        out.extend((k.len() as u32).to_le_bytes());
        out.extend((v.len() as u32).to_le_bytes());
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
    /// The request as the filter builds it (`request::incoming`, the same glue): from the
    /// case's headers and the connection attributes the bundle's plan asks for.
    pub fn request(&self, plan: &ReadPlan) -> Result<Request, String> {
        let mut hs: Vec<(String, Vec<u8>)> = vec![
            (":method".into(), self.method.as_bytes().to_vec()),
            (":path".into(), self.path.as_bytes().to_vec()),
            (
                ":authority".into(),
                self.host.as_deref().unwrap_or("").as_bytes().to_vec(),
            ),
        ];
        hs.extend(self.headers.iter().map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())));
        if self.grpc {
            hs.push(("content-type".into(), b"application/grpc".to_vec()));
        }
        let mut req = incoming(plan, hs, &mut CaseHost(self))
            .map(|i| i.request)
            .map_err(|r| format!("refused with 400: {}", r.error))?;
        // The client address a trusted front proxy reported (X-Forwarded-For), which the filter
        // reads as `source.address` only where Envoy trusts it: set as given.
        if let Some(ip) = &self.remote_ip {
            req.remote_ip = ip.parse().ok();
        }
        Ok(req)
    }

    /// The request built field by field, as the CLI does: for the cases Envoy cannot reproduce
    /// (`"e2e": false`) whose path the filter would refuse with 400 before asking the engine
    /// (the engine's own answer is what they check).
    pub fn direct_request(&self) -> Request {
        let mut r = Request::new(&self.method, &self.path);
        if let Some(p) = &self.principal {
            r.peer = Peer::from_uri_san(p.as_str());
        }
        if let Some(h) = &self.host {
            r.set_authority(h);
        }
        r.port = self.port;
        r.source_ip = self.source_ip.as_deref().and_then(|s| s.parse().ok());
        r.remote_ip = self.remote_ip.as_deref().and_then(|s| s.parse().ok());
        r.destination_ip = self.destination_ip.as_deref().and_then(|s| s.parse().ok());
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

/// Runs one case file; returns the failures as readable lines.
pub fn run(file: &str, text: &str, bundle_text: impl Fn(&str) -> Option<&'static str>) -> Vec<String> {
    let cf: CaseFile = match serde_json::from_str(text) {
        Ok(c) => c,
        Err(e) => return vec![format!("{file}: {e}")],
    };
    let Some(b) = bundle_text(&cf.bundle) else {
        return vec![format!("{file}: bundle {} not found", cf.bundle)];
    };
    let engine = match Engine::from_json(b.as_bytes(), &Workload::default()) {
        Ok(e) => e,
        Err(e) => return vec![format!("{file}: bundle {}: {e}", cf.bundle)],
    };
    cf.cases
        .iter()
        .filter_map(|c| check(&engine, c).map(|bad| format!("{file}: case {:?}: {bad}", c.name)))
        .collect()
}

/// Decides one case; `None` when the engine agrees with it, else what differs.
pub fn check(engine: &Engine, c: &Case) -> Option<String> {
    let req = match (c.request(engine.plan()), c.e2e, c.expect.as_str()) {
        (Err(_), _, "bad-request") => return None,
        (Ok(_), _, "bad-request") => return Some("expected bad-request, but the filter accepts the request".into()),
        (Ok(r), _, _) => r,
        (Err(_), Some(false), _) => c.direct_request(),
        (Err(e), _, _) => return Some(e),
    };
    let d = engine.evaluate(&req);
    let got = d.verdict.effect.name();
    let policy = d.verdict.by().map(|b| b.meta.to_string());
    let rule = d.verdict.by().and_then(|b| b.rule);
    let mut bad = Vec::new();
    if got != c.expect {
        bad.push(format!("expected {}, got {got} ({})", c.expect, d.verdict.reason));
    }
    if c.policy.is_some() && c.policy != policy {
        bad.push(format!("expected policy {:?}, got {policy:?}", c.policy));
    }
    if c.rule.is_some() && c.rule != rule {
        bad.push(format!("expected rule {:?}, got {rule:?}", c.rule));
    }
    if c.allowed.is_some_and(|a| a != d.allowed()) {
        bad.push(format!(
            "expected allowed={:?}, got {} (enforced={})",
            c.allowed,
            d.allowed(),
            d.enforced
        ));
    }
    if let Some(want) = &c.dry_run {
        let got: Vec<&str> = d.dry_run.iter().map(|v| v.effect.name()).collect();
        if got != *want {
            bad.push(format!(
                "expected dry-run verdicts {want:?}, got {got:?} ({:?})",
                d.dry_run.iter().map(|v| &v.reason).collect::<Vec<_>>()
            ));
        }
    }
    if let Some(want) = &c.set_headers {
        let got: std::collections::BTreeMap<String, String> = d
            .set_headers
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.to_string()))
            .collect();
        if &got != want {
            bad.push(format!("expected headers {want:?}, got {got:?}"));
        }
    }
    (!bad.is_empty()).then(|| bad.join("; "))
}

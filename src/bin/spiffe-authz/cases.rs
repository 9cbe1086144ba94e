//! Request/expectation files, the `policies/*.cases.json` shape (YAML too):
//!
//! ```yaml
//! bundle: backend.json            # default: the file beside this one (backend.cases.yaml -> backend.json)
//! cases:
//! - name: frontend may GET its profile
//!   principal: spiffe://cluster.local/ns/myapp/sa/frontend-sa   # or cluster.local/ns/myapp/sa/frontend-sa
//!   method: GET                   # default GET
//!   path: /api/profile            # default /
//!   host: backend                 # port, sourceIp, headers [[name, value]], grpc, jwt {...}
//!   expect: allow                 # allow, deny or not-found: the verdict
//!   policy: AuthorizationPolicy myapp/allow-frontend   # checked when given (null: a default decided)
//!   rule: 0                       # allowed (forwarded, differs in dry-run), setHeaders: checked when given
//! ```

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use spiffe_authz::request::path;
use spiffe_authz::{Decision, Engine, Peer, Request};

use crate::request_args::RequestArgs;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    pub bundle: Option<String>,
    /// A note for the reader.
    #[serde(default, rename = "description")]
    _description: IgnoredAny,
    pub cases: Vec<Case>,
}

#[derive(Deserialize, Serialize, Clone)]
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
    pub source_ip: Option<std::net::IpAddr>,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub grpc: bool,
    pub expect: Expect,
    /// `Some(None)`: `policy: null`, a default decided; `None`: not checked.
    #[serde(default, deserialize_with = "present")]
    pub policy: Option<Option<String>>,
    pub rule: Option<usize>,
    pub set_headers: Option<BTreeMap<String, String>>,
    pub allowed: Option<bool>,
    pub jwt: Option<serde_json::Value>,
    /// Read by the Envoy end-to-end run only (tests/e2e).
    #[serde(default, rename = "e2e", skip_serializing)]
    _e2e: IgnoredAny,
    /// Where an owner-derived case comes from: a note.
    #[serde(default, rename = "source", skip_serializing)]
    _source: IgnoredAny,
}

#[derive(Deserialize, Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    Allow,
    Deny,
    NotFound,
}

impl Expect {
    pub fn name(self) -> &'static str {
        match self {
            Expect::Allow => "allow",
            Expect::Deny => "deny",
            Expect::NotFound => "not-found",
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

impl Case {
    /// The request. A principal is a certificate's URI SAN, exactly as the filter reads it (one
    /// that is not a valid SPIFFE ID is unauthenticated); Istio's and Linkerd's spellings, which
    /// have no scheme, name the SPIFFE ID they stand for.
    pub fn request(&self) -> Request {
        let peer = match &self.principal {
            None => Peer::Unauthenticated,
            Some(p) if p.contains("://") => Peer::from_uri_san(p.as_str()),
            Some(p) => crate::principal::peer(p).unwrap_or(Peer::Unauthenticated),
        };
        // A path the filter refuses (400) is kept as written: the case then states what the
        // engine would decide on it, as in tests/common/cases.rs.
        let canonical = path::canonicalize(&self.path, &path::Options::default()).unwrap_or_else(|_| self.path.clone());
        let options = RequestArgs {
            principal: None,
            method: Some(self.method.clone()),
            path: self.path.clone(),
            host: self.host.clone(),
            port: self.port,
            source_ip: self.source_ip,
            headers: self.headers.clone(),
            grpc: self.grpc,
            jwt: self.jwt.clone(),
            metadata: Vec::new(),
        };
        options.build(peer, canonical)
    }
}

/// What the engine decided, in the terms a case states.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Got {
    pub effect: &'static str,
    pub policy: Option<String>,
    pub rule: Option<usize>,
    pub reason: String,
    pub allowed: bool,
    pub set_headers: BTreeMap<String, String>,
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
        }
    }
}

/// One difference between a case and the decision: the field, what the case expects, what the
/// engine decided.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub field: &'static str,
    pub expected: String,
    pub got: String,
}

/// Decides a case; the differences (none: it passes).
pub fn check(engine: &Engine, c: &Case) -> (Got, Vec<Mismatch>) {
    let got = Got::of(&engine.evaluate(&c.request()));
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
    if let Some(p) = &c.policy {
        differ("policy", show(p), show(&got.policy));
    }
    if let Some(r) = c.rule {
        differ("rule", r.to_string(), show(&got.rule));
    }
    if let Some(a) = c.allowed {
        differ("allowed", a.to_string(), got.allowed.to_string());
    }
    if let Some(h) = &c.set_headers {
        differ("setHeaders", format!("{h:?}"), format!("{:?}", got.set_headers));
    }
    (got, bad)
}

fn show<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map_or("null".into(), |v| v.to_string())
}

//! The request attributes the engine decides on.
//!
//! The filter builds a [`Request`] once per request with [`incoming`] (from the header pairs and
//! the attributes the engine's [`ReadPlan`] asks for, read through [`HostReads`]); the CLI fills
//! one field by field. The engine never asks the host for anything. Every attribute is
//! normalized here, at the edge, so that no dialect can be dodged by spelling: hosts are
//! lowercased without port or trailing dot ([`parse_authority`]), paths are canonical
//! ([`path`]).

mod guard;
mod host;
mod incoming;
pub(crate) mod jwt;
mod pairs;
pub mod path;
mod plan;

use std::net::IpAddr;

use crate::spiffe::SpiffeId;

pub use host::{normalize_host, parse_authority, HostError};
pub use incoming::{incoming, Attribute, HostReads, Incoming, Refused, RequestError};
pub(crate) use pairs::decode_strings as decode_pairs;
#[cfg(any(test, all(target_arch = "wasm32", target_os = "wasi")))]
pub(crate) use pairs::encode as encode_pairs;
pub use path::{Canonical, PathError};
pub use plan::{ReadPlan, Reads};

/// Who is calling, as proven by the validated client certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Peer {
    /// No client certificate, or one whose first URI SAN is not a `spiffe://` URI.
    #[default]
    Unauthenticated,
    /// A client certificate whose first URI SAN starts with `spiffe://` but is not a valid
    /// SPIFFE ID. Unauthenticated for every rule; Drako fails its `SpiffeId` client
    /// authentication on it instead of skipping the mode, and Dapr (whose mTLS refuses such a
    /// certificate) refuses the call.
    InvalidSpiffe,
    /// A client certificate whose first URI SAN is a valid SPIFFE ID.
    Spiffe(SpiffeId),
}

impl Peer {
    /// The peer named by a certificate's URI SAN. Anything that is not a valid SPIFFE ID is
    /// unauthenticated: it must never match a rule as an empty or odd string.
    ///
    /// Takes a `&str` or, without copying it, a `String`.
    pub fn from_uri_san(uri: impl Into<String>) -> Peer {
        let uri = uri.into();
        let claims = uri.starts_with("spiffe://");
        match SpiffeId::parse(uri) {
            Some(id) => Peer::Spiffe(id),
            None if claims => Peer::InvalidSpiffe,
            None => Peer::Unauthenticated,
        }
    }

    /// The SPIFFE ID, if authenticated.
    pub fn id(&self) -> Option<&SpiffeId> {
        match self {
            Peer::Spiffe(id) => Some(id),
            Peer::Unauthenticated | Peer::InvalidSpiffe => None,
        }
    }
}

/// The attributes of one request.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The caller's identity.
    pub peer: Peer,
    /// `:method`, as sent (HTTP methods are case-sensitive).
    pub method: String,
    /// `:authority` without port or trailing dot, lowercased. See [`normalize_host`].
    pub host: String,
    /// `:authority` as sent, lowercased and without surrounding whitespace: what Istio's
    /// `hosts` match (Envoy's header matcher, case-insensitive), port and trailing dot included.
    pub authority: String,
    /// The port written in `:authority`, if any.
    pub host_port: Option<u16>,
    /// The canonical path without query or fragment. See [`path::canonicalize`].
    pub path: String,
    /// The query (after `?`, before any `#`), as sent and as forwarded: Linkerd's HTTPRoute
    /// `queryParams` read it.
    pub query: Option<String>,
    /// The destination (listener) port of the connection.
    pub port: Option<u16>,
    /// The connection's peer address; `None` when unknown, which is also the case when Envoy
    /// took `source.address` from X-Forwarded-For (then only `remote_ip` is known). Peer-address
    /// rules that refuse count an unknown peer as matching (see `Pred::guard`).
    pub source_ip: Option<IpAddr>,
    /// The original client address as Envoy resolved it (X-Forwarded-For when the listener
    /// trusts it, else the peer): Istio `remoteIpBlocks`, Drako `Origin`.
    pub remote_ip: Option<IpAddr>,
    /// The connection's local address.
    pub destination_ip: Option<IpAddr>,
    /// The TLS SNI the client sent.
    pub sni: Option<String>,
    /// Request headers the policy reads: lowercase names, every value in arrival order.
    pub headers: Vec<(String, String)>,
    /// A gRPC request: `content-type: application/grpc*`, carried over HTTP/2 or HTTP/3 when
    /// the bundle's rules depend on it (gRPC cannot run over HTTP/1.1, so there the header is
    /// the client's choice, not the protocol: see [`incoming`]).
    pub grpc: bool,
    /// The payload of the request's JWT, if Envoy's `jwt_authn` validated one (as [`incoming`]
    /// reads it from the stream's metadata).
    pub jwt: Option<serde_json::Value>,
    /// Other filters' dynamic metadata the rules read, by filter name (only those the plan
    /// lists; see [`ReadPlan::metadata_filters`]).
    pub metadata: Vec<(String, serde_json::Value)>,
}

impl Request {
    /// A request with a method and a path (canonicalized with the default options; the query
    /// kept apart in `query`, a fragment dropped); everything else unset.
    ///
    /// A path the canonicalizer refuses is kept as given: the filter never evaluates such a
    /// request (it answers 400 first, see [`path::canonical`]); this convenience serves the CLI
    /// and tests.
    pub fn new(method: &str, path: &str) -> Request {
        let target = path.split('#').next().unwrap_or("");
        let query = target.split_once('?').map(|(_, q)| q.to_string());
        Request {
            method: method.to_string(),
            path: path::canonicalize(path, &path::Options::default()).unwrap_or_else(|_| path.to_string()),
            query,
            ..Request::default()
        }
    }

    /// Sets host and host port from an `:authority` value.
    pub fn set_authority(&mut self, authority: &str) {
        self.authority = authority.trim_matches([' ', '\t']).to_ascii_lowercase();
        let (host, port) = normalize_host(authority);
        self.host = host;
        self.host_port = port;
    }

    /// Every value of a header (name matched case-insensitively), in arrival order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A filter's dynamic metadata, if the request carries it.
    pub fn filter_metadata(&self, filter: &str) -> Option<&serde_json::Value> {
        self.metadata.iter().find(|(f, _)| f == filter).map(|(_, v)| v)
    }

    /// Adds a header (the name is lowercased).
    pub fn add_header(&mut self, name: &str, value: &str) {
        self.headers.push((name.to_ascii_lowercase(), value.to_string()));
    }
}

//! From what the host gives to the [`Request`] the engine decides on: the request headers as
//! Envoy hands them over, plus the few connection attributes the bundle's rules can look at
//! (its [`ReadPlan`]), each read once through [`HostReads`].
//!
//! This is the glue that decides what the engine sees, so it lives here, host-free and tested
//! in tables, and the filter only makes the host calls: Proxy-Wasm's `get_property` behind
//! [`HostReads`], and acting on [`Incoming`] (rewrite `:path`, remove headers, enforce).

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

use super::guard::{cgi_alias, miscased_method, trim_ows};
use super::host::{parse_authority, HostError};
use super::path::{canonical, PathError};
use super::{jwt, Peer, ReadPlan, Request};

/// A connection or stream attribute the filter reads from the host: one host call each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Attribute {
    /// The first URI SAN of the validated client certificate. Always read.
    PeerUriSan,
    /// The destination (listener) port.
    DestinationPort,
    /// The connection's peer address.
    SourceAddress,
    /// The connection's local address.
    DestinationAddress,
    /// The TLS SNI.
    Sni,
    /// The payload `jwt_authn` validated (the stream's dynamic metadata).
    JwtMetadata,
    /// `HTTP/1.0`, `HTTP/1.1`, `HTTP/2` or `HTTP/3`.
    Protocol,
}

impl Attribute {
    /// Its Proxy-Wasm property path (`get_property`), segments separated by NUL as the ABI
    /// passes them: a constant, so that reading it per request builds nothing.
    pub fn key(self) -> &'static [u8] {
        match self {
            Attribute::PeerUriSan => b"connection\0uri_san_peer_certificate",
            Attribute::DestinationPort => b"destination\0port",
            Attribute::SourceAddress => b"source\0address",
            Attribute::DestinationAddress => b"destination\0address",
            Attribute::Sni => b"connection\0requested_server_name",
            Attribute::JwtMetadata => b"metadata\0filter_metadata\0envoy.filters.http.jwt_authn",
            Attribute::Protocol => b"request\0protocol",
        }
    }
}

/// The host's attributes, as raw bytes (`None`: absent, empty or unreadable; the engine then
/// decides without it, and every rule that needs it fails to match).
pub trait HostReads {
    /// Reads one attribute.
    fn read(&mut self, a: Attribute) -> Option<Vec<u8>>;

    /// Reads another filter's dynamic metadata, `metadata.filter_metadata[<filter>]` (Istio's
    /// `experimental.envoy.filters.*` conditions read it): one host call. Asked only for the
    /// filters the plan lists ([`ReadPlan::metadata_filters`]); a host without such metadata
    /// keeps the default (none).
    fn read_filter_metadata(&mut self, filter: &str) -> Option<Vec<u8>> {
        let _ = filter;
        None
    }
}

/// Why a request is refused before it is decided: the filter answers 400.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// The `:path` cannot be canonicalized (see [`super::path`]).
    Path(PathError),
    /// The `:authority` is not a host (see [`parse_authority`]).
    Authority(HostError),
    /// A standard method in another case (`delete`), which some applications upper-case.
    Method,
    /// A header name the application reads as one the rules test (`x_role` for `x-role`).
    HeaderName(String),
    /// A gRPC `:path` with `?` or `#`: gRPC has no query or fragment, the method is the whole
    /// path (Dapr's NormalizeMethod refuses both), so no reading of it is safe.
    GrpcMethod,
}

impl RequestError {
    /// `path` or `authority`: what was refused.
    pub fn what(&self) -> &'static str {
        match self {
            RequestError::Path(_) | RequestError::GrpcMethod => "path",
            RequestError::Authority(_) => "authority",
            RequestError::Method => "method",
            RequestError::HeaderName(_) => "header name",
        }
    }
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestError::Path(e) => e.fmt(f),
            RequestError::Authority(e) => e.fmt(f),
            RequestError::Method => f.write_str("a standard method must be uppercase"),
            RequestError::HeaderName(n) => write!(
                f,
                "header {n:?} reads as a header the policy tests to CGI/WSGI applications ('_' is '-')"
            ),
            RequestError::GrpcMethod => f.write_str("a gRPC method holds '?' or '#'"),
        }
    }
}

impl std::error::Error for RequestError {}

/// A refused request, and whether it is gRPC (the 400 is answered in its protocol).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// Why.
    pub error: RequestError,
    /// `content-type: application/grpc*`.
    pub grpc: bool,
}

/// A request ready to decide, and what the filter does to the stream before forwarding it.
#[derive(Debug)]
pub struct Incoming {
    /// What the engine decides on.
    pub request: Request,
    /// The `:path` to forward instead of the client's (the canonical path and the query), when
    /// they differ: the path decided on is the path forwarded.
    pub forward_path: Option<String>,
    /// Request headers to remove (those present that the plan strips), each once.
    pub remove: Vec<String>,
}

/// Builds the request from its headers (name, raw value: as the host hands them over; names are
/// lowercase in Envoy) and the attributes `plan` asks for: the peer always, the rest only when
/// some rule can look at them. The headers are read where they lie (the filter hands over the
/// host's buffer, decoded in place): only the headers the rules read (and `content-type`) are
/// copied, without the whitespace around their values (as an HTTP/1.1 application reads
/// them); a pseudo-header repeated counts once (the first). Refused: what [`RequestError`]
/// lists (see also [`super::guard`]).
pub fn incoming<N: AsRef<[u8]>, V: AsRef<[u8]>>(
    plan: &ReadPlan,
    headers: &[(N, V)],
    host: &mut impl HostReads,
) -> Result<Incoming, Refused> {
    let mut req = Request::default();
    let (mut path, mut authority, mut method, mut content_type) = (None, None, None, None);
    let mut remove: Vec<String> = Vec::new();
    let mut refused = None;
    // Most headers are neither read by a rule nor stripped: for them, no more than a look at
    // the name's bytes.
    let (strips, reads) = (!plan.strip().is_empty(), !plan.headers().is_empty());
    for (name, value) in headers {
        let name = name.as_ref();
        let slot = match pseudo_or_content_type(name) {
            Some(0) => Some(&mut path),
            Some(1) => Some(&mut authority),
            Some(2) => Some(&mut method),
            Some(_) => Some(&mut content_type),
            None => None,
        }
        .filter(|slot| slot.is_none());
        let is_content_type = slot.is_none() && name.eq_ignore_ascii_case(b"content-type");
        if slot.is_none() && !is_content_type && !strips && !reads {
            continue;
        }
        let name = lowercase(name);
        if strips && plan.strips(&name) && !remove.iter().any(|r| *r == *name) {
            remove.push(name.to_string());
        }
        if reads && refused.is_none() && cgi_alias(plan, &name) {
            refused = Some(RequestError::HeaderName(name.to_string()));
        }
        let keep = &*name == "content-type" || (reads && plan.reads_header(&name));
        if slot.is_none() && !keep {
            continue;
        }
        let value = text(trim_ows(value.as_ref()));
        if keep {
            req.headers.push((name.into_owned(), value.to_string()));
        }
        if let Some(slot) = slot {
            *slot = Some(value);
        }
    }
    let grpc = content_type.is_some_and(|c| c.starts_with("application/grpc")) && can_be_grpc(plan, host);
    let refuse = |error| Refused { error, grpc };
    let method = method.unwrap_or_default();
    if miscased_method(&method) {
        refused = refused.or(Some(RequestError::Method));
    }
    if let Some(error) = refused {
        return Err(refuse(error));
    }
    let path = path.unwrap_or_default();
    if grpc && path.contains(['?', '#']) {
        return Err(refuse(RequestError::GrpcMethod));
    }
    let canonical = canonical(&path, &plan.path).map_err(|e| refuse(RequestError::Path(e)))?;
    let forward_path = canonical.changed.then(|| canonical.forward());
    let (host_name, host_port) =
        parse_authority(authority.as_deref().unwrap_or("")).map_err(|e| refuse(RequestError::Authority(e)))?;
    req.path = canonical.path;
    req.query = canonical.query;
    req.host = host_name;
    req.host_port = host_port;
    req.authority = authority
        .unwrap_or_default()
        .trim_matches([' ', '\t'])
        .to_ascii_lowercase();
    req.method = method.into_owned();
    req.grpc = grpc;
    read_attributes(plan, host, &mut req);
    Ok(Incoming {
        request: req,
        forward_path,
        remove,
    })
}

/// Which of `:path`, `:authority`, `:method`, `content-type` (0 to 3) a header name is, in any
/// case. Called for every header: one comparison at most.
fn pseudo_or_content_type(name: &[u8]) -> Option<usize> {
    let (i, want): (usize, &[u8]) = match name.len() {
        5 => (0, b":path"),
        10 => (1, b":authority"),
        7 => (2, b":method"),
        12 => (3, b"content-type"),
        _ => return None,
    };
    name.eq_ignore_ascii_case(want).then_some(i)
}

/// A header name in lowercase (Envoy's already are: then borrowed, not copied).
fn lowercase(name: &[u8]) -> Cow<'_, str> {
    let mut name = text(name);
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        name.to_mut().make_ascii_lowercase();
    }
    name
}

/// Header bytes as text, borrowed. Not UTF-8 (rare): converted lossily, so that presence tests
/// still see it.
fn text(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// The peer, and the attributes the plan asks for.
fn read_attributes(plan: &ReadPlan, host: &mut impl HostReads, req: &mut Request) {
    req.peer = host
        .read(Attribute::PeerUriSan)
        // Lossy: bytes that are not UTF-8 after `spiffe://` are still a SPIFFE ID claimed and
        // invalid (Drako then attempts and fails; U+FFFD is in no valid SPIFFE ID).
        .map(|b| String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
        .map_or(Peer::Unauthenticated, Peer::from_uri_san);
    let r = plan.reads;
    if r.port {
        req.port = host
            .read(Attribute::DestinationPort)
            .and_then(|b| int(&b))
            .and_then(|p| u16::try_from(p).ok());
    }
    if r.destination_ip {
        req.destination_ip = host.read(Attribute::DestinationAddress).and_then(|b| ip(&b));
    }
    if r.sni {
        req.sni = host
            .read(Attribute::Sni)
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|s| !s.is_empty());
    }
    // `source.address` is the client address Envoy resolved: the connection's peer, unless
    // the HCM took it from X-Forwarded-For (`use_remote_address: false`, Envoy's default and
    // Istio's sidecar inbound listener, or trusted hops). Proxy-Wasm has no attribute for the
    // peer then; a header-made address has port 0 (a connection's never has), so the peer is
    // known only when the port is not 0 (README "Security").
    if r.source_ip {
        let resolved = host.read(Attribute::SourceAddress).and_then(|b| address(&b));
        req.remote_ip = resolved.map(|a| a.ip());
        req.source_ip = resolved.filter(|a| a.port() != 0).map(|a| a.ip());
    }
    // The JWT Envoy's jwt_authn validated, for requestPrincipals and request.auth.*.
    // Unreadable means no JWT.
    if r.jwt {
        req.jwt = host.read(Attribute::JwtMetadata).and_then(|b| jwt::from_metadata(&b));
    }
    // Other filters' metadata the rules read (what an earlier filter in the chain wrote).
    for filter in plan.metadata_filters() {
        if let Some(v) = host.read_filter_metadata(filter).and_then(|b| jwt::metadata_map(&b)) {
            req.metadata.push((filter.clone(), v));
        }
    }
}

/// An integer attribute: Envoy serializes CEL ints as 8 bytes, little-endian.
fn int(b: &[u8]) -> Option<i64> {
    Some(i64::from_le_bytes(b.try_into().ok()?))
}

/// An address attribute: `"10.0.0.1:8080"`, `"[::1]:8080"`, or a bare IP.
fn ip(b: &[u8]) -> Option<IpAddr> {
    let s = std::str::from_utf8(b).ok()?;
    s.parse::<SocketAddr>().map(|a| a.ip()).ok().or_else(|| s.parse().ok())
}

/// An address attribute with its port; a bare IP has port 0 (no connection's).
fn address(b: &[u8]) -> Option<SocketAddr> {
    let s = std::str::from_utf8(b).ok()?;
    s.parse::<SocketAddr>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 0)))
}

/// Can a request whose `content-type` says gRPC be one? Only over HTTP/2 or HTTP/3: over
/// HTTP/1.1 the header is the client's choice (a Dapr operation DENY on `/admin` would
/// otherwise be dodged with `/ADMIN`, gRPC operations being case-sensitive). Read only when a
/// rule depends on it (the plan's `protocol`); unknown counts as not gRPC.
fn can_be_grpc(plan: &ReadPlan, host: &mut impl HostReads) -> bool {
    !plan.reads.protocol
        || host
            .read(Attribute::Protocol)
            .is_some_and(|p| p == b"HTTP/2" || p == b"HTTP/3")
}

#[cfg(test)]
#[path = "incoming_tests.rs"]
mod tests;

//! The HTTP context: one per stream. Reads the request once, asks the engine, enforces.

use std::rc::Rc;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, GrpcStatusCode, LogLevel, MapType};

use crate::request::parse_authority;
use crate::request::path::canonical;
use crate::{Decision, Effect, Engine, Peer, Request, Verdict};

use super::host;
use super::loaded::Loaded;
use super::metrics::{self, Counter};

/// One stream. The engine is the one current when the stream began (a request is decided wholly
/// by one bundle); `None` only if Envoy started a stream on a root that never loaded a bundle.
pub(crate) struct Http {
    loaded: Option<Rc<Loaded>>,
}

impl Http {
    pub(crate) fn new(loaded: Option<Rc<Loaded>>) -> Self {
        Http { loaded }
    }
}

impl Context for Http {}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(loaded) = self.loaded.clone() else {
            // Fail closed: no bundle, no access.
            metrics::inc_now(Counter::Denied);
            return local_reply(503, false, "spiffe-authz: no policy loaded");
        };
        let engine = &loaded.engine;
        let all_headers = host::request_headers();
        let grpc = header(&all_headers, "content-type").is_some_and(|v| v.starts_with("application/grpc"));
        let raw_path = header(&all_headers, ":path").unwrap_or("");
        // The path decided on is the path forwarded: canonical (`:path` rewritten when it
        // differs, query kept), or refused with 400 (see request::path and settings.path).
        let path = match canonical(raw_path, engine.path_options()) {
            Ok(c) => {
                if c.changed
                    && hostcalls::set_map_value(MapType::HttpRequestHeaders, ":path", Some(&c.forward())).is_err()
                {
                    // Never forward a path other than the one decided on.
                    metrics::inc_now(Counter::Denied);
                    return local_reply(503, grpc, "spiffe-authz: cannot forward the canonical path");
                }
                c.path
            }
            Err(e) => return bad_request("path", &e, grpc),
        };
        let authority = match parse_authority(header(&all_headers, ":authority").unwrap_or("")) {
            Ok(a) => a,
            Err(e) => return bad_request("authority", &e, grpc),
        };
        let req = build_request(engine, &all_headers, path, authority, grpc);
        strip(engine, &all_headers);
        let d = engine.evaluate(&req);
        loaded.counters.count(&d);
        let mut logged = false;
        for v in &d.dry_run {
            logged |= report_dry_run(v, &req);
        }
        if d.allowed() {
            if d.verdict.effect != Effect::Allow {
                // The bundle runs in dry-run mode: report, count, forward.
                logged |= report_dry_run(&d.verdict, &req);
            }
            metrics::inc(Counter::Allowed);
            if logged {
                loaded.flush();
            }
            for (name, value) in &d.set_headers {
                let _ = hostcalls::set_map_value(MapType::HttpRequestHeaders, name, Some(value));
            }
            if log::log_enabled!(log::Level::Debug) {
                log::debug!("spiffe-authz allow: {}", describe(&d.verdict, &req));
            }
            return Action::Continue;
        }
        metrics::inc(Counter::Denied);
        loaded.flush();
        host::log(
            LogLevel::Info,
            &format!(
                "spiffe-authz {}: {}",
                d.verdict.effect.name(),
                describe(&d.verdict, &req)
            ),
        );
        deny(&d, grpc)
    }
}

/// Answers 400 to a request whose `what` (path, authority) the filter refuses to read.
fn bad_request(what: &str, e: &dyn std::fmt::Display, grpc: bool) -> Action {
    metrics::inc_now(Counter::BadRequest);
    host::log(
        LogLevel::Info,
        &format!("spiffe-authz: bad request: {what} refused ({e}); 400"),
    );
    local_reply(400, grpc, &format!("spiffe-authz: bad request {what}"))
}

/// The first value of a header (names are lowercase in Envoy's header map).
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Fills the [`Request`]: each attribute read once, and only those the bundle's rules can look
/// at (each read is a host call, dearer than the decision itself: README "Performance").
fn build_request(
    engine: &Engine,
    headers: &[(String, String)],
    path: String,
    (host, host_port): (String, Option<u16>),
    grpc: bool,
) -> Request {
    let reads = engine.reads();
    let mut req = Request {
        path,
        host,
        host_port,
        grpc,
        method: header(headers, ":method").unwrap_or("").to_string(),
        peer: host::string(&["connection", "uri_san_peer_certificate"])
            .map_or(Peer::Unauthenticated, Peer::from_uri_san),
        port: reads
            .port
            .then(|| host::int(&["destination", "port"]).and_then(|p| u16::try_from(p).ok()))
            .flatten(),
        destination_ip: reads
            .destination_ip
            .then(|| host::ip(&["destination", "address"]))
            .flatten(),
        sni: reads
            .sni
            .then(|| host::string(&["connection", "requested_server_name"]).filter(|s| !s.is_empty()))
            .flatten(),
        ..Request::default()
    };
    // `source.address` is the connection's peer unless the HCM trusts X-Forwarded-For hops
    // (envoy/envoy.yaml sets use_remote_address: true and trusts none), so the two agree.
    if reads.source_ip {
        req.source_ip = host::ip(&["source", "address"]);
        req.remote_ip = req.source_ip;
    }
    // The JWT Envoy's jwt_authn validated (its payload in the stream's metadata; Istio keys it
    // by issuer), for requestPrincipals and request.auth.*. Unreadable means no JWT.
    if reads.jwt {
        req.jwt = host::property(&["metadata", "filter_metadata", "envoy.filters.http.jwt_authn"])
            .and_then(|b| crate::request::jwt::from_metadata(&b));
    }
    let wanted = engine.headers_read();
    for (k, v) in headers {
        if k == "content-type" || wanted.binary_search(k).is_ok() {
            req.add_header(k, v);
        }
    }
    req
}

/// Removes the headers the bundle says no client may send (a trailing `*` is a prefix).
fn strip(engine: &Engine, headers: &[(String, String)]) {
    let strip = engine.strip_headers();
    if strip.is_empty() {
        return;
    }
    let mut done: Vec<&str> = Vec::new();
    for (k, _) in headers {
        let hit = strip.iter().any(|s| match s.strip_suffix('*') {
            Some(prefix) => k.starts_with(prefix),
            None => k == s,
        });
        if hit && !done.contains(&k.as_str()) {
            let _ = hostcalls::remove_map_value(MapType::HttpRequestHeaders, k);
            done.push(k);
        }
    }
}

/// Answers a denied request. The body (gRPC: grpc-message) names the deciding policy and nothing
/// else: `RBAC: access denied by AuthorizationPolicy ns/name`, or `RBAC: access denied` when no
/// rule decided (no ALLOW policy matched, or the bundle's default).
fn deny(d: &Decision<'_>, grpc: bool) -> Action {
    let (status, what) = match d.verdict.effect {
        Effect::NotFound => (404, "not found"),
        _ => (403, "access denied"),
    };
    let body = match d.verdict.by() {
        Some(by) => format!("RBAC: {what} by {}", by.meta),
        None => format!("RBAC: {what}"),
    };
    local_reply(status, grpc, &body)
}

/// Sends a local reply and stops the stream. gRPC clients get a gRPC status (PERMISSION_DENIED
/// for 403, NOT_FOUND for 404, INVALID_ARGUMENT for 400, UNAVAILABLE for 503).
fn local_reply(status: u32, grpc: bool, body: &str) -> Action {
    if grpc {
        let code = match status {
            400 => GrpcStatusCode::InvalidArgument,
            404 => GrpcStatusCode::NotFound,
            503 => GrpcStatusCode::Unavailable,
            _ => GrpcStatusCode::PermissionDenied,
        };
        let _ = hostcalls::send_grpc_response(code, Some(body), vec![]);
    } else {
        let mut text = body.to_string();
        text.push('\n');
        let _ = hostcalls::send_http_response(
            status,
            vec![("content-type", "text/plain"), ("x-spiffe-authz", "denied")],
            Some(text.as_bytes()),
        );
    }
    Action::Pause
}

/// Logs and counts a verdict a dry-run policy (or a dry-run bundle) reached. Never enforced.
/// True when it logged a line (the caller then flushes the counters).
fn report_dry_run(v: &Verdict<'_>, req: &Request) -> bool {
    if v.effect == Effect::Allow {
        // AUDIT matches and dry-run allows: worth a line only when debugging.
        if log::log_enabled!(log::Level::Debug) {
            log::debug!("spiffe-authz dry-run allow: {}", describe(v, req));
        }
        return false;
    }
    metrics::inc(Counter::DryRunDenied);
    host::log(
        LogLevel::Info,
        &format!(
            "spiffe-authz dry-run {} (not enforced): {}",
            v.effect.name(),
            describe(v, req)
        ),
    );
    true
}

/// `dialect=istio policy="AuthorizationPolicy ns/name" rule=0 peer=spiffe://... method=GET
/// path=/x reason="..."`: never a header value or the query string.
fn describe(v: &Verdict<'_>, req: &Request) -> String {
    let dialect = v.dialect().map_or("bundle", |d| d.name());
    let policy = v.by().map_or_else(|| "-".to_string(), |b| b.meta.to_string());
    let rule = v
        .by()
        .and_then(|b| b.rule)
        .map_or_else(|| "-".to_string(), |r| r.to_string());
    let peer = req
        .peer
        .id()
        .map_or_else(|| "unauthenticated".to_string(), |id| id.to_string());
    format!(
        "dialect={dialect} policy=\"{policy}\" rule={rule} peer={peer} method={} path={} reason=\"{}\"",
        req.method, req.path, v.reason
    )
}

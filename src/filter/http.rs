//! The HTTP context: one per stream. Reads the request once, asks the engine, enforces.
//!
//! One request, top to bottom: [`Http::on_http_request_headers`] reads the headers (one host
//! call) and hands them to [`request::incoming`](crate::request::incoming), which builds the
//! [`Request`] and reads, through [`host::Stream`], the peer and the few attributes the
//! bundle's plan asks for; the filter then rewrites `:path` if it was not canonical, removes the
//! headers no client may send, asks [`Engine::evaluate`](crate::Engine::evaluate) and acts on
//! the [`Decision`] ([`enforce`]).

use std::rc::Rc;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, GrpcStatusCode, LogLevel, MapType};

use crate::request::{incoming, Refused};
use crate::{Decision, Effect, Request, Verdict};

use super::abi;
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
            return local_reply(503, false, "spiffe-authz: no policy loaded", "spiffe_authz:no-bundle");
        };
        let engine = &loaded.engine;
        let incoming = match incoming(engine.plan(), host::request_headers(), &mut host::Stream) {
            Ok(i) => i,
            Err(refused) => return bad_request(&refused),
        };
        let req = &incoming.request;
        // The path decided on is the path forwarded: canonical (`:path` rewritten, query kept),
        // or the request was refused above (see request::path and settings.path).
        if let Some(path) = &incoming.forward_path {
            if hostcalls::set_map_value(MapType::HttpRequestHeaders, ":path", Some(path)).is_err() {
                // Never forward a path other than the one decided on.
                metrics::inc_now(Counter::Denied);
                return local_reply(
                    503,
                    req.grpc,
                    "spiffe-authz: cannot forward the canonical path",
                    "spiffe_authz:cannot-forward-path",
                );
            }
        }
        for name in &incoming.remove {
            let _ = hostcalls::remove_map_value(MapType::HttpRequestHeaders, name);
        }
        let d = engine.evaluate(req);
        loaded.counters.count(&d);
        if engine.logs_allowed() && d.allowed() {
            // settings.accessLog: all. Refusals carry theirs in the local reply (`deny`).
            record(&d);
        }
        enforce(&loaded, &d, req)
    }
}

/// Forwards an allowed request (with the headers the layers set) or answers a refused one;
/// reports dry-run verdicts either way.
fn enforce(loaded: &Loaded, d: &Decision<'_>, req: &Request) -> Action {
    let mut logged = false;
    for v in &d.dry_run {
        logged |= report_dry_run(v, req);
    }
    if d.allowed() {
        if d.verdict.effect != Effect::Allow {
            // The bundle runs in dry-run mode: report, count, forward.
            logged |= report_dry_run(&d.verdict, req);
        }
        metrics::inc(Counter::Allowed);
        if logged {
            loaded.flush();
        }
        for (name, value) in &d.set_headers {
            let _ = hostcalls::set_map_value(MapType::HttpRequestHeaders, name, Some(value));
        }
        if log::log_enabled!(log::Level::Debug) {
            log::debug!("spiffe-authz allow: {}", describe(&d.verdict, req));
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
            describe(&d.verdict, req)
        ),
    );
    deny(d, req.grpc)
}

/// Hands the decision to Envoy's access log: filter state `wasm.spiffe_authz.decision`
/// (`%FILTER_STATE(wasm.spiffe_authz.decision:PLAIN)%`). A host that refuses changes nothing.
fn record(d: &Decision<'_>) {
    let _ = abi::set_property("spiffe_authz.decision", d.access_log().as_bytes());
}

/// Answers 400 to a request whose path or authority the filter refuses to read.
fn bad_request(r: &Refused) -> Action {
    metrics::inc_now(Counter::BadRequest);
    let what = r.error.what();
    host::log(
        LogLevel::Info,
        &format!("spiffe-authz: bad request: {what} refused ({}); 400", r.error),
    );
    let details = format!("spiffe_authz:bad-request:{what}");
    local_reply(400, r.grpc, &format!("spiffe-authz: bad request {what}"), &details)
}

/// Answers a denied request. The body (gRPC: grpc-message) names the deciding policy and nothing
/// else: `RBAC: access denied by AuthorizationPolicy ns/name`, or `RBAC: access denied` when no
/// rule decided (no ALLOW policy matched, or the bundle's default). The access log gets the
/// deciding resource and rule ([`Decision::access_log`]) as the response code details and as
/// filter state.
fn deny(d: &Decision<'_>, grpc: bool) -> Action {
    let (status, what) = match d.verdict.effect {
        Effect::NotFound => (404, "not found"),
        _ => (403, "access denied"),
    };
    let body = match d.verdict.by() {
        Some(by) => format!("RBAC: {what} by {}", by.meta),
        None => format!("RBAC: {what}"),
    };
    record(d);
    local_reply(status, grpc, &body, &d.access_log())
}

/// Sends a local reply and stops the stream. gRPC clients get a gRPC status (PERMISSION_DENIED
/// for 403, NOT_FOUND for 404, INVALID_ARGUMENT for 400, UNAVAILABLE for 503). `details` is what
/// Envoy's access log prints as `%RESPONSE_CODE_DETAILS%`.
fn local_reply(status: u32, grpc: bool, body: &str, details: &str) -> Action {
    let mut text = body.as_bytes().to_vec();
    let (status, headers, grpc_status): (u32, &[(&str, &str)], i32) = if grpc {
        let code = match status {
            400 => GrpcStatusCode::InvalidArgument,
            404 => GrpcStatusCode::NotFound,
            503 => GrpcStatusCode::Unavailable,
            _ => GrpcStatusCode::PermissionDenied,
        };
        (200, &[], code as i32)
    } else {
        text.push(b'\n');
        (
            status,
            &[("content-type", "text/plain"), ("x-spiffe-authz", "denied")],
            -1,
        )
    };
    if abi::send_local_response(status, details, &text, headers, grpc_status).is_err() {
        // Details the host refuses must not cost the answer.
        let _ = abi::send_local_response(status, "", &text, headers, grpc_status);
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
/// path=/x reason="..."`: never a header value or the query string. `policy` and `rule` are
/// `-` when no rule decided.
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

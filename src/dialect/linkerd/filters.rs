//! Route filters and timeouts: validated as Linkerd validates them, then reported as not
//! applied (spiffe-authz authorizes; it does not rewrite headers or answer redirects), or, for
//! the filters Linkerd's index does not support (it then ignores the whole route), refused.
//!
//! Linkerd applies a route's filters after the authorization (linkerd2-proxy
//! `inbound/src/policy/http.rs`: `authorize` then `apply_http_filters`), so not applying them
//! never changes who is allowed.

use serde_json::Value;

use super::invalid::{fail, Fail, Invalid};
use super::lower::RuleNotes;
use super::syntax;

const POLICY: &str = "policy.linkerd.io";

/// Each filter `type` and the field that carries it; Linkerd supports the first three inbound
/// (the index's `try_gateway_filter`, `try_grpc_filter`), GRPCRoutes no redirect.
const FILTERS: [(&str, &str); 8] = [
    ("RequestHeaderModifier", "requestHeaderModifier"),
    ("ResponseHeaderModifier", "responseHeaderModifier"),
    ("RequestRedirect", "requestRedirect"),
    ("RequestMirror", "requestMirror"),
    ("URLRewrite", "urlRewrite"),
    ("ExtensionRef", "extensionRef"),
    ("CORS", "cors"),
    ("ExternalAuth", "externalAuth"),
];

/// One rule's `filters`. `grpc`: a GRPCRoute's (no redirects).
pub(super) fn check(fs: Option<&[Value]>, field: &str, grpc: bool, notes: &mut RuleNotes) -> Result<(), Fail> {
    for (i, f) in fs.unwrap_or(&[]).iter().enumerate() {
        let at = format!("{field}.filters[{i}]");
        let kind = string(f, "type", &at)?.unwrap_or("");
        let Some((n, (kind, key))) = FILTERS.iter().enumerate().find(|(_, (k, _))| *k == kind) else {
            return fail(
                format!("{at}.type"),
                Invalid::NotOneOf {
                    value: kind.to_string(),
                    allowed: "a Gateway API filter type",
                },
            );
        };
        // The CRDs: the field `type` names is set, no other.
        only(f, &["type", key], &at)?;
        let Some(body) = f.get(key) else {
            return fail(at, Invalid::Unsupported("a filter must set the field its `type` names"));
        };
        if n > 2 || (grpc && n == 2) {
            return fail(format!("{at}.type"), Invalid::Filter(kind.to_string()));
        }
        let sub = format!("{at}.{key}");
        if n == 2 {
            redirect(body, &sub)?;
        } else {
            header_modifier(body, &sub)?;
        }
        notes.push((
            at,
            "not applied: Linkerd applies filters after authorizing, and spiffe-authz only authorizes",
        ));
    }
    Ok(())
}

/// The object's keys are all among `known`.
fn only(v: &Value, known: &[&str], field: &str) -> Result<(), Fail> {
    match v.as_object() {
        Some(o) => match o.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => fail(format!("{field}.{k}"), Invalid::Unsupported("unknown field")),
            None => Ok(()),
        },
        None => fail(field, Invalid::Unsupported("must be an object")),
    }
}

/// `v[key]` as a string, if present.
fn string<'v>(v: &'v Value, key: &str, field: &str) -> Result<Option<&'v str>, Fail> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => fail(format!("{field}.{key}"), Invalid::Unsupported("must be a string")),
    }
}

/// `RequestHeaderModifier` / `ResponseHeaderModifier` (`{set, add, remove}`): header names and
/// values that parse.
fn header_modifier(m: &Value, field: &str) -> Result<(), Fail> {
    only(m, &["set", "add", "remove"], field)?;
    for key in ["set", "add"] {
        for (i, h) in m.get(key).and_then(Value::as_array).into_iter().flatten().enumerate() {
            let f = format!("{field}.{key}[{i}]");
            only(h, &["name", "value"], &f)?;
            let (name, value) = (
                string(h, "name", &f)?.unwrap_or(""),
                string(h, "value", &f)?.unwrap_or(""),
            );
            if !syntax::header_name(name) {
                return fail(format!("{f}.name"), Invalid::HeaderName(name.to_string()));
            }
            // `HeaderValue::from_str`: no control characters but tab.
            if value.bytes().any(|b| (b < 32 && b != b'\t') || b == 127) {
                return fail(
                    format!("{f}.value"),
                    Invalid::Unsupported("must not contain control characters"),
                );
            }
        }
    }
    for (i, n) in m
        .get("remove")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let n = n.as_str().unwrap_or("");
        if !syntax::header_name(n) {
            return fail(format!("{field}.remove[{i}]"), Invalid::HeaderName(n.to_string()));
        }
    }
    Ok(())
}

/// `RequestRedirect`: an http(s) scheme, a DNS hostname, a 301 or 302, and a path whose
/// `type` names its one absolute replacement (the CRD; the index's `path_modifier`).
fn redirect(r: &Value, field: &str) -> Result<(), Fail> {
    only(r, &["scheme", "hostname", "path", "port", "statusCode"], field)?;
    if string(r, "scheme", field)?.is_some_and(|s| s != "http" && s != "https") {
        return fail(
            format!("{field}.scheme"),
            Invalid::Unsupported("a redirect's scheme is http or https"),
        );
    }
    if let Some(h) = string(r, "hostname", field)?.filter(|h| h.starts_with('*') || !syntax::hostname(h)) {
        return fail(
            format!("{field}.hostname"),
            Invalid::Hostname {
                value: h.to_string(),
                why: "not a lower-case DNS name",
            },
        );
    }
    if r.get("statusCode")
        .is_some_and(|c| c.as_u64() != Some(301) && c.as_u64() != Some(302))
    {
        return fail(
            format!("{field}.statusCode"),
            Invalid::Unsupported("a redirect's statusCode is 301 or 302"),
        );
    }
    let Some(path) = r.get("path") else { return Ok(()) };
    let f = format!("{field}.path");
    only(path, &["type", "replaceFullPath", "replacePrefixMatch"], &f)?;
    let (full, prefix) = (
        string(path, "replaceFullPath", &f)?,
        string(path, "replacePrefixMatch", &f)?,
    );
    let replacement = match (string(path, "type", &f)?, full, prefix) {
        (Some("ReplaceFullPath"), Some(p), None) | (Some("ReplacePrefixMatch"), None, Some(p)) => p,
        _ => {
            return fail(
                format!("{f}.type"),
                Invalid::Unsupported(
                    "type is ReplaceFullPath or ReplacePrefixMatch, and names the one replacement set",
                ),
            )
        }
    };
    if !replacement.starts_with('/') {
        return fail(f, Invalid::RedirectPath(replacement.to_string()));
    }
    Ok(())
}

/// `backendRefs`: a Service needs a port (the webhook); inbound routes do not forward.
pub(super) fn backends(bs: Option<&[Value]>, field: &str, notes: &mut RuleNotes) -> Result<(), Fail> {
    for (i, b) in bs.unwrap_or(&[]).iter().enumerate() {
        let f = format!("{field}.backendRefs[{i}]");
        let core = matches!(string(b, "group", &f)?, None | Some("" | "core"));
        let service = matches!(string(b, "kind", &f)?, None | Some("Service"));
        if core && service && b.get("port").and_then(Value::as_u64).is_none_or(|p| p == 0) {
            return fail(f, Invalid::ServicePort);
        }
    }
    if bs.is_some_and(|b| !b.is_empty()) {
        notes.push((format!("{field}.backendRefs"), "ignored: inbound routes do not forward"));
    }
    Ok(())
}

/// `timeouts` (`{request, backendRequest}`, Go durations). Linkerd's webhook (policy.linkerd.io
/// routes) refuses negative ones and a backend timeout above the request's; the Gateway API CRD
/// refuses the latter unless the request timeout is `0s` (none).
pub(super) fn timeouts(t: &Value, field: &str, group: &str) -> Result<(), Fail> {
    only(t, &["request", "backendRequest"], field)?;
    let parse = |name: &str| -> Result<Option<(i64, &str)>, Fail> {
        let Some(v) = string(t, name, field)? else {
            return Ok(None);
        };
        let n = syntax::duration_nanos(v).map_err(|e| Fail {
            field: format!("{field}.{name}"),
            why: Invalid::Timeout(format!("{v:?} is not a duration: {e}")),
        })?;
        if n < 0 {
            return fail(
                format!("{field}.{name}"),
                Invalid::Timeout(format!("{name} timeout must not be negative")),
            );
        }
        Ok(Some((n, v)))
    };
    if let (Some((r, rv)), Some((b, bv))) = (parse("request")?, parse("backendRequest")?) {
        let refused = if group == POLICY { b > r } else { r != 0 && b > r };
        if refused {
            return fail(
                field,
                Invalid::Timeout(format!(
                    "backendRequest timeout ({bv}) must not be greater than request timeout ({rv})"
                )),
            );
        }
    }
    Ok(())
}

//! Route filters and timeouts: validated as Linkerd validates them, then reported as not
//! applied (spiffe-authz authorizes; it does not rewrite headers or answer redirects), or, for
//! the filters Linkerd's index does not support (it then ignores the whole route), refused.
//!
//! Linkerd applies a route's filters after the authorization (linkerd2-proxy
//! `inbound/src/policy/http.rs`: `authorize` then `apply_http_filters`), so not applying them
//! never changes who is allowed.

use super::invalid::{fail, Fail, Invalid};
use super::lower::RuleNotes;
use super::{syntax, wire};

const POLICY: &str = "policy.linkerd.io";

/// One rule's `filters`. `grpc`: a GRPCRoute's (no redirects).
pub(super) fn check(
    fs: Option<&[wire::Filter]>,
    field: &str,
    group: &str,
    grpc: bool,
    notes: &mut RuleNotes,
) -> Result<(), Fail> {
    for (i, f) in fs.unwrap_or(&[]).iter().enumerate() {
        let at = format!("{field}.filters[{i}]");
        let wire::Filter {
            kind,
            request_header_modifier,
            response_header_modifier,
            request_redirect,
            request_mirror,
            url_rewrite,
            extension_ref,
            cors,
            external_auth,
        } = f;
        // The CRDs: the field named by `type` is set, no other.
        let set: Vec<&str> = [
            ("RequestHeaderModifier", request_header_modifier.is_some()),
            ("ResponseHeaderModifier", response_header_modifier.is_some()),
            ("RequestRedirect", request_redirect.is_some()),
            ("RequestMirror", request_mirror.is_some()),
            ("URLRewrite", url_rewrite.is_some()),
            ("ExtensionRef", extension_ref.is_some()),
            ("CORS", cors.is_some()),
            ("ExternalAuth", external_auth.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, on)| on.then_some(k))
        .collect();
        if set != [kind.as_str()] {
            return fail(
                at,
                Invalid::Unsupported("a filter must set exactly the field its `type` names"),
            );
        }
        let allowed: &[&str] = match (group, grpc) {
            (_, true) => &["RequestHeaderModifier", "ResponseHeaderModifier"],
            (POLICY, false) => &["RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect"],
            _ => &["RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect"],
        };
        if !allowed.contains(&kind.as_str()) {
            return fail(format!("{at}.type"), Invalid::Filter(kind.clone()));
        }
        for m in [request_header_modifier, response_header_modifier]
            .into_iter()
            .flatten()
        {
            header_modifier(m, &at)?;
        }
        if let Some(r) = request_redirect {
            redirect(r, &format!("{at}.requestRedirect"))?;
        }
        notes.push((
            at,
            "not applied: Linkerd applies filters after authorizing, and spiffe-authz only authorizes",
        ));
    }
    Ok(())
}

/// `RequestHeaderModifier` / `ResponseHeaderModifier`: header names that parse.
fn header_modifier(m: &wire::HeaderModifier, field: &str) -> Result<(), Fail> {
    let wire::HeaderModifier { set, add, remove } = m;
    for wire::Header { name, value } in set.iter().chain(add).flatten() {
        // `HeaderValue::from_str`: no control characters but tab.
        if value.bytes().any(|b| (b < 32 && b != b'\t') || b == 127) {
            return fail(
                field,
                Invalid::Unsupported("a header value must not contain control characters"),
            );
        }
        if !syntax::header_name(name) {
            return fail(field, Invalid::HeaderName(name.clone()));
        }
    }
    for n in remove.iter().flatten() {
        if !syntax::header_name(n) {
            return fail(field, Invalid::HeaderName(n.clone()));
        }
    }
    Ok(())
}

/// `RequestRedirect`: absolute replacement paths (the index's `path_modifier`), a 301 or 302.
fn redirect(r: &wire::RequestRedirect, field: &str) -> Result<(), Fail> {
    let wire::RequestRedirect {
        scheme,
        hostname,
        path,
        port: _, // any port
        status_code,
    } = r;
    if scheme.as_deref().is_some_and(|s| s != "http" && s != "https") {
        return fail(
            format!("{field}.scheme"),
            Invalid::Unsupported("a redirect's scheme is http or https"),
        );
    }
    if let Some(h) = hostname
        .as_deref()
        .filter(|h| h.starts_with('*') || !syntax::hostname(h))
    {
        return fail(
            format!("{field}.hostname"),
            Invalid::Hostname {
                value: h.to_string(),
                why: "not a lower-case DNS name",
            },
        );
    }
    if status_code.is_some_and(|c| c != 301 && c != 302) {
        return fail(
            format!("{field}.statusCode"),
            Invalid::Unsupported("a redirect's statusCode is 301 or 302"),
        );
    }
    if let Some(wire::RedirectPath {
        kind,
        replace_full_path,
        replace_prefix_match,
    }) = path
    {
        // The CRD: `type` names the one replacement that is set.
        let consistent = match kind.as_deref() {
            Some("ReplaceFullPath") => replace_prefix_match.is_none(),
            Some("ReplacePrefixMatch") => replace_full_path.is_none(),
            _ => false,
        };
        if !consistent {
            return fail(
                format!("{field}.path.type"),
                Invalid::Unsupported("type is ReplaceFullPath or ReplacePrefixMatch, naming the one replacement set"),
            );
        }
        match replace_full_path.as_ref().or(replace_prefix_match.as_ref()) {
            Some(p) if !p.starts_with('/') => return fail(format!("{field}.path"), Invalid::RedirectPath(p.clone())),
            Some(_) => {}
            None => {
                return fail(
                    format!("{field}.path"),
                    Invalid::Unsupported(
                        "RequestRedirect filter must contain either replace_full_path or replace_prefix_match",
                    ),
                )
            }
        }
    }
    Ok(())
}

/// `timeouts`: Go durations. Linkerd's webhook (policy.linkerd.io routes) refuses negative
/// ones and a backend timeout above the request's; the Gateway API CRD refuses the latter unless
/// the request timeout is `0s` (none).
pub(super) fn timeouts(t: &wire::Timeouts, field: &str, group: &str) -> Result<(), Fail> {
    let wire::Timeouts {
        request,
        backend_request,
    } = t;
    let parse = |v: &Option<String>, name: &str| -> Result<Option<f64>, Fail> {
        let Some(v) = v else { return Ok(None) };
        let n = syntax::duration_nanos(v).map_err(|e| Fail {
            field: format!("{field}.{name}"),
            why: Invalid::Timeout(format!("{v:?} is not a duration: {e}")),
        })?;
        if n < 0.0 {
            return fail(
                format!("{field}.{name}"),
                Invalid::Timeout(format!("{name} timeout must not be negative")),
            );
        }
        Ok(Some(n))
    };
    let (req, backend) = (parse(request, "request")?, parse(backend_request, "backendRequest")?);
    if let (Some(r), Some(b)) = (req, backend) {
        let refused = if group == POLICY { b > r } else { r != 0.0 && b > r };
        if refused {
            return fail(
                field,
                Invalid::Timeout(format!(
                    "backendRequest timeout ({}) must not be greater than request timeout ({})",
                    backend_request.as_deref().unwrap_or_default(),
                    request.as_deref().unwrap_or_default()
                )),
            );
        }
    }
    Ok(())
}

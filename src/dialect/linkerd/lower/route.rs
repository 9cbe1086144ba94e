//! HTTPRoute and GRPCRoute → route matches, validated as the webhook (`admission.rs`), the
//! index (`routes/http.rs`, `routes/grpc.rs`, `inbound/routes.rs`) and the CRD schemas do.
//!
//! Where Linkerd's index *ignores* a route the webhook admitted (a filter it does not support,
//! a Server parent named with a port or section), the Server it was meant for would fall back
//! to its default route, wider than the route: this build refuses the bundle instead.

use super::super::invalid::{fail, Fail, Invalid};
use super::super::pattern::Anchored;
use super::super::route::{GrpcMatchSpec, HttpMatchSpec, NamedValue, PathSpec, ValueSpec};
use super::super::{syntax, wire};
use super::targets_kind;
use crate::model::HostPattern;

const POLICY: &str = "policy.linkerd.io";
const GATEWAY: &str = "gateway.networking.k8s.io";

/// What a route's rules ask for that an inbound authorization filter does not do: reported as
/// warnings (`field`, what is ignored).
pub(in super::super) type RuleNotes = Vec<(String, &'static str)>;

/// The Servers a route attaches to, by name, and whether it also has other (outbound) parents.
pub(in super::super) struct Parents {
    pub servers: Vec<String>,
    pub outbound: bool,
}

/// `parentRefs`, with the CRD's defaults (group: the route's own API group, kind `Gateway`).
/// A Server parent must be in the route's namespace and name no port or section (the index's
/// `InvalidParentRef`); an EgressNetwork parent needs a port (the webhook).
pub(in super::super) fn route_parents(ps: Option<&[wire::ParentRef]>, ns: &str, group: &str) -> Result<Parents, Fail> {
    let mut out = Parents {
        servers: Vec::new(),
        outbound: false,
    };
    for (i, p) in ps.unwrap_or(&[]).iter().enumerate() {
        let wire::ParentRef {
            group: g,
            kind,
            name,
            namespace,
            section_name,
            port,
        } = p;
        let f = format!("spec.parentRefs[{i}]");
        let g = Some(g.as_deref().unwrap_or(group));
        let kind = kind.as_deref().unwrap_or("Gateway");
        if targets_kind(g, kind, POLICY, "EgressNetwork") && port.is_none() {
            return fail(f, Invalid::EgressNetworkPort);
        }
        if !targets_kind(g, kind, POLICY, "Server") || name.is_empty() {
            out.outbound = true;
            continue;
        }
        let why = if namespace.as_deref().is_some_and(|n| n != ns) {
            Some("route resource may not reference a parent Server in an other namespace")
        } else if port.is_some() {
            Some("route resource may not reference a parent by port")
        } else if section_name.is_some() {
            Some("route resource may not reference a parent by section name")
        } else {
            None
        };
        if let Some(why) = why {
            return fail(f, Invalid::ParentRef(why));
        }
        out.servers.push(name.clone());
    }
    Ok(out)
}

/// `hostnames[]`: the Gateway API pattern (lower-case DNS names, an optional leading `*.`),
/// never an IP address (the proxy's `MatchHost` refuses numeric hosts).
pub(in super::super) fn hostnames(hs: Option<&[String]>) -> Result<Vec<HostPattern>, Fail> {
    let mut out = Vec::new();
    for (i, h) in hs.unwrap_or(&[]).iter().enumerate() {
        let bad = |why| Fail {
            field: format!("spec.hostnames[{i}]"),
            why: Invalid::Hostname { value: h.clone(), why },
        };
        if h.parse::<std::net::IpAddr>().is_ok() {
            return Err(bad("a hostname must not be an IP address"));
        }
        if !syntax::hostname(h) {
            return Err(bad(
                "not a lower-case DNS name with an optional leading `*.` (Gateway API hostname)",
            ));
        }
        out.push(HostPattern::parse_gateway(h).map_err(|_| bad("not a Gateway API hostname"))?);
    }
    Ok(out)
}

/// A `RegularExpression` value, compiled now.
fn regex(pattern: &str, field: String) -> Result<Anchored, Fail> {
    Anchored::parse(pattern).map_err(|error| Fail {
        field,
        why: Invalid::Regex {
            pattern: pattern.to_string(),
            error,
        },
    })
}

/// Header (`header: true`, names lowercased and checked) or query parameter matches.
fn values(vs: Option<&[wire::ValueMatch]>, field: &str, header: bool) -> Result<Vec<NamedValue>, Fail> {
    let mut out = Vec::new();
    for (i, v) in vs.unwrap_or(&[]).iter().enumerate() {
        let wire::ValueMatch { kind, name, value } = v;
        let f = format!("{field}[{i}]");
        if header && !syntax::header_name(name) {
            return fail(format!("{f}.name"), Invalid::HeaderName(name.clone()));
        }
        if name.is_empty() {
            return fail(format!("{f}.name"), Invalid::EmptyValue);
        }
        if value.is_empty() {
            return fail(format!("{f}.value"), Invalid::EmptyValue);
        }
        let value = match kind.as_deref().unwrap_or("Exact") {
            "Exact" => ValueSpec::Exact(value.clone()),
            "RegularExpression" => ValueSpec::Regex(regex(value, format!("{f}.value"))?),
            t => {
                return fail(
                    format!("{f}.type"),
                    Invalid::NotOneOf {
                        value: t.to_string(),
                        allowed: "Exact or RegularExpression",
                    },
                )
            }
        };
        let name = if header {
            name.to_ascii_lowercase()
        } else {
            name.clone()
        };
        out.push(NamedValue { name, value });
    }
    Ok(out)
}

/// `matches[].path` (CRD defaults `PathPrefix` and `/`; the index's `path_match`).
fn path(p: Option<&wire::PathMatch>, field: &str, group: &str) -> Result<PathSpec, Fail> {
    let (kind, value) = match p {
        None => ("PathPrefix", "/"),
        Some(wire::PathMatch { kind, value }) => {
            (kind.as_deref().unwrap_or("PathPrefix"), value.as_deref().unwrap_or("/"))
        }
    };
    let literal = |value: &str| {
        if !value.starts_with('/') {
            return fail(format!("{field}.value"), Invalid::RelativePath(value.to_string()));
        }
        match group {
            GATEWAY => syntax::gateway_path(value).or_else(|why| {
                fail(
                    format!("{field}.value"),
                    Invalid::GatewayPath {
                        value: value.to_string(),
                        why,
                    },
                )
            }),
            _ => Ok(()),
        }
    };
    Ok(match kind {
        "Exact" => literal(value).map(|()| PathSpec::Exact(value.to_string()))?,
        "PathPrefix" => literal(value).map(|()| PathSpec::Prefix(value.to_string()))?,
        "RegularExpression" => PathSpec::Regex(regex(value, format!("{field}.value"))?),
        t => {
            return fail(
                format!("{field}.type"),
                Invalid::NotOneOf {
                    value: t.to_string(),
                    allowed: "Exact, PathPrefix or RegularExpression",
                },
            )
        }
    })
}

const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// Notes the rule's fields that only shape forwarding (`(name, present)`).
fn ignored(present: &[(&str, bool)], field: &str, notes: &mut RuleNotes) {
    for (name, _) in present.iter().filter(|(_, on)| *on) {
        notes.push((format!("{field}.{name}"), "ignored: spiffe-authz only authorizes"));
    }
}

/// One `HTTPRoute` rule's matches; what the rule asks for beyond matching goes to `notes`.
pub(in super::super) fn http_rule(
    r: &wire::HttpRule,
    field: &str,
    group: &str,
    notes: &mut RuleNotes,
) -> Result<Vec<HttpMatchSpec>, Fail> {
    let wire::HttpRule {
        name: _, // a label for humans: no effect on matching
        matches,
        filters,
        backend_refs,
        timeouts,
        retry,
        session_persistence,
    } = r;
    super::super::filters::check(filters.as_deref(), field, false, notes)?;
    super::super::filters::backends(backend_refs.as_deref(), field, notes)?;
    if let Some(t) = timeouts {
        super::super::filters::timeouts(t, &format!("{field}.timeouts"), group)?;
    }
    let present = [
        ("timeouts", timeouts.is_some()),
        ("retry", retry.is_some()),
        ("sessionPersistence", session_persistence.is_some()),
    ];
    ignored(&present, field, notes);
    let mut out = Vec::new();
    for (i, m) in matches.iter().flatten().enumerate() {
        let f = format!("{field}.matches[{i}]");
        let wire::HttpMatch {
            path: p,
            headers,
            query_params,
            method,
        } = m;
        if let Some(m) = method.as_deref().filter(|m| !METHODS.contains(m)) {
            return fail(
                format!("{f}.method"),
                Invalid::NotOneOf {
                    value: m.to_string(),
                    allowed: "GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE or PATCH",
                },
            );
        }
        out.push(HttpMatchSpec {
            path: path(p.as_ref(), &format!("{f}.path"), group)?,
            method: method.clone(),
            headers: values(headers.as_deref(), &format!("{f}.headers"), true)?,
            query: values(query_params.as_deref(), &format!("{f}.queryParams"), false)?,
        });
    }
    Ok(out)
}

/// One `GRPCRoute` rule's matches (the index's `routes/grpc.rs` `try_match` and the CRD's
/// method rules).
pub(in super::super) fn grpc_rule(
    r: &wire::GrpcRule,
    field: &str,
    notes: &mut RuleNotes,
) -> Result<Vec<GrpcMatchSpec>, Fail> {
    let wire::GrpcRule {
        name: _, // a label for humans: no effect on matching
        matches,
        filters,
        backend_refs,
        session_persistence,
    } = r;
    super::super::filters::check(filters.as_deref(), field, true, notes)?;
    super::super::filters::backends(backend_refs.as_deref(), field, notes)?;
    ignored(&[("sessionPersistence", session_persistence.is_some())], field, notes);
    let mut out = Vec::new();
    for (i, m) in matches.iter().flatten().enumerate() {
        let f = format!("{field}.matches[{i}]");
        let wire::GrpcMatch { method, headers } = m;
        let (service, method) = match method {
            None => (None, None),
            Some(wire::GrpcMethodMatch { kind, service, method }) => {
                match kind.as_deref().unwrap_or("Exact") {
                    "Exact" => {}
                    t => return fail(format!("{f}.method.type"), Invalid::GrpcMatchType(t.to_string())),
                }
                if service.is_none() && method.is_none() {
                    return fail(format!("{f}.method"), Invalid::GrpcServiceOrMethod);
                }
                if let Some(s) = service.as_deref().filter(|s| !syntax::grpc_service(s)) {
                    return fail(
                        format!("{f}.method.service"),
                        Invalid::GrpcName {
                            value: s.into(),
                            what: "service",
                        },
                    );
                }
                if let Some(m) = method.as_deref().filter(|m| !syntax::grpc_method(m)) {
                    return fail(
                        format!("{f}.method.method"),
                        Invalid::GrpcName {
                            value: m.into(),
                            what: "method",
                        },
                    );
                }
                (service.clone(), method.clone())
            }
        };
        out.push(GrpcMatchSpec {
            service,
            method,
            headers: values(headers.as_deref(), &format!("{f}.headers"), true)?,
        });
    }
    Ok(out)
}

/// The API group of a route's `apiVersion`.
pub(in super::super) fn api_group(api_version: &str) -> &'static str {
    match api_version.split_once('/') {
        Some((g, _)) if g.eq_ignore_ascii_case(GATEWAY) => GATEWAY,
        _ => POLICY,
    }
}

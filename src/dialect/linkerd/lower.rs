//! Wire objects → Linkerd's internal form, validated as the policy controller and its
//! admission webhook validate them. Each function returns `(field, message)` on error; the
//! caller names the resource.

use std::collections::BTreeMap;

use super::authz::Authn;
use super::identity::{dns_identity, Identities};
use super::route::{GrpcMatchSpec, HttpMatchSpec, PathSpec};
use super::wire;
use crate::model::{Cidr, HostPattern, IpSet};

pub(super) type Fail = (String, String);

fn fail(field: impl Into<String>, msg: impl Into<String>) -> Fail {
    (field.into(), msg.into())
}

/// Names Linkerd identities: `<sa>.<ns>.serviceaccount.identity.<cp-ns>.<td>`.
pub(super) struct Naming<'a> {
    pub control_plane_ns: &'a str,
    pub trust_domain: &'a str,
}

impl Naming<'_> {
    pub fn service_account(&self, ns: &str, sa: &str) -> String {
        dns_identity(sa, ns, self.control_plane_ns, self.trust_domain)
    }

    /// Every service account of a namespace (`ClusterInfo::namespace_identity`).
    pub fn namespace(&self, ns: &str) -> String {
        format!(
            "*.{ns}.serviceaccount.identity.{}.{}",
            self.control_plane_ns, self.trust_domain
        )
    }
}

/// A Kubernetes label selector.
#[derive(Clone, Debug, Default)]
pub(super) struct Selector {
    labels: BTreeMap<String, String>,
    exprs: Vec<(String, Op, Vec<String>)>,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Selector {
    /// Parses a `LabelSelector` (an empty one selects everything).
    pub fn parse(s: &wire::LabelSelector, field: &str) -> Result<Selector, Fail> {
        let mut exprs = Vec::new();
        for (i, e) in s.match_expressions.iter().enumerate() {
            let f = format!("{field}.matchExpressions[{i}]");
            let op = match e.operator.as_str() {
                "In" => Op::In,
                "NotIn" => Op::NotIn,
                "Exists" => Op::Exists,
                "DoesNotExist" => Op::DoesNotExist,
                o => {
                    return Err(fail(
                        format!("{f}.operator"),
                        format!("{o:?} is not In, NotIn, Exists or DoesNotExist"),
                    ))
                }
            };
            let values = e.values.clone().unwrap_or_default();
            match (op, values.is_empty()) {
                (Op::In | Op::NotIn, true) => {
                    return Err(fail(format!("{f}.values"), "must not be empty for In and NotIn"))
                }
                (Op::Exists | Op::DoesNotExist, false) => {
                    return Err(fail(format!("{f}.values"), "must be empty for Exists and DoesNotExist"))
                }
                _ => {}
            }
            exprs.push((e.key.clone(), op, values));
        }
        Ok(Selector {
            labels: s.match_labels.clone(),
            exprs,
        })
    }

    /// Does the selector select an object with these labels?
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.exprs.iter().all(|(k, op, vs)| match op {
                Op::In => labels.get(k).is_some_and(|v| vs.contains(v)),
                Op::NotIn => labels.get(k).is_none_or(|v| !vs.contains(v)),
                Op::Exists => labels.contains_key(k),
                Op::DoesNotExist => !labels.contains_key(k),
            })
    }
}

/// Parses `networks[]`: `{cidr, except}` entries, naming the bad field. An unknown client
/// address is in none of them (fail closed).
pub(super) fn networks(ns: &[wire::Network], field: &str) -> Result<IpSet, Fail> {
    let mut out = IpSet::default();
    for (i, n) in ns.iter().enumerate() {
        let net = Cidr::parse(&n.cidr).map_err(|e| (format!("{field}[{i}].cidr"), e))?;
        let except = n
            .except
            .iter()
            .flatten()
            .enumerate()
            .map(|(j, e)| Cidr::parse(e).map_err(|m| (format!("{field}[{i}].except[{j}]"), m)))
            .collect::<Result<Vec<_>, _>>()?;
        out.insert_except(net, except);
    }
    Ok(out)
}

/// Which Servers a ServerAuthorization applies to.
#[derive(Debug)]
pub(super) enum ServerSel {
    Name(String),
    Selector(Selector),
}

/// A lowered ServerAuthorization. `networks: None` = the cluster networks (the policy
/// controller sends a ServerAuthorization without `networks` as the cluster's networks).
pub(super) struct Saz {
    pub server: ServerSel,
    pub networks: Option<IpSet>,
    pub authn: Authn,
}

/// `ServerAuthorization.spec` (`server_authorization.rs`: `unauthenticated` wins over
/// `meshTLS`; `meshTLS.unauthenticatedTLS` over identities; no client authentication, or no
/// identity at all, is an error).
pub(super) fn server_authorization(s: &wire::ServerAuthorizationSpec, ns: &str, n: &Naming<'_>) -> Result<Saz, Fail> {
    let server = match &s.server {
        None => return Err(fail("spec.server", "is required")),
        Some(wire::SazServer { name: Some(name), .. }) => ServerSel::Name(name.clone()),
        Some(wire::SazServer { selector, .. }) => ServerSel::Selector(Selector::parse(
            selector.as_ref().unwrap_or(&wire::LabelSelector::default()),
            "spec.server.selector",
        )?),
    };
    let Some(client) = &s.client else {
        return Err(fail("spec.client", "is required"));
    };
    let networks = match client.networks.as_deref() {
        None | Some([]) => None,
        Some(nets) => Some(networks(nets, "spec.client.networks")?),
    };
    let authn = if client.unauthenticated {
        Authn::Unauthenticated
    } else if let Some(m) = &client.mesh_tls {
        if m.unauthenticated_tls {
            Authn::TlsUnauthenticated
        } else {
            let mut ids = Identities::default();
            m.identities.iter().flatten().for_each(|i| ids.insert(i));
            for sa in m.service_accounts.iter().flatten() {
                ids.insert(&n.service_account(sa.namespace.as_deref().unwrap_or(ns), &sa.name));
            }
            if ids.is_empty() {
                return Err(fail(
                    "spec.client.meshTLS",
                    "authorizes no clients (no identities or serviceAccounts)",
                ));
            }
            Authn::Identities(Box::new(ids))
        }
    } else {
        return Err(fail(
            "spec.client",
            "no client authentication configured (set unauthenticated or meshTLS)",
        ));
    };
    Ok(Saz {
        server,
        networks,
        authn,
    })
}

fn is_core(group: &Option<String>) -> bool {
    matches!(group.as_deref(), None | Some("") | Some("core"))
}

/// `MeshTLSAuthentication.spec` → its identities.
pub(super) fn mesh_tls_authentication(
    s: &wire::MeshTlsAuthenticationSpec,
    ns: &str,
    n: &Naming<'_>,
) -> Result<Identities, Fail> {
    let mut ids = Identities::default();
    s.identities.iter().flatten().for_each(|i| ids.insert(i));
    for (i, r) in s.identity_refs.iter().flatten().enumerate() {
        match r.kind.as_str() {
            "ServiceAccount" if is_core(&r.group) => {
                ids.insert(&n.service_account(r.namespace.as_deref().unwrap_or(ns), &r.name))
            }
            "Namespace" if is_core(&r.group) => ids.insert(&n.namespace(&r.name)),
            k => {
                return Err(fail(
                    format!("spec.identityRefs[{i}].kind"),
                    format!("unsupported target type {k:?} (ServiceAccount or Namespace)"),
                ))
            }
        }
    }
    if ids.is_empty() {
        return Err(fail("spec", "no identities configured"));
    }
    Ok(ids)
}

/// `NetworkAuthentication.spec` → its networks.
pub(super) fn network_authentication(s: &wire::NetworkAuthenticationSpec) -> Result<IpSet, Fail> {
    if s.networks.is_empty() {
        return Err(fail("spec.networks", "is required"));
    }
    networks(&s.networks, "spec.networks")
}

/// What an AuthorizationPolicy targets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Target {
    Server(String),
    Namespace,
    /// (kind lowercase: `httproute` / `grpcroute`, group lowercase, name).
    Route(String, String, String),
}

/// One `requiredAuthenticationRefs` entry.
#[derive(Clone, Debug)]
pub(super) enum AuthnRef {
    MeshTls(String, String),
    Network(String, String),
    ServiceAccount(String, String),
}

/// `AuthorizationPolicy.spec` → target and authentication references (resolved later).
pub(super) fn authorization_policy(
    s: &wire::AuthorizationPolicySpec,
    ns: &str,
) -> Result<(Target, Vec<AuthnRef>), Fail> {
    let Some(t) = &s.target_ref else {
        return Err(fail("spec.targetRef", "is required"));
    };
    let group = t.group.clone().unwrap_or_default().to_ascii_lowercase();
    let target = match (group.as_str(), t.kind.to_ascii_lowercase().as_str()) {
        ("policy.linkerd.io", "server") => Target::Server(t.name.clone()),
        ("" | "core", "namespace") if t.name == ns => Target::Namespace,
        ("" | "core", "namespace") => {
            return Err(fail(
                "spec.targetRef.name",
                format!("a Namespace target may only be the policy's own namespace {ns:?}"),
            ))
        }
        ("policy.linkerd.io" | "gateway.networking.k8s.io", k @ "httproute")
        | ("gateway.networking.k8s.io", k @ "grpcroute") => Target::Route(k.to_string(), group.clone(), t.name.clone()),
        _ => {
            return Err(fail(
                "spec.targetRef",
                format!(
                    "unsupported authorization target type {}/{} (Server, Namespace, HTTPRoute, GRPCRoute)",
                    group, t.kind
                ),
            ))
        }
    };
    let mut refs = Vec::new();
    for (i, r) in s.required_authentication_refs.iter().enumerate() {
        let rns = r.namespace.clone().unwrap_or_else(|| ns.to_string());
        let g = r.group.as_deref().unwrap_or("");
        refs.push(match (g, r.kind.as_str()) {
            ("policy.linkerd.io", "MeshTLSAuthentication") => AuthnRef::MeshTls(rns, r.name.clone()),
            ("policy.linkerd.io", "NetworkAuthentication") => AuthnRef::Network(rns, r.name.clone()),
            ("" | "core", "ServiceAccount") => AuthnRef::ServiceAccount(rns, r.name.clone()),
            _ => {
                return Err(fail(
                    format!("spec.requiredAuthenticationRefs[{i}]"),
                    format!(
                        "unsupported authentication target {g}/{} (MeshTLSAuthentication, NetworkAuthentication, ServiceAccount)",
                        r.kind
                    ),
                ))
            }
        });
    }
    Ok((target, refs))
}

/// The Servers (by name) a route attaches to: `parentRefs` of kind Server in the route's
/// namespace. Other parents (a Service: outbound policy) are not inbound routes.
pub(super) fn route_parents(ps: Option<&[wire::ParentRef]>, ns: &str) -> Vec<String> {
    ps.unwrap_or(&[])
        .iter()
        .filter(|p| {
            p.kind.as_deref() == Some("Server")
                && p.group.as_deref() == Some("policy.linkerd.io")
                && p.namespace.as_deref().is_none_or(|n| n == ns)
        })
        .map(|p| p.name.clone())
        .collect()
}

/// `hostnames[]`.
pub(super) fn hostnames(hs: Option<&[String]>) -> Result<Vec<HostPattern>, Fail> {
    hs.unwrap_or(&[])
        .iter()
        .enumerate()
        .map(|(i, h)| HostPattern::parse_gateway(h).map_err(|m| fail(format!("spec.hostnames[{i}]"), m)))
        .collect()
}

fn headers(hs: Option<&[wire::HeaderMatch]>, field: &str) -> Result<Vec<(String, String)>, Fail> {
    let mut out = Vec::new();
    for (i, h) in hs.unwrap_or(&[]).iter().enumerate() {
        match h.kind.as_deref().unwrap_or("Exact") {
            "Exact" => out.push((h.name.to_ascii_lowercase(), h.value.clone())),
            "RegularExpression" => {
                return Err(fail(
                    format!("{field}.headers[{i}].type"),
                    "RegularExpression header matches are not supported by spiffe-authz (use Exact)",
                ))
            }
            t => {
                return Err(fail(
                    format!("{field}.headers[{i}].type"),
                    format!("{t:?} is not Exact or RegularExpression"),
                ))
            }
        }
    }
    Ok(out)
}

fn refuse_filters(fs: Option<&[serde_json::Value]>, field: &str) -> Result<(), Fail> {
    match fs {
        Some(f) if !f.is_empty() => Err(fail(
            format!("{field}.filters"),
            "route filters (header modifiers, redirects, failure injection) change the request or answer for it; \
             spiffe-authz only authorizes: remove them from the bundle",
        )),
        _ => Ok(()),
    }
}

/// One `HTTPRoute` rule's matches.
pub(super) fn http_rule(r: &wire::HttpRule, field: &str) -> Result<Vec<HttpMatchSpec>, Fail> {
    refuse_filters(r.filters.as_deref(), field)?;
    let mut out = Vec::new();
    for (i, m) in r.matches.iter().flatten().enumerate() {
        let f = format!("{field}.matches[{i}]");
        let (kind, value) = match &m.path {
            None => ("PathPrefix", "/"),
            Some(p) => (
                p.kind.as_deref().unwrap_or("PathPrefix"),
                p.value.as_deref().unwrap_or("/"),
            ),
        };
        if !value.starts_with('/') {
            return Err(fail(
                format!("{f}.path.value"),
                format!("{value:?} must start with '/'"),
            ));
        }
        let path = match kind {
            "Exact" => PathSpec::Exact(value.to_string()),
            "PathPrefix" => PathSpec::Prefix(value.to_string()),
            "RegularExpression" => {
                return Err(fail(
                    format!("{f}.path.type"),
                    "RegularExpression path matches are not supported by spiffe-authz (use Exact or PathPrefix)",
                ))
            }
            t => {
                return Err(fail(
                    format!("{f}.path.type"),
                    format!("{t:?} is not Exact, PathPrefix or RegularExpression"),
                ))
            }
        };
        if m.query_params.as_ref().is_some_and(|q| !q.is_empty()) {
            return Err(fail(
                format!("{f}.queryParams"),
                "query parameter matches are not supported by spiffe-authz (the engine decides on the path without its query)",
            ));
        }
        out.push(HttpMatchSpec {
            path,
            method: m.method.clone(),
            headers: headers(m.headers.as_deref(), &f)?,
        });
    }
    Ok(out)
}

/// One `GRPCRoute` rule's matches.
pub(super) fn grpc_rule(r: &wire::GrpcRule, field: &str) -> Result<Vec<GrpcMatchSpec>, Fail> {
    refuse_filters(r.filters.as_deref(), field)?;
    let mut out = Vec::new();
    for (i, m) in r.matches.iter().flatten().enumerate() {
        let f = format!("{field}.matches[{i}]");
        let (service, method) = match &m.method {
            None => (None, None),
            Some(mm) => match mm.kind.as_deref().unwrap_or("Exact") {
                "Exact" => (mm.service.clone(), mm.method.clone()),
                "RegularExpression" => {
                    return Err(fail(
                        format!("{f}.method.type"),
                        "RegularExpression method matches are not supported by spiffe-authz (use Exact)",
                    ))
                }
                t => {
                    return Err(fail(
                        format!("{f}.method.type"),
                        format!("{t:?} is not Exact or RegularExpression"),
                    ))
                }
            },
        };
        out.push(GrpcMatchSpec {
            service: service.filter(|s| !s.is_empty()),
            method: method.filter(|s| !s.is_empty()),
            headers: headers(m.headers.as_deref(), &f)?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(cidr: &str, except: &[&str]) -> wire::Network {
        wire::Network {
            cidr: cidr.into(),
            except: Some(except.iter().map(|e| e.to_string()).collect()),
        }
    }

    #[test]
    fn networks_with_exceptions() {
        let n = networks(&[net("10.0.0.0/8", &["10.1.0.0/16"])], "networks").unwrap();
        let ip = |s: &str| Some(s.parse().unwrap());
        assert!(n.admits(ip("10.2.3.4")));
        assert!(!n.admits(ip("10.1.3.4")));
        assert!(!n.admits(ip("192.168.0.1")));
        // Unknown address: fail closed, except for "every network".
        assert!(!n.admits(None));
        assert!(IpSet::every().admits(None));
        let bad = networks(&[net("10.0.0.0/40", &[])], "networks").unwrap_err();
        assert_eq!(bad.0, "networks[0].cidr");
        let bad = networks(&[net("10.0.0.0/8", &["x"])], "networks").unwrap_err();
        assert_eq!(bad.0, "networks[0].except[0]");
    }
}

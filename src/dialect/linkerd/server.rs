//! Servers: which policy governs a port of the workload.
//!
//! From linkerd.io "Authorization Policy" and the seed's "Setting a Default Policy":
//! > * If the port has a Server resource and the client matches a ServerAuthorization
//! >   resource for it: ALLOW
//! > * If the port has a Server resource but the client does not match any
//! >   ServerAuthorizations for it: DENY
//! > * If the port does not have a Server resource: use the default policy
//!
//! A Server selects the workload by `podSelector` (over the workload's labels) in its own
//! namespace, and a port by number or by container-port name (`workload.ports`). The policy
//! controller then hands the proxy, per port, one server policy: its protocol, its server-level
//! authorizations (ServerAuthorizations selecting it, AuthorizationPolicies targeting it or its
//! namespace, its `accessPolicy` default) and its routes (HTTPRoutes or GRPCRoutes whose
//! `parentRefs` name it, or a default route matching everything). The proxy adds the
//! `default:localhost` authorization to every server.

use std::collections::HashMap;

use super::authz::{Authn, Authz, AuthzList, DefaultPolicy, Source};
use super::invalid::{Fail, Invalid};
use super::lower::Selector;
use super::route::{GrpcRoutes, HttpMatchSpec, HttpRoutes, PathSpec, Route, RouteSpec};
use super::wire::{self, PortRef};
use crate::error::BundleError;
use crate::model::IpSet;
use crate::resource::Resource;

/// `Server.spec.proxyProtocol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Protocol {
    /// `unknown` (the default): protocol detection, HTTP routes.
    Detect,
    Http1,
    Http2,
    /// `gRPC`: GRPCRoutes only (HTTPRoutes attached to a gRPC Server are not used).
    Grpc,
    /// `opaque`: no routes, connection-level authorization.
    Opaque,
    /// `TLS`: no routes, connection-level authorization.
    Tls,
}

impl Protocol {
    /// Parses `proxyProtocol`.
    pub fn parse(s: Option<&str>) -> Result<Protocol, String> {
        Ok(match s.unwrap_or("unknown") {
            "unknown" => Protocol::Detect,
            "HTTP/1" => Protocol::Http1,
            "HTTP/2" => Protocol::Http2,
            "gRPC" => Protocol::Grpc,
            "opaque" => Protocol::Opaque,
            "TLS" => Protocol::Tls,
            p => return Err(format!("{p:?} is not unknown, HTTP/1, HTTP/2, gRPC, opaque or TLS")),
        })
    }

    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Detect => "unknown",
            Protocol::Http1 => "HTTP/1",
            Protocol::Http2 => "HTTP/2",
            Protocol::Grpc => "gRPC",
            Protocol::Opaque => "opaque",
            Protocol::Tls => "TLS",
        }
    }
}

/// A server's routes.
pub(super) enum Routes {
    Http(HttpRoutes),
    Grpc(GrpcRoutes),
    /// Opaque / TLS: authorized per connection, no routes.
    None,
}

/// What the proxy knows about one port.
pub(super) struct ServerPolicy {
    /// The Server resource in the layer's metas; `None` for the default policy.
    pub meta: Option<usize>,
    /// `Server emojivoto/voting-grpc` or `default:all-unauthenticated`.
    pub label: String,
    pub protocol: Protocol,
    /// Server-level authorizations, in order; routes' own come before them.
    pub authz: AuthzList,
    pub routes: Routes,
    /// The default policy or `accessPolicy` in force when no authorization matches.
    pub access: DefaultPolicy,
}

/// The servers of the workload, by port.
pub(super) struct Ports {
    pub servers: Vec<ServerPolicy>,
    pub by_port: HashMap<u16, usize>,
    /// The default policy's server, for ports without a Server.
    pub default: ServerPolicy,
    /// Ports without a Server whose default server differs (the pod's annotations, probes).
    pub defaults: HashMap<u16, ServerPolicy>,
}

/// How the server for a request was chosen.
pub(super) enum Selected<'a> {
    /// By the request's port (or the default policy for a port without a Server).
    Port(&'a ServerPolicy),
    /// The port is unknown and exactly one Server selects the workload.
    OnlyServer(&'a ServerPolicy),
    /// The port is unknown and several Servers select the workload: cannot choose.
    Ambiguous(usize),
}

impl Ports {
    /// The server for a destination port.
    ///
    /// Linkerd always knows the port (the proxy asks the controller per port). Envoy reports
    /// it too (`destination.port`); only a caller without one (the CLI without `--port`)
    /// gets here with `None`. Then a workload without Servers has only the default policy, one
    /// with a single Server is governed by it (the port it serves is the one being asked
    /// about), and one with several cannot be decided: fail closed.
    pub fn select(&self, port: Option<u16>) -> Selected<'_> {
        match port {
            Some(p) => Selected::Port(
                self.by_port
                    .get(&p)
                    .and_then(|i| self.servers.get(*i))
                    .or_else(|| self.defaults.get(&p))
                    .unwrap_or(&self.default),
            ),
            None => match self.servers.as_slice() {
                [] => Selected::Port(&self.default),
                [only] => Selected::OnlyServer(only),
                many => Selected::Ambiguous(many.len()),
            },
        }
    }
}

/// A parsed Server object.
pub(super) struct ServerObj {
    pub res: usize,
    /// `externalWorkloadSelector`: selects external workloads, never a pod.
    pub external: bool,
    pub selector: Selector,
    pub port: PortRef,
    pub protocol: Protocol,
    pub access: DefaultPolicy,
}

/// Linkerd's default route: one rule without matches (every request).
pub(super) fn default_route<M>() -> RouteSpec<M> {
    RouteSpec {
        route: Route {
            meta: None,
            name: "default",
            hosts: Vec::new(),
            authz: AuthzList::default(),
        },
        rules: vec![Vec::new()],
    }
}

/// The controller's `probe` route (`ClusterInfo::default_inbound_http_routes`): `GET` on each
/// probe path of the port, authorized from the probe networks without authentication. Sent
/// after the `default` route, which wins a tie (a probe path `/`).
pub(super) fn probe_route(paths: &[String], networks: &IpSet) -> RouteSpec<HttpMatchSpec> {
    let matches = paths
        .iter()
        .map(|p| HttpMatchSpec {
            path: PathSpec::Exact(p.clone()),
            method: Some("GET".into()),
            ..HttpMatchSpec::any()
        })
        .collect();
    RouteSpec {
        route: Route {
            meta: None,
            name: "probe",
            hosts: Vec::new(),
            authz: AuthzList::new(vec![Authz {
                source: Source::Default("probe"),
                networks: networks.clone(),
                authn: Authn::Unauthenticated,
            }]),
        },
        rules: vec![matches],
    }
}

/// How a port without a Server is served.
pub(super) struct DefaultPort<'a> {
    pub policy: DefaultPolicy,
    pub cluster: &'a IpSet,
    pub localhost: bool,
    /// `config.linkerd.io/opaque-ports`: no routes.
    pub opaque: bool,
    /// The port's probe paths and the probe networks.
    pub probes: Option<(&'a [String], &'a IpSet)>,
}

/// The server of a port without a Server (`default_inbound_server`): the default policy's
/// authorization, protocol detection with the default route (and the probe route), or opaque.
pub(super) fn default_server(d: DefaultPort<'_>) -> ServerPolicy {
    let mut authz: Vec<Authz> = Authz::default_policy(d.policy, d.cluster).into_iter().collect();
    if d.localhost {
        authz.push(Authz::localhost());
    }
    let mut routes = vec![default_route()];
    routes.extend(d.probes.map(|(paths, nets)| probe_route(paths, nets)));
    ServerPolicy {
        meta: None,
        label: format!("default:{}", d.policy.name()),
        protocol: if d.opaque { Protocol::Opaque } else { Protocol::Detect },
        authz: AuthzList::new(authz),
        routes: match (d.opaque, HttpRoutes::build(routes)) {
            (false, Ok(r)) => Routes::Http(r),
            // Opaque; or the default and probe routes (`/`, `/{*rest}` and literal probe
            // paths), which matchit always accepts.
            _ => Routes::None,
        },
        access: d.policy,
    }
}

/// A Server object: selector, port, protocol, access policy.
pub(super) fn parse(r: &Resource<'_>, res: usize, s: &wire::ServerSpec) -> Result<ServerObj, BundleError> {
    let at = |f: Fail| f.at(r);
    let wire::ServerSpec {
        pod_selector,
        external_workload_selector,
        port,
        proxy_protocol,
        access_policy,
    } = s;
    let (selector, external) = match (pod_selector, external_workload_selector) {
        (Some(sel), None) => (Selector::parse(sel, "spec.podSelector").map_err(at)?, false),
        (None, Some(sel)) => (Selector::parse(sel, "spec.externalWorkloadSelector").map_err(at)?, true),
        _ => return Err(r.error("spec.podSelector", Invalid::OneSelector.to_string())),
    };
    let port = match port {
        None => return Err(r.error("spec.port", Invalid::Required.to_string())),
        Some(PortRef::Number(p)) if !(1..=65535).contains(p) => {
            return Err(r.error("spec.port", Invalid::Port(p.to_string()).to_string()))
        }
        Some(PortRef::Name(n)) if n.is_empty() => {
            return Err(r.error("spec.port", Invalid::Port(n.clone()).to_string()))
        }
        Some(p) => p.clone(),
    };
    let protocol = Protocol::parse(proxy_protocol.as_deref()).map_err(|m| r.error("spec.proxyProtocol", m))?;
    let access = DefaultPolicy::parse(access_policy.as_deref().unwrap_or("deny"))
        .map_err(|m| r.error("spec.accessPolicy", format!("Invalid 'accessPolicy' field: {m}")))?;
    Ok(ServerObj {
        res,
        external,
        selector,
        port,
        protocol,
        access,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_parse_as_written() {
        for p in ["unknown", "HTTP/1", "HTTP/2", "gRPC", "opaque", "TLS"] {
            assert_eq!(Protocol::parse(Some(p)).unwrap().name(), p);
        }
        assert_eq!(Protocol::parse(None).unwrap(), Protocol::Detect);
        assert!(Protocol::parse(Some("grpc")).is_err());
    }
}

//! Per port of the workload, the server policy the controller would send the proxy
//! (`inbound/index.rs` `inbound_server`, `client_authzs`, `http_routes`, `grpc_routes`):
//! server-level authorizations in bundle order, then the `accessPolicy` default, then the
//! proxy's `default:localhost`; the routes attached to the Server (or the default route), each
//! with the AuthorizationPolicies that target it.

use std::collections::HashMap;

use super::authz::{Authz, AuthzList, DefaultPolicy, Source};
use super::lower::{ServerSel, Target};
use super::objects::{Objects, RouteObj};
use super::route::{GrpcRoutes, HttpRoutes, Route, RouteSpec};
use super::server::{default_route, default_server, Ports, Protocol, Routes, ServerObj, ServerPolicy};
use super::wire::PortRef;
use crate::dialect::Ctx;
use crate::error::{BundleError, Warning};
use crate::model::IpSet;
use crate::resource::Resource;

/// Builds the server policies, remembering which objects applied to any of them.
pub(super) struct Assembler<'a> {
    rs: &'a [Resource<'a>],
    objs: &'a Objects,
    cluster: &'a IpSet,
    localhost: bool,
    used: Vec<bool>,
}

impl<'a> Assembler<'a> {
    pub fn new(rs: &'a [Resource<'a>], objs: &'a Objects, cluster: &'a IpSet, localhost: bool) -> Self {
        Assembler {
            rs,
            objs,
            cluster,
            localhost,
            used: vec![false; rs.len()],
        }
    }

    fn mark(&mut self, res: usize) {
        if let Some(u) = self.used.get_mut(res) {
            *u = true;
        }
    }

    /// The workload's ports: the Servers that select it, and the default policy.
    pub fn ports(
        mut self,
        ctx: &Ctx<'_>,
        default_policy: DefaultPolicy,
        warnings: &mut Vec<Warning>,
    ) -> Result<Ports, BundleError> {
        let labels = ctx.workload.labels.clone().unwrap_or_default();
        let mut ports = Ports {
            servers: Vec::new(),
            by_port: HashMap::new(),
            default: default_server(default_policy, self.cluster, self.localhost),
        };
        for s in &self.objs.servers {
            let Some(r) = self.rs.get(s.res) else { continue };
            if !s.selector.matches(&labels) {
                warnings.push(r.warning("spec.podSelector", "does not select this workload"));
                continue;
            }
            let port = match &s.port {
                PortRef::Number(p) => *p as u16,
                PortRef::Name(name) => {
                    match ctx.workload.ports.get(name) {
                        Some(p) => *p,
                        None => {
                            warnings.push(r.warning(
                            "spec.port",
                            format!("the workload has no port named {name:?} (workload.ports): the Server selects no port"),
                        ));
                            continue;
                        }
                    }
                }
            };
            if let Some(prior) = ports.by_port.get(&port).and_then(|j| ports.servers.get(*j)) {
                return Err(r.error(
                    "spec.port",
                    format!(
                        "port {port} is already served by {}: Linkerd's admission webhook refuses Servers that select the same pod port",
                        prior.label
                    ),
                ));
            }
            let authz = self.server_authz(r, s);
            let routes = self.routes(r, s, warnings)?;
            ports.by_port.insert(port, ports.servers.len());
            ports.servers.push(ServerPolicy {
                meta: Some(s.res),
                label: format!("Server {}/{}", r.namespace, r.meta.name),
                protocol: s.protocol,
                authz,
                routes,
                access: s.access,
            });
        }
        self.warn_unused(warnings);
        Ok(ports)
    }

    /// ServerAuthorizations selecting the Server (by name or by its labels) and
    /// AuthorizationPolicies targeting it or its namespace, in bundle order; then the
    /// `accessPolicy` default; then `default:localhost`.
    fn server_authz(&mut self, r: &Resource<'_>, s: &ServerObj) -> AuthzList {
        let name = &r.meta.name;
        let mut found: Vec<(usize, Authz)> = Vec::new();
        for (j, saz) in &self.objs.sazs {
            let selects = match &saz.server {
                ServerSel::Name(n) => n == name,
                ServerSel::Selector(sel) => sel.matches(&r.meta.labels),
            };
            if selects {
                found.push((
                    *j,
                    Authz {
                        source: Source::Resource(*j),
                        // No `networks`: the controller sends the cluster networks.
                        networks: saz.networks.clone().unwrap_or_else(|| self.cluster.clone()),
                        authn: saz.authn.clone(),
                    },
                ));
            }
        }
        for (j, t, a) in &self.objs.aps {
            if matches!(t, Target::Namespace) || matches!(t, Target::Server(n) if n == name) {
                found.push((*j, a.clone()));
            }
        }
        found.sort_by_key(|(j, _)| *j);
        found.iter().for_each(|(j, _)| self.mark(*j));
        let mut authz: Vec<Authz> = found.into_iter().map(|(_, a)| a).collect();
        authz.extend(Authz::default_policy(s.access, self.cluster));
        if self.localhost {
            authz.push(Authz::localhost());
        }
        AuthzList::new(authz)
    }

    /// AuthorizationPolicies targeting a route (group compared case-insensitively, as the
    /// controller's `GroupKindName::eq_ignore_ascii_case`).
    fn route_authz(&mut self, res: usize, kind: &str, group: &str) -> AuthzList {
        let rname = self.rs.get(res).map(|r| r.meta.name.as_str()).unwrap_or("");
        let mut out = Vec::new();
        for (j, t, a) in &self.objs.aps {
            if matches!(t, Target::Route(k, g, n) if k == kind && g.eq_ignore_ascii_case(group) && n == rname) {
                out.push((*j, a.clone()));
            }
        }
        out.iter().for_each(|(j, _)| self.mark(*j));
        AuthzList::new(out.into_iter().map(|(_, a)| a).collect())
    }

    fn route_specs<M: Clone>(&mut self, name: &str, objs: &[RouteObj<M>], kind: &str) -> Vec<RouteSpec<M>> {
        let mut specs = Vec::new();
        for o in objs.iter().filter(|o| o.parents.iter().any(|p| p == name)) {
            self.mark(o.res);
            specs.push(RouteSpec {
                route: Route {
                    meta: Some(o.res),
                    hosts: o.hosts.clone(),
                    authz: self.route_authz(o.res, kind, &o.order.2),
                },
                rules: o.rules.clone(),
            });
        }
        if specs.is_empty() {
            specs.push(default_route());
        }
        specs
    }

    /// The Server's routes: GRPCRoutes for a gRPC Server, HTTPRoutes for the HTTP ones, none
    /// for opaque / TLS.
    fn routes(&mut self, r: &Resource<'_>, s: &ServerObj, warnings: &mut Vec<Warning>) -> Result<Routes, BundleError> {
        let name = r.meta.name.as_str();
        let objs = self.objs;
        let attached_http = objs.http.iter().any(|o| o.parents.iter().any(|p| p == name));
        let attached_grpc = objs.grpc.iter().any(|o| o.parents.iter().any(|p| p == name));
        Ok(match s.protocol {
            Protocol::Grpc => {
                if attached_http {
                    warnings.push(r.warning(
                        "spec.proxyProtocol",
                        "gRPC Server: the HTTPRoutes attached to it are not used (GRPCRoutes are)",
                    ));
                }
                Routes::Grpc(GrpcRoutes::build(self.route_specs(name, &objs.grpc, "grpcroute")))
            }
            Protocol::Opaque | Protocol::Tls => {
                if attached_http || attached_grpc {
                    warnings.push(r.warning(
                        "spec.proxyProtocol",
                        "opaque/TLS Server: routes attached to it are not used (the connection is authorized)",
                    ));
                }
                Routes::None
            }
            Protocol::Detect | Protocol::Http1 | Protocol::Http2 => {
                if attached_grpc {
                    warnings.push(r.warning(
                        "spec.proxyProtocol",
                        "not a gRPC Server: the GRPCRoutes attached to it are not used (HTTPRoutes are)",
                    ));
                }
                let specs = self.route_specs(name, &objs.http, "httproute");
                Routes::Http(HttpRoutes::build(specs).map_err(|m| r.error("spec", m))?)
            }
        })
    }

    /// Local authorizations and routes that reached no Server of this workload.
    fn warn_unused(&self, warnings: &mut Vec<Warning>) {
        let objs = self.objs;
        let ids = objs
            .sazs
            .iter()
            .map(|(j, _)| *j)
            .chain(objs.aps.iter().map(|(j, _, _)| *j))
            .chain(objs.http.iter().map(|o| o.res))
            .chain(objs.grpc.iter().map(|o| o.res));
        for j in ids {
            if !self.used.get(j).copied().unwrap_or(true) {
                if let Some(r) = self.rs.get(j) {
                    warnings.push(r.warning("", "applies to no Server of this workload"));
                }
            }
        }
    }
}

//! Per port of the workload, the server policy the controller would send the proxy
//! (`inbound/index.rs` `inbound_server`, `client_authzs`, `http_routes`, `grpc_routes`):
//! server-level authorizations in bundle order, then the `accessPolicy` default, then the
//! proxy's `default:localhost`; the routes attached to the Server (or the default route and
//! the pod's probe route), each with the AuthorizationPolicies that target it.
//!
//! Servers are taken oldest first (creation timestamp, then name: `Pod::reindex_servers`);
//! one that selects a port an older Server has is skipped, as the controller skips it.

use std::collections::HashMap;

use super::authz::{Authz, AuthzList, DefaultPolicy, Source};
use super::lower::{ServerSel, Target};
use super::objects::{Objects, RouteObj};
use super::pod::Pod;
use super::route::{GrpcRoutes, HttpRoutes, Route, RouteSpec};
use super::server::{
    default_route, default_server, probe_route, DefaultPort, Ports, Protocol, Routes, ServerObj, ServerPolicy,
};
use super::wire::PortRef;
use crate::dialect::Ctx;
use crate::error::{BundleError, Warning};
use crate::model::IpSet;
use crate::resource::Resource;

/// Builds the server policies, remembering which objects applied to any of them.
pub(super) struct Assembler<'a> {
    rs: &'a [Resource<'a>],
    objs: &'a Objects,
    net: Networks<'a>,
    used: Vec<bool>,
}

/// The cluster's networks, the probe networks, and whether loopback clients are permitted.
pub(super) struct Networks<'a> {
    pub cluster: &'a IpSet,
    pub probes: &'a IpSet,
    pub localhost: bool,
}

impl<'a> Assembler<'a> {
    pub fn new(rs: &'a [Resource<'a>], objs: &'a Objects, net: Networks<'a>) -> Self {
        Assembler {
            rs,
            objs,
            net,
            used: vec![false; rs.len()],
        }
    }

    /// The server of `port` without a Server.
    fn default_for(&self, pod: &Pod, port: Option<u16>, policy: DefaultPolicy) -> ServerPolicy {
        let p = port.unwrap_or(0);
        default_server(DefaultPort {
            policy: pod.policy_for(p, policy),
            cluster: self.net.cluster,
            localhost: self.net.localhost,
            opaque: pod.opaque.contains(&p),
            probes: pod.probe_paths(p).map(|paths| (paths, self.net.probes)),
        })
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
        pod: &Pod,
        default_policy: DefaultPolicy,
        warnings: &mut Vec<Warning>,
    ) -> Result<Ports, BundleError> {
        let labels = ctx.workload.labels.clone().unwrap_or_default();
        let mut ports = Ports {
            servers: Vec::new(),
            by_port: HashMap::new(),
            default: self.default_for(pod, None, default_policy),
            defaults: HashMap::new(),
        };
        let mut servers: Vec<&ServerObj> = self.objs.servers.iter().collect();
        let age = |s: &ServerObj| self.rs.get(s.res).map(|r| (&r.meta.creation_timestamp, &r.meta.name));
        // `Option` order, as the controller's: a Server without a timestamp sorts first. Names
        // are unique in a namespace: no two keys are equal.
        servers.sort_unstable_by(|a, b| age(a).cmp(&age(b)));
        for s in servers {
            let Some(r) = self.rs.get(s.res) else { continue };
            if s.external {
                warnings.push(r.warning(
                    "spec.externalWorkloadSelector",
                    "selects external workloads, never a pod: does not select this workload",
                ));
                continue;
            }
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
                warnings.push(r.warning(
                    "spec.port",
                    format!(
                        "port {port} is already served by {}, an older Server: ignored for this port, as Linkerd ignores it",
                        prior.label
                    ),
                ));
                continue;
            }
            let authz = self.server_authz(r, s);
            let routes = self.routes(r, s, pod.probe_paths(port), warnings)?;
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
        for p in pod.special_ports() {
            if !ports.by_port.contains_key(&p) && !ports.defaults.contains_key(&p) {
                ports.defaults.insert(p, self.default_for(pod, Some(p), default_policy));
            }
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
                        networks: saz.networks.clone().unwrap_or_else(|| self.net.cluster.clone()),
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
        authz.extend(Authz::default_policy(s.access, self.net.cluster));
        if self.net.localhost {
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

    /// The routes attached to Server `name`, oldest first; none: the default route.
    fn route_specs<M: Clone>(&mut self, name: &str, objs: &[RouteObj<M>], kind: &str) -> Vec<RouteSpec<M>> {
        let mut specs = Vec::new();
        for o in objs.iter().filter(|o| o.parents.iter().any(|p| p == name)) {
            self.mark(o.res);
            specs.push(RouteSpec {
                route: Route {
                    meta: Some(o.res),
                    name: "",
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
    fn routes(
        &mut self,
        r: &Resource<'_>,
        s: &ServerObj,
        probes: Option<&[String]>,
        warnings: &mut Vec<Warning>,
    ) -> Result<Routes, BundleError> {
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
                if attached_grpc && attached_http {
                    // GEP-1426: Linkerd's status controller marks the HTTPRoutes of a parent
                    // with GRPCRoutes `RouteConflicted` and the index drops them, so every
                    // request would meet the default route instead.
                    return Err(r.error(
                        "spec",
                        "both HTTPRoutes and GRPCRoutes attach to this HTTP Server: Linkerd rejects the HTTPRoutes \
                         (RouteConflicted) and serves its default route instead, wider than the routes; refused",
                    ));
                }
                if attached_grpc {
                    warnings.push(r.warning(
                        "spec.proxyProtocol",
                        "not a gRPC Server: the GRPCRoutes attached to it are not used (HTTPRoutes are)",
                    ));
                }
                let mut specs = self.route_specs(name, &objs.http, "httproute");
                if !attached_http {
                    specs.extend(probes.map(|paths| probe_route(paths, self.net.probes)));
                }
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

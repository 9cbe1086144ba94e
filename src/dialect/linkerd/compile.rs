//! The bundle's Linkerd objects → the per-port server policies of this workload, as the
//! policy controller computes them (`policy-controller/k8s/index/src/inbound/index.rs`).
//!
//! Every object is parsed and validated whatever workload the bundle is loaded for, so a broken
//! object is refused everywhere. Where the controller would *ignore* an invalid object (log
//! "Illegal AuthorizationPolicy; ignoring"), this build refuses the bundle instead: an
//! authorization that silently grants nothing is a configuration error worth stopping for.

use std::collections::HashMap;

use super::authz::{Authn, Authz, AuthzList, DefaultPolicy, Source};
use super::identity::{Identities, Networks};
use super::lower::{self, AuthnRef, Fail, Naming, Saz, ServerSel, Target};
use super::route::{GrpcMatchSpec, GrpcRoutes, HttpMatchSpec, HttpRoutes, Route, RouteSpec};
use super::server::{self, default_route, default_server, Ports, Protocol, Routes, ServerPolicy};
use super::wire::{self, PortRef};
use crate::dialect::{Ctx, Resource};
use crate::error::{BundleError, Warning};
use crate::model::{Cidr, Meta};

/// Everything the layer needs at request time.
pub(super) struct Compiled {
    pub metas: Vec<Meta>,
    pub ports: Ports,
    pub control_plane_ns: String,
    pub headers: Vec<String>,
}

struct RouteObj<M> {
    res: usize,
    /// (has no timestamp, timestamp, group, kind, name): Gateway API precedence order.
    order: (bool, String, String, String, String),
    parents: Vec<String>,
    hosts: Vec<super::route::HostPattern>,
    rules: Vec<Vec<M>>,
}

fn group_of(r: &Resource<'_>) -> String {
    r.api_version.split('/').next().unwrap_or("").to_string()
}

fn at(r: &Resource<'_>, (f, m): Fail) -> BundleError {
    r.error(f, m)
}

fn envelope(field: String) -> impl Fn(String) -> BundleError {
    move |message| BundleError::Envelope {
        field: field.clone(),
        message,
    }
}

/// Compiles the Linkerd objects for the workload.
pub(super) fn compile(
    rs: &[Resource<'_>],
    ctx: &Ctx<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<Compiled, BundleError> {
    let ls = &ctx.settings.linkerd;
    let default_policy = DefaultPolicy::parse(&ls.default_inbound_policy)
        .map_err(envelope("settings.linkerd.defaultInboundPolicy".into()))?;
    let cluster = ls
        .cluster_networks
        .iter()
        .enumerate()
        .map(|(i, c)| Cidr::parse(c).map_err(envelope(format!("settings.linkerd.clusterNetworks[{i}]"))))
        .collect::<Result<Vec<_>, _>>()?;
    let naming = Naming {
        control_plane_ns: &ls.control_plane_namespace,
        trust_domain: ctx.workload.trust_domain(),
    };
    let ns = ctx.workload.namespace();
    let metas: Vec<Meta> = rs
        .iter()
        .map(|r| r.model_meta(crate::model::Dialect::Linkerd))
        .collect();

    // Authentications first: AuthorizationPolicies refer to them across namespaces.
    let mut mtls: HashMap<(String, String), Identities> = HashMap::new();
    let mut nets: HashMap<(String, String), Networks> = HashMap::new();
    for r in rs {
        let key = (r.namespace.clone(), r.meta.name.clone());
        match r.kind.as_str() {
            "MeshTLSAuthentication" => {
                let s: wire::MeshTlsAuthenticationSpec = r.spec()?;
                mtls.insert(
                    key,
                    lower::mesh_tls_authentication(&s, &r.namespace, &naming).map_err(|e| at(r, e))?,
                );
            }
            "NetworkAuthentication" => {
                let s: wire::NetworkAuthenticationSpec = r.spec()?;
                nets.insert(key, lower::network_authentication(&s).map_err(|e| at(r, e))?);
            }
            _ => {}
        }
    }

    let mut servers = Vec::new();
    let mut sazs: Vec<(usize, Saz)> = Vec::new();
    let mut aps: Vec<(usize, Target, Authz)> = Vec::new();
    let mut http: Vec<RouteObj<HttpMatchSpec>> = Vec::new();
    let mut grpc: Vec<RouteObj<GrpcMatchSpec>> = Vec::new();
    for (i, r) in rs.iter().enumerate() {
        let local = r.namespace == ns;
        let route_order = |r: &Resource<'_>| {
            let ts = r.meta.creation_timestamp.clone();
            (
                ts.is_none(),
                ts.unwrap_or_default(),
                group_of(r),
                r.kind.clone(),
                r.meta.name.clone(),
            )
        };
        match r.kind.as_str() {
            "Server" => {
                let s: wire::ServerSpec = r.spec()?;
                let obj = server::parse(r, i, &s)?;
                if local {
                    servers.push(obj);
                }
            }
            "ServerAuthorization" => {
                let s: wire::ServerAuthorizationSpec = r.spec()?;
                let saz = lower::server_authorization(&s, &r.namespace, &naming).map_err(|e| at(r, e))?;
                if local {
                    sazs.push((i, saz));
                }
            }
            "AuthorizationPolicy" => {
                let s: wire::AuthorizationPolicySpec = r.spec()?;
                let (target, refs) = lower::authorization_policy(&s, &r.namespace).map_err(|e| at(r, e))?;
                let authz = policy_authz(i, &refs, &mtls, &nets, &naming).map_err(|e| at(r, e))?;
                if local {
                    aps.push((i, target, authz));
                }
            }
            "HTTPRoute" => {
                let s: wire::HttpRouteSpec = r.spec()?;
                note_ignored(
                    r,
                    s.rules
                        .iter()
                        .flatten()
                        .map(|x| (x.backend_refs.is_some(), x.timeouts.is_some())),
                    warnings,
                );
                let rules = s
                    .rules
                    .iter()
                    .flatten()
                    .enumerate()
                    .map(|(j, rule)| lower::http_rule(rule, &format!("spec.rules[{j}]")))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| at(r, e))?;
                let obj = RouteObj {
                    res: i,
                    order: route_order(r),
                    parents: lower::route_parents(s.parent_refs.as_deref(), &r.namespace),
                    hosts: lower::hostnames(s.hostnames.as_deref()).map_err(|e| at(r, e))?,
                    rules: if rules.is_empty() { vec![Vec::new()] } else { rules },
                };
                if obj.parents.is_empty() {
                    warnings.push(r.warning(
                        "spec.parentRefs",
                        "names no Server: an outbound route, not enforced here",
                    ));
                } else if local {
                    http.push(obj);
                }
            }
            "GRPCRoute" => {
                let s: wire::GrpcRouteSpec = r.spec()?;
                note_ignored(
                    r,
                    s.rules.iter().flatten().map(|x| (x.backend_refs.is_some(), false)),
                    warnings,
                );
                let rules = s
                    .rules
                    .iter()
                    .flatten()
                    .enumerate()
                    .map(|(j, rule)| lower::grpc_rule(rule, &format!("spec.rules[{j}]")))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| at(r, e))?;
                let obj = RouteObj {
                    res: i,
                    order: route_order(r),
                    parents: lower::route_parents(s.parent_refs.as_deref(), &r.namespace),
                    hosts: lower::hostnames(s.hostnames.as_deref()).map_err(|e| at(r, e))?,
                    rules: if rules.is_empty() { vec![Vec::new()] } else { rules },
                };
                if obj.parents.is_empty() {
                    warnings.push(r.warning(
                        "spec.parentRefs",
                        "names no Server: an outbound route, not enforced here",
                    ));
                } else if local {
                    grpc.push(obj);
                }
            }
            _ => {}
        }
        if !local && !matches!(r.kind.as_str(), "MeshTLSAuthentication" | "NetworkAuthentication") {
            warnings.push(r.warning(
                "metadata.namespace",
                format!("not the workload's namespace {ns:?}: does not apply"),
            ));
        }
    }
    http.sort_by(|a, b| a.order.cmp(&b.order));
    grpc.sort_by(|a, b| a.order.cmp(&b.order));

    let mut headers: Vec<String> = http
        .iter()
        .flat_map(|o| {
            o.rules
                .iter()
                .flatten()
                .flat_map(|m| m.headers.iter().map(|h| h.0.clone()))
        })
        .chain(grpc.iter().flat_map(|o| {
            o.rules
                .iter()
                .flatten()
                .flat_map(|m| m.headers.iter().map(|h| h.0.clone()))
        }))
        .collect();
    headers.sort();
    headers.dedup();

    // Which Servers select this workload, and on which ports.
    let labels = ctx.workload.labels.clone().unwrap_or_default();
    let mut ports = Ports {
        servers: Vec::new(),
        by_port: HashMap::new(),
        default: default_server(default_policy, &cluster, ls.authorize_localhost),
    };
    for s in servers {
        let Some(r) = rs.get(s.res) else { continue };
        if !s.selector.matches(&labels) {
            warnings.push(r.warning("spec.podSelector", "does not select this workload"));
            continue;
        }
        let port = match &s.port {
            PortRef::Number(p) => *p as u16,
            PortRef::Name(name) => match ctx.workload.ports.get(name) {
                Some(p) => *p,
                None => {
                    warnings.push(r.warning(
                        "spec.port",
                        format!("the workload has no port named {name:?} (workload.ports): the Server selects no port"),
                    ));
                    continue;
                }
            },
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
        let name = &r.meta.name;
        let server_labels = &r.meta.labels;
        let mut authz: Vec<(usize, Authz)> = sazs
            .iter()
            .filter(|(_, saz)| match &saz.server {
                ServerSel::Name(n) => n == name,
                ServerSel::Selector(sel) => sel.matches(server_labels),
            })
            .map(|(j, saz)| {
                (
                    *j,
                    Authz {
                        source: Source::Resource(*j),
                        networks: saz.networks.clone().unwrap_or_else(|| cluster_networks(&cluster)),
                        authn: saz.authn.clone(),
                    },
                )
            })
            .collect();
        authz.extend(
            aps.iter()
                .filter(|(_, t, _)| matches!(t, Target::Namespace) || *t == Target::Server(name.clone()))
                .map(|(j, _, a)| (*j, a.clone())),
        );
        authz.sort_by_key(|(j, _)| *j);
        let mut authz: Vec<Authz> = authz.into_iter().map(|(_, a)| a).collect();
        authz.extend(Authz::default_policy(s.access, &cluster));
        if ls.authorize_localhost {
            authz.push(Authz::localhost());
        }
        let route_authz = |res: usize, kind: &str, group: &str| -> AuthzList {
            let rname = rs.get(res).map(|r| r.meta.name.as_str()).unwrap_or("");
            AuthzList::new(
                aps.iter()
                    .filter(|(_, t, _)| match t {
                        Target::Route(k, g, n) => k == kind && g.eq_ignore_ascii_case(group) && n == rname,
                        _ => false,
                    })
                    .map(|(_, _, a)| a.clone())
                    .collect(),
            )
        };
        let attached = |parents: &[String]| parents.iter().any(|p| p == name);
        let routes = match s.protocol {
            Protocol::Grpc => {
                let specs: Vec<RouteSpec<GrpcMatchSpec>> = grpc
                    .iter()
                    .filter(|o| attached(&o.parents))
                    .map(|o| RouteSpec {
                        route: Route {
                            meta: Some(o.res),
                            hosts: o.hosts.clone(),
                            authz: route_authz(o.res, "grpcroute", &o.order.2),
                        },
                        rules: o.rules.clone(),
                    })
                    .collect();
                if http.iter().any(|o| attached(&o.parents)) {
                    warnings.push(r.warning(
                        "spec.proxyProtocol",
                        "gRPC Server: the HTTPRoutes attached to it are not used (GRPCRoutes are)",
                    ));
                }
                Routes::Grpc(GrpcRoutes::build(if specs.is_empty() {
                    vec![default_route()]
                } else {
                    specs
                }))
            }
            Protocol::Opaque | Protocol::Tls => Routes::None,
            _ => {
                let specs: Vec<RouteSpec<HttpMatchSpec>> = http
                    .iter()
                    .filter(|o| attached(&o.parents))
                    .map(|o| RouteSpec {
                        route: Route {
                            meta: Some(o.res),
                            hosts: o.hosts.clone(),
                            authz: route_authz(o.res, "httproute", &o.order.2),
                        },
                        rules: o.rules.clone(),
                    })
                    .collect();
                let specs = if specs.is_empty() { vec![default_route()] } else { specs };
                Routes::Http(HttpRoutes::build(specs).map_err(|m| r.error("spec", m))?)
            }
        };
        ports.by_port.insert(port, ports.servers.len());
        ports.servers.push(ServerPolicy {
            meta: Some(s.res),
            label: format!("Server {}/{}", r.namespace, name),
            protocol: s.protocol,
            authz: AuthzList::new(authz),
            routes,
            access: s.access,
        });
    }
    Ok(Compiled {
        metas,
        ports,
        control_plane_ns: ls.control_plane_namespace.clone(),
        headers,
    })
}

fn note_ignored(r: &Resource<'_>, rules: impl Iterator<Item = (bool, bool)>, warnings: &mut Vec<Warning>) {
    for (i, (backends, timeouts)) in rules.enumerate() {
        if backends {
            warnings.push(r.warning(
                format!("spec.rules[{i}].backendRefs"),
                "ignored: inbound routes do not forward",
            ));
        }
        if timeouts {
            warnings.push(r.warning(
                format!("spec.rules[{i}].timeouts"),
                "ignored: spiffe-authz only authorizes",
            ));
        }
    }
}

fn cluster_networks(cluster: &[Cidr]) -> Networks {
    Networks::Some(
        cluster
            .iter()
            .map(|c| super::identity::NetMatch {
                net: *c,
                except: Vec::new(),
            })
            .collect(),
    )
}

/// An AuthorizationPolicy's authorization (`policy_client_authz`): identities from at most
/// one MeshTLSAuthentication or ServiceAccount (none: any client, authenticated or not),
/// networks from at most one NetworkAuthentication (none: every network).
fn policy_authz(
    res: usize,
    refs: &[AuthnRef],
    mtls: &HashMap<(String, String), Identities>,
    nets: &HashMap<(String, String), Networks>,
    naming: &Naming<'_>,
) -> Result<Authz, Fail> {
    let mut ids: Option<Identities> = None;
    let mut networks: Option<Networks> = None;
    for (i, r) in refs.iter().enumerate() {
        let f = format!("spec.requiredAuthenticationRefs[{i}]");
        match r {
            AuthnRef::MeshTls(ns, n) | AuthnRef::ServiceAccount(ns, n) => {
                if ids.is_some() {
                    return Err((
                        f,
                        "policy must not include multiple MeshTLSAuthentications or ServiceAccounts".into(),
                    ));
                }
                ids = Some(match r {
                    AuthnRef::MeshTls(..) => mtls.get(&(ns.clone(), n.clone())).cloned().ok_or_else(|| {
                        (
                            f.clone(),
                            format!("could not find MeshTLSAuthentication {n} in namespace {ns}"),
                        )
                    })?,
                    _ => {
                        let mut s = Identities::default();
                        s.insert(&naming.service_account(ns, n));
                        s
                    }
                });
            }
            AuthnRef::Network(ns, n) => {
                if networks.is_some() {
                    return Err((f, "policy must not include multiple NetworkAuthentications".into()));
                }
                networks = Some(nets.get(&(ns.clone(), n.clone())).cloned().ok_or_else(|| {
                    (
                        f.clone(),
                        format!("could not find NetworkAuthentication {n} in namespace {ns}"),
                    )
                })?);
            }
        }
    }
    Ok(Authz {
        source: Source::Resource(res),
        networks: networks.unwrap_or(Networks::All),
        authn: ids.map_or(Authn::Unauthenticated, |i| Authn::Identities(Box::new(i))),
    })
}

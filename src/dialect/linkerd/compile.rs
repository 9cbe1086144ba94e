//! The bundle's Linkerd objects → the per-port server policies of this workload, as the
//! policy controller computes them (`policy-controller/k8s/index/src/inbound/index.rs`).
//!
//! Every object is parsed and validated whatever workload the bundle is loaded for, so a broken
//! object is refused everywhere. Where the controller would *ignore* an invalid object (log
//! "Illegal AuthorizationPolicy; ignoring"), this build refuses the bundle instead: an
//! authorization that silently grants nothing is a configuration error worth stopping for.

use std::collections::HashMap;

use super::assemble;
use super::authz::{Authn, Authz, DefaultPolicy, Source};
use super::identity::Identities;
use super::lower::{self, AuthnRef, Fail, Naming, Saz, Target};
use super::objects::{Objects, RouteObj};
use super::route::{GrpcMatchSpec, HttpMatchSpec};
use super::server::{self, Ports};
use super::wire;
use crate::dialect::Ctx;
use crate::error::{BundleError, Warning};
use crate::model::{Cidr, IpSet, Meta};
use crate::resource::Resource;

/// Everything the layer needs at request time.
pub(super) struct Compiled {
    pub metas: Vec<Meta>,
    pub ports: Ports,
    pub control_plane_ns: String,
    pub headers: Vec<String>,
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
    let mut cluster = IpSet::default();
    for (i, c) in ls.cluster_networks.iter().enumerate() {
        cluster.insert(Cidr::parse(c).map_err(envelope(format!("settings.linkerd.clusterNetworks[{i}]")))?);
    }
    let naming = Naming {
        control_plane_ns: &ls.control_plane_namespace,
        trust_domain: ctx.workload.trust_domain(),
    };
    let ns = ctx.workload.namespace();
    let metas: Vec<Meta> = rs.iter().map(|r| ctx.meta(r, crate::model::Dialect::Linkerd)).collect();

    // Authentications first: AuthorizationPolicies refer to them across namespaces.
    let mut mtls: HashMap<(String, String), Identities> = HashMap::new();
    let mut nets: HashMap<(String, String), IpSet> = HashMap::new();
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
                let rules = s.rules.as_deref().unwrap_or(&[]);
                note_ignored(
                    r,
                    rules.iter().map(|x| (x.backend_refs.is_some(), x.timeouts.is_some())),
                    warnings,
                );
                let rules = lower_rules(r, rules, lower::http_rule)?;
                let parents = (s.parent_refs.as_deref(), s.hostnames.as_deref());
                if let Some(obj) = route_obj(r, i, route_order(r), parents, rules, local, warnings)? {
                    http.push(obj);
                }
            }
            "GRPCRoute" => {
                let s: wire::GrpcRouteSpec = r.spec()?;
                let rules = s.rules.as_deref().unwrap_or(&[]);
                note_ignored(r, rules.iter().map(|x| (x.backend_refs.is_some(), false)), warnings);
                let rules = lower_rules(r, rules, lower::grpc_rule)?;
                let parents = (s.parent_refs.as_deref(), s.hostnames.as_deref());
                if let Some(obj) = route_obj(r, i, route_order(r), parents, rules, local, warnings)? {
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

    let objects = Objects {
        servers,
        sazs,
        aps,
        http,
        grpc,
    };
    let ports = assemble::Assembler::new(rs, &objects, &cluster, ls.authorize_localhost).ports(
        ctx,
        default_policy,
        warnings,
    )?;
    Ok(Compiled {
        metas,
        ports,
        control_plane_ns: ls.control_plane_namespace.clone(),
        headers,
    })
}

/// Lowers every rule of a route, naming the failing one.
fn lower_rules<W, M>(
    r: &Resource<'_>,
    rules: &[W],
    lower: impl Fn(&W, &str) -> Result<Vec<M>, Fail>,
) -> Result<Vec<Vec<M>>, BundleError> {
    rules
        .iter()
        .enumerate()
        .map(|(j, rule)| lower(rule, &format!("spec.rules[{j}]")))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| at(r, e))
}

/// An HTTPRoute or GRPCRoute of this workload's namespace, or `None` when it attaches to no
/// Server (an outbound route: warned about, not enforced) or is not local.
fn route_obj<M>(
    r: &Resource<'_>,
    res: usize,
    order: (bool, String, String, String, String),
    (parent_refs, hostnames): (Option<&[wire::ParentRef]>, Option<&[String]>),
    rules: Vec<Vec<M>>,
    local: bool,
    warnings: &mut Vec<Warning>,
) -> Result<Option<RouteObj<M>>, BundleError> {
    let obj = RouteObj {
        res,
        order,
        parents: lower::route_parents(parent_refs, &r.namespace),
        hosts: lower::hostnames(hostnames).map_err(|e| at(r, e))?,
        // A route without rules matches every request.
        rules: if rules.is_empty() { vec![Vec::new()] } else { rules },
    };
    if obj.parents.is_empty() {
        warnings.push(r.warning(
            "spec.parentRefs",
            "names no Server: an outbound route, not enforced here",
        ));
        return Ok(None);
    }
    Ok(local.then_some(obj))
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

/// An AuthorizationPolicy's authorization (`policy_client_authz`): identities from at most
/// one MeshTLSAuthentication or ServiceAccount (none: any client, authenticated or not),
/// networks from at most one NetworkAuthentication (none: every network).
fn policy_authz(
    res: usize,
    refs: &[AuthnRef],
    mtls: &HashMap<(String, String), Identities>,
    nets: &HashMap<(String, String), IpSet>,
    naming: &Naming<'_>,
) -> Result<Authz, Fail> {
    let mut ids: Option<Identities> = None;
    let mut networks: Option<IpSet> = None;
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
        networks: networks.unwrap_or_else(IpSet::every),
        authn: ids.map_or(Authn::Unauthenticated, |i| Authn::Identities(Box::new(i))),
    })
}

//! The bundle's Linkerd objects → the per-port server policies of this workload, as the
//! policy controller computes them (`policy-controller/k8s/index/src/inbound/index.rs`).
//!
//! Every object is parsed and validated whatever workload the bundle is loaded for, so an
//! object Linkerd's admission webhook or CRDs refuse is refused everywhere. An
//! AuthorizationPolicy whose authentication is not in the bundle is ignored with a warning, as
//! the controller ignores it ("If any of the referred objects cannot be found, the
//! authorization will be ignored", the CRD says): it grants nothing.

use std::collections::HashMap;

use super::assemble::{Assembler, Networks};
use super::authz::{Authn, Authz, DefaultPolicy, Source};
use super::identity::Identities;
use super::lower::{self, AuthnRef, Naming, Saz, Target};
use super::objects::{self, Objects};
use super::pod::Pod;
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

fn envelope(field: String) -> impl Fn(String) -> BundleError {
    move |message| BundleError::Envelope {
        field: field.clone(),
        message,
    }
}

/// A settings list of CIDRs.
fn cidrs(list: &[String], field: &str) -> Result<IpSet, BundleError> {
    let mut set = IpSet::default();
    for (i, c) in list.iter().enumerate() {
        set.insert(Cidr::parse(c).map_err(envelope(format!("{field}[{i}]")))?);
    }
    Ok(set)
}

/// Authentications by (namespace, name).
#[derive(Default)]
struct Authentications {
    mtls: HashMap<(String, String), Identities>,
    nets: HashMap<(String, String), IpSet>,
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
    let cluster = cidrs(&ls.cluster_networks, "settings.linkerd.clusterNetworks")?;
    let probes = cidrs(&ls.probe_networks, "settings.linkerd.probeNetworks")?;
    let pod = Pod::of(ctx.workload, warnings);
    let naming = Naming {
        control_plane_ns: &ls.control_plane_namespace,
        trust_domain: ctx.workload.trust_domain(),
    };
    let ns = ctx.workload.namespace();
    let metas: Vec<Meta> = rs.iter().map(|r| ctx.meta(r, crate::model::Dialect::Linkerd)).collect();

    // Authentications first: AuthorizationPolicies refer to them across namespaces.
    let mut authns = Authentications::default();
    for r in rs {
        let key = (r.namespace.clone(), r.meta.name.clone());
        match r.kind.as_str() {
            "MeshTLSAuthentication" => {
                let s: wire::MeshTlsAuthenticationSpec = r.spec()?;
                let ids = lower::mesh_tls_authentication(&s, &r.namespace, &naming).map_err(|e| e.at(r))?;
                authns.mtls.insert(key, ids);
            }
            "NetworkAuthentication" => {
                let s: wire::NetworkAuthenticationSpec = r.spec()?;
                authns
                    .nets
                    .insert(key, lower::network_authentication(&s).map_err(|e| e.at(r))?);
            }
            _ => {}
        }
    }

    let mut servers = Vec::new();
    let mut sazs: Vec<(usize, Saz)> = Vec::new();
    let mut aps: Vec<(usize, Target, Authz)> = Vec::new();
    let mut http: Vec<objects::RouteObj<HttpMatchSpec>> = Vec::new();
    let mut grpc: Vec<objects::RouteObj<GrpcMatchSpec>> = Vec::new();
    for (i, r) in rs.iter().enumerate() {
        let local = r.namespace == ns;
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
                let saz = lower::server_authorization(&s, &r.namespace, &naming).map_err(|e| e.at(r))?;
                if local {
                    sazs.push((i, saz));
                }
            }
            "AuthorizationPolicy" => {
                let s: wire::AuthorizationPolicySpec = r.spec()?;
                let (target, refs) = lower::authorization_policy(&s, &r.namespace).map_err(|e| e.at(r))?;
                match policy_authz(i, &refs, &authns, &naming) {
                    Ok(authz) if local => aps.push((i, target, authz)),
                    Ok(_) => {}
                    Err(missing) => warnings.push(r.warning(
                        "spec.requiredAuthenticationRefs",
                        format!("{missing}: the policy is ignored (grants nothing), as Linkerd ignores it"),
                    )),
                }
            }
            "HTTPRoute" => {
                let s: wire::HttpRouteSpec = r.spec()?;
                if let Some(obj) = objects::http_route(r, i, &s, warnings)?.filter(|_| local) {
                    http.push(obj);
                }
            }
            "GRPCRoute" => {
                let s: wire::GrpcRouteSpec = r.spec()?;
                if let Some(obj) = objects::grpc_route(r, i, &s, warnings)?.filter(|_| local) {
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
        .flat_map(|o| o.rules.iter().flatten().flat_map(|m| m.headers.iter()))
        .chain(
            grpc.iter()
                .flat_map(|o| o.rules.iter().flatten().flat_map(|m| m.headers.iter())),
        )
        .map(|h| h.name.clone())
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
    let net = Networks {
        cluster: &cluster,
        probes: &probes,
        localhost: ls.authorize_localhost,
    };
    let ports = Assembler::new(rs, &objects, net).ports(ctx, &pod, default_policy, warnings)?;
    Ok(Compiled {
        metas,
        ports,
        control_plane_ns: ls.control_plane_namespace.clone(),
        headers,
    })
}

/// An AuthorizationPolicy's authorization (`policy_client_authz`): identities from its
/// MeshTLSAuthentication or ServiceAccount (none: any client, authenticated or not), networks
/// from its NetworkAuthentication (none: every network). `Err`: an authentication the bundle
/// does not have.
fn policy_authz(res: usize, refs: &[AuthnRef], authns: &Authentications, naming: &Naming<'_>) -> Result<Authz, String> {
    let mut ids: Option<Identities> = None;
    let mut networks: Option<IpSet> = None;
    for r in refs {
        match r {
            AuthnRef::MeshTls(ns, n) => {
                let found = authns.mtls.get(&(ns.clone(), n.clone()));
                ids = Some(
                    found
                        .cloned()
                        .ok_or_else(|| format!("could not find MeshTLSAuthentication {n} in namespace {ns}"))?,
                );
            }
            AuthnRef::ServiceAccount(ns, n) => {
                let mut s = Identities::default();
                s.insert(&naming.service_account(ns, n));
                ids = Some(s);
            }
            AuthnRef::Network(ns, n) => {
                let found = authns.nets.get(&(ns.clone(), n.clone()));
                networks = Some(
                    found
                        .cloned()
                        .ok_or_else(|| format!("could not find NetworkAuthentication {n} in namespace {ns}"))?,
                );
            }
        }
    }
    Ok(Authz {
        source: Source::Resource(res),
        networks: networks.unwrap_or_else(IpSet::every),
        authn: ids.map_or(Authn::Unauthenticated, |i| Authn::Identities(Box::new(i))),
    })
}

//! The workload namespace's Linkerd objects, parsed and validated (by `compile.rs`) and not
//! yet assembled into server policies (by `assemble.rs`); and the routes' parsing.

use super::authz::Authz;
use super::lower::{self, RuleNotes, Saz, Target};
use super::route::{GrpcMatchSpec, HttpMatchSpec};
use super::server::ServerObj;
use super::wire;
use crate::error::{BundleError, Warning};
use crate::model::HostPattern;
use crate::resource::Resource;

/// A parsed HTTPRoute or GRPCRoute.
pub(super) struct RouteObj<M> {
    pub res: usize,
    /// (has no timestamp, timestamp, group, kind, name): Gateway API precedence order.
    pub order: (bool, String, String, String, String),
    /// The Servers it attaches to, by name.
    pub parents: Vec<String>,
    pub hosts: Vec<HostPattern>,
    pub rules: Vec<Vec<M>>,
}

/// The workload namespace's policy objects, parsed, each with its resource index.
pub(super) struct Objects {
    pub servers: Vec<ServerObj>,
    pub sazs: Vec<(usize, Saz)>,
    pub aps: Vec<(usize, Target, Authz)>,
    /// Sorted by precedence.
    pub http: Vec<RouteObj<HttpMatchSpec>>,
    /// Sorted by precedence.
    pub grpc: Vec<RouteObj<GrpcMatchSpec>>,
}

/// The route's API group.
fn group_of(r: &Resource<'_>) -> &'static str {
    lower::api_group(&r.api_version)
}

/// The controller's route order: routes with a creation timestamp first, oldest first, then by
/// group, kind, name (`to_route_list`).
fn order(r: &Resource<'_>) -> (bool, String, String, String, String) {
    let ts = r.meta.creation_timestamp.clone();
    (
        ts.is_none(),
        ts.unwrap_or_default(),
        group_of(r).to_string(),
        r.kind.clone(),
        r.meta.name.clone(),
    )
}

/// Builds the route object, or `None` for a route attached to no Server (an outbound route:
/// reported, not enforced).
fn route_obj<M>(
    r: &Resource<'_>,
    res: usize,
    parents: lower::Parents,
    hosts: Vec<HostPattern>,
    rules: Vec<Vec<M>>,
    notes: RuleNotes,
    warnings: &mut Vec<Warning>,
) -> Option<RouteObj<M>> {
    warnings.extend(notes.into_iter().map(|(f, m)| r.warning(f, m)));
    if parents.servers.is_empty() {
        warnings.push(r.warning(
            "spec.parentRefs",
            "names no Server: an outbound route, not enforced here",
        ));
        return None;
    }
    Some(RouteObj {
        res,
        order: order(r),
        parents: parents.servers,
        hosts,
        // A route without rules matches every request.
        rules: if rules.is_empty() { vec![Vec::new()] } else { rules },
    })
}

/// An `HTTPRoute` (either API group).
pub(super) fn http_route(
    r: &Resource<'_>,
    res: usize,
    s: &wire::HttpRouteSpec,
    warnings: &mut Vec<Warning>,
) -> Result<Option<RouteObj<HttpMatchSpec>>, BundleError> {
    let wire::HttpRouteSpec {
        parent_refs,
        hostnames,
        rules,
        use_default_gateways: _, // which Gateways a route attaches to: not inbound policy
    } = s;
    let group = group_of(r);
    let parents = lower::route_parents(parent_refs.as_deref(), &r.namespace, group).map_err(|e| e.at(r))?;
    let hosts = lower::hostnames(hostnames.as_deref()).map_err(|e| e.at(r))?;
    let mut notes = RuleNotes::new();
    let mut out = Vec::new();
    for (j, rule) in rules.iter().flatten().enumerate() {
        out.push(lower::http_rule(rule, &format!("spec.rules[{j}]"), group, &mut notes).map_err(|e| e.at(r))?);
    }
    Ok(route_obj(r, res, parents, hosts, out, notes, warnings))
}

/// A `GRPCRoute`.
pub(super) fn grpc_route(
    r: &Resource<'_>,
    res: usize,
    s: &wire::GrpcRouteSpec,
    warnings: &mut Vec<Warning>,
) -> Result<Option<RouteObj<GrpcMatchSpec>>, BundleError> {
    let wire::GrpcRouteSpec {
        parent_refs,
        hostnames,
        rules,
        use_default_gateways: _, // which Gateways a route attaches to: not inbound policy
    } = s;
    let parents = lower::route_parents(parent_refs.as_deref(), &r.namespace, group_of(r)).map_err(|e| e.at(r))?;
    let hosts = lower::hostnames(hostnames.as_deref()).map_err(|e| e.at(r))?;
    let mut notes = RuleNotes::new();
    let mut out = Vec::new();
    for (j, rule) in rules.iter().flatten().enumerate() {
        out.push(lower::grpc_rule(rule, &format!("spec.rules[{j}]"), &mut notes).map_err(|e| e.at(r))?);
    }
    Ok(route_obj(r, res, parents, hosts, out, notes, warnings))
}

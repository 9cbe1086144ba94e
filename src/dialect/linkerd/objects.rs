//! The workload namespace's Linkerd objects, parsed and validated (by `compile.rs`) and not
//! yet assembled into server policies (by `assemble.rs`).

use super::authz::Authz;
use super::lower::{Saz, Target};
use super::route::{GrpcMatchSpec, HttpMatchSpec};
use super::server::ServerObj;
use crate::model::HostPattern;

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

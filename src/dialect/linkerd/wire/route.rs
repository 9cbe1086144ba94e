//! HTTPRoute (`policy.linkerd.io` v1alpha1..v1beta3, `gateway.networking.k8s.io` v1beta1/v1)
//! and GRPCRoute (`gateway.networking.k8s.io` v1alpha2/v1) as written, with the fields of the
//! Gateway API's experimental channel up to v1.4 (`name`, `retry`, `sessionPersistence`,
//! `useDefaultGateways`, the CORS and external-auth filters): a route written for a newer
//! Gateway API loads, and what it asks for is either enforced, warned about, or refused.

use serde::Deserialize;
use serde_json::Value;

/// `HTTPRoute.spec` (both API groups).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in super::super) struct HttpRouteSpec {
    pub parent_refs: Option<Vec<ParentRef>>,
    pub hostnames: Option<Vec<String>>,
    pub rules: Option<Vec<HttpRule>>,
    /// Gateway API v1.4 (experimental): which Gateways a route without parentRefs attaches to.
    #[allow(
        dead_code,
        reason = "which Gateways a route without parentRefs attaches to: not inbound policy"
    )]
    pub use_default_gateways: Option<Value>,
}

/// A route's `parentRefs[]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in super::super) struct ParentRef {
    pub group: Option<String>,
    pub kind: Option<String>,
    pub name: String,
    pub namespace: Option<String>,
    pub section_name: Option<String>,
    pub port: Option<u32>,
}

/// One `HTTPRoute` rule.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in super::super) struct HttpRule {
    #[allow(dead_code, reason = "a label for humans: no effect on matching")]
    pub name: Option<String>,
    pub matches: Option<Vec<HttpMatch>>,
    /// Kept as JSON, as are `backendRefs` and `timeouts`: nothing in them is enforced
    /// (inbound routes do not forward; Linkerd applies filters after authorizing), so
    /// `filters.rs` checks them for what Linkerd refuses and reports them as not applied.
    pub filters: Option<Vec<Value>>,
    pub backend_refs: Option<Vec<Value>>,
    pub timeouts: Option<Value>,
    pub retry: Option<Value>,
    pub session_persistence: Option<Value>,
}

/// `HTTPRouteMatch`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in super::super) struct HttpMatch {
    pub path: Option<PathMatch>,
    pub headers: Option<Vec<ValueMatch>>,
    pub query_params: Option<Vec<ValueMatch>>,
    pub method: Option<String>,
}

/// `HTTPPathMatch` (the CRD defaults: `PathPrefix`, `/`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in super::super) struct PathMatch {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub value: Option<String>,
}

/// A header or query parameter match: `{type: Exact | RegularExpression, name, value}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in super::super) struct ValueMatch {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: String,
    pub value: String,
}

/// `GRPCRoute.spec`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in super::super) struct GrpcRouteSpec {
    pub parent_refs: Option<Vec<ParentRef>>,
    pub hostnames: Option<Vec<String>>,
    pub rules: Option<Vec<GrpcRule>>,
    #[allow(
        dead_code,
        reason = "which Gateways a route without parentRefs attaches to: not inbound policy"
    )]
    pub use_default_gateways: Option<Value>,
}

/// One `GRPCRoute` rule.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in super::super) struct GrpcRule {
    #[allow(dead_code, reason = "a label for humans: no effect on matching")]
    pub name: Option<String>,
    pub matches: Option<Vec<GrpcMatch>>,
    /// Kept as JSON, as are `backendRefs` and `timeouts`: nothing in them is enforced
    /// (inbound routes do not forward; Linkerd applies filters after authorizing), so
    /// `filters.rs` checks them for what Linkerd refuses and reports them as not applied.
    pub filters: Option<Vec<Value>>,
    pub backend_refs: Option<Vec<Value>>,
    pub session_persistence: Option<Value>,
}

/// `GRPCRouteMatch`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in super::super) struct GrpcMatch {
    pub method: Option<GrpcMethodMatch>,
    pub headers: Option<Vec<ValueMatch>>,
}

/// `GRPCMethodMatch`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in super::super) struct GrpcMethodMatch {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub service: Option<String>,
    pub method: Option<String>,
}

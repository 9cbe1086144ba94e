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
    pub filters: Option<Vec<Filter>>,
    pub backend_refs: Option<Vec<BackendRef>>,
    pub timeouts: Option<Timeouts>,
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

/// A route filter: its `type` and the one field that type names.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in super::super) struct Filter {
    #[serde(rename = "type")]
    pub kind: String,
    pub request_header_modifier: Option<HeaderModifier>,
    pub response_header_modifier: Option<HeaderModifier>,
    pub request_redirect: Option<RequestRedirect>,
    pub request_mirror: Option<Value>,
    #[serde(rename = "urlRewrite")]
    pub url_rewrite: Option<Value>,
    pub extension_ref: Option<Value>,
    pub cors: Option<Value>,
    pub external_auth: Option<Value>,
}

/// `RequestHeaderModifier` / `ResponseHeaderModifier`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in super::super) struct HeaderModifier {
    pub set: Option<Vec<Header>>,
    pub add: Option<Vec<Header>>,
    pub remove: Option<Vec<String>>,
}

/// A header to set or add.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in super::super) struct Header {
    pub name: String,
    pub value: String,
}

/// `RequestRedirect`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in super::super) struct RequestRedirect {
    pub scheme: Option<String>,
    pub hostname: Option<String>,
    pub path: Option<RedirectPath>,
    #[allow(dead_code, reason = "any port is valid; the redirect is not applied (filters.rs)")]
    pub port: Option<u32>,
    pub status_code: Option<u16>,
}

/// `RequestRedirect.path`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in super::super) struct RedirectPath {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub replace_full_path: Option<String>,
    pub replace_prefix_match: Option<String>,
}

/// A rule's `backendRefs[]` entry (inbound routes do not forward: only checked).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in super::super) struct BackendRef {
    pub group: Option<String>,
    pub kind: Option<String>,
    #[allow(
        dead_code,
        reason = "inbound routes do not forward: only a Service's port is checked"
    )]
    pub name: String,
    #[allow(
        dead_code,
        reason = "inbound routes do not forward: only a Service's port is checked"
    )]
    pub namespace: Option<String>,
    pub port: Option<u32>,
    #[allow(
        dead_code,
        reason = "inbound routes do not forward: only a Service's port is checked"
    )]
    pub weight: Option<u32>,
    #[allow(
        dead_code,
        reason = "inbound routes do not forward: only a Service's port is checked"
    )]
    pub filters: Option<Vec<Value>>,
}

/// `HTTPRouteTimeouts`: Go durations.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in super::super) struct Timeouts {
    pub request: Option<String>,
    pub backend_request: Option<String>,
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
    pub filters: Option<Vec<Filter>>,
    pub backend_refs: Option<Vec<BackendRef>>,
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

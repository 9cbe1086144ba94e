//! The Linkerd objects as written: `policy.linkerd.io` Server (v1beta1..v1beta3),
//! ServerAuthorization (v1beta1), AuthorizationPolicy, MeshTLSAuthentication,
//! NetworkAuthentication (v1alpha1), HTTPRoute (policy.linkerd.io and gateway.networking.k8s.io)
//! and GRPCRoute (gateway.networking.k8s.io). Unknown fields are refused, so that a field this
//! build does not enforce can never be silently ignored.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `Server.spec`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ServerSpec {
    pub pod_selector: Option<LabelSelector>,
    pub external_workload_selector: Option<LabelSelector>,
    pub port: Option<PortRef>,
    pub proxy_protocol: Option<String>,
    pub access_policy: Option<String>,
}

/// A port number or a named container port.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum PortRef {
    Number(u32),
    Name(String),
}

/// A Kubernetes `LabelSelector`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct LabelSelector {
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub match_expressions: Vec<LabelExpression>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LabelExpression {
    pub key: String,
    pub operator: String,
    pub values: Option<Vec<String>>,
}

/// `ServerAuthorization.spec`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ServerAuthorizationSpec {
    pub server: Option<SazServer>,
    pub client: Option<SazClient>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SazServer {
    pub name: Option<String>,
    pub selector: Option<LabelSelector>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SazClient {
    pub networks: Option<Vec<Network>>,
    #[serde(default)]
    pub unauthenticated: bool,
    #[serde(rename = "meshTLS")]
    pub mesh_tls: Option<MeshTls>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MeshTls {
    #[serde(default, rename = "unauthenticatedTLS")]
    pub unauthenticated_tls: bool,
    pub identities: Option<Vec<String>>,
    #[serde(rename = "serviceAccounts")]
    pub service_accounts: Option<Vec<ServiceAccountRef>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ServiceAccountRef {
    pub name: String,
    pub namespace: Option<String>,
}

/// `{cidr, except}`, in ServerAuthorization and NetworkAuthentication.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Network {
    pub cidr: String,
    pub except: Option<Vec<String>>,
}

/// `AuthorizationPolicy.spec`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct AuthorizationPolicySpec {
    pub target_ref: Option<TargetRef>,
    #[serde(default)]
    pub required_authentication_refs: Vec<TargetRef>,
}

/// A `targetRef` / `requiredAuthenticationRefs[]` / `identityRefs[]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TargetRef {
    pub group: Option<String>,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

/// `MeshTLSAuthentication.spec`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct MeshTlsAuthenticationSpec {
    pub identities: Option<Vec<String>>,
    pub identity_refs: Option<Vec<TargetRef>>,
}

/// `NetworkAuthentication.spec`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NetworkAuthenticationSpec {
    #[serde(default)]
    pub networks: Vec<Network>,
}

/// `HTTPRoute.spec` (both API groups).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct HttpRouteSpec {
    pub parent_refs: Option<Vec<ParentRef>>,
    pub hostnames: Option<Vec<String>>,
    pub rules: Option<Vec<HttpRule>>,
}

/// A route's `parentRefs[]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ParentRef {
    pub group: Option<String>,
    pub kind: Option<String>,
    pub name: String,
    pub namespace: Option<String>,
    #[allow(
        dead_code,
        reason = "a Server has one port and no sections: Linkerd binds inbound routes by name only"
    )]
    pub section_name: Option<String>,
    #[allow(
        dead_code,
        reason = "a Server has one port and no sections: Linkerd binds inbound routes by name only"
    )]
    pub port: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct HttpRule {
    #[allow(dead_code)] // A label for humans: no effect on matching.
    pub name: Option<String>,
    pub matches: Option<Vec<HttpMatch>>,
    pub filters: Option<Vec<serde_json::Value>>,
    pub backend_refs: Option<Vec<serde_json::Value>>,
    pub timeouts: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct HttpMatch {
    pub path: Option<PathMatch>,
    pub headers: Option<Vec<HeaderMatch>>,
    pub query_params: Option<Vec<serde_json::Value>>,
    pub method: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PathMatch {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HeaderMatch {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: String,
    pub value: String,
}

/// `GRPCRoute.spec`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct GrpcRouteSpec {
    pub parent_refs: Option<Vec<ParentRef>>,
    pub hostnames: Option<Vec<String>>,
    pub rules: Option<Vec<GrpcRule>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct GrpcRule {
    #[allow(dead_code)] // A label for humans: no effect on matching.
    pub name: Option<String>,
    pub matches: Option<Vec<GrpcMatch>>,
    pub filters: Option<Vec<serde_json::Value>>,
    pub backend_refs: Option<Vec<serde_json::Value>>,
    #[allow(dead_code)] // Load balancing: nothing to authorize.
    pub session_persistence: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GrpcMatch {
    pub method: Option<GrpcMethodMatch>,
    pub headers: Option<Vec<HeaderMatch>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GrpcMethodMatch {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub service: Option<String>,
    pub method: Option<String>,
}

//! The Linkerd objects as written: `policy.linkerd.io` Server (v1beta1..v1beta3),
//! ServerAuthorization (v1beta1), AuthorizationPolicy, MeshTLSAuthentication,
//! NetworkAuthentication (v1alpha1), and the routes ([`route`]). Unknown fields are refused, and
//! lowering destructures every struct, so that a field this build does not enforce can never
//! be silently ignored: a field added here breaks the build until it is lowered.

mod route;

pub(super) use route::*;

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

/// `AuthorizationPolicy.spec` (both fields required by the CRD).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct AuthorizationPolicySpec {
    pub target_ref: Option<TargetRef>,
    pub required_authentication_refs: Option<Vec<TargetRef>>,
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
    pub networks: Option<Vec<Network>>,
}

//! `dapr.io/v1alpha1` Configuration, as written (dapr/dapr
//! `pkg/apis/configuration/v1alpha1/types.go`). Only `spec.accessControl` is enforced here; the
//! other sections configure the Dapr sidecar itself and are accepted unread. Unknown fields are
//! refused.

use serde::de::IgnoredAny;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Spec {
    pub access_control: Option<AccessControl>,
    // The sidecar's own settings: accepted so a user's Configuration loads unchanged.
    #[allow(dead_code)]
    pub http_pipeline: Option<IgnoredAny>,
    #[allow(dead_code)]
    pub app_http_pipeline: Option<IgnoredAny>,
    #[allow(dead_code)]
    pub tracing: Option<IgnoredAny>,
    #[allow(dead_code)]
    pub metric: Option<IgnoredAny>,
    #[allow(dead_code)]
    pub metrics: Option<IgnoredAny>,
    #[allow(dead_code)]
    pub mtls: Option<IgnoredAny>,
    #[allow(dead_code)]
    pub secrets: Option<IgnoredAny>,
    #[allow(dead_code)]
    pub name_resolution: Option<IgnoredAny>,
    #[allow(dead_code)]
    pub features: Option<IgnoredAny>,
    #[allow(dead_code)]
    pub api: Option<IgnoredAny>,
    #[allow(dead_code)]
    pub components: Option<IgnoredAny>,
    #[allow(dead_code)]
    pub logging: Option<IgnoredAny>,
    #[allow(dead_code)]
    pub wasm: Option<IgnoredAny>,
    #[allow(dead_code)]
    pub workflow: Option<IgnoredAny>,
}

/// `spec.accessControl`. Go reads a JSON `null` string as `""`, hence `Option` everywhere.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct AccessControl {
    pub default_action: Option<String>,
    pub trust_domain: Option<String>,
    /// `None` (absent or `null`) and `Some([])` differ in Dapr: see the layer docs.
    pub policies: Option<Vec<AppPolicy>>,
}

/// `spec.accessControl.policies[i]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct AppPolicy {
    pub app_id: Option<String>,
    pub default_action: Option<String>,
    pub trust_domain: Option<String>,
    pub namespace: Option<String>,
    pub operations: Option<Vec<Operation>>,
}

/// `spec.accessControl.policies[i].operations[j]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Operation {
    pub name: Option<String>,
    pub http_verb: Option<Vec<String>>,
    pub action: Option<String>,
}

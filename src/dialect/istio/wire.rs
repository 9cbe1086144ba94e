//! `security.istio.io/v1` and `v1beta1` AuthorizationPolicy, as written (istio/api
//! security/v1beta1/authorization_policy.proto). Unknown fields are refused.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Spec {
    pub selector: Option<Selector>,
    pub target_ref: Option<serde_json::Value>,
    pub target_refs: Option<Vec<serde_json::Value>>,
    pub rules: Option<Vec<Rule>>,
    pub action: Option<Action>,
    pub provider: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Selector {
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub(super) enum Action {
    #[default]
    Allow,
    Deny,
    Audit,
    Custom,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Rule {
    pub from: Option<Vec<From>>,
    pub to: Option<Vec<To>>,
    pub when: Option<Vec<Condition>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct From {
    pub source: Option<Source>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct To {
    pub operation: Option<Operation>,
}

type List = Option<Vec<String>>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Source {
    pub principals: List,
    pub not_principals: List,
    pub request_principals: List,
    pub not_request_principals: List,
    pub namespaces: List,
    pub not_namespaces: List,
    pub service_accounts: List,
    pub not_service_accounts: List,
    pub ip_blocks: List,
    pub not_ip_blocks: List,
    pub remote_ip_blocks: List,
    pub not_remote_ip_blocks: List,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Operation {
    pub hosts: List,
    pub not_hosts: List,
    pub ports: List,
    pub not_ports: List,
    pub methods: List,
    pub not_methods: List,
    pub paths: List,
    pub not_paths: List,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Condition {
    pub key: String,
    pub values: List,
    pub not_values: List,
}

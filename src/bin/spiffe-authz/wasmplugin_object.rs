//! The `WasmPlugin` object `spiffe-authz wasmplugin` writes (istio/api
//! `extensions/v1alpha1/wasm.proto`), field for field as the API server stores it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// istio.type.v1beta1.WorkloadMode.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    Server,
    Client,
    ClientAndServer,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WasmPlugin {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Metadata,
    pub spec: PluginSpec,
}

#[derive(Serialize)]
pub struct Metadata {
    pub name: String,
    pub namespace: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<Selector>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_refs: Vec<TargetRef>,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// After Istio's JWT authentication (so `request.auth.*` is available), before its RBAC.
    pub phase: &'static str,
    /// A module that fails to load or crashes denies instead of letting traffic through.
    pub fail_strategy: &'static str,
    /// Without it Istio runs the plugin on every listener (pilot/pkg/model/extensions.go
    /// `matchMode`: UNDEFINED matches all), outbound ones included.
    #[serde(rename = "match")]
    pub traffic: Vec<TrafficSelector>,
    pub plugin_config: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    pub match_labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
pub struct TargetRef {
    pub group: &'static str,
    pub kind: String,
    pub name: String,
}

#[derive(Serialize)]
pub struct TrafficSelector {
    pub mode: Mode,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortSelector>,
}

#[derive(Serialize)]
pub struct PortSelector {
    pub number: u16,
}

//! `woven-city.global/v1alpha1` DrakoPolicy and DrakoPolicyBinding, as written (Drako's CRD pages:
//! developer.woven-city.toyota, drako-service `crd/DrakoPolicy`, `crd/DrakoPolicyBinding`).
//! Unknown fields are refused.

use serde::Deserialize;
use serde_json::Value;

/// `DrakoPolicy.spec`: `type` names the authorizer, `spec.<camelCaseType>` configures it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct PolicySpec {
    #[serde(rename = "type")]
    pub kind: Option<PolicyType>,
    pub export_to: Option<Vec<ExportTo>>,
    pub spec: Option<PolicyBody>,
}

/// The policy types of Drako's CRD page.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub(super) enum PolicyType {
    AllowAll,
    DenyAll,
    ClientGroup,
    Source,
    Origin,
    Import,
    Group,
    Keycloak,
    Consent,
    MappingComparison,
    AuthorizedParties,
    Audience,
}

impl PolicyType {
    /// The key of this type's configuration under `spec.spec` (`None`: the type has none).
    pub fn key(self) -> Option<&'static str> {
        Some(match self {
            PolicyType::AllowAll | PolicyType::DenyAll => return None,
            PolicyType::ClientGroup => "clientGroup",
            PolicyType::Source => "source",
            PolicyType::Origin => "origin",
            PolicyType::Import => "import",
            PolicyType::Group => "group",
            PolicyType::Keycloak => "keycloak",
            PolicyType::Consent => "consent",
            PolicyType::MappingComparison => "mappingComparison",
            PolicyType::AuthorizedParties => "authorizedParties",
            PolicyType::Audience => "audience",
        })
    }
}

/// `spec.exportTo[]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExportTo {
    pub namespace: String,
}

/// `DrakoPolicy.spec.spec`: one key, named after the type. The types decided by a user session or
/// an external service are kept as raw values: they are refused by type, never interpreted.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct PolicyBody {
    pub client_group: Option<ClientGroup>,
    pub source: Option<Source>,
    pub origin: Option<Origin>,
    pub import: Option<Import>,
    pub group: Option<Value>,
    pub keycloak: Option<Value>,
    pub consent: Option<Value>,
    pub mapping_comparison: Option<Value>,
    pub authorized_parties: Option<Value>,
    pub audience: Option<Value>,
}

impl PolicyBody {
    /// The keys present, for the "one key, matching `type`" check.
    pub fn keys(&self) -> Vec<&'static str> {
        let present = [
            ("clientGroup", self.client_group.is_some()),
            ("source", self.source.is_some()),
            ("origin", self.origin.is_some()),
            ("import", self.import.is_some()),
            ("group", self.group.is_some()),
            ("keycloak", self.keycloak.is_some()),
            ("consent", self.consent.is_some()),
            ("mappingComparison", self.mapping_comparison.is_some()),
            ("authorizedParties", self.authorized_parties.is_some()),
            ("audience", self.audience.is_some()),
        ];
        present.iter().filter(|(_, p)| *p).map(|(k, _)| *k).collect()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ClientGroup {
    pub client_list: Vec<ClientId>,
}

/// A client identifier: `{type: SpiffeId | Oauth2ClientId, value}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClientId {
    #[serde(rename = "type")]
    pub kind: ClientIdType,
    pub value: String,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub(super) enum ClientIdType {
    SpiffeId,
    Oauth2ClientId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Source {
    pub namespace: Option<String>,
    pub service_account: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Origin {
    pub allowed: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Import {
    pub namespace: String,
    pub name: String,
}

/// `DrakoPolicyBinding.spec`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct BindingSpec {
    #[serde(default)]
    pub destination_service_accounts: Vec<String>,
    pub paths: Option<Vec<String>>,
    pub exclude_paths: Option<Vec<String>>,
    pub methods: Option<Vec<String>>,
    pub destination_hosts: Option<Vec<DestinationHost>>,
    pub authentication_mode: Option<AuthenticationMode>,
    pub client_authentication_modes: Option<Vec<ClientAuthMode>>,
    #[serde(default)]
    pub policies: Vec<String>,
    pub decision_strategy: Option<String>,
    pub inject_headers: Option<Vec<InjectHeader>>,
    /// Mapped data feeds only policies that need a user session or a service (Consent, Group,
    /// MappingComparison) or templated Source fields: refused, see `binding.rs`.
    pub mapping: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DestinationHost {
    pub hostname: String,
    pub port: Option<u16>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub(super) enum AuthenticationMode {
    None,
    Legacy,
    Oauth2,
    SingleUseToken,
    FederatedIdentityService,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Hash)]
pub(super) enum ClientAuthMode {
    SpiffeId,
    Oauth2ClientId,
    None,
}

/// `injectHeaders[]`: `{type: ClientIds}` or `{type: Group, spec: {group: {policy}}}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InjectHeader {
    #[serde(rename = "type")]
    pub kind: InjectType,
    pub spec: Option<Value>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub(super) enum InjectType {
    ClientIds,
    Group,
}

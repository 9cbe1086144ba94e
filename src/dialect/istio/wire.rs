//! `security.istio.io/v1` and `v1beta1` AuthorizationPolicy, as written (istio/api
//! security/v1beta1/authorization_policy.proto). Unknown fields are refused.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Spec<'a> {
    pub selector: Option<Selector>,
    pub target_ref: Option<TargetRef>,
    pub target_refs: Option<Vec<TargetRef>>,
    #[serde(borrow)]
    pub rules: Option<Vec<Rule<'a>>>,
    pub action: Option<Action>,
    pub provider: Option<Provider>,
}

/// `type.v1beta1.PolicyTargetReference`: a gateway, waypoint or service (not a sidecar).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TargetRef {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
}

/// `AuthorizationPolicy.ExtensionProvider` (CUSTOM only).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Provider {
    #[serde(default)]
    pub name: String,
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
pub(super) struct Rule<'a> {
    #[serde(borrow)]
    pub from: Option<Vec<From<'a>>>,
    #[serde(borrow)]
    pub to: Option<Vec<To<'a>>>,
    #[serde(borrow)]
    pub when: Option<Vec<Condition<'a>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct From<'a> {
    #[serde(borrow)]
    pub source: Option<Source<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct To<'a> {
    #[serde(borrow)]
    pub operation: Option<Operation<'a>>,
}

/// A list of strings borrowed from the bundle's JSON: 100,000 principals are not copied before
/// they are lowered.
pub(super) type List<'a> = Option<Vec<Str<'a>>>;

/// Reads a list at its final size. Parsing grows a vector by doubling, so a list of 100,000
/// principals would otherwise keep room for 131,072 while it is lowered.
fn list<'de: 'a, 'a, D: serde::Deserializer<'de>>(d: D) -> Result<List<'a>, D::Error> {
    let mut list = List::deserialize(d)?;
    if let Some(v) = &mut list {
        v.shrink_to_fit();
    }
    Ok(list)
}

/// A string of the bundle, borrowed from its JSON (a value with a JSON escape is unescaped into
/// an owned string). `serde(borrow)` makes a `Cow` borrow only as a field of its own, hence the
/// newtype: a bare `Vec<Cow<str>>` would copy every element.
#[derive(Deserialize)]
#[serde(transparent)]
pub(super) struct Str<'a>(#[serde(borrow)] pub Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Str<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::fmt::Display for Str<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Source<'a> {
    #[serde(borrow, default, deserialize_with = "list")]
    pub principals: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub not_principals: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub request_principals: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub not_request_principals: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub namespaces: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub not_namespaces: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub service_accounts: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub not_service_accounts: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub ip_blocks: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub not_ip_blocks: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub remote_ip_blocks: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub not_remote_ip_blocks: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub trust_domains: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub not_trust_domains: List<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Operation<'a> {
    #[serde(borrow, default, deserialize_with = "list")]
    pub hosts: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub not_hosts: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub ports: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub not_ports: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub methods: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub not_methods: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub paths: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub not_paths: List<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Condition<'a> {
    /// Required by the API; a missing key is refused with istiod's words.
    #[serde(default)]
    pub key: String,
    #[serde(borrow, default, deserialize_with = "list")]
    pub values: List<'a>,
    #[serde(borrow, default, deserialize_with = "list")]
    pub not_values: List<'a>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_borrow_from_the_json_unless_escaped() {
        let json = r#"{"rules": [{"from": [{"source": {"principals": ["td/ns/a/sa/b", "td/ns/\u0061/sa/c"]}}]}]}"#;
        // As `Resource::spec` parses.
        let spec: Spec<'_> = serde_json::from_str(json).unwrap();
        let rules = spec.rules.unwrap();
        let source = rules[0].from.as_ref().unwrap()[0].source.as_ref().unwrap();
        let ps = source.principals.as_ref().unwrap();
        assert!(matches!(ps[0].0, Cow::Borrowed("td/ns/a/sa/b")));
        assert!(matches!(&ps[1].0, Cow::Owned(s) if s == "td/ns/a/sa/c"));
    }
}

//! `dapr.io/v1alpha1` Configuration, as written (dapr/dapr
//! `pkg/apis/configuration/v1alpha1/types.go`). Only `spec.accessControl` is enforced here; the
//! other sections configure the Dapr sidecar itself and are accepted unread. Unknown fields are
//! refused.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Spec<P> {
    pub access_control: Option<AccessControl<P>>,
    // The sidecar's own settings: accepted so a user's Configuration loads unchanged.
    #[allow(dead_code, reason = "the sidecar's own settings: accepted unread")]
    pub http_pipeline: Option<IgnoredAny>,
    #[allow(dead_code, reason = "the sidecar's own settings: accepted unread")]
    pub app_http_pipeline: Option<IgnoredAny>,
    #[allow(dead_code, reason = "the sidecar's own settings: accepted unread")]
    pub tracing: Option<IgnoredAny>,
    #[allow(dead_code, reason = "the sidecar's own settings: accepted unread")]
    pub metric: Option<IgnoredAny>,
    #[allow(dead_code, reason = "the sidecar's own settings: accepted unread")]
    pub metrics: Option<IgnoredAny>,
    #[allow(dead_code, reason = "the sidecar's own settings: accepted unread")]
    pub mtls: Option<IgnoredAny>,
    #[allow(dead_code, reason = "the sidecar's own settings: accepted unread")]
    pub secrets: Option<IgnoredAny>,
    #[allow(dead_code, reason = "the sidecar's own settings: accepted unread")]
    pub name_resolution: Option<IgnoredAny>,
    #[allow(dead_code, reason = "the sidecar's own settings: accepted unread")]
    pub features: Option<IgnoredAny>,
    #[allow(dead_code, reason = "the sidecar's own settings: accepted unread")]
    pub api: Option<IgnoredAny>,
    #[allow(dead_code, reason = "the sidecar's own settings: accepted unread")]
    pub components: Option<IgnoredAny>,
    #[allow(dead_code, reason = "the sidecar's own settings: accepted unread")]
    pub logging: Option<IgnoredAny>,
    #[allow(dead_code, reason = "the sidecar's own settings: accepted unread")]
    pub wasm: Option<IgnoredAny>,
    #[allow(dead_code, reason = "the sidecar's own settings: accepted unread")]
    pub workflow: Option<IgnoredAny>,
}

/// `spec.accessControl`. Go reads a JSON `null` string as `""`, hence `Option` everywhere.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct AccessControl<P> {
    pub default_action: Option<String>,
    pub trust_domain: Option<String>,
    /// `None` (absent or `null`) and `Some([])` differ in Dapr: see the layer docs.
    /// Compiled as it is read (`P`: the compiled policies, see `policies.rs`), so that the wire
    /// form of 100,000 policies is never held at once.
    pub policies: Option<P>,
}

/// `spec.accessControl.policies[i]`. Strings are borrowed from the bundle (see [`Str`]): a
/// policy is compiled as soon as it is read, so its wire form never outlives the JSON.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct AppPolicy<'a> {
    #[serde(borrow)]
    pub app_id: Option<Str<'a>>,
    #[serde(borrow)]
    pub default_action: Option<Str<'a>>,
    #[serde(borrow)]
    pub trust_domain: Option<Str<'a>>,
    #[serde(borrow)]
    pub namespace: Option<Str<'a>>,
    #[serde(borrow)]
    pub operations: Option<Vec<Operation<'a>>>,
}

/// `spec.accessControl.policies[i].operations[j]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Operation<'a> {
    #[serde(borrow)]
    pub name: Option<Str<'a>>,
    #[serde(borrow)]
    pub http_verb: Option<Vec<Str<'a>>>,
    #[serde(borrow)]
    pub action: Option<Str<'a>>,
}

/// A JSON string: borrowed from the bundle, copied only when it holds an escape. (serde's own
/// `Cow<str>` borrows only as a struct field, not inside a `Vec` or through `Option`.)
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Str<'a>(pub Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// `Option<Str>` as `&str`, `""` when absent (Go reads a missing or `null` string as `""`).
pub(super) fn text<'s>(s: &'s Option<Str<'_>>) -> &'s str {
    s.as_deref().unwrap_or_default()
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor)
    }
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Str<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
        Ok(Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'de>, E> {
        Ok(Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Str<'de>, E> {
        Ok(Str(Cow::Owned(v)))
    }
}

//! The bundle's resources: Kubernetes objects, each routed to its dialect and parsed there into
//! that dialect's wire types. Every error or warning about one names it
//! (`resources[3] (AuthorizationPolicy foo/allow-frontend)`) and the field.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{BundleError, Warning};

/// `metadata` of a Kubernetes object (other fields ignored).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ObjectMeta {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Namespace (defaults to the workload's).
    pub namespace: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// `creationTimestamp` (RFC 3339): Gateway API route precedence breaks ties by age.
    #[serde(default, rename = "creationTimestamp")]
    pub creation_timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Head {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    metadata: ObjectMeta,
}

/// A resource of the bundle, routed to its dialect.
pub struct Resource<'a> {
    /// Position in `resources`.
    pub index: usize,
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata`, with the namespace defaulted.
    pub meta: ObjectMeta,
    /// The namespace (`metadata.namespace`, or the workload's).
    pub namespace: String,
    raw: &'a RawValue,
}

impl<'a> Resource<'a> {
    /// Reads the head of `resources[index]` (`apiVersion`, `kind`, `metadata`); a missing
    /// namespace is `default_namespace` (the workload's, as `kubectl apply -n` would).
    pub(crate) fn read(index: usize, raw: &'a RawValue, default_namespace: &str) -> Result<Resource<'a>, BundleError> {
        let head: Head = serde_json::from_str(raw.get()).map_err(|e| BundleError::Resource {
            at: format!("resources[{index}]"),
            field: String::new(),
            message: format!("not a Kubernetes object: {e}"),
        })?;
        let namespace = head
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| default_namespace.to_string());
        Ok(Resource {
            index,
            api_version: head.api_version,
            kind: head.kind,
            meta: head.metadata,
            namespace,
            raw,
        })
    }
}

/// A whole object, for its `spec`: the other top-level fields are read by [`Head`] and only
/// listed here, so that `deny_unknown_fields` accepts them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Object<T> {
    #[serde(rename = "apiVersion")]
    _api_version: IgnoredAny,
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    #[serde(rename = "metadata")]
    _metadata: IgnoredAny,
    spec: Option<T>,
    #[serde(default, rename = "status")]
    _status: IgnoredAny,
}

impl<'a> Resource<'a> {
    /// `resources[3] (AuthorizationPolicy foo/allow-frontend)`.
    pub fn at(&self) -> String {
        format!(
            "resources[{}] ({} {}/{})",
            self.index, self.kind, self.namespace, self.meta.name
        )
    }

    /// An error at a field of this resource.
    pub fn error(&self, field: impl Into<String>, message: impl Into<String>) -> BundleError {
        BundleError::Resource {
            at: self.at(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// A warning at a field of this resource.
    pub fn warning(&self, field: impl Into<String>, message: impl Into<String>) -> Warning {
        Warning {
            at: self.at(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// The `spec`, parsed into the dialect's wire type (absent = `T::default()`). A parse error
    /// names the field, e.g. `spec.rules[1].from[0].source.principals`, found from the error's
    /// position ([`crate::json_path`]: tracking it while parsing doubled the deserializers in the
    /// module). The wire type may borrow strings from the bundle's JSON (`'a`) instead of
    /// copying them.
    pub fn spec<T: Deserialize<'a> + Default>(&self) -> Result<T, BundleError> {
        let text = self.raw.get();
        let obj: Object<T> =
            serde_json::from_str(text).map_err(|e| self.error(crate::json_path::path_at(text, &e), e.to_string()))?;
        Ok(obj.spec.unwrap_or_default())
    }
}

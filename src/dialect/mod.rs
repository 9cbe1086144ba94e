//! The policy formats, one module each. A dialect parses its owner's objects (wire types, with
//! unknown fields refused so that a typo or a newer upstream field can never be ignored),
//! validates them as its owner does, and lowers them into a [`Layer`] built from the shared
//! [`model`](crate::model).

pub mod dapr;
pub mod drako;
pub mod istio;
pub mod linkerd;

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::bundle::{path_of, Settings, Workload};
use crate::decision::Verdict;
use crate::error::{BundleError, Warning};
use crate::model::Dialect;
use crate::request::Request;

/// One dialect's compiled policy for the workload, deciding with its owner's rules.
pub trait Layer {
    /// Which dialect.
    fn dialect(&self) -> Dialect;

    /// The dialect's verdict. Must not fail or panic: all fallible work happened at configure
    /// time.
    fn decide<'e>(&'e self, req: &Request, fx: &mut Effects<'e>) -> Verdict<'e>;

    /// Lines explaining, rule by rule, what applied to `req` and why (the CLI's `explain`).
    fn explain(&self, req: &Request) -> Vec<String> {
        let mut fx = Effects::default();
        vec![format!("{:?}", self.decide(req, &mut fx))]
    }

    /// Header names the layer reads (lowercase); the filter fetches only these.
    fn headers_read(&self) -> Vec<String> {
        Vec::new()
    }

    /// Connection attributes the layer's decisions can depend on; the filter reads only
    /// these. The default, everything, is always correct, only slower.
    fn reads(&self) -> crate::request::Reads {
        crate::request::Reads::ALL
    }

    /// Header names (lowercase; a trailing `*` is a prefix) removed from every request before
    /// it is forwarded, so that a client cannot spoof what the layer sets.
    fn strip_headers(&self) -> &[&'static str] {
        &[]
    }
}

/// What a layer asks for besides its verdict.
#[derive(Debug, Default)]
pub struct Effects<'e> {
    /// Verdicts of dry-run or audit rules.
    pub dry_run: Vec<Verdict<'e>>,
    /// Headers to set on the forwarded request.
    pub set_headers: Vec<(&'static str, String)>,
}

/// What every dialect gets at compile time.
pub struct Ctx<'a> {
    /// The protected workload.
    pub workload: &'a Workload,
    /// Bundle settings.
    pub settings: &'a Settings,
}

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Object<T> {
    #[allow(dead_code)] // Read by Head; present here so deny_unknown_fields accepts it.
    api_version: IgnoredAny,
    #[allow(dead_code)]
    kind: IgnoredAny,
    #[allow(dead_code)]
    metadata: IgnoredAny,
    spec: Option<T>,
    #[allow(dead_code)]
    #[serde(default)]
    status: IgnoredAny,
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
    /// names the field, e.g. `spec.rules[1].from[0].source.principals`. The wire type may
    /// borrow strings from the bundle's JSON (`'a`) instead of copying them.
    pub fn spec<T: Deserialize<'a> + Default>(&self) -> Result<T, BundleError> {
        let de = &mut serde_json::Deserializer::from_str(self.raw.get());
        let obj: Object<T> =
            serde_path_to_error::deserialize(de).map_err(|e| self.error(path_of(e.path()), e.inner().to_string()))?;
        Ok(obj.spec.unwrap_or_default())
    }

    /// [`Resource::spec`] for a large spec made of many small objects: parsed first without
    /// tracking the path (serde_path_to_error copies every map key it passes, ~40% of such a
    /// parse); only a spec that fails is parsed again, tracked, for the same error naming its
    /// field. It puts a second copy of `T`'s deserializer in the module (~20 KB for Dapr's,
    /// ~180 KB for all dialects'), so only the dialects that need it use it.
    pub fn spec_untracked_first<T: Deserialize<'a> + Default>(&self) -> Result<T, BundleError> {
        match serde_json::from_str::<Object<T>>(self.raw.get()) {
            Ok(obj) => Ok(obj.spec.unwrap_or_default()),
            Err(_) => self.spec(),
        }
    }

    /// The [`crate::model::Meta`] of this resource.
    pub fn model_meta(&self, dialect: Dialect) -> crate::model::Meta {
        crate::model::Meta {
            dialect,
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.meta.name.clone(),
        }
    }
}

fn dialect_of(api_version: &str, kind: &str) -> Option<Dialect> {
    let group = api_version.split('/').next().unwrap_or("");
    match (group, kind) {
        ("security.istio.io", "AuthorizationPolicy") => Some(Dialect::Istio),
        ("woven-city.global", "DrakoPolicy" | "DrakoPolicyBinding") => Some(Dialect::Drako),
        (
            "policy.linkerd.io",
            "Server"
            | "ServerAuthorization"
            | "AuthorizationPolicy"
            | "MeshTLSAuthentication"
            | "NetworkAuthentication"
            | "HTTPRoute",
        )
        | ("gateway.networking.k8s.io", "HTTPRoute" | "GRPCRoute") => Some(Dialect::Linkerd),
        ("dapr.io", "Configuration") => Some(Dialect::Dapr),
        _ => None,
    }
}

/// Routes every resource to its dialect and compiles one layer per dialect present, in the
/// fixed order Istio, Drako, Linkerd, Dapr.
pub(crate) fn compile_layers(
    raws: &[&RawValue],
    ctx: &Ctx<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Box<dyn Layer>>, BundleError> {
    let mut by_dialect: BTreeMap<Dialect, Vec<Resource<'_>>> = BTreeMap::new();
    for (index, raw) in raws.iter().enumerate() {
        let head: Head = serde_json::from_str(raw.get()).map_err(|e| BundleError::Resource {
            at: format!("resources[{index}]"),
            field: String::new(),
            message: format!("not a Kubernetes object: {e}"),
        })?;
        let namespace = head
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| ctx.workload.namespace().to_string());
        let r = Resource {
            index,
            api_version: head.api_version,
            kind: head.kind,
            meta: head.metadata,
            namespace,
            raw,
        };
        if r.meta.name.is_empty() {
            return Err(r.error("metadata.name", "is required"));
        }
        let Some(d) = dialect_of(&r.api_version, &r.kind) else {
            return Err(r.error(
                "apiVersion/kind",
                format!(
                    "{}/{} is not a supported policy kind (supported: security.istio.io AuthorizationPolicy; \
                     woven-city.global DrakoPolicy, DrakoPolicyBinding; policy.linkerd.io Server, ServerAuthorization, \
                     AuthorizationPolicy, MeshTLSAuthentication, NetworkAuthentication, HTTPRoute; \
                     gateway.networking.k8s.io HTTPRoute, GRPCRoute; dapr.io Configuration)",
                    r.api_version, r.kind
                ),
            ));
        };
        by_dialect.entry(d).or_default().push(r);
    }
    let mut layers = Vec::new();
    for (d, rs) in by_dialect {
        let layer = match d {
            Dialect::Istio => istio::compile(rs, ctx, warnings)?,
            Dialect::Drako => drako::compile(rs, ctx, warnings)?,
            Dialect::Linkerd => linkerd::compile(rs, ctx, warnings)?,
            Dialect::Dapr => dapr::compile(rs, ctx, warnings)?,
        };
        layers.push(layer);
    }
    Ok(layers)
}

//! The policy formats, one module each. A dialect parses its owner's objects (wire types, with
//! unknown fields refused so that a typo or a newer upstream field can never be ignored),
//! validates them as its owner does, and lowers them into a [`Layer`] built from the shared
//! [`model`](crate::model).

pub mod dapr;
pub mod drako;
pub mod istio;
pub mod linkerd;

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use crate::bundle::{Settings, Workload};
use crate::error::{BundleError, Warning};
use crate::eval::{Defaults, Layer};
use crate::model::{Dialect, Meta, MetaIds};
use crate::resource::Resource;

/// What every dialect gets at compile time.
pub struct Ctx<'a> {
    /// The protected workload.
    pub workload: &'a Workload,
    /// Bundle settings.
    pub settings: &'a Settings,
    /// Ids for every [`Meta`] the layers hold.
    pub ids: &'a MetaIds,
}

impl Ctx<'_> {
    /// The [`Meta`] of a resource, with its id.
    pub fn meta(&self, r: &Resource<'_>, dialect: Dialect) -> Meta {
        self.ids.meta(Some(dialect), &r.kind, &r.namespace, &r.meta.name)
    }

    /// The default verdicts of a dialect, with their ids.
    pub fn defaults(&self, dialect: Dialect) -> Defaults {
        Defaults::new(self.ids, Some(dialect))
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
        let r = Resource::read(index, raw, ctx.workload.namespace())?;
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

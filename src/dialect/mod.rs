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
use crate::decision::Verdict;
use crate::error::{BundleError, Warning};
use crate::model::Dialect;
use crate::request::Request;
use crate::resource::Resource;

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

//! The policy formats, one module each. A dialect parses its owner's objects (wire types, with
//! unknown fields refused so that a typo or a newer upstream field can never be ignored),
//! validates them as its owner does, and lowers them into a [`Layer`] built from the shared
//! [`model`](crate::model).

pub mod dapr;
pub mod drako;
pub mod istio;
pub mod linkerd;

use std::collections::{BTreeMap, HashMap};

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

/// The dialect that decides objects of this `apiVersion` and `kind`; `None` for any other kind
/// (a Deployment, a Service, a PeerAuthentication...). The version does not matter.
pub fn dialect_of(api_version: &str, kind: &str) -> Option<Dialect> {
    match (group(api_version), kind) {
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

/// The API group of an `apiVersion` (`security.istio.io/v1` → `security.istio.io`; `v1` → ``).
fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// The objects as the cluster holds them after `kubectl apply` of the whole list: one per API
/// group, kind, namespace and name (the version is a view of the same object), the last one
/// written. Each replaced object gets a warning naming its replacement.
fn last_of_each<'a>(rs: Vec<Resource<'a>>, warnings: &mut Vec<Warning>) -> Vec<Resource<'a>> {
    let mut seen: HashMap<(&str, &str, &str, &str), usize> = HashMap::with_capacity(rs.len());
    let mut replaced = vec![None; rs.len()];
    for (i, r) in rs.iter().enumerate().rev() {
        let key = (
            group(&r.api_version),
            r.kind.as_str(),
            r.namespace.as_str(),
            r.meta.name.as_str(),
        );
        match seen.get(&key) {
            Some(&later) => replaced[i] = Some(later),
            None => {
                seen.insert(key, i);
            }
        }
    }
    for (r, later) in rs.iter().zip(&replaced) {
        if let Some(later) = later.and_then(|j| rs.get(j)) {
            warnings.push(r.warning(
                "metadata.name",
                format!(
                    "the same object as {} (API group, kind, namespace, name): the later one is kept, as `kubectl apply` would leave it",
                    later.at()
                ),
            ));
        }
    }
    rs.into_iter()
        .zip(replaced)
        .filter_map(|(r, later)| later.is_none().then_some(r))
        .collect()
}

/// Routes every resource to its dialect and compiles one layer per dialect present, in the
/// fixed order Istio, Drako, Linkerd, Dapr.
pub(crate) fn compile_layers(
    raws: &[&RawValue],
    ctx: &Ctx<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Box<dyn Layer>>, BundleError> {
    let mut all = Vec::with_capacity(raws.len());
    for (index, raw) in raws.iter().enumerate() {
        all.push(Resource::read(index, raw, ctx.workload.namespace())?);
    }
    let mut by_dialect: BTreeMap<Dialect, Vec<Resource<'_>>> = BTreeMap::new();
    for r in last_of_each(all, warnings) {
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

#[cfg(test)]
mod tests {
    use crate::{Effect, Engine, Peer, Request, Workload};

    fn engine(resources: &str) -> Engine {
        let b =
            format!(r#"{{"workload": {{"namespace": "shop", "serviceAccount": "api"}}, "resources": [{resources}]}}"#);
        Engine::from_json(b.as_bytes(), &Workload::default()).unwrap()
    }

    fn istio(version: &str, principal: &str) -> String {
        format!(
            r#"{{"apiVersion": "security.istio.io/{version}", "kind": "AuthorizationPolicy",
                 "metadata": {{"name": "allow", "namespace": "shop"}},
                 "spec": {{"rules": [{{"from": [{{"source": {{"principals": ["{principal}"]}}}}]}}]}}}}"#
        )
    }

    fn allowed(e: &Engine, who: &str) -> bool {
        let mut r = Request::new("GET", "/");
        r.peer = Peer::from_uri_san(format!("spiffe://cluster.local/ns/shop/sa/{who}"));
        e.evaluate(&r).verdict.effect == Effect::Allow
    }

    #[test]
    fn the_same_object_twice_keeps_the_last_with_a_warning() {
        let web = "cluster.local/ns/shop/sa/web";
        let admin = "cluster.local/ns/shop/sa/admin";
        // v1beta1 and v1 are two views of one object.
        let e = engine(&[istio("v1beta1", web), istio("v1", admin)].join(","));
        assert!(!allowed(&e, "web"));
        assert!(allowed(&e, "admin"));
        let w: Vec<String> = e.warnings().iter().map(|w| w.to_string()).collect();
        assert!(
            w.iter().any(|w| w.starts_with(
                "resources[0] (AuthorizationPolicy shop/allow): metadata.name: the same object as resources[1]"
            )),
            "{w:?}"
        );
    }

    #[test]
    fn objects_of_another_group_or_name_are_not_the_same() {
        let web = "cluster.local/ns/shop/sa/web";
        let other = istio("v1", web).replace(r#""name": "allow""#, r#""name": "other""#);
        let e = engine(&[istio("v1", web), other].join(","));
        assert!(e.warnings().iter().all(|w| !w.message.contains("the same object")));
        assert!(allowed(&e, "web"));
    }
}

//! The compiled engine: built once per configuration, then asked once per request.

use crate::bundle::{AccessLog, Bundle, Mode, Workload};
use crate::decision::{Decision, Explanation};
use crate::dialect::{compile_layers, Ctx};
use crate::error::{BundleError, Warning};
use crate::eval::Layers;
use crate::model::{Dialect, MetaIds};
use crate::request::{ReadPlan, Request};

/// A loaded bundle, ready to decide. Immutable: a new configuration builds a new engine, and a
/// request is decided wholly by the engine it started with.
pub struct Engine {
    layers: Layers,
    mode: Mode,
    access_log: AccessLog,
    /// How many [`crate::Meta`]s the engine holds (every id is below).
    metas: usize,
    workload: Workload,
    warnings: Vec<Warning>,
    plan: ReadPlan,
    #[cfg(feature = "fault-injection")]
    panic_on_path: Option<String>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("layers", &self.dialects().collect::<Vec<_>>())
            .field("workload", &self.workload)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Parses, validates and compiles a bundle (plain, or in its [`crate::compact`] form).
    /// `defaults` fills workload fields the bundle leaves out (in Envoy: Istio node metadata).
    pub fn from_json(json: &[u8], defaults: &Workload) -> Result<Engine, BundleError> {
        let text = std::str::from_utf8(json).map_err(|e| BundleError::Envelope {
            field: String::new(),
            message: format!("not UTF-8: {e}"),
        })?;
        // A compact (gzip + base64) bundle is expanded first, within a size limit.
        let text = crate::compact::expand(text)?;
        let bundle = Bundle::parse(&text)?;
        let workload = bundle.workload.clone().or(defaults);
        let ids = MetaIds::default();
        let ctx = Ctx {
            workload: &workload,
            settings: &bundle.settings,
            ids: &ids,
        };
        let mut warnings = Vec::new();
        if workload.namespace.is_none() {
            warnings.push(Warning {
                at: String::new(),
                field: "workload.namespace".into(),
                message: "unknown: policies that select by namespace will not apply".into(),
            });
        }
        let layers = compile_layers(&bundle.resources, &ctx, &mut warnings)?;
        let mut plan = ReadPlan::new(bundle.settings.path.clone());
        layers.iter().for_each(|l| l.plan(&mut plan));
        let layers = Layers::new(layers, bundle.settings.default_action, bundle.settings.mode, &ids);
        Ok(Engine {
            layers,
            metas: ids.count(),
            mode: bundle.settings.mode,
            access_log: bundle.settings.access_log,
            workload,
            warnings,
            plan: plan.seal(),
            #[cfg(feature = "fault-injection")]
            panic_on_path: bundle.settings.testing.panic_on_path.clone(),
        })
    }

    /// Decides one request. Never fails; see `eval.rs` for the order. The decision borrows the
    /// engine and the request.
    pub fn evaluate<'a>(&'a self, req: &'a Request) -> Decision<'a> {
        #[cfg(feature = "fault-injection")]
        if self.panic_on_path.as_deref() == Some(req.path.as_str()) {
            // Test-only build (never the shipped one): a trap in the VM must fail closed.
            #[allow(clippy::panic)]
            {
                panic!("fault injection: settings.testing.panicOnPath");
            }
        }
        self.layers.decide(req)
    }

    /// The decision, with every layer's steps and verdict (`spiffe-authz explain`).
    pub fn explain<'a>(&'a self, req: &'a Request) -> Explanation<'a> {
        self.layers.explain(req)
    }

    /// The layers, in the order they are asked.
    pub fn dialects(&self) -> impl Iterator<Item = Dialect> + '_ {
        self.layers.iter().map(|l| l.dialect())
    }

    /// How many resources and defaults can decide (every [`crate::Meta::id`] is below): the
    /// size of a table of per-policy counters.
    pub fn metas(&self) -> usize {
        self.metas
    }

    /// The workload as resolved (bundle fields, then defaults).
    pub fn workload(&self) -> &Workload {
        &self.workload
    }

    /// Warnings found while compiling.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// What the filter reads from the host per request (headers, connection attributes, how
    /// the path is canonicalized) and which headers it removes: give it to
    /// [`crate::request::incoming`] with the request's headers.
    pub fn plan(&self) -> &ReadPlan {
        &self.plan
    }

    /// Should allowed requests, too, hand their decision to Envoy's access log
    /// (`settings.accessLog: all`)? Refusals always do.
    pub fn logs_allowed(&self) -> bool {
        self.access_log == AccessLog::All
    }

    /// Is the whole bundle in dry-run mode?
    pub fn dry_run(&self) -> bool {
        self.mode == Mode::DryRun
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Peer;

    const MIXED: &str = r#"{
      "workload": {"namespace": "shop", "serviceAccount": "cart"},
      "resources": [
        {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
         "metadata": {"name": "deny-admin", "namespace": "shop"},
         "spec": {"action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/admin*"]}}],
                                                "when": [{"key": "request.headers[x-role]", "values": ["guest"]}]}]}},
        {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
         "metadata": {"name": "allow-web", "namespace": "shop"},
         "spec": {"rules": [{"from": [{"source": {"principals": ["cluster.local/ns/shop/sa/web"]}}]}]}},
        {"apiVersion": "woven-city.global/v1alpha1", "kind": "DrakoPolicy",
         "metadata": {"name": "all", "namespace": "shop"}, "spec": {"type": "AllowAll"}},
        {"apiVersion": "woven-city.global/v1alpha1", "kind": "DrakoPolicyBinding",
         "metadata": {"name": "b", "namespace": "shop"},
         "spec": {"destinationServiceAccounts": ["cart"], "authenticationMode": "None",
                  "policies": ["all"], "decisionStrategy": "all"}}
      ]
    }"#;

    fn engine() -> Engine {
        Engine::from_json(MIXED.as_bytes(), &Workload::default()).unwrap()
    }

    fn req(peer: &str, path: &str) -> Request {
        let mut r = Request::new("GET", path);
        r.peer = Peer::from_uri_san(peer);
        r
    }

    #[test]
    fn the_plan_is_every_layers_plan() {
        let e = engine();
        let p = e.plan();
        // Istio's header rule; Drako's bearer token (Oauth2ClientId, on by default).
        assert_eq!(p.headers(), ["authorization", "x-role"]);
        assert!(p.reads.source_ip, "Drako's Origin policies may read the client address");
        assert!(!p.reads.port && !p.reads.sni && !p.reads.jwt);
        assert!(
            p.strips("x-drako-client-ids") && p.strips("x-user-id"),
            "Drako's headers"
        );
        assert_eq!(e.dialects().collect::<Vec<_>>(), [Dialect::Istio, Dialect::Drako]);
    }

    #[test]
    fn every_verdict_names_a_meta_with_its_own_id() {
        let e = engine();
        let mut ids = Vec::new();
        for (peer, path, by) in [
            (
                "spiffe://cluster.local/ns/shop/sa/web",
                "/x",
                Some("DrakoPolicyBinding shop/b"),
            ),
            ("spiffe://cluster.local/ns/shop/sa/evil", "/x", None),
            (
                "spiffe://cluster.local/ns/shop/sa/web",
                "/admin",
                Some("DrakoPolicyBinding shop/b"),
            ),
        ] {
            let r = req(peer, path);
            let d = e.evaluate(&r);
            assert_eq!(
                d.verdict.by().map(|b| b.meta.to_string()).as_deref(),
                by,
                "{peer} {path}"
            );
            ids.push(d.verdict.meta.id());
        }
        assert!(ids.iter().all(|&i| i < e.metas()), "{ids:?} < {}", e.metas());
        assert_ne!(ids[0], ids[1], "a resource and a default are counted apart");
    }

    #[test]
    fn loading_reports_what_it_cannot_use() {
        let err = Engine::from_json(&[0xff, 0xfe], &Workload::default()).unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
        let e = Engine::from_json(br#"{"resources": []}"#, &Workload::default()).unwrap();
        assert!(e.warnings().iter().any(|w| w.field == "workload.namespace"));
        // Node metadata fills what the bundle leaves out.
        let node = Workload {
            namespace: Some("shop".into()),
            ..Workload::default()
        };
        let e = Engine::from_json(br#"{"resources": []}"#, &node).unwrap();
        assert_eq!(e.workload().namespace(), "shop");
        assert!(e.warnings().is_empty());
        assert_eq!((e.dialects().count(), e.metas()), (0, 3), "the bundle's defaults only");
    }
}

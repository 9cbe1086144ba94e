//! The compiled engine: built once per configuration, then asked once per request.

use crate::bundle::{Bundle, DefaultAction, Mode, Workload};
use crate::decision::Decision;
use crate::dialect::{compile_layers, Ctx, Layer};
use crate::error::{BundleError, Warning};
use crate::request::Request;

/// A loaded bundle, ready to decide. Immutable: a new configuration builds a new engine, and a
/// request is decided wholly by the engine it started with.
pub struct Engine {
    pub(crate) layers: Vec<Box<dyn Layer>>,
    pub(crate) default_action: DefaultAction,
    pub(crate) mode: Mode,
    workload: Workload,
    warnings: Vec<Warning>,
    headers_read: Vec<String>,
    reads: crate::request::Reads,
    strip_headers: Vec<&'static str>,
    path_options: crate::request::path::Options,
    #[cfg(feature = "fault-injection")]
    panic_on_path: Option<String>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("layers", &self.layers.iter().map(|l| l.dialect()).collect::<Vec<_>>())
            .field("workload", &self.workload)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Parses, validates and compiles a bundle. `defaults` fills workload fields the bundle
    /// leaves out (in Envoy: Istio node metadata).
    pub fn from_json(json: &[u8], defaults: &Workload) -> Result<Engine, BundleError> {
        let text = std::str::from_utf8(json).map_err(|e| BundleError::Envelope {
            field: String::new(),
            message: format!("not UTF-8: {e}"),
        })?;
        let bundle = Bundle::parse(text)?;
        let workload = bundle.workload.clone().or(defaults);
        let ctx = Ctx {
            workload: &workload,
            settings: &bundle.settings,
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
        let mut headers_read: Vec<String> = layers.iter().flat_map(|l| l.headers_read()).collect();
        headers_read.sort();
        headers_read.dedup();
        let reads = layers
            .iter()
            .fold(crate::request::Reads::NONE, |acc, l| acc.union(l.reads()));
        let mut strip_headers: Vec<&'static str> =
            layers.iter().flat_map(|l| l.strip_headers().iter().copied()).collect();
        strip_headers.sort_unstable();
        strip_headers.dedup();
        Ok(Engine {
            layers,
            default_action: bundle.settings.default_action,
            mode: bundle.settings.mode,
            workload,
            warnings,
            headers_read,
            reads,
            strip_headers,
            path_options: bundle.settings.path.clone(),
            #[cfg(feature = "fault-injection")]
            panic_on_path: bundle.settings.testing.panic_on_path.clone(),
        })
    }

    /// Decides one request. Never fails; see [`crate::eval`] for the order.
    pub fn evaluate(&self, req: &Request) -> Decision<'_> {
        #[cfg(feature = "fault-injection")]
        if self.panic_on_path.as_deref() == Some(req.path.as_str()) {
            // Test-only build (never the shipped one): a trap in the VM must fail closed.
            #[allow(clippy::panic)]
            {
                panic!("fault injection: settings.testing.panicOnPath");
            }
        }
        crate::eval::evaluate(self, req)
    }

    /// The workload as resolved (bundle fields, then defaults).
    pub fn workload(&self) -> &Workload {
        &self.workload
    }

    /// Warnings found while compiling.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Request headers some rule reads (lowercase).
    pub fn headers_read(&self) -> &[String] {
        &self.headers_read
    }

    /// Connection attributes the bundle's decisions can depend on (the filter reads only
    /// these from the host; the peer and the request headers it reads always).
    pub fn reads(&self) -> crate::request::Reads {
        self.reads
    }

    /// Request headers removed before forwarding (a trailing `*` is a prefix).
    pub fn strip_headers(&self) -> &[&'static str] {
        &self.strip_headers
    }

    /// How the filter canonicalizes paths (`settings.path`): pass to
    /// [`crate::request::path::canonical`] before building the [`Request`].
    pub fn path_options(&self) -> &crate::request::path::Options {
        &self.path_options
    }

    /// Is the whole bundle in dry-run mode?
    pub fn dry_run(&self) -> bool {
        self.mode == Mode::DryRun
    }

    /// Per-layer explanation lines, for `spiffe-authz explain`.
    pub fn explain(&self, req: &Request) -> Vec<(crate::model::Dialect, Vec<String>)> {
        self.layers.iter().map(|l| (l.dialect(), l.explain(req))).collect()
    }
}

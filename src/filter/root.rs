//! The root context: turns the plugin configuration into an [`Engine`], once per configuration.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{ContextType, LogLevel};

use crate::{Engine, Workload};

use super::host;
use super::http::Http;
use super::loaded::Loaded;
use super::metrics::{self, Counter};
use super::policy_metrics::PolicyCounters;

/// One per plugin configuration (Envoy creates a new root context for each configuration it
/// loads; the old one keeps serving the streams and listeners it already has).
#[derive(Default)]
pub(crate) struct Root {
    loaded: Option<Rc<Loaded>>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_vm_start(&mut self, _vm_configuration_size: usize) -> bool {
        super::set_log_level();
        metrics::define();
        true
    }

    /// Hands the counts requests left pending to Envoy and refreshes the memory gauge (see
    /// [`metrics`]).
    fn on_tick(&mut self) {
        match &self.loaded {
            Some(l) => l.flush(),
            None => metrics::flush(),
        }
        metrics::record_memory();
    }

    fn on_configure(&mut self, plugin_configuration_size: usize) -> bool {
        metrics::define();
        // Allowed requests log at debug; the log crate formats only when the host's wasm log
        // level (read here, at load) admits the line.
        super::set_log_level();
        // Load cost, reported below (README "Performance"): host clock, VM linear memory.
        let started = proxy_wasm::hostcalls::get_current_time().ok();
        let Some(bytes) = host::plugin_configuration(plugin_configuration_size) else {
            return reject("bundle: the plugin configuration is empty (expected the bundle JSON)");
        };
        let defaults = node_workload();
        match Engine::from_json(&bytes, &defaults) {
            Ok(engine) => {
                for w in engine.warnings() {
                    host::log(LogLevel::Warn, &format!("spiffe-authz: warning: {w}"));
                }
                let wl = engine.workload();
                let configure_ms = started
                    .and_then(|t| proxy_wasm::hostcalls::get_current_time().ok()?.duration_since(t).ok())
                    .map_or(-1.0, |d| d.as_secs_f64() * 1e3);
                // Pages of 64 KiB: everything the VM holds (module data, heap, slack).
                let vm_memory_bytes = core::arch::wasm32::memory_size(0) * 65536;
                host::log(
                    LogLevel::Info,
                    &format!(
                        "spiffe-authz: bundle loaded ({} bytes; workload namespace={:?} serviceAccount={:?} labels={:?}; dry-run={}; configure_ms={configure_ms:.1} vm_memory_bytes={vm_memory_bytes})",
                        bytes.len(),
                        wl.namespace(),
                        wl.service_account.as_deref().unwrap_or(""),
                        wl.labels.as_ref().map(|l| l.len()).unwrap_or(0),
                        engine.dry_run(),
                    ),
                );
                let counters = PolicyCounters::new(engine.metas());
                self.loaded = Some(Rc::new(Loaded { engine, counters }));
                metrics::inc_now(Counter::ConfigLoaded);
                metrics::record_memory();
                // Counts reach Envoy once a second (more often would cost the worker for
                // nothing: a scrape comes every 15 s or so).
                let _ = proxy_wasm::hostcalls::set_tick_period(metrics::FLUSH_EVERY);
                true
            }
            // The error names the resource and the field: `resources[1] (AuthorizationPolicy
            // ns/name): spec.rules[0].to[0].operation.methods: ...`.
            Err(e) => reject(&e.to_string()),
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        // The stream keeps this engine for its whole life, whatever configuration comes later.
        Some(Box::new(Http::new(self.loaded.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// Logs why a configuration is refused and tells Envoy to refuse it (`on_configure` → false):
/// at start-up the listener is rejected; on an update the previous configuration keeps serving.
fn reject(why: &str) -> bool {
    host::log(LogLevel::Error, &format!("spiffe-authz: bundle rejected: {why}"));
    metrics::inc_now(Counter::ConfigRejected);
    false
}

/// Workload fields from Istio's node metadata, used where the bundle leaves them out. In a mesh
/// the same filter and bundle ship to every workload; the node metadata says which one this is.
fn node_workload() -> Workload {
    let at = |key: &'static str| host::property(&["xds", "node", "metadata", key]);
    Workload::from_node_metadata(at("NAMESPACE"), at("SERVICE_ACCOUNT"), at("LABELS"))
}

//! The filter's counters, defined once per VM.
//!
//! Envoy shows them in its stats under the names below (admin `/stats`, `/stats/prometheus` as
//! `spiffe_authz_allowed` etc.). Each worker thread has its own VM; Envoy sums the threads.
//!
//! | counter | counts |
//! |---|---|
//! | `spiffe_authz.allowed` | requests forwarded (including dry-run denials) |
//! | `spiffe_authz.denied` | requests answered 403 / 404 / gRPC PERMISSION_DENIED / NOT_FOUND |
//! | `spiffe_authz.dry_run_denied` | requests a dry-run policy or a dry-run bundle would have denied |
//! | `spiffe_authz.bad_request` | requests answered 400: the path cannot be canonicalized |
//! | `spiffe_authz.config_loaded` | bundles accepted by `on_configure` |
//! | `spiffe_authz.config_rejected` | bundles refused by `on_configure` (Envoy keeps the previous one) |
//!
//! And one gauge: `spiffe_authz.vm_memory_bytes`, the linear memory of the VM that last reported
//! (set when a bundle loads and every 4,096 requests after, so the request path makes no extra host
//! call; with several workers it shows whichever VM reported last). Wasm memory never shrinks, so
//! this is the VM's high-water mark: the long-run test reads it to show memory does not grow.

use std::cell::{Cell, OnceCell};

use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;

/// One counter of [`Metrics`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum Counter {
    Allowed,
    Denied,
    DryRunDenied,
    BadRequest,
    ConfigLoaded,
    ConfigRejected,
}

const NAMES: [&str; 6] = [
    "spiffe_authz.allowed",
    "spiffe_authz.denied",
    "spiffe_authz.dry_run_denied",
    "spiffe_authz.bad_request",
    "spiffe_authz.config_loaded",
    "spiffe_authz.config_rejected",
];

thread_local! {
    /// Metric ids of this VM (a VM is single-threaded). `None` per counter the host refused.
    static IDS: OnceCell<[Option<u32>; 6]> = const { OnceCell::new() };
}

/// Defines every counter (idempotent: the first call per VM defines, later calls do nothing).
pub(crate) fn define() {
    IDS.with(|ids| {
        ids.get_or_init(|| NAMES.map(|n| hostcalls::define_metric(MetricType::Counter, n).ok()));
    });
}

/// Adds one to a counter. Never fails the request: a host error is ignored.
pub(crate) fn inc(c: Counter) {
    IDS.with(|ids| {
        if let Some(Some(id)) = ids.get().and_then(|a| a.get(c as usize)) {
            let _ = hostcalls::increment_metric(*id, 1);
        }
    });
}

const MEMORY_EVERY: u32 = 4096;

thread_local! {
    static MEMORY_GAUGE: OnceCell<Option<u32>> = const { OnceCell::new() };
    static REQUESTS: Cell<u32> = const { Cell::new(0) };
}

/// Records the VM's linear memory in the `spiffe_authz.vm_memory_bytes` gauge.
pub(crate) fn record_memory() {
    MEMORY_GAUGE.with(|g| {
        let id = g.get_or_init(|| hostcalls::define_metric(MetricType::Gauge, "spiffe_authz.vm_memory_bytes").ok());
        if let Some(id) = id {
            let bytes = (core::arch::wasm32::memory_size(0) as u64).saturating_mul(65536);
            let _ = hostcalls::record_metric(*id, bytes);
        }
    });
}

/// Counts a request; every [`MEMORY_EVERY`] requests refreshes the memory gauge.
pub(crate) fn tick() {
    REQUESTS.with(|n| {
        let next = n.get().wrapping_add(1);
        n.set(next);
        if next % MEMORY_EVERY == 0 {
            record_memory();
        }
    });
}

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
//! (set when a bundle loads and on every tick; with several workers it shows whichever VM reported
//! last). Wasm memory never shrinks, so this is the VM's high-water mark: the long-run test reads
//! it to show memory does not grow.
//!
//! Counting costs the request path no host call: a request adds to this VM's pending counts, and
//! [`flush`] hands them to Envoy once a second (the root context's tick), and at once whenever
//! the filter logs anyway (a denial, a dry-run denial, a refused request, a bundle loaded or
//! refused), so what an operator looks into is counted by the time it is logged. An allowed
//! request is thus in Envoy's stats at most a second late; a scrape every 15 s never notices.
//! (Host calls are most of what a wasm filter costs Envoy: README "Performance".)

use std::cell::{Cell, OnceCell};
use std::time::Duration;

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
    /// Counts not yet handed to the host, per counter.
    static PENDING: [Cell<u64>; 6] = const { [const { Cell::new(0) }; 6] };
}

/// How often pending counts reach Envoy when nothing is logged.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Defines every counter (idempotent: the first call per VM defines, later calls do nothing).
pub(crate) fn define() {
    IDS.with(|ids| {
        ids.get_or_init(|| NAMES.map(|n| hostcalls::define_metric(MetricType::Counter, n).ok()));
    });
}

/// Adds one to a counter (handed to the host by the next [`flush`]).
pub(crate) fn inc(c: Counter) {
    PENDING.with(|p| {
        if let Some(n) = p.get(c as usize) {
            n.set(n.get().saturating_add(1));
        }
    });
}

/// Adds one to a counter and hands every pending count to the host: for what the filter logs
/// (see the module docs), so that it is counted by the time it is logged.
pub(crate) fn inc_now(c: Counter) {
    inc(c);
    flush();
}

/// Hands every pending count of this module to the host (the per-policy counts are the
/// engine's: `PolicyCounters::flush`). A host error loses that count, never the request.
pub(crate) fn flush() {
    IDS.with(|ids| {
        PENDING.with(|p| {
            for (i, n) in p.iter().enumerate() {
                let add = n.replace(0);
                if add == 0 {
                    continue;
                }
                if let Some(Some(id)) = ids.get().and_then(|a| a.get(i)) {
                    let _ = hostcalls::increment_metric(*id, i64::try_from(add).unwrap_or(i64::MAX));
                }
            }
        });
    });
}

thread_local! {
    static MEMORY_GAUGE: OnceCell<Option<u32>> = const { OnceCell::new() };
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

//! A loaded bundle as the filter holds it: shared by the root context and the streams that
//! began under it.

use crate::Engine;

use super::metrics;
use super::policy_metrics::PolicyCounters;

/// A loaded bundle: the engine, and its per-policy counters (indexed by its Metas' ids).
pub(crate) struct Loaded {
    pub(crate) engine: Engine,
    pub(crate) counters: PolicyCounters,
}

impl Loaded {
    /// Hands every pending count to the host: the VM's counters and this engine's.
    pub(crate) fn flush(&self) {
        metrics::flush();
        self.counters.flush();
    }
}

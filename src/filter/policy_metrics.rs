//! Per-policy counters: for each deciding resource, how many requests it allowed and denied
//! (and what dry-run policies would have done) — what `linkerd viz authz` shows per
//! authorization, read from Envoy's stats.
//!
//! Names carry their labels the way Istio's own metrics do (`tag=.=value;.;`), so Envoy's stats
//! tag extraction (bootstrap `stats_config.stats_tags`, or Istio's `extraStatTags`) turns them
//! into Prometheus labels:
//!
//! ```text
//! dialect=.=istio;.;policy_kind=.=AuthorizationPolicy;.;policy_namespace=.=shop;.;policy_name=.=allow-web;.;spiffe_authz_policy_allowed
//!   → /stats/prometheus: spiffe_authz_policy_allowed{dialect="istio",policy_kind="AuthorizationPolicy",policy_namespace="shop",policy_name="allow-web"} 12
//! ```
//!
//! | counter | counts, per deciding resource |
//! |---|---|
//! | `spiffe_authz_policy_allowed` | requests it allowed (enforced) |
//! | `spiffe_authz_policy_denied` | requests it denied (403/404, enforced) |
//! | `spiffe_authz_policy_dry_run_allowed` | dry-run verdicts (whole-bundle dry-run, `istio.io/dry-run`, audit) that allow |
//! | `spiffe_authz_policy_dry_run_denied` | dry-run verdicts that deny (the request was forwarded) |
//!
//! A verdict no rule decided (Istio "no ALLOW policy matched", Linkerd's default policy, the
//! bundle's `defaultAction`) has a default's [`Meta`](crate::Meta) and counts under
//! `policy_kind="default"`, `policy_name` = the effect. Every Meta has a compile-time id, so a
//! decision finds its counter by indexing a table kept beside its engine: no name is formatted
//! or hashed per request. A counter is defined the first time its policy decides (per engine;
//! `define_metric` is idempotent in Envoy, and the ids are also remembered by name across
//! engines), so a bundle's size costs nothing until its policies are used. Counts reach Envoy
//! when [`PolicyCounters::flush`] runs (see `metrics.rs`) or when the engine is dropped.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write;

use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;

use crate::{Decision, Effect, Verdict};

/// The four outcomes counted per policy.
#[derive(Clone, Copy)]
enum Outcome {
    Allowed = 0,
    Denied = 1,
    DryRunAllowed = 2,
    DryRunDenied = 3,
}

impl Outcome {
    fn metric(self) -> &'static str {
        match self {
            Outcome::Allowed => "spiffe_authz_policy_allowed",
            Outcome::Denied => "spiffe_authz_policy_denied",
            Outcome::DryRunAllowed => "spiffe_authz_policy_dry_run_allowed",
            Outcome::DryRunDenied => "spiffe_authz_policy_dry_run_denied",
        }
    }
}

/// One counter of one policy: its metric id once defined, and the count not yet handed to the
/// host.
#[derive(Clone, Copy, Default)]
struct Slot {
    id: Option<u32>,
    pending: u64,
}

/// The per-policy counters of one engine, indexed by [`Meta`](crate::Meta) id.
pub(crate) struct PolicyCounters {
    slots: RefCell<Vec<[Slot; 4]>>,
}

thread_local! {
    /// Metric ids by full name, per VM (a VM is single-threaded): a new engine of the same
    /// policies defines nothing again.
    static IDS: RefCell<HashMap<String, u32>> = RefCell::new(HashMap::new());
}

impl PolicyCounters {
    /// Counters for an engine of `metas` Metas.
    pub(crate) fn new(metas: usize) -> PolicyCounters {
        PolicyCounters {
            slots: RefCell::new(vec![[Slot::default(); 4]; metas]),
        }
    }

    /// Counts one decision: the enforced verdict under allowed/denied (or, in a dry-run
    /// bundle, under dry_run_*), and every dry-run verdict besides.
    pub(crate) fn count(&self, d: &Decision<'_>) {
        let allow = d.verdict.effect == Effect::Allow;
        let outcome = match (d.enforced, allow) {
            (true, true) => Outcome::Allowed,
            (true, false) => Outcome::Denied,
            (false, true) => Outcome::DryRunAllowed,
            (false, false) => Outcome::DryRunDenied,
        };
        self.add(outcome, &d.verdict);
        for v in &d.dry_run {
            let o = if v.effect == Effect::Allow {
                Outcome::DryRunAllowed
            } else {
                Outcome::DryRunDenied
            };
            self.add(o, v);
        }
    }

    fn add(&self, outcome: Outcome, v: &Verdict<'_>) {
        let Ok(mut slots) = self.slots.try_borrow_mut() else {
            return;
        };
        let Some(slot) = slots.get_mut(v.meta.id()).and_then(|s| s.get_mut(outcome as usize)) else {
            return;
        };
        if slot.id.is_none() {
            slot.id = define(outcome, v);
        }
        slot.pending = slot.pending.saturating_add(1);
    }

    /// Hands every pending count to the host.
    pub(crate) fn flush(&self) {
        let Ok(mut slots) = self.slots.try_borrow_mut() else {
            return;
        };
        for slot in slots.iter_mut().flatten() {
            let add = std::mem::take(&mut slot.pending);
            if let (Some(id), true) = (slot.id, add > 0) {
                let _ = hostcalls::increment_metric(id, i64::try_from(add).unwrap_or(i64::MAX));
            }
        }
    }
}

/// An engine replaced by a new bundle goes when its last stream ends: what it counted since the
/// last flush goes to the host then.
impl Drop for PolicyCounters {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Defines the counter of `outcome` for the verdict's policy (on its first decision).
fn define(outcome: Outcome, v: &Verdict<'_>) -> Option<u32> {
    let m = v.meta;
    let mut name = String::with_capacity(160);
    // Writing to a String cannot fail.
    let _ = write!(
        name,
        "dialect=.={};.;policy_kind=.={};.;policy_namespace=.={};.;policy_name=.={};.;{}",
        m.dialect.map_or("bundle", |d| d.name()),
        m.kind,
        m.namespace,
        m.name,
        outcome.metric()
    );
    IDS.with(|ids| {
        let mut ids = ids.try_borrow_mut().ok()?;
        if let Some(id) = ids.get(&name) {
            return Some(*id);
        }
        // Envoy's defineMetric fails only for an unknown metric type (never for a counter), so
        // the SDK's panic on a non-Ok status cannot happen here.
        let id = hostcalls::define_metric(MetricType::Counter, &name).ok()?;
        ids.insert(name, id);
        Some(id)
    })
}

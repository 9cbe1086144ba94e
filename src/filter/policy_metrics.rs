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
//! bundle's `defaultAction`) counts under `policy_kind="default"`, `policy_name` = the effect.
//! Counters are defined the first time a policy decides (per VM; `define_metric` is cheap and
//! idempotent in Envoy), so a bundle's size costs nothing until its policies are used. Counts
//! reach Envoy when [`flush`] runs (see [`super::metrics`]): a request makes no host call here.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt::Write;

use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;

use crate::{Decision, Verdict};

/// The four outcomes counted per policy.
#[derive(Clone, Copy)]
enum Outcome {
    Allowed,
    Denied,
    DryRunAllowed,
    DryRunDenied,
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

thread_local! {
    /// Metric ids by full name, per VM (a VM is single-threaded).
    static IDS: RefCell<HashMap<String, u32>> = RefCell::new(HashMap::new());
    /// The name being looked up, reused: counting allocates nothing once a counter exists.
    static NAME: RefCell<String> = const { RefCell::new(String::new()) };
    /// Counter ids by (outcome, address of the deciding resource's Meta; 0 for defaults), so a
    /// request finds its counter without formatting and hashing a ~130-byte name. The labels are
    /// kept and compared: an address that a later bundle reuses cannot count under a stale name.
    static RECENT: RefCell<HashMap<(u8, usize), Known>> = RefCell::new(HashMap::new());
}

/// A counter seen before: its labels (dialect, kind, namespace, name), its id, and the count
/// not yet handed to the host.
struct Known {
    labels: [String; 4],
    id: u32,
    pending: Cell<u64>,
}

impl Known {
    fn add(&self) {
        self.pending.set(self.pending.get().saturating_add(1));
    }
}

/// Counts one decision: the enforced verdict under allowed/denied (or, in a dry-run bundle,
/// under dry_run_*), and every dry-run verdict besides.
pub(crate) fn count(d: &Decision<'_>) {
    let allow = d.verdict.effect == crate::Effect::Allow;
    let outcome = match (d.enforced, allow) {
        (true, true) => Outcome::Allowed,
        (true, false) => Outcome::Denied,
        (false, true) => Outcome::DryRunAllowed,
        (false, false) => Outcome::DryRunDenied,
    };
    inc(outcome, &d.verdict);
    for v in &d.dry_run {
        let o = if v.effect == crate::Effect::Allow {
            Outcome::DryRunAllowed
        } else {
            Outcome::DryRunDenied
        };
        inc(o, v);
    }
}

fn inc(outcome: Outcome, v: &Verdict<'_>) {
    let dialect = v.dialect.map_or("bundle", |d| d.name());
    let (labels, at) = match v.by {
        Some(by) => (
            [dialect, &by.meta.kind, &by.meta.namespace, &by.meta.name],
            std::ptr::from_ref(by.meta) as usize,
        ),
        None => ([dialect, "default", "-", v.effect.name()], 0),
    };
    let key = (outcome as u8, at);
    let counted = RECENT.with(|r| {
        let Ok(r) = r.try_borrow() else { return false };
        match r.get(&key) {
            Some(k) if k.labels.iter().zip(labels).all(|(a, b)| a == b) => {
                k.add();
                true
            }
            _ => false,
        }
    });
    if counted {
        return;
    }
    NAME.with(|name| {
        let Ok(mut name) = name.try_borrow_mut() else { return };
        name.clear();
        // Writing to a String cannot fail.
        let _ = match v.by {
            Some(by) => write!(
                name,
                "dialect=.={dialect};.;policy_kind=.={};.;policy_namespace=.={};.;policy_name=.={};.;{}",
                by.meta.kind,
                by.meta.namespace,
                by.meta.name,
                outcome.metric()
            ),
            None => write!(
                name,
                "dialect=.={dialect};.;policy_kind=.=default;.;policy_namespace=.=-;.;policy_name=.={};.;{}",
                v.effect.name(),
                outcome.metric()
            ),
        };
        let Some(id) = counter(&name) else { return };
        RECENT.with(|r| {
            if let Ok(mut r) = r.try_borrow_mut() {
                let k = Known {
                    labels: labels.map(String::from),
                    id,
                    pending: Cell::new(1),
                };
                // An address a later bundle reused: the old counter keeps what it counted.
                if let Some(old) = r.insert(key, k) {
                    let add = old.pending.replace(0);
                    if add > 0 {
                        let _ = hostcalls::increment_metric(old.id, i64::try_from(add).unwrap_or(i64::MAX));
                    }
                }
            }
        });
    });
}

/// Hands every pending per-policy count to the host.
pub(crate) fn flush() {
    RECENT.with(|r| {
        let Ok(r) = r.try_borrow() else { return };
        for k in r.values() {
            let add = k.pending.replace(0);
            if add > 0 {
                let _ = hostcalls::increment_metric(k.id, i64::try_from(add).unwrap_or(i64::MAX));
            }
        }
    });
}

/// The id of the counter `name`, defined on first use.
fn counter(name: &str) -> Option<u32> {
    IDS.with(|ids| {
        let mut ids = ids.try_borrow_mut().ok()?;
        if let Some(id) = ids.get(name) {
            return Some(*id);
        }
        // Envoy's defineMetric fails only for an unknown metric type (never for a counter), so
        // the SDK's panic on a non-Ok status cannot happen here.
        let id = hostcalls::define_metric(MetricType::Counter, name).ok()?;
        ids.insert(name.to_string(), id);
        Some(id)
    })
}

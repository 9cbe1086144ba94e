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
//! idempotent in Envoy), so a bundle's size costs nothing until its policies are used.

use std::cell::RefCell;
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
        increment(&name);
    });
}

/// Adds one to the counter `name`, defining it on first use.
fn increment(name: &str) {
    IDS.with(|ids| {
        let Ok(mut ids) = ids.try_borrow_mut() else { return };
        let id = match ids.get(name) {
            Some(id) => *id,
            None => {
                // Envoy's defineMetric fails only for an unknown metric type (never for a
                // counter), so the SDK's panic on a non-Ok status cannot happen here.
                let Ok(id) = hostcalls::define_metric(MetricType::Counter, name) else {
                    return;
                };
                ids.insert(name.to_string(), id);
                id
            }
        };
        let _ = hostcalls::increment_metric(id, 1);
    });
}

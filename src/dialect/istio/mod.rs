//! Istio `AuthorizationPolicy`, decided as Istio decides it.
//!
//! From istio.io "Authorization Policy" (evaluation order):
//! > 1. If there are any CUSTOM policies that match the request, evaluate and deny the request
//! >    if the evaluation result is deny.
//! > 2. If there are any DENY policies that match the request, deny the request.
//! > 3. If there are no ALLOW policies for the workload, allow the request.
//! > 4. If any of the ALLOW policies match the request, allow the request.
//! > 5. Deny the request.
//!
//! CUSTOM needs an external authorizer, which this in-process filter does not call: such a
//! bundle is refused. AUDIT policies never change the decision. Policies annotated
//! `istio.io/dry-run: "true"` are evaluated in the same order among themselves, reported and
//! counted, never enforced. Note Istio's surprise: `spec: {}` is an ALLOW policy with no rules,
//! so it allows nothing (deny-all); `rules: [{}]` has one empty rule, which matches everything.

mod condition;
mod error;
mod identity;
mod lint;
mod lower;
mod validate;
mod values;
mod wire;

use self::error::LowerError;
use self::identity::TrustBundle;
use self::wire::{Action, Spec};
use super::Ctx;
use crate::decision::{Effect, Verdict};
use crate::error::{BundleError, Warning};
use crate::eval::{note, Defaults, Judge, Layer};
use crate::model::{Dialect, Meta, Pred, RuleIndex};
use crate::request::{ReadPlan, Request};
use crate::resource::Resource;

struct Rule {
    policy: u32,
    index: u32,
    pred: Pred,
}

/// Rules of one action, indexed.
#[derive(Default)]
struct RuleSet {
    rules: Vec<Rule>,
    index: RuleIndex,
    /// Policies of this action that apply, in bundle order (an ALLOW policy with no rules
    /// still counts).
    policies: Vec<u32>,
}

impl RuleSet {
    fn seal(&mut self) {
        self.index = RuleIndex::build(self.rules.iter().map(|r| &r.pred));
    }

    /// The first matching rule in bundle order.
    fn first_match(&self, req: &Request) -> Option<&Rule> {
        let id = self
            .index
            .first_match(req, |i| self.rules.get(i as usize).is_some_and(|r| r.pred.matches(req)))?;
        self.rules.get(id as usize)
    }
}

/// The Istio layer: every AuthorizationPolicy that applies to the workload.
pub(crate) struct IstioLayer {
    metas: Vec<Meta>,
    defaults: Defaults,
    deny: RuleSet,
    allow: RuleSet,
    audit: RuleSet,
    dry_deny: RuleSet,
    dry_allow: RuleSet,
}

/// Compiles the bundle's AuthorizationPolicies for the workload.
pub(crate) fn compile(
    rs: Vec<Resource<'_>>,
    ctx: &Ctx<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<Box<dyn Layer>, BundleError> {
    let mut layer = IstioLayer {
        metas: Vec::new(),
        defaults: ctx.defaults(Dialect::Istio),
        deny: RuleSet::default(),
        allow: RuleSet::default(),
        audit: RuleSet::default(),
        dry_deny: RuleSet::default(),
        dry_allow: RuleSet::default(),
    };
    let mut applied = 0;
    let domains = std::iter::once(ctx.workload.trust_domain())
        .chain(ctx.settings.trust_domain_aliases.iter().map(String::as_str));
    for r in &rs {
        let spec: Spec<'_> = r.spec()?;
        let Spec {
            selector,
            target_ref,
            target_refs,
            rules,
            action,
            provider,
        } = spec;
        let action = action.unwrap_or_default();
        let refuse = |e: LowerError| r.error(e.at, e.why.to_string());
        let at_spec = |e: LowerError| e.under("spec");
        let target_refs = target_refs.unwrap_or_default();
        let has_rules = rules.as_ref().is_some_and(|r| !r.is_empty());
        validate::spec(
            action,
            provider.as_ref(),
            selector.as_ref(),
            target_ref.as_ref(),
            &target_refs,
            has_rules,
        )
        .map_err(|e| refuse(at_spec(e)))?;
        let dry_run = validate::dry_run(&r.meta.annotations, action).map_err(refuse)?;
        let cx = lower::Cx {
            policy_ns: &r.namespace,
            bundle: TrustBundle {
                domains: domains.clone().collect(),
            },
            action,
        };
        // Lower every policy, applicable or not, so that a broken policy is refused whatever
        // workload the bundle is loaded for.
        let mut preds = Vec::new();
        for (i, rule) in rules.into_iter().flatten().enumerate() {
            let mut linted = Vec::new();
            lint::rule(&rule, action, &mut linted);
            let mut notes = Vec::new();
            let p = lower::rule(rule, &cx, &mut notes).map_err(|e| refuse(at_spec(e.under(&format!("rules[{i}]")))))?;
            notes.append(&mut linted);
            if matches!(p, Pred::Never) {
                notes.push((String::new(), "can never match".into()));
            }
            for (f, m) in notes {
                let field = if f.is_empty() {
                    format!("spec.rules[{i}]")
                } else {
                    format!("spec.rules[{i}].{f}")
                };
                warnings.push(r.warning(field, m));
            }
            preds.push(p);
        }
        if !applies(
            r,
            selector.as_ref(),
            target_ref.is_some() || !target_refs.is_empty(),
            ctx,
            warnings,
        ) {
            continue;
        }
        applied += 1;
        let policy = layer.metas.len() as u32;
        layer.metas.push(ctx.meta(r, Dialect::Istio));
        let set = match (action, dry_run) {
            (Action::Deny, false) => &mut layer.deny,
            (Action::Deny, true) => &mut layer.dry_deny,
            (Action::Allow, false) => &mut layer.allow,
            (Action::Allow, true) => &mut layer.dry_allow,
            _ => &mut layer.audit,
        };
        set.policies.push(policy);
        for (i, pred) in preds.into_iter().enumerate() {
            set.rules.push(Rule {
                policy,
                index: i as u32,
                // Repeating a header, or hiding the peer behind X-Forwarded-For, must neither dodge
                // a DENY nor stretch an ALLOW.
                pred: pred.guard(action == Action::Allow),
            });
        }
    }
    if applied == 0 {
        warnings.push(Warning {
            at: String::new(),
            field: "resources".into(),
            message: format!(
                "no AuthorizationPolicy applies to workload {}/{}: Istio allows every request",
                ctx.workload.namespace(),
                ctx.workload.service_account.as_deref().unwrap_or("?")
            ),
        });
    }
    for set in [
        &mut layer.deny,
        &mut layer.allow,
        &mut layer.audit,
        &mut layer.dry_deny,
        &mut layer.dry_allow,
    ] {
        set.seal();
    }
    Ok(Box::new(layer))
}

/// Istio's selection: the policy's namespace is the workload's (or the root namespace, for
/// mesh-wide policies) and its `selector.matchLabels` are all on the workload.
fn applies(
    r: &Resource<'_>,
    selector: Option<&wire::Selector>,
    targets: bool,
    ctx: &Ctx<'_>,
    warnings: &mut Vec<Warning>,
) -> bool {
    if targets {
        warnings.push(r.warning(
            "spec.targetRefs",
            "targets a gateway or waypoint, not a sidecar workload: not applied here",
        ));
        return false;
    }
    let ns_ok = r.namespace == ctx.workload.namespace() || r.namespace == ctx.settings.root_namespace;
    let labels_ok = selector.is_none_or(|s| {
        s.match_labels
            .iter()
            .all(|(k, v)| ctx.workload.label(k) == Some(v.as_str()))
    });
    if !(ns_ok && labels_ok) {
        warnings.push(r.warning("", "does not select this workload"));
    }
    ns_ok && labels_ok
}

/// Istio's order, as istio.io writes it (CUSTOM refused at load).
const ORDER: &str =
    "order: a matching DENY denies; else, with no ALLOW policy, allow; else a matching ALLOW allows; else deny";

impl IstioLayer {
    /// The verdict of `rule`, naming its policy and index.
    fn rule_verdict<'e>(&'e self, j: &Judge<'e, '_>, effect: Effect, rule: &Rule, reason: &'e str) -> Verdict<'e> {
        match self.metas.get(rule.policy as usize) {
            Some(meta) => j.verdict(effect, meta, Some(rule.index as usize), reason),
            None => j.verdict(effect, self.defaults.of(effect), None, reason),
        }
    }

    /// Istio's order over one pair of DENY and ALLOW sets (the enforced ones, or the dry-run
    /// ones): the effect, the deciding rule if a rule decided, and why.
    fn order<'e>(
        &'e self,
        j: &mut Judge<'e, '_>,
        deny: &'e RuleSet,
        allow: &'e RuleSet,
        dry: bool,
    ) -> (Effect, Option<&'e Rule>, &'static str) {
        let req = j.req();
        // For `explain`, every policy of both actions, whichever decides.
        self.trace(j, deny, "DENY", dry);
        self.trace(j, allow, "ALLOW", dry);
        if let Some(r) = deny.first_match(req) {
            return (Effect::Deny, Some(r), "a DENY policy matched");
        }
        if allow.policies.is_empty() {
            return (Effect::Allow, None, "no ALLOW policy applies to the workload");
        }
        match allow.first_match(req) {
            Some(r) => (Effect::Allow, Some(r), "an ALLOW policy matched"),
            None => (Effect::Deny, None, "no ALLOW policy matched"),
        }
    }

    /// For `explain`: every policy of `set`, each rule with whether it matches and, if not, the
    /// first test that fails. (The verdict comes from the index; this lists what it covers.)
    fn trace(&self, j: &mut Judge<'_, '_>, set: &RuleSet, action: &str, dry: bool) {
        if !j.tracing() {
            return;
        }
        let dry = if dry { " (dry-run: istio.io/dry-run)" } else { "" };
        for &p in &set.policies {
            let meta = self.metas.get(p as usize).map(|m| m.to_string()).unwrap_or_default();
            note!(j, "{meta}: {action}{dry}");
            let mut rules = set.rules.iter().filter(|r| r.policy == p).peekable();
            if rules.peek().is_none() {
                let what = if action == "ALLOW" {
                    "allows nothing (`spec: {}` denies every request unless another ALLOW matches)"
                } else {
                    "matches nothing"
                };
                note!(j, "  no rules: {what}");
            }
            for r in rules {
                match r.pred.why_not(j.req()) {
                    None => note!(j, "  rule {}: MATCHES", r.index),
                    Some(why) => note!(j, "  rule {}: no match: {why}", r.index),
                }
            }
        }
    }
}

impl Layer for IstioLayer {
    fn dialect(&self) -> Dialect {
        Dialect::Istio
    }

    fn decide<'e>(&'e self, j: &mut Judge<'e, '_>) -> Verdict<'e> {
        if self.metas.is_empty() {
            note!(j, "no AuthorizationPolicy applies to this workload");
        }
        let (effect, rule, reason) = self.order(j, &self.deny, &self.allow, false);
        let verdict = match rule {
            Some(r) => self.rule_verdict(j, effect, r, reason),
            None => j.verdict(effect, self.defaults.of(effect), None, reason),
        };
        note!(j, "{ORDER}");
        // Reported, never enforced: AUDIT policies, then the dry-run policies in the same order.
        self.trace(j, &self.audit, "AUDIT", false);
        if let Some(r) = self.audit.first_match(j.req()) {
            let meta = self
                .metas
                .get(r.policy as usize)
                .unwrap_or(self.defaults.of(Effect::Allow));
            j.dry_run(
                Effect::Allow,
                meta,
                Some(r.index as usize),
                format_args!("an AUDIT policy matched (logged only)"),
            );
        }
        if !(self.dry_deny.policies.is_empty() && self.dry_allow.policies.is_empty()) {
            let (effect, rule, reason) = self.order(j, &self.dry_deny, &self.dry_allow, true);
            let (meta, index) = match rule.and_then(|r| Some((self.metas.get(r.policy as usize)?, r.index))) {
                Some((meta, i)) => (meta, Some(i as usize)),
                None => (self.defaults.of(effect), None),
            };
            j.dry_run(effect, meta, index, format_args!("dry-run: {reason}"));
        }
        verdict
    }

    /// Only what the rules test: Istio decides by its rules alone.
    fn plan(&self, plan: &mut ReadPlan) {
        for set in [&self.deny, &self.allow, &self.audit, &self.dry_deny, &self.dry_allow] {
            set.rules.iter().for_each(|r| r.pred.plan(plan));
        }
    }
}

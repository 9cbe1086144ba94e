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

mod lint;
mod lower;
mod wire;

use self::wire::{Action, Spec};
use super::{Ctx, Effects, Layer, Resource};
use crate::decision::{Effect, RuleRef, Verdict};
use crate::error::{BundleError, Warning};
use crate::model::{Dialect, Meta, Pred, RuleIndex};
use crate::request::Request;

const DRY_RUN: &str = "istio.io/dry-run";

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
    /// Policies of this action that apply (an ALLOW policy with no rules still counts).
    policies: usize,
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
    actions: Vec<(Action, bool)>,
    deny: RuleSet,
    allow: RuleSet,
    audit: RuleSet,
    dry_deny: RuleSet,
    dry_allow: RuleSet,
    headers: Vec<String>,
}

/// Compiles the bundle's AuthorizationPolicies for the workload.
pub(crate) fn compile(
    rs: Vec<Resource<'_>>,
    ctx: &Ctx<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<Box<dyn Layer>, BundleError> {
    let mut layer = IstioLayer {
        metas: Vec::new(),
        actions: Vec::new(),
        deny: RuleSet::default(),
        allow: RuleSet::default(),
        audit: RuleSet::default(),
        dry_deny: RuleSet::default(),
        dry_allow: RuleSet::default(),
        headers: Vec::new(),
    };
    let mut applied = 0;
    for r in &rs {
        let mut spec: Spec<'_> = r.spec()?;
        let action = spec.action.unwrap_or_default();
        if action == Action::Custom {
            return Err(r.error(
                "spec.action",
                "CUSTOM delegates to an external authorizer; spiffe-authz decides in-process and makes no network call",
            ));
        }
        if spec.provider.is_some() {
            return Err(r.error("spec.provider", "is only valid with action CUSTOM"));
        }
        let dry_run = match r.meta.annotations.get(DRY_RUN).map(String::as_str) {
            None | Some("false") => false,
            Some("true") => true,
            Some(v) => {
                return Err(r.error(
                    format!("metadata.annotations[{DRY_RUN}]"),
                    format!("{v:?} must be \"true\" or \"false\""),
                ))
            }
        };
        if dry_run && action == Action::Audit {
            return Err(r.error(
                format!("metadata.annotations[{DRY_RUN}]"),
                "dry-run applies to ALLOW and DENY policies only",
            ));
        }
        // Lower every policy, applicable or not, so that a broken policy is refused whatever
        // workload the bundle is loaded for.
        let mut preds = Vec::new();
        for (i, rule) in spec.rules.take().into_iter().flatten().enumerate() {
            let mut linted = Vec::new();
            lint::rule(&rule, action, &mut linted);
            let mut notes = Vec::new();
            let p = lower::rule(rule, &r.namespace, ctx, &mut notes)
                .map_err(|(f, m)| r.error(format!("spec.rules[{i}].{f}"), m))?;
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
        if !applies(r, &spec, ctx, warnings) {
            continue;
        }
        applied += 1;
        let policy = layer.metas.len() as u32;
        layer.metas.push(r.model_meta(Dialect::Istio));
        layer.actions.push((action, dry_run));
        let set = match (action, dry_run) {
            (Action::Deny, false) => &mut layer.deny,
            (Action::Deny, true) => &mut layer.dry_deny,
            (Action::Allow, false) => &mut layer.allow,
            (Action::Allow, true) => &mut layer.dry_allow,
            _ => &mut layer.audit,
        };
        set.policies += 1;
        for (i, pred) in preds.into_iter().enumerate() {
            let mut hs = std::collections::HashMap::new();
            pred.headers_read(&mut hs);
            layer.headers.extend(hs.into_keys().map(String::from));
            set.rules.push(Rule {
                policy,
                index: i as u32,
                // Repeating a header must neither dodge a DENY nor stretch an ALLOW.
                pred: pred.guard_repeated_headers(action == Action::Allow),
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
    layer.headers.sort();
    layer.headers.dedup();
    Ok(Box::new(layer))
}

/// Istio's selection: the policy's namespace is the workload's (or the root namespace, for
/// mesh-wide policies) and its `selector.matchLabels` are all on the workload.
fn applies(r: &Resource<'_>, spec: &Spec<'_>, ctx: &Ctx<'_>, warnings: &mut Vec<Warning>) -> bool {
    if spec.target_ref.is_some() || spec.target_refs.as_ref().is_some_and(|t| !t.is_empty()) {
        warnings.push(r.warning(
            "spec.targetRefs",
            "targets a gateway or waypoint, not a sidecar workload: not applied here",
        ));
        return false;
    }
    let ns_ok = r.namespace == ctx.workload.namespace() || r.namespace == ctx.settings.root_namespace;
    let labels_ok = spec.selector.as_ref().is_none_or(|s| {
        s.match_labels
            .iter()
            .all(|(k, v)| ctx.workload.label(k) == Some(v.as_str()))
    });
    if !(ns_ok && labels_ok) {
        warnings.push(r.warning("", "does not select this workload"));
    }
    ns_ok && labels_ok
}

impl IstioLayer {
    fn by(&self, rule: &Rule) -> Option<RuleRef<'_>> {
        self.metas.get(rule.policy as usize).map(|meta| RuleRef {
            meta,
            rule: Some(rule.index as usize),
        })
    }

    /// The enforced (or dry-run) decision over one pair of DENY and ALLOW sets.
    fn order<'e>(&'e self, deny: &'e RuleSet, allow: &'e RuleSet, req: &Request) -> Verdict<'e> {
        if let Some(r) = deny.first_match(req) {
            return Verdict::new(Dialect::Istio, Effect::Deny, self.by(r), "a DENY policy matched");
        }
        if allow.policies == 0 {
            return Verdict::new(
                Dialect::Istio,
                Effect::Allow,
                None,
                "no ALLOW policy applies to the workload",
            );
        }
        if let Some(r) = allow.first_match(req) {
            return Verdict::new(Dialect::Istio, Effect::Allow, self.by(r), "an ALLOW policy matched");
        }
        Verdict::new(Dialect::Istio, Effect::Deny, None, "no ALLOW policy matched")
    }
}

impl Layer for IstioLayer {
    fn dialect(&self) -> Dialect {
        Dialect::Istio
    }

    fn decide<'e>(&'e self, req: &Request, fx: &mut Effects<'e>) -> Verdict<'e> {
        if let Some(r) = self.audit.first_match(req) {
            fx.dry_run.push(Verdict::new(
                Dialect::Istio,
                Effect::Allow,
                self.by(r),
                "an AUDIT policy matched (logged only)",
            ));
        }
        if self.dry_deny.policies + self.dry_allow.policies > 0 {
            let mut v = self.order(&self.dry_deny, &self.dry_allow, req);
            v.reason = format!("dry-run: {}", v.reason).into();
            fx.dry_run.push(v);
        }
        self.order(&self.deny, &self.allow, req)
    }

    /// Every applicable policy in Istio's evaluation order (DENY, ALLOW, AUDIT; dry-run ones
    /// alongside, marked), each rule with whether it matches and, if not, the first test that
    /// fails.
    fn explain(&self, req: &Request) -> Vec<String> {
        let mut out = Vec::new();
        let order = [Action::Deny, Action::Allow, Action::Audit];
        for action in order {
            for (p, (meta, &(a, dry))) in self.metas.iter().zip(&self.actions).enumerate() {
                if a != action {
                    continue;
                }
                let dry = if dry { " (dry-run: istio.io/dry-run)" } else { "" };
                out.push(format!("{meta}: {}{dry}", format!("{a:?}").to_uppercase()));
                let rules: Vec<&Rule> = [&self.deny, &self.dry_deny, &self.allow, &self.dry_allow, &self.audit]
                    .into_iter()
                    .flat_map(|s| &s.rules)
                    .filter(|r| r.policy as usize == p)
                    .collect();
                if rules.is_empty() {
                    out.push(format!(
                        "  no rules: {}",
                        if a == Action::Allow {
                            "allows nothing (`spec: {}` denies every request unless another ALLOW matches)"
                        } else {
                            "matches nothing"
                        }
                    ));
                }
                for r in rules {
                    out.push(match r.pred.why_not(req) {
                        None => format!("  rule {}: MATCHES", r.index),
                        Some(why) => format!("  rule {}: no match: {why}", r.index),
                    });
                }
            }
        }
        if self.metas.is_empty() {
            out.push("no AuthorizationPolicy applies to this workload".into());
        }
        out.push(
            "order: a matching DENY denies; else, with no ALLOW policy, allow; else a matching ALLOW allows; \
             else deny"
                .into(),
        );
        out
    }

    fn headers_read(&self) -> Vec<String> {
        self.headers.clone()
    }

    /// Only what the rules test: Istio decides by its rules alone.
    fn reads(&self) -> crate::request::Reads {
        let mut out = crate::request::Reads::NONE;
        for set in [&self.deny, &self.allow, &self.audit, &self.dry_deny, &self.dry_allow] {
            set.rules.iter().for_each(|r| r.pred.reads(&mut out));
        }
        out
    }
}

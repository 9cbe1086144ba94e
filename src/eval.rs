//! How layers combine, written once; and the one way a layer decides.
//!
//! 1. A bundle with no resources decides by `settings.defaultAction` (default deny).
//! 2. Otherwise every dialect present is a layer, asked in the order Istio, Drako, Linkerd,
//!    Dapr. The first layer that does not allow decides, and the layers after it are not asked:
//!    like a later filter in Envoy's chain, they never see a request an earlier one refused, so
//!    their dry-run and audit verdicts are not reported for it. If every layer allows, the
//!    request is allowed (the verdict reported is the last layer's) with every layer's headers.
//! 3. In `settings.mode: dry-run` the decision is computed and reported but not enforced.
//!
//! A layer decides in one function, [`Layer::decide`], through a [`Judge`]. Deciding a request
//! formats nothing; `explain` runs the same function with a [`Trace`] that notes each step, and
//! a verdict's [`Reason`] is written, when something reads it, by running the decision again
//! traced. So what `explain` and the reasons say is what the filter enforced.

use std::borrow::Cow;
use std::fmt;

use crate::bundle::{DefaultAction, Mode};
use crate::decision::{Decision, Effect, Explanation, Few, LayerExplanation, Reason, Retell, Verdict};
use crate::model::{Dialect, Meta, MetaIds, DEFAULT_KIND};
use crate::request::{ReadPlan, Request};

/// One dialect's compiled policy for the workload, deciding with its owner's rules.
pub(crate) trait Layer: Retell {
    /// Which dialect.
    fn dialect(&self) -> Dialect;

    /// The layer's verdict for `j.req()`. Must not fail or panic: all fallible work happened at
    /// configure time. Notes each step with [`note!`] (kept only by `explain`).
    fn decide<'a>(&'a self, j: &mut Judge<'a, '_>) -> Verdict<'a>;

    /// Adds what the layer's decisions can look at to the filter's plan (headers, connection
    /// attributes), and the headers no client may send because the layer sets them.
    fn plan(&self, plan: &mut ReadPlan);
}

/// Every layer can say again why it decided: by deciding again, traced.
impl<L: Layer> Retell for L {
    fn retell(&self, req: &Request, slot: u8, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut fx = Effects::default();
        let mut trace = Trace { lines: None };
        let v = self.decide(&mut Judge::new(self, req, &mut fx, Some(&mut trace)));
        match slot {
            0 => write!(f, "{}", v.reason),
            i => match fx.dry_run.get(usize::from(i) - 1) {
                Some(d) => write!(f, "{}", d.reason),
                None => Ok(()),
            },
        }
    }
}

/// What a layer adds to the decision besides its verdict.
#[derive(Default)]
pub(crate) struct Effects<'a> {
    dry_run: Few<Verdict<'a>>,
    set_headers: Few<(&'static str, Cow<'a, str>)>,
}

/// The record of one traced decision, for `explain` (`lines`) or to write a reason again
/// (`lines: None`).
pub(crate) struct Trace {
    lines: Option<Vec<String>>,
}

/// Notes one step of a decision: formatted only when the decision is traced for `explain`.
macro_rules! note {
    ($j:expr, $($arg:tt)*) => {
        if $j.tracing() {
            $j.note(format_args!($($arg)*));
        }
    };
}
pub(crate) use note;

/// What a layer decides with: the request, where its verdicts, dry-run verdicts and headers go,
/// and the trace when there is one.
pub(crate) struct Judge<'a, 't> {
    layer: &'a dyn Retell,
    req: &'a Request,
    fx: &'t mut Effects<'a>,
    trace: Option<&'t mut Trace>,
    /// Dry-run verdicts other layers reported before this one.
    base: usize,
}

impl<'a, 't> Judge<'a, 't> {
    fn new(layer: &'a dyn Retell, req: &'a Request, fx: &'t mut Effects<'a>, trace: Option<&'t mut Trace>) -> Self {
        let base = fx.dry_run.len();
        Judge {
            layer,
            req,
            fx,
            trace,
            base,
        }
    }

    /// The request being decided.
    pub(crate) fn req(&self) -> &'a Request {
        self.req
    }

    /// Is this decision traced (`explain`, or a reason being written)? Only then is anything
    /// formatted.
    pub(crate) fn tracing(&self) -> bool {
        self.trace.is_some()
    }

    /// Adds an `explain` line (use [`note!`], which formats only when tracing).
    pub(crate) fn note(&mut self, line: fmt::Arguments<'_>) {
        if let Some(lines) = self.trace.as_mut().and_then(|t| t.lines.as_mut()) {
            lines.push(line.to_string());
        }
    }

    /// A verdict whose reason is fixed text (static, or held by the engine).
    pub(crate) fn verdict(&self, effect: Effect, meta: &'a Meta, rule: Option<usize>, reason: &'a str) -> Verdict<'a> {
        Verdict {
            effect,
            meta,
            rule,
            reason: Reason::text(reason),
        }
    }

    /// A verdict whose reason `why` writes from the request: formatted now only when tracing,
    /// else when read.
    pub(crate) fn verdict_why(
        &self,
        effect: Effect,
        meta: &'a Meta,
        rule: Option<usize>,
        why: fmt::Arguments<'_>,
    ) -> Verdict<'a> {
        Verdict {
            effect,
            meta,
            rule,
            reason: self.reason(why, 0),
        }
    }

    /// Reports a dry-run or audit verdict (logged and counted, never enforced); `why` as for
    /// [`Judge::verdict_why`].
    pub(crate) fn dry_run(&mut self, effect: Effect, meta: &'a Meta, rule: Option<usize>, why: fmt::Arguments<'_>) {
        let slot = self.fx.dry_run.len() - self.base + 1;
        let reason = self.reason(why, u8::try_from(slot).unwrap_or(u8::MAX));
        self.fx.dry_run.push(Verdict {
            effect,
            meta,
            rule,
            reason,
        });
    }

    /// A header to set on the forwarded request, if the request is allowed.
    pub(crate) fn set_header(&mut self, name: &'static str, value: Cow<'a, str>) {
        self.fx.set_headers.push((name, value));
    }

    fn reason(&self, why: fmt::Arguments<'_>, slot: u8) -> Reason<'a> {
        match self.trace {
            Some(_) => Reason::owned(why.to_string()),
            None => Reason::retold(self.layer, self.req, slot),
        }
    }
}

/// The verdicts no rule reached (one [`Meta`] each, so that counters and logs name them like
/// any resource): what a layer, or the bundle, decides by default.
pub(crate) struct Defaults {
    allow: Meta,
    deny: Meta,
    not_found: Meta,
}

impl Defaults {
    /// The defaults of `dialect` (`None`: the bundle's).
    pub(crate) fn new(ids: &MetaIds, dialect: Option<Dialect>) -> Defaults {
        let meta = |e: Effect| ids.meta(dialect, DEFAULT_KIND, "-", e.name());
        Defaults {
            allow: meta(Effect::Allow),
            deny: meta(Effect::Deny),
            not_found: meta(Effect::NotFound),
        }
    }

    /// The default deciding `effect`.
    pub(crate) fn of(&self, effect: Effect) -> &Meta {
        match effect {
            Effect::Allow => &self.allow,
            Effect::Deny => &self.deny,
            Effect::NotFound => &self.not_found,
        }
    }
}

/// The layers of a bundle and how they combine (see the module docs).
pub(crate) struct Layers {
    list: Vec<Box<dyn Layer>>,
    default_action: DefaultAction,
    defaults: Defaults,
    mode: Mode,
}

impl Layers {
    pub(crate) fn new(list: Vec<Box<dyn Layer>>, default_action: DefaultAction, mode: Mode, ids: &MetaIds) -> Layers {
        Layers {
            list,
            default_action,
            defaults: Defaults::new(ids, None),
            mode,
        }
    }

    /// The layers, in the order they are asked.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &dyn Layer> {
        self.list.iter().map(|l| &**l)
    }

    /// Decides one request.
    pub(crate) fn decide<'a>(&'a self, req: &'a Request) -> Decision<'a> {
        let enforced = self.mode == Mode::Enforce;
        let mut fx = Effects::default();
        let mut last = None;
        for layer in &self.list {
            let v = layer.decide(&mut Judge::new(layer.as_ref(), req, &mut fx, None));
            if v.effect != Effect::Allow {
                return Decision {
                    verdict: v,
                    dry_run: fx.dry_run,
                    set_headers: Few::default(),
                    enforced,
                };
            }
            last = Some(v);
        }
        Decision {
            verdict: last.unwrap_or_else(|| self.bundle_default()),
            dry_run: fx.dry_run,
            set_headers: fx.set_headers,
            enforced,
        }
    }

    /// The bundle has no resources: `settings.defaultAction`.
    fn bundle_default(&self) -> Verdict<'_> {
        let (effect, reason) = match self.default_action {
            DefaultAction::Allow => (
                Effect::Allow,
                "the bundle has no resources; settings.defaultAction is allow",
            ),
            DefaultAction::Deny => (
                Effect::Deny,
                "the bundle has no resources; settings.defaultAction is deny",
            ),
        };
        Verdict {
            effect,
            meta: self.defaults.of(effect),
            rule: None,
            reason: Reason::text(reason),
        }
    }

    /// The decision, and every layer's decision traced: each step it took, its verdict and what
    /// it reported. Layers after the one that refused are shown too, marked as not asked.
    pub(crate) fn explain<'a>(&'a self, req: &'a Request) -> Explanation<'a> {
        let decision = self.decide(req);
        let mut asked = true;
        let mut layers = Vec::new();
        for layer in &self.list {
            let mut fx = Effects::default();
            let mut trace = Trace {
                lines: Some(Vec::new()),
            };
            let verdict = layer.decide(&mut Judge::new(layer.as_ref(), req, &mut fx, Some(&mut trace)));
            let mut lines = trace.lines.unwrap_or_default();
            for d in fx.dry_run.iter() {
                lines.push(format!("reported ({}, not enforced): {}", d.effect.name(), d.reason));
            }
            lines.push(match verdict.by() {
                Some(by) => format!("verdict: {} ({by}: {})", verdict.effect.name(), verdict.reason),
                None => format!("verdict: {} ({})", verdict.effect.name(), verdict.reason),
            });
            if !asked {
                lines.push("not asked: an earlier layer refused the request".into());
            }
            let refused = verdict.effect != Effect::Allow;
            layers.push(LayerExplanation {
                dialect: layer.dialect(),
                lines,
                verdict,
                asked,
            });
            asked &= !refused;
        }
        Explanation { decision, layers }
    }
}

#[cfg(test)]
#[path = "eval_tests.rs"]
mod tests;

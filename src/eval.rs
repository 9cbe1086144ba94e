//! How layers combine, written once.
//!
//! 1. A bundle with no resources decides by `settings.defaultAction` (default deny).
//! 2. Otherwise every dialect present is a layer, asked in the order Istio, Drako, Linkerd,
//!    Dapr; the first layer that does not allow decides. If all allow, the request is allowed
//!    (the verdict reported is the last layer's).
//! 3. In `settings.mode: dry-run` the decision is computed and reported but not enforced.

use crate::bundle::{DefaultAction, Mode};
use crate::decision::{Decision, Effect, Verdict};
use crate::dialect::Effects;
use crate::engine::Engine;
use crate::request::Request;

pub(crate) fn evaluate<'e>(engine: &'e Engine, req: &Request) -> Decision<'e> {
    let enforced = engine.mode == Mode::Enforce;
    if engine.layers.is_empty() {
        let (effect, reason) = match engine.default_action {
            DefaultAction::Allow => (
                Effect::Allow,
                "the bundle has no resources; settings.defaultAction is allow",
            ),
            DefaultAction::Deny => (
                Effect::Deny,
                "the bundle has no resources; settings.defaultAction is deny",
            ),
        };
        let verdict = Verdict {
            dialect: None,
            effect,
            by: None,
            reason: reason.into(),
        };
        return Decision {
            verdict,
            layers: Vec::new(),
            dry_run: Vec::new(),
            set_headers: Vec::new(),
            enforced,
        };
    }
    let mut fx = Effects::default();
    let mut layers = Vec::with_capacity(engine.layers.len());
    let mut deciding = None;
    for layer in &engine.layers {
        let v = layer.decide(req, &mut fx);
        if deciding.is_none() && v.effect != Effect::Allow {
            deciding = Some(layers.len());
        }
        layers.push(v);
    }
    let at = deciding.unwrap_or(layers.len() - 1);
    let verdict = layers[at].clone();
    let set_headers = if verdict.effect == Effect::Allow {
        fx.set_headers
    } else {
        Vec::new()
    };
    Decision {
        verdict,
        layers,
        dry_run: fx.dry_run,
        set_headers,
        enforced,
    }
}

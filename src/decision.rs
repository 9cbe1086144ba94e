//! Decisions: what was decided, by which rule of which resource, and why.

use std::borrow::Cow;
use std::fmt;

use crate::model::{Dialect, Meta};
use crate::request::Request;

/// What happens to the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Forward it.
    Allow,
    /// Answer 403 (gRPC: PERMISSION_DENIED).
    Deny,
    /// Answer 404: Linkerd's answer for a request that matches no route of its Server.
    NotFound,
}

impl Effect {
    /// The lowercase name used in logs and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
            Effect::NotFound => "not-found",
        }
    }
}

/// The rule that decided: its resource and, where the resource has several, the rule's index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleRef<'a> {
    /// The resource.
    pub meta: &'a Meta,
    /// The rule's position in the resource (`spec.rules[i]`, `operations[i]`...).
    pub rule: Option<usize>,
}

impl fmt::Display for RuleRef<'_> {
    /// `AuthorizationPolicy foo/allow-frontend rule 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rule {
            Some(i) => write!(f, "{} rule {i}", self.meta),
            None => write!(f, "{}", self.meta),
        }
    }
}

/// One layer's (or the whole engine's) verdict. It borrows the engine and the request it
/// decided: nothing is copied or formatted to make one.
#[derive(Clone)]
pub struct Verdict<'a> {
    /// What to do.
    pub effect: Effect,
    /// What decided: a resource, or a built-in default ([`Meta::is_default`]: Istio's "no ALLOW
    /// policy matched", Linkerd's default policy, the bundle's `defaultAction`...). Metrics and
    /// logs name it either way.
    pub meta: &'a Meta,
    /// The deciding rule's position in the resource, where it has several.
    pub rule: Option<usize>,
    /// Why, in words a user can act on; formatted only when read.
    pub reason: Reason<'a>,
}

impl<'a> Verdict<'a> {
    /// The dialect whose rules decided (`None`: the bundle's `defaultAction`).
    pub fn dialect(&self) -> Option<Dialect> {
        self.meta.dialect
    }

    /// The rule that decided, if one did (`None` for a default).
    pub fn by(&self) -> Option<RuleRef<'a>> {
        (!self.meta.is_default()).then_some(RuleRef {
            meta: self.meta,
            rule: self.rule,
        })
    }
}

impl fmt::Debug for Verdict<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verdict")
            .field("effect", &self.effect)
            .field("meta", &self.meta.to_string())
            .field("rule", &self.rule)
            .field("reason", &self.reason.to_string())
            .finish()
    }
}

/// Why a verdict was reached. Deciding formats nothing: a reason built from the request is
/// written when something reads it (a denial's log line, the CLI), by running the same decision
/// again with a trace (see `eval.rs`), so what it says is what the decision did.
#[derive(Clone)]
pub struct Reason<'a>(Why<'a>);

#[derive(Clone)]
enum Why<'a> {
    /// Static, or held by the engine.
    Text(&'a str),
    /// Formatted already (on the explain path, which traces).
    Owned(String),
    /// Verdict `slot` of `layer`'s decision of `req` (0: the layer's verdict; `i`: its `i`-th
    /// dry-run verdict).
    Retold {
        layer: &'a dyn Retell,
        req: &'a Request,
        slot: u8,
    },
}

impl<'a> Reason<'a> {
    /// A reason that is fixed text.
    pub(crate) fn text(t: &'a str) -> Reason<'a> {
        Reason(Why::Text(t))
    }

    /// A reason formatted already.
    pub(crate) fn owned(t: String) -> Reason<'a> {
        Reason(Why::Owned(t))
    }

    /// A reason `layer` writes again when it is read.
    pub(crate) fn retold(layer: &'a dyn Retell, req: &'a Request, slot: u8) -> Reason<'a> {
        Reason(Why::Retold { layer, req, slot })
    }
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Why::Text(t) => f.write_str(t),
            Why::Owned(t) => f.write_str(t),
            Why::Retold { layer, req, slot } => layer.retell(req, *slot, f),
        }
    }
}

impl fmt::Debug for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

/// A layer that can say again why it decided as it did (every layer: see `eval.rs`).
pub(crate) trait Retell {
    /// Writes the reason of verdict `slot` of this layer's decision of `req`.
    fn retell(&self, req: &Request, slot: u8, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// A short list kept inline: a decision has at most a few dry-run verdicts and headers to set,
/// and collecting them allocates nothing (a longer list spills to the heap).
#[derive(Clone, Debug)]
pub struct Few<T> {
    inline: [Option<T>; 2],
    spill: Vec<T>,
}

impl<T> Default for Few<T> {
    fn default() -> Self {
        Few {
            inline: [None, None],
            spill: Vec::new(),
        }
    }
}

impl<T> Few<T> {
    /// Adds one at the end.
    pub(crate) fn push(&mut self, v: T) {
        match self.inline.iter_mut().find(|s| s.is_none()) {
            Some(slot) if self.spill.is_empty() => *slot = Some(v),
            _ => self.spill.push(v),
        }
    }

    /// In the order pushed.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.inline.iter().flatten().chain(&self.spill)
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.inline.iter().flatten().count() + self.spill.len()
    }

    /// None at all?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th pushed.
    pub fn get(&self, i: usize) -> Option<&T> {
        self.iter().nth(i)
    }
}

impl<'f, T> IntoIterator for &'f Few<T> {
    type Item = &'f T;
    type IntoIter = std::iter::Chain<std::iter::Flatten<std::slice::Iter<'f, Option<T>>>, std::slice::Iter<'f, T>>;

    fn into_iter(self) -> Self::IntoIter {
        self.inline.iter().flatten().chain(&self.spill)
    }
}

/// The engine's answer for one request.
#[derive(Clone, Debug)]
pub struct Decision<'a> {
    /// The verdict that stands: the first layer that did not allow, else the last layer's.
    pub verdict: Verdict<'a>,
    /// Verdicts of dry-run / audit rules of the layers asked: logged and counted, never
    /// enforced.
    pub dry_run: Few<Verdict<'a>>,
    /// Headers to set on the forwarded request (only when allowed).
    pub set_headers: Few<(&'static str, Cow<'a, str>)>,
    /// False when the whole bundle runs in dry-run mode: the verdict is reported, not enforced.
    pub enforced: bool,
}

impl Decision<'_> {
    /// Is the request forwarded? (In dry-run mode: always.)
    pub fn allowed(&self) -> bool {
        !self.enforced || self.verdict.effect == Effect::Allow
    }

    /// The decision as one token for Envoy's access log (response code details allow no
    /// spaces): `spiffe_authz:<effect>:<dialect>:<kind>:<namespace>/<name>:<rule>`, e.g.
    /// `spiffe_authz:deny:istio:AuthorizationPolicy:shop/deny-admin:0`. A built-in default
    /// reads `...:default:-/deny:-`; a verdict the bundle's dry-run mode did not enforce has the
    /// effect `dry-run-deny`. Kubernetes names and kinds hold no `:` or whitespace.
    pub fn access_log(&self) -> String {
        let v = &self.verdict;
        let effect = match (self.allowed(), v.effect) {
            (true, Effect::Deny) => "dry-run-deny",
            (true, Effect::NotFound) => "dry-run-not-found",
            (_, e) => e.name(),
        };
        let m = v.meta;
        let dialect = m.dialect.map_or("bundle", Dialect::name);
        let rule = v.rule.map_or_else(|| "-".to_string(), |r| r.to_string());
        let token = format!(
            "spiffe_authz:{effect}:{dialect}:{}:{}/{}:{rule}",
            m.kind, m.namespace, m.name
        );
        // Defensive: a space would make Envoy refuse the local reply's details.
        token.replace(|c: char| c.is_whitespace(), "_")
    }
}

/// [`crate::Engine::explain`]: the decision and, layer by layer, what each looked at.
#[derive(Debug)]
pub struct Explanation<'a> {
    /// The decision, as [`crate::Engine::evaluate`] makes it.
    pub decision: Decision<'a>,
    /// Every layer, in order.
    pub layers: Vec<LayerExplanation<'a>>,
}

/// One layer's part of an [`Explanation`].
#[derive(Debug)]
pub struct LayerExplanation<'a> {
    /// Which layer.
    pub dialect: Dialect,
    /// What it looked at, step by step, and its verdict (the last line).
    pub lines: Vec<String>,
    /// Its verdict.
    pub verdict: Verdict<'a>,
    /// False for a layer after the one that refused: the engine does not ask it (its verdict is
    /// shown for information only).
    pub asked: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_keeps_the_order_past_its_inline_room() {
        let mut f = Few::default();
        assert!(f.is_empty());
        for i in 0..5 {
            f.push(i);
        }
        assert_eq!(f.iter().copied().collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
        assert_eq!((f.len(), f.get(3)), (5, Some(&3)));
    }
}

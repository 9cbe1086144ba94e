//! Decisions: what was decided, by which rule of which resource, and why.

use std::borrow::Cow;
use std::fmt;

use crate::model::{Dialect, Meta};

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
pub struct RuleRef<'e> {
    /// The resource.
    pub meta: &'e Meta,
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

/// One layer's (or the whole engine's) verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict<'e> {
    /// The dialect whose rules decided (`None`: the bundle-wide default).
    pub dialect: Option<Dialect>,
    /// What to do.
    pub effect: Effect,
    /// The deciding rule, if a rule decided (defaults decide with none).
    pub by: Option<RuleRef<'e>>,
    /// Why, in words a user can act on.
    pub reason: Cow<'e, str>,
}

impl<'e> Verdict<'e> {
    /// A verdict of a dialect.
    pub fn new(dialect: Dialect, effect: Effect, by: Option<RuleRef<'e>>, reason: impl Into<Cow<'e, str>>) -> Self {
        Verdict {
            dialect: Some(dialect),
            effect,
            by,
            reason: reason.into(),
        }
    }
}

/// The engine's answer for one request.
#[derive(Clone, Debug)]
pub struct Decision<'e> {
    /// The verdict that stands: the first layer that did not allow, else the last allowing one.
    pub verdict: Verdict<'e>,
    /// Every layer's own verdict, in layer order.
    pub layers: Vec<Verdict<'e>>,
    /// Verdicts of dry-run / audit rules: logged and counted, never enforced.
    pub dry_run: Vec<Verdict<'e>>,
    /// Headers to set on the forwarded request (only applied when allowed).
    pub set_headers: Vec<(&'static str, String)>,
    /// False when the whole bundle runs in dry-run mode: the verdict is reported, not enforced.
    pub enforced: bool,
}

impl Decision<'_> {
    /// Is the request forwarded? (In dry-run mode: always.)
    pub fn allowed(&self) -> bool {
        !self.enforced || self.verdict.effect == Effect::Allow
    }
}

//! Who decided: the dialects, and the resource (or built-in default) behind every verdict.

use std::cell::Cell;
use std::fmt;

/// The policy formats the bundle accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    /// `security.istio.io` AuthorizationPolicy.
    Istio,
    /// `woven-city.global` DrakoPolicy / DrakoPolicyBinding.
    Drako,
    /// `policy.linkerd.io` Server / ServerAuthorization / AuthorizationPolicy and friends.
    Linkerd,
    /// `dapr.io` Configuration `spec.accessControl`.
    Dapr,
}

impl Dialect {
    /// The lowercase name used in logs, metrics and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Istio => "istio",
            Dialect::Drako => "drako",
            Dialect::Linkerd => "linkerd",
            Dialect::Dapr => "dapr",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which resource a rule came from, or which built-in default decided: attached to every rule
/// and every default so that every decision, log line and counter names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    /// See [`Meta::id`].
    pub(crate) id: u32,
    /// The dialect of the resource (`None`: the bundle's own default).
    pub dialect: Option<Dialect>,
    /// The resource's `kind`.
    pub kind: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

/// The `kind` of a built-in default's [`Meta`] (no resource has it): its namespace is `-` and
/// its name the effect, so a default's counters read `policy_kind="default",
/// policy_name="deny"`.
pub(crate) const DEFAULT_KIND: &str = "default";

impl Meta {
    /// Is this a built-in default rather than a resource?
    pub fn is_default(&self) -> bool {
        self.kind == DEFAULT_KIND
    }

    /// Dense from 0 within one engine ([`crate::Engine::metas`] is the count), given at compile
    /// time: per-policy counters index a table with it instead of hashing names.
    pub fn id(&self) -> usize {
        self.id as usize
    }
}

/// Gives out [`Meta`] ids at compile time, dense from 0.
#[derive(Debug, Default)]
pub(crate) struct MetaIds(Cell<u32>);

impl MetaIds {
    /// A new Meta with the next id.
    pub(crate) fn meta(&self, dialect: Option<Dialect>, kind: &str, namespace: &str, name: &str) -> Meta {
        let id = self.0.get();
        self.0.set(id.saturating_add(1));
        Meta {
            id,
            dialect,
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// How many were given out: every id is below.
    pub(crate) fn count(&self) -> usize {
        self.0.get() as usize
    }
}

impl fmt::Display for Meta {
    /// `AuthorizationPolicy foo/allow-frontend`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

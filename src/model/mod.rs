//! The one internal form every dialect lowers to.
//!
//! Each dialect keeps its owner's *combination* rules (Istio's deny-then-allow order, Drako's
//! exactly-one-binding, Linkerd's server/route/authorization, Dapr's first-match trie), but the
//! tests they combine are the same [`Pred`]icates over the same [`Request`](crate::Request),
//! built from the same matchers: [`StringSet`], [`HostSet`], [`IpSet`], [`PathSet`]. Sets of rules are
//! looked up through a [`RuleIndex`], so a decision costs the same with one rule or 100,000.

mod affix;
mod explain;
mod host;
mod index;
mod ip;
mod jwt;
mod path;
mod pred;
mod strings;

pub use host::{HostPattern, HostSet};
pub use index::RuleIndex;
pub use ip::{Cidr, IpSet};
pub use jwt::JwtField;
pub use path::{PathMap, PathPattern, PathSet, Seg};
pub use pred::Pred;
pub(crate) use strings::with_concat;
pub use strings::{StringMatch, StringSet, Wildcard};

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

/// Which resource a rule came from: attached to every rule so that every decision and every
/// log line names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    /// The dialect of the resource.
    pub dialect: Dialect,
    /// The resource's `kind`.
    pub kind: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

impl fmt::Display for Meta {
    /// `AuthorizationPolicy foo/allow-frontend`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

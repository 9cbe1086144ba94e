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
mod identity;
mod index;
mod ip;
mod jwt;
mod meta;
mod metadata;
mod path;
mod pred;
mod strings;

pub use host::{AuthoritySet, HostPattern};
pub use identity::{IdTest, NamespaceSet, ServiceAccountSet, TrustDomainSet};
pub use index::RuleIndex;
pub use ip::{Cidr, IpSet};
pub use jwt::{JwtField, RequestPrincipals};
pub use meta::{Dialect, Meta};
pub(crate) use meta::{MetaIds, DEFAULT_KIND};
pub use metadata::MetadataTest;
pub use path::{PathMap, PathPattern, PathSet, Seg};
pub use pred::Pred;
pub(crate) use strings::with_concat;
pub use strings::{StringMatch, StringSet, Wildcard};

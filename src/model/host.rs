//! Host tests, one matcher for every dialect: Istio `hosts`, Gateway API `hostnames` (Linkerd
//! routes), Drako `destinationHosts`.
//!
//! They are matched against the normalized host of the request (lowercase, without port and
//! trailing dots, see [`crate::request::parse_authority`]), so the patterns are normalized the
//! same way when they are built and matching compares bytes.

use std::collections::HashSet;

use super::{StringSet, Wildcard};
use crate::request::Request;

/// One host test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostPattern {
    /// Equal: Istio `a.com`, Gateway API `a.com`, Drako `hostname`.
    Exact(Box<str>),
    /// Starts with: Istio `abc*`.
    Prefix(Box<str>),
    /// Ends with: Istio `*abc` (as Envoy's suffix match, `*.a.com` also matches `.a.com`).
    Suffix(Box<str>),
    /// Gateway API `*.a.com`, stored `.a.com`: at least one character before the suffix.
    Subdomain(Box<str>),
    /// Any non-empty host: Istio `*`.
    Any,
}

/// `host.` and `HOST` are `host`.
fn normalize(h: &str) -> String {
    h.trim_end_matches('.').to_ascii_lowercase()
}

impl HostPattern {
    /// An exact host (Drako's `destinationHosts[].hostname`).
    pub fn exact(name: &str) -> HostPattern {
        HostPattern::Exact(normalize(name).into())
    }

    /// Istio's wildcard syntax (`abc`, `abc*`, `*abc`, `*`; see [`Wildcard::istio`]), compared
    /// case-insensitively with the normalized host.
    pub fn istio(v: &str) -> HostPattern {
        let v = normalize(v);
        match Wildcard::istio(&v) {
            Wildcard::Exact(h) => HostPattern::Exact(h.into()),
            Wildcard::Prefix(p) => HostPattern::Prefix(p.into()),
            Wildcard::Suffix(s) => HostPattern::Suffix(s.into()),
            Wildcard::Presence => HostPattern::Any,
        }
    }

    /// A Gateway API hostname: `foo.example.com` or `*.example.com` (a whole leading label);
    /// never an IP address.
    pub fn parse_gateway(h: &str) -> Result<HostPattern, String> {
        let h = normalize(h);
        if h.parse::<std::net::IpAddr>().is_ok() {
            return Err(format!("{h:?}: a hostname must not be an IP address"));
        }
        let wildcard = || format!("{h:?}: a wildcard must be a whole leading label (*.example.com)");
        match h.strip_prefix('*') {
            Some(s) if s.starts_with('.') && !s.contains('*') => Ok(HostPattern::Subdomain(s.into())),
            Some(_) => Err(wildcard()),
            None if h.is_empty() => Err("a hostname must not be empty".into()),
            None if h.contains('*') => Err(wildcard()),
            None => Ok(HostPattern::Exact(h.into())),
        }
    }

    /// Does the normalized `host` match?
    pub fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(h) => host == &**h,
            HostPattern::Prefix(p) => host.starts_with(&**p),
            HostPattern::Suffix(s) => host.ends_with(&**s),
            HostPattern::Subdomain(s) => host.len() > s.len() && host.ends_with(&**s),
            HostPattern::Any => !host.is_empty(),
        }
    }

    /// How specific a match is, for Gateway API route precedence (Linkerd's `HostMatch`): an
    /// exact host beats a wildcard, a longer one a shorter; `None` when it does not match.
    pub fn score(&self, host: &str) -> Option<(u8, usize)> {
        let kind = match self {
            HostPattern::Exact(_) => 2,
            HostPattern::Prefix(_) | HostPattern::Suffix(_) | HostPattern::Subdomain(_) => 1,
            HostPattern::Any => 0,
        };
        let len = match self {
            HostPattern::Exact(v) | HostPattern::Prefix(v) | HostPattern::Suffix(v) | HostPattern::Subdomain(v) => {
                v.len()
            }
            HostPattern::Any => 0,
        };
        self.matches(host).then_some((kind, len))
    }
}

/// An OR of host tests: exact hosts hashed, the few wildcards scanned.
#[derive(Clone, Debug, Default)]
pub struct HostSet {
    exact: HashSet<Box<str>>,
    wildcards: Vec<HostPattern>,
    len: usize,
}

impl HostSet {
    /// Adds one alternative.
    pub fn insert(&mut self, p: HostPattern) {
        self.len += 1;
        match p {
            HostPattern::Exact(h) => {
                self.exact.insert(h);
            }
            p => self.wildcards.push(p),
        }
    }

    /// Number of alternatives inserted.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The exact hosts, when the set has nothing else (for `explain`).
    pub fn exact_only(&self) -> Option<impl Iterator<Item = &str>> {
        self.wildcards.is_empty().then(|| self.exact.iter().map(|h| &**h))
    }

    /// Does the normalized `host` match any alternative?
    pub fn matches(&self, host: &str) -> bool {
        self.exact.contains(host) || self.wildcards.iter().any(|p| p.matches(host))
    }
}

/// Istio `hosts`, as its sidecars match them and as a DENY plainly means them.
///
/// istiod compiles `hosts` to an Envoy header matcher on the whole `:authority`, case-insensitive
/// (pilot/pkg/security/authz/matcher `HostMatcher`): `example.com` does not match
/// `example.com:8080` or `example.com.`, and `example.com:*` matches any port. That is the
/// reading of a test that grants ([`AuthoritySet::widen`] not called). A test that refuses also
/// matches on the normalized host (lowercase, no port, no trailing dot): a DENY on
/// `secret.com` refuses `secret.com:80` and `secret.com.` too, which Envoy would let through.
#[derive(Clone, Debug, Default)]
pub struct AuthoritySet {
    /// The values as Envoy matches them, lowercase, on the lowercased `:authority`.
    authority: StringSet,
    /// The values on the normalized host.
    host: HostSet,
    /// Also match on the normalized host.
    widened: bool,
}

impl AuthoritySet {
    /// Adds one Istio value.
    pub fn insert_istio(&mut self, v: &str) {
        self.authority
            .insert(Wildcard::istio(&v.to_ascii_lowercase()).to_match());
        self.host.insert(HostPattern::istio(v));
    }

    /// Matches on the normalized host as well as on the `:authority` (for tests that refuse).
    pub fn widen(&mut self, yes: bool) {
        self.widened = yes;
    }

    /// Number of alternatives inserted.
    pub fn len(&self) -> usize {
        self.host.len()
    }

    /// The exact hosts, when the set has nothing else (for `explain`).
    pub fn exact_only(&self) -> Option<impl Iterator<Item = &str>> {
        self.host.exact_only()
    }

    /// Does the request's `:authority` (or, widened, its host) match?
    pub fn matches(&self, r: &Request) -> bool {
        self.authority.matches(&r.authority) || (self.widened && self.host.matches(&r.host))
    }
}

#[cfg(test)]
#[path = "host_tests.rs"]
mod tests;

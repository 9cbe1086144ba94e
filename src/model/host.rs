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
mod tests {
    use super::*;

    fn istio(vs: &[&str]) -> HostSet {
        let mut s = HostSet::default();
        vs.iter().for_each(|v| s.insert(HostPattern::istio(v)));
        s
    }

    #[test]
    fn istio_hosts_match_case_insensitively() {
        let cases: &[(&[&str], &str, bool)] = &[
            (&["Example.COM"], "example.com", true),
            (&["Example.COM."], "example.com", true),
            (&["example.com"], "example.org", false),
            (&["*.Corp"], "a.corp", true),
            (&["*.corp"], ".corp", true),
            (&["*.corp"], "corp", false),
            (&["api.*"], "api.example.com", true),
            (&["api.*"], "www.example.com", false),
            (&["*"], "anything", true),
            (&["*"], "", false),
            (&["a.com", "*.b.com"], "x.b.com", true),
            (&["a.com", "*.b.com"], "b.com", false),
        ];
        for (set, host, want) in cases {
            assert_eq!(istio(set).matches(host), *want, "{set:?} vs {host}");
        }
        assert!(istio(&["a*b"]).matches("a*b"));
        // The request's side is normalized at the edge: any spelling of the host matches.
        let host = |a: &str| crate::request::parse_authority(a).map(|(h, _)| h).unwrap();
        let s = istio(&["Example.COM", "*.Corp"]);
        for (a, want) in [
            ("example.com", true),
            ("EXAMPLE.com", true),
            ("a.CORP", true),
            ("example.org", false),
        ] {
            assert_eq!(s.matches(&host(a)), want, "{a}");
        }
    }

    fn authority(vs: &[&str], widened: bool) -> AuthoritySet {
        let mut s = AuthoritySet::default();
        vs.iter().for_each(|v| s.insert_istio(v));
        s.widen(widened);
        s
    }

    #[test]
    fn istio_hosts_match_the_whole_authority_when_they_grant() {
        let req = |a: &str| {
            let mut r = Request::new("GET", "/");
            r.set_authority(a);
            r
        };
        let cases: &[(&[&str], &str, bool)] = &[
            (&["example.com"], "example.com", true),
            (&["example.com"], "EXAMPLE.com", true),
            (&["example.com"], "example.com:8080", false),
            (&["example.com"], "example.com.", false),
            (&["example.com:*"], "example.com:8080", true),
            (&["example.com:*"], "example.com", false),
            (&["*.example.com"], "a.example.com:80", false),
            (&["*"], "a:1", true),
        ];
        for (vs, a, want) in cases {
            assert_eq!(authority(vs, false).matches(&req(a)), *want, "{vs:?} vs {a}");
        }
    }

    #[test]
    fn istio_hosts_match_the_host_too_when_they_refuse() {
        let req = |a: &str| {
            let mut r = Request::new("GET", "/");
            r.set_authority(a);
            r
        };
        for a in ["secret.com", "secret.com:80", "SECRET.com.", "secret.com:8080"] {
            assert!(authority(&["secret.com"], true).matches(&req(a)), "{a}");
        }
        assert!(authority(&["secret.com:8080"], true).matches(&req("secret.com:8080")));
        assert!(!authority(&["secret.com"], true).matches(&req("other.com")));
    }

    #[test]
    fn gateway_wildcards_need_a_label() {
        let p = HostPattern::parse_gateway("*.Example.com.").unwrap();
        assert_eq!(p, HostPattern::Subdomain(".example.com".into()));
        assert!(p.matches("a.example.com"));
        assert!(!p.matches(".example.com"));
        assert!(!p.matches("example.com"));
        for bad in ["10.0.0.1", "a.*.com", "*", "*x.com", ""] {
            assert!(HostPattern::parse_gateway(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn exact_beats_wildcard_and_longer_beats_shorter() {
        let exact = HostPattern::parse_gateway("a.example.com").unwrap();
        let wild = HostPattern::parse_gateway("*.example.com").unwrap();
        let wider = HostPattern::parse_gateway("*.com").unwrap();
        let host = "a.example.com";
        assert!(exact.score(host) > wild.score(host));
        assert!(wild.score(host) > wider.score(host));
        assert_eq!(exact.score("b.example.com"), None);
    }

    #[test]
    fn drako_hosts_are_exact() {
        let p = HostPattern::exact("SVC.Example.");
        assert!(p.matches("svc.example"));
        assert!(!p.matches("a.svc.example"));
    }
}

#[cfg(test)]
#[path = "host_tests.rs"]
mod host_tests;

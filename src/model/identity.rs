//! Tests on the peer's whole SPIFFE ID as istiod writes them: regular expressions over the URI
//! (pilot/pkg/security/authz/model/generator.go), not over parsed `/ns/<ns>/sa/<sa>` fields. A
//! peer without a valid SPIFFE ID matches none of them.

use std::collections::HashSet;

use super::strings::with_concat;
use crate::spiffe::{SpiffeId, SCHEME};

/// One test on the peer's SPIFFE ID.
#[derive(Clone, Debug)]
pub enum IdTest {
    /// Istio `namespaces`, `source.namespace`.
    Namespace(NamespaceSet),
    /// Istio `serviceAccounts`, `source.serviceAccount`.
    ServiceAccount(ServiceAccountSet),
    /// Istio `trustDomains`, `source.trustDomain`.
    TrustDomain(TrustDomainSet),
}

impl IdTest {
    /// Does the peer's ID pass?
    pub fn matches(&self, id: &SpiffeId) -> bool {
        match self {
            IdTest::Namespace(s) => s.matches(id.as_str()),
            IdTest::ServiceAccount(s) => s.matches(id.as_str()),
            IdTest::TrustDomain(s) => s.matches(id.as_str()),
        }
    }

    /// What the test is about, for `explain`.
    pub fn what(&self) -> &'static str {
        match self {
            IdTest::Namespace(_) => "namespace",
            IdTest::ServiceAccount(_) => "service account",
            IdTest::TrustDomain(_) => "trust domain",
        }
    }
}

/// Istio namespaces: `.*/ns/<value>/.*` over the whole ID, each `*` of the value standing for
/// any text (`/` included), as `srcNamespaceGenerator` writes it. So `foo` matches
/// `spiffe://td/ns/foo/sa/x` and `spiffe://td/k/v/ns/foo/x`, not `spiffe://td/ns/foo`.
#[derive(Clone, Debug, Default)]
pub struct NamespaceSet {
    exact: HashSet<Box<str>>,
    /// Values with `*`, split at each `*`.
    globs: Vec<Vec<Box<str>>>,
}

impl NamespaceSet {
    /// Adds one value.
    pub fn insert(&mut self, v: &str) {
        if v.contains('*') {
            self.globs.push(v.split('*').map(Into::into).collect());
        } else {
            self.exact.insert(v.into());
        }
    }

    fn matches(&self, uri: &str) -> bool {
        uri.match_indices("/ns/").any(|(i, _)| {
            let rest = &uri[i + 4..];
            // The value is followed by a `/`: every text up to a later `/` is a candidate.
            rest.match_indices('/').any(|(j, _)| {
                let v = &rest[..j];
                self.exact.contains(v) || self.globs.iter().any(|g| glob(g, v))
            })
        })
    }
}

/// Does `s` match the parts of a value split at its `*`s (each `*` any text)?
fn glob(parts: &[Box<str>], s: &str) -> bool {
    let (Some((first, rest)), Some(last)) = (parts.split_first(), parts.last()) else {
        return false;
    };
    if rest.is_empty() {
        return s == &**first;
    }
    if !s.starts_with(&**first) || s.len() < first.len() + last.len() || !s.ends_with(&**last) {
        return false;
    }
    let mut mid = &s[first.len()..s.len() - last.len()];
    for p in &rest[..rest.len() - 1] {
        match mid.find(&**p) {
            Some(at) => mid = &mid[at + p.len()..],
            None => return false,
        }
    }
    true
}

/// Istio service accounts (`<ns>/<sa>`): `spiffe://.+/ns/<ns>/(.+/|)sa/<sa>(/.+)?` over the
/// whole ID, as `serviceAccountRegex` writes it: other segments may come before, between and
/// after (`spiffe://td/k/v/ns/a/x/y/sa/b/k/v` is `a/b`).
#[derive(Clone, Debug, Default)]
pub struct ServiceAccountSet(HashSet<Box<str>>);

impl ServiceAccountSet {
    /// Adds `<ns>/<sa>`.
    pub fn insert(&mut self, ns_sa: String) {
        self.0.insert(ns_sa.into());
    }

    fn matches(&self, uri: &str) -> bool {
        uri.match_indices("/ns/")
            // `.+` between the scheme and `/ns/`.
            .filter(|(i, _)| *i > SCHEME.len() && uri.starts_with(SCHEME))
            .any(|(i, _)| {
                let after = &uri[i + 4..];
                let Some((ns, tail)) = after.split_once('/') else {
                    return false;
                };
                // `sa/` right after `/ns/<ns>/`, or after any later `/`.
                let starts = std::iter::once(0).chain(tail.match_indices('/').map(|(k, _)| k + 1));
                starts.into_iter().any(|k| {
                    let Some(s) = tail[k..].strip_prefix("sa/") else {
                        return false;
                    };
                    let sa = match s.split_once('/') {
                        Some((_, "")) => return false,
                        Some((sa, _)) => sa,
                        None => s,
                    };
                    with_concat(&[ns, "/", sa], |v| self.0.contains(v))
                })
            })
    }
}

/// Istio trust domains, as `srcTrustDomainGenerator` writes them over the whole ID: `*` is any
/// ID (`spiffe://`); `td` is the prefix `spiffe://td/`; `a*` and `*b` are `spiffe://a[^/]*/` and
/// `spiffe://[^/]*b/`.
#[derive(Clone, Debug, Default)]
pub struct TrustDomainSet {
    any: bool,
    /// Exact values without `/`: the ID's trust domain, followed by a path.
    exact: HashSet<Box<str>>,
    /// The rest, as (before `*`, after `*`); no `*` is (value, None).
    other: Vec<(Box<str>, Option<Box<str>>)>,
}

impl TrustDomainSet {
    /// Adds one value (checked by istiod's validation: at most one `*`, at an end).
    pub fn insert(&mut self, v: &str) {
        match v.split_once('*') {
            _ if v == "*" => self.any = true,
            Some((a, b)) => self.other.push((a.into(), Some(b.into()))),
            None if !v.contains('/') => {
                self.exact.insert(v.into());
            }
            None => self.other.push((v.into(), None)),
        }
    }

    fn matches(&self, uri: &str) -> bool {
        let Some(s) = uri.strip_prefix(SCHEME) else {
            return false;
        };
        if self.any {
            return true;
        }
        if s.split_once('/').is_some_and(|(td, _)| self.exact.contains(td)) {
            return true;
        }
        self.other.iter().any(|(a, b)| {
            let Some(r) = s.strip_prefix(&**a) else {
                return false;
            };
            match b {
                None => r.starts_with('/'),
                // `[^/]*` then `b/`: the text skipped holds no `/`.
                Some(b) => {
                    let end = r.find('/').unwrap_or(r.len());
                    (0..=end)
                        .any(|k| r.is_char_boundary(k) && r[k..].strip_prefix(&**b).is_some_and(|t| t.starts_with('/')))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(uri: &str) -> SpiffeId {
        SpiffeId::parse(uri).unwrap()
    }

    #[test]
    fn namespaces_as_istiods_regex() {
        let mut s = NamespaceSet::default();
        ["foo", "ns.*.prod"].iter().for_each(|v| s.insert(v));
        let t = IdTest::Namespace(s);
        for (uri, want) in [
            ("spiffe://td/ns/foo/sa/x", true),
            ("spiffe://td/k/v/ns/foo/x", true),
            ("spiffe://td/ns/foo", false),
            ("spiffe://td/ns/foox/sa/x", false),
            ("spiffe://td/ns/ns.any.prod/sa/x", true),
            ("spiffe://td/ns/ns.a/b.prod/sa/x", true),
            ("spiffe://td/ns/nsXanyXprod/sa/x", false),
        ] {
            assert_eq!(t.matches(&id(uri)), want, "{uri}");
        }
    }

    #[test]
    fn globs_match_any_text_at_each_star() {
        let g = |v: &str| v.split('*').map(Into::into).collect::<Vec<Box<str>>>();
        assert!(glob(&g("a*"), "a"));
        assert!(glob(&g("*b"), "xb"));
        assert!(glob(&g("a*b*c"), "aXbYc"));
        assert!(!glob(&g("a*b*c"), "acb"));
        assert!(!glob(&g("ab*ba"), "aba"));
        assert!(glob(&g("*"), ""));
    }

    #[test]
    fn service_accounts_as_istiods_regex() {
        let mut s = ServiceAccountSet::default();
        s.insert("my-ns/my-sa".into());
        let t = IdTest::ServiceAccount(s);
        for (uri, want) in [
            ("spiffe://cluster.local/ns/my-ns/sa/my-sa", true),
            ("spiffe://cluster.local/ns/my-ns/sa/my-sa/k/v", true),
            ("spiffe://cluster.local/k/v/ns/my-ns/sa/my-sa", true),
            ("spiffe://cluster.local/ns/my-ns/k/v/sa/my-sa", true),
            ("spiffe://cluster.local/k/ns/my-ns/something/bar/sa/my-sa/baz", true),
            ("spiffe://cluster.local/ns/my-ns/sa/my-sa-suffix", false),
            ("spiffe://cluster.local/ns/my-ns-suffix/sa/my-sa", false),
            ("spiffe://ns/my-ns/sa/my-sa", false),
            ("spiffe://cluster.local/ns/my-ns", false),
            ("spiffe://cluster.local/sa/my-sa", false),
        ] {
            assert_eq!(t.matches(&id(uri)), want, "{uri}");
        }
    }

    #[test]
    fn trust_domains_as_istiods_matchers() {
        let set = |vs: &[&str]| {
            let mut s = TrustDomainSet::default();
            vs.iter().for_each(|v| s.insert(v));
            IdTest::TrustDomain(s)
        };
        let cases: &[(&[&str], &str, bool)] = &[
            (&["cluster.local"], "spiffe://cluster.local/ns/a/sa/b", true),
            (&["cluster.local"], "spiffe://cluster.localx/ns/a/sa/b", false),
            (&["cluster.local"], "spiffe://cluster.local", false),
            (&["*"], "spiffe://any", true),
            (&["cluster.*"], "spiffe://cluster.x/ns/a", true),
            (&["cluster.*"], "spiffe://clusterx/ns/a", false),
            (&["*local"], "spiffe://cluster.local/ns/a", true),
            (&["*local"], "spiffe://localx/ns/a", false),
            (&["bad*"], "spiffe://bad.td/x", true),
            (&["a/b"], "spiffe://a/b/c", true),
            (&["a/b"], "spiffe://a/bc", false),
        ];
        for (vs, uri, want) in cases {
            assert_eq!(set(vs).matches(&id(uri)), *want, "{vs:?} {uri}");
        }
    }
}

//! Who the caller is: principals (with istiod's trust-domain aliases), namespaces, service
//! accounts, trust domains and request principals, checked and matched as istiod does.

use std::borrow::Cow;

use super::error::{LowerError, Why};
use super::values::{non_empty, R};
use super::wire::Str;
use crate::model::{
    IdTest, NamespaceSet, RequestPrincipals, ServiceAccountSet, StringMatch, StringSet, TrustDomainSet, Wildcard,
};
use crate::spiffe::SCHEME;

/// `cluster.local` stands for the local trust domain and its aliases.
const CLUSTER_LOCAL: &str = "cluster.local";

/// The workload's trust domain and its aliases (istio/istio pilot/pkg/security/trustdomain
/// `Bundle`, the local one first).
pub(super) struct TrustBundle<'c> {
    pub domains: Vec<&'c str>,
}

impl TrustBundle<'_> {
    /// istiod's `ReplaceTrustDomainAliases` for one principal: a principal of exactly five
    /// `/`-parts (`td/ns/x/sa/y`) whose trust domain is not `*` names a trust domain; when that
    /// one is in the bundle (either side may be `x*` or `*x`: `*bar` matches `foobar`) or is
    /// `cluster.local`, the principal stands for the same path in every trust domain of the
    /// bundle (kept as written for the domains its wildcard already covers). Anything else is
    /// kept as written.
    pub(super) fn principals<'v>(&self, p: &'v str) -> Vec<Cow<'v, str>> {
        let parts: Vec<&str> = p.split('/').collect();
        let td = match parts.as_slice() {
            [td, _, _, _, _] if *td != "*" => *td,
            _ => return vec![Cow::Borrowed(p)],
        };
        if !(td == CLUSTER_LOCAL || self.domains.iter().any(|d| string_match(td, d))) {
            return vec![Cow::Borrowed(p)];
        }
        let path = &p[td.len()..];
        let mut out: Vec<Cow<'v, str>> = Vec::with_capacity(self.domains.len());
        for d in &self.domains {
            let v = match suffix_match(d, td) {
                true => Cow::Borrowed(p),
                false => Cow::Owned([d, path].concat()),
            };
            if !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }

    /// istiod's `ExpandTrustDomainAliases`: a trust domain of the bundle stands for all of them.
    fn trust_domains<'v>(&'v self, v: &'v str) -> Vec<&'v str> {
        match self.domains.contains(&v) {
            true => self.domains.clone(),
            false => vec![v],
        }
    }
}

/// trustdomain/util.go `stringMatch` for one element of the list.
fn string_match(a: &str, s: &str) -> bool {
    a == s || s == "*" || prefix_match(a, s) || prefix_match(s, a) || suffix_match(a, s) || suffix_match(s, a)
}

fn prefix_match(a: &str, pattern: &str) -> bool {
    pattern.strip_suffix('*').is_some_and(|p| a.starts_with(p))
}

fn suffix_match(a: &str, pattern: &str) -> bool {
    pattern.strip_prefix('*').is_some_and(|p| a.ends_with(p))
}

/// Principals (written without `spiffe://`), after the trust-domain rewriting, as
/// `StringMatcherWithPrefix(v, "spiffe://")`: `*` any peer, `*x` a suffix, `x*` the prefix
/// `spiffe://x`, else exactly `spiffe://x`.
pub(super) fn principals(vs: &[Str<'_>], bundle: &TrustBundle<'_>) -> R<StringSet> {
    non_empty(vs)?;
    let mut set = StringSet::new();
    set.reserve(vs.len());
    for v in vs {
        for p in bundle.principals(v) {
            // Each stored URI is built once, at its final size.
            set.insert(match Wildcard::istio(&p) {
                Wildcard::Exact(x) => StringMatch::Exact([SCHEME, x].concat()),
                Wildcard::Prefix(x) => StringMatch::Prefix([SCHEME, x].concat()),
                w => w.to_match(),
            });
        }
    }
    Ok(set)
}

/// Namespaces: `.*/ns/<v>/.*` over the peer's ID, each `*` any text (`srcNamespaceGenerator`).
pub(super) fn namespaces(vs: &[Str<'_>]) -> R<IdTest> {
    non_empty(vs)?;
    let mut set = NamespaceSet::default();
    vs.iter().for_each(|v| set.insert(v));
    Ok(IdTest::Namespace(set))
}

/// Service accounts, `<ns>/<sa>` or `<sa>` of the policy's namespace, checked as istiod's
/// `CheckServiceAccount` and matched as its `serviceAccountRegex`.
pub(super) fn service_accounts(vs: &[Str<'_>], policy_ns: &str) -> R<IdTest> {
    if vs.len() > 16 {
        return Err(LowerError::new(
            "",
            Why::ServiceAccount("may not have more than 16 values".into()),
        ));
    }
    non_empty(vs)?;
    let mut set = ServiceAccountSet::default();
    for (i, v) in vs.iter().enumerate() {
        let bad = |m: String| LowerError::new(format!("[{i}]"), Why::ServiceAccount(m));
        let format = "expected format 'serviceAccount' or 'namespace/serviceAccount'";
        if v.contains('*') {
            return Err(bad("wildcard not allowed".into()));
        }
        if v.matches('/').count() > 1 {
            return Err(bad(format!("{format}, found {:?}", &**v)));
        }
        if v.len() > 320 {
            return Err(bad(format!("value cannot exceed 320 characters, found {:?}", &**v)));
        }
        let full = match v.split_once('/') {
            Some(("", _)) => return Err(bad(format!("{format}, found empty namespace {:?}", &**v))),
            Some((_, "")) => return Err(bad(format!("{format}, found empty serviceAccount {:?}", &**v))),
            Some(_) => v.to_string(),
            None => format!("{policy_ns}/{}", &**v),
        };
        set.insert(full);
    }
    Ok(IdTest::ServiceAccount(set))
}

/// Trust domains (`trustDomains`: istiod's `CheckTrustDomainValues`; `source.trustDomain`:
/// `CheckWildcardValues`, so `slash` says whether a `/` is refused), each of the bundle
/// standing for all of them.
pub(super) fn trust_domains(vs: &[Str<'_>], bundle: &TrustBundle<'_>, slash: bool) -> R<IdTest> {
    non_empty(vs)?;
    let mut set = TrustDomainSet::default();
    for (i, v) in vs.iter().enumerate() {
        let at = |why| LowerError::new(format!("[{i}]"), why);
        let stars = v.matches('*').count();
        if stars > 1 {
            return Err(at(Why::WildcardMany(v.to_string())));
        }
        if stars == 1 && !v.starts_with('*') && !v.ends_with('*') {
            return Err(at(Why::WildcardMiddle(v.to_string())));
        }
        if slash && v.contains('/') {
            return Err(at(Why::TrustDomainSlash(v.to_string())));
        }
        bundle.trust_domains(v).into_iter().for_each(|d| set.insert(d));
    }
    Ok(IdTest::TrustDomain(set))
}

/// Request principals (`<iss>/<sub>` of the validated JWT; see [`RequestPrincipals`]).
pub(super) fn request_principals(vs: &[Str<'_>]) -> R<RequestPrincipals> {
    non_empty(vs)?;
    let mut set = RequestPrincipals::default();
    vs.iter().for_each(|v| set.insert(v));
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(td: &str, aliases: &[&str], p: &[&str]) -> Vec<String> {
        let b = TrustBundle {
            domains: std::iter::once(td).chain(aliases.iter().copied()).collect(),
        };
        p.iter().flat_map(|p| b.principals(p)).map(|c| c.into_owned()).collect()
    }

    /// istio/istio pilot/pkg/security/trustdomain/bundle_test.go TestReplaceTrustDomainAliases.
    /// (trust domain, aliases, principals, what istiod rewrites them to).
    type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str]);

    #[test]
    fn aliases_as_istiod_rewrites_them() {
        let cases: &[Case<'_>] = &[
            (
                "cluster.local",
                &[],
                &["cluster.local/ns/foo/sa/bar"],
                &["cluster.local/ns/foo/sa/bar"],
            ),
            ("cluster.local", &[], &["*"], &["*"]),
            ("cluster.local", &[], &["*/ns/foo/sa/bar"], &["*/ns/foo/sa/bar"]),
            (
                "td2",
                &["td1"],
                &["td1/ns/foo/sa/bar"],
                &["td2/ns/foo/sa/bar", "td1/ns/foo/sa/bar"],
            ),
            (
                "td2",
                &["foo-td1", "cluster.local"],
                &["*-td1/ns/foo/sa/bar"],
                &[
                    "td2/ns/foo/sa/bar",
                    "*-td1/ns/foo/sa/bar",
                    "cluster.local/ns/foo/sa/bar",
                ],
            ),
            ("td1", &["td2"], &["some-td/ns/foo/sa/bar"], &["some-td/ns/foo/sa/bar"]),
            (
                "new-td",
                &["td2", "td3"],
                &["/ns/some-ns/sa/some-sa"],
                &["/ns/some-ns/sa/some-sa"],
            ),
            (
                "new-td",
                &["old-td"],
                &["*-td/ns/some-ns/sa/some-sa"],
                &["*-td/ns/some-ns/sa/some-sa"],
            ),
            ("td", &["other"], &["td/ns/foo/sa/bar/x"], &["td/ns/foo/sa/bar/x"]),
        ];
        for (td, aliases, p, want) in cases {
            assert_eq!(rewrite(td, aliases, p), *want, "{td} {aliases:?} {p:?}");
        }
    }

    /// trustdomain/util_test.go TestStringMatch.
    #[test]
    fn trust_domains_match_with_wildcards_on_either_side() {
        assert!(string_match("*", "match-me"));
        assert!(string_match("yo*", "yolo"));
        assert!(!string_match("foo", "bar"));
        assert!(string_match("*yo", "goyo"));
        assert!(!string_match("", "yo"));
    }
}

//! String matching: exact, prefix, suffix, presence; and indexed sets of them.

use std::collections::HashSet;

use super::affix::AffixMap;

/// One string test, in the form Istio (and Envoy) define: `abc` exact, `abc*` prefix,
/// `*abc` suffix, `*` presence (any non-empty value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StringMatch {
    /// Equal to the value.
    Exact(String),
    /// Starts with the value.
    Prefix(String),
    /// Ends with the value.
    Suffix(String),
    /// Any non-empty value.
    Presence,
}

impl StringMatch {
    /// Does `v` pass this one test?
    pub fn matches(&self, v: &str) -> bool {
        match self {
            StringMatch::Exact(x) => v == x,
            StringMatch::Prefix(x) => v.starts_with(x.as_str()),
            StringMatch::Suffix(x) => v.ends_with(x.as_str()),
            StringMatch::Presence => !v.is_empty(),
        }
    }
}

/// A [`StringMatch`] parsed from Istio's wildcard syntax without copying: the kind of test and
/// the value it tests, borrowed from the input. A dialect that rewrites the value (Istio puts
/// `spiffe://` and a trust domain before a principal) builds the stored string once, with
/// [`Wildcard::with_value`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wildcard<'a> {
    /// `abc`.
    Exact(&'a str),
    /// `abc*`.
    Prefix(&'a str),
    /// `*abc`.
    Suffix(&'a str),
    /// `*`.
    Presence,
}

impl<'a> Wildcard<'a> {
    /// Reads Istio's wildcard syntax exactly as istiod turns a value into an Envoy matcher
    /// (pilot/pkg/security/authz/matcher `StringMatcherWithPrefix`, `HeaderMatcher`): `*` is
    /// presence; a value starting with `*` is a suffix test on the rest, ending with `*` a
    /// prefix test, anything else exact. Any other `*` is a literal character (`/api/*/users`
    /// is that exact path; `*a*` is the suffix `a*`): istiod's validation accepts such values.
    /// Fields whose values istiod does check (trust domains, service accounts) check them
    /// before.
    pub fn istio(v: &'a str) -> Wildcard<'a> {
        if v == "*" {
            Wildcard::Presence
        } else if let Some(s) = v.strip_prefix('*') {
            Wildcard::Suffix(s)
        } else if let Some(p) = v.strip_suffix('*') {
            Wildcard::Prefix(p)
        } else {
            Wildcard::Exact(v)
        }
    }

    /// The value tested (empty for presence).
    pub fn value(&self) -> &'a str {
        match *self {
            Wildcard::Exact(v) | Wildcard::Prefix(v) | Wildcard::Suffix(v) => v,
            Wildcard::Presence => "",
        }
    }

    /// The owned test.
    pub fn to_match(self) -> StringMatch {
        self.with_value(self.value().to_string())
    }

    /// The same kind of test on `value` (ignored for presence).
    pub fn with_value(&self, value: String) -> StringMatch {
        match self {
            Wildcard::Exact(_) => StringMatch::Exact(value),
            Wildcard::Prefix(_) => StringMatch::Prefix(value),
            Wildcard::Suffix(_) => StringMatch::Suffix(value),
            Wildcard::Presence => StringMatch::Presence,
        }
    }
}

/// An OR of [`StringMatch`]es, indexed: exact values in a hash set, prefixes and suffixes by
/// length, so membership costs the same for one value or 100,000.
#[derive(Clone, Debug, Default)]
pub struct StringSet {
    exact: HashSet<Box<str>>,
    prefix: AffixMap<()>,
    suffix: AffixMap<()>,
    presence: bool,
    len: usize,
}

impl StringSet {
    /// An empty set (matches nothing).
    pub fn new() -> StringSet {
        StringSet::default()
    }

    /// Makes room for `additional` more exact values at once, so that a large set is not grown
    /// by doubling (the old and the new table would be alive together at each step).
    pub fn reserve(&mut self, additional: usize) {
        self.exact.reserve(additional);
    }

    /// Adds one alternative.
    pub fn insert(&mut self, m: StringMatch) {
        self.len += 1;
        match m {
            StringMatch::Exact(v) => {
                self.exact.insert(v.into());
            }
            StringMatch::Prefix(v) => self.prefix.insert(&v, ()),
            StringMatch::Suffix(v) => self.suffix.insert(&v, ()),
            StringMatch::Presence => self.presence = true,
        }
    }

    /// Builds a set from alternatives.
    pub fn from_matches(ms: impl IntoIterator<Item = StringMatch>) -> StringSet {
        let mut s = StringSet::new();
        ms.into_iter().for_each(|m| s.insert(m));
        s
    }

    /// Number of alternatives inserted.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing was inserted.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The exact values, when the set has nothing but exact values (used to index rules).
    pub fn exact_only(&self) -> Option<impl Iterator<Item = &str>> {
        let only = !self.presence && self.prefix.is_empty() && self.suffix.is_empty();
        only.then(|| self.exact.iter().map(|s| &**s))
    }

    /// Does `s` match any alternative?
    pub fn matches(&self, s: &str) -> bool {
        (self.presence && !s.is_empty())
            || self.exact.contains(s)
            || self.prefix.has_prefix_of(s)
            || self.suffix.has_suffix_of(s)
    }
}

/// Calls `f` with `parts` joined, built on the stack when it fits (a request-time string such
/// as `<ns>/<sa>` or a Linkerd DNS-form identity: Kubernetes names always fit), so that a test
/// that needs it allocates nothing.
pub(crate) fn with_concat<R>(parts: &[&str], f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 1024];
    let mut n = 0;
    for p in parts {
        let Some(dst) = buf.get_mut(n..n + p.len()) else {
            return f(&parts.concat());
        };
        dst.copy_from_slice(p.as_bytes());
        n += p.len();
    }
    // Valid strs joined are valid UTF-8.
    match std::str::from_utf8(&buf[..n]) {
        Ok(s) => f(s),
        Err(_) => f(&parts.concat()),
    }
}

#[cfg(test)]
#[path = "strings_tests.rs"]
mod tests;

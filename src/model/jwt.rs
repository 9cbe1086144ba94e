//! Tests on the request's validated JWT (see [`crate::request::jwt`]): Istio's
//! `requestPrincipals` and `request.auth.{principal,audiences,presenter,claims[...]}`.
//! A request without a validated JWT has none of these values, so a positive test fails and
//! its `not*` twin holds, as in Istio.

use std::collections::HashMap;

use super::{StringMatch, StringSet, Wildcard};
use crate::request::{jwt, Request};

/// Istio request principals (`requestPrincipals`, `request.auth.principal`), `<iss>/<sub>`
/// split at the *last* `/` (an issuer may be a URL) and matched apart, as istiod's
/// `requestPrincipalGenerator` writes them: `*` is any issuer and subject; `*x` with a `/` is
/// an issuer ending with `x` (or any, for `*/`), without one any issuer and a subject ending
/// with `x`; `x*` likewise at the other end; a value without `/` has the empty subject. Both
/// must be strings of the payload.
#[derive(Clone, Debug, Default)]
pub struct RequestPrincipals {
    /// Exact issuers, each with its subject tests.
    by_issuer: HashMap<Box<str>, StringSet>,
    /// (issuer, subject) tests with a wildcard issuer.
    other: Vec<(StringMatch, StringMatch)>,
}

impl RequestPrincipals {
    /// Adds one value.
    pub fn insert(&mut self, v: &str) {
        let (iss, sub) = match v.rfind('/') {
            Some(i) => (&v[..i], Some(&v[i + 1..])),
            None => (v, None),
        };
        let any = || StringMatch::Presence;
        let (i, s) = match Wildcard::istio(v) {
            Wildcard::Presence => (any(), any()),
            Wildcard::Suffix(rest) => match sub {
                Some(sub) if iss == "*" => (any(), StringMatch::Exact(sub.into())),
                Some(sub) => (Wildcard::istio(iss).to_match(), StringMatch::Exact(sub.into())),
                None => (any(), StringMatch::Suffix(rest.into())),
            },
            Wildcard::Prefix(rest) => match sub {
                Some("*") => (StringMatch::Exact(iss.into()), any()),
                Some(sub) => (StringMatch::Exact(iss.into()), Wildcard::istio(sub).to_match()),
                None => (StringMatch::Prefix(rest.into()), any()),
            },
            Wildcard::Exact(_) => (
                StringMatch::Exact(iss.into()),
                StringMatch::Exact(sub.unwrap_or("").into()),
            ),
        };
        match i {
            StringMatch::Exact(iss) => self.by_issuer.entry(iss.into()).or_default().insert(s),
            i => self.other.push((i, s)),
        }
    }

    /// Does the request's validated JWT carry a listed principal?
    pub fn matches(&self, r: &Request) -> bool {
        let text = |k: &str| r.jwt.as_ref()?.get(k)?.as_str();
        let (Some(iss), Some(sub)) = (text("iss"), text("sub")) else {
            return false;
        };
        self.by_issuer.get(iss).is_some_and(|s| s.matches(sub))
            || self.other.iter().any(|(i, s)| i.matches(iss) && s.matches(sub))
    }
}

/// Which value of the JWT a [`Pred::Jwt`](super::Pred::Jwt) test reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwtField {
    /// `aud`, each audience (`request.auth.audiences`).
    Audiences,
    /// `azp` (`request.auth.presenter`).
    Presenter,
    /// A claim by path (`request.auth.claims[groups]`, `[nested][key]`): a string, or each
    /// string of a list.
    Claim(Vec<Box<str>>),
}

impl JwtField {
    /// Does some value of this field in the request's JWT match `set`?
    pub fn matches(&self, r: &Request, set: &StringSet) -> bool {
        let Some(payload) = r.jwt.as_ref() else {
            return false;
        };
        match self {
            JwtField::Audiences => jwt::claim(payload, &["aud"]).into_iter().any(|v| set.matches(v)),
            JwtField::Presenter => jwt::claim(payload, &["azp"]).into_iter().any(|v| set.matches(v)),
            JwtField::Claim(path) => jwt::claim(payload, path).into_iter().any(|v| set.matches(v)),
        }
    }

    /// The request's values, for `explain`.
    pub fn describe(&self, r: &Request) -> String {
        let Some(payload) = r.jwt.as_ref() else {
            return "the request has no validated JWT".into();
        };
        match self {
            JwtField::Audiences => format!("JWT audiences {:?}", jwt::claim(payload, &["aud"])),
            JwtField::Presenter => format!("JWT presenter {:?}", jwt::claim(payload, &["azp"])),
            JwtField::Claim(path) => format!("JWT claim {} {:?}", path.join("."), jwt::claim(payload, path)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(payload: serde_json::Value) -> Request {
        let mut r = Request::new("GET", "/");
        r.jwt = Some(payload);
        r
    }

    /// istio/istio pilot/pkg/security/authz/model/generator_test.go TestRequestPrincipal: the
    /// issuer and the subject matched apart, split at the last `/`.
    #[test]
    fn request_principals_split_at_the_last_slash() {
        let cases: &[(&str, &str, &str, bool)] = &[
            ("*", "a", "b", true),
            ("*", "a", "", false),
            ("foo*", "foox", "any", true),
            ("foo*", "xfoo", "any", false),
            ("foo/*", "foo", "any", true),
            ("foo/*", "foo", "", false),
            ("foo/*", "foo/bar", "x", false),
            ("foo/bar*", "foo", "barx", true),
            ("foo/bar*", "foox", "bar", false),
            ("*foo", "any", "xfoo", true),
            ("*/foo", "any", "foo", true),
            ("*/foo", "a", "x/foo", false),
            ("*bar/foo", "xbar", "foo", true),
            ("*bar/foo", "xbar", "foox", false),
            ("foo/bar", "foo", "bar", true),
            ("https://example.com/*", "https://example.com", "u", true),
            ("iss-only", "iss-only", "", true),
            ("iss-only", "iss-only", "x", false),
        ];
        for (v, iss, sub, want) in cases {
            let mut set = RequestPrincipals::default();
            set.insert(v);
            let got = set.matches(&req(serde_json::json!({"iss": iss, "sub": sub})));
            assert_eq!(got, *want, "{v} vs {iss} {sub}");
        }
        let mut set = RequestPrincipals::default();
        set.insert("*");
        assert!(!set.matches(&Request::new("GET", "/")));
        assert!(!set.matches(&req(serde_json::json!({"iss": "a", "sub": ["b"]}))));
    }
}

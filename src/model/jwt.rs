//! Tests on the request's validated JWT (see [`crate::request::jwt`]): Istio's
//! `requestPrincipals` and `request.auth.{principal,audiences,presenter,claims[...]}`.
//! A request without a validated JWT has none of these values, so a positive test fails and
//! its `not*` twin holds, as in Istio.

use super::StringSet;
use crate::request::{jwt, Request};

/// Which value of the JWT a [`Pred::Jwt`](super::Pred::Jwt) test reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwtField {
    /// `iss/sub` (`requestPrincipals`, `request.auth.principal`).
    Principal,
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
            JwtField::Principal => jwt::principal(payload).is_some_and(|p| set.matches(&p)),
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
            JwtField::Principal => format!("JWT principal {:?}", jwt::principal(payload).unwrap_or_default()),
            JwtField::Audiences => format!("JWT audiences {:?}", jwt::claim(payload, &["aud"])),
            JwtField::Presenter => format!("JWT presenter {:?}", jwt::claim(payload, &["azp"])),
            JwtField::Claim(path) => format!("JWT claim {} {:?}", path.join("."), jwt::claim(payload, path)),
        }
    }
}

//! Predicates: the tests every dialect's rules are made of.

use std::collections::HashMap;

use super::{IpSet, PathPattern, PathSet, StringSet};
use crate::request::{Peer, Request};

/// A test on a request. Dialects build these at configure time; evaluating one never fails.
#[derive(Clone, Debug)]
pub enum Pred {
    /// Always true.
    Always,
    /// Always false.
    Never,
    /// The peer presented a valid SPIFFE certificate.
    Authenticated,
    /// The peer's full SPIFFE ID (`spiffe://td/path`) is in the set.
    Principal(StringSet),
    /// The namespace of the peer's ID (`/ns/<ns>/...`) is in the set.
    Namespace(StringSet),
    /// `<ns>/<sa>` of a peer ID shaped `/ns/<ns>/sa/<sa>` is in the set.
    ServiceAccount(StringSet),
    /// The peer's trust domain is in the set.
    TrustDomain(StringSet),
    /// The connection's peer address is in the set.
    SourceIp(IpSet),
    /// The original client address is in the set.
    RemoteIp(IpSet),
    /// The connection's local address is in the set.
    DestinationIp(IpSet),
    /// The normalized host is in the set.
    Host(StringSet),
    /// The destination port is one of these.
    Port(Vec<u16>),
    /// The method is in the set.
    Method(StringSet),
    /// The canonical path matches a pattern.
    Path(PathSet, Vec<PathPattern>),
    /// Some value of the header (repeated headers each count) is in the set.
    Header(Box<str>, StringSet),
    /// The TLS SNI is in the set.
    Sni(StringSet),
    /// The request is gRPC.
    Grpc,
    /// Negation.
    Not(Box<Pred>),
    /// Conjunction (empty = true).
    All(Vec<Pred>),
    /// Disjunction (empty = false).
    Any(Vec<Pred>),
}

impl Pred {
    /// A path test.
    pub fn path(ps: Vec<PathPattern>) -> Pred {
        Pred::Path(PathSet::from_patterns(&ps), ps)
    }

    /// Negation, simplifying constants.
    pub fn negate(p: Pred) -> Pred {
        match p {
            Pred::Always => Pred::Never,
            Pred::Never => Pred::Always,
            Pred::Not(inner) => *inner,
            p => Pred::Not(Box::new(p)),
        }
    }

    /// Conjunction, flattening and simplifying constants.
    pub fn all(ps: Vec<Pred>) -> Pred {
        let mut out = Vec::with_capacity(ps.len());
        for p in ps {
            match p {
                Pred::Always => {}
                Pred::Never => return Pred::Never,
                Pred::All(inner) => out.extend(inner),
                p => out.push(p),
            }
        }
        match out.len() {
            0 => Pred::Always,
            1 => out.pop().unwrap_or(Pred::Always),
            _ => Pred::All(out),
        }
    }

    /// Disjunction, flattening and simplifying constants.
    pub fn any(ps: Vec<Pred>) -> Pred {
        let mut out = Vec::with_capacity(ps.len());
        for p in ps {
            match p {
                Pred::Never => {}
                Pred::Always => return Pred::Always,
                Pred::Any(inner) => out.extend(inner),
                p => out.push(p),
            }
        }
        match out.len() {
            0 => Pred::Never,
            1 => out.pop().unwrap_or(Pred::Never),
            _ => Pred::Any(out),
        }
    }

    /// Evaluates the test.
    pub fn matches(&self, r: &Request) -> bool {
        let id = r.peer.id();
        match self {
            Pred::Always => true,
            Pred::Never => false,
            Pred::Authenticated => matches!(r.peer, Peer::Spiffe(_)),
            Pred::Principal(s) => id.is_some_and(|id| s.matches(id.as_str())),
            Pred::Namespace(s) => id.and_then(|id| id.namespace()).is_some_and(|ns| s.matches(ns)),
            Pred::ServiceAccount(s) => id.is_some_and(|id| match (id.namespace(), id.service_account()) {
                (Some(ns), Some(sa)) => s.matches(&format!("{ns}/{sa}")),
                _ => false,
            }),
            Pred::TrustDomain(s) => id.is_some_and(|id| s.matches(id.trust_domain())),
            Pred::SourceIp(s) => r.source_ip.is_some_and(|ip| s.contains(ip)),
            Pred::RemoteIp(s) => r.remote_ip.or(r.source_ip).is_some_and(|ip| s.contains(ip)),
            Pred::DestinationIp(s) => r.destination_ip.is_some_and(|ip| s.contains(ip)),
            Pred::Host(s) => s.matches(&r.host),
            Pred::Port(ps) => r.port.is_some_and(|p| ps.contains(&p)),
            Pred::Method(s) => s.matches(&r.method),
            Pred::Path(s, _) => s.matches(&r.path),
            Pred::Header(name, s) => r.header_values(name).any(|v| s.matches(v)),
            Pred::Sni(s) => r.sni.as_deref().is_some_and(|v| s.matches(v)),
            Pred::Grpc => r.grpc,
            Pred::Not(p) => !p.matches(r),
            Pred::All(ps) => ps.iter().all(|p| p.matches(r)),
            Pred::Any(ps) => ps.iter().any(|p| p.matches(r)),
        }
    }

    /// Exact principals one of which the peer must have for this test to hold, if the test
    /// implies such a list. Used to index rules; `None` means "cannot index by principal".
    pub(crate) fn principal_keys(&self) -> Option<Vec<&str>> {
        match self {
            Pred::Principal(s) => s.exact_only().map(|i| i.collect()),
            Pred::All(ps) => ps.iter().filter_map(Pred::principal_keys).min_by_key(Vec::len),
            Pred::Any(ps) => union(ps.iter().map(Pred::principal_keys)),
            _ => None,
        }
    }

    /// Path patterns one of which the path must match for this test to hold, if implied.
    pub(crate) fn path_keys(&self) -> Option<Vec<&PathPattern>> {
        match self {
            Pred::Path(_, ps) if !ps.iter().any(|p| matches!(p, PathPattern::Any)) => Some(ps.iter().collect()),
            Pred::All(ps) => ps.iter().filter_map(Pred::path_keys).min_by_key(Vec::len),
            Pred::Any(ps) => union(ps.iter().map(Pred::path_keys)),
            _ => None,
        }
    }

    /// Header names this test reads (the filter fetches only these).
    pub fn headers_read<'a>(&'a self, out: &mut HashMap<&'a str, ()>) {
        match self {
            Pred::Header(n, _) => {
                out.insert(n, ());
            }
            Pred::Not(p) => p.headers_read(out),
            Pred::All(ps) | Pred::Any(ps) => ps.iter().for_each(|p| p.headers_read(out)),
            _ => {}
        }
    }
}

fn union<T>(keys: impl Iterator<Item = Option<Vec<T>>>) -> Option<Vec<T>> {
    let mut out = Vec::new();
    for k in keys {
        out.extend(k?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StringMatch;

    fn principal(v: &str) -> Pred {
        Pred::Principal(StringSet::from_matches([StringMatch::Exact(v.into())]))
    }

    #[test]
    fn constants_simplify() {
        assert!(matches!(Pred::all(vec![]), Pred::Always));
        assert!(matches!(Pred::any(vec![]), Pred::Never));
        assert!(matches!(Pred::all(vec![Pred::Never, principal("a")]), Pred::Never));
        assert!(matches!(Pred::negate(Pred::negate(Pred::Grpc)), Pred::Grpc));
    }

    #[test]
    fn unauthenticated_peers_match_no_principal() {
        let r = Request::new("GET", "/");
        assert!(!principal("").matches(&r));
        assert!(!Pred::Authenticated.matches(&r));
        assert!(Pred::negate(principal("spiffe://td/ns/a/sa/b")).matches(&r));
    }

    #[test]
    fn index_keys_follow_the_logic() {
        let p = Pred::all(vec![principal("a"), Pred::Grpc]);
        assert_eq!(p.principal_keys(), Some(vec!["a"]));
        let p = Pred::any(vec![principal("a"), principal("b")]);
        assert_eq!(p.principal_keys().map(|v| v.len()), Some(2));
        let p = Pred::any(vec![principal("a"), Pred::Grpc]);
        assert_eq!(p.principal_keys(), None);
        assert_eq!(Pred::negate(principal("a")).principal_keys(), None);
    }
}

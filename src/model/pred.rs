//! Predicates: the tests every dialect's rules are made of.

use super::strings::with_concat;
use super::{AuthoritySet, IdTest, IpSet, MetadataTest, PathPattern, PathSet, RequestPrincipals, StringSet};
use crate::request::{ReadPlan, Reads, Request};

/// A test on a request. Dialects build these at configure time; evaluating one never fails.
#[derive(Clone, Debug)]
pub enum Pred {
    /// Always true.
    Always,
    /// Always false.
    Never,
    /// The peer's full SPIFFE ID (`spiffe://td/path`) is in the set.
    Principal(StringSet),
    /// The namespace of the peer's ID (`/ns/<ns>/...`) is in the set.
    Namespace(StringSet),
    /// `<ns>/<sa>` of a peer ID shaped `/ns/<ns>/sa/<sa>` is in the set.
    ServiceAccount(StringSet),
    /// A test on the peer's whole SPIFFE ID, as istiod writes them (see [`IdTest`]).
    Id(IdTest),
    /// The connection's peer address is in the set (an unknown peer is in no set).
    SourceIp(IpSet),
    /// The connection's peer address is in the set, or unknown: [`Pred::SourceIp`] where a
    /// match refuses the request, made by [`Pred::guard`]. The peer is unknown when Envoy took
    /// `source.address` from X-Forwarded-For (`use_remote_address: false`, or trusted hops):
    /// the client chose it, so a DENY on peer addresses must still fire.
    SourceIpOrUnknown(IpSet),
    /// The original client address is in the set.
    RemoteIp(IpSet),
    /// The connection's local address is in the set.
    DestinationIp(IpSet),
    /// The `:authority` (or, for a test that refuses, the host) is in the set; see
    /// [`AuthoritySet`].
    Host(Box<AuthoritySet>),
    /// The destination port is one of these.
    Port(Vec<u16>),
    /// The method is in the set.
    Method(StringSet),
    /// The canonical path matches a pattern.
    Path(PathSet, Vec<PathPattern>),
    /// Some value of the header (repeated headers each count) is in the set. This is the
    /// owner's semantics (Envoy matches each value since CVE-2026-26308); layers that know
    /// whether a rule grants or refuses turn it into [`Pred::HeaderValues`] with
    /// [`Pred::guard`].
    Header(Box<str>, StringSet),
    /// A header test that repetition cannot dodge; see [`Quant`].
    HeaderValues(Box<str>, StringSet, Quant),
    /// The TLS SNI is in the set.
    Sni(StringSet),
    /// A value of the request's validated JWT is in the set (none without a JWT).
    Jwt(super::JwtField, StringSet),
    /// The request's validated JWT carries a listed `<iss>/<sub>` (Istio request principals).
    JwtPrincipal(RequestPrincipals),
    /// Another filter's dynamic metadata passes the test.
    Metadata(Box<MetadataTest>),
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

    /// Makes a rule's tests safe against what the client controls, given what the rule does
    /// when it matches: `grants` for a rule that lets a request through (Istio ALLOW), not for
    /// one that refuses it (Istio DENY). Three things are guarded: repeated headers (below), hosts, and
    /// an unknown peer address, which a refusing peer-address test counts as in its set
    /// ([`Pred::SourceIpOrUnknown`]) and a granting one as in none. Under a negation
    /// (`notValues`, `notIpBlocks`) the roles swap.
    ///
    /// Hosts: a test that grants matches the whole `:authority`, as Istio does; a test that
    /// refuses also matches the normalized host (see [`AuthoritySet`]).
    ///
    /// Repeated headers:
    /// An application behind the filter may read any one of the values of a repeated header
    /// (the first, the last, or a comma-joined list it splits again), so a test must hold for
    /// whichever value it reads: a test that grants holds only if it holds for *every* value
    /// ([`Quant::Every`]); a test that refuses holds if it holds for *some* value or some
    /// comma-separated element of one ([`Quant::Some`]). Under a negation (`notValues`) the
    /// roles swap. So `x-role: user` + `x-role: admin` is refused by a DENY on `admin`, is
    /// not granted by an ALLOW on `user`, and is refused by a DENY with `notValues: [user]`.
    pub fn guard(self, grants: bool) -> Pred {
        let q = if grants { Quant::Every } else { Quant::Some };
        match self {
            Pred::Header(n, s) | Pred::HeaderValues(n, s, _) => Pred::HeaderValues(n, s, q),
            Pred::SourceIp(s) | Pred::SourceIpOrUnknown(s) if grants => Pred::SourceIp(s),
            Pred::SourceIp(s) | Pred::SourceIpOrUnknown(s) => Pred::SourceIpOrUnknown(s),
            Pred::Host(mut s) => {
                s.widen(!grants);
                Pred::Host(s)
            }
            Pred::Not(p) => Pred::Not(Box::new(p.guard(!grants))),
            Pred::All(ps) => Pred::All(ps.into_iter().map(|p| p.guard(grants)).collect()),
            Pred::Any(ps) => Pred::Any(ps.into_iter().map(|p| p.guard(grants)).collect()),
            p => p,
        }
    }

    /// Evaluates the test.
    pub fn matches(&self, r: &Request) -> bool {
        let id = r.peer.id();
        match self {
            Pred::Always => true,
            Pred::Never => false,
            Pred::Principal(s) => id.is_some_and(|id| s.matches(id.as_str())),
            Pred::Namespace(s) => id.and_then(|id| id.namespace()).is_some_and(|ns| s.matches(ns)),
            Pred::ServiceAccount(s) => id.is_some_and(|id| match (id.namespace(), id.service_account()) {
                (Some(ns), Some(sa)) => with_concat(&[ns, "/", sa], |v| s.matches(v)),
                _ => false,
            }),
            Pred::SourceIp(s) => r.source_ip.is_some_and(|ip| s.contains(ip)),
            Pred::SourceIpOrUnknown(s) => r.source_ip.is_none_or(|ip| s.contains(ip)),
            Pred::RemoteIp(s) => r.remote_ip.or(r.source_ip).is_some_and(|ip| s.contains(ip)),
            Pred::DestinationIp(s) => r.destination_ip.is_some_and(|ip| s.contains(ip)),
            Pred::Id(t) => id.is_some_and(|id| t.matches(id)),
            Pred::Host(s) => s.matches(r),
            Pred::Port(ps) => r.port.is_some_and(|p| ps.contains(&p)),
            Pred::Method(s) => s.matches(&r.method),
            Pred::Path(s, _) => s.matches(&r.path),
            Pred::Header(name, s) => r.header_values(name).any(|v| s.matches(v)),
            Pred::HeaderValues(name, s, q) => q.matches(r.header_values(name), s),
            Pred::Sni(s) => r.sni.as_deref().is_some_and(|v| s.matches(v)),
            Pred::Jwt(f, s) => f.matches(r, s),
            Pred::JwtPrincipal(s) => s.matches(r),
            Pred::Metadata(t) => t.matches(r),
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

    /// Adds what this test reads (connection attributes, headers) to the filter's plan.
    pub fn plan(&self, plan: &mut ReadPlan) {
        let read = |r: Reads, plan: &mut ReadPlan| plan.read(r);
        match self {
            Pred::SourceIp(_) | Pred::SourceIpOrUnknown(_) | Pred::RemoteIp(_) => read(
                Reads {
                    source_ip: true,
                    ..Reads::NONE
                },
                plan,
            ),
            Pred::DestinationIp(_) => read(
                Reads {
                    destination_ip: true,
                    ..Reads::NONE
                },
                plan,
            ),
            Pred::Port(_) => read(
                Reads {
                    port: true,
                    ..Reads::NONE
                },
                plan,
            ),
            Pred::Sni(_) => read(
                Reads {
                    sni: true,
                    ..Reads::NONE
                },
                plan,
            ),
            Pred::Metadata(t) => plan.read_metadata(t.filter()),
            Pred::Jwt(..) | Pred::JwtPrincipal(_) => read(
                Reads {
                    jwt: true,
                    ..Reads::NONE
                },
                plan,
            ),
            Pred::Header(n, _) | Pred::HeaderValues(n, _, _) => plan.read_header(n),
            Pred::Not(p) => p.plan(plan),
            Pred::All(ps) | Pred::Any(ps) => ps.iter().for_each(|p| p.plan(plan)),
            Pred::Always
            | Pred::Never
            | Pred::Principal(_)
            | Pred::Namespace(_)
            | Pred::ServiceAccount(_)
            | Pred::Id(_)
            | Pred::Host(_)
            | Pred::Method(_)
            | Pred::Path(..) => {}
        }
    }
}

/// How a header test treats the header's values (a repeated header has several).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quant {
    /// Some value matches, or some comma-separated element of a value (RFC 9110 5.3: a list
    /// may be sent as repeated lines or joined with commas; OWS trimmed). Used where a match
    /// refuses the request.
    Some,
    /// The header is present and every value matches as a whole. Used where a match grants.
    Every,
}

impl Quant {
    fn matches<'a>(self, mut values: impl Iterator<Item = &'a str>, s: &StringSet) -> bool {
        match self {
            Quant::Some => values.any(|v| {
                s.matches(v) || (v.contains(',') && v.split(',').any(|e| s.matches(e.trim_matches([' ', '\t']))))
            }),
            Quant::Every => {
                let mut seen = false;
                values.all(|v| {
                    seen = true;
                    s.matches(v)
                }) && seen
            }
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
#[path = "pred_tests.rs"]
mod tests;

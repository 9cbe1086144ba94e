//! Inbound routes: which HTTPRoute / GRPCRoute rule of a Server a request belongs to.
//!
//! Linkerd picks the *best* match, not the first (linkerd2-proxy `linkerd/http/route`): every
//! match of every rule is summarized and the greatest summary wins, comparing in order
//! 1. the host match (a route without `hostnames` < a `*.suffix` match < an exact host; longer
//!    beats shorter within a kind),
//! 2. for HTTP, the number of path characters matched, *whatever the match type*: `Exact /foo`
//!    and `PathPrefix /foo` tie (`PathMatch`'s `Ord` compares lengths only), and a
//!    `RegularExpression` counts the whole path; for gRPC, the lengths of the matched service
//!    and method names,
//! 3. the number of header matches,
//! 4. for HTTP, the number of query parameter matches,
//! 5. for HTTP, whether a method was matched (`impl Ord for RequestMatch`: path, headers,
//!    query parameters, method);
//!
//! and a tie goes to the first in order: routes sorted by creation timestamp then by
//! group/kind/name (policy controller `to_route_list`), then rule order, then match order.
//!
//! The path part is indexed with `matchit`. Linkerd's path matches are static strings tested
//! segment-wise: `Exact /foo` is the route `/foo`, `PathPrefix /foo` is `/foo` plus the
//! catch-all `/foo/{*rest}` — exactly matchit's vocabulary, and matchit's answer (the most
//! specific route: static over catch-all, longest static prefix first, with backtracking) is
//! the *longest* path that matches, which is Linkerd's first criterion after the host. So each
//! matchit route stores the candidates of its own path plus those of every shorter `PathPrefix`
//! that also covers it (its ancestors); a method or header mismatch on the longest path then
//! falls back to the ancestors without a second walk. The candidates a request evaluates are
//! those whose path matches, never the whole route table.

mod grpc;
mod http;

pub(super) use grpc::GrpcRoutes;
pub(super) use http::HttpRoutes;

use super::authz::AuthzList;
use super::pattern::Anchored;
use super::query;
use crate::model::HostPattern;
use crate::request::Request;

/// A route as the proxy holds it: its resource, hostnames and own authorizations.
#[derive(Debug)]
pub(super) struct Route {
    /// The route's resource in the layer's metas; `None` for Linkerd's own routes.
    pub meta: Option<usize>,
    /// The name of one of Linkerd's own routes (`default`, `probe`) when `meta` is `None`.
    pub name: &'static str,
    pub hosts: Vec<HostPattern>,
    /// Authorizations targeting this route (AuthorizationPolicy `targetRef` HTTPRoute /
    /// GRPCRoute); the Server's are checked after them.
    pub authz: AuthzList,
}

impl Route {
    /// `None`: the route's hostnames exclude the request. `Some(None)`: no hostnames. Linkerd's
    /// `HostMatch` order: an exact host beats a `*.suffix`, a longer one a shorter.
    fn host_score(&self, host: &str) -> Option<Option<(u8, usize)>> {
        if self.hosts.is_empty() {
            return Some(None);
        }
        self.hosts.iter().filter_map(|h| h.score(host)).max().map(Some)
    }
}

/// An HTTP path match.
/// An HTTP path match.
#[derive(Clone, Debug)]
pub(super) enum PathSpec {
    /// `Exact`.
    Exact(String),
    /// `PathPrefix`, segment-wise.
    Prefix(String),
    /// `RegularExpression`, anchored at both ends of the path.
    Regex(Anchored),
}

/// A header or query parameter value match.
#[derive(Clone, Debug)]
pub(super) enum ValueSpec {
    /// `Exact`.
    Exact(String),
    /// `RegularExpression`, anchored at both ends of the value.
    Regex(Anchored),
}

/// One named value test: a header (lowercase name) or a query parameter.
#[derive(Clone, Debug)]
pub(super) struct NamedValue {
    pub name: String,
    pub value: ValueSpec,
}

/// One HTTPRoute match.
#[derive(Clone, Debug)]
pub(super) struct HttpMatchSpec {
    pub path: PathSpec,
    pub method: Option<String>,
    pub headers: Vec<NamedValue>,
    pub query: Vec<NamedValue>,
}

impl HttpMatchSpec {
    /// The implicit match of a rule without matches: `PathPrefix /`.
    pub fn any() -> HttpMatchSpec {
        HttpMatchSpec {
            path: PathSpec::Prefix("/".into()),
            method: None,
            headers: Vec::new(),
            query: Vec::new(),
        }
    }
}

/// One GRPCRoute match (`None` service or method: any).
#[derive(Clone, Debug, Default)]
pub(super) struct GrpcMatchSpec {
    pub service: Option<String>,
    pub method: Option<String>,
    pub headers: Vec<NamedValue>,
}

/// A route with its rules, each a list of matches (an empty list matches every request).
pub(super) struct RouteSpec<M> {
    pub route: Route,
    pub rules: Vec<Vec<M>>,
}

/// The route a request belongs to.
#[derive(Clone, Copy, Debug)]
pub(super) struct Found<'a> {
    pub route: &'a Route,
    pub rule: usize,
}

/// Linkerd cannot be followed: a `RegularExpression` that Linkerd reads with Unicode classes
/// (`\w`, `\d`, `\s`, `\b`, `(?i)`) meets a query parameter value with non-ASCII
/// characters, where this build's ASCII classes could pick another route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Undecidable;

/// (host match, path length or service length, headers or method length, headers or query
/// parameters, method): the greater wins.
type Key = (Option<(u8, usize)>, usize, usize, usize, usize);

/// The rule with the highest precedence key among candidate `ids` (on a tie the lowest id, i.e.
/// the route listed first), as a [`Found`]. `ids` may come in any order and repeat: nothing is
/// collected or sorted per request. `key` is `Ok(None)` for a candidate that does not match.
fn best_of<'r, C>(
    routes: &'r [Route],
    cands: &[C],
    ids: impl IntoIterator<Item = u32>,
    at: impl Fn(&C) -> (u32, u32),
    key: impl Fn(&C, &Route) -> Result<Option<Key>, Undecidable>,
) -> Result<Option<Found<'r>>, Undecidable> {
    let mut best: Option<(Key, u32, &C)> = None;
    for id in ids {
        let Some(c) = cands.get(id as usize) else { continue };
        let Some(route) = routes.get(at(c).0 as usize) else {
            continue;
        };
        let Some(k) = key(c, route)? else { continue };
        if best.as_ref().is_none_or(|(b, bid, _)| k > *b || (k == *b && id < *bid)) {
            best = Some((k, id, c));
        }
    }
    Ok(best.and_then(|(_, _, c)| {
        let (route, rule) = at(c);
        Some(Found {
            route: routes.get(route as usize)?,
            rule: rule as usize,
        })
    }))
}

/// Every header test holds (linkerd/http/route `MatchHeader::is_match`): some value of the
/// header equals an `Exact` value; a `RegularExpression` is tried only on values that are
/// visible ASCII (`HeaderValue::to_str`), where this build's regex engine and Linkerd's agree.
fn headers_match(hs: &[NamedValue], req: &Request) -> bool {
    hs.iter().all(|h| {
        req.header_values(&h.name).any(|v| match &h.value {
            ValueSpec::Exact(want) => v == want,
            ValueSpec::Regex(re) => v.bytes().all(|b| b == b'\t' || (32..127).contains(&b)) && re.is_match(v),
        })
    })
}

/// Every query parameter test holds (`MatchQueryParam::is_match`): some decoded
/// `name=value` pair of the query has the name and a matching value.
fn query_match(qs: &[NamedValue], req: &Request) -> Result<bool, Undecidable> {
    for q in qs {
        let mut found = false;
        for (n, v) in req.query.as_deref().map(query::pairs).into_iter().flatten() {
            if n != q.name {
                continue;
            }
            let hit = match &q.value {
                ValueSpec::Exact(want) => v == want.as_str(),
                ValueSpec::Regex(re) if !v.is_ascii() && re.unicode_classes() => return Err(Undecidable),
                ValueSpec::Regex(re) => re.is_match(&v),
            };
            if hit {
                found = true;
                break;
            }
        }
        if !found {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests;

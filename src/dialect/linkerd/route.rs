//! Inbound routes: which HTTPRoute / GRPCRoute rule of a Server a request belongs to.
//!
//! Linkerd picks the *best* match, not the first (linkerd2-proxy `linkerd/http/route`): every
//! match of every rule is summarized and the greatest summary wins, comparing in order
//! 1. the host match (a route without `hostnames` < a `*.suffix` match < an exact host; longer
//!    beats shorter within a kind),
//! 2. for HTTP, the number of path characters matched, *whatever the match type*: `Exact /foo`
//!    and `PathPrefix /foo` tie (`PathMatch`'s `Ord` compares lengths only); for gRPC, the
//!    lengths of the matched service and method names,
//! 3. for HTTP, whether a method was matched,
//! 4. the number of header matches;
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

use std::collections::{BTreeSet, HashMap};

use super::authz::AuthzList;
use crate::model::HostPattern;
use crate::request::Request;

/// A route as the proxy holds it: its resource, hostnames and own authorizations.
#[derive(Debug)]
pub(super) struct Route {
    /// The route's resource in the layer's metas; `None` for Linkerd's default route.
    pub meta: Option<usize>,
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum PathSpec {
    /// `Exact`.
    Exact(String),
    /// `PathPrefix`, segment-wise.
    Prefix(String),
}

/// One HTTPRoute match.
#[derive(Clone, Debug)]
pub(super) struct HttpMatchSpec {
    pub path: PathSpec,
    pub method: Option<String>,
    /// Exact header matches (lowercase name, value).
    pub headers: Vec<(String, String)>,
}

/// One GRPCRoute match (`None` service or method: any).
#[derive(Clone, Debug, Default)]
pub(super) struct GrpcMatchSpec {
    pub service: Option<String>,
    pub method: Option<String>,
    pub headers: Vec<(String, String)>,
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

type Key = (Option<(u8, usize)>, usize, usize, usize);

/// The rule with the highest precedence key among candidate `ids` (on a tie the lowest id, i.e.
/// the route listed first), as a [`Found`]. `ids` may come in any order and repeat: nothing is
/// collected or sorted per request. `key` is `None` for a candidate that does not match.
fn best_of<'r, C>(
    routes: &'r [Route],
    cands: &[C],
    ids: impl IntoIterator<Item = u32>,
    at: impl Fn(&C) -> (u32, u32),
    key: impl Fn(&C, &Route) -> Option<Key>,
) -> Option<Found<'r>> {
    let mut best: Option<(Key, u32, &C)> = None;
    for id in ids {
        let Some(c) = cands.get(id as usize) else { continue };
        let Some(route) = routes.get(at(c).0 as usize) else {
            continue;
        };
        let Some(k) = key(c, route) else { continue };
        if best.as_ref().is_none_or(|(b, bid, _)| k > *b || (k == *b && id < *bid)) {
            best = Some((k, id, c));
        }
    }
    best.and_then(|(_, _, c)| {
        let (route, rule) = at(c);
        Some(Found {
            route: routes.get(route as usize)?,
            rule: rule as usize,
        })
    })
}

fn headers_match(hs: &[(Box<str>, Box<str>)], req: &Request) -> bool {
    hs.iter().all(|(n, v)| req.header_values(n).any(|x| x == &**v))
}

fn boxed(hs: Vec<(String, String)>) -> Vec<(Box<str>, Box<str>)> {
    hs.into_iter().map(|(n, v)| (n.into(), v.into())).collect()
}

#[derive(Debug)]
struct HttpCand {
    route: u32,
    rule: u32,
    path_len: usize,
    method: Option<Box<str>>,
    headers: Vec<(Box<str>, Box<str>)>,
}

#[derive(Debug, Default)]
struct Node {
    is_static: bool,
    exact: Vec<u32>,
    prefix: Vec<u32>,
}

/// The HTTP routes of one Server, indexed.
pub(super) struct HttpRoutes {
    pub routes: Vec<Route>,
    cands: Vec<HttpCand>,
    router: matchit::Router<usize>,
    nodes: Vec<Node>,
}

/// Escapes matchit's parameter braces in a literal path.
fn escape(p: &str) -> String {
    p.replace('{', "{{").replace('}', "}}")
}

/// `/a/b/c` → `["", "/a", "/a/b", "/a/b/c"]`: the bases of every `PathPrefix` covering it
/// (`""` stands for `PathPrefix /`).
fn ancestors(s: &str) -> impl Iterator<Item = &str> {
    std::iter::once("")
        .chain(s.match_indices('/').filter(|(i, _)| *i > 0).map(move |(i, _)| &s[..i]))
        .chain((s != "/" && !s.is_empty()).then_some(s))
}

impl HttpRoutes {
    /// Indexes routes given in precedence order.
    pub fn build(specs: Vec<RouteSpec<HttpMatchSpec>>) -> Result<HttpRoutes, String> {
        let mut routes = Vec::new();
        let mut cands = Vec::new();
        let mut exact: HashMap<String, Vec<u32>> = HashMap::new();
        let mut prefix: HashMap<String, Vec<u32>> = HashMap::new();
        for (ri, spec) in specs.into_iter().enumerate() {
            routes.push(spec.route);
            for (rule, ms) in spec.rules.into_iter().enumerate() {
                let implicit = [HttpMatchSpec {
                    path: PathSpec::Prefix("/".into()),
                    method: None,
                    headers: Vec::new(),
                }];
                let ms = if ms.is_empty() { implicit.to_vec() } else { ms };
                for m in ms {
                    let id = cands.len() as u32;
                    let (path_len, slot) = match &m.path {
                        PathSpec::Exact(p) => (p.len(), exact.entry(p.clone()).or_default()),
                        PathSpec::Prefix(p) => {
                            let base = p.trim_end_matches('/');
                            (base.len().max(1), prefix.entry(base.to_string()).or_default())
                        }
                    };
                    slot.push(id);
                    cands.push(HttpCand {
                        route: ri as u32,
                        rule: rule as u32,
                        path_len,
                        method: m.method.map(Into::into),
                        headers: boxed(m.headers),
                    });
                }
            }
        }
        let mut statics: BTreeSet<String> = exact.keys().cloned().collect();
        statics.extend(prefix.keys().map(|b| if b.is_empty() { "/".into() } else { b.clone() }));
        let covering = |s: &str| -> Vec<u32> {
            let mut v: Vec<u32> = ancestors(s).filter_map(|a| prefix.get(a)).flatten().copied().collect();
            v.sort_unstable();
            v
        };
        let mut router = matchit::Router::new();
        let mut nodes = Vec::new();
        for s in &statics {
            router
                .insert(escape(s), nodes.len())
                .map_err(|e| format!("path {s:?}: {e}"))?;
            nodes.push(Node {
                is_static: true,
                exact: exact.get(s).cloned().unwrap_or_default(),
                prefix: covering(s),
            });
        }
        for base in prefix.keys() {
            router
                .insert(format!("{}/{{*rest}}", escape(base)), nodes.len())
                .map_err(|e| format!("path prefix {base:?}: {e}"))?;
            nodes.push(Node {
                is_static: false,
                exact: Vec::new(),
                prefix: covering(base),
            });
        }
        Ok(HttpRoutes {
            routes,
            cands,
            router,
            nodes,
        })
    }

    /// Ids of the candidates whose path matches.
    fn path_cands(&self, path: &str) -> [&[u32]; 3] {
        let trimmed = match path.trim_end_matches('/') {
            "" => "/",
            t => t,
        };
        let node = |p| self.router.at(p).ok().and_then(|m| self.nodes.get(*m.value));
        let (mut exact, mut prefix, mut trimmed_prefix): (&[u32], &[u32], &[u32]) = (&[], &[], &[]);
        if let Some(n) = node(path) {
            if n.is_static {
                exact = &n.exact;
            }
            if trimmed == path {
                prefix = &n.prefix;
            }
        }
        if trimmed != path {
            if let Some(n) = node(trimmed) {
                trimmed_prefix = &n.prefix;
            }
        }
        [exact, prefix, trimmed_prefix]
    }

    /// The best-matching rule, or `None` (Linkerd answers 404).
    pub fn find(&self, req: &Request) -> Option<Found<'_>> {
        let ids = self.path_cands(&req.path).into_iter().flatten().copied();
        best_of(
            &self.routes,
            &self.cands,
            ids,
            |c| (c.route, c.rule),
            |c, route| {
                if c.method.as_deref().is_some_and(|m| m != req.method) || !headers_match(&c.headers, req) {
                    return None;
                }
                Some((
                    route.host_score(&req.host)?,
                    c.path_len,
                    usize::from(c.method.is_some()),
                    c.headers.len(),
                ))
            },
        )
    }
}

#[derive(Debug)]
struct GrpcCand {
    route: u32,
    rule: u32,
    /// A rule without matches: matches every request, gRPC or not, any method.
    implicit: bool,
    service: Option<Box<str>>,
    method: Option<Box<str>>,
    headers: Vec<(Box<str>, Box<str>)>,
}

/// Explicit gRPC matches by what they name, looked up with the request's `&str`s (no per-request
/// allocation): service and method, service only, method only, neither.
#[derive(Default)]
struct RpcIndex {
    both: HashMap<Box<str>, HashMap<Box<str>, Vec<u32>>>,
    service: HashMap<Box<str>, Vec<u32>>,
    method: HashMap<Box<str>, Vec<u32>>,
    any: Vec<u32>,
}

impl RpcIndex {
    fn insert(&mut self, service: Option<&str>, method: Option<&str>, id: u32) {
        let ids = match (service, method) {
            (Some(s), Some(m)) => self.both.entry(s.into()).or_default().entry(m.into()).or_default(),
            (Some(s), None) => self.service.entry(s.into()).or_default(),
            (None, Some(m)) => self.method.entry(m.into()).or_default(),
            (None, None) => &mut self.any,
        };
        ids.push(id);
    }

    fn matches(&self, service: &str, method: &str) -> [&[u32]; 4] {
        let both = self.both.get(service).and_then(|ms| ms.get(method));
        fn slice(v: Option<&Vec<u32>>) -> &[u32] {
            v.map_or(&[], Vec::as_slice)
        }
        [
            slice(both),
            slice(self.service.get(service)),
            slice(self.method.get(method)),
            &self.any,
        ]
    }
}

/// The gRPC routes of one Server, indexed by (service, method).
pub(super) struct GrpcRoutes {
    pub routes: Vec<Route>,
    cands: Vec<GrpcCand>,
    by_rpc: RpcIndex,
    implicit: Vec<u32>,
}

/// `/pkg.Service/Method` → (service, method), as the proxy splits it.
fn rpc_of(path: &str) -> Option<(&str, &str)> {
    let mut parts = path.split('/');
    if !parts.next()?.is_empty() {
        return None;
    }
    Some((parts.next()?, parts.next()?))
}

impl GrpcRoutes {
    /// Indexes routes given in precedence order.
    pub fn build(specs: Vec<RouteSpec<GrpcMatchSpec>>) -> GrpcRoutes {
        let mut g = GrpcRoutes {
            routes: Vec::new(),
            cands: Vec::new(),
            by_rpc: RpcIndex::default(),
            implicit: Vec::new(),
        };
        for (ri, spec) in specs.into_iter().enumerate() {
            g.routes.push(spec.route);
            for (rule, ms) in spec.rules.into_iter().enumerate() {
                let implicit = ms.is_empty();
                let ms = if implicit { vec![GrpcMatchSpec::default()] } else { ms };
                for m in ms {
                    let id = g.cands.len() as u32;
                    let service: Option<Box<str>> = m.service.map(Into::into);
                    let method: Option<Box<str>> = m.method.map(Into::into);
                    if implicit {
                        g.implicit.push(id);
                    } else {
                        g.by_rpc.insert(service.as_deref(), method.as_deref(), id);
                    }
                    g.cands.push(GrpcCand {
                        route: ri as u32,
                        rule: rule as u32,
                        implicit,
                        service,
                        method,
                        headers: boxed(m.headers),
                    });
                }
            }
        }
        g
    }

    /// The best-matching rule, or `None` (Linkerd answers 404).
    pub fn find(&self, req: &Request) -> Option<Found<'_>> {
        // Explicit matches need a POST to `/service/method` (`MatchRoute::match_request`).
        let explicit = (req.method == "POST")
            .then(|| rpc_of(&req.path))
            .flatten()
            .map(|(s, m)| self.by_rpc.matches(s, m));
        let ids = self
            .implicit
            .iter()
            .chain(explicit.into_iter().flatten().flatten())
            .copied();
        best_of(
            &self.routes,
            &self.cands,
            ids,
            |c| (c.route, c.rule),
            |c, route| {
                if !c.implicit && !headers_match(&c.headers, req) {
                    return None;
                }
                let svc = c.service.as_deref().map_or(0, str::len);
                let method = c.method.as_deref().map_or(0, str::len);
                Some((route.host_score(&req.host)?, svc, method, c.headers.len()))
            },
        )
    }
}

#[cfg(test)]
#[path = "route_tests.rs"]
mod tests;

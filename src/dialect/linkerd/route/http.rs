//! The HTTP routes of one Server, indexed by path (see the parent module's docs).

use std::collections::{BTreeSet, HashMap};

use super::{best_of, headers_match, query_match, Found, HttpMatchSpec, NamedValue, PathSpec, Route, RouteSpec};
use super::{Key, Undecidable};
use crate::request::Request;

#[derive(Debug)]
struct HttpCand {
    route: u32,
    rule: u32,
    /// The characters of the path matched; `None` for a `RegularExpression` (the whole path).
    path_len: Option<usize>,
    regex: Option<super::Anchored>,
    method: Option<Box<str>>,
    headers: Vec<NamedValue>,
    query: Vec<NamedValue>,
}

#[derive(Debug, Default)]
struct Node {
    is_static: bool,
    exact: Vec<u32>,
    prefix: Vec<u32>,
}

/// The HTTP routes of one Server, indexed.
pub(in super::super) struct HttpRoutes {
    pub routes: Vec<Route>,
    cands: Vec<HttpCand>,
    router: matchit::Router<usize>,
    nodes: Vec<Node>,
    /// `RegularExpression` path matches: tried on every request.
    regexes: Vec<u32>,
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
        let mut regexes = Vec::new();
        let mut exact: HashMap<String, Vec<u32>> = HashMap::new();
        let mut prefix: HashMap<String, Vec<u32>> = HashMap::new();
        for (ri, spec) in specs.into_iter().enumerate() {
            routes.push(spec.route);
            for (rule, ms) in spec.rules.into_iter().enumerate() {
                let ms = if ms.is_empty() { vec![HttpMatchSpec::any()] } else { ms };
                for m in ms {
                    let id = cands.len() as u32;
                    let HttpMatchSpec {
                        path,
                        method,
                        headers,
                        query,
                    } = m;
                    let (path_len, regex) = match path {
                        PathSpec::Exact(p) => {
                            exact.entry(p.clone()).or_default().push(id);
                            (Some(p.len()), None)
                        }
                        PathSpec::Prefix(p) => {
                            let base = p.trim_end_matches('/');
                            prefix.entry(base.to_string()).or_default().push(id);
                            (Some(base.len().max(1)), None)
                        }
                        PathSpec::Regex(re) => {
                            regexes.push(id);
                            (None, Some(re))
                        }
                    };
                    cands.push(HttpCand {
                        route: ri as u32,
                        rule: rule as u32,
                        path_len,
                        regex,
                        method: method.map(Into::into),
                        headers,
                        query,
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
            regexes,
        })
    }

    /// Ids of the candidates whose `Exact` or `PathPrefix` path matches.
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

    /// The candidate's precedence key, `None` when it does not match (`MatchRequest::
    /// match_request`: method, path, headers, query parameters must all hold).
    fn key(c: &HttpCand, route: &Route, req: &Request) -> Result<Option<Key>, Undecidable> {
        if c.method.as_deref().is_some_and(|m| m != req.method) {
            return Ok(None);
        }
        let path_len = match (&c.regex, c.path_len) {
            (Some(re), _) if re.is_match(&req.path) => req.path.len(),
            (Some(_), _) => return Ok(None),
            (None, len) => len.unwrap_or(0),
        };
        if !headers_match(&c.headers, req) || !query_match(&c.query, req)? {
            return Ok(None);
        }
        let Some(host) = route.host_score(&req.host) else {
            return Ok(None);
        };
        Ok(Some((
            host,
            path_len,
            c.headers.len(),
            c.query.len(),
            usize::from(c.method.is_some()),
        )))
    }

    /// The best-matching rule, `Ok(None)` when none matches (Linkerd answers 404).
    pub fn find(&self, req: &Request) -> Result<Option<Found<'_>>, Undecidable> {
        let ids = self
            .path_cands(&req.path)
            .into_iter()
            .flatten()
            .chain(&self.regexes)
            .copied();
        best_of(
            &self.routes,
            &self.cands,
            ids,
            |c| (c.route, c.rule),
            |c, route| Self::key(c, route, req),
        )
    }
}

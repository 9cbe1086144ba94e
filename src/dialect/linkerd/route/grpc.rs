//! The gRPC routes of one Server, indexed by (service, method).

use std::collections::HashMap;

use super::{best_of, headers_match, Found, GrpcMatchSpec, NamedValue, Route, RouteSpec, Undecidable};
use crate::request::Request;

#[derive(Debug)]
struct GrpcCand {
    route: u32,
    rule: u32,
    /// A rule without matches: matches every request, gRPC or not, any method.
    implicit: bool,
    service: Option<Box<str>>,
    method: Option<Box<str>>,
    headers: Vec<NamedValue>,
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
pub(in super::super) struct GrpcRoutes {
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
                    let GrpcMatchSpec {
                        service,
                        method,
                        headers,
                    } = m;
                    let service: Option<Box<str>> = service.map(Into::into);
                    let method: Option<Box<str>> = method.map(Into::into);
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
                        headers,
                    });
                }
            }
        }
        g
    }

    /// The best-matching rule, `Ok(None)` when none matches (Linkerd answers 404).
    pub fn find(&self, req: &Request) -> Result<Option<Found<'_>>, Undecidable> {
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
                    return Ok(None);
                }
                let svc = c.service.as_deref().map_or(0, str::len);
                let method = c.method.as_deref().map_or(0, str::len);
                Ok(route
                    .host_score(&req.host)
                    .map(|host| (host, svc, method, c.headers.len(), 0)))
            },
        )
    }
}

//! Linkerd policy (`policy.linkerd.io`, and Gateway API routes attached to Servers), decided
//! as Linkerd's proxy decides it.
//!
//! Per request (linkerd2-proxy `linkerd/app/inbound/src/policy/http.rs`):
//! 1. The destination port selects the server policy: the Server that selects this workload
//!    and port, else the default inbound policy (`settings.linkerd.defaultInboundPolicy`).
//! 2. The request is matched to the server's best route (see [`route`]). No route: **404**
//!    ("no route found for request"). A Server without routes has a default route matching
//!    everything; an `opaque` / `TLS` Server has none and authorizes the connection.
//! 3. The route's own authorizations (AuthorizationPolicies targeting it) are checked, then
//!    the Server's (ServerAuthorizations, AuthorizationPolicies targeting the Server or its
//!    namespace, the `accessPolicy` default, the built-in `default:localhost`). The first that
//!    permits the client allows the request; none: **403** (gRPC: PERMISSION_DENIED).
//! 4. `audit` (as `accessPolicy` or default policy) permits everyone; a request allowed only
//!    by it is reported as the denial it would otherwise be.

mod assemble;
mod authz;
mod compile;
mod identity;
mod lower;
mod objects;
mod route;
mod server;
mod wire;

use self::authz::{AuthzList, DefaultPolicy, Source};
use self::identity::Client;
use self::route::Found;
use self::server::{Routes, Selected, ServerPolicy};
use super::{Ctx, Effects, Layer, Resource};
use crate::decision::{Effect, RuleRef, Verdict};
use crate::error::{BundleError, Warning};
use crate::model::{Dialect, Meta};
use crate::request::Request;

/// The Linkerd layer of one workload.
pub(crate) struct LinkerdLayer {
    c: compile::Compiled,
}

/// Compiles the Linkerd resources of the bundle.
pub(crate) fn compile(
    rs: Vec<Resource<'_>>,
    ctx: &Ctx<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<Box<dyn Layer>, BundleError> {
    let c = compile::compile(&rs, ctx, warnings)?;
    Ok(Box::new(LinkerdLayer { c }))
}

/// What decided, before it is worded.
enum Outcome<'e> {
    Ambiguous(usize),
    NotFound(&'e ServerPolicy),
    Decided {
        server: &'e ServerPolicy,
        route: Option<Found<'e>>,
        by: Option<Source>,
    },
}

impl LinkerdLayer {
    fn meta(&self, i: Option<usize>) -> Option<&Meta> {
        i.and_then(|i| self.c.metas.get(i))
    }

    fn rule_ref(&self, i: Option<usize>, rule: Option<usize>) -> Option<RuleRef<'_>> {
        self.meta(i).map(|meta| RuleRef { meta, rule })
    }

    fn source_name(&self, s: Source) -> String {
        match s {
            Source::Resource(i) => self.meta(Some(i)).map(|m| m.to_string()).unwrap_or_default(),
            Source::Default(n) => format!("default:{n}"),
        }
    }

    fn route_name(&self, f: &Found<'_>) -> String {
        match self.meta(f.route.meta) {
            Some(m) => format!("{m} rule {}", f.rule),
            None => "the default route".into(),
        }
    }

    fn outcome<'e>(&'e self, req: &Request, client: &Client<'_>) -> Outcome<'e> {
        let server = match self.c.ports.select(req.port) {
            Selected::Port(s) | Selected::OnlyServer(s) => s,
            Selected::Ambiguous(n) => return Outcome::Ambiguous(n),
        };
        let route = match &server.routes {
            Routes::Http(t) => match t.find(req) {
                Some(f) => Some(f),
                None => return Outcome::NotFound(server),
            },
            Routes::Grpc(t) => match t.find(req) {
                Some(f) => Some(f),
                None => return Outcome::NotFound(server),
            },
            Routes::None => None,
        };
        let lists: [Option<&AuthzList>; 2] = [route.map(|f| &f.route.authz), Some(&server.authz)];
        let by = lists
            .into_iter()
            .flatten()
            .find_map(|l| l.first_permitting(client))
            .map(|a| a.source);
        Outcome::Decided { server, route, by }
    }
}

/// Why a default authorization allowed (static: allowed requests allocate no reason).
fn default_allow_reason(name: &str) -> &'static str {
    match name {
        "localhost" => "default:localhost: Linkerd's proxy always permits loopback clients",
        "all-unauthenticated" => "default:all-unauthenticated permits every client",
        "all-authenticated" => "default:all-authenticated permits every client with a mesh identity",
        "cluster-unauthenticated" => "default:cluster-unauthenticated permits every client in the cluster networks",
        "cluster-authenticated" => {
            "default:cluster-authenticated permits clients with a mesh identity in the cluster networks"
        }
        _ => "a default authorization permits the client",
    }
}

fn describe(c: &Client<'_>) -> String {
    let who = c.uri.unwrap_or("an unauthenticated client");
    match c.ip {
        Some(ip) => format!("{who} from {ip}"),
        None => format!("{who} (address unknown)"),
    }
}

impl Layer for LinkerdLayer {
    fn dialect(&self) -> Dialect {
        Dialect::Linkerd
    }

    /// The destination port selects the Server; the client address meets NetworkAuthentications
    /// and the cluster networks of the default policies.
    fn reads(&self) -> crate::request::Reads {
        crate::request::Reads {
            port: true,
            source_ip: true,
            ..crate::request::Reads::NONE
        }
    }

    fn decide<'e>(&'e self, req: &Request, fx: &mut Effects<'e>) -> Verdict<'e> {
        let client = Client::of(req, &self.c.control_plane_ns);
        let v = |effect, by, reason: String| Verdict::new(Dialect::Linkerd, effect, by, reason);
        match self.outcome(req, &client) {
            Outcome::Ambiguous(n) => v(
                Effect::Deny,
                None,
                format!(
                    "the destination port is unknown and {n} Servers select this workload: cannot tell which applies"
                ),
            ),
            Outcome::NotFound(s) => v(
                Effect::NotFound,
                self.rule_ref(s.meta, None),
                format!("no route of {} matches {} {}", s.label, req.method, req.path),
            ),
            Outcome::Decided { server, route, by } => {
                // Allowed requests are the common case: their reasons are static (the
                // verdict's `by` names the authorization); only denials are worded in full.
                let at = || match &route {
                    Some(f) if f.route.meta.is_some() => format!("{} ({})", server.label, self.route_name(f)),
                    _ => server.label.clone(),
                };
                let deciding = || {
                    route
                        .and_then(|f| f.route.meta.map(|m| (m, f.rule)))
                        .and_then(|(m, r)| self.rule_ref(Some(m), Some(r)))
                        .or_else(|| self.rule_ref(server.meta, None))
                };
                match by {
                    Some(Source::Default("audit")) => {
                        fx.dry_run.push(v(
                            Effect::Deny,
                            deciding(),
                            format!(
                                "audit: no authorization of {} permits {}; allowed because the policy is audit",
                                at(),
                                describe(&client)
                            ),
                        ));
                        Verdict::new(
                            Dialect::Linkerd,
                            Effect::Allow,
                            deciding(),
                            "allowed by default:audit (reported as the denial it would be)",
                        )
                    }
                    Some(Source::Resource(i)) => Verdict::new(
                        Dialect::Linkerd,
                        Effect::Allow,
                        self.rule_ref(Some(i), None),
                        "an authorization of the Server or its route permits the client",
                    ),
                    Some(Source::Default(name)) => Verdict::new(
                        Dialect::Linkerd,
                        Effect::Allow,
                        self.rule_ref(server.meta, None),
                        default_allow_reason(name),
                    ),
                    None => {
                        let why = if server.meta.is_none() && server.access == DefaultPolicy::Deny {
                            "the port has no Server and the default inbound policy is deny".to_string()
                        } else {
                            format!("no authorization of {} permits {}", at(), describe(&client))
                        };
                        v(Effect::Deny, deciding(), why)
                    }
                }
            }
        }
    }

    fn explain(&self, req: &Request) -> Vec<String> {
        let client = Client::of(req, &self.c.control_plane_ns);
        let mut out = vec![format!(
            "client: {}{}",
            describe(&client),
            client
                .dns()
                .map(|d| format!(", Linkerd identity {d}"))
                .unwrap_or_default()
        )];
        let server = match (req.port, self.c.ports.select(req.port)) {
            (_, Selected::Ambiguous(n)) => {
                out.push(format!(
                    "server: port unknown and {n} Servers select this workload (pass --port)"
                ));
                return out;
            }
            (None, Selected::OnlyServer(s)) => {
                out.push(format!(
                    "server: port unknown; {} is the only Server of this workload",
                    s.label
                ));
                s
            }
            (Some(p), Selected::Port(s)) if s.meta.is_none() => {
                out.push(format!(
                    "server: port {p} has no Server: default inbound policy {}",
                    s.access.name()
                ));
                s
            }
            (p, Selected::Port(s) | Selected::OnlyServer(s)) => {
                let p = p.map(|p| p.to_string()).unwrap_or_else(|| "unknown".into());
                out.push(format!(
                    "server: port {p} -> {} (proxyProtocol {}, accessPolicy {})",
                    s.label,
                    s.protocol.name(),
                    s.access.name()
                ));
                s
            }
        };
        let route = match &server.routes {
            Routes::Http(t) => t.find(req),
            Routes::Grpc(t) => t.find(req),
            Routes::None => None,
        };
        match (&server.routes, &route) {
            (Routes::None, _) => out.push("route: none (opaque/TLS server: connection-level authorization)".into()),
            (_, None) => {
                out.push(format!("route: no route matches {} {} -> 404", req.method, req.path));
                return out;
            }
            (_, Some(f)) => out.push(format!("route: {}", self.route_name(f))),
        }
        let lists = [
            route.map(|f| ("route", &f.route.authz)),
            Some(("server", &server.authz)),
        ];
        for (level, list) in lists.into_iter().flatten() {
            for a in &list.items {
                let res = match a.check(&client) {
                    Ok(()) => "permits".to_string(),
                    Err(m) => format!("does not permit: {m}"),
                };
                out.push(format!("{level} authorization {}: {res}", self.source_name(a.source)));
            }
        }
        let mut fx = Effects::default();
        let v = self.decide(req, &mut fx);
        out.push(format!("verdict: {} ({})", v.effect.name(), v.reason));
        out.extend(fx.dry_run.iter().map(|d| format!("reported: {}", d.reason)));
        out
    }

    fn headers_read(&self) -> Vec<String> {
        self.c.headers.clone()
    }
}

#[cfg(test)]
mod tests;

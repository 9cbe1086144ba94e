//! Linkerd policy (`policy.linkerd.io`, and Gateway API routes attached to Servers), decided
//! as Linkerd's proxy decides it.
//!
//! Per request (linkerd2-proxy `linkerd/app/inbound/src/policy/http.rs`):
//! 1. The destination port selects the server policy: the Server that selects this workload
//!    and port, else the default inbound policy (`settings.linkerd.defaultInboundPolicy`).
//! 2. The request is matched to the server's best route (see [`route`]). No route: **404**
//!    ("no route found for request"). A Server without routes has a default route matching
//!    everything (and, on an HTTP port, one for the pod's kubelet probes: `GET` on each probe
//!    path, from `settings.linkerd.probeNetworks`); an `opaque` / `TLS` Server has none and
//!    authorizes the connection.
//! 3. The route's own authorizations (AuthorizationPolicies targeting it) are checked, then
//!    the Server's (ServerAuthorizations, AuthorizationPolicies targeting the Server or its
//!    namespace, the `accessPolicy` default, the built-in `default:localhost`). The first that
//!    permits the client allows the request; none: **403** (gRPC: PERMISSION_DENIED).
//! 4. `audit` (as `accessPolicy` or default policy) permits everyone; a request allowed only
//!    by it is reported as the denial it would otherwise be.

mod assemble;
mod authz;
mod compile;
mod filters;
mod identity;
mod invalid;
mod lower;
mod objects;
mod pattern;
mod pod;
mod query;
mod route;
mod server;
mod syntax;
mod wire;

use std::fmt;

use self::authz::{AuthzList, DefaultPolicy, Source};
use self::identity::Client;
use self::route::Found;
use self::server::{Routes, Selected, ServerPolicy};
use super::Ctx;
use crate::decision::{Effect, Verdict};
use crate::error::{BundleError, Warning};
use crate::eval::{note, Defaults, Judge, Layer};
use crate::model::{Dialect, Meta};
use crate::request::{ReadPlan, Reads};
use crate::resource::Resource;

/// The Linkerd layer of one workload.
pub(crate) struct LinkerdLayer {
    c: compile::Compiled,
    defaults: Defaults,
}

/// Compiles the Linkerd resources of the bundle.
pub(crate) fn compile(
    rs: Vec<Resource<'_>>,
    ctx: &Ctx<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<Box<dyn Layer>, BundleError> {
    let c = compile::compile(&rs, ctx, warnings)?;
    Ok(Box::new(LinkerdLayer {
        c,
        defaults: ctx.defaults(Dialect::Linkerd),
    }))
}

/// What decided, before it is worded.
enum Outcome<'e> {
    Ambiguous(usize),
    NotFound(&'e ServerPolicy),
    /// Which route Linkerd would pick depends on Unicode classes this build does not have.
    Undecidable(&'e ServerPolicy),
    Decided {
        server: &'e ServerPolicy,
        route: Option<Found<'e>>,
        by: Option<Source>,
    },
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

/// `spiffe://... from 10.0.0.1`: the client, in a reason.
struct Who<'a>(&'a Client<'a>);

impl fmt::Display for Who<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = self.0.uri.unwrap_or("an unauthenticated client");
        match self.0.ip {
            Some(ip) => write!(f, "{who} from {ip}"),
            None => write!(f, "{who} (address unknown)"),
        }
    }
}

/// `Server ns/name (HTTPRoute ns/r rule 0)`: where the authorizations were looked for.
struct At<'a> {
    layer: &'a LinkerdLayer,
    server: &'a ServerPolicy,
    route: Option<Found<'a>>,
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.route, self.route.and_then(|r| self.layer.meta(r.route.meta))) {
            (Some(r), Some(m)) => write!(f, "{} ({m} rule {})", self.server.label, r.rule),
            _ => f.write_str(&self.server.label),
        }
    }
}

impl LinkerdLayer {
    fn meta(&self, i: Option<usize>) -> Option<&Meta> {
        i.and_then(|i| self.c.metas.get(i))
    }

    /// The resource `i` (its rule `rule`), or the default deciding `effect`.
    fn meta_or_default(&self, i: Option<usize>, effect: Effect) -> &Meta {
        self.meta(i).unwrap_or(self.defaults.of(effect))
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
            None => format!("the {} route", f.route.name),
        }
    }

    /// The proxy's steps: the server of the port, the route, the first authorization that
    /// permits the client.
    fn outcome<'e>(&'e self, j: &mut Judge<'e, '_>, client: &Client<'_>) -> Outcome<'e> {
        let req = j.req();
        let server = match (req.port, self.c.ports.select(req.port)) {
            (_, Selected::Ambiguous(n)) => {
                note!(
                    j,
                    "server: port unknown and {n} Servers select this workload (pass --port)"
                );
                return Outcome::Ambiguous(n);
            }
            (None, Selected::OnlyServer(s)) => {
                note!(
                    j,
                    "server: port unknown; {} is the only Server of this workload",
                    s.label
                );
                s
            }
            (Some(p), Selected::Port(s)) if s.meta.is_none() => {
                note!(
                    j,
                    "server: port {p} has no Server: default inbound policy {}",
                    s.access.name()
                );
                s
            }
            (p, Selected::Port(s) | Selected::OnlyServer(s)) => {
                let p = p.map_or_else(|| "unknown".into(), |p| p.to_string());
                note!(
                    j,
                    "server: port {p} -> {} (proxyProtocol {}, accessPolicy {})",
                    s.label,
                    s.protocol.name(),
                    s.access.name()
                );
                s
            }
        };
        let found = match &server.routes {
            Routes::Http(t) => t.find(req),
            Routes::Grpc(t) => t.find(req),
            Routes::None => Ok(None),
        };
        let Ok(route) = found else {
            note!(j, "route: undecidable (a query parameter regex meets non-ASCII text)");
            return Outcome::Undecidable(server);
        };
        match (&server.routes, &route) {
            (Routes::None, _) => note!(j, "route: none (opaque/TLS server: connection-level authorization)"),
            (_, None) => {
                note!(j, "route: no route matches {} {} -> 404", req.method, req.path);
                return Outcome::NotFound(server);
            }
            (_, Some(f)) => note!(j, "route: {}", self.route_name(f)),
        }
        let lists: [(&str, Option<&AuthzList>); 2] = [
            ("route", route.map(|f| &f.route.authz)),
            ("server", Some(&server.authz)),
        ];
        if j.tracing() {
            for (level, list) in lists.iter().filter_map(|(l, a)| Some((l, (*a)?))) {
                for a in &list.items {
                    match a.check(client) {
                        Ok(()) => note!(j, "{level} authorization {}: permits", self.source_name(a.source)),
                        Err(m) => note!(
                            j,
                            "{level} authorization {}: does not permit: {m}",
                            self.source_name(a.source)
                        ),
                    }
                }
            }
        }
        let by = lists
            .into_iter()
            .filter_map(|(_, l)| l)
            .find_map(|l| l.first_permitting(client))
            .map(|a| a.source);
        Outcome::Decided { server, route, by }
    }
}

impl Layer for LinkerdLayer {
    fn dialect(&self) -> Dialect {
        Dialect::Linkerd
    }

    fn decide<'e>(&'e self, j: &mut Judge<'e, '_>) -> Verdict<'e> {
        let req = j.req();
        let client = Client::of(req, &self.c.control_plane_ns);
        if j.tracing() {
            let dns = client
                .dns()
                .map(|d| format!(", Linkerd identity {d}"))
                .unwrap_or_default();
            note!(j, "client: {}{dns}", Who(&client));
        }
        match self.outcome(j, &client) {
            Outcome::Ambiguous(n) => j.verdict_why(
                Effect::Deny,
                self.defaults.of(Effect::Deny),
                None,
                format_args!(
                    "the destination port is unknown and {n} Servers select this workload: cannot tell which applies"
                ),
            ),
            Outcome::Undecidable(s) => j.verdict_why(
                Effect::Deny,
                self.meta_or_default(s.meta, Effect::Deny),
                None,
                format_args!(
                    "a query parameter value with non-ASCII characters meets a RegularExpression whose \\w, \\d, \\s, \\b or (?i) \
                     Linkerd reads as Unicode: which route of {} Linkerd would pick cannot be told; denied",
                    s.label
                ),
            ),
            Outcome::NotFound(s) => j.verdict_why(
                Effect::NotFound,
                self.meta_or_default(s.meta, Effect::NotFound),
                None,
                format_args!("no route of {} matches {} {}", s.label, req.method, req.path),
            ),
            Outcome::Decided { server, route, by } => {
                // Allowed requests are the common case: their reasons are static (the verdict's
                // meta names the authorization); only denials are worded in full, when read.
                let at = At {
                    layer: self,
                    server,
                    route,
                };
                // The route's rule when a route of a resource was matched, else the Server.
                let (deciding, rule) = match route.and_then(|f| Some((f.route.meta?, f.rule))) {
                    Some((m, r)) => (Some(m), Some(r)),
                    None => (server.meta, None),
                };
                match by {
                    Some(Source::Default("audit")) => {
                        j.dry_run(
                            Effect::Deny,
                            self.meta_or_default(deciding, Effect::Deny),
                            rule,
                            format_args!(
                                "audit: no authorization of {at} permits {}; allowed because the policy is audit",
                                Who(&client)
                            ),
                        );
                        j.verdict(
                            Effect::Allow,
                            self.meta_or_default(deciding, Effect::Allow),
                            rule,
                            "allowed by default:audit (reported as the denial it would be)",
                        )
                    }
                    Some(Source::Resource(i)) => j.verdict(
                        Effect::Allow,
                        self.meta_or_default(Some(i), Effect::Allow),
                        None,
                        "an authorization of the Server or its route permits the client",
                    ),
                    Some(Source::Default(name)) => j.verdict(
                        Effect::Allow,
                        self.meta_or_default(server.meta, Effect::Allow),
                        None,
                        default_allow_reason(name),
                    ),
                    None if server.meta.is_none() && server.access == DefaultPolicy::Deny => j.verdict(
                        Effect::Deny,
                        self.meta_or_default(deciding, Effect::Deny),
                        rule,
                        "the port has no Server and the default inbound policy is deny",
                    ),
                    None => j.verdict_why(
                        Effect::Deny,
                        self.meta_or_default(deciding, Effect::Deny),
                        rule,
                        format_args!("no authorization of {at} permits {}", Who(&client)),
                    ),
                }
            }
        }
    }

    /// The destination port selects the Server; the client address meets NetworkAuthentications
    /// and the cluster networks of the default policies; routes read their header matches.
    fn plan(&self, plan: &mut ReadPlan) {
        plan.read(Reads {
            port: true,
            source_ip: true,
            ..Reads::NONE
        });
        self.c.headers.iter().for_each(|h| plan.read_header(h));
    }
}

#[cfg(test)]
mod tests;

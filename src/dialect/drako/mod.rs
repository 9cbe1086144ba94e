//! Drako (`woven-city.global/v1alpha1` DrakoPolicy, DrakoPolicyBinding), decided as Drako, Woven
//! City's policy decision point, decides, for the subset that needs no user session.
//!
//! Following Drako's `crd/DrakoPolicyBinding` page, this layer decides in this order (each step
//! denies on failure, so the order only changes the reason given):
//! 1. "Please make sure that a single request matches with only exactly one binding defined in
//!    your namespace": the bindings of the workload's namespace whose `destinationServiceAccounts`
//!    name the workload's service account and whose `paths` (minus `excludePaths`), `methods` and
//!    `destinationHosts` match (`paths` as path-tree matches them: see `paths.rs`).
//!    None: "A request is denied when Drako cannot find any binding
//!    that matches the request." Several: "Drako will return Forbidden response".
//! 2. `authenticationMode`: only `None` ("Bypasses authentication for anonymous users") can be
//!    decided in-proxy; the request then carries `x-user-id: anonymous`.
//! 3. `clientAuthenticationModes`: see `binding.rs` (`Modes::authenticate`); failure denies.
//! 4. `decisionStrategy` over `policies`: true allows, false denies.
//! 5. Allowed requests get Drako's headers (`x-user-id`, and `x-drako-client-ids` with
//!    `injectHeaders: [{type: ClientIds}]`). Drako-owned headers sent by the client (`x-user-id`,
//!    `x-drako-*`, and `x-auth-request-access-token`, `x-user-name`, `x-email`, which Drako sets
//!    for logged-in users) are always removed ("Harden responses to Istio to prevent ...
//!    spoofing of Drako-owned headers").

mod binding;
mod compile;
mod expr;
mod paths;
mod policy;
mod wire;

#[cfg(test)]
mod tests;

use self::binding::{ClientAuth, Miss, Modes, Selector};
use self::expr::Expr;
use super::{Ctx, Effects, Layer, Resource};
use crate::decision::{Effect, RuleRef, Verdict};
use crate::error::{BundleError, Warning};
use crate::model::{Dialect, Meta, PathMap, PathPattern, Pred};
use crate::request::Request;

/// Headers Drako sets after authorization; a client must never supply them.
const DRAKO_HEADERS: &[&str] = &[
    "x-auth-request-access-token",
    "x-drako-*",
    "x-email",
    "x-user-id",
    "x-user-name",
];

/// A policy as one binding sees it.
struct PolicyRef {
    name: String,
    /// `ClientGroup`, or `Import of ns/name: Source`.
    kind: String,
    /// Index into [`DrakoLayer::policies`].
    index: u32,
}

/// A binding that selects this workload, compiled.
struct Binding {
    meta: Meta,
    /// Empty: every path.
    paths: Vec<PathPattern>,
    selector: Selector,
    modes: Modes,
    strategy_src: String,
    /// The reason an allow carries, written once (an allowed request formats nothing).
    allow_reason: String,
    /// The strategy, its names resolved to policy indices once.
    strategy: Expr<u32>,
    policies: Vec<PolicyRef>,
    client_ids: bool,
}

/// The Drako layer: the bindings that select this workload, indexed by path.
pub(crate) struct DrakoLayer {
    bindings: Vec<Binding>,
    by_path: PathMap<u32>,
    /// The predicates of the policies the bindings use, each stored once.
    policies: Vec<Pred>,
    headers: Vec<String>,
}

/// Compiles the bundle's Drako objects for the workload.
pub(crate) fn compile(
    rs: Vec<Resource<'_>>,
    ctx: &Ctx<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<Box<dyn Layer>, BundleError> {
    let (pols, binds): (Vec<&Resource<'_>>, Vec<&Resource<'_>>) = rs.iter().partition(|r| r.kind == "DrakoPolicy");
    let table = compile::policies(&pols, warnings)?;
    let mut preds = compile::Preds::default();
    let mut bindings = Vec::new();
    for r in binds {
        if let Some(b) = compile::binding(r, &table, &mut preds, ctx, warnings)? {
            bindings.push(b);
        }
    }
    if bindings.is_empty() {
        warnings.push(Warning {
            at: String::new(),
            field: "resources".into(),
            message: format!(
                "no DrakoPolicyBinding selects workload {}/{}: Drako denies every request",
                ctx.workload.namespace(),
                ctx.workload.service_account.as_deref().unwrap_or("?")
            ),
        });
    }
    let mut by_path = PathMap::default();
    let mut headers = Vec::new();
    for (i, b) in bindings.iter().enumerate() {
        if b.paths.is_empty() {
            by_path.insert(&PathPattern::Any, i as u32);
        }
        b.paths.iter().for_each(|p| by_path.insert(p, i as u32));
        if b.modes.oauth2 {
            headers.push("authorization".to_string());
        }
        if b.selector.hosts.iter().flatten().any(|h| h.port.is_some()) {
            headers.push(":scheme".to_string());
        }
    }
    headers.sort();
    headers.dedup();
    Ok(Box::new(DrakoLayer {
        bindings,
        by_path,
        policies: preds.list,
        headers,
    }))
}

impl DrakoLayer {
    /// The value of policy `i` for `req`.
    fn value(&self, i: u32, req: &Request) -> bool {
        self.policies.get(i as usize).is_some_and(|p| p.matches(req))
    }

    /// The ids of the bindings whose `paths` match, ascending and unique.
    fn by_path(&self, req: &Request) -> Vec<u32> {
        let mut ids = Vec::new();
        self.by_path.for_each_match(&req.path, |i| ids.push(*i));
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The first two distinct bindings that select `req` (no allocation: this is every
    /// request's path).
    fn selected(&self, req: &Request) -> (Option<&Binding>, Option<&Binding>) {
        let (mut first, mut second) = (None::<u32>, None::<u32>);
        self.by_path.for_each_match(&req.path, |&i| {
            if second.is_some() || first == Some(i) {
                return;
            }
            if self
                .bindings
                .get(i as usize)
                .is_some_and(|b| b.selector.miss(req).is_none())
            {
                if first.is_none() {
                    first = Some(i);
                } else {
                    second = Some(i);
                }
            }
        });
        let get = |i: Option<u32>| i.and_then(|i| self.bindings.get(i as usize));
        (get(first), get(second))
    }

    fn policy_values(&self, b: &Binding, req: &Request) -> String {
        let vs: Vec<String> = b
            .policies
            .iter()
            .map(|p| format!("{}={}", p.name, self.value(p.index, req)))
            .collect();
        vs.join(", ")
    }
}

fn by(b: &Binding) -> Option<RuleRef<'_>> {
    Some(RuleRef {
        meta: &b.meta,
        rule: None,
    })
}

fn deny<'e>(by: Option<RuleRef<'e>>, reason: String) -> Verdict<'e> {
    Verdict::new(Dialect::Drako, Effect::Deny, by, reason)
}

impl Layer for DrakoLayer {
    fn dialect(&self) -> Dialect {
        Dialect::Drako
    }

    /// Of the connection, only the client address (Origin policies); hosts, ports and paths
    /// come from the request headers.
    fn reads(&self) -> crate::request::Reads {
        crate::request::Reads {
            source_ip: true,
            ..crate::request::Reads::NONE
        }
    }

    fn decide<'e>(&'e self, req: &Request, fx: &mut Effects<'e>) -> Verdict<'e> {
        let b = match self.selected(req) {
            (Some(b), None) => b,
            (None, _) => {
                return deny(
                    None,
                    "no DrakoPolicyBinding matches the request (Drako requires exactly one)".into(),
                )
            }
            (Some(_), Some(_)) => {
                // The rare path: list every binding that matched.
                let names: Vec<&str> = self
                    .by_path(req)
                    .into_iter()
                    .filter_map(|i| self.bindings.get(i as usize))
                    .filter(|b| b.selector.miss(req).is_none())
                    .map(|b| b.meta.name.as_str())
                    .collect();
                return deny(
                    None,
                    format!(
                        "{} DrakoPolicyBindings match the request ({}): Drako requires exactly one",
                        names.len(),
                        names.join(", ")
                    ),
                );
            }
        };
        let client = match b.modes.authenticate(req) {
            ClientAuth::Failed(why) => return deny(by(b), format!("client authentication failed: {why}")),
            ClientAuth::Spiffe(id) => Some(id),
            ClientAuth::Bypassed => None,
        };
        if !b.strategy.eval(&|i| self.value(*i, req)) {
            return deny(
                by(b),
                format!(
                    "decisionStrategy {:?} is false ({})",
                    b.strategy_src,
                    self.policy_values(b, req)
                ),
            );
        }
        fx.set_headers.push(("x-user-id", "anonymous".into()));
        if let (true, Some(id)) = (b.client_ids, client) {
            let ids = serde_json::json!([{"type": "SpiffeId", "value": id.as_str()}]);
            fx.set_headers.push(("x-drako-client-ids", ids.to_string()));
        }
        Verdict::new(Dialect::Drako, Effect::Allow, by(b), b.allow_reason.as_str())
    }

    fn explain(&self, req: &Request) -> Vec<String> {
        let on_path = self.by_path(req);
        let mut out = Vec::new();
        for (i, b) in self.bindings.iter().enumerate() {
            let state = if !on_path.contains(&(i as u32)) {
                "does not match: path not in spec.paths".to_string()
            } else {
                match b.selector.miss(req) {
                    Some(Miss::Excluded) => "does not match: path in spec.excludePaths".into(),
                    Some(Miss::Method) => format!("does not match: method {} not in spec.methods", req.method),
                    Some(Miss::Host) => format!(
                        "does not match: host {}:{} not in spec.destinationHosts",
                        req.host,
                        binding::request_port(req)
                    ),
                    None => {
                        let client = match b.modes.authenticate(req) {
                            ClientAuth::Spiffe(id) => format!("client authenticated as SpiffeId {id}"),
                            ClientAuth::Bypassed => "client authentication bypassed (None)".into(),
                            ClientAuth::Failed(why) => format!("client authentication fails: {why}"),
                        };
                        let values = b
                            .policies
                            .iter()
                            .map(|p| format!("{} ({}) = {}", p.name, p.kind, self.value(p.index, req)))
                            .collect::<Vec<_>>()
                            .join("; ");
                        let result = b.strategy.eval(&|i| self.value(*i, req));
                        format!(
                            "matches; {client}; {values}; decisionStrategy {:?} = {result}",
                            b.strategy_src
                        )
                    }
                }
            };
            out.push(format!("{}: {state}", b.meta));
        }
        if self.bindings.is_empty() {
            out.push("no DrakoPolicyBinding selects this workload".into());
        }
        let v = self.decide(req, &mut Effects::default());
        out.push(format!("verdict: {} ({})", v.effect.name(), v.reason));
        out
    }

    fn headers_read(&self) -> Vec<String> {
        self.headers.clone()
    }

    fn strip_headers(&self) -> &[&'static str] {
        DRAKO_HEADERS
    }
}

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

use std::borrow::Cow;
use std::fmt;

use self::binding::{ClientAuth, Miss, Modes, Selector};
use self::expr::Expr;
use super::Ctx;
use crate::decision::{Effect, Verdict};
use crate::error::{BundleError, Warning};
use crate::eval::{note, Defaults, Judge, Layer};
use crate::model::{Dialect, Meta, PathMap, PathPattern, Pred};
use crate::request::{ReadPlan, Reads, Request};
use crate::resource::Resource;

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
    /// `spec.paths` (none: every path).
    paths: Option<paths::Routes>,
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
    defaults: Defaults,
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
        // The index finds candidates by a prefix of each path; path-tree has the last word.
        match &b.paths {
            None => by_path.insert(&PathPattern::Any, i as u32),
            Some(routes) => {
                for prefix in routes.prefixes() {
                    let p = if prefix.is_empty() {
                        PathPattern::Any
                    } else {
                        PathPattern::Prefix(prefix.clone())
                    };
                    by_path.insert(&p, i as u32);
                }
            }
        }
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
        defaults: ctx.defaults(Dialect::Drako),
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

    /// The binding `i` if its `paths` match `path` (a candidate of the index).
    fn on(&self, i: u32, path: &str) -> Option<&Binding> {
        self.bindings
            .get(i as usize)
            .filter(|b| b.paths.as_ref().is_none_or(|r| r.matches(path)))
    }

    /// The first two distinct bindings that select `req` (no allocation: this is every
    /// request's path).
    fn selected(&self, req: &Request) -> (Option<&Binding>, Option<&Binding>) {
        let (mut first, mut second) = (None::<u32>, None::<u32>);
        self.by_path.for_each_match(&req.path, |&i| {
            if second.is_some() || first == Some(i) {
                return;
            }
            if self.on(i, &req.path).is_some_and(|b| b.selector.miss(req).is_none()) {
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

    /// Every binding whose `paths` match (ascending, each once), and why each selects the
    /// request or not. Only for `explain` and a denial's reason: deciding uses [`Self::selected`].
    fn on_path<'e>(&'e self, req: &Request) -> Vec<(&'e Binding, Option<Miss>)> {
        let mut ids = Vec::new();
        self.by_path.for_each_match(&req.path, |i| ids.push(*i));
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .filter_map(|i| self.on(i, &req.path))
            .map(|b| (b, b.selector.miss(req)))
            .collect()
    }

    /// For `explain`: each binding and why it does or does not select the request.
    fn trace_selection(&self, j: &mut Judge<'_, '_>) {
        if !j.tracing() {
            return;
        }
        let req = j.req();
        let on_path = self.on_path(req);
        for b in &self.bindings {
            let miss = on_path.iter().find(|(o, _)| std::ptr::eq(*o, b)).map(|(_, m)| m);
            match miss {
                None => note!(j, "{}: does not match: path not in spec.paths", b.meta),
                Some(Some(Miss::Excluded)) => note!(j, "{}: does not match: path in spec.excludePaths", b.meta),
                Some(Some(Miss::Method)) => {
                    note!(
                        j,
                        "{}: does not match: method {} not in spec.methods",
                        b.meta,
                        req.method
                    )
                }
                Some(Some(Miss::Host)) => note!(
                    j,
                    "{}: does not match: host {}:{} not in spec.destinationHosts",
                    b.meta,
                    req.host,
                    binding::request_port(req)
                ),
                Some(None) => note!(j, "{}: matches", b.meta),
            }
        }
        if self.bindings.is_empty() {
            note!(j, "no DrakoPolicyBinding selects this workload");
        }
    }
}

/// `group=true, deny=false`: the binding's policies' values, written when read.
struct Values<'a> {
    layer: &'a DrakoLayer,
    binding: &'a Binding,
    req: &'a Request,
    /// With each policy's kind (`group (ClientGroup) = true`), for `explain`.
    kinds: bool,
}

impl fmt::Display for Values<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.binding.policies.iter().enumerate() {
            let v = self.layer.value(p.index, self.req);
            match (i, self.kinds) {
                (0, false) => write!(f, "{}={v}", p.name)?,
                (_, false) => write!(f, ", {}={v}", p.name)?,
                (0, true) => write!(f, "{} ({}) = {v}", p.name, p.kind)?,
                (_, true) => write!(f, "; {} ({}) = {v}", p.name, p.kind)?,
            }
        }
        Ok(())
    }
}

/// `b1, b2`: the names of the bindings that select the request, written when read.
struct Selecting<'a>(&'a [(&'a Binding, Option<Miss>)]);

impl fmt::Display for Selecting<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names = self.0.iter().filter(|(_, m)| m.is_none()).map(|(b, _)| &b.meta.name);
        if let Some(n) = names.next() {
            f.write_str(n)?;
        }
        names.try_for_each(|n| write!(f, ", {n}"))
    }
}

impl Layer for DrakoLayer {
    fn dialect(&self) -> Dialect {
        Dialect::Drako
    }

    fn decide<'e>(&'e self, j: &mut Judge<'e, '_>) -> Verdict<'e> {
        let req = j.req();
        self.trace_selection(j);
        let deny = self.defaults.of(Effect::Deny);
        let b = match self.selected(req) {
            (Some(b), None) => b,
            (None, _) => {
                return j.verdict(
                    Effect::Deny,
                    deny,
                    None,
                    "no DrakoPolicyBinding matches the request (Drako requires exactly one)",
                )
            }
            (Some(_), Some(_)) => {
                // Rare, and formatted only when read: list every binding that matched.
                let all = if j.tracing() { self.on_path(req) } else { Vec::new() };
                let n = all.iter().filter(|(_, m)| m.is_none()).count();
                return j.verdict_why(
                    Effect::Deny,
                    deny,
                    None,
                    format_args!(
                        "{n} DrakoPolicyBindings match the request ({}): Drako requires exactly one",
                        Selecting(&all)
                    ),
                );
            }
        };
        let client = match b.modes.authenticate(req) {
            ClientAuth::Failed(why) => {
                note!(j, "client authentication fails: {why}");
                return j.verdict_why(
                    Effect::Deny,
                    &b.meta,
                    None,
                    format_args!("client authentication failed: {why}"),
                );
            }
            ClientAuth::Spiffe(id) => {
                note!(j, "client authenticated as SpiffeId {id}");
                Some(id)
            }
            ClientAuth::Bypassed => {
                note!(j, "client authentication bypassed (None)");
                None
            }
        };
        let values = |kinds| Values {
            layer: self,
            binding: b,
            req,
            kinds,
        };
        let result = b.strategy.eval(&|i| self.value(*i, req));
        note!(j, "policies: {}", values(true));
        note!(j, "decisionStrategy {:?} = {result}", b.strategy_src);
        if !result {
            return j.verdict_why(
                Effect::Deny,
                &b.meta,
                None,
                format_args!("decisionStrategy {:?} is false ({})", b.strategy_src, values(false)),
            );
        }
        j.set_header("x-user-id", Cow::Borrowed("anonymous"));
        if let (true, Some(id)) = (b.client_ids, client) {
            let ids = serde_json::json!([{"type": "SpiffeId", "value": id.as_str()}]);
            j.set_header("x-drako-client-ids", Cow::Owned(ids.to_string()));
        }
        j.verdict(Effect::Allow, &b.meta, None, &b.allow_reason)
    }

    /// Of the connection, only the client address (Origin policies); hosts, ports and paths
    /// come from the request headers. Drako's own headers are always removed: a client must not
    /// send what Drako sets.
    fn plan(&self, plan: &mut ReadPlan) {
        plan.read(Reads {
            source_ip: true,
            ..Reads::NONE
        });
        self.headers.iter().for_each(|h| plan.read_header(h));
        DRAKO_HEADERS.iter().for_each(|h| plan.strip_header(h));
    }
}

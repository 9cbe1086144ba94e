//! Dapr service-invocation access control (`dapr.io/v1alpha1` Configuration,
//! `spec.accessControl`), decided as the called app's Dapr sidecar decides it (dapr/dapr
//! `pkg/acl/acl.go`, `pkg/config/acl_trie.go`, `pkg/security/spiffe/spiffe.go`,
//! `pkg/messaging/method/normalize.go`).
//!
//! The order, as acl.go writes it:
//!
//! 1. The method is normalized ([`method`]): refused outright if it holds `#`, `?`, NUL or a
//!    control character (Dapr's fix #9805), dot segments resolved.
//! 2. No `accessControl` (or one with neither `trustDomain`, `defaultAction` nor policies): every
//!    call is allowed.
//! 3. The global default is `defaultAction`; when missing, "Some app level policies have been
//!    specified but not default global action is set. Default to more secure option - Deny".
//!    Surprise: acl.go tests `AppPolicies == nil || len(AppPolicies) > 0`, so a spec with only
//!    a `trustDomain` (no `policies` key) denies every call, while `policies: []` allows.
//! 4. The caller: "if the incoming app credentials cannot be verified, the global default action
//!    takes effect" — a peer without a SPIFFE ID gets the global default. A SPIFFE ID whose path
//!    is not `/ns/<namespace>/<appId>[/...]` is *refused* ("malformed SPIFFE ID", spiffe.go
//!    `FromGRPCContext`); Dapr reads segments 2 and 3 and ignores any beyond, so an Istio-style
//!    `spiffe://td/ns/foo/sa/bar` is app `sa` in namespace `foo`.
//! 5. The policy is looked up by appId and namespace ("The key is appID||namespace"); none, or a
//!    trust domain other than the caller's → the global default.
//! 6. The app's `defaultAction`, if set, replaces the global default.
//! 7. The operations are searched in Dapr's trie ([`trie`]): for HTTP, names and method are
//!    lowercased; for gRPC (`content-type: application/grpc`) they are case-sensitive.
//! 8. A matched operation decides: for gRPC its `action`; for HTTP the action of the request's
//!    verb, else of the `*` verb, else nothing changes (the app or global default stands).
//!    Dapr maps a method it has no name for to POST (`WithHTTPExtension`), and the verb `NONE`
//!    to "No matching verb found" — the app's `defaultAction` even when empty (deny).
//! 9. `isActionAllowed`: allowed only if the action is `allow` (case-insensitive). An operation
//!    without `action` therefore denies, although the docs call allow the default.
//!
//! The method is the request path as the application receives it (Dapr's method is the part
//! after `/v1.0/invoke/<app>/method/`, which Dapr delivers to the app as `/<method>`; a gRPC
//! method is `/<package.Service>/<Method>`). Verdicts name the Configuration and, when an app
//! policy decided, its index in `spec.accessControl.policies`.

mod acl;
mod action;
mod fxhash;
mod key;
mod lint;
mod method;
mod ops;
mod policies;
mod trie;
mod wire;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;

use self::acl::{Acl, DefaultFrom};
use self::action::{allows, VERBS};
use self::policies::{Policies, Policy};
use super::Ctx;
use crate::decision::{Effect, Verdict};
use crate::error::{BundleError, Warning};
use crate::eval::{note, Defaults, Judge, Layer};
use crate::model::{Dialect, Meta};
use crate::request::{Peer, ReadPlan, Reads};
use crate::resource::Resource;

/// The Dapr layer: the Configuration the workload's sidecar uses.
pub(crate) struct DaprLayer {
    /// The Configuration, if one applies (none: Dapr's default configuration, no ACL).
    meta: Option<Meta>,
    defaults: Defaults,
    acl: Option<Acl>,
}

/// Compiles the bundle's Configurations: every one is parsed and validated; the one the
/// workload uses (`settings.dapr.config`, or the only one in its namespace) is enforced.
pub(crate) fn compile(
    rs: Vec<Resource<'_>>,
    ctx: &Ctx<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<Box<dyn Layer>, BundleError> {
    let mut parsed = Vec::new();
    for r in &rs {
        // Every field named, so that a field added to the wire type cannot go unread: only
        // accessControl decides; the rest configures the sidecar itself.
        let wire::Spec::<Policies> {
            access_control,
            http_pipeline: _,
            app_http_pipeline: _,
            tracing: _,
            metric: _,
            metrics: _,
            mtls: _,
            secrets: _,
            name_resolution: _,
            features: _,
            api: _,
            components: _,
            logging: _,
            wasm: _,
            workflow: _,
        } = r.spec()?;
        let acl = match access_control {
            Some(ac) => acl::parse(ac, r, warnings)?,
            None => None,
        };
        parsed.push((r, acl));
    }
    let ns = ctx.workload.namespace.as_deref();
    let mut candidates: Vec<(&Resource<'_>, Option<Acl>)> = Vec::new();
    for (r, acl) in parsed {
        if ns.is_some_and(|ns| ns != r.namespace) {
            warnings.push(r.warning("metadata.namespace", "not the workload's namespace: not applied"));
        } else if ctx.settings.dapr.config.as_ref().is_some_and(|c| *c != r.meta.name) {
            warnings.push(r.warning("metadata.name", "not settings.dapr.config: not applied"));
        } else {
            candidates.push((r, acl));
        }
    }
    if candidates.len() > 1 && candidates.iter().all(|(_, acl)| acl.is_none()) {
        // Whichever the sidecar uses, it has no access control list: every call is allowed.
        let names: Vec<&str> = candidates.iter().map(|(r, _)| r.meta.name.as_str()).collect();
        warnings.push(Warning {
            at: String::new(),
            field: "settings.dapr.config".into(),
            message: format!(
                "several Dapr Configurations apply to the workload ({}), none with accessControl: Dapr allows every call",
                names.join(", ")
            ),
        });
        candidates.truncate(1);
    }
    if candidates.len() > 1 {
        let names: Vec<&str> = candidates.iter().map(|(r, _)| r.meta.name.as_str()).collect();
        return Err(BundleError::Envelope {
            field: "settings.dapr.config".into(),
            message: format!(
                "several Dapr Configurations apply to the workload ({}): name the one its sidecar uses \
                 (the dapr.io/config annotation)",
                names.join(", ")
            ),
        });
    }
    let Some((r, acl)) = candidates.pop() else {
        if let Some(c) = &ctx.settings.dapr.config {
            return Err(BundleError::Envelope {
                field: "settings.dapr.config".into(),
                message: format!("no Configuration {c:?} in the workload's namespace"),
            });
        }
        warnings.push(Warning {
            at: String::new(),
            field: "resources".into(),
            message: "no Dapr Configuration applies to the workload: Dapr allows every call".into(),
        });
        return Ok(Box::new(DaprLayer {
            meta: None,
            defaults: ctx.defaults(Dialect::Dapr),
            acl: None,
        }));
    };
    match &acl {
        None => warnings.push(r.warning("spec.accessControl", "absent or empty: Dapr allows every call")),
        Some(a) => {
            if ctx
                .workload
                .trust_domain
                .as_deref()
                .is_some_and(|td| td != a.trust_domain)
            {
                warnings.push(r.warning(
                    "spec.accessControl.trustDomain",
                    format!(
                        "{:?} (the called app's own trust domain) differs from workload.trustDomain {:?}",
                        a.trust_domain,
                        ctx.workload.trust_domain()
                    ),
                ));
            }
        }
    }
    Ok(Box::new(DaprLayer {
        meta: Some(ctx.meta(r, Dialect::Dapr)),
        defaults: ctx.defaults(Dialect::Dapr),
        acl,
    }))
}

/// `policies[3].operations[1] /op1`: the operation that decided.
struct OpAt<'a> {
    policy: usize,
    op: u32,
    name: &'a str,
}

impl std::fmt::Display for OpAt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "policies[{}].operations[{}] {}", self.policy, self.op, self.name)
    }
}

/// A caller as Dapr reads its SPIFFE ID.
enum Caller<'r> {
    /// No verifiable SPIFFE ID.
    Unverified,
    /// A SPIFFE ID not of Dapr's shape.
    Malformed(&'r str),
    /// `spiffe://<td>/ns/<namespace>/<appId>[/...]`.
    App { td: &'r str, ns: &'r str, app: &'r str },
}

/// spiffe.go `FromGRPCContext`: `split := strings.Split(id.Path(), "/")`; at least 4 parts,
/// `split[0] == ""`, `split[1] == "ns"`; namespace `split[2]`, app id `split[3]`.
fn caller(peer: &Peer) -> Caller<'_> {
    let id = match peer {
        Peer::Spiffe(id) => id,
        Peer::Unauthenticated => return Caller::Unverified,
        // Dapr's mTLS (go-spiffe) refuses the handshake: the call never reaches the ACL.
        Peer::InvalidSpiffe => return Caller::Malformed("a URI SAN that is not a valid SPIFFE ID"),
    };
    // `split[0] == "" && split[1] == "ns"`: the path starts with `/ns/` or is `/ns`; then
    // `split[2]` and `split[3]` exist when at least two more `/` do.
    let parts = id.path().strip_prefix("/ns/").and_then(|rest| {
        let (ns, rest) = rest.split_once('/')?;
        Some((ns, rest.split_once('/').map_or(rest, |(app, _)| app)))
    });
    match parts {
        Some((ns, app)) => Caller::App {
            td: id.trust_domain(),
            ns,
            app,
        },
        None => Caller::Malformed(id.as_str()),
    }
}

/// What Dapr calls the request's verb: `WithHTTPExtension` maps an unknown method to POST.
fn verb(method: &str) -> Option<&'static str> {
    if method.eq_ignore_ascii_case("NONE") {
        return None;
    }
    Some(
        VERBS
            .iter()
            .copied()
            .find(|v| v.eq_ignore_ascii_case(method))
            .unwrap_or("POST"),
    )
}

impl DaprLayer {
    /// A verdict of the Configuration (or, without one, of Dapr's default), naming the app
    /// policy that decided, if one did.
    fn verdict<'e>(
        &'e self,
        j: &Judge<'e, '_>,
        allow: bool,
        policy: Option<&Policy>,
        why: fmt::Arguments<'_>,
    ) -> Verdict<'e> {
        let effect = if allow { Effect::Allow } else { Effect::Deny };
        match &self.meta {
            Some(meta) => j.verdict_why(effect, meta, policy.map(|p| p.index), why),
            None => j.verdict_why(effect, self.defaults.of(effect), None, why),
        }
    }

    /// The global default decides.
    fn global<'e>(&'e self, j: &Judge<'e, '_>, acl: &Acl, why: fmt::Arguments<'_>) -> Verdict<'e> {
        let ok = allows(acl.default_action.as_str());
        self.verdict(
            j,
            ok,
            None,
            format_args!("{why}: the global defaultAction ({}) applies", acl.default_action),
        )
    }
}

impl Layer for DaprLayer {
    fn dialect(&self) -> Dialect {
        Dialect::Dapr
    }

    /// acl.go's order (see the module docs).
    fn decide<'e>(&'e self, j: &mut Judge<'e, '_>) -> Verdict<'e> {
        let req = j.req();
        match &self.meta {
            Some(m) => note!(j, "{m}"),
            None => note!(j, "no Configuration applies (Dapr's default: no access control)"),
        }
        let kind = if req.grpc { "gRPC" } else { "HTTP" };
        let method = match method::normalize(&req.path, req.grpc) {
            Ok(m) => m,
            Err(e) => {
                note!(j, "method {:?} ({kind}): refused: {e}", req.path);
                return self.verdict(j, false, None, format_args!("Dapr refuses the call: {e}"));
            }
        };
        let Some(acl) = &self.acl else {
            note!(j, "no access control list: Dapr allows every call");
            return self.verdict(j, true, None, format_args!("no accessControl: Dapr allows every call"));
        };
        let mut action = acl.default_action.as_str();
        let from = match acl.default_from {
            DefaultFrom::Spec => "set",
            DefaultFrom::MissingWithPolicies => "missing, so deny",
        };
        note!(j, "global defaultAction: {action} ({from})");
        let (td, ns, app) = match caller(&req.peer) {
            Caller::Unverified => {
                note!(j, "caller: no verifiable SPIFFE ID");
                return self.global(j, acl, format_args!("the caller has no verifiable SPIFFE ID"));
            }
            Caller::Malformed(id) => {
                note!(j, "caller: {id}: not spiffe://<trustDomain>/ns/<namespace>/<appId>");
                return self.verdict(
                    j,
                    false,
                    None,
                    format_args!("malformed Dapr SPIFFE ID {id}: Dapr refuses the call"),
                );
            }
            Caller::App { td, ns, app } => (td, ns, app),
        };
        note!(j, "caller: app {app:?}, namespace {ns:?}, trust domain {td:?}");
        let Some(p) = acl.policy(app, ns) else {
            note!(j, "policy lookup {app}||{ns}: none");
            return self.global(j, acl, format_args!("no policy for app {app} in namespace {ns}"));
        };
        note!(j, "policy lookup {app}||{ns}: spec.accessControl.policies[{}]", p.index);
        if *p.trust_domain != *td {
            note!(
                j,
                "trust domain: policy requires {:?}, caller has {td:?}: mismatch",
                p.trust_domain
            );
            return self.global(
                j,
                acl,
                format_args!(
                    "policies[{}] (app {app}, namespace {ns}) requires trust domain {}, the caller's is {td}",
                    p.index, p.trust_domain
                ),
            );
        }
        note!(j, "trust domain {td:?}: matches");
        let mut decided = "the global defaultAction";
        if !p.default_action.is_empty() {
            action = &p.default_action;
            decided = "the app's defaultAction";
            note!(j, "app defaultAction: {action}");
        }
        let op_name = if req.grpc {
            Cow::Borrowed(&*method)
        } else {
            method::lower(&method)
        };
        let Some((k, op)) = acl.search(p, req.grpc, &op_name) else {
            note!(j, "operation {op_name:?} ({kind}): no operation matches");
            return self.verdict(
                j,
                allows(action),
                Some(p),
                format_args!(
                    "policies[{}]: no operation matches {op_name}: {decided} ({action}) applies",
                    p.index
                ),
            );
        };
        note!(
            j,
            "operation {op_name:?} ({kind}): matches operations[{k}] {:?}",
            op.name
        );
        let at = OpAt {
            policy: p.index,
            op: k,
            name: op.name,
        };
        if req.grpc {
            note!(j, "gRPC: the operation's action {:?} decides", op.action);
            return self.verdict(
                j,
                allows(op.action),
                Some(p),
                format_args!("{at}: gRPC action {:?}", op.action),
            );
        }
        let Some(v) = verb(&req.method) else {
            note!(j, "verb NONE: the app's defaultAction decides, even when empty");
            return self.verdict(
                j,
                allows(&p.default_action),
                Some(p),
                format_args!("{at}: verb NONE: the app's defaultAction {:?}", p.default_action),
            );
        };
        let a = op.action;
        if op.lists(v) {
            note!(j, "verb {v}: listed, action {a:?}");
            return self.verdict(j, allows(a), Some(p), format_args!("{at}: verb {v}: {a}"));
        }
        if op.lists("*") {
            note!(j, "verb {v}: not listed; '*' action {a:?}");
            return self.verdict(j, allows(a), Some(p), format_args!("{at}: verb {v} via '*': {a}"));
        }
        note!(j, "verb {v}: not listed, no '*': {decided} ({action}) stands");
        self.verdict(
            j,
            allows(action),
            Some(p),
            format_args!("{at}: verb {v} not listed: {decided} ({action}) applies"),
        )
    }

    /// Dapr decides by caller, method (path), verb and gRPC-ness alone: no header, and of the
    /// connection only the protocol of a request that says it is gRPC (gRPC operations match
    /// case-sensitively, HTTP ones lowercased: only HTTP/2 can make that choice).
    fn plan(&self, plan: &mut ReadPlan) {
        plan.read(Reads {
            protocol: true,
            ..Reads::NONE
        });
    }
}

//! Istio rules lowered into model predicates, following istio/istio
//! pilot/pkg/security/authz/model (one generator per field) and refused where istiod's
//! validation refuses them.
//!
//! Every wire struct is destructured field by field (no `..`): a field added to the wire types
//! does not compile until it is lowered here, so it cannot be accepted and silently ignored.

use super::condition::{condition, Lowered};
use super::error::{LowerError, Why};
use super::identity::{self, TrustBundle};
use super::values::{self, R};
use super::wire::{Action, From, List, Operation, Rule, Source, Str, To};
use crate::model::Pred;

/// What lowering needs beyond the rule.
pub(super) struct Cx<'c> {
    /// The policy's namespace (`serviceAccounts: [sa]` means this namespace's `sa`).
    pub policy_ns: &'c str,
    /// The workload's trust domain and its aliases.
    pub bundle: TrustBundle<'c>,
    /// The policy's action (istiod treats a rule it cannot generate by action).
    pub action: Action,
}

/// Things worth a warning (field, message).
pub(super) type Notes = Vec<(String, String)>;

/// `rule` → one predicate: any `from` AND any `to` AND every `when`. The rule is consumed: each
/// list is freed as soon as it is lowered, so that 100,000 principals as parsed are not held
/// next to their compiled set while the rest of the rule is lowered.
pub(super) fn rule(r: Rule<'_>, cx: &Cx<'_>, notes: &mut Notes) -> R<Pred> {
    let Rule { from, to, when } = r;
    let mut parts = Vec::new();
    if let Some(from) = from {
        if from.is_empty() {
            return Err(LowerError::new("from", Why::EmptyFrom));
        }
        let mut alts = Vec::with_capacity(from.len());
        for (i, f) in from.into_iter().enumerate() {
            let at = format!("from[{i}].source");
            let From { source } = f;
            let s = source.ok_or_else(|| LowerError::new(at.as_str(), Why::NilSource))?;
            alts.push(self::source(s, cx).map_err(|e| e.under(&at))?);
        }
        parts.push(Pred::any(alts));
    }
    if let Some(to) = to {
        if to.is_empty() {
            return Err(LowerError::new("to", Why::EmptyTo));
        }
        let mut alts = Vec::with_capacity(to.len());
        for (i, t) in to.into_iter().enumerate() {
            let at = format!("to[{i}].operation");
            let To { operation } = t;
            let o = operation.ok_or_else(|| LowerError::new(at.as_str(), Why::NilOperation))?;
            alts.push(self::operation(o).map_err(|e| e.under(&at))?);
        }
        parts.push(Pred::any(alts));
    }
    for (i, c) in when.into_iter().flatten().enumerate() {
        let at = format!("when[{i}]");
        match condition(c, &cx.bundle, cx.policy_ns).map_err(|e| e.under(&at))? {
            Lowered::Test(p) => parts.push(*p),
            // istiod (model.go `checkError`): an ALLOW rule it cannot generate is dropped, so
            // it allows nothing; in a DENY or AUDIT rule the condition is left out.
            Lowered::Unreadable(why) if cx.action == Action::Allow => {
                notes.push((at, format!("{why}: istiod drops this ALLOW rule, so it never matches")));
                return Ok(Pred::Never);
            }
            Lowered::Unreadable(why) => notes.push((
                at,
                format!("{why}: istiod ignores this condition, so the rule matches without it"),
            )),
        }
    }
    Ok(Pred::all(parts))
}

fn set(v: &List<'_>) -> bool {
    v.as_ref().is_some_and(|v| !v.is_empty())
}

/// Builds the test of one field's values.
type Build<'b> = &'b dyn Fn(&[Str<'_>]) -> R<Pred>;

/// A positive field and its `not` twin: values ORed, `not` values negated. Each list is freed
/// once lowered. (One body for every field, not one per field: the .wasm is size-bound.)
fn field(name: &str, yes: List<'_>, no: List<'_>, build: Build<'_>, parts: &mut Vec<Pred>) -> R<()> {
    if let Some(vs) = yes.filter(|v| !v.is_empty()) {
        parts.push(build(&vs).map_err(|e| e.under(name))?);
    }
    if let Some(vs) = no.filter(|v| !v.is_empty()) {
        let not = format!("not{}{}", name[..1].to_ascii_uppercase(), &name[1..]);
        parts.push(Pred::negate(build(&vs).map_err(|e| e.under(&not))?));
    }
    Ok(())
}

fn source(s: Source<'_>, cx: &Cx<'_>) -> R<Pred> {
    let Source {
        principals,
        not_principals,
        request_principals,
        not_request_principals,
        namespaces,
        not_namespaces,
        service_accounts,
        not_service_accounts,
        ip_blocks,
        not_ip_blocks,
        remote_ip_blocks,
        not_remote_ip_blocks,
        trust_domains,
        not_trust_domains,
    } = s;
    let identity = [&principals, &not_principals, &namespaces, &not_namespaces];
    if identity.into_iter().any(set) && (set(&service_accounts) || set(&not_service_accounts)) {
        return Err(LowerError::new("serviceAccounts", Why::ServiceAccountsWithPrincipals));
    }
    let mut parts = Vec::new();
    field(
        "principals",
        principals,
        not_principals,
        &|v| identity::principals(v, &cx.bundle).map(Pred::Principal),
        &mut parts,
    )?;
    // `iss/sub` of the JWT Envoy's jwt_authn validated (Istio RequestAuthentication).
    field(
        "requestPrincipals",
        request_principals,
        not_request_principals,
        &|v| identity::request_principals(v).map(Pred::JwtPrincipal),
        &mut parts,
    )?;
    field(
        "namespaces",
        namespaces,
        not_namespaces,
        &|v| identity::namespaces(v).map(Pred::Id),
        &mut parts,
    )?;
    field(
        "serviceAccounts",
        service_accounts,
        not_service_accounts,
        &|v| identity::service_accounts(v, cx.policy_ns).map(Pred::Id),
        &mut parts,
    )?;
    field(
        "trustDomains",
        trust_domains,
        not_trust_domains,
        &|v| identity::trust_domains(v, &cx.bundle, true).map(Pred::Id),
        &mut parts,
    )?;
    field(
        "ipBlocks",
        ip_blocks,
        not_ip_blocks,
        &|v| values::ips(v).map(Pred::SourceIp),
        &mut parts,
    )?;
    field(
        "remoteIpBlocks",
        remote_ip_blocks,
        not_remote_ip_blocks,
        &|v| values::ips(v).map(Pred::RemoteIp),
        &mut parts,
    )?;
    if parts.is_empty() {
        return Err(LowerError::new("", Why::EmptySource));
    }
    Ok(Pred::all(parts))
}

fn operation(o: Operation<'_>) -> R<Pred> {
    let Operation {
        hosts,
        not_hosts,
        ports,
        not_ports,
        methods,
        not_methods,
        paths,
        not_paths,
    } = o;
    let mut parts = Vec::new();
    field(
        "hosts",
        hosts,
        not_hosts,
        &|v| values::hosts(v).map(|s| Pred::Host(Box::new(s))),
        &mut parts,
    )?;
    field(
        "ports",
        ports,
        not_ports,
        &|v| values::ports(v).map(Pred::Port),
        &mut parts,
    )?;
    field(
        "methods",
        methods,
        not_methods,
        &|v| values::strings(v).map(Pred::Method),
        &mut parts,
    )?;
    field(
        "paths",
        paths,
        not_paths,
        &|v| values::paths(v).map(Pred::path),
        &mut parts,
    )?;
    if parts.is_empty() {
        return Err(LowerError::new("", Why::EmptyOperation));
    }
    Ok(Pred::all(parts))
}

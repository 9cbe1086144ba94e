//! Istio rules lowered into model predicates, following istio/istio
//! pilot/pkg/security/authz/model (one generator per field).

use super::wire::{Condition, List, Operation, Rule, Source, Str};
use crate::dialect::Ctx;
use crate::model::{HostPattern, HostSet, IpSet, JwtField, PathPattern, Pred, Seg, StringMatch, StringSet, Wildcard};
use crate::spiffe::SCHEME;

/// A lowering error: the field (relative to the rule) and what is wrong.
pub(super) type LowerError = (String, String);
type R<T> = Result<T, LowerError>;

/// Things worth a warning (field, message).
pub(super) type Notes = Vec<(String, String)>;

/// `rule` → one predicate: any `from` AND any `to` AND every `when`. The rule is consumed: each
/// list is freed as soon as it is lowered, so that 100,000 principals as parsed are not held
/// next to their compiled set while the rest of the rule is lowered.
pub(super) fn rule(r: Rule<'_>, policy_ns: &str, ctx: &Ctx<'_>, notes: &mut Notes) -> R<Pred> {
    let mut parts = Vec::new();
    if let Some(from) = r.from.filter(|f| !f.is_empty()) {
        let mut alts = Vec::new();
        for (i, f) in from.into_iter().enumerate() {
            let at = format!("from[{i}].source");
            let s = f.source.ok_or_else(|| (at.clone(), "must be set".to_string()))?;
            let mut here = Notes::new();
            alts.push(source(s, policy_ns, ctx, &mut here).map_err(|(f, m)| (format!("{at}.{f}"), m))?);
            notes.extend(here.into_iter().map(|(f, m)| (format!("{at}.{f}"), m)));
        }
        parts.push(Pred::any(alts));
    }
    if let Some(to) = r.to.filter(|t| !t.is_empty()) {
        let mut alts = Vec::new();
        for (i, t) in to.into_iter().enumerate() {
            let at = format!("to[{i}].operation");
            let o = t.operation.ok_or_else(|| (at.clone(), "must be set".to_string()))?;
            let mut here = Notes::new();
            alts.push(operation(o, &mut here).map_err(|(f, m)| (format!("{at}.{f}"), m))?);
            notes.extend(here.into_iter().map(|(f, m)| (format!("{at}.{f}"), m)));
        }
        parts.push(Pred::any(alts));
    }
    for (i, c) in r.when.into_iter().flatten().enumerate() {
        parts.push(condition(&c, policy_ns, ctx).map_err(|(f, m)| (format!("when[{i}].{f}"), m))?);
    }
    Ok(Pred::all(parts))
}

/// A positive field and its `not` twin: `values` ORed, `notValues` negated. Each list is freed
/// once lowered.
fn field<T>(
    name: &str,
    yes: List<'_>,
    no: List<'_>,
    mut build: impl FnMut(&[Str<'_>], &str) -> R<T>,
    wrap: impl Fn(T) -> Pred,
    parts: &mut Vec<Pred>,
) -> R<()> {
    if let Some(vs) = yes.filter(|v| !v.is_empty()) {
        parts.push(wrap(build(&vs, name)?));
    }
    if let Some(vs) = no.filter(|v| !v.is_empty()) {
        let not = format!("not{}{}", name[..1].to_ascii_uppercase(), &name[1..]);
        parts.push(Pred::negate(wrap(build(&vs, &not)?)));
    }
    Ok(())
}

fn strings(vs: &[Str<'_>], name: &str) -> R<StringSet> {
    strings_with(vs.iter().map(|v| &**v), name, StringSet::new(), |w, set| {
        set.insert(w.to_match())
    })
}

/// Parses each value's wildcard syntax and hands it to `add`, which stores the one string the
/// set keeps (the values themselves stay borrowed from the bundle).
fn strings_with<'v>(
    vs: impl ExactSizeIterator<Item = &'v str>,
    name: &str,
    mut set: StringSet,
    mut add: impl FnMut(Wildcard<'v>, &mut StringSet),
) -> R<StringSet> {
    set.reserve(vs.len());
    for (i, v) in vs.enumerate() {
        if v.is_empty() {
            return Err((format!("{name}[{i}]"), "must not be empty".into()));
        }
        add(
            Wildcard::parse_istio(v).map_err(|e| (format!("{name}[{i}]"), e))?,
            &mut set,
        );
    }
    Ok(set)
}

/// Principals are written without `spiffe://`; those of the local trust domain, an alias, or
/// `cluster.local` stand for the same path in every trust domain of the bundle
/// (istio/istio pilot/pkg/security/trustdomain `ReplaceTrustDomainAliases`).
fn principals(vs: &[Str<'_>], name: &str, ctx: &Ctx<'_>, notes: &mut Notes) -> R<StringSet> {
    let local = ctx.workload.trust_domain();
    let domains: Vec<&str> = std::iter::once(local)
        .chain(ctx.settings.trust_domain_aliases.iter().map(String::as_str))
        .collect();
    for (i, v) in vs.iter().enumerate() {
        if let Some(bare) = v.strip_prefix(SCHEME) {
            notes.push((
                format!("{name}[{i}]"),
                format!(
                    "{v:?} starts with spiffe://; Istio matches principals without the scheme, so this never matches \
                     (write {:?})",
                    bare
                ),
            ));
        }
    }
    strings_with(vs.iter().map(|v| &**v), name, StringSet::new(), |w, set| {
        let value = match w {
            Wildcard::Exact(v) | Wildcard::Prefix(v) => v,
            // `*abc` and `*` do not name a trust domain, and every probe has the scheme.
            _ => return set.insert(w.to_match()),
        };
        // Each stored URI is built once, at its final size.
        let uri = |td: &str, rest: &str| w.with_value([SCHEME, td, rest].concat());
        match value.split_once("/ns/").map(|(td, _)| td) {
            Some(td) if domains.contains(&td) || td == "cluster.local" => {
                domains.iter().for_each(|d| set.insert(uri(d, &value[td.len()..])))
            }
            _ => set.insert(uri("", value)),
        }
    })
}

fn service_accounts(vs: &[Str<'_>], name: &str, policy_ns: &str) -> R<StringSet> {
    let mut set = StringSet::new();
    set.reserve(vs.len());
    for (i, v) in vs.iter().enumerate() {
        let full = match v.split_once('/') {
            Some((ns, sa)) if !ns.is_empty() && !sa.is_empty() && !sa.contains('/') => v.to_string(),
            None if !v.is_empty() => format!("{policy_ns}/{v}"),
            _ => {
                return Err((
                    format!("{name}[{i}]"),
                    format!("{v:?} is not `<namespace>/<serviceaccount>` or `<serviceaccount>`"),
                ))
            }
        };
        set.insert(StringMatch::Exact(full));
    }
    Ok(set)
}

fn ips(vs: &[Str<'_>], name: &str) -> R<IpSet> {
    let mut set = IpSet::default();
    for (i, v) in vs.iter().enumerate() {
        set.insert(crate::model::Cidr::parse(v).map_err(|e| (format!("{name}[{i}]"), e))?);
    }
    Ok(set)
}

fn ports(vs: &[Str<'_>], name: &str) -> R<Vec<u16>> {
    vs.iter()
        .enumerate()
        .map(|(i, v)| {
            v.parse::<u16>()
                .map_err(|_| (format!("{name}[{i}]"), format!("{v:?} is not a port number")))
        })
        .collect()
}

fn source(s: Source<'_>, policy_ns: &str, ctx: &Ctx<'_>, notes: &mut Notes) -> R<Pred> {
    let has = |v: &List<'_>| v.as_ref().is_some_and(|v| !v.is_empty());
    if (has(&s.principals) || has(&s.not_principals)) && (has(&s.service_accounts) || has(&s.not_service_accounts)) {
        return Err((
            "serviceAccounts".into(),
            "cannot be set together with principals or notPrincipals".into(),
        ));
    }
    let mut parts = Vec::new();
    let mut notes_here = Notes::new();
    field(
        "principals",
        s.principals,
        s.not_principals,
        |v, n| principals(v, n, ctx, &mut notes_here),
        Pred::Principal,
        &mut parts,
    )?;
    notes.extend(notes_here);
    // `iss/sub` of the JWT Envoy's jwt_authn validated (Istio RequestAuthentication).
    field(
        "requestPrincipals",
        s.request_principals,
        s.not_request_principals,
        strings,
        |set| Pred::Jwt(JwtField::Principal, set),
        &mut parts,
    )?;
    field(
        "namespaces",
        s.namespaces,
        s.not_namespaces,
        strings,
        Pred::Namespace,
        &mut parts,
    )?;
    field(
        "serviceAccounts",
        s.service_accounts,
        s.not_service_accounts,
        |v, n| service_accounts(v, n, policy_ns),
        Pred::ServiceAccount,
        &mut parts,
    )?;
    field(
        "ipBlocks",
        s.ip_blocks,
        s.not_ip_blocks,
        ips,
        Pred::SourceIp,
        &mut parts,
    )?;
    field(
        "remoteIpBlocks",
        s.remote_ip_blocks,
        s.not_remote_ip_blocks,
        ips,
        Pred::RemoteIp,
        &mut parts,
    )?;
    if parts.is_empty() {
        return Err((
            String::new(),
            "must not be empty (Istio rejects an empty source)".into(),
        ));
    }
    Ok(Pred::all(parts))
}

fn operation(o: Operation<'_>, notes: &mut Notes) -> R<Pred> {
    let mut parts = Vec::new();
    let hosts = |vs: &[Str<'_>], n: &str| {
        let mut set = HostSet::default();
        for (i, v) in vs.iter().enumerate() {
            if v.is_empty() {
                return Err((format!("{n}[{i}]"), "must not be empty".into()));
            }
            set.insert(HostPattern::parse_istio(v).map_err(|e| (format!("{n}[{i}]"), e))?);
        }
        Ok(set)
    };
    field("hosts", o.hosts, o.not_hosts, hosts, Pred::Host, &mut parts)?;
    field("ports", o.ports, o.not_ports, ports, Pred::Port, &mut parts)?;
    field("methods", o.methods, o.not_methods, strings, Pred::Method, &mut parts)?;
    let mut notes_here = Notes::new();
    field(
        "paths",
        o.paths,
        o.not_paths,
        |v, n| paths(v, n, &mut notes_here),
        Pred::path,
        &mut parts,
    )?;
    notes.extend(notes_here);
    if parts.is_empty() {
        return Err((
            String::new(),
            "must not be empty (Istio rejects an empty operation)".into(),
        ));
    }
    Ok(Pred::all(parts))
}

fn paths(vs: &[Str<'_>], name: &str, notes: &mut Notes) -> R<Vec<PathPattern>> {
    let mut out = Vec::with_capacity(vs.len());
    for (i, v) in vs.iter().enumerate() {
        let at = format!("{name}[{i}]");
        if v.contains(['?', '#']) {
            notes.push((
                at.clone(),
                format!("{v:?}: paths are matched without query or fragment, so this never matches"),
            ));
        }
        let p = if v.contains('{') || v.contains('}') {
            template(v).map_err(|e| (at, e))?
        } else {
            match Wildcard::parse_istio(v).map_err(|e| (at, e))? {
                Wildcard::Exact(s) => PathPattern::Exact(s.into()),
                Wildcard::Prefix(s) => PathPattern::Prefix(s.into()),
                Wildcard::Suffix(s) => PathPattern::Suffix(s.into()),
                Wildcard::Presence => PathPattern::Any,
            }
        };
        out.push(p);
    }
    Ok(out)
}

/// `/a/{*}/b/{**}`: `{*}` one segment, `{**}` the rest; each alone in its segment, `{**}` last.
fn template(v: &str) -> Result<PathPattern, String> {
    let rest = v
        .strip_prefix('/')
        .ok_or_else(|| format!("{v:?}: a path template must start with '/'"))?;
    let segs: Vec<&str> = rest.split('/').collect();
    let mut out = Vec::with_capacity(segs.len());
    for (i, s) in segs.iter().enumerate() {
        out.push(match *s {
            "{*}" => Seg::One,
            "{**}" if i + 1 == segs.len() => Seg::Rest { min: 1 },
            "{**}" => return Err(format!("{v:?}: {{**}} must be the last operator")),
            s if s.contains(['{', '}', '*']) => {
                return Err(format!(
                    "{v:?}: {{*}} and {{**}} must each be a whole segment, and no other '*' may appear"
                ))
            }
            s => Seg::Lit(s.into()),
        });
    }
    Ok(PathPattern::Segments(out))
}

fn condition<'v>(c: &'v Condition<'_>, policy_ns: &str, ctx: &Ctx<'_>) -> R<Pred> {
    let key = c.key.as_str();
    let vals = |v: &'v List<'_>| v.as_deref().filter(|v| !v.is_empty());
    let (yes, no) = (vals(&c.values), vals(&c.not_values));
    if yes.is_none() && no.is_none() {
        return Err((
            "values".into(),
            "at least one of values or notValues must be set".into(),
        ));
    }
    let build = |vs: &[Str<'_>], name: &str| -> R<Pred> {
        if let Some(h) = key.strip_prefix("request.headers[").and_then(|k| k.strip_suffix(']')) {
            if h.is_empty() {
                return Err(("key".into(), "request.headers[] needs a header name".into()));
            }
            return Ok(Pred::Header(h.to_ascii_lowercase().into(), strings(vs, name)?));
        }
        Ok(match key {
            "source.ip" => Pred::SourceIp(ips(vs, name)?),
            "remote.ip" => Pred::RemoteIp(ips(vs, name)?),
            "destination.ip" => Pred::DestinationIp(ips(vs, name)?),
            "destination.port" => Pred::Port(ports(vs, name)?),
            "source.namespace" => Pred::Namespace(strings(vs, name)?),
            "source.principal" => Pred::Principal(principals(vs, name, ctx, &mut Notes::new())?),
            "source.serviceAccount" => Pred::ServiceAccount(service_accounts(vs, name, policy_ns)?),
            "connection.sni" => Pred::Sni(strings(vs, name)?),
            "request.auth.principal" => Pred::Jwt(JwtField::Principal, strings(vs, name)?),
            "request.auth.audiences" => Pred::Jwt(JwtField::Audiences, strings(vs, name)?),
            "request.auth.presenter" => Pred::Jwt(JwtField::Presenter, strings(vs, name)?),
            k if k.starts_with("request.auth.claims") => Pred::Jwt(claim_path(k)?, strings(vs, name)?),
            k if k.starts_with("request.auth.") => {
                return Err(("key".into(), format!("{k:?} is not a supported condition key")))
            }
            k if k.starts_with("experimental.envoy.filters.") => {
                return Err((
                    "key".into(),
                    format!("{k:?} reads another filter's metadata, which this filter cannot see"),
                ))
            }
            k => return Err(("key".into(), format!("{k:?} is not a supported condition key"))),
        })
    };
    let mut parts = Vec::new();
    if let Some(vs) = yes {
        parts.push(build(vs, "values")?);
    }
    if let Some(vs) = no {
        parts.push(Pred::negate(build(vs, "notValues")?));
    }
    Ok(Pred::all(parts))
}

/// `request.auth.claims[a][b]` → the claim path `a`, `b` (Istio: one `[name]` per level).
fn claim_path(key: &str) -> R<JwtField> {
    let bad = || {
        (
            "key".to_string(),
            format!("{key:?}: expected request.auth.claims[name] (nested: [a][b])"),
        )
    };
    let mut rest = key.strip_prefix("request.auth.claims").ok_or_else(bad)?;
    let mut path = Vec::new();
    while !rest.is_empty() {
        let (name, after) = rest.strip_prefix('[').and_then(|r| r.split_once(']')).ok_or_else(bad)?;
        if name.is_empty() || name.contains('[') {
            return Err(bad());
        }
        path.push(name.into());
        rest = after;
    }
    if path.is_empty() {
        return Err(bad());
    }
    Ok(JwtField::Claim(path))
}

#[cfg(test)]
mod jwt_tests {
    use super::*;

    #[test]
    fn claim_paths_follow_istio_brackets() {
        let path = |k: &str| match claim_path(k) {
            Ok(JwtField::Claim(p)) => Some(p.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            _ => None,
        };
        assert_eq!(path("request.auth.claims[groups]"), Some(vec!["groups".into()]));
        assert_eq!(
            path("request.auth.claims[org][team]"),
            Some(vec!["org".into(), "team".into()])
        );
        for bad in [
            "request.auth.claims",
            "request.auth.claims[]",
            "request.auth.claims.groups",
            "request.auth.claims[a",
        ] {
            assert_eq!(path(bad), None, "{bad}");
        }
    }
}

//! `when` conditions: each key checked as istiod's `ValidateAttribute` checks it and read as its
//! generators read it (pilot/pkg/security/authz/model/model.go `New`).

use super::error::{LowerError, Why};
use super::identity::{self, TrustBundle};
use super::values::{self, non_empty, R};
use super::wire::{Condition, Str};
use crate::model::{JwtField, MetadataTest, Pred};

/// A condition as lowered.
pub(super) enum Lowered {
    /// A test (boxed: a predicate is large, and this is built once per condition at load).
    Test(Box<Pred>),
    /// istiod accepts the key but its generator cannot read it: it drops an ALLOW rule that has
    /// it, and ignores the condition in a DENY or AUDIT rule (model.go `checkError`). Why, in
    /// words.
    Unreadable(String),
}

/// One condition: `values` ORed, `notValues` negated, both ANDed.
pub(super) fn condition(c: Condition<'_>, bundle: &TrustBundle<'_>, policy_ns: &str) -> R<Lowered> {
    let Condition {
        key,
        values,
        not_values,
    } = c;
    let kind = kind(&key).map_err(|why| LowerError::new("key", why))?;
    let yes = values.filter(|v| !v.is_empty());
    let no = not_values.filter(|v| !v.is_empty());
    if yes.is_none() && no.is_none() {
        return Err(LowerError::new("values", Why::NoValues(key)));
    }
    // Both lists are checked, whatever reads them.
    let mut parts = Vec::new();
    for (name, vs, negate) in [("values", yes, false), ("notValues", no, true)] {
        let Some(vs) = vs else { continue };
        let p = test(&kind, &vs, bundle, policy_ns).map_err(|e| e.under(name))?;
        parts.push(if negate { Pred::negate(p) } else { p });
    }
    Ok(match kind {
        Kind::Unreadable(why) => Lowered::Unreadable(why),
        _ => Lowered::Test(Box::new(Pred::all(parts))),
    })
}

/// What a key reads.
enum Kind<'k> {
    Header(&'k str),
    Claim(Vec<Box<str>>),
    Metadata(String, &'k str),
    SourceIp,
    RemoteIp,
    DestinationIp,
    DestinationPort,
    SourceNamespace,
    SourcePrincipal,
    SourceServiceAccount,
    SourceTrustDomain,
    Sni,
    RequestPrincipal,
    Audiences,
    Presenter,
    /// Accepted by istiod's validation, unreadable by its generator.
    Unreadable(String),
}

/// The key, checked as istiod's `ValidateAttribute` checks it.
fn kind(key: &str) -> Result<Kind<'_>, Why> {
    if key.is_empty() {
        return Err(Why::KeyEmpty);
    }
    if let Some(rest) = key.strip_prefix("request.headers") {
        map_key(key)?;
        return Ok(match name_in_brackets(rest) {
            Some(h) => Kind::Header(h),
            None => Kind::Unreadable(format!("{key:?}: istiod reads request.headers[<name>] only")),
        });
    }
    if let Some(rest) = key.strip_prefix("request.auth.claims") {
        map_key(key)?;
        let names = nested_names(rest);
        return Ok(match names.is_empty() {
            true => Kind::Unreadable(format!("{key:?}: istiod reads request.auth.claims[<a>][<b>]... only")),
            false => Kind::Claim(names.into_iter().map(Into::into).collect()),
        });
    }
    if let Some(rest) = key.strip_prefix("experimental.envoy.filters.") {
        map_key(key)?;
        // `experimental.envoy.filters.a.b[c]`: filter `envoy.filters.a.b`, key `c`.
        let (filter, k) = rest.trim_end_matches(']').split_once('[').unwrap_or((rest, ""));
        return Ok(Kind::Metadata(["envoy.filters.", filter].concat(), k));
    }
    Ok(match key {
        "source.ip" => Kind::SourceIp,
        "remote.ip" => Kind::RemoteIp,
        "destination.ip" => Kind::DestinationIp,
        "destination.port" => Kind::DestinationPort,
        "source.namespace" => Kind::SourceNamespace,
        "source.principal" => Kind::SourcePrincipal,
        "source.serviceAccount" => Kind::SourceServiceAccount,
        "source.trustDomain" => Kind::SourceTrustDomain,
        "connection.sni" => Kind::Sni,
        "request.auth.principal" => Kind::RequestPrincipal,
        "request.auth.audiences" => Kind::Audiences,
        "request.auth.presenter" => Kind::Presenter,
        "destination.namespace" => return Err(Why::Replaced(key.into(), "metadata.namespace")),
        k if k.starts_with("destination.labels") => return Err(Why::Replaced(k.into(), "workload selector")),
        "destination.name" | "destination.user" => return Err(Why::Deprecated(key.into())),
        k => return Err(Why::UnknownAttribute(k.into())),
    })
}

/// The test `vs` describe for a key (ORed).
fn test(kind: &Kind<'_>, vs: &[Str<'_>], bundle: &TrustBundle<'_>, policy_ns: &str) -> R<Pred> {
    non_empty(vs)?;
    Ok(match kind {
        Kind::Header(h) => Pred::Header(h.to_ascii_lowercase().into(), values::strings(vs)?),
        Kind::Claim(path) => Pred::Jwt(JwtField::Claim(path.clone()), values::strings(vs)?),
        Kind::Metadata(filter, k) => {
            let mut m = MetadataTest::new(filter, k);
            vs.iter().for_each(|v| m.insert(v));
            Pred::Metadata(Box::new(m))
        }
        Kind::SourceIp => Pred::SourceIp(values::ips(vs)?),
        Kind::RemoteIp => Pred::RemoteIp(values::ips(vs)?),
        Kind::DestinationIp => Pred::DestinationIp(values::ips(vs)?),
        Kind::DestinationPort => Pred::Port(values::ports(vs)?),
        Kind::SourceNamespace => Pred::Id(identity::namespaces(vs)?),
        Kind::SourcePrincipal => Pred::Principal(identity::principals(vs, bundle)?),
        Kind::SourceServiceAccount => Pred::Id(identity::service_accounts(vs, policy_ns)?),
        Kind::SourceTrustDomain => Pred::Id(identity::trust_domains(vs, bundle, false)?),
        Kind::Sni => Pred::Sni(values::strings(vs)?),
        Kind::RequestPrincipal => Pred::JwtPrincipal(identity::request_principals(vs)?),
        Kind::Audiences => Pred::Jwt(JwtField::Audiences, values::strings(vs)?),
        Kind::Presenter => Pred::Jwt(JwtField::Presenter, values::strings(vs)?),
        Kind::Unreadable(_) => Pred::Never,
    })
}

/// istiod's `validateMapKey`: `a[b]` with a non-empty `b`.
fn map_key(key: &str) -> Result<(), Why> {
    match key.find('[') {
        Some(open) if open > 0 && key.ends_with(']') && open + 2 < key.len() => Ok(()),
        _ => Err(Why::BadKey(key.into())),
    }
}

/// istiod's `extractNameInBrackets`: `[name]` → `name`.
fn name_in_brackets(s: &str) -> Option<&str> {
    s.strip_prefix('[')?.strip_suffix(']')
}

/// istiod's `extractNameInNestedBrackets`: `[a][b]` → `a`, `b`; anything else that is one
/// `[...]` → its content (`[[a]` → `[a`). `None` when istiod's parser fails on it.
fn nested_names(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut begin = 0;
    while begin < s.len() {
        let end = s[begin..].strip_prefix('[').and_then(|r| {
            let close = r.find([']', '['])?;
            (r.as_bytes()[close] == b']').then_some(begin + 1 + close)
        });
        match end {
            Some(end) => {
                out.push(&s[begin + 1..end]);
                begin = end + 1;
            }
            None => return name_in_brackets(s).into_iter().collect(),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// pilot/pkg/security/authz/model/util_test.go TestExtractNameInNestedBrackets.
    #[test]
    fn claim_names_as_istiod_parses_them() {
        let cases: &[(&str, &[&str])] = &[
            ("[good]", &["good"]),
            ("[good][abc][xyz]", &["good", "abc", "xyz"]),
            ("[]", &[""]),
            ("[[good]", &["[good"]),
            ("[good]]", &["good]"]),
            ("[[good]]", &["[good]"]),
            ("x[bad]", &[]),
            ("[bad", &[]),
            ("bad]", &[]),
            ("bad", &[]),
        ];
        for (s, want) in cases {
            assert_eq!(nested_names(s), *want, "{s}");
        }
    }

    #[test]
    fn map_keys_as_istiod_checks_them() {
        for ok in [
            "request.headers[a]",
            "request.headers[[good]]",
            "request.auth.claimsx[bad]",
            "a.b[c]",
        ] {
            assert!(map_key(ok).is_ok(), "{ok}");
        }
        for bad in [
            "request.headers[]",
            "request.headers[bad",
            "request.headersbad]",
            "experimental.envoy.filters.a.b.x",
        ] {
            assert!(map_key(bad).is_err(), "{bad}");
        }
    }
}

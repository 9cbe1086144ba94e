//! The values of one field, checked as istiod's validation checks them (pkg/config/security)
//! and turned into the matchers istiod's generators write (pilot/pkg/security/authz/matcher).

use super::error::{LowerError, Why};
use super::wire::Str;
use crate::model::{AuthoritySet, Cidr, IpSet, PathPattern, Seg, StringSet, Wildcard};

pub(super) type R<T> = Result<T, LowerError>;

/// istiod's `CheckEmptyValues`: every value is non-empty.
pub(super) fn non_empty(vs: &[Str<'_>]) -> R<()> {
    match vs.iter().position(|v| v.is_empty()) {
        Some(i) => Err(LowerError::new(format!("[{i}]"), Why::EmptyValue)),
        None => Ok(()),
    }
}

/// Strings in Istio's wildcard syntax ([`Wildcard::istio`]), compared as sent.
pub(super) fn strings(vs: &[Str<'_>]) -> R<StringSet> {
    non_empty(vs)?;
    let mut set = StringSet::new();
    set.reserve(vs.len());
    vs.iter().for_each(|v| set.insert(Wildcard::istio(v).to_match()));
    Ok(set)
}

/// IP addresses and CIDR blocks (istiod's `ValidateIPs`).
pub(super) fn ips(vs: &[Str<'_>]) -> R<IpSet> {
    non_empty(vs)?;
    let mut set = IpSet::default();
    for (i, v) in vs.iter().enumerate() {
        let c = Cidr::parse(v).map_err(|_| LowerError::new(format!("[{i}]"), Why::BadIp(v.to_string())))?;
        set.insert(c);
    }
    Ok(set)
}

/// Ports: decimal numbers up to 65535 (istiod's `ValidatePorts`: `strconv.ParseUint`, so no sign).
pub(super) fn ports(vs: &[Str<'_>]) -> R<Vec<u16>> {
    non_empty(vs)?;
    vs.iter()
        .enumerate()
        .map(|(i, v)| {
            v.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| v.parse::<u16>().ok())
                .flatten()
                .ok_or_else(|| LowerError::new(format!("[{i}]"), Why::BadPort(v.to_string())))
        })
        .collect()
}

/// Hosts, matched on the `:authority` (see [`AuthoritySet`]).
pub(super) fn hosts(vs: &[Str<'_>]) -> R<AuthoritySet> {
    non_empty(vs)?;
    let mut set = AuthoritySet::default();
    vs.iter().for_each(|v| set.insert_istio(v));
    Ok(set)
}

/// Paths: a value with `{*}` or `{**}` is a template (Envoy's uri_template), any other is a
/// string in Istio's wildcard syntax (`/api/*/users` is that exact path).
pub(super) fn paths(vs: &[Str<'_>]) -> R<Vec<PathPattern>> {
    non_empty(vs)?;
    let mut out = Vec::with_capacity(vs.len());
    for (i, v) in vs.iter().enumerate() {
        let at = |m: String| LowerError::new(format!("[{i}]"), Why::PathTemplate(m));
        check_template(v).map_err(at)?;
        if v.contains("{*}") || v.contains("{**}") {
            out.push(template(v).map_err(at)?);
            continue;
        }
        out.push(match Wildcard::istio(v) {
            Wildcard::Exact(s) => PathPattern::Exact(s.into()),
            Wildcard::Prefix(s) => PathPattern::Prefix(s.into()),
            Wildcard::Suffix(s) => PathPattern::Suffix(s.into()),
            Wildcard::Presence => PathPattern::Any,
        });
    }
    Ok(out)
}

/// istiod's `CheckValidPathTemplate`: `{*}` and `{**}` each a whole segment, no operator after
/// `{**}` (literal segments may follow it: `/store/{**}/cart`), no other brace, and in a
/// template every literal segment made of path characters.
fn check_template(v: &str) -> Result<(), String> {
    let is_template = v.contains("{*}") || v.contains("{**}");
    let trimmed = v.trim_matches('/');
    let mut after_any = false;
    for glob in trimmed.split('/') {
        match glob {
            "{*}" | "{**}" if after_any => {
                return Err(format!(
                    "invalid or unsupported path {trimmed}: {{**}} is not the last operator"
                ))
            }
            "{*}" => continue,
            "{**}" => {
                after_any = true;
                continue;
            }
            _ => {}
        }
        if glob.contains(['{', '}']) {
            return Err(format!(
                "invalid or unsupported path {trimmed}: Contains '{{' or '}}' beyond a supported path template"
            ));
        }
        if is_template && !is_literal(glob) {
            return Err(format!(
                "invalid or unsupported path {trimmed}: Contains segment {glob} with invalid string literal"
            ));
        }
    }
    Ok(())
}

/// istiod's `IsValidLiteral`: RFC 3986 `pchar`s but `*` (and `/`), at least one.
fn is_literal(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%!$&'()+,;:@=".contains(&b))
}

/// A checked template as segments: `{*}` one segment, `{**}` any text (see [`Seg`]).
fn template(v: &str) -> Result<PathPattern, String> {
    let rest = v
        .strip_prefix('/')
        .ok_or_else(|| format!("{v:?}: a path template must start with '/' (Envoy refuses it otherwise)"))?;
    let segs = rest.split('/').map(|s| match s {
        "{*}" => Seg::One,
        "{**}" => Seg::Rest,
        s => Seg::Lit(s.into()),
    });
    Ok(PathPattern::Segments(segs.collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn strs(vs: &[&'static str]) -> Vec<Str<'static>> {
        vs.iter().map(|v| Str(Cow::Borrowed(*v))).collect()
    }

    #[test]
    fn templates_as_istiod_checks_them() {
        for ok in [
            "/{*}/foo",
            "/{*}/foo/",
            "/foo/{**}/bar",
            "/foo/bar/{**}",
            "/store/{**}/cart",
            "/a=c/{*}",
        ] {
            assert_eq!(check_template(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("/foo/{**}buzz/bar", "beyond"),
            ("/{*}/foo/{}/bar", "beyond"),
            ("/foo/{*}/bar/*", "invalid string literal"),
            ("/foo/{buzz}/bar", "beyond"),
            ("/{**}/foo/temp/{*}/bar", "not the last operator"),
            ("/{**}/{**}", "not the last operator"),
            ("/{*}/foo/?abc", "invalid string literal"),
        ] {
            assert!(check_template(bad).is_err_and(|e| e.contains(why)), "{bad}");
        }
    }

    #[test]
    fn a_star_inside_a_path_is_literal() {
        assert_eq!(
            paths(&strs(&["/api/*/users"])),
            Ok(vec![PathPattern::Exact("/api/*/users".into())])
        );
        assert_eq!(paths(&strs(&["*/x*"])), Ok(vec![PathPattern::Suffix("/x*".into())]));
    }

    #[test]
    fn ports_are_plain_decimal() {
        assert_eq!(ports(&strs(&["0", "443", "65535"])), Ok(vec![0, 443, 65535]));
        for bad in ["-80", "+80", "xyz", "91234", " 80"] {
            assert_eq!(
                ports(&strs(&[bad])).map_err(|e| e.why),
                Err(Why::BadPort(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            ports(&strs(&["80", ""])).map_err(|e| (e.at, e.why)),
            Err(("[1]".into(), Why::EmptyValue))
        );
    }
}

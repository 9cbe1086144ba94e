//! The syntax rules Linkerd's admission webhook and CRD schemas enforce on strings: identities
//! (policy-controller `runtime/src/validation.rs`), Gateway API hostnames, header names, gRPC
//! service and method names, Gateway API path values, and Go durations (route timeouts).

/// A DNS label of `DNS_LIKE_IDENTITY_REGEX` / the Gateway API hostname pattern:
/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
fn dns_label(l: &str) -> bool {
    let b = l.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b.first() != Some(&b'-')
        && b.last() != Some(&b'-')
}

/// Why an identity is invalid (the webhook's `IdError`, worded as it words them).
pub(super) fn identity(id: &str) -> Result<(), &'static str> {
    const TD: &str = "abcdefghijklmnopqrstuvwxyz0123456789-._";
    let Some(rest) = id.strip_prefix("spiffe://") else {
        // `^(\*|label)(\.label)*$`
        let mut labels = id.split('.');
        let first_ok = labels.next().is_some_and(|l| l == "*" || dns_label(l));
        return if first_ok && labels.all(dns_label) {
            Ok(())
        } else {
            Err("identity must be a valid SPIFFE id or a DNS SAN")
        };
    };
    let i = rest.find('/').unwrap_or(rest.len());
    let (td, path) = rest.split_at(i);
    if td.is_empty() {
        return Err("SPIFFE trust domain is missing");
    }
    if !td.chars().all(|c| TD.contains(c)) {
        return Err(
            "SPIFFE trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores",
        );
    }
    if path.is_empty() {
        return Ok(());
    }
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (n, s) in segments.iter().enumerate() {
        let last = n + 1 == segments.len();
        match *s {
            "" if last => return Err("SPIFFE path cannot have a trailing slash"),
            "" => return Err("SPIFFE path cannot contain empty segments"),
            "." | ".." => return Err("SPIFFE path cannot contain dot segments"),
            _ if !s.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c)) => {
                return Err(
                    "SPIFFE path segment characters are limited to letters, numbers, dots, dashes, and underscores",
                )
            }
            _ => {}
        }
    }
    Ok(())
}

/// A Gateway API hostname: `^(\*\.)?label(\.label)*$`, at most 253 characters.
pub(super) fn hostname(h: &str) -> bool {
    let rest = h.strip_prefix("*.").unwrap_or(h);
    h.len() <= 253 && rest.split('.').all(dns_label)
}

/// An HTTP header name (an RFC 7230 token: the CRDs' `^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$`).
pub(super) fn header_name(n: &str) -> bool {
    !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A gRPC method name (GRPCRoute CRD: `^[A-Za-z_][A-Za-z_0-9]*$`).
pub(super) fn grpc_method(m: &str) -> bool {
    let mut b = m.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_') && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// A gRPC service name (GRPCRoute CRD: `^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$`).
pub(super) fn grpc_service(s: &str) -> bool {
    s.strip_prefix('.').unwrap_or(s).split('.').all(grpc_method)
}

/// What the Gateway API HTTPRoute CRD refuses in an `Exact` or `PathPrefix` value (its
/// `x-kubernetes-validations`), as its message says it.
pub(super) fn gateway_path(v: &str) -> Result<(), &'static str> {
    const BANNED: [(&str, &str); 6] = [
        ("//", "must not contain '//'"),
        ("/./", "must not contain '/./'"),
        ("/../", "must not contain '/../'"),
        ("%2f", "must not contain '%2f'"),
        ("%2F", "must not contain '%2F'"),
        ("#", "must not contain '#'"),
    ];
    if let Some((_, why)) = BANNED.iter().find(|(s, _)| v.contains(s)) {
        return Err(why);
    }
    if v.ends_with("/..") {
        return Err("must not end with '/..'");
    }
    if v.ends_with("/.") {
        return Err("must not end with '/.'");
    }
    let b = v.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let ok = match c {
            b'%' => {
                let hex = |j: usize| b.get(j).is_some_and(|h| h.is_ascii_hexdigit());
                if !(hex(i + 1) && hex(i + 2)) {
                    return Err("must only contain valid characters");
                }
                i += 2;
                true
            }
            _ => c.is_ascii_alphanumeric() || b"-/._~!$&'()*+,;=:@".contains(&c),
        };
        if !ok || v.is_empty() {
            return Err("must only contain valid characters");
        }
        i += 1;
    }
    if v.is_empty() {
        return Err("must only contain valid characters");
    }
    Ok(())
}

/// A Go `time.ParseDuration` value (Linkerd's `K8sDuration`), in nanoseconds; negative allowed.
/// Integer arithmetic: a fraction is kept to the nanosecond.
pub(super) fn duration_nanos(s: &str) -> Result<i64, &'static str> {
    const UNITS: &str = "expected one of 'ns', 'us', 'µs', 'ms', 's', 'm', or 'h'";
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..).unwrap_or("")),
        Some(b'+') => (false, s.get(1..).unwrap_or("")),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err("invalid duration");
    }
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(n);
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        if int.is_empty() && frac.is_empty() || int.len() > 9 || frac.len() > 9 {
            return Err("invalid number");
        }
        let digits = |d: &str| -> i64 { d.bytes().fold(0, |a, b| a * 10 + i64::from(b - b'0')) };
        let u = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(u);
        let scale: i64 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(UNITS),
        };
        let frac_scale = 10i64.pow(frac.len() as u32);
        // At most 9 digits each side: a few hundred thousand hours fit in nanoseconds.
        total = total.saturating_add(digits(int).saturating_mul(scale) + digits(frac) * scale / frac_scale);
        rest = tail;
    }
    Ok(if neg { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// policy-controller runtime/src/validation.rs tests, one row each.
    #[test]
    fn identities_as_the_webhook_checks_them() {
        let cases: &[(&str, bool)] = &[
            ("system.local", true),
            ("*", true),
            ("*.system.local", true),
            ("system.local.*", false),
            ("system.local.", false),
            (".system.local", false),
            ("system..local", false),
            ("spiffe://trustdomain", true),
            ("spiffe://trustdomain/path/element", true),
            ("http://domain.test/path/element", false),
            ("spiffe:/path/element", false),
            ("spiffe:///path/element", false),
            ("spiffe:path/element", false),
            ("spiffe://domain.test/path/element?query=", false),
            ("spiffe://domain.test/path/element#fragment-1", false),
            ("spiffe://domain.test:8080/path/element", false),
            ("spiffe://user:password@test.org/path/element", false),
            ("spiffe://test.org/", false),
            ("spiffe://test.org//", false),
            ("spiffe://test.org/path/other/", false),
            ("spiffe://test.org/./other", false),
            ("spiffe://test.org/../other", false),
            ("**.cluster.local", false),
            ("web.ns.serviceaccount.identity.linkerd.cluster.local", true),
            ("Web.ns", false),
            ("-a.b", false),
            ("a-.b", false),
            ("a-b.c", true),
        ];
        for (id, ok) in cases {
            assert_eq!(identity(id).is_ok(), *ok, "{id}");
        }
        assert_eq!(identity("spiffe:///x"), Err("SPIFFE trust domain is missing"));
        assert_eq!(
            identity("spiffe://t/a/"),
            Err("SPIFFE path cannot have a trailing slash")
        );
        assert_eq!(
            identity("spiffe://t//a"),
            Err("SPIFFE path cannot contain empty segments")
        );
    }

    #[test]
    fn hostnames_headers_and_grpc_names() {
        for (h, ok) in [
            ("example.com", true),
            ("*.example.com", true),
            ("example.com.", false),
            ("Example.com", false),
            ("*", false),
            ("a.*.com", false),
            ("", false),
            ("10.0.0.1", true),
        ] {
            assert_eq!(hostname(h), ok, "{h}");
        }
        for (n, ok) in [
            ("x-foo", true),
            ("X_Foo", true),
            ("x foo", false),
            ("", false),
            ("x:y", false),
        ] {
            assert_eq!(header_name(n), ok, "{n}");
        }
        for (m, ok) in [("Get", true), ("_x1", true), ("1x", false), ("a.b", false), ("", false)] {
            assert_eq!(grpc_method(m), ok, "{m}");
        }
        for (s, ok) in [
            ("foo.bar.bah", true),
            (".pkg.Svc", true),
            ("a..b", false),
            ("a.1b", false),
            ("", false),
        ] {
            assert_eq!(grpc_service(s), ok, "{s}");
        }
    }

    #[test]
    fn gateway_path_rules() {
        for (p, ok) in [
            ("/a/b", true),
            ("/a//b", false),
            ("/a/./b", false),
            ("/a/../b", false),
            ("/a%2Fb", false),
            ("/a%2fb", false),
            ("/a#b", false),
            ("/a/..", false),
            ("/a/.", false),
            ("/a%20b", true),
            ("/a%2", false),
            ("/a b", false),
            ("/v1/items:delete", true),
        ] {
            assert_eq!(gateway_path(p).is_ok(), ok, "{p}");
        }
    }

    #[test]
    fn durations_as_go_parses_them() {
        assert_eq!(duration_nanos("1s"), Ok(1_000_000_000));
        assert_eq!(duration_nanos("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(duration_nanos("1.5ms"), Ok(1_500_000));
        assert_eq!(duration_nanos("-2s"), Ok(-2_000_000_000));
        assert_eq!(duration_nanos("0"), Ok(0));
        assert!(duration_nanos(".s").is_err());
        assert!(duration_nanos("10").is_err());
        assert!(duration_nanos("1d").is_err());
        assert!(duration_nanos("").is_err());
    }
}

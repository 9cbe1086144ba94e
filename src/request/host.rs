//! Host normalization: `Secret.COM`, `secret.com:80` and `secret.com.` are one host
//! (CVE-2021-39155: Istio host rules were matched case-sensitively).
//!
//! The normalized host is lowercase, without port and without trailing dots; an IPv6 literal
//! keeps its brackets and is written in its canonical (RFC 5952) form, so `[0:0::1]` and
//! `[::1]` are one host. [`parse_authority`] refuses what is not a host at all (a userinfo,
//! a bad port, characters no host name has); the filter answers 400 to those.

use std::net::Ipv6Addr;

/// Why an `:authority` was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostError {
    /// `user@host`: forbidden in an HTTP authority, and a classic confusion (`good@evil`).
    UserInfo,
    /// `a,b`: Envoy joins repeated `Host` headers with a comma, and RFC 9112 3.2 answers 400 to
    /// a request with more than one (`host: other.example` + `host: secret.com` would match
    /// neither host rule while the application picks one).
    Several,
    /// The port is not a number in 1..=65535.
    InvalidPort,
    /// `[...]` that is not an IPv6 address (zone ids included), or an unbracketed IPv6.
    InvalidIpLiteral,
    /// A character no host name has (space, control, non-ASCII, `%`, `/`, `\`, ...).
    InvalidCharacter,
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HostError::UserInfo => "authority contains a userinfo ('@')",
            HostError::Several => "authority holds several hosts (a repeated Host header?)",
            HostError::InvalidPort => "authority has an invalid port",
            HostError::InvalidIpLiteral => "authority has an invalid IP literal",
            HostError::InvalidCharacter => "authority contains a character no host name has",
        })
    }
}

impl std::error::Error for HostError {}

/// Splits an `:authority` into the normalized host and its port, or says why it is no host.
/// An empty authority is an empty host (HTTP/1.0 without `Host`): it matches no host value.
pub fn parse_authority(authority: &str) -> Result<(String, Option<u16>), HostError> {
    let a = authority.trim_matches([' ', '\t']);
    if a.contains('@') {
        return Err(HostError::UserInfo);
    }
    if a.contains(',') {
        return Err(HostError::Several);
    }
    if let Some(rest) = a.strip_prefix('[') {
        let (lit, after) = rest.split_once(']').ok_or(HostError::InvalidIpLiteral)?;
        let ip: Ipv6Addr = lit.parse().map_err(|_| HostError::InvalidIpLiteral)?;
        let port = match after {
            "" | ":" => None,
            p => Some(port(p.strip_prefix(':').ok_or(HostError::InvalidIpLiteral)?)?),
        };
        return Ok((format!("[{ip}]"), port));
    }
    let (host, port) = match a.split_once(':') {
        Some((_, p)) if p.contains(':') => return Err(HostError::InvalidIpLiteral),
        Some((h, "")) => (h, None),
        Some((h, p)) => (h, Some(port(p)?)),
        None => (a, None),
    };
    let valid = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
            )
    };
    if !host.bytes().all(valid) {
        return Err(HostError::InvalidCharacter);
    }
    Ok((host.trim_end_matches('.').to_ascii_lowercase(), port))
}

/// Digits only (no sign, no space), at most five (no `000080`), 1..=65535 (an empty port is
/// handled by the caller, and refused by `parse` here).
fn port(p: &str) -> Result<u16, HostError> {
    if p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HostError::InvalidPort);
    }
    match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(HostError::InvalidPort),
        Ok(n) => Ok(n),
    }
}

/// Splits an `:authority` into a lowercase host without trailing dots, and its port.
/// IPv6 literals keep their brackets (`[::1]:8080` → `[::1]`, 8080).
///
/// Never fails: an authority [`parse_authority`] refuses is returned trimmed, lowercased,
/// without trailing dots and without port, so that suffix and prefix rules still see it (the
/// filter refuses such requests before deciding; this form serves the CLI and tests).
pub fn normalize_host(authority: &str) -> (String, Option<u16>) {
    parse_authority(authority).unwrap_or_else(|_| {
        let a = authority.trim_matches([' ', '\t']);
        (a.trim_end_matches('.').to_ascii_lowercase(), None)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_host_many_spellings() {
        for a in [
            "secret.com",
            "Secret.COM",
            "secret.com:80",
            "secret.com.",
            "secret.com..",
            "SECRET.com.:443",
            "secret.com:",
            " secret.com ",
        ] {
            assert_eq!(normalize_host(a).0, "secret.com", "{a}");
            assert_eq!(parse_authority(a).map(|h| h.0), Ok("secret.com".into()), "{a}");
        }
        assert_eq!(normalize_host("secret.com:8080").1, Some(8080));
        assert_eq!(normalize_host("[::1]:8080"), ("[::1]".to_string(), Some(8080)));
        assert_eq!(normalize_host("[::1]"), ("[::1]".to_string(), None));
        assert_eq!(normalize_host("[0:0:0:0::0:1]"), ("[::1]".to_string(), None));
        assert_eq!(normalize_host("[FE80::A]:1"), ("[fe80::a]".to_string(), Some(1)));
        assert_eq!(normalize_host(""), (String::new(), None));
        assert_eq!(normalize_host("."), (String::new(), None));
        assert_eq!(normalize_host("10.0.0.1:80"), ("10.0.0.1".to_string(), Some(80)));
    }

    #[test]
    fn garbage_is_refused() {
        let cases: &[(&str, HostError)] = &[
            ("user@secret.com", HostError::UserInfo),
            ("secret.com@evil", HostError::UserInfo),
            ("secret.com:http", HostError::InvalidPort),
            ("secret.com:99999", HostError::InvalidPort),
            ("secret.com:0", HostError::InvalidPort),
            ("secret.com:+80", HostError::InvalidPort),
            ("secret.com:000080", HostError::InvalidPort),
            ("::1", HostError::InvalidIpLiteral),
            ("[::1", HostError::InvalidIpLiteral),
            ("[::1]x", HostError::InvalidIpLiteral),
            ("[::1]:x", HostError::InvalidPort),
            ("[fe80::1%25eth0]", HostError::InvalidIpLiteral),
            ("[secret.com]", HostError::InvalidIpLiteral),
            ("secret.com/x", HostError::InvalidCharacter),
            ("secret.com\\", HostError::InvalidCharacter),
            ("secret%2Ecom", HostError::InvalidCharacter),
            ("secret.com\0", HostError::InvalidCharacter),
            ("sécret.com", HostError::InvalidCharacter),
            ("a b", HostError::InvalidCharacter),
        ];
        for (a, want) in cases {
            assert_eq!(parse_authority(a).as_ref().map(|_| ()), Err(want), "{a:?}");
            // The fallback never panics and never yields a port.
            assert_eq!(normalize_host(a).1, None, "{a:?}");
        }
        assert_eq!(normalize_host("Secret.com:http").0, "secret.com:http");
    }
}

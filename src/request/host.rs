//! Host normalization: `Secret.COM`, `secret.com:80` and `secret.com.` are one host.

/// Splits an `:authority` into a lowercase host without trailing dot, and its port.
/// IPv6 literals keep their brackets (`[::1]:8080` → `[::1]`, 8080).
pub fn normalize_host(authority: &str) -> (String, Option<u16>) {
    let (host, port) = split_port(authority.trim());
    let host = host.strip_suffix('.').unwrap_or(host);
    (host.to_ascii_lowercase(), port)
}

fn split_port(a: &str) -> (&str, Option<u16>) {
    if a.starts_with('[') {
        // IPv6 literal: the port, if any, follows the closing bracket.
        if let Some(end) = a.find(']') {
            let (h, rest) = a.split_at(end + 1);
            return (h, rest.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
        return (a, None);
    }
    match a.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, p.parse().ok()),
        Some((h, "")) => (h, None),
        _ => (a, None),
    }
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
            "SECRET.com.:443",
            "secret.com:",
        ] {
            assert_eq!(normalize_host(a).0, "secret.com", "{a}");
        }
        assert_eq!(normalize_host("secret.com:8080").1, Some(8080));
        assert_eq!(normalize_host("[::1]:8080"), ("[::1]".to_string(), Some(8080)));
        assert_eq!(normalize_host("[::1]"), ("[::1]".to_string(), None));
    }
}

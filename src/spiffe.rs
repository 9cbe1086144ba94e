//! SPIFFE IDs, parsed once at the edge of the engine.
//!
//! A SPIFFE ID is `spiffe://<trust-domain>/<path>`. Kubernetes meshes put the workload's
//! namespace and service account in the path: Istio and Linkerd `/ns/<ns>/sa/<sa>`,
//! Dapr `/ns/<ns>/<app-id>`.

use std::fmt;

/// A syntactically valid SPIFFE ID (per the SPIFFE-ID spec: lowercase-insensitive scheme,
/// non-empty trust domain of `[a-z0-9.-_]`, a path of non-empty segments that are not `.`/`..`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SpiffeId {
    uri: Box<str>,
    /// Byte offset where the path starts (`/...`), or `uri.len()` when there is no path.
    path_at: usize,
}

/// The scheme prefix every SPIFFE ID starts with.
pub const SCHEME: &str = "spiffe://";

impl SpiffeId {
    /// Parses a URI SAN. Returns `None` for anything that is not a valid SPIFFE ID. Takes a
    /// `&str` or, without copying it, a `String` (the filter's per-request read).
    pub fn parse(uri: impl Into<String>) -> Option<SpiffeId> {
        let uri: String = uri.into();
        let path_at = SCHEME.len() + Self::trust_domain_len(&uri)?;
        Some(SpiffeId {
            uri: uri.into_boxed_str(),
            path_at,
        })
    }

    /// Checks `uri`; the length of its trust domain when it is a valid SPIFFE ID.
    fn trust_domain_len(uri: &str) -> Option<usize> {
        let rest = uri.strip_prefix(SCHEME)?;
        let td_len = rest.find('/').unwrap_or(rest.len());
        let td = &rest[..td_len];
        if td.is_empty()
            || !td
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_'))
        {
            return None;
        }
        let path = &rest[td_len..];
        if !path.is_empty() {
            for seg in path[1..].split('/') {
                if seg.is_empty() || seg == "." || seg == ".." {
                    return None;
                }
                if !seg.bytes().all(|b| b.is_ascii_alphanumeric() || is_path_punctuation(b)) {
                    return None;
                }
            }
        }
        Some(td_len)
    }

    /// The whole ID, `spiffe://td/path`.
    pub fn as_str(&self) -> &str {
        &self.uri
    }

    /// The trust domain, e.g. `cluster.local`.
    pub fn trust_domain(&self) -> &str {
        &self.uri[SCHEME.len()..self.path_at]
    }

    /// The path, e.g. `/ns/foo/sa/bar` (empty when the ID has none).
    pub fn path(&self) -> &str {
        &self.uri[self.path_at..]
    }

    /// The ID without the scheme: `cluster.local/ns/foo/sa/bar`, the form Istio principals use.
    pub fn without_scheme(&self) -> &str {
        &self.uri[SCHEME.len()..]
    }

    fn segments(&self) -> impl Iterator<Item = &str> {
        self.path().split('/').skip(1)
    }

    /// The namespace of a Kubernetes-style ID (`/ns/<ns>/...`).
    pub fn namespace(&self) -> Option<&str> {
        let mut s = self.segments();
        match (s.next(), s.next()) {
            (Some("ns"), Some(ns)) => Some(ns),
            _ => None,
        }
    }

    /// The service account of an ID shaped exactly `/ns/<ns>/sa/<sa>`.
    pub fn service_account(&self) -> Option<&str> {
        let mut s = self.segments();
        match (s.next(), s.next(), s.next(), s.next(), s.next()) {
            (Some("ns"), Some(_), Some("sa"), Some(sa), None) => Some(sa),
            _ => None,
        }
    }
}

impl fmt::Display for SpiffeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri)
    }
}

impl fmt::Debug for SpiffeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpiffeId({})", self.uri)
    }
}

/// The punctuation a SPIFFE ID path segment may hold (RFC 3986 `pchar` without `%`-escapes
/// decoded: unreserved, sub-delims, `:`, `@`, `%`).
fn is_path_punctuation(b: u8) -> bool {
    matches!(
        b,
        b'-' | b'.'
            | b'_'
            | b'~'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b':'
            | b'@'
            | b'%'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kubernetes_ids() {
        let id = SpiffeId::parse("spiffe://cluster.local/ns/foo/sa/bar").unwrap();
        assert_eq!(id.trust_domain(), "cluster.local");
        assert_eq!(id.path(), "/ns/foo/sa/bar");
        assert_eq!(id.namespace(), Some("foo"));
        assert_eq!(id.service_account(), Some("bar"));
        assert_eq!(id.without_scheme(), "cluster.local/ns/foo/sa/bar");
    }

    #[test]
    fn parses_dapr_ids() {
        // Dapr's app id is read by the Dapr dialect (dialect/dapr `caller`), from the path.
        let id = SpiffeId::parse("spiffe://public/ns/default/app1").unwrap();
        assert_eq!(id.path(), "/ns/default/app1");
        assert_eq!(id.namespace(), Some("default"));
        assert_eq!(id.service_account(), None);
    }

    #[test]
    fn rejects_malformed_ids() {
        for bad in [
            "",
            "spiffe://",
            "spiffe:///ns/a",
            "https://cluster.local/ns/a/sa/b",
            "spiffe://Cluster.Local/ns/a",
            "spiffe://td/ns//sa/b",
            "spiffe://td/ns/../sa/b",
            "spiffe://td/ns/a/",
            "spiffe://td/ns/a b",
        ] {
            assert!(SpiffeId::parse(bad).is_none(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn accepts_trust_domain_only() {
        let id = SpiffeId::parse("spiffe://example.org").unwrap();
        assert_eq!(id.path(), "");
        assert_eq!(id.namespace(), None);
    }
}

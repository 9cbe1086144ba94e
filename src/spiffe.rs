//! SPIFFE IDs, parsed once at the edge of the engine.
//!
//! A SPIFFE ID is `spiffe://<trust-domain>/<path>`. Kubernetes meshes put the workload's
//! namespace and service account in the path: Istio and Linkerd `/ns/<ns>/sa/<sa>`,
//! Dapr `/ns/<ns>/<app-id>`.

use std::fmt;

/// A valid SPIFFE ID, to the letter of the SPIFFE-ID spec (section 2): the scheme `spiffe://`
/// in lowercase; a trust domain of 1 to 255 characters of `[a-z0-9.-_]` (so no userinfo, port or
/// uppercase); a path of segments of `[a-zA-Z0-9.-_]`, none empty, `.` or `..` (so no
/// `%`-escape, `;`, `@`, `:` or other punctuation, no query, fragment or trailing slash); 2048
/// bytes at most.
///
/// Anything else is not an identity at all: a certificate from the trusted CA whose URI SAN
/// is `.../sa/fronten%64` or `.../sa/frontend;x=1` would otherwise read, to some component, as
/// `frontend`, to another as something else, and count as authenticated.
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
        if uri.len() > MAX_LENGTH {
            return None;
        }
        let rest = uri.strip_prefix(SCHEME)?;
        let td_len = rest.find('/').unwrap_or(rest.len());
        let td = &rest[..td_len];
        if td.is_empty() || td.len() > MAX_TRUST_DOMAIN_LENGTH || !td.bytes().all(is_trust_domain_byte) {
            return None;
        }
        // The path, in one pass over its bytes (once per request: the peer's ID is parsed for
        // each): every segment non-empty, not `.` or `..`, of path characters only.
        if let Some((_, segments)) = rest.as_bytes()[td_len..].split_first() {
            let (mut len, mut dots) = (0, 0);
            for &b in segments.iter().chain([b'/'].iter()) {
                if b == b'/' {
                    if len == 0 || (len == dots && dots <= 2) {
                        return None;
                    }
                    (len, dots) = (0, 0);
                } else if is_path_byte(b) {
                    len += 1;
                    dots += usize::from(b == b'.');
                } else {
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

/// The longest SPIFFE ID accepted, in bytes (spec 2.3: implementations must support 2048).
pub const MAX_LENGTH: usize = 2048;

/// The longest trust domain accepted (spec 2.1: at most 255 characters).
pub const MAX_TRUST_DOMAIN_LENGTH: usize = 255;

/// Spec 2.1: "Valid trust domain names consist only of lowercase letters, numbers, dots,
/// dashes, and underscores."
fn is_trust_domain_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
}

/// Spec 2.2: "Valid path segment characters are letters, numbers, dots, dashes, and
/// underscores."
fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')
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
            "SPIFFE://cluster.local/ns/a/sa/b",
            "spiffe://Cluster.Local/ns/a",
            "spiffe://td/ns//sa/b",
            "spiffe://td/ns/../sa/b",
            "spiffe://td/ns/./sa/b",
            "spiffe://td/ns/a/",
            "spiffe://td/ns/a b",
            "spiffe://td:443/ns/a/sa/b",
            "spiffe://user@td/ns/a/sa/b",
            "spiffe://td/ns/a/sa/b?x=1",
            "spiffe://td/ns/a/sa/b#f",
        ] {
            assert!(SpiffeId::parse(bad).is_none(), "{bad:?} should be rejected");
        }
    }

    /// Each byte a path segment may hold, and each it may not (the characters of RFC 3986's
    /// `pchar` that the SPIFFE spec leaves out: escapes and punctuation that components decode
    /// or split on differently).
    #[test]
    fn path_segments_hold_only_letters_digits_dot_dash_underscore() {
        for ok in [
            "frontend",
            "front-end",
            "front_end",
            "front.end",
            "FrontEnd9",
            "...",
            ".a",
            "a.",
        ] {
            let id = format!("spiffe://cluster.local/ns/app/sa/{ok}");
            assert!(SpiffeId::parse(id.as_str()).is_some(), "{id:?} should be accepted");
        }
        for bad in [
            "fronten%64",
            "frontend;x=1",
            "frontend@x",
            "front~end",
            "front:end",
            "front!end",
            "front$end",
            "front&end",
            "front'end",
            "front(end",
            "front*end",
            "front+end",
            "front,end",
            "front=end",
            "front%",
        ] {
            let id = format!("spiffe://cluster.local/ns/app/sa/{bad}");
            assert!(SpiffeId::parse(id.as_str()).is_none(), "{id:?} should be rejected");
        }
        assert!(SpiffeId::parse("spiffe://cluster.local/ns/my%61pp/sa/web").is_none());
    }

    #[test]
    fn lengths_are_bounded_as_the_spec_says() {
        let td = "a".repeat(MAX_TRUST_DOMAIN_LENGTH);
        assert!(SpiffeId::parse(format!("spiffe://{td}/x")).is_some());
        assert!(SpiffeId::parse(format!("spiffe://{td}a/x")).is_none());
        let longest = format!("spiffe://td/{}", "a".repeat(MAX_LENGTH - "spiffe://td/".len()));
        assert!(SpiffeId::parse(longest.as_str()).is_some());
        assert!(SpiffeId::parse(format!("{longest}a")).is_none());
    }

    #[test]
    fn accepts_trust_domain_only() {
        let id = SpiffeId::parse("spiffe://example.org").unwrap();
        assert_eq!(id.path(), "");
        assert_eq!(id.namespace(), None);
    }
}

//! The method Dapr matches against the operations: the request path, normalized as Dapr
//! normalizes a service-invocation method since its fix for path-traversal ACL bypass
//! (dapr/dapr #9805, GHSA-85gx-3qv6-4463, `pkg/messaging/method.NormalizeMethod`):
//!
//! > For HTTP, Go's net/http server decodes percent-encoding in r.URL.Path before the method
//! > is extracted. For gRPC, method strings are raw — no percent-decoding is applied.
//! > Normalization rejects methods containing #, ?, null bytes, or control characters, then
//! > resolves path traversal via path.Clean.
//!
//! Dapr then uses the normalized method both for the ACL and for the call to the application.
//! Here the application receives the request path the engine decided on (already canonical:
//! see [`crate::request::path`]), so one difference is refused instead of resolved: a
//! percent-encoded `/` (or an encoded `.`/`..` segment) which Dapr would decode into a
//! separator while the application receives it encoded. Deciding on one reading while the
//! application serves the other is exactly the bypass #9805 closed.

use crate::request::path::hex;
use std::borrow::Cow;
use std::fmt;

/// Why Dapr (or this filter, for the encoded separator) refuses a method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum MethodError {
    /// `#`, `?`, NUL or a control character (after percent-decoding, for HTTP).
    Forbidden(u8),
    /// `%` not followed by two hex digits (Go's net/http answers 400).
    BadEscape,
    /// An encoded `/` or dot segment: Dapr and the application would see different paths.
    EncodedSeparator,
}

impl fmt::Display for MethodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MethodError::Forbidden(b) => write!(
                f,
                "the method contains {}, which Dapr refuses (NormalizeMethod)",
                match b {
                    b'#' => "'#'".to_string(),
                    b'?' => "'?'".to_string(),
                    _ => format!("control character 0x{b:02X}"),
                }
            ),
            MethodError::BadEscape => f.write_str("the method contains '%' not followed by two hex digits"),
            MethodError::EncodedSeparator => f.write_str(
                "the method contains a percent-encoded '/' or dot segment: Dapr would decode it into \
                 a separator, the application receives it encoded, so the call is refused",
            ),
        }
    }
}

/// Percent-decodes one segment (Go's `url.PathUnescape`).
fn unescape(seg: &str) -> Result<Vec<u8>, MethodError> {
    let b = seg.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hi = b.get(i + 1).copied().and_then(hex);
            let lo = b.get(i + 2).copied().and_then(hex);
            match (hi, lo) {
                (Some(h), Some(l)) => out.push(h << 4 | l),
                _ => return Err(MethodError::BadEscape),
            }
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Go's `path.Clean` for a rooted path: `//` merged, `.` dropped, `..` resolved (never above
/// the root), no trailing slash except for `/` itself.
pub(super) fn clean(path: &str) -> String {
    let mut stack: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                stack.pop();
            }
            s => stack.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    for s in &stack {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The method Dapr would match for a request path (which starts with `/`). Borrowed when
/// normalizing changes nothing (the common case: no escape, no dot segment, no empty segment).
pub(super) fn normalize(path: &str, grpc: bool) -> Result<Cow<'_, str>, MethodError> {
    if is_normal(path, grpc) {
        return Ok(Cow::Borrowed(path));
    }
    let decoded = if grpc {
        path.to_string()
    } else {
        let mut bytes = Vec::with_capacity(path.len());
        for (i, seg) in path.split('/').enumerate() {
            let d = unescape(seg)?;
            let encoded = d.as_slice() != seg.as_bytes();
            if encoded && (d.contains(&b'/') || d == b"." || d == b"..") {
                return Err(MethodError::EncodedSeparator);
            }
            if i > 0 {
                bytes.push(b'/');
            }
            bytes.extend_from_slice(&d);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    };
    if let Some(&b) = decoded.as_bytes().iter().find(|&&b| forbidden(b)) {
        return Err(MethodError::Forbidden(b));
    }
    Ok(Cow::Owned(clean(&decoded)))
}

/// `#`, `?`, NUL and control characters: refused by NormalizeMethod.
fn forbidden(b: u8) -> bool {
    b == b'#' || b == b'?' || b < 0x20 || b == 0x7f
}

/// Is `path` its own normalized method? Rooted, no byte to refuse, nothing to decode (HTTP),
/// and nothing `path.Clean` would change (no empty, `.` or `..` segment, no trailing slash).
fn is_normal(path: &str, grpc: bool) -> bool {
    let b = path.as_bytes();
    if b.first() != Some(&b'/') {
        return false;
    }
    if b.len() == 1 {
        return true;
    }
    // One pass; `seg` is the length of the current segment so far, `dots` its count of dots
    // while it holds nothing else.
    let (mut seg, mut dots) = (0usize, 0usize);
    for &c in b.get(1..).unwrap_or_default() {
        if forbidden(c) || (c == b'%' && !grpc) {
            return false;
        }
        if c == b'/' {
            if seg == 0 || seg == dots && dots <= 2 {
                return false;
            }
            (seg, dots) = (0, 0);
        } else {
            seg += 1;
            if c == b'.' && dots + 1 == seg {
                dots += 1;
            }
        }
    }
    !(seg == 0 || seg == dots && dots <= 2)
}

/// [`go_lower`], borrowed when nothing changes (ASCII without capitals).
pub(super) fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(go_lower(s))
    }
}

/// Go's `strings.ToLower`, rune by rune (Rust's `str::to_lowercase` differs on a final `Σ`
/// and on `İ`, which Go maps to a plain `i`).
pub(super) fn go_lower(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\u{130}' {
            out.push('i');
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_as_go_path_clean() {
        for (raw, want) in [
            ("/op1", "/op1"),
            ("/op1/", "/op1"),
            ("//op1//a", "/op1/a"),
            ("/admin/../public", "/public"),
            ("/../../etc/passwd", "/etc/passwd"),
            ("/./a/.", "/a"),
            ("/", "/"),
            ("/..", "/"),
        ] {
            assert_eq!(clean(raw), want, "{raw}");
        }
    }

    #[test]
    fn http_methods_are_decoded_then_checked() {
        assert_eq!(normalize("/a%20b", false).as_deref(), Ok("/a b"));
        assert_eq!(normalize("/a%25b", false).as_deref(), Ok("/a%b"));
        assert_eq!(normalize("/Op1/", false).as_deref(), Ok("/Op1"));
        assert_eq!(normalize("/test%23stream", false), Err(MethodError::Forbidden(b'#')));
        assert_eq!(normalize("/test%3Fstream", false), Err(MethodError::Forbidden(b'?')));
        assert_eq!(normalize("/test%00stream", false), Err(MethodError::Forbidden(0)));
        assert_eq!(normalize("/test%0Astream", false), Err(MethodError::Forbidden(b'\n')));
        assert_eq!(normalize("/test%7Fstream", false), Err(MethodError::Forbidden(0x7f)));
        assert_eq!(normalize("/test%zz", false), Err(MethodError::BadEscape));
        assert_eq!(normalize("/test%2", false), Err(MethodError::BadEscape));
    }

    #[test]
    fn encoded_traversal_cannot_reach_another_operation() {
        // GHSA-85gx-3qv6-4463: `admin%2F..%2Fpublic` was "public" to the ACL.
        for raw in ["/admin%2F..%2Fpublic", "/admin%2f..", "/a/%2E%2E/b", "/a/%2e/b"] {
            assert_eq!(normalize(raw, false), Err(MethodError::EncodedSeparator), "{raw}");
        }
        // Raw dot segments are resolved, as Dapr resolves them.
        assert_eq!(normalize("/admin/../public", false).as_deref(), Ok("/public"));
    }

    #[test]
    fn grpc_methods_are_raw() {
        assert_eq!(
            normalize("/helloworld.Greeter/SayHello", true).as_deref(),
            Ok("/helloworld.Greeter/SayHello")
        );
        // Percent sequences are literal characters in a gRPC method name.
        assert_eq!(normalize("/a%2Fb", true).as_deref(), Ok("/a%2Fb"));
        assert_eq!(normalize("/a\u{1}b", true), Err(MethodError::Forbidden(1)));
    }

    #[test]
    fn a_normal_path_is_borrowed_and_equals_the_slow_path() {
        for (raw, grpc) in [
            ("/op1", false),
            ("/api/v1/r9/item", false),
            ("/", false),
            ("/helloworld.Greeter/SayHello", true),
            ("/a%2Fb", true),
        ] {
            assert!(matches!(normalize(raw, grpc), Ok(Cow::Borrowed(_))), "{raw}");
            assert_eq!(clean(raw), raw, "{raw}");
        }
        for (raw, grpc) in [
            ("", false),
            ("/a/", false),
            ("/a//b", true),
            ("/./a", false),
            ("/a/..", true),
            ("/a%20", false),
        ] {
            assert!(!is_normal(raw, grpc), "{raw}");
        }
        // The one-pass test agrees with its definition on every short path over these bytes.
        let by_definition = |p: &str, grpc: bool| {
            let clean_segments = match p.strip_prefix('/') {
                Some("") => true,
                Some(rest) => rest.split('/').all(|s| !s.is_empty() && s != "." && s != ".."),
                None => false,
            };
            clean_segments && p.bytes().all(|b| !forbidden(b) && (grpc || b != b'%'))
        };
        let alphabet = ["/", ".", "a", "%", "#"];
        let mut paths = vec![String::new()];
        for _ in 0..6 {
            paths = paths
                .iter()
                .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
                .collect();
            for p in &paths {
                for grpc in [false, true] {
                    assert_eq!(is_normal(p, grpc), by_definition(p, grpc), "{p:?}");
                }
            }
        }
        assert!(matches!(lower("/abc/x.y"), Cow::Borrowed(_)));
        assert_eq!(lower("/AbC"), "/abc");
        assert_eq!(lower("/İ"), "/i");
    }

    #[test]
    fn lowercases_as_go() {
        assert_eq!(go_lower("/NewOrder"), "/neworder");
        assert_eq!(go_lower("/İ"), "/i");
        assert_eq!(go_lower("/ΟΔΟΣ"), "/οδοσ");
    }
}

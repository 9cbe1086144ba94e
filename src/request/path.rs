//! Path canonicalization: the one path the engine decides on, and the one the application gets.
//!
//! Authorization filters are bypassed through the gap between the path they matched and the
//! path the application serves (CVE-2019-9901 `..`, CVE-2021-31920 `//` and `%2F`,
//! CVE-2021-39156 `#`, Dapr GHSA-85gx-3qv6-4463 encoded traversal). This module closes the gap
//! whatever Envoy's own normalization settings are:
//!
//! 1. The raw `:path` is read up to `?` (the query is not part of the decision, it is forwarded
//!    untouched) or `#` (a fragment has no place in a request target: it is dropped).
//! 2. Ambiguous bytes are refused ([`PathError`]): control characters (NUL included, raw or as
//!    `%00`–`%1F`, `%7F`), space, non-ASCII, an invalid `%` escape, a path longer than
//!    `maxLength`, a `..;x`/`.;x` segment (Tomcat and Jetty strip `;params` and then treat it
//!    as a dot segment), and an encoded delimiter `%3F`, `%23` or `%3B` (an application that
//!    decodes the path and parses it again cuts it there, GHSA-85gx-3qv6-4463; servlet
//!    containers read a raw `;` as a parameter but `%3B` as a character). By default also
//!    encoded slashes `%2F`/`%5C` and raw backslashes, whose meaning depends on the application
//!    (see [`EscapedSlashes`], [`Backslash`]).
//! 3. Every spelling of one meaning becomes one spelling. Percent-escapes of unreserved
//!    characters (`A-Z a-z 0-9 - . _ ~`, RFC 3986 6.2.2.2) *and* of the sub-delimiters and `:`
//!    `@` (`! $ & ' ( ) * + , = : @`, which delimit nothing in a path, and which nearly every
//!    server decodes: `/v1/items:delete` and `/v1/items%3Adelete` are one endpoint) are decoded;
//!    the characters RFC 3986 does not allow raw in a path (`" < > [ ] ^ ` { | }`) are
//!    percent-encoded; every remaining escape (`%25`, `%20`, UTF-8 bytes, ...) is written with
//!    uppercase hex (6.2.2.1). So a DENY on `/a:b` cannot be dodged with `/a%3Ab`.
//! 4. Empty segments are merged (`//` → `/`), then dot segments removed (RFC 3986 5.2.4):
//!    `/a/./b/../c` → `/a/c`, never above the root.
//!
//! The filter then either forwards the canonical path it authorized (rewriting `:path` when it
//! [changed](Canonical::changed), query kept) or, with `forward: reject-if-changed`, answers 400
//! to any request whose path was not already canonical. Either way the application never
//! receives a path other than the one the policy was evaluated on.

use serde::Deserialize;

/// What to do with `%2F` and `%5C` (an encoded `/` or `\`).
///
/// Applications disagree: some decode `%2F` to a separator after routing, some never do, so
/// `/public%2F..%2Fadmin` is one segment to the filter and three to some servers.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum EscapedSlashes {
    /// Refuse the request (400). The default: no meaning to guess.
    #[default]
    Reject,
    /// Keep them encoded (uppercase hex), as part of a segment. Safe only if the application
    /// never decodes `%2F`/`%5C` into separators (Envoy's `KEEP_UNCHANGED`).
    Keep,
    /// Decode them (`%2F` → `/`, `%5C` → `\`, which the [`Backslash`] setting then handles)
    /// before segments are split, so they act as separators; the canonical path forwarded has
    /// real slashes (Envoy's `UNESCAPE_AND_FORWARD`).
    Unescape,
}

/// What to do with a raw `\` in the path.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Backslash {
    /// Refuse the request (400). The default: Windows servers and browsers treat `\` as `/`,
    /// most others as a literal character.
    #[default]
    Reject,
    /// Treat it as `/` (what browsers and Envoy's `normalize_path` do); the canonical path
    /// forwarded has `/`.
    Slash,
}

/// What the filter forwards.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Forward {
    /// Forward the canonical path the decision was made on (the filter rewrites `:path` when
    /// it differs from the request's; the query is kept). The default.
    #[default]
    Canonical,
    /// Refuse (400) any path that is not already canonical; forward the others untouched. For
    /// applications that need the exact bytes sent (signed URLs), at the price of refusing
    /// clients that send `//` or lowercase escapes.
    RejectIfChanged,
}

/// How to canonicalize: bundle `settings.path`. Every default is the safe choice.
///
/// ```json
/// {"settings": {"path": {"escapedSlashes": "reject", "backslash": "reject",
///                        "forward": "canonical", "maxLength": 8192}}}
/// ```
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Options {
    /// `%2F` and `%5C`: `reject` (default), `keep` or `unescape`.
    pub escaped_slashes: EscapedSlashes,
    /// A raw `\`: `reject` (default) or `slash`.
    pub backslash: Backslash,
    /// `canonical` (default) or `reject-if-changed`.
    pub forward: Forward,
    /// The longest `:path` accepted, in bytes, query included, as sent and as forwarded
    /// (default 8192).
    pub max_length: usize,
}

/// The default `maxLength`.
pub const DEFAULT_MAX_LENGTH: usize = 8192;

impl Default for Options {
    fn default() -> Self {
        Options {
            escaped_slashes: EscapedSlashes::Reject,
            backslash: Backslash::Reject,
            forward: Forward::Canonical,
            max_length: DEFAULT_MAX_LENGTH,
        }
    }
}

/// Why a path was refused. The filter answers 400 to every one of these.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathError {
    /// The path does not start with `/` (`*`, absolute-form, empty).
    NotAbsolute,
    /// Longer than `maxLength`.
    TooLong {
        /// The limit.
        max: usize,
    },
    /// A control character, space or NUL, raw or percent-encoded.
    ControlCharacter {
        /// The byte.
        byte: u8,
    },
    /// A byte outside ASCII (a valid request target is ASCII; UTF-8 must be percent-encoded).
    NonAscii,
    /// `%` not followed by two hex digits.
    InvalidEscape,
    /// `%2F` or `%5C`, refused by `escapedSlashes: reject`.
    EscapedSlash,
    /// A raw `\`, refused by `backslash: reject`.
    Backslash,
    /// A `.;x` or `..;x` segment, which servlet containers treat as a dot segment.
    DotSegmentWithParameters,
    /// `%3F`, `%23` or `%3B`: an encoded `?`, `#` or `;`.
    EscapedDelimiter,
    /// The path was not canonical and `forward: reject-if-changed` is set.
    NotCanonical,
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathError::NotAbsolute => f.write_str("path does not start with '/'"),
            PathError::TooLong { max } => write!(f, "path is longer than {max} bytes"),
            PathError::ControlCharacter { byte } => write!(f, "path contains control character 0x{byte:02X}"),
            PathError::NonAscii => f.write_str("path contains a non-ASCII byte"),
            PathError::InvalidEscape => f.write_str("path contains '%' not followed by two hex digits"),
            PathError::EscapedSlash => f.write_str("path contains an encoded slash (%2F or %5C)"),
            PathError::Backslash => f.write_str("path contains a backslash"),
            PathError::DotSegmentWithParameters => f.write_str("path contains a '.;' or '..;' segment"),
            PathError::EscapedDelimiter => f.write_str("path contains an encoded '?', '#' or ';' (%3F, %23, %3B)"),
            PathError::NotCanonical => f.write_str("path is not canonical (settings.path.forward: reject-if-changed)"),
        }
    }
}

impl std::error::Error for PathError {}

/// A canonicalized `:path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canonical {
    /// The canonical path, without query or fragment: what the engine decides on.
    pub path: String,
    /// The query (without `?`), unchanged, if the request had one.
    pub query: Option<String>,
    /// True when the path part differs from the request's (a fragment dropped counts): the
    /// filter must then replace `:path` with [`Canonical::forward`].
    pub changed: bool,
}

impl Canonical {
    /// The `:path` to forward: the canonical path, then `?query` if there was one.
    pub fn forward(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }
}

/// The canonical form of a request path (`:path`), without query or fragment.
///
/// Kept for existing callers; equivalent to `canonical(raw, opts).map(|c| c.path)`.
pub fn canonicalize(raw: &str, opts: &Options) -> Result<String, PathError> {
    canonical(raw, opts).map(|c| c.path)
}

/// Canonicalizes a raw `:path` (see the module docs), or says why it must be refused.
pub fn canonical(raw: &str, opts: &Options) -> Result<Canonical, PathError> {
    if raw.len() > opts.max_length {
        return Err(PathError::TooLong { max: opts.max_length });
    }
    let (path_part, query, fragment) = split_target(raw);
    if !path_part.starts_with('/') {
        return Err(PathError::NotAbsolute);
    }
    // Most paths are canonical already: one copy, and no decoding or dot removal to do.
    let path = if already_canonical(path_part) {
        path_part.to_string()
    } else {
        remove_dots(&decode(path_part, opts)?)?
    };
    // Encoding may lengthen the path (`|` → `%7C`): the limit holds for what is forwarded too,
    // so a canonical path is always accepted again as it is.
    if path.len() + query.map_or(0, |q| q.len() + 1) > opts.max_length {
        return Err(PathError::TooLong { max: opts.max_length });
    }
    let changed = fragment || path != path_part;
    if changed && opts.forward == Forward::RejectIfChanged {
        return Err(PathError::NotCanonical);
    }
    Ok(Canonical {
        path,
        query: query.map(str::to_string),
        changed,
    })
}

/// Is `p` already canonical with these options (a path a policy can match)? Dialects may use
/// this to warn about policy paths that can never match a request.
pub fn is_canonical(p: &str, opts: &Options) -> bool {
    !p.contains(['?', '#']) && canonicalize(p, opts).is_ok_and(|c| c == p)
}

/// Splits `path?query#fragment`; returns the path, the query and whether a fragment was there.
/// True when [`decode`] and [`remove_dots`] would return `p` unchanged (and refuse nothing):
/// only bytes that stand for themselves, no empty segment but a trailing one, no dot segment
/// (`.`/`..`, also before a `;` parameter). One pass over the bytes: the common case.
fn already_canonical(p: &str) -> bool {
    let plain = |b: u8| (0x21..0x7F).contains(&b) && b != b'%' && b != b'\\' && !must_encode(b);
    // Per segment: its length, and the dots it holds before any `;` (with `dots_only`).
    let (mut len, mut dots, mut dots_only, mut in_params) = (0usize, 0usize, true, false);
    let mut bytes = p.bytes();
    if bytes.next() != Some(b'/') {
        return false;
    }
    loop {
        let b = bytes.next();
        match b {
            Some(b'/') | None => {
                let dot_segment = dots_only && (dots == 1 || dots == 2);
                if (len == 0 && b.is_some()) || dot_segment {
                    return false;
                }
                if b.is_none() {
                    return true;
                }
                (len, dots, dots_only, in_params) = (0, 0, true, false);
            }
            Some(c) if !plain(c) => return false,
            Some(c) => {
                len += 1;
                if c == b';' {
                    in_params = true;
                } else if !in_params {
                    if c == b'.' {
                        dots += 1;
                    } else {
                        dots_only = false;
                    }
                }
            }
        }
    }
}

fn split_target(raw: &str) -> (&str, Option<&str>, bool) {
    let (before_frag, fragment) = match raw.split_once('#') {
        Some((b, _)) => (b, true),
        None => (raw, false),
    };
    match before_frag.split_once('?') {
        Some((p, q)) => (p, Some(q), fragment),
        None => (before_frag, None, fragment),
    }
}

/// The value of one hex digit.
pub(crate) fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Sub-delimiters (but `;`) and `:` `@`: allowed raw in a segment, delimiting nothing there.
fn is_decoded_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b'=' | b':' | b'@'
    )
}

/// Characters RFC 3986 does not allow raw in a path; written percent-encoded.
fn must_encode(b: u8) -> bool {
    matches!(b, b'"' | b'<' | b'>' | b'[' | b']' | b'^' | b'`' | b'{' | b'|' | b'}')
}

fn push_escape(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 15)]));
}

/// Step 2 and 3: validates bytes, normalizes escapes, handles slashes and backslashes. The
/// result is ASCII, its only separators are `/`, and every `%` starts an uppercase escape.
fn decode(p: &str, opts: &Options) -> Result<String, PathError> {
    let bytes = p.as_bytes();
    let mut out = String::with_capacity(p.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            0..=0x20 | 0x7F => return Err(PathError::ControlCharacter { byte: b }),
            0x80..=0xFF => return Err(PathError::NonAscii),
            b'\\' => out.push(backslash(opts)?),
            b'%' => {
                let (Some(h), Some(l)) = (
                    bytes.get(i).copied().and_then(hex),
                    bytes.get(i + 1).copied().and_then(hex),
                ) else {
                    return Err(PathError::InvalidEscape);
                };
                i += 2;
                let c = (h << 4) | l;
                match c {
                    0..=0x1F | 0x7F => return Err(PathError::ControlCharacter { byte: c }),
                    b'/' | b'\\' => match opts.escaped_slashes {
                        EscapedSlashes::Reject => return Err(PathError::EscapedSlash),
                        EscapedSlashes::Keep => push_escape(&mut out, c),
                        EscapedSlashes::Unescape if c == b'/' => out.push('/'),
                        EscapedSlashes::Unescape => out.push(backslash(opts)?),
                    },
                    b'?' | b'#' | b';' => return Err(PathError::EscapedDelimiter),
                    c if is_unreserved(c) || is_decoded_delimiter(c) => out.push(char::from(c)),
                    c => push_escape(&mut out, c),
                }
            }
            b if must_encode(b) => push_escape(&mut out, b),
            b => out.push(char::from(b)),
        }
    }
    Ok(out)
}

fn backslash(opts: &Options) -> Result<char, PathError> {
    match opts.backslash {
        Backslash::Reject => Err(PathError::Backslash),
        Backslash::Slash => Ok('/'),
    }
}

/// Step 4: merges empty segments and removes dot segments (RFC 3986 5.2.4). A path whose last
/// segment is empty, `.` or `..` keeps a trailing slash, as the RFC's algorithm does.
fn remove_dots(p: &str) -> Result<String, PathError> {
    let mut segs: Vec<&str> = Vec::new();
    let mut trailing = false;
    for seg in p.split('/').skip(1) {
        trailing = matches!(seg, "" | "." | "..");
        match seg {
            "" | "." => {}
            ".." => {
                segs.pop();
            }
            s => {
                let before_params = s.split(';').next().unwrap_or(s);
                if matches!(before_params, "." | "..") {
                    return Err(PathError::DotSegmentWithParameters);
                }
                segs.push(s);
            }
        }
    }
    let mut out = String::with_capacity(p.len());
    for s in &segs {
        out.push('/');
        out.push_str(s);
    }
    if trailing || segs.is_empty() {
        out.push('/');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(p: &str) -> Result<String, PathError> {
        canonicalize(p, &Options::default())
    }

    /// The fast path (a path already canonical is copied as is) agrees with decoding and dot
    /// removal on every path of up to 6 characters over an alphabet of the tricky ones.
    #[test]
    fn already_canonical_agrees_with_the_full_canonicalization() {
        let alphabet = ['/', '.', 'a', ';', '%', '2', 'f', '\\', '|'];
        let mut paths = vec![String::from("/")];
        let mut frontier = paths.clone();
        for _ in 0..5 {
            frontier = frontier
                .iter()
                .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
                .collect();
            paths.extend(frontier.iter().cloned());
        }
        let opts = Options::default();
        for p in &paths {
            let full = decode(p, &opts).and_then(|d| remove_dots(&d));
            if already_canonical(p) {
                assert_eq!(full.as_deref(), Ok(p.as_str()), "{p:?}");
            }
            assert_eq!(canonicalize(p, &opts), full, "{p:?}");
        }
    }

    #[test]
    fn canonical_forms() {
        let cases: &[(&str, &str)] = &[
            ("/", "/"),
            ("/a/b", "/a/b"),
            ("/a/b/", "/a/b/"),
            ("/a?x=1", "/a"),
            ("/a#frag", "/a"),
            ("/a?x#f", "/a"),
            ("//a///b//", "/a/b/"),
            ("/a/./b", "/a/b"),
            ("/a/../b", "/b"),
            ("/../../a", "/a"),
            ("/a/..", "/"),
            ("/a/b/..", "/a/"),
            ("/a/.", "/a/"),
            ("/..", "/"),
            ("/.", "/"),
            ("//..//a", "/a"),
            ("/%2e%2e/admin", "/admin"),
            ("/public/%2E%2e/admin", "/admin"),
            ("/public/.%2e/admin", "/admin"),
            ("/%61dmin", "/admin"),
            ("/%7Euser", "/~user"),
            ("/a%3ab%40c%2b%2C%3d", "/a:b@c+,="),
            ("/a%25%20%7c%5b", "/a%25%20%7C%5B"),
            ("/a[b]", "/a%5Bb%5D"),
            ("/a%c3%a9", "/a%C3%A9"),
            ("/a|b{c}", "/a%7Cb%7Bc%7D"),
            ("/a;b=c/d", "/a;b=c/d"),
            ("/a/...", "/a/..."),
            ("/a/.../b", "/a/.../b"),
            ("/%252e%252e/x", "/%252e%252e/x"),
            ("/%41%2e/%2D", "/A./-"),
        ];
        for (raw, want) in cases {
            assert_eq!(canon(raw).as_deref(), Ok(*want), "{raw}");
        }
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        let cases: &[(&str, PathError)] = &[
            ("", PathError::NotAbsolute),
            ("*", PathError::NotAbsolute),
            ("http://a/b", PathError::NotAbsolute),
            ("?x", PathError::NotAbsolute),
            ("/a%2Fb", PathError::EscapedSlash),
            ("/a%2fb", PathError::EscapedSlash),
            ("/a%5Cb", PathError::EscapedSlash),
            ("/a\\b", PathError::Backslash),
            ("/a\0b", PathError::ControlCharacter { byte: 0 }),
            ("/a%00b", PathError::ControlCharacter { byte: 0 }),
            ("/a\nb", PathError::ControlCharacter { byte: b'\n' }),
            ("/a%0d%0ab", PathError::ControlCharacter { byte: b'\r' }),
            ("/a b", PathError::ControlCharacter { byte: b' ' }),
            ("/a\x7f", PathError::ControlCharacter { byte: 0x7F }),
            ("/é", PathError::NonAscii),
            ("/a%", PathError::InvalidEscape),
            ("/a%4", PathError::InvalidEscape),
            ("/a%G0", PathError::InvalidEscape),
            ("/a%%41", PathError::InvalidEscape),
            ("/public/..;/admin", PathError::DotSegmentWithParameters),
            ("/public/.;x/admin", PathError::DotSegmentWithParameters),
            ("/public/%2e%2e;/admin", PathError::DotSegmentWithParameters),
            ("/admin%3F/x", PathError::EscapedDelimiter),
            ("/admin%23x", PathError::EscapedDelimiter),
            ("/admin%3f", PathError::EscapedDelimiter),
            ("/admin%3Bx", PathError::EscapedDelimiter),
        ];
        for (raw, want) in cases {
            assert_eq!(canon(raw).as_ref(), Err(want), "{raw:?}");
        }
        // Found by the fuzzer: within the limit as sent, beyond it once encoded.
        let grows = format!("/{}", "|".repeat(DEFAULT_MAX_LENGTH / 2));
        assert_eq!(
            canon(&grows),
            Err(PathError::TooLong {
                max: DEFAULT_MAX_LENGTH
            })
        );
        let long = format!("/{}", "a".repeat(DEFAULT_MAX_LENGTH));
        assert_eq!(
            canon(&long),
            Err(PathError::TooLong {
                max: DEFAULT_MAX_LENGTH
            })
        );
    }

    #[test]
    fn a_dot_segment_ending_the_query_does_not_count() {
        // Only the path part is checked: bytes after '?' or '#' belong to the query/fragment.
        assert_eq!(canon("/a?b=..;/x"), Ok("/a".into()));
        assert_eq!(canon("/a#%zz"), Ok("/a".into()));
    }

    #[test]
    fn escaped_slash_options() {
        let mut o = Options {
            escaped_slashes: EscapedSlashes::Keep,
            ..Options::default()
        };
        assert_eq!(canonicalize("/a%2fb/%5c", &o), Ok("/a%2Fb/%5C".into()));
        assert_eq!(canonicalize("/a/..%2F..%2Fb", &o), Ok("/a/..%2F..%2Fb".into()));
        o.escaped_slashes = EscapedSlashes::Unescape;
        assert_eq!(canonicalize("/public%2F..%2Fadmin", &o), Ok("/admin".into()));
        assert_eq!(canonicalize("/a%5Cb", &o), Err(PathError::Backslash));
        o.backslash = Backslash::Slash;
        assert_eq!(canonicalize("/public%5C..%5Cadmin", &o), Ok("/admin".into()));
        assert_eq!(canonicalize("/public\\..\\admin", &o), Ok("/admin".into()));
    }

    #[test]
    fn forward_reports_changes_and_keeps_the_query() {
        let o = Options::default();
        let c = canonical("/a//b/../c?x=%2F&y=..#f", &o).unwrap();
        assert_eq!(c.path, "/a/c");
        assert_eq!(c.query.as_deref(), Some("x=%2F&y=.."));
        assert!(c.changed);
        assert_eq!(c.forward(), "/a/c?x=%2F&y=..");
        let c = canonical("/a/c?x", &o).unwrap();
        assert!(!c.changed);
        assert_eq!(c.forward(), "/a/c?x");
        assert!(canonical("/a#", &o).unwrap().changed);
        assert!(canonical("/%41", &o).unwrap().changed);
    }

    #[test]
    fn reject_if_changed() {
        let o = Options {
            forward: Forward::RejectIfChanged,
            ..Options::default()
        };
        assert_eq!(canonicalize("/a/b?q", &o), Ok("/a/b".into()));
        for raw in ["/a//b", "/a/./b", "/%61", "/a%3a", "/a%7c", "/a#f", "/a|b"] {
            assert_eq!(canonicalize(raw, &o), Err(PathError::NotCanonical), "{raw}");
        }
    }

    #[test]
    fn is_canonical_matches_canonicalize() {
        let o = Options::default();
        assert!(is_canonical("/api/v1/", &o));
        assert!(!is_canonical("/api//v1", &o));
        assert!(!is_canonical("/api?x", &o));
        assert!(!is_canonical("api", &o));
    }
}

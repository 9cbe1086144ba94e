//! Canonicalization itself (see the module docs of [`super`]).

use super::settings::{Backslash, EscapedSlashes, Forward, Options, PathParameters};

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
    /// A `;` path parameter, refused by `pathParameters: reject`.
    PathParameters,
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
            PathError::PathParameters => {
                f.write_str("path contains a ';' parameter (settings.path.pathParameters: reject)")
            }
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
    let path = if already_canonical(path_part, opts.path_parameters) {
        path_part.to_string()
    } else {
        remove_dots(&decode(path_part, opts)?, opts.path_parameters)?
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
/// (`.`/`..`, also before a `;` parameter), and `;` only where `params` keeps it. One pass over
/// the bytes: the common case.
pub(super) fn already_canonical(p: &str, params: PathParameters) -> bool {
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
                    if params != PathParameters::Keep {
                        return false;
                    }
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
pub(super) fn decode(p: &str, opts: &Options) -> Result<String, PathError> {
    let mut out = String::with_capacity(p.len());
    // Each step takes its bytes off the front of `rest`: no index to get wrong.
    let mut rest = p.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match b {
            0..=0x20 | 0x7F => return Err(PathError::ControlCharacter { byte: b }),
            0x80..=0xFF => return Err(PathError::NonAscii),
            b'\\' => out.push(backslash(opts)?),
            b'%' => {
                let [h, l, tail @ ..] = rest else {
                    return Err(PathError::InvalidEscape);
                };
                let (Some(h), Some(l)) = (hex(*h), hex(*l)) else {
                    return Err(PathError::InvalidEscape);
                };
                rest = tail;
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

/// Step 4: refuses or strips `;` parameters (`params`), merges empty segments and removes dot
/// segments (RFC 3986 5.2.4). A path whose last segment is empty, `.` or `..` keeps a trailing
/// slash, as the RFC's algorithm does. A `.;x`/`..;x` segment is refused whatever `params` says.
pub(super) fn remove_dots(p: &str, params: PathParameters) -> Result<String, PathError> {
    let mut segs: Vec<&str> = Vec::new();
    let mut trailing = false;
    for seg in p.split('/').skip(1) {
        let seg = match seg.split_once(';') {
            None => seg,
            Some(("." | "..", _)) => return Err(PathError::DotSegmentWithParameters),
            Some(_) if params == PathParameters::Reject => return Err(PathError::PathParameters),
            // As a servlet container reads it: `/;x/admin` is `//admin`, so `/admin`.
            Some((before, _)) if params == PathParameters::Strip => before,
            Some(_) => seg,
        };
        trailing = matches!(seg, "" | "." | "..");
        match seg {
            "" | "." => {}
            ".." => {
                segs.pop();
            }
            s => segs.push(s),
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

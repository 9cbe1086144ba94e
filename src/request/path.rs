//! Path canonicalization: the path the engine decides on.
//!
//! Placeholder kept deliberately small in the foundation: it drops query and fragment. The
//! security issue replaces it with full canonicalization (percent-decoding of unreserved
//! characters, dot-segment removal, merged slashes, rejection of ambiguous encodings).

/// How to canonicalize.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Options {}

/// Why a path was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathError {
    /// The path does not start with `/`.
    NotAbsolute,
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathError::NotAbsolute => f.write_str("path does not start with '/'"),
        }
    }
}

/// The canonical form of a request path (`:path`), without query or fragment.
pub fn canonicalize(raw: &str, _opts: &Options) -> Result<String, PathError> {
    let end = raw.find(['?', '#']).unwrap_or(raw.len());
    let p = &raw[..end];
    if !p.starts_with('/') {
        return Err(PathError::NotAbsolute);
    }
    Ok(p.to_string())
}

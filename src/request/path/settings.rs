//! How paths are canonicalized: bundle `settings.path`. Every default is the safe choice.

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

/// What to do with `;` path parameters (`/admin;jsessionid=0/users`).
///
/// Servlet containers (Tomcat, Jetty) and Spring strip every `;...` from each segment before
/// mapping the request, so they serve `/admin;x=1` as `/admin`; most other servers read `;` as
/// an ordinary character. A DENY on `/admin` must hold for both.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PathParameters {
    /// Refuse a path holding a `;` (400). The default: no meaning to guess.
    #[default]
    Reject,
    /// Remove `;` and what follows it up to the next `/` from every segment, as servlet
    /// containers read the path (`/admin;x=1/users` is `/admin/users`, `/;x/admin` is
    /// `/admin`), then decide on and forward that path (the parameters are not forwarded).
    Strip,
    /// `;` is an ordinary character (`/admin;x` is another path than `/admin`). Safe only for
    /// applications that never read path parameters.
    Keep,
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
///                        "pathParameters": "reject", "forward": "canonical",
///                        "maxLength": 8192}}}
/// ```
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Options {
    /// `%2F` and `%5C`: `reject` (default), `keep` or `unescape`.
    pub escaped_slashes: EscapedSlashes,
    /// A raw `\`: `reject` (default) or `slash`.
    pub backslash: Backslash,
    /// A `;`: `reject` (default), `strip` or `keep`.
    pub path_parameters: PathParameters,
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
            path_parameters: PathParameters::Reject,
            forward: Forward::Canonical,
            max_length: DEFAULT_MAX_LENGTH,
        }
    }
}

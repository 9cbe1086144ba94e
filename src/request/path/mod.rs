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
//!    as a dot segment), by default any `;` path parameter (servlet containers serve
//!    `/admin;x=1` as `/admin`; see [`PathParameters`]), and an encoded delimiter `%3F`, `%23` or `%3B` (an application that
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

mod canonical;
mod settings;
#[cfg(test)]
mod tests;

pub(crate) use canonical::hex;
pub use canonical::{canonical, canonicalize, is_canonical, Canonical, PathError};
pub use settings::{Backslash, EscapedSlashes, Forward, Options, PathParameters, DEFAULT_MAX_LENGTH};

//! What Dapr accepts but a user should hear about: each policy's and operation's warnings,
//! as `(field, message)` in Dapr's order (reported against the resource by
//! `acl::parse`).

use std::borrow::Cow;

use super::action::{action_warning, VERBS};
use super::wire;

/// go-spiffe `isValidTrustDomainChar`: what a caller's SPIFFE ID can hold.
fn valid_trust_domain(td: &str) -> bool {
    td.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'))
}

/// The policy's own fields (`pat` is `spec.accessControl.policies[i]`).
pub(super) fn policy(pat: &str, default_action: &str, trust_domain: &str, out: &mut Vec<(String, String)>) {
    if let Some(w) = action_warning(default_action) {
        out.push((format!("{pat}.defaultAction"), w));
    }
    if !valid_trust_domain(trust_domain) {
        out.push((
            format!("{pat}.trustDomain"),
            format!(
                "{trust_domain:?} is not a SPIFFE trust domain (lowercase letters, digits, '.', '-', '_'): \
                 no caller's certificate can carry it, and Dapr compares it verbatim, so this policy never applies"
            ),
        ));
    }
}

/// Each operation's warnings, in order; `dups` lists the operations whose name repeats an
/// earlier one. The field path is formatted only for a warning.
pub(super) fn operations(pat: &str, ops: &[wire::Operation<'_>], dups: &[u32], out: &mut Vec<(String, String)>) {
    for (j, o) in ops.iter().enumerate() {
        let at = |field: &str| format!("{pat}.operations[{j}].{field}");
        let action = wire::text(&o.action);
        if action.is_empty() {
            out.push((
                at("action"),
                "empty: when this operation decides, Dapr compares \"\" with allow and denies \
                 (the docs' \"allow (default)\" is not what acl.go does)"
                    .into(),
            ));
        }
        if let Some(w) = action_warning(action) {
            out.push((at("action"), w));
        }
        let raw = wire::text(&o.name);
        let name: Cow<str> = if raw.starts_with('/') {
            Cow::Borrowed(raw)
        } else {
            Cow::Owned(format!("/{raw}"))
        };
        if name != "/" && (name.ends_with('/') || name.contains("//") || name.split('/').any(|s| s == "." || s == ".."))
        {
            out.push((
                at("name"),
                format!("{name:?} can never match: Dapr cleans the request method (path.Clean) first"),
            ));
        }
        let verbs = o.http_verb.as_deref().unwrap_or_default();
        if verbs.is_empty() {
            out.push((
                at("httpVerb"),
                "empty: over HTTP this operation never decides (the app or global default does); only gRPC uses its action"
                    .into(),
            ));
        }
        for (k, v) in verbs.iter().enumerate() {
            if &**v != "*" && !VERBS.contains(&&**v) {
                out.push((
                    at(&format!("httpVerb[{k}]")),
                    format!(
                        "{:?} never matches: Dapr compares verbs case-sensitively with {}",
                        &**v,
                        VERBS.join(", ")
                    ),
                ));
            }
        }
        if dups.contains(&(j as u32)) {
            out.push((
                at("name"),
                format!("{name:?} repeats an earlier operation (names are lowercased for HTTP): Dapr keeps the first"),
            ));
        }
    }
}

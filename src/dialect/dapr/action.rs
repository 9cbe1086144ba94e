//! Dapr's verbs and actions (dapr/dapr `pkg/acl/acl.go`), shared by compiling, linting and
//! deciding.

/// Dapr's verb names (`commonv1pb.HTTPExtension_Verb`, without `NONE`).
pub(super) const VERBS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// `isActionAllowed`: `strings.EqualFold(action, "allow")`. Anything else, including an empty
/// action, denies.
pub(super) fn allows(action: &str) -> bool {
    action.eq_ignore_ascii_case("allow")
}

/// The warning for an action Dapr reads as deny although it is neither allow nor deny.
pub(super) fn action_warning(v: &str) -> Option<String> {
    (!v.is_empty() && !v.eq_ignore_ascii_case("allow") && !v.eq_ignore_ascii_case("deny"))
        .then(|| format!("{v:?} is neither allow nor deny: Dapr treats it as deny"))
}

//! Why an AuthorizationPolicy is refused: istiod's validation webhook refuses it
//! (pkg/config/validation/validation.go `ValidateAuthorizationPolicy`, pkg/config/security),
//! or it needs what an in-process filter cannot do (CUSTOM). Each reason is written in
//! istiod's words, so that a user who searches for the message finds istiod's docs.

use std::fmt;

/// A refusal: the field (relative to the spec, or to the rule while lowering one) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct LowerError {
    /// `from[0].source.principals[2]`; empty for the object itself.
    pub at: String,
    /// Why.
    pub why: Why,
}

impl LowerError {
    pub(super) fn new(at: impl Into<String>, why: Why) -> LowerError {
        LowerError { at: at.into(), why }
    }

    /// The same error, one level down: `prefix.at`.
    pub(super) fn under(mut self, prefix: &str) -> LowerError {
        self.at = match self.at.is_empty() {
            true => prefix.to_string(),
            false if self.at.starts_with('[') => format!("{prefix}{}", self.at),
            false => format!("{prefix}.{}", self.at),
        };
        self
    }
}

/// What istiod's validation (or this filter) refuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Why {
    /// `action: CUSTOM` (an external authorizer; this filter makes no network call).
    Custom,
    /// `provider` on an action other than CUSTOM (the action, the provider's name).
    ProviderWithoutCustom(&'static str, String),
    /// `istio.io/dry-run` that Go's `strconv.ParseBool` does not read.
    DryRunValue(String),
    /// `istio.io/dry-run` on an AUDIT (or CUSTOM) policy.
    DryRunAction(&'static str),
    /// A DENY policy without rules.
    DenyWithoutRules,
    /// A selector label with an empty key.
    SelectorEmptyKey(String),
    /// A selector label with a `*`.
    SelectorWildcard(String),
    /// Both a selector and a target reference.
    TargetRefAndSelector,
    /// A target reference without a name.
    TargetRefName,
    /// A target reference with a namespace.
    TargetRefNamespace,
    /// A target reference to a kind istiod does not support (group, kind).
    TargetRefKind(String, String),
    /// `from: []`.
    EmptyFrom,
    /// `from: [{}]`.
    NilSource,
    /// `source: {}`.
    EmptySource,
    /// `to: []`.
    EmptyTo,
    /// `to: [{}]`.
    NilOperation,
    /// `operation: {}`.
    EmptyOperation,
    /// `serviceAccounts` beside `principals` or `namespaces`.
    ServiceAccountsWithPrincipals,
    /// An empty string among the values.
    EmptyValue,
    /// An address that is neither an IP address nor a CIDR block.
    BadIp(String),
    /// A port that is not a number in 0..=65535.
    BadPort(String),
    /// A `*` neither first nor last (trust domains).
    WildcardMiddle(String),
    /// More than one `*` (trust domains).
    WildcardMany(String),
    /// A trust domain with a `/`.
    TrustDomainSlash(String),
    /// A service account value istiod's `CheckServiceAccount` refuses.
    ServiceAccount(String),
    /// A path template istiod's `CheckValidPathTemplate` refuses.
    PathTemplate(String),
    /// A condition without a key.
    KeyEmpty,
    /// A condition with neither `values` nor `notValues`.
    NoValues(String),
    /// A key istiod does not know.
    UnknownAttribute(String),
    /// A `a[b]` key of the wrong shape.
    BadKey(String),
    /// A key istiod replaced with another field (key, what replaced it).
    Replaced(String, &'static str),
    /// A v1alpha1 key.
    Deprecated(String),
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Custom => f.write_str(
                "CUSTOM delegates to an external authorizer; spiffe-authz decides in-process and makes no network call",
            ),
            Why::ProviderWithoutCustom(a, name) => write!(
                f,
                "`provider` must not be with non CUSTOM action, found {a} (provider {name:?})"
            ),
            Why::DryRunValue(v) => write!(
                f,
                "istio.io/dry-run with invalid value ({v}): istiod reads it with Go's strconv.ParseBool \
                 (1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False)"
            ),
            Why::DryRunAction(a) => write!(
                f,
                "the annotation istio.io/dry-run currently only supports action ALLOW/DENY, found action {a}"
            ),
            Why::DenyWithoutRules => f.write_str(
                "DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` \
                 if you want it be triggered for every request",
            ),
            Why::SelectorEmptyKey(kv) => write!(f, "empty key is not supported in selector: {kv:?}"),
            Why::SelectorWildcard(kv) => write!(f, "wildcard is not supported in selector: {kv:?}"),
            Why::TargetRefAndSelector => f.write_str("only one of targetRefs or workloadSelector can be set"),
            Why::TargetRefName => f.write_str("targetRef name must be set"),
            Why::TargetRefNamespace => {
                f.write_str("targetRef namespace must not be set; cross namespace referencing is not supported")
            }
            Why::TargetRefKind(g, k) => write!(
                f,
                "targetRef must be to one of Service, ServiceEntry, Gateway or GatewayClass but was {g}/{k}"
            ),
            Why::EmptyFrom => f.write_str("`from` must not be empty"),
            Why::NilSource => f.write_str("`from.source` must not be nil"),
            Why::EmptySource => f.write_str("`from.source` must not be empty"),
            Why::EmptyTo => f.write_str("`to` must not be empty"),
            Why::NilOperation => f.write_str("`to.operation` must not be nil"),
            Why::EmptyOperation => f.write_str("`to.operation` must not be empty"),
            Why::ServiceAccountsWithPrincipals => {
                f.write_str("cannot set serviceAccounts with namespaces or principals")
            }
            Why::EmptyValue => f.write_str("empty value not allowed"),
            Why::BadIp(v) => write!(f, "bad IP address ({v}): not an IP address or a CIDR block"),
            Why::BadPort(v) => write!(f, "bad port ({v}): not a number in 0..65535"),
            Why::WildcardMiddle(v) => write!(f, "wildcard is only allowed at the start or end, found {v:?}"),
            Why::WildcardMany(v) => write!(f, "at most one wildcard is allowed, found {v:?}"),
            Why::TrustDomainSlash(v) => write!(f, "trust domain must not contain '/', found {v:?}"),
            Why::ServiceAccount(m) | Why::PathTemplate(m) => f.write_str(m),
            Why::KeyEmpty => f.write_str("`key` must not be empty"),
            Why::NoValues(k) => write!(f, "at least one of `values` or `notValues` must be set for key {k}"),
            Why::UnknownAttribute(k) => write!(f, "unknown attribute: {k}"),
            Why::BadKey(k) => write!(f, "bad key ({k}): should have format a[b]"),
            Why::Replaced(k, by) => write!(f, "attribute {k} is replaced by the {by}"),
            Why::Deprecated(k) => write!(f, "deprecated attribute {k}: only supported in v1alpha1"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_nest() {
        let e = LowerError::new("principals[2]", Why::EmptyValue);
        assert_eq!(e.clone().under("from[0].source").at, "from[0].source.principals[2]");
        assert_eq!(LowerError::new("[1]", Why::EmptyValue).under("values").at, "values[1]");
        assert_eq!(
            LowerError::new("", Why::EmptySource).under("from[0].source").at,
            "from[0].source"
        );
        assert_eq!(e.why.to_string(), "empty value not allowed");
    }
}

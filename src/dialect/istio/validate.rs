//! The policy-level checks of istiod's validation webhook
//! (pkg/config/validation/validation.go `ValidateAuthorizationPolicy`, `validateMetadata`),
//! before any rule is lowered.

use std::collections::BTreeMap;

use super::error::{LowerError, Why};
use super::wire::{Action, Provider, Selector, TargetRef};

/// The dry-run annotation.
pub(super) const DRY_RUN: &str = "istio.io/dry-run";

/// Istio's name of an action, for messages.
pub(super) fn action_name(a: Action) -> &'static str {
    match a {
        Action::Allow => "ALLOW",
        Action::Deny => "DENY",
        Action::Audit => "AUDIT",
        Action::Custom => "CUSTOM",
    }
}

/// `istio.io/dry-run`, read as istiod reads it: Go's `strconv.ParseBool`, on ALLOW and DENY
/// policies only.
pub(super) fn dry_run(annotations: &BTreeMap<String, String>, action: Action) -> Result<bool, LowerError> {
    let Some(v) = annotations.get(DRY_RUN) else {
        return Ok(false);
    };
    let at = || format!("metadata.annotations[{DRY_RUN}]");
    if !matches!(action, Action::Allow | Action::Deny) {
        return Err(LowerError::new(at(), Why::DryRunAction(action_name(action))));
    }
    match v.as_str() {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(LowerError::new(at(), Why::DryRunValue(v.clone()))),
    }
}

/// The spec's own fields: the action and its provider, the selector, the target references,
/// a DENY without rules. Fields are relative to the spec.
pub(super) fn spec(
    action: Action,
    provider: Option<&Provider>,
    selector: Option<&Selector>,
    target_ref: Option<&TargetRef>,
    target_refs: &[TargetRef],
    has_rules: bool,
) -> Result<(), LowerError> {
    if action == Action::Custom {
        return Err(LowerError::new("action", Why::Custom));
    }
    if let Some(Provider { name }) = provider {
        return Err(LowerError::new(
            "provider",
            Why::ProviderWithoutCustom(action_name(action), name.clone()),
        ));
    }
    let set = [selector.is_some(), target_ref.is_some(), !target_refs.is_empty()];
    if set.into_iter().filter(|s| *s).count() > 1 {
        return Err(LowerError::new("", Why::TargetRefAndSelector));
    }
    if let Some(s) = selector {
        let Selector { match_labels } = s;
        for (k, v) in match_labels {
            let at = || format!("selector.matchLabels[{k}]");
            if k.is_empty() {
                return Err(LowerError::new(at(), Why::SelectorEmptyKey(format!("={v}"))));
            }
            if k.contains('*') || v.contains('*') {
                return Err(LowerError::new(at(), Why::SelectorWildcard(format!("{k}={v}"))));
            }
        }
    }
    let refs = target_ref.map(|r| ("targetRef".to_string(), r));
    let refs = refs.into_iter().chain(
        target_refs
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("targetRefs[{i}]"), r)),
    );
    for (at, r) in refs {
        target(r).map_err(|why| LowerError::new(at, why))?;
    }
    if action == Action::Deny && !has_rules {
        return Err(LowerError::new("rules", Why::DenyWithoutRules));
    }
    Ok(())
}

/// istiod's `validatePolicyTargetReference`: a named Service, ServiceEntry, Gateway or
/// GatewayClass of the policy's namespace.
fn target(r: &TargetRef) -> Result<(), Why> {
    let TargetRef {
        group,
        kind,
        name,
        namespace,
    } = r;
    if name.is_empty() {
        return Err(Why::TargetRefName);
    }
    if !namespace.is_empty() {
        return Err(Why::TargetRefNamespace);
    }
    let allowed = matches!(
        (group.as_str(), kind.as_str()),
        ("" | "core", "Service")
            | ("networking.istio.io", "ServiceEntry")
            | ("gateway.networking.k8s.io", "Gateway" | "GatewayClass")
    );
    match allowed {
        true => Ok(()),
        false => Err(Why::TargetRefKind(group.clone(), kind.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_run_reads_go_booleans() {
        let ann = |v: &str| BTreeMap::from([(DRY_RUN.to_string(), v.to_string())]);
        for v in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(dry_run(&ann(v), Action::Deny), Ok(true), "{v}");
        }
        for v in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(dry_run(&ann(v), Action::Allow), Ok(false), "{v}");
        }
        for v in ["yes", "tRuE", "", " true", "on"] {
            assert!(dry_run(&ann(v), Action::Allow).is_err(), "{v}");
        }
        assert!(dry_run(&ann("true"), Action::Audit).is_err());
        assert_eq!(dry_run(&BTreeMap::new(), Action::Audit), Ok(false));
    }

    #[test]
    fn target_refs_as_istiod_checks_them() {
        let r = |g: &str, k: &str, n: &str, ns: &str| TargetRef {
            group: g.into(),
            kind: k.into(),
            name: n.into(),
            namespace: ns.into(),
        };
        assert_eq!(target(&r("gateway.networking.k8s.io", "Gateway", "gw", "")), Ok(()));
        assert_eq!(target(&r("", "Service", "svc", "")), Ok(()));
        assert_eq!(target(&r("", "Service", "", "")), Err(Why::TargetRefName));
        assert_eq!(target(&r("", "Service", "svc", "bar")), Err(Why::TargetRefNamespace));
        assert!(target(&r("wrong-group", "Gateway", "gw", "")).is_err());
    }
}

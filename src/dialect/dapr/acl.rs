//! `spec.accessControl` compiled as Dapr compiles it (dapr/dapr `pkg/acl/acl.go`
//! `ParseAccessControlSpec`), with Dapr's validation and its reason text. The policies
//! themselves are compiled as they are read (see `policies.rs`).

use super::action::action_warning;
use super::ops::OpRef;
use super::policies::{Policies, Policy};
use super::wire;
use crate::error::{BundleError, Warning};
use crate::resource::Resource;

/// How the global default action came about (for explanations).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DefaultFrom {
    /// `spec.accessControl.defaultAction` is set.
    Spec,
    /// Missing while `policies` is present and non-empty, or absent: deny.
    MissingWithPolicies,
    /// Missing, with `policies: []`: allow.
    MissingNoPolicies,
}

/// The in-memory access control list (`config.AccessControlList`).
#[derive(Debug)]
pub(super) struct Acl {
    /// The global default action, as Dapr holds it (compared with `allows`).
    pub default_action: String,
    pub default_from: DefaultFrom,
    /// `accessControl.trustDomain` (default `public`): the called app's own trust domain.
    pub trust_domain: String,
    policies: Policies,
}

impl Acl {
    /// The caller's policy: Dapr's lookup by `appID||namespace`.
    pub(super) fn policy(&self, app_id: &str, namespace: &str) -> Option<&Policy> {
        self.policies.get(app_id, namespace)
    }

    /// The operation of `p` Dapr matches for the method `op` (lowercased for HTTP), with its
    /// index in the policy's `operations`.
    pub(super) fn search(&self, p: &Policy, grpc: bool, op: &str) -> Option<(u32, OpRef<'_>)> {
        self.policies.search(p, grpc, op)
    }
}

/// Go's `%v` of a `[]string`: `[a b]`.
fn go_list(v: &[String]) -> String {
    format!("[{}]", v.join(" "))
}

/// `ParseAccessControlSpec`. `Ok(None)`: Dapr sees no access control list and allows every call.
pub(super) fn parse(
    spec: wire::AccessControl<Policies>,
    r: &Resource<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<Option<Acl>, BundleError> {
    let wire::AccessControl {
        default_action,
        trust_domain,
        policies,
    } = spec;
    let default_action = default_action.unwrap_or_default();
    let trust_domain = trust_domain.unwrap_or_default();
    let policies_absent = policies.is_none();
    let policies = policies.unwrap_or_default();
    if trust_domain.is_empty() && default_action.is_empty() && policies.count == 0 {
        // acl.go: "No ACL has been specified".
        return Ok(None);
    }
    let at = "spec.accessControl";
    let (default_action, default_from) = if !default_action.is_empty() {
        if let Some(w) = action_warning(&default_action) {
            warnings.push(r.warning(format!("{at}.defaultAction"), w));
        }
        (default_action.to_lowercase(), DefaultFrom::Spec)
    } else if policies_absent || policies.count > 0 {
        // acl.go: "Some app level policies have been specified but not default global action
        // is set. Default to more secure option - Deny" — also when `policies` is absent.
        warnings.push(r.warning(
            format!("{at}.defaultAction"),
            if policies_absent {
                "missing, and no policies: Dapr sets the global default action to deny (every call is denied)"
            } else {
                "missing: Dapr sets the global default action to deny"
            },
        ));
        ("deny".to_string(), DefaultFrom::MissingWithPolicies)
    } else {
        ("allow".to_string(), DefaultFrom::MissingNoPolicies)
    };
    let missing = &policies.missing;
    if let Some(field) = &missing.first {
        return Err(r.error(
            field.clone(),
            format!(
                "is required. Dapr refuses the whole spec: \"invalid access control spec. missing trustdomain \
                 for apps: {}, missing namespace for apps: {}, missing app name on at least one of the app \
                 policies: {}\"",
                go_list(&missing.trust_domain),
                go_list(&missing.namespace),
                missing.app,
            ),
        ));
    }
    let mut policies = policies;
    warnings.extend(
        std::mem::take(&mut policies.warnings)
            .into_iter()
            .map(|(field, message)| r.warning(field, message)),
    );
    Ok(Some(Acl {
        default_action,
        default_from,
        trust_domain: if trust_domain.is_empty() {
            "public".into()
        } else {
            trust_domain
        },
        policies,
    }))
}

//! `spec.accessControl` compiled as Dapr compiles it (dapr/dapr `pkg/acl/acl.go`
//! `ParseAccessControlSpec`), with Dapr's validation and its reason text. The policies
//! themselves are compiled as they are read (see `policies.rs`).

use super::action::action_warning;
use super::ops::OpRef;
use super::policies::{MissingField, Policies, Policy};
use super::wire;
use crate::error::{BundleError, Warning};
use crate::resource::Resource;

/// How the global default action came about (for explanations).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DefaultFrom {
    /// `spec.accessControl.defaultAction` is set.
    Spec,
    /// Missing while app policies are listed: deny.
    MissingWithPolicies,
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

/// The whole spec refused: a field the Configuration CRD requires (an operation's `name` or
/// `action`), or one acl.go requires, with acl.go's own message.
fn refusal(r: &Resource<'_>, missing: &MissingField, all: &super::policies::Missing) -> BundleError {
    match missing {
        MissingField::Crd(field) => r.error(
            field.clone(),
            "is required (Dapr's Configuration CRD requires name and action in every operation; the API server \
             refuses the object)",
        ),
        MissingField::Acl(field) => r.error(
            field.clone(),
            format!(
                "is required. Dapr refuses the whole spec: \"invalid access control spec. missing trustdomain \
                 for apps: {}, missing namespace for apps: {}, missing app name on at least one of the app \
                 policies: {}\"",
                go_list(&all.trust_domain),
                go_list(&all.namespace),
                all.app,
            ),
        ),
    }
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
    let policies = policies.unwrap_or_default();
    if default_action.is_empty() && policies.count == 0 {
        // acl.go: "No ACL has been specified" (no trustDomain either). With only a trustDomain,
        // acl.go's `AppPolicies == nil` test would deny every call, but Dapr never gets there:
        // its loader reads the Configuration over its default one, whose defaultAction is
        // allow (pkg/config LoadDefaultConfiguration; the integration test
        // accesscontrol/trustdomain.go calls through such a spec), and the docs' rule 2 says
        // the same: no default and no app policies is no access policy.
        return Ok(None);
    }
    let at = "spec.accessControl";
    let (default_action, default_from) = if !default_action.is_empty() {
        if let Some(w) = action_warning(&default_action) {
            warnings.push(r.warning(format!("{at}.defaultAction"), w));
        }
        (default_action.to_lowercase(), DefaultFrom::Spec)
    } else {
        // acl.go and the docs' rule 3: "Some app level policies have been specified but not
        // default global action is set. Default to more secure option - Deny". Stricter than
        // Dapr's runtime, whose loader leaves its default configuration's `allow` in place:
        // an allow list that lets every unlisted caller through is not what such a spec means.
        warnings.push(r.warning(
            format!("{at}.defaultAction"),
            "missing with app policies: denied here, as acl.go and the docs say (Dapr's loader would keep its \
             default configuration's allow: write defaultAction to be sure)",
        ));
        ("deny".to_string(), DefaultFrom::MissingWithPolicies)
    };
    if let Some(missing) = policies.missing.first.clone() {
        return Err(refusal(r, &missing, &policies.missing));
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

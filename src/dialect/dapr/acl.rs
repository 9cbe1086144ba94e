//! `spec.accessControl` compiled as Dapr compiles it (dapr/dapr `pkg/acl/acl.go`
//! `ParseAccessControlSpec`), with Dapr's validation and its reason text.

use std::collections::HashMap;

use super::method::go_lower;
use super::trie::Trie;
use super::wire;
use crate::dialect::Resource;
use crate::error::{BundleError, Warning};

/// Dapr's verb names (`commonv1pb.HTTPExtension_Verb`, without `NONE`).
pub(super) const VERBS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// `isActionAllowed`: `strings.EqualFold(action, "allow")`. Anything else, including an empty
/// action, denies.
pub(super) fn allows(action: &str) -> bool {
    action.eq_ignore_ascii_case("allow")
}

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
    /// The global default action, as Dapr holds it (compared with [`allows`]).
    pub default_action: String,
    pub default_from: DefaultFrom,
    /// `accessControl.trustDomain` (default `public`): the called app's own trust domain.
    pub trust_domain: String,
    pub policies: Vec<Policy>,
    /// appId → namespace → position in `policies`: Dapr's `appID||namespace` map.
    by_app: HashMap<String, HashMap<String, usize>>,
}

/// One app policy (`config.AccessControlListPolicySpec`).
#[derive(Debug)]
pub(super) struct Policy {
    /// Position in `spec.accessControl.policies`.
    pub index: usize,
    pub app_id: String,
    pub namespace: String,
    pub trust_domain: String,
    /// Empty when not set.
    pub default_action: String,
    pub ops: Vec<Op>,
    /// Operation names lowercased: searched for HTTP requests.
    pub http: Trie,
    /// Operation names as written: searched for gRPC requests.
    pub grpc: Trie,
}

/// One operation (`config.AccessControlListOperationAction`).
#[derive(Debug)]
pub(super) struct Op {
    /// The name with the leading `/` Dapr adds.
    pub name: String,
    /// `httpVerb` → action (verbs as written: Dapr compares them case-sensitively).
    pub verbs: HashMap<String, String>,
    /// The action, used as is for gRPC.
    pub action: String,
}

impl Acl {
    /// The caller's policy: Dapr's lookup by `appID||namespace`.
    pub(super) fn policy(&self, app_id: &str, namespace: &str) -> Option<&Policy> {
        let i = *self.by_app.get(app_id)?.get(namespace)?;
        self.policies.get(i)
    }
}

/// go-spiffe `isValidTrustDomainChar`: what a caller's SPIFFE ID can hold.
fn valid_trust_domain(td: &str) -> bool {
    td.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'))
}

/// Go's `%v` of a `[]string`: `[a b]`.
fn go_list(v: &[String]) -> String {
    format!("[{}]", v.join(" "))
}

fn action_warning(r: &Resource<'_>, field: String, v: &str, out: &mut Vec<Warning>) {
    if !v.is_empty() && !v.eq_ignore_ascii_case("allow") && !v.eq_ignore_ascii_case("deny") {
        out.push(r.warning(
            field,
            format!("{v:?} is neither allow nor deny: Dapr treats it as deny"),
        ));
    }
}

/// `ParseAccessControlSpec`. `Ok(None)`: Dapr sees no access control list and allows every call.
pub(super) fn parse(
    spec: wire::AccessControl,
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
    if trust_domain.is_empty() && default_action.is_empty() && policies.is_empty() {
        // acl.go: "No ACL has been specified".
        return Ok(None);
    }
    let at = "spec.accessControl";
    let (default_action, default_from) = if !default_action.is_empty() {
        action_warning(r, format!("{at}.defaultAction"), &default_action, warnings);
        (default_action.to_lowercase(), DefaultFrom::Spec)
    } else if policies_absent || !policies.is_empty() {
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
    let mut acl = Acl {
        default_action,
        default_from,
        trust_domain: if trust_domain.is_empty() {
            "public".into()
        } else {
            trust_domain
        },
        policies: Vec::new(),
        by_app: HashMap::new(),
    };

    let (mut missing_td, mut missing_ns, mut missing_app) = (Vec::new(), Vec::new(), false);
    let mut first_missing: Option<String> = None;
    for (i, p) in policies.into_iter().enumerate() {
        let wire::AppPolicy {
            app_id,
            default_action,
            trust_domain,
            namespace,
            operations,
        } = p;
        let (app_id, trust_domain, namespace) = (
            app_id.unwrap_or_default(),
            trust_domain.unwrap_or_default(),
            namespace.unwrap_or_default(),
        );
        let pat = format!("{at}.policies[{i}]");
        for (empty, field) in [
            (app_id.is_empty(), "appId"),
            (trust_domain.is_empty(), "trustDomain"),
            (namespace.is_empty(), "namespace"),
        ] {
            if empty && first_missing.is_none() {
                first_missing = Some(format!("{pat}.{field}"));
            }
        }
        missing_app |= app_id.is_empty();
        if trust_domain.is_empty() {
            missing_td.push(app_id.clone());
        }
        if namespace.is_empty() {
            missing_ns.push(app_id.clone());
        }
        if first_missing.is_some() {
            continue;
        }
        let default_action = default_action.unwrap_or_default();
        action_warning(r, format!("{pat}.defaultAction"), &default_action, warnings);
        if !valid_trust_domain(&trust_domain) {
            warnings.push(r.warning(
                format!("{pat}.trustDomain"),
                format!(
                    "{trust_domain:?} is not a SPIFFE trust domain (lowercase letters, digits, '.', '-', '_'): \
                     no caller's certificate can carry it, and Dapr compares it verbatim, so this policy never applies"
                ),
            ));
        }
        let mut policy = Policy {
            index: i,
            app_id,
            namespace,
            trust_domain,
            default_action,
            ops: Vec::new(),
            http: Trie::default(),
            grpc: Trie::default(),
        };
        for (j, o) in operations.into_iter().flatten().enumerate() {
            add_operation(&mut policy, o, r, &format!("{pat}.operations[{j}]"), warnings);
        }
        let slot = acl
            .by_app
            .entry(policy.app_id.clone())
            .or_default()
            .entry(policy.namespace.clone())
            .or_insert(acl.policies.len());
        if *slot != acl.policies.len() {
            // Go map assignment: the later policy replaces the earlier one.
            let earlier = acl.policies.get(*slot).map_or(0, |p| p.index);
            warnings.push(r.warning(
                pat.clone(),
                format!("same appId and namespace as {at}.policies[{earlier}]: Dapr keeps only this later one"),
            ));
            *slot = acl.policies.len();
        }
        acl.policies.push(policy);
    }
    if let Some(field) = first_missing {
        return Err(r.error(
            field,
            format!(
                "is required. Dapr refuses the whole spec: \"invalid access control spec. missing trustdomain \
                 for apps: {}, missing namespace for apps: {}, missing app name on at least one of the app \
                 policies: {missing_app}\"",
                go_list(&missing_td),
                go_list(&missing_ns),
            ),
        ));
    }
    Ok(Some(acl))
}

fn add_operation(policy: &mut Policy, o: wire::Operation, r: &Resource<'_>, at: &str, warnings: &mut Vec<Warning>) {
    let wire::Operation {
        name,
        http_verb,
        action,
    } = o;
    let raw = name.unwrap_or_default();
    // acl.go: "prepend "/" in case it is missing in the operation name".
    let name = if raw.starts_with('/') { raw } else { format!("/{raw}") };
    let action = action.unwrap_or_default();
    if action.is_empty() {
        warnings.push(r.warning(
            format!("{at}.action"),
            "missing: when this operation decides, Dapr compares \"\" with allow and denies \
             (the docs' \"allow (default)\" is not what acl.go does)",
        ));
    }
    action_warning(r, format!("{at}.action"), &action, warnings);
    if name != "/" && (name.ends_with('/') || name.contains("//") || name.split('/').any(|s| s == "." || s == "..")) {
        warnings.push(r.warning(
            format!("{at}.name"),
            format!("{name:?} can never match: Dapr cleans the request method (path.Clean) first"),
        ));
    }
    let verbs_list = http_verb.unwrap_or_default();
    if verbs_list.is_empty() {
        warnings.push(r.warning(
            format!("{at}.httpVerb"),
            "empty: over HTTP this operation never decides (the app or global default does); only gRPC uses its action",
        ));
    }
    let mut verbs = HashMap::new();
    for (k, v) in verbs_list.into_iter().enumerate() {
        if v != "*" && !VERBS.contains(&v.as_str()) {
            warnings.push(r.warning(
                format!("{at}.httpVerb[{k}]"),
                format!(
                    "{v:?} never matches: Dapr compares verbs case-sensitively with {}",
                    VERBS.join(", ")
                ),
            ));
        }
        verbs.insert(v, action.clone());
    }
    let j = policy.ops.len() as u32;
    if !policy.http.insert(&go_lower(&name), j) {
        warnings.push(r.warning(
            format!("{at}.name"),
            format!("{name:?} repeats an earlier operation (names are lowercased for HTTP): Dapr keeps the first"),
        ));
    }
    // A duplicate here is one for HTTP too, already reported.
    let _ = policy.grpc.insert(&name, j);
    policy.ops.push(Op { name, verbs, action });
}

//! DrakoPolicy: each type lowered into a model predicate, or refused when it needs what an
//! in-proxy filter does not have (a logged-in user, a validated token, an external service).

use std::collections::HashMap;

use super::wire::{
    ClientGroup, ClientId, ClientIdType, ExportTo, Import, Origin, PolicyBody, PolicySpec, PolicyType, Source,
};
use crate::error::{BundleError, Warning};
use crate::model::{IpSet, Pred, StringMatch, StringSet};
use crate::resource::Resource;
use crate::spiffe::SpiffeId;

/// What decides a policy.
#[derive(Clone, Debug)]
pub(super) enum Rule {
    /// `AllowAll` (true) / `DenyAll` (false).
    Static(bool),
    /// `ClientGroup`: the SPIFFE IDs of its `clientList` (its `Oauth2ClientId` entries never
    /// match here: no validated token).
    ClientGroup(StringSet),
    /// `Source`, `Origin`: a test on the request.
    Test(Box<Pred>),
    /// `Import`: the exported policy, resolved by [`check_import`].
    Import { namespace: String, name: String },
}

impl Rule {
    /// The predicate, for a binding whose `clientAuthenticationModes` do (or do not) enable
    /// `SpiffeId`. Drako's ClientGroup page: "If the `clientAuthenticationModes` ... contains only
    /// `Oauth2ClientId` ..., the matching will only be done against the OAuth2 client identifiers."
    pub fn pred(&self, spiffe_enabled: bool) -> Pred {
        match self {
            Rule::Static(true) => Pred::Always,
            Rule::Static(false) | Rule::Import { .. } => Pred::Never,
            Rule::ClientGroup(ids) if spiffe_enabled && !ids.is_empty() => Pred::Principal(ids.clone()),
            Rule::ClientGroup(_) => Pred::Never,
            Rule::Test(p) => (**p).clone(),
        }
    }
}

/// A DrakoPolicy, lowered.
#[derive(Clone, Debug)]
pub(super) struct PolicyDef {
    pub kind: PolicyType,
    pub export_to: Vec<String>,
    pub rule: Rule,
}

/// Policies by (namespace, name).
pub(super) type Table = HashMap<(String, String), PolicyDef>;

/// Why a type cannot be decided in-proxy.
fn refusal(t: PolicyType) -> Option<&'static str> {
    Some(match t {
        PolicyType::Group => "it decides by the logged-in user's DrakoGroup membership, which needs a user session",
        PolicyType::Keycloak => {
            "it asks Keycloak's authorization services about the logged-in user: an external service and a user session"
        }
        PolicyType::Consent => "it asks the Consent service about the user's data attributes: an external service",
        PolicyType::MappingComparison => {
            "it compares mapped request data with the logged-in user's id, which needs a user session"
        }
        PolicyType::AuthorizedParties => {
            "it checks the `azp` claim of the user's access token, which needs a validated token"
        }
        PolicyType::Audience => "it checks the `aud` claim of the user's access token, which needs a validated token",
        _ => return None,
    })
}

/// Parses and lowers one DrakoPolicy.
pub(super) fn lower(r: &Resource<'_>, warnings: &mut Vec<Warning>) -> Result<PolicyDef, BundleError> {
    // Every field named, so that a field added to the wire type cannot go unenforced.
    let PolicySpec {
        kind,
        export_to,
        spec: body,
    } = r.spec()?;
    let kind = kind.ok_or_else(|| r.error("spec.type", "is required"))?;
    if let Some(why) = refusal(kind) {
        return Err(r.error(
            "spec.type",
            format!("DrakoPolicy type {kind:?} cannot be decided in-proxy: {why}; spiffe-authz decides without a user session and makes no network call"),
        ));
    }
    let body = body.unwrap_or_default();
    let keys = body.keys();
    match (kind.key(), keys.as_slice()) {
        (None, []) => {}
        (Some(k), [only]) if *only == k => {}
        (Some(k), []) => return Err(r.error(format!("spec.spec.{k}"), format!("is required for type {kind:?}"))),
        (_, ks) => {
            return Err(r.error(
                "spec.spec",
                format!(
                    "has {ks:?}, but type {kind:?} takes {}",
                    kind.key().map_or("none".into(), |k| format!("only `{k}`"))
                ),
            ))
        }
    }
    let export_to = export_to
        .unwrap_or_default()
        .into_iter()
        .map(|ExportTo { namespace }| namespace)
        .collect();
    let rule = rule(r, kind, body, warnings)?;
    Ok(PolicyDef { kind, export_to, rule })
}

fn rule(
    r: &Resource<'_>,
    kind: PolicyType,
    body: PolicyBody,
    warnings: &mut Vec<Warning>,
) -> Result<Rule, BundleError> {
    // The types decided by a user session or a service were refused by type above; their
    // bodies are never read.
    let PolicyBody {
        client_group,
        source: source_spec,
        origin,
        import,
        group: _,
        keycloak: _,
        consent: _,
        mapping_comparison: _,
        authorized_parties: _,
        audience: _,
    } = body;
    Ok(match kind {
        PolicyType::AllowAll => Rule::Static(true),
        PolicyType::DenyAll => Rule::Static(false),
        PolicyType::ClientGroup => {
            let list = client_group
                .map(|ClientGroup { client_list }| client_list)
                .unwrap_or_default();
            let mut ids = StringSet::new();
            let mut oauth = 0;
            for (i, ClientId { kind, value }) in list.into_iter().enumerate() {
                match kind {
                    ClientIdType::Oauth2ClientId => oauth += 1,
                    ClientIdType::SpiffeId => {
                        if SpiffeId::parse(value.as_str())
                            .and_then(|id| id.service_account().map(|_| ()))
                            .is_none()
                        {
                            warnings.push(r.warning(
                                format!("spec.spec.clientGroup.clientList[{i}].value"),
                                format!("{value:?} can never match: Drako authenticates only SPIFFE IDs shaped spiffe://<td>/ns/<ns>/sa/<sa>"),
                            ));
                        }
                        ids.insert(StringMatch::Exact(value));
                    }
                }
            }
            if oauth > 0 {
                warnings.push(r.warning(
                    "spec.spec.clientGroup.clientList",
                    format!(
                        "its Oauth2ClientId entries ({oauth}) never match in-proxy: the filter has no validated OAuth2 token"
                    ),
                ));
            }
            Rule::ClientGroup(ids)
        }
        PolicyType::Source => {
            let Source {
                namespace,
                service_account,
            } = source_spec.ok_or_else(|| r.error("spec.spec.source", "is required"))?;
            for (f, v) in [("namespace", &namespace), ("serviceAccount", &service_account)] {
                match v.as_deref() {
                    Some("") => return Err(r.error(format!("spec.spec.source.{f}"), "must not be empty")),
                    Some(v) if v.contains('{') => {
                        return Err(r.error(
                            format!("spec.spec.source.{f}"),
                            format!(
                                "{v:?} uses mapped values, which need the binding's `mapping`: not supported in-proxy"
                            ),
                        ))
                    }
                    _ => {}
                }
            }
            let p = source(namespace.as_deref(), service_account.as_deref())
                .ok_or_else(|| r.error("spec.spec.source", "needs `namespace`, `serviceAccount` or both"))?;
            Rule::Test(Box::new(p))
        }
        PolicyType::Origin => {
            let Origin { allowed } = origin.ok_or_else(|| r.error("spec.spec.origin", "is required"))?;
            let ips = IpSet::parse_all(allowed.iter().map(String::as_str))
                .map_err(|m| r.error("spec.spec.origin.allowed", m))?;
            if allowed.is_empty() {
                warnings.push(r.warning("spec.spec.origin.allowed", "is empty: the policy is always false"));
            }
            // Drako reads the client address of X-Forwarded-For: the model's remote address.
            Rule::Test(Box::new(Pred::RemoteIp(ips)))
        }
        PolicyType::Import => {
            let Import { namespace, name } = import.ok_or_else(|| r.error("spec.spec.import", "is required"))?;
            Rule::Import { namespace, name }
        }
        _ => return Err(r.error("spec.type", format!("{kind:?} is not supported"))),
    })
}

/// `Source`: the calling workload's namespace and service account, read from its SPIFFE ID.
fn source(ns: Option<&str>, sa: Option<&str>) -> Option<Pred> {
    let exact = |v: String| StringSet::from_matches([StringMatch::Exact(v)]);
    Some(match (ns, sa) {
        (Some(ns), Some(sa)) => Pred::ServiceAccount(exact(format!("{ns}/{sa}"))),
        // `<ns>/<sa>` ends with `/<sa>` exactly when the account is `<sa>` (a namespace has no
        // `/`): any namespace, this account.
        (None, Some(sa)) => Pred::ServiceAccount(StringSet::from_matches([StringMatch::Suffix(format!("/{sa}"))])),
        (Some(ns), None) => Pred::all(vec![
            Pred::Namespace(exact(ns.to_string())),
            Pred::ServiceAccount(StringSet::from_matches([StringMatch::Presence])),
        ]),
        (None, None) => return None,
    })
}

/// Drako's Import validations (changelog 0.11.0), in its order: not from its own namespace; an
/// Import is not exported (no nested imports); the target exists, is not an Import, and is
/// exported to the importing namespace.
pub(super) fn check_import(r: &Resource<'_>, def: &PolicyDef, table: &Table) -> Result<(), BundleError> {
    let Rule::Import { namespace, name } = &def.rule else {
        return Ok(());
    };
    if *namespace == r.namespace {
        return Err(r.error(
            "spec.spec.import.namespace",
            "imports from its own namespace: use the policy directly",
        ));
    }
    if !def.export_to.is_empty() {
        return Err(r.error(
            "spec.exportTo",
            "an Import policy cannot be exported: nested imports are not allowed",
        ));
    }
    let Some(target) = table.get(&(namespace.clone(), name.clone())) else {
        return Err(r.error(
            "spec.spec.import",
            format!("imports DrakoPolicy {namespace}/{name}, which is not in the bundle"),
        ));
    };
    if target.kind == PolicyType::Import {
        return Err(r.error(
            "spec.spec.import",
            format!(
                "imports DrakoPolicy {namespace}/{name}, which is itself an Import: nested imports are not allowed"
            ),
        ));
    }
    if !target.export_to.contains(&r.namespace) {
        return Err(r.error(
            "spec.spec.import",
            format!(
                "imports DrakoPolicy {namespace}/{name}, which is not exported to namespace {} (its spec.exportTo lists {:?})",
                r.namespace, target.export_to
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{Peer, Request};

    fn req(peer: &str) -> Request {
        let mut r = Request::new("GET", "/");
        r.peer = Peer::from_uri_san(peer);
        r
    }

    #[test]
    fn source_matches_namespace_and_account() {
        let p = source(Some("foo"), Some("svc")).unwrap();
        assert!(p.matches(&req("spiffe://cluster.local/ns/foo/sa/svc")));
        assert!(!p.matches(&req("spiffe://cluster.local/ns/bar/sa/svc")));
        let ns_only = source(Some("foo"), None).unwrap();
        assert!(ns_only.matches(&req("spiffe://cluster.local/ns/foo/sa/any")));
        assert!(!ns_only.matches(&req("spiffe://cluster.local/ns/foo/app")));
        let sa_only = source(None, Some("svc")).unwrap();
        assert!(sa_only.matches(&req("spiffe://cluster.local/ns/any/sa/svc")));
        assert!(!sa_only.matches(&req("spiffe://cluster.local/ns/any/sa/xsvc")));
        assert!(!sa_only.matches(&req("spiffe://cluster.local/ns/svc/sa/other")));
        assert!(!p.matches(&Request::new("GET", "/")));
        assert!(source(None, None).is_none());
    }

    #[test]
    fn client_group_needs_spiffe_mode() {
        let ids = StringSet::from_matches([StringMatch::Exact("spiffe://td/ns/a/sa/b".into())]);
        let rule = Rule::ClientGroup(ids);
        assert!(rule.pred(true).matches(&req("spiffe://td/ns/a/sa/b")));
        assert!(!rule.pred(true).matches(&req("spiffe://td/ns/a/sa/c")));
        assert!(!rule.pred(false).matches(&req("spiffe://td/ns/a/sa/b")));
        assert!(!Rule::ClientGroup(StringSet::new())
            .pred(true)
            .matches(&req("spiffe://td/ns/a/sa/b")));
    }
}

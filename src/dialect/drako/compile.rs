//! From Drako objects to the layer: policies lowered and imports checked, then every binding
//! validated and compiled; the bindings that select this workload are kept.

use std::collections::{BTreeSet, HashMap};

use super::binding::{Host, Modes, Selector};
use super::expr::Expr;
use super::paths::Routes;
use super::policy::{self, PolicyDef, Rule, Table};
use super::wire::{AuthenticationMode, BindingSpec, ClientAuthMode, DestinationHost, InjectHeader, InjectType};
use super::{Binding, PolicyRef};
use crate::dialect::Ctx;
use crate::error::{BundleError, Warning};
use crate::model::{Dialect, HostPattern, Pred};
use crate::resource::Resource;

/// Lowers every DrakoPolicy of the bundle and checks its imports.
pub(super) fn policies(rs: &[&Resource<'_>], warnings: &mut Vec<Warning>) -> Result<Table, BundleError> {
    let mut table = Table::new();
    for r in rs {
        let def = policy::lower(r, warnings)?;
        if table.insert((r.namespace.clone(), r.meta.name.clone()), def).is_some() {
            return Err(r.error(
                "metadata.name",
                "another DrakoPolicy of this namespace has the same name",
            ));
        }
    }
    for r in rs {
        if let Some(def) = table.get(&(r.namespace.clone(), r.meta.name.clone())) {
            policy::check_import(r, def, &table)?;
        }
    }
    Ok(table)
}

/// Validates one binding and compiles it; `Ok(None)` when it does not select the workload.
pub(super) fn binding(
    r: &Resource<'_>,
    table: &Table,
    preds: &mut Preds,
    ctx: &Ctx<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<Option<Binding>, BundleError> {
    // Every field named, so that a field added to the wire type cannot go unenforced.
    let BindingSpec {
        destination_service_accounts,
        paths,
        exclude_paths,
        methods,
        destination_hosts,
        authentication_mode,
        client_authentication_modes,
        policies,
        decision_strategy,
        inject_headers,
        mapping,
    } = r.spec()?;
    if destination_service_accounts.is_empty() {
        return Err(r.error("spec.destinationServiceAccounts", "is required"));
    }
    match authentication_mode {
        Some(AuthenticationMode::None) => {}
        None => {
            return Err(r.error(
                "spec.authenticationMode",
                "is required: only `None` (no user login) can be enforced in-proxy",
            ))
        }
        Some(m) => {
            return Err(r.error(
                "spec.authenticationMode",
                format!("{m:?} needs Agora's user authentication (a login session or an access token validated by Drako), which an in-proxy filter does not have: only `None` can be enforced here"),
            ))
        }
    }
    if mapping.is_some() {
        return Err(r.error(
            "spec.mapping",
            "mapped data feeds only Consent, Group and MappingComparison policies, which need a user session or an external service: not supported in-proxy",
        ));
    }
    let modes = match &client_authentication_modes {
        None => Modes::default(),
        Some(ms) => {
            if ms.is_empty() {
                warnings.push(r.warning(
                    "spec.clientAuthenticationModes",
                    "is empty: client authentication always fails, every request is denied",
                ));
            }
            Modes {
                spiffe: ms.contains(&ClientAuthMode::SpiffeId),
                oauth2: ms.contains(&ClientAuthMode::Oauth2ClientId),
                none: ms.contains(&ClientAuthMode::None),
            }
        }
    };
    let paths = match paths.as_deref() {
        None => None,
        Some([]) => return Err(r.error("spec.paths", "is empty: omit it to match every path")),
        Some(ps) => Some(routes(r, "spec.paths", ps)?),
    };
    let exclude = match exclude_paths.as_deref() {
        None | Some([]) => None,
        Some(ps) => Some(routes(r, "spec.excludePaths", ps)?),
    };
    let methods = match methods {
        Some(ms) if ms.is_empty() => return Err(r.error("spec.methods", "is empty: omit it to match every method")),
        ms => {
            // Compared exactly, as HTTP methods are case-sensitive.
            for (i, m) in ms.iter().flatten().enumerate() {
                if m.bytes().any(|b| b.is_ascii_lowercase()) {
                    warnings.push(r.warning(
                        format!("spec.methods[{i}]"),
                        format!(
                            "{m:?} is compared exactly: it never matches {:?}",
                            m.to_ascii_uppercase()
                        ),
                    ));
                }
            }
            ms
        }
    };
    let hosts = match destination_hosts {
        Some(hs) if hs.is_empty() => {
            return Err(r.error("spec.destinationHosts", "is empty: omit it to match every host"))
        }
        None => None,
        Some(hs) => {
            let mut out = Vec::new();
            for (i, DestinationHost { hostname, port }) in hs.into_iter().enumerate() {
                let name = hostname.trim().trim_end_matches('.').to_ascii_lowercase();
                let at = format!("spec.destinationHosts[{i}].hostname");
                if name.is_empty() || name.contains(['/', ' ']) {
                    return Err(r.error(at, format!("{:?} is not a hostname", hostname)));
                }
                if name.contains(':') && !name.starts_with('[') {
                    return Err(r.error(at, format!("{:?}: write the port in `port`", hostname)));
                }
                if name.contains('*') {
                    warnings.push(r.warning(
                        at,
                        format!(
                            "{:?}: Drako compares hostnames exactly (ignoring case); `*` is not a wildcard",
                            hostname
                        ),
                    ));
                }
                if port == Some(0) {
                    return Err(r.error(format!("spec.destinationHosts[{i}].port"), "must be 1..=65535"));
                }
                out.push(Host {
                    name: HostPattern::exact(&name),
                    port,
                });
            }
            Some(out)
        }
    };
    let src = decision_strategy.unwrap_or_default();
    let strategy = Expr::parse(&src).map_err(|e| r.error("spec.decisionStrategy", format!("{src:?}: {e}")))?;
    let listed: BTreeSet<&str> = policies.iter().map(String::as_str).collect();
    let used = strategy.names();
    if listed != used {
        let only_listed: Vec<_> = listed.difference(&used).collect();
        let only_used: Vec<_> = used.difference(&listed).collect();
        return Err(r.error(
            "spec.decisionStrategy",
            format!("must use exactly the policies listed in spec.policies: listed but not used {only_listed:?}; used but not listed {only_used:?}"),
        ));
    }
    let mut refs = Vec::new();
    for (i, name) in policies.iter().enumerate() {
        if refs.iter().any(|p: &PolicyRef| p.name == *name) {
            warnings.push(r.warning(format!("spec.policies[{i}]"), format!("{name:?} is listed twice")));
            continue;
        }
        refs.push(
            resolve(r, name, table, modes, preds).map_err(|e| r.error(format!("spec.policies[{i}]"), e.to_string()))?,
        );
    }
    let mut client_ids = false;
    for (i, InjectHeader { kind, spec }) in inject_headers.iter().flatten().enumerate() {
        match kind {
            InjectType::ClientIds if spec.is_none() => client_ids = true,
            InjectType::ClientIds => return Err(r.error(format!("spec.injectHeaders[{i}].spec"), "ClientIds takes no spec")),
            InjectType::Group => {
                return Err(r.error(
                    format!("spec.injectHeaders[{i}].type"),
                    "Group (x-drako-groups) reports the logged-in user's DrakoGroups, which needs a user session: not supported in-proxy",
                ))
            }
        }
    }
    // Every name is in `refs` (the sets were compared above); u32::MAX would evaluate false.
    let by_name: HashMap<&str, u32> = refs.iter().map(|p| (p.name.as_str(), p.index)).collect();
    let resolved = strategy.map(&|n: &String| by_name.get(n.as_str()).copied().unwrap_or(u32::MAX));
    let sa = ctx.workload.service_account.as_deref();
    let selects =
        r.namespace == ctx.workload.namespace() && destination_service_accounts.iter().any(|d| Some(d.as_str()) == sa);
    if !selects {
        warnings.push(r.warning(
            "spec.destinationServiceAccounts",
            format!(
                "does not select this workload ({}/{}): not applied here",
                ctx.workload.namespace(),
                sa.unwrap_or("?")
            ),
        ));
        return Ok(None);
    }
    Ok(Some(Binding {
        meta: ctx.meta(r, Dialect::Drako),
        paths,
        selector: Selector {
            exclude,
            methods,
            hosts,
        },
        modes,
        allow_reason: format!("decisionStrategy {src:?} is true"),
        strategy_src: src,
        strategy: resolved,
        policies: refs,
        client_ids,
    }))
}

fn routes(r: &Resource<'_>, field: &str, ps: &[String]) -> Result<Routes, BundleError> {
    Routes::new(ps).map_err(|(i, e)| r.error(format!("{field}[{i}]"), e.to_string()))
}

/// Policy predicates, each stored once per (namespace, name, SpiffeId enabled or not), however
/// many bindings use it.
#[derive(Default)]
pub(super) struct Preds {
    pub list: Vec<Pred>,
    ids: HashMap<(String, String, bool), u32>,
}

impl Preds {
    fn id(&mut self, ns: &str, name: &str, def: &PolicyDef, spiffe: bool) -> u32 {
        let list = &mut self.list;
        *self
            .ids
            .entry((ns.to_string(), name.to_string(), spiffe))
            .or_insert_with(|| {
                list.push(def.rule.pred(spiffe));
                (list.len() - 1) as u32
            })
    }
}

/// Why a name of `spec.policies` names no policy.
#[derive(Debug, PartialEq, Eq)]
enum ResolveError {
    /// No DrakoPolicy of that name in the binding's namespace.
    Missing { namespace: String, name: String },
    /// The Import's target is not in the bundle.
    ImportMissing { namespace: String, name: String },
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::Missing { namespace, name } => write!(
                f,
                "DrakoPolicy {namespace}/{name} is not in the bundle (a binding uses policies of its own namespace)"
            ),
            ResolveError::ImportMissing { namespace, name } => {
                write!(f, "imported DrakoPolicy {namespace}/{name} is not in the bundle")
            }
        }
    }
}

/// A name of `spec.policies`, looked up in the binding's namespace; an Import stands for the
/// policy it imports (already checked by [`policy::check_import`]).
fn resolve(
    r: &Resource<'_>,
    name: &str,
    table: &Table,
    modes: Modes,
    preds: &mut Preds,
) -> Result<PolicyRef, ResolveError> {
    let key = (r.namespace.clone(), name.to_string());
    let def: &PolicyDef = table.get(&key).ok_or_else(|| ResolveError::Missing {
        namespace: r.namespace.clone(),
        name: name.to_string(),
    })?;
    let (index, kind) = match &def.rule {
        Rule::Import {
            namespace,
            name: target,
        } => {
            let t = table
                .get(&(namespace.clone(), target.clone()))
                .ok_or_else(|| ResolveError::ImportMissing {
                    namespace: namespace.clone(),
                    name: target.clone(),
                })?;
            let kind = format!("Import of {namespace}/{target}: {:?}", t.kind);
            (preds.id(namespace, target, t, modes.spiffe), kind)
        }
        _ => (
            preds.id(&r.namespace, name, def, modes.spiffe),
            format!("{:?}", def.kind),
        ),
    };
    Ok(PolicyRef {
        name: name.to_string(),
        kind,
        index,
    })
}

//! Wire objects → Linkerd's internal form, validated as the policy controller and its
//! admission webhook validate them (`policy-controller/runtime/src/admission.rs`, the index's
//! conversions). Every wire struct is destructured, so a field added to it breaks the build
//! until it is lowered; every refusal is a typed [`Invalid`] with its field, and the caller
//! names the resource.

mod route;
mod selector;

pub(super) use route::{api_group, grpc_rule, hostnames, http_rule, route_parents, Parents, RuleNotes};
pub(super) use selector::Selector;

use super::authz::Authn;
use super::identity::{dns_identity, Identities};
use super::invalid::{fail, Fail, Invalid};
use super::syntax;
use super::wire;
use crate::model::{Cidr, IpSet};

/// Names Linkerd identities: `<sa>.<ns>.serviceaccount.identity.<cp-ns>.<td>`.
pub(super) struct Naming<'a> {
    pub control_plane_ns: &'a str,
    pub trust_domain: &'a str,
}

impl Naming<'_> {
    pub fn service_account(&self, ns: &str, sa: &str) -> String {
        dns_identity(sa, ns, self.control_plane_ns, self.trust_domain)
    }

    /// Every service account of a namespace (`ClusterInfo::namespace_identity`).
    pub fn namespace(&self, ns: &str) -> String {
        format!(
            "*.{ns}.serviceaccount.identity.{}.{}",
            self.control_plane_ns, self.trust_domain
        )
    }
}

/// Does a reference (`group`, `kind`) name `want_group`/`want_kind`? As the controller's
/// `targets_kind`: case-insensitive, an empty or absent group is `core`.
pub(super) fn targets_kind(group: Option<&str>, kind: &str, want_group: &str, want_kind: &str) -> bool {
    group
        .filter(|g| !g.is_empty())
        .unwrap_or("core")
        .eq_ignore_ascii_case(want_group)
        && kind.eq_ignore_ascii_case(want_kind)
}

/// `Kind.group`, as the controller names a reference's kind in its errors.
fn canonical_kind(group: Option<&str>, kind: &str) -> String {
    match group {
        Some(g) => format!("{kind}.{g}"),
        None => kind.to_string(),
    }
}

/// Parses `networks[]`: `{cidr, except}` entries, each exception inside its block and not
/// covering it (the webhook's `validate_networks`). An unknown client address is in none of
/// them (fail closed).
pub(super) fn networks(ns: &[wire::Network], field: &str) -> Result<IpSet, Fail> {
    let mut out = IpSet::default();
    for (i, n) in ns.iter().enumerate() {
        let wire::Network { cidr, except } = n;
        let cidr_of = |v: &str, f: String| {
            Cidr::parse(v).map_err(|error| Fail {
                field: f,
                why: Invalid::Cidr {
                    value: v.to_string(),
                    error,
                },
            })
        };
        let net = cidr_of(cidr, format!("{field}[{i}].cidr"))?;
        let mut excepts = Vec::new();
        for (j, e) in except.iter().flatten().enumerate() {
            let f = format!("{field}[{i}].except[{j}]");
            let ex = cidr_of(e, f.clone())?;
            if ex.covers(&net) {
                return fail(
                    f,
                    Invalid::ExceptNegates {
                        cidr: net.to_string(),
                        except: ex.to_string(),
                    },
                );
            }
            if !net.covers(&ex) {
                return fail(
                    f,
                    Invalid::ExceptOutside {
                        cidr: net.to_string(),
                        except: ex.to_string(),
                    },
                );
            }
            excepts.push(ex);
        }
        out.insert_except(net, excepts);
    }
    Ok(out)
}

/// Which Servers a ServerAuthorization applies to.
#[derive(Debug)]
pub(super) enum ServerSel {
    Name(String),
    Selector(Selector),
}

/// A lowered ServerAuthorization. `networks: None` = the cluster networks (the policy
/// controller sends a ServerAuthorization without `networks` as the cluster's networks).
pub(super) struct Saz {
    pub server: ServerSel,
    pub networks: Option<IpSet>,
    pub authn: Authn,
}

/// `ServerAuthorization.spec`: the webhook refuses `unauthenticated` with `meshTLS`, and
/// `unauthenticatedTLS` with identities; the index (`server_authorization.rs`) refuses a client
/// without authentication, or with `meshTLS` naming nobody.
pub(super) fn server_authorization(s: &wire::ServerAuthorizationSpec, ns: &str, n: &Naming<'_>) -> Result<Saz, Fail> {
    let wire::ServerAuthorizationSpec { server, client } = s;
    let server = match server {
        None => return fail("spec.server", Invalid::Required),
        Some(wire::SazServer { name: Some(name), .. }) => ServerSel::Name(name.clone()),
        Some(wire::SazServer { name: None, selector }) => ServerSel::Selector(Selector::parse(
            selector.as_ref().unwrap_or(&wire::LabelSelector::default()),
            "spec.server.selector",
        )?),
    };
    let Some(wire::SazClient {
        networks: nets,
        unauthenticated,
        mesh_tls,
    }) = client
    else {
        return fail("spec.client", Invalid::Required);
    };
    let networks = match nets.as_deref() {
        None | Some([]) => None,
        Some(list) => Some(networks(list, "spec.client.networks")?),
    };
    let authn = match (unauthenticated, mesh_tls) {
        (true, Some(_)) => return fail("spec.client", Invalid::UnauthenticatedAndMeshTls),
        (true, None) => Authn::Unauthenticated,
        (
            false,
            Some(wire::MeshTls {
                unauthenticated_tls,
                identities,
                service_accounts,
            }),
        ) => {
            let named = identities.iter().flatten().count() + service_accounts.iter().flatten().count();
            match (unauthenticated_tls, named) {
                (true, 0) => Authn::TlsUnauthenticated,
                (true, _) => return fail("spec.client.meshTLS", Invalid::UnauthenticatedTlsAndIdentities),
                (false, 0) => return fail("spec.client.meshTLS", Invalid::NoClients),
                (false, _) => {
                    let mut ids = Identities::default();
                    identities.iter().flatten().for_each(|i| ids.insert(i));
                    for wire::ServiceAccountRef { name, namespace } in service_accounts.iter().flatten() {
                        ids.insert(&n.service_account(namespace.as_deref().unwrap_or(ns), name));
                    }
                    Authn::Identities(Box::new(ids))
                }
            }
        }
        (false, None) => return fail("spec.client", Invalid::NoClientAuthentication),
    };
    Ok(Saz {
        server,
        networks,
        authn,
    })
}

/// `MeshTLSAuthentication.spec` → its identities. The CRD wants exactly one of `identities`
/// and `identityRefs`, each non-empty; the webhook checks every identity's syntax
/// (`validation.rs`) and every reference's kind.
pub(super) fn mesh_tls_authentication(
    s: &wire::MeshTlsAuthenticationSpec,
    ns: &str,
    n: &Naming<'_>,
) -> Result<Identities, Fail> {
    let wire::MeshTlsAuthenticationSpec {
        identities,
        identity_refs,
    } = s;
    let mut ids = Identities::default();
    match (identities.as_deref(), identity_refs.as_deref()) {
        (Some(list), None) if !list.is_empty() => {
            for (i, id) in list.iter().enumerate() {
                if let Err(error) = syntax::identity(id) {
                    return fail(
                        format!("spec.identities[{i}]"),
                        Invalid::Identity { id: id.clone(), error },
                    );
                }
                ids.insert(id);
            }
        }
        (None, Some(refs)) if !refs.is_empty() => {
            for (i, r) in refs.iter().enumerate() {
                let wire::TargetRef {
                    group,
                    kind,
                    name,
                    namespace,
                } = r;
                let f = format!("spec.identityRefs[{i}]");
                if targets_kind(group.as_deref(), kind, "core", "ServiceAccount") {
                    ids.insert(&n.service_account(namespace.as_deref().unwrap_or(ns), name));
                } else if targets_kind(group.as_deref(), kind, "core", "Namespace") {
                    if namespace.is_some() {
                        return fail(f, Invalid::NamespacedNamespace);
                    }
                    ids.insert(&n.namespace(name));
                } else {
                    return fail(f, Invalid::IdentityRefKind(canonical_kind(group.as_deref(), kind)));
                }
            }
        }
        _ => return fail("spec", Invalid::IdentitiesXorRefs),
    }
    Ok(ids)
}

/// `NetworkAuthentication.spec` → its networks.
pub(super) fn network_authentication(s: &wire::NetworkAuthenticationSpec) -> Result<IpSet, Fail> {
    let wire::NetworkAuthenticationSpec { networks: nets } = s;
    match nets.as_deref() {
        None | Some([]) => fail("spec.networks", Invalid::NoNetworks),
        Some(list) => networks(list, "spec.networks"),
    }
}

/// What an AuthorizationPolicy targets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Target {
    Server(String),
    Namespace,
    /// (kind lowercase: `httproute` / `grpcroute`, group lowercase, name).
    Route(String, String, String),
}

/// One `requiredAuthenticationRefs` entry.
#[derive(Clone, Debug)]
pub(super) enum AuthnRef {
    MeshTls(String, String),
    Network(String, String),
    ServiceAccount(String, String),
}

/// `AuthorizationPolicy.spec` → target and authentication references (resolved later), checked
/// in the webhook's order: the Namespace target, the counts of each authentication kind, the
/// unsupported kinds, then the target kind (`authorization_policy::validate`).
pub(super) fn authorization_policy(
    s: &wire::AuthorizationPolicySpec,
    ns: &str,
) -> Result<(Target, Vec<AuthnRef>), Fail> {
    let wire::AuthorizationPolicySpec {
        target_ref,
        required_authentication_refs,
    } = s;
    let Some(wire::TargetRef {
        group,
        kind,
        name,
        namespace: _, // a LocalTargetRef: the policy's own namespace
    }) = target_ref
    else {
        return fail("spec.targetRef", Invalid::Required);
    };
    let Some(refs) = required_authentication_refs else {
        return fail("spec.requiredAuthenticationRefs", Invalid::Required);
    };
    let group = group.as_deref();
    if targets_kind(group, kind, "core", "Namespace") && name != ns {
        return fail("spec.targetRef.name", Invalid::OtherNamespace(name.clone()));
    }
    let is = |r: &wire::TargetRef, g: &str, k: &str| targets_kind(r.group.as_deref(), &r.kind, g, k);
    let count = |g: &str, k: &str| refs.iter().filter(|r| is(r, g, k)).count();
    let (mtls, sas, nets) = (
        count("policy.linkerd.io", "MeshTLSAuthentication"),
        count("core", "ServiceAccount"),
        count("policy.linkerd.io", "NetworkAuthentication"),
    );
    let field = "spec.requiredAuthenticationRefs";
    match (mtls, sas, nets) {
        (2.., _, _) => return fail(field, Invalid::OnlyOne("MeshTLSAuthentication")),
        (_, 2.., _) => return fail(field, Invalid::OnlyOne("ServiceAccount")),
        (1, 1, _) => return fail(field, Invalid::MeshTlsAndServiceAccount),
        (_, _, 2..) => return fail(field, Invalid::OnlyOne("NetworkAuthentication")),
        _ => {}
    }
    let mut out = Vec::new();
    let mut unsupported = Vec::new();
    for r in refs {
        let wire::TargetRef {
            group: g,
            kind: k,
            name: n,
            namespace: rns,
        } = r;
        let rns = rns.clone().unwrap_or_else(|| ns.to_string());
        out.push(if is(r, "policy.linkerd.io", "MeshTLSAuthentication") {
            AuthnRef::MeshTls(rns, n.clone())
        } else if is(r, "policy.linkerd.io", "NetworkAuthentication") {
            AuthnRef::Network(rns, n.clone())
        } else if is(r, "core", "ServiceAccount") {
            AuthnRef::ServiceAccount(rns, n.clone())
        } else {
            unsupported.push(canonical_kind(g.as_deref(), k));
            continue;
        });
    }
    if !unsupported.is_empty() {
        return fail(field, Invalid::AuthenticationKinds(unsupported.join(", ")));
    }
    let target = if targets_kind(group, kind, "policy.linkerd.io", "Server") {
        Target::Server(name.clone())
    } else if targets_kind(group, kind, "core", "Namespace") {
        Target::Namespace
    } else if targets_kind(group, kind, "policy.linkerd.io", "HTTPRoute")
        || targets_kind(group, kind, "gateway.networking.k8s.io", "HTTPRoute")
    {
        Target::Route(
            "httproute".into(),
            group.unwrap_or("").to_ascii_lowercase(),
            name.clone(),
        )
    } else if targets_kind(group, kind, "gateway.networking.k8s.io", "GRPCRoute") {
        Target::Route(
            "grpcroute".into(),
            group.unwrap_or("").to_ascii_lowercase(),
            name.clone(),
        )
    } else {
        return fail("spec.targetRef", Invalid::TargetKind(canonical_kind(group, kind)));
    };
    Ok((target, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(cidr: &str, except: &[&str]) -> wire::Network {
        wire::Network {
            cidr: cidr.into(),
            except: Some(except.iter().map(|e| e.to_string()).collect()),
        }
    }

    #[test]
    fn networks_with_exceptions() {
        let n = networks(&[net("10.0.0.0/8", &["10.1.0.0/16"])], "networks").unwrap();
        let ip = |s: &str| Some(s.parse().unwrap());
        assert!(n.admits(ip("10.2.3.4")));
        assert!(!n.admits(ip("10.1.3.4")));
        assert!(!n.admits(ip("192.168.0.1")));
        // Unknown address: fail closed, except for "every network".
        assert!(!n.admits(None));
        assert!(IpSet::every().admits(None));
        let bad = networks(&[net("10.0.0.0/40", &[])], "networks").unwrap_err();
        assert_eq!(bad.field, "networks[0].cidr");
        let bad = networks(&[net("10.0.0.0/8", &["x"])], "networks").unwrap_err();
        assert_eq!(bad.field, "networks[0].except[0]");
    }

    /// The webhook's `validate_networks`: an exception inside its block, never all of it.
    #[test]
    fn exceptions_outside_or_covering_their_block_are_refused() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("10.1.1.0/24", "10.1.1.0/28", None),
            ("10.1.0.0/16", "10.1.1.1", None),
            ("10.1.1.0/24", "10.1.0.0/16", Some("is completely negated by exception")),
            ("10.1.1.0/24", "10.1.1.0/24", Some("is completely negated by exception")),
            ("10.1.1.0/24", "10.1.2.0/24", Some("does not include exception")),
            ("10.0.0.0/8", "fd00::/8", Some("does not include exception")),
        ];
        for (cidr, except, want) in cases {
            let got = networks(&[net(cidr, &[except])], "networks")
                .err()
                .map(|e| e.why.to_string());
            match (want, got) {
                (None, None) => {}
                (Some(w), Some(g)) => assert!(g.contains(w), "{cidr} except {except}: {g}"),
                (w, g) => panic!("{cidr} except {except}: expected {w:?}, got {g:?}"),
            }
        }
    }
}

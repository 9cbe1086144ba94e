//! Authorizations: who may talk to a Server or a route.
//!
//! Every Linkerd source of permission (ServerAuthorization, AuthorizationPolicy with its
//! authentications, a default policy, the proxy's built-in localhost permit) becomes one
//! [`Authz`]: a network test plus an authentication test, as the policy controller sends them
//! to the proxy (`policy-controller/grpc/src/inbound.rs` `to_authz`) and the proxy checks them
//! (`linkerd/app/inbound/src/policy`): the client address must be in `networks` (and in no
//! `except`), then `Unauthenticated` permits anyone, `TlsUnauthenticated` any TLS client,
//! `TlsAuthenticated` a client whose identity is listed. The first authorization that permits
//! names the decision.

use std::collections::HashMap;
use std::fmt;

use super::identity::{Client, Identities};
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::model::{Cidr, IpSet};

/// Where an authorization came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Source {
    /// A resource: its index in the layer's metas.
    Resource(usize),
    /// A default authorization: `default:all-unauthenticated`, `default:audit`,
    /// `default:localhost`...
    Default(&'static str),
}

/// How the client must authenticate.
#[derive(Clone, Debug)]
pub(super) enum Authn {
    /// Anyone (`unauthenticated: true`, or an AuthorizationPolicy without identities).
    Unauthenticated,
    /// Any TLS client (`meshTLS.unauthenticatedTLS`). Envoy tells this filter about a client
    /// certificate, not about a TLS session without one, so only clients with a valid
    /// certificate are known to be TLS clients here (fail closed).
    TlsUnauthenticated,
    /// A client whose identity matches.
    Identities(Box<Identities>),
}

/// One authorization.
#[derive(Clone, Debug)]
pub(super) struct Authz {
    pub source: Source,
    /// The client addresses it admits.
    pub networks: IpSet,
    pub authn: Authn,
}

/// Why an authorization did not permit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Miss {
    Network,
    NoAddress,
    NoIdentity,
    Identity,
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Miss::Network => "client address not in its networks",
            Miss::NoAddress => "client address unknown, and it admits only some networks (CLI: --source-ip)",
            Miss::NoIdentity => "client has no mesh identity",
            Miss::Identity => "client identity not listed",
        })
    }
}

impl Authz {
    /// Does the authorization permit the client?
    pub fn check(&self, c: &Client<'_>) -> Result<(), Miss> {
        if !self.networks.admits(c.ip) {
            return Err(if c.ip.is_none() { Miss::NoAddress } else { Miss::Network });
        }
        match &self.authn {
            Authn::Unauthenticated => Ok(()),
            Authn::TlsUnauthenticated if c.authenticated() => Ok(()),
            Authn::TlsUnauthenticated => Err(Miss::NoIdentity),
            Authn::Identities(_) if !c.authenticated() => Err(Miss::NoIdentity),
            Authn::Identities(ids) if ids.matches(c) => Ok(()),
            Authn::Identities(_) => Err(Miss::Identity),
        }
    }

    /// The default authorization of a default policy (`defaults.rs` `default_authzs`): `deny`
    /// has none; `audit` permits everyone (and is reported).
    pub fn default_policy(p: DefaultPolicy, cluster: &IpSet) -> Option<Authz> {
        let any_identity = || {
            let mut ids = Identities::default();
            ids.insert("*");
            Authn::Identities(Box::new(ids))
        };
        let (networks, authn) = match p {
            DefaultPolicy::Deny => return None,
            DefaultPolicy::Audit | DefaultPolicy::AllUnauthenticated => (IpSet::every(), Authn::Unauthenticated),
            DefaultPolicy::AllAuthenticated => (IpSet::every(), any_identity()),
            DefaultPolicy::ClusterUnauthenticated => (cluster.clone(), Authn::Unauthenticated),
            DefaultPolicy::ClusterAuthenticated => (cluster.clone(), any_identity()),
        };
        Some(Authz {
            source: Source::Default(p.name()),
            networks,
            authn,
        })
    }

    /// The proxy's built-in `default:localhost` authorization: "Always permit traffic from
    /// localhost" (linkerd2-proxy `server-policy/src/lib.rs`), appended to every Server's.
    pub fn localhost() -> Authz {
        let mut networks = IpSet::default();
        networks.insert(Cidr::host(Ipv4Addr::LOCALHOST.into()));
        networks.insert(Cidr::host(Ipv6Addr::LOCALHOST.into()));
        Authz {
            source: Source::Default("localhost"),
            networks,
            authn: Authn::Unauthenticated,
        }
    }
}

/// Linkerd's default policies (`--default-inbound-policy`, `Server.spec.accessPolicy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DefaultPolicy {
    AllUnauthenticated,
    AllAuthenticated,
    ClusterUnauthenticated,
    ClusterAuthenticated,
    Deny,
    Audit,
}

impl DefaultPolicy {
    /// Parses a policy name; the error lists the valid ones.
    pub fn parse(s: &str) -> Result<DefaultPolicy, String> {
        Ok(match s {
            "all-unauthenticated" => DefaultPolicy::AllUnauthenticated,
            "all-authenticated" => DefaultPolicy::AllAuthenticated,
            "cluster-unauthenticated" => DefaultPolicy::ClusterUnauthenticated,
            "cluster-authenticated" => DefaultPolicy::ClusterAuthenticated,
            "deny" => DefaultPolicy::Deny,
            "audit" => DefaultPolicy::Audit,
            _ => {
                return Err(format!(
                    "{s:?} is not a Linkerd policy (all-unauthenticated, all-authenticated, \
                     cluster-unauthenticated, cluster-authenticated, deny, audit)"
                ))
            }
        })
    }

    /// The policy's name.
    pub fn name(self) -> &'static str {
        match self {
            DefaultPolicy::AllUnauthenticated => "all-unauthenticated",
            DefaultPolicy::AllAuthenticated => "all-authenticated",
            DefaultPolicy::ClusterUnauthenticated => "cluster-unauthenticated",
            DefaultPolicy::ClusterAuthenticated => "cluster-authenticated",
            DefaultPolicy::Deny => "deny",
            DefaultPolicy::Audit => "audit",
        }
    }
}

/// An ordered list of authorizations, indexed by exact identity: a request evaluates only the
/// authorizations listing one of its names, plus those that no identity narrows.
#[derive(Clone, Debug, Default)]
pub(super) struct AuthzList {
    pub items: Vec<Authz>,
    by_identity: HashMap<Box<str>, Vec<u32>>,
    unindexed: Vec<u32>,
}

impl AuthzList {
    /// Builds the list and its index.
    pub fn new(items: Vec<Authz>) -> AuthzList {
        let mut l = AuthzList {
            items,
            ..AuthzList::default()
        };
        for (i, a) in l.items.iter().enumerate() {
            let i = i as u32;
            match &a.authn {
                Authn::Identities(ids) => match ids.exact_only() {
                    Some(names) => names.for_each(|n| l.by_identity.entry(n.into()).or_default().push(i)),
                    None => l.unindexed.push(i),
                },
                _ => l.unindexed.push(i),
            }
        }
        l
    }

    /// The first authorization (in list order) that permits the client: the lowest permitting
    /// id among the unindexed ones and those listing one of the client's names. Allocates
    /// nothing; an authorization is checked only when it would come before the best so far.
    pub fn first_permitting(&self, c: &Client<'_>) -> Option<&Authz> {
        let mut best: Option<u32> = None;
        // Every bucket is ascending, so its first permitting id is its lowest.
        let mut scan = |ids: &[u32]| {
            for &i in ids {
                if best.is_some_and(|b| i >= b) {
                    break;
                }
                if self.items.get(i as usize).is_some_and(|a| a.check(c).is_ok()) {
                    best = Some(i);
                    break;
                }
            }
        };
        scan(&self.unindexed);
        if !self.by_identity.is_empty() {
            if let Some(ids) = c.uri.and_then(|u| self.by_identity.get(u)) {
                scan(ids);
            }
            c.with_dns(|d| {
                if let Some(ids) = d.and_then(|d| self.by_identity.get(d)) {
                    scan(ids);
                }
            });
        }
        best.and_then(|i| self.items.get(i as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{Peer, Request};

    fn req(uri: Option<&str>, ip: &str) -> Request {
        let mut r = Request::new("GET", "/");
        if let Some(u) = uri {
            r.peer = Peer::from_uri_san(u);
        }
        r.source_ip = Some(ip.parse().unwrap());
        r
    }

    fn cluster() -> IpSet {
        IpSet::parse_all(["10.0.0.0/8", "fd00::/8"]).unwrap()
    }

    const WEB: &str = "spiffe://cluster.local/ns/emojivoto/sa/web";

    /// Every default policy, each with a client it permits and one it refuses.
    #[test]
    fn default_policies() {
        use DefaultPolicy::*;
        let cases: &[(DefaultPolicy, Option<&str>, &str, bool)] = &[
            (AllUnauthenticated, None, "203.0.113.9", true),
            (AllUnauthenticated, Some(WEB), "10.1.1.1", true),
            (AllAuthenticated, Some(WEB), "203.0.113.9", true),
            (AllAuthenticated, None, "10.1.1.1", false),
            (ClusterUnauthenticated, None, "10.1.1.1", true),
            (ClusterUnauthenticated, None, "203.0.113.9", false),
            (ClusterAuthenticated, Some(WEB), "10.1.1.1", true),
            (ClusterAuthenticated, Some(WEB), "203.0.113.9", false),
            (ClusterAuthenticated, None, "10.1.1.1", false),
            (Audit, None, "203.0.113.9", true),
        ];
        for (p, uri, ip, want) in cases {
            let a = Authz::default_policy(*p, &cluster()).unwrap();
            let r = req(*uri, ip);
            let c = Client::of(&r, "linkerd");
            assert_eq!(a.check(&c).is_ok(), *want, "{p:?} {uri:?} {ip}");
            assert_eq!(a.source, Source::Default(p.name()));
        }
        assert!(Authz::default_policy(Deny, &cluster()).is_none());
    }

    #[test]
    fn policy_names_round_trip() {
        for n in [
            "all-unauthenticated",
            "all-authenticated",
            "cluster-unauthenticated",
            "cluster-authenticated",
            "deny",
            "audit",
        ] {
            assert_eq!(DefaultPolicy::parse(n).unwrap().name(), n);
        }
        assert!(DefaultPolicy::parse("allow")
            .unwrap_err()
            .contains("all-unauthenticated"));
    }

    #[test]
    fn localhost_is_permitted_only_from_loopback() {
        let a = Authz::localhost();
        assert!(a.check(&Client::of(&req(None, "127.0.0.1"), "linkerd")).is_ok());
        assert!(a.check(&Client::of(&req(None, "::1"), "linkerd")).is_ok());
        assert_eq!(
            a.check(&Client::of(&req(None, "10.0.0.1"), "linkerd")),
            Err(Miss::Network)
        );
    }

    #[test]
    fn tls_unauthenticated_needs_a_certificate_here() {
        let a = Authz {
            source: Source::Resource(0),
            networks: IpSet::every(),
            authn: Authn::TlsUnauthenticated,
        };
        assert!(a.check(&Client::of(&req(Some(WEB), "10.0.0.1"), "linkerd")).is_ok());
        assert_eq!(
            a.check(&Client::of(&req(None, "10.0.0.1"), "linkerd")),
            Err(Miss::NoIdentity)
        );
    }

    #[test]
    fn list_finds_the_first_permitting_in_order() {
        let mk = |i: usize, id: &str| {
            let mut ids = Identities::default();
            ids.insert(id);
            Authz {
                source: Source::Resource(i),
                networks: IpSet::every(),
                authn: Authn::Identities(Box::new(ids)),
            }
        };
        let mut items: Vec<Authz> = (0..1000)
            .map(|i| mk(i, &format!("sa{i}.ns.serviceaccount.identity.linkerd.cluster.local")))
            .collect();
        items.push(mk(1000, "*.emojivoto.serviceaccount.identity.linkerd.cluster.local"));
        items.push(mk(1001, WEB));
        let l = AuthzList::new(items);
        let r = req(Some(WEB), "10.0.0.1");
        let c = Client::of(&r, "linkerd");
        assert_eq!(l.first_permitting(&c).map(|a| a.source), Some(Source::Resource(1000)));
        let r = req(Some("spiffe://cluster.local/ns/ns/sa/sa7"), "10.0.0.1");
        let c = Client::of(&r, "linkerd");
        assert_eq!(l.first_permitting(&c).map(|a| a.source), Some(Source::Resource(7)));
        let r = req(Some("spiffe://cluster.local/ns/x/sa/y"), "10.0.0.1");
        assert!(l.first_permitting(&Client::of(&r, "linkerd")).is_none());
    }
}

//! Who the client is, in Linkerd's terms: its identity names, its address.
//!
//! Linkerd names a meshed workload by a DNS-like identity,
//! `<sa>.<ns>.serviceaccount.identity.<control-plane-ns>.<trust-domain>`, and matches
//! `meshTLS.identities` against it exactly, or by suffix for `*.suffix` (`*` = any identity;
//! linkerd2-proxy `server-policy/src/authz.rs`: a suffix `[a, b]` is `name.ends_with(".a.b")`).
//! A SPIFFE peer `spiffe://<td>/ns/<ns>/sa/<sa>` is the same workload, so it answers to both
//! names: its URI (Linkerd also accepts SPIFFE URIs as identities, for mesh expansion) and its
//! DNS form. Exact identities live in a hash set; suffixes in the shared [`StringSet`].

use std::net::IpAddr;

use crate::model::{Cidr, StringMatch, StringSet};
use crate::request::Request;

/// The client as the authorizations see it, computed once per request.
pub(super) struct Client<'r> {
    /// The SPIFFE URI of a client with a valid certificate.
    pub uri: Option<&'r str>,
    /// Its Linkerd DNS-form identity, when the URI has the `/ns/<ns>/sa/<sa>` shape.
    pub dns: Option<String>,
    /// The connection's peer address.
    pub ip: Option<IpAddr>,
}

impl<'r> Client<'r> {
    /// The client of `req`, with DNS names under `control_plane_ns`.
    pub fn of(req: &'r Request, control_plane_ns: &str) -> Client<'r> {
        let id = req.peer.id();
        Client {
            uri: id.map(|id| id.as_str()),
            dns: id.and_then(|id| {
                Some(dns_identity(
                    id.service_account()?,
                    id.namespace()?,
                    control_plane_ns,
                    id.trust_domain(),
                ))
            }),
            ip: req.source_ip,
        }
    }

    /// Is the client authenticated (a valid SPIFFE certificate)?
    pub fn authenticated(&self) -> bool {
        self.uri.is_some()
    }
}

/// `<sa>.<ns>.serviceaccount.identity.<cp-ns>.<td>`: what Linkerd's identity controller puts in
/// a workload's certificate (policy-controller `ClusterInfo::service_account_identity`).
pub(super) fn dns_identity(sa: &str, ns: &str, control_plane_ns: &str, td: &str) -> String {
    format!("{sa}.{ns}.serviceaccount.identity.{control_plane_ns}.{td}")
}

/// A set of identity matches: exact names and `*.suffix` / `*` wildcards.
#[derive(Clone, Debug, Default)]
pub(super) struct Identities {
    set: StringSet,
}

impl Identities {
    /// Adds one `meshTLS.identities` entry as Linkerd parses it (`IdentityMatch::from_str`):
    /// `*` any, `*.a.b` suffix `.a.b`, anything else exact.
    pub fn insert(&mut self, v: &str) {
        let m = if v == "*" {
            StringMatch::Presence
        } else if let Some(s) = v.strip_prefix("*.") {
            StringMatch::Suffix(format!(".{s}"))
        } else {
            StringMatch::Exact(v.to_string())
        };
        self.set.insert(m);
    }

    /// Exact names only, when the set has no wildcard (used to index authorizations).
    pub fn exact_only(&self) -> Option<impl Iterator<Item = &str>> {
        self.set.exact_only()
    }

    /// Does either of the client's names match?
    pub fn matches(&self, c: &Client<'_>) -> bool {
        c.uri.is_some_and(|u| self.set.matches(u)) || c.dns.as_deref().is_some_and(|d| self.set.matches(d))
    }

    /// True when nothing was inserted.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// One `{cidr, except}` entry.
#[derive(Clone, Debug)]
pub(super) struct NetMatch {
    pub net: Cidr,
    pub except: Vec<Cidr>,
}

/// The client networks an authorization applies to.
#[derive(Clone, Debug)]
pub(super) enum Networks {
    /// Every address (`0.0.0.0/0` and `::/0`): holds even when the address is unknown.
    All,
    /// These blocks. An unknown client address is in none of them (fail closed).
    Some(Vec<NetMatch>),
}

impl Networks {
    /// The cluster networks (`settings.linkerd.clusterNetworks`), without exceptions: what a
    /// ServerAuthorization without `networks` and the `cluster-*` default policies admit.
    pub fn cluster(cluster: &[Cidr]) -> Networks {
        Networks::Some(
            cluster
                .iter()
                .map(|c| NetMatch {
                    net: *c,
                    except: Vec::new(),
                })
                .collect(),
        )
    }

    /// Parses `networks[]` entries, naming the bad field.
    pub fn parse<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a [String])>,
        field: &str,
    ) -> Result<Networks, (String, String)> {
        let mut out = Vec::new();
        for (i, (cidr, except)) in entries.into_iter().enumerate() {
            let net = Cidr::parse(cidr).map_err(|e| (format!("{field}[{i}].cidr"), e))?;
            let except = except
                .iter()
                .enumerate()
                .map(|(j, e)| Cidr::parse(e).map_err(|m| (format!("{field}[{i}].except[{j}]"), m)))
                .collect::<Result<Vec<_>, _>>()?;
            out.push(NetMatch { net, except });
        }
        Ok(Networks::Some(out))
    }

    /// Is the client address in the networks (and in none of their exceptions)?
    pub fn contains(&self, ip: Option<IpAddr>) -> bool {
        match self {
            Networks::All => true,
            Networks::Some(nets) => ip.is_some_and(|ip| {
                nets.iter()
                    .any(|n| n.net.contains(ip) && !n.except.iter().any(|e| e.contains(ip)))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Peer;

    fn client(uri: Option<&str>, ip: Option<&str>) -> Request {
        let mut r = Request::new("GET", "/");
        if let Some(u) = uri {
            r.peer = Peer::from_uri_san(u);
        }
        r.source_ip = ip.map(|s| s.parse().unwrap());
        r
    }

    fn ids(vs: &[&str]) -> Identities {
        let mut s = Identities::default();
        vs.iter().for_each(|v| s.insert(v));
        s
    }

    #[test]
    fn spiffe_peers_answer_to_their_dns_form() {
        let r = client(Some("spiffe://cluster.local/ns/emojivoto/sa/web"), None);
        let c = Client::of(&r, "linkerd");
        assert_eq!(
            c.dns.as_deref(),
            Some("web.emojivoto.serviceaccount.identity.linkerd.cluster.local")
        );
        let cases: &[(&[&str], bool)] = &[
            (&["web.emojivoto.serviceaccount.identity.linkerd.cluster.local"], true),
            (&["spiffe://cluster.local/ns/emojivoto/sa/web"], true),
            (&["*.emojivoto.serviceaccount.identity.linkerd.cluster.local"], true),
            (&["*.cluster.local"], true),
            (&["*"], true),
            (
                &["vote-bot.emojivoto.serviceaccount.identity.linkerd.cluster.local"],
                false,
            ),
            (&["*.other.serviceaccount.identity.linkerd.cluster.local"], false),
            // A suffix needs the dot: `*.local` is `.local`, never `xlocal`.
            (&["*.ocal"], false),
            (
                &["web.emojivoto.serviceaccount.identity.linkerd-alt.cluster.local"],
                false,
            ),
        ];
        for (set, want) in cases {
            assert_eq!(ids(set).matches(&c), *want, "{set:?}");
        }
    }

    #[test]
    fn other_control_plane_namespace_changes_the_name() {
        let r = client(Some("spiffe://cluster.local/ns/a/sa/b"), None);
        let c = Client::of(&r, "linkerd-alt");
        assert!(ids(&["b.a.serviceaccount.identity.linkerd-alt.cluster.local"]).matches(&c));
        assert!(!ids(&["b.a.serviceaccount.identity.linkerd.cluster.local"]).matches(&c));
    }

    #[test]
    fn non_kubernetes_ids_match_by_uri_only() {
        let r = client(Some("spiffe://example.org/vm/legacy"), None);
        let c = Client::of(&r, "linkerd");
        assert!(c.dns.is_none());
        assert!(ids(&["spiffe://example.org/vm/legacy"]).matches(&c));
        assert!(ids(&["*"]).matches(&c));
        assert!(!ids(&["*.example.org"]).matches(&c));
    }

    #[test]
    fn unauthenticated_clients_match_no_identity() {
        let r = client(None, None);
        let c = Client::of(&r, "linkerd");
        assert!(!c.authenticated());
        assert!(!ids(&["*"]).matches(&c));
    }

    #[test]
    fn networks_with_exceptions() {
        let ex = ["10.1.0.0/16".to_string()];
        let n = Networks::parse([("10.0.0.0/8", &ex[..])], "networks").unwrap();
        let ip = |s: &str| Some(s.parse().unwrap());
        assert!(n.contains(ip("10.2.3.4")));
        assert!(!n.contains(ip("10.1.3.4")));
        assert!(!n.contains(ip("192.168.0.1")));
        // Unknown address: fail closed, except for "every network".
        assert!(!n.contains(None));
        assert!(Networks::All.contains(None));
        let bad = Networks::parse([("10.0.0.0/40", &[][..])], "networks").unwrap_err();
        assert_eq!(bad.0, "networks[0].cidr");
    }
}

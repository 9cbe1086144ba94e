//! Who the client is, in Linkerd's terms: its identity names, its address.
//!
//! Linkerd names a meshed workload by a DNS-like identity,
//! `<sa>.<ns>.serviceaccount.identity.<control-plane-ns>.<trust-domain>`, and matches
//! `meshTLS.identities` against it exactly, or by suffix for `*.suffix` (`*` = any identity;
//! linkerd2-proxy `server-policy/src/authz.rs`: a suffix `[a, b]` is `name.ends_with(".a.b")`).
//! A SPIFFE peer `spiffe://<td>/ns/<ns>/sa/<sa>` is the same workload, so it answers to both
//! names: its URI (Linkerd also accepts SPIFFE URIs as identities, for mesh expansion) and its
//! DNS form. As in the proxy (`inbound/src/policy.rs` `is_tls_authorized`), a URI matches
//! exact identities only: `*` and `*.suffix` apply to DNS names, so a SPIFFE ID without the
//! Kubernetes shape (no Linkerd name) is never "any identity".

use std::net::IpAddr;

use crate::model::{with_concat, StringMatch, StringSet};
use crate::request::Request;

/// The client as the authorizations see it.
pub(super) struct Client<'r> {
    /// The SPIFFE URI of a client with a valid certificate.
    pub uri: Option<&'r str>,
    /// The pieces of its Linkerd DNS-form identity, when the URI has the `/ns/<ns>/sa/<sa>`
    /// shape: the name itself is built (on the stack) only when a test reads it.
    dns: Option<[&'r str; 7]>,
    /// The connection's peer address.
    pub ip: Option<IpAddr>,
}

impl<'r> Client<'r> {
    /// The client of `req`, with DNS names under `control_plane_ns`.
    pub fn of(req: &'r Request, control_plane_ns: &'r str) -> Client<'r> {
        let id = req.peer.id();
        Client {
            uri: id.map(|id| id.as_str()),
            dns: id.and_then(|id| {
                Some(dns_parts(
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

    /// Calls `f` with the client's DNS-form identity, if it has one.
    pub fn with_dns<R>(&self, f: impl FnOnce(Option<&str>) -> R) -> R {
        match &self.dns {
            Some(parts) => with_concat(parts, |d| f(Some(d))),
            None => f(None),
        }
    }

    /// The DNS-form identity, owned (for `explain`).
    pub fn dns(&self) -> Option<String> {
        self.dns.map(|parts| parts.concat())
    }
}

/// `<sa>.<ns>.serviceaccount.identity.<cp-ns>.<td>`, in pieces.
fn dns_parts<'a>(sa: &'a str, ns: &'a str, control_plane_ns: &'a str, td: &'a str) -> [&'a str; 7] {
    [sa, ".", ns, ".serviceaccount.identity.", control_plane_ns, ".", td]
}

/// `<sa>.<ns>.serviceaccount.identity.<cp-ns>.<td>`: what Linkerd's identity controller puts in
/// a workload's certificate (policy-controller `ClusterInfo::service_account_identity`).
pub(super) fn dns_identity(sa: &str, ns: &str, control_plane_ns: &str, td: &str) -> String {
    dns_parts(sa, ns, control_plane_ns, td).concat()
}

/// A set of identity matches: exact names and `*.suffix` / `*` wildcards.
#[derive(Clone, Debug, Default)]
pub(super) struct Identities {
    exact: StringSet,
    /// `*` and `*.suffix`: for DNS names only.
    wildcards: StringSet,
}

impl Identities {
    /// Adds one `meshTLS.identities` entry as Linkerd parses it (`IdentityMatch::from_str`):
    /// `*` any, `*.a.b` suffix `.a.b`, anything else exact.
    pub fn insert(&mut self, v: &str) {
        if v == "*" {
            self.wildcards.insert(StringMatch::Presence);
        } else if let Some(s) = v.strip_prefix("*.") {
            self.wildcards.insert(StringMatch::Suffix(format!(".{s}")));
        } else {
            self.exact.insert(StringMatch::Exact(v.to_string()));
        }
    }

    /// Exact names only, when the set has no wildcard (used to index authorizations).
    pub fn exact_only(&self) -> Option<impl Iterator<Item = &str>> {
        self.wildcards.is_empty().then(|| self.exact.exact_only()).flatten()
    }

    /// Does the client's URI match exactly, or its DNS name exactly or by a wildcard?
    pub fn matches(&self, c: &Client<'_>) -> bool {
        c.uri.is_some_and(|u| self.exact.matches(u))
            || c.with_dns(|d| d.is_some_and(|d| self.exact.matches(d) || self.wildcards.matches(d)))
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
            c.dns().as_deref(),
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
        assert!(c.dns().is_none());
        assert!(ids(&["spiffe://example.org/vm/legacy"]).matches(&c));
        // `*` is a suffix, and suffixes apply to DNS identities only (`is_tls_authorized`).
        assert!(!ids(&["*"]).matches(&c));
        assert!(!ids(&["*.example.org"]).matches(&c));
        assert!(!ids(&["*.vm/legacy"]).matches(&c));
    }

    #[test]
    fn unauthenticated_clients_match_no_identity() {
        let r = client(None, None);
        let c = Client::of(&r, "linkerd");
        assert!(!c.authenticated());
        assert!(!ids(&["*"]).matches(&c));
    }
}

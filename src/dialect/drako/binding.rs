//! DrakoPolicyBinding selection (which binding applies to a request; `paths` are in
//! [`super::paths`]) and client authentication (`clientAuthenticationModes`), as Drako's
//! `crd/DrakoPolicyBinding` page describes them.

use super::paths::Routes;
use crate::model::HostPattern;
use crate::request::{Peer, Request};
use crate::spiffe::SpiffeId;

/// `destinationHosts[]`: a hostname (compared exactly, ignoring case) and, optionally, a port.
#[derive(Clone, Debug)]
pub(super) struct Host {
    pub name: HostPattern,
    pub port: Option<u16>,
}

/// The request-side tests of a binding other than its `paths`, which the layer indexes.
#[derive(Debug, Default)]
pub(super) struct Selector {
    pub exclude: Option<Routes>,
    pub methods: Option<Vec<String>>,
    pub hosts: Option<Vec<Host>>,
}

/// Why a binding (found by path) does not select a request.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Miss {
    Excluded,
    Method,
    Host,
}

impl Selector {
    /// The first test that fails, if any.
    pub fn miss(&self, req: &Request) -> Option<Miss> {
        if self.exclude.as_ref().is_some_and(|x| x.matches(&req.path)) {
            return Some(Miss::Excluded);
        }
        if self.methods.as_ref().is_some_and(|ms| !ms.contains(&req.method)) {
            return Some(Miss::Method);
        }
        if let Some(hosts) = &self.hosts {
            let port = request_port(req);
            if !hosts
                .iter()
                .any(|h| h.name.matches(&req.host) && h.port.is_none_or(|p| p == port))
            {
                return Some(Miss::Host);
            }
        }
        None
    }
}

/// The port a `destinationHosts[].port` is compared with: the `:authority` port, else, as Drako
/// documents, the scheme's default ("HTTPS: 443, HTTP: 80"), the scheme read from `:scheme`.
pub(super) fn request_port(req: &Request) -> u16 {
    req.host_port.unwrap_or_else(|| {
        if req.header_values(":scheme").any(|s| s.eq_ignore_ascii_case("https")) {
            443
        } else {
            80
        }
    })
}

/// The binding's `clientAuthenticationModes` (default `[SpiffeId, Oauth2ClientId]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Modes {
    pub spiffe: bool,
    pub oauth2: bool,
    pub none: bool,
}

impl Default for Modes {
    fn default() -> Self {
        Modes {
            spiffe: true,
            oauth2: true,
            none: false,
        }
    }
}

/// The outcome of client authentication.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ClientAuth<'r> {
    /// `SpiffeId` succeeded: the authenticated client identifier.
    Spiffe(&'r SpiffeId),
    /// Every other mode was skipped and `None` is enabled: no client identifier.
    Bypassed,
    /// No mode succeeded.
    Failed(&'static str),
}

impl Modes {
    /// Drako: "Client authentication will be successful if at least one client authentication
    /// mode (including `None`) is not skipped and Drako successfully authenticates the client with
    /// that authentication mode."
    /// - `SpiffeId` is skipped unless the peer's principal starts with `spiffe://`; then it must
    ///   be `spiffe://<cluster>/ns/<namespace>/sa/<service-account>`.
    /// - `Oauth2ClientId` is skipped without an `authorization` header; with one, Drako validates
    ///   the bearer token, which this filter cannot: the mode is attempted and fails (so it also
    ///   keeps `None` from bypassing, as an invalid token would in Drako).
    /// - `None` applies when every other mode was skipped.
    pub fn authenticate<'r>(&self, req: &'r Request) -> ClientAuth<'r> {
        let mut attempted = false;
        if self.spiffe {
            match &req.peer {
                Peer::Spiffe(id) if id.service_account().is_some() => return ClientAuth::Spiffe(id),
                // A `spiffe://` principal Drako would try and fail to authenticate.
                Peer::Spiffe(_) | Peer::InvalidSpiffe => attempted = true,
                Peer::Unauthenticated => {}
            }
        }
        let bearer = self.oauth2 && req.header_values("authorization").next().is_some();
        if !attempted && !bearer && self.none {
            return ClientAuth::Bypassed;
        }
        ClientAuth::Failed(match (attempted, bearer) {
            (true, _) => "the client's SPIFFE ID is not shaped spiffe://<td>/ns/<ns>/sa/<sa>",
            (false, true) => "the bearer token (Oauth2ClientId) cannot be validated in-proxy, and no other client authentication mode succeeded",
            (false, false) => "no client identifier: every clientAuthenticationMode was skipped (no SPIFFE client certificate, no token) and None is not enabled",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_sel(hs: &[(&str, Option<u16>)]) -> Selector {
        Selector {
            hosts: Some(
                hs.iter()
                    .map(|(n, p)| Host {
                        name: HostPattern::exact(n),
                        port: *p,
                    })
                    .collect(),
            ),
            ..Selector::default()
        }
    }

    fn req_at(authority: &str, scheme: Option<&str>) -> Request {
        let mut r = Request::new("GET", "/");
        r.set_authority(authority);
        if let Some(s) = scheme {
            r.add_header(":scheme", s);
        }
        r
    }

    #[test]
    fn hosts_match_case_insensitively_with_optional_ports() {
        let any_port = host_sel(&[("svc.example", None)]);
        assert_eq!(any_port.miss(&req_at("SVC.Example:8080", None)), None);
        assert_eq!(any_port.miss(&req_at("other.example", None)), Some(Miss::Host));
        let port = host_sel(&[("svc", Some(35002))]);
        assert_eq!(port.miss(&req_at("svc:35002", None)), None);
        assert_eq!(port.miss(&req_at("svc:35003", None)), Some(Miss::Host));
        assert_eq!(port.miss(&req_at("svc", None)), Some(Miss::Host));
        let https = host_sel(&[("svc", Some(443))]);
        assert_eq!(https.miss(&req_at("svc", Some("https"))), None);
        assert_eq!(https.miss(&req_at("svc", Some("http"))), Some(Miss::Host));
        let http = host_sel(&[("svc", Some(80))]);
        assert_eq!(http.miss(&req_at("svc", None)), None);
    }

    #[test]
    fn methods_and_excludes() {
        let s = Selector {
            exclude: Some(Routes::new(&["/api/v1".into(), "/api/v1/*".into()]).unwrap()),
            methods: Some(vec!["GET".into()]),
            hosts: None,
        };
        assert_eq!(s.miss(&Request::new("GET", "/api/v2")), None);
        assert_eq!(s.miss(&Request::new("GET", "/api/v1/x")), Some(Miss::Excluded));
        assert_eq!(s.miss(&Request::new("POST", "/api/v2")), Some(Miss::Method));
    }

    fn peer(r: &mut Request, uri: &str) {
        r.peer = Peer::from_uri_san(uri);
    }

    #[test]
    fn client_authentication_modes() {
        let spiffe_only = Modes {
            spiffe: true,
            oauth2: false,
            none: false,
        };
        let with_none = Modes {
            spiffe: true,
            oauth2: false,
            none: true,
        };
        let all = Modes {
            spiffe: true,
            oauth2: true,
            none: true,
        };
        let mut r = Request::new("GET", "/");
        // No certificate: SpiffeId is skipped.
        assert!(matches!(spiffe_only.authenticate(&r), ClientAuth::Failed(_)));
        assert_eq!(with_none.authenticate(&r), ClientAuth::Bypassed);
        // A bearer token keeps None from bypassing: Oauth2ClientId is attempted and fails.
        r.add_header("authorization", "Bearer x");
        assert!(matches!(all.authenticate(&r), ClientAuth::Failed(_)));
        assert_eq!(with_none.authenticate(&r), ClientAuth::Bypassed);
        // A well-formed SPIFFE ID authenticates.
        peer(&mut r, "spiffe://cluster.local/ns/foo/sa/svc");
        assert!(matches!(spiffe_only.authenticate(&r), ClientAuth::Spiffe(_)));
        assert!(matches!(all.authenticate(&r), ClientAuth::Spiffe(_)));
        // A SPIFFE ID of another shape fails, and None does not rescue it.
        peer(&mut r, "spiffe://cluster.local/workload/x");
        assert!(matches!(with_none.authenticate(&r), ClientAuth::Failed(_)));
        // SpiffeId not enabled: the certificate is ignored.
        peer(&mut r, "spiffe://cluster.local/ns/foo/sa/svc");
        let none_only = Modes {
            spiffe: false,
            oauth2: false,
            none: true,
        };
        assert_eq!(none_only.authenticate(&r), ClientAuth::Bypassed);
    }
}

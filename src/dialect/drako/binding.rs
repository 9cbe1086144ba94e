//! DrakoPolicyBinding selection (which binding applies to a request) and client authentication
//! (`clientAuthenticationModes`), as Drako's `crd/DrakoPolicyBinding` page describes them.

use crate::model::{PathPattern, PathSet, Seg};
use crate::request::{Peer, Request};
use crate::spiffe::SpiffeId;

/// Drako's path syntax (path-tree's): a segment `:` (or `:name`) is one segment, `*` (or
/// `:name*`) zero or more segments, `+` (or `:name+`) one or more; a trailing `*` glued to a
/// literal (`/api/v1/videos*`) matches any continuation, as Drako's docs warn. Everything else is
/// matched character for character.
pub(super) fn path_pattern(p: &str) -> Result<PathPattern, String> {
    let Some(rest) = p.strip_prefix('/') else {
        return Err(format!("{p:?} must start with `/`"));
    };
    let raw: Vec<&str> = rest.split('/').collect();
    let mut segs = Vec::with_capacity(raw.len());
    let mut wild = false;
    for (i, s) in raw.iter().enumerate() {
        let param = |s: &str| {
            s.strip_prefix(':')
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        };
        let seg = match *s {
            "*" => Seg::Rest { min: 0 },
            "+" => Seg::Rest { min: 1 },
            s if param(s) => Seg::One,
            s if s.len() > 1 && param(&s[..s.len() - 1]) && s.ends_with('*') => Seg::Rest { min: 0 },
            s if s.len() > 1 && param(&s[..s.len() - 1]) && s.ends_with('+') => Seg::Rest { min: 1 },
            s if i + 1 == raw.len() && !wild && s.len() > 1 && s.ends_with('*') && plain(&s[..s.len() - 1]) => {
                return Ok(PathPattern::Prefix(p[..p.len() - 1].to_string()));
            }
            s if plain(s) => Seg::Lit(s.into()),
            s => {
                return Err(format!(
                    "{p:?}: segment {s:?} mixes text with a parameter (`:`, `*`, `+`, `?`, `\\`); only whole-segment `:`, `*`, `+` are supported in-proxy"
                ))
            }
        };
        wild |= !matches!(seg, Seg::Lit(_));
        segs.push(seg);
    }
    Ok(if wild {
        PathPattern::Segments(segs)
    } else {
        PathPattern::Exact(p.to_string())
    })
}

fn plain(s: &str) -> bool {
    !s.contains([':', '*', '+', '?', '\\'])
}

/// `destinationHosts[]`: a lowercase hostname and, optionally, a port.
#[derive(Clone, Debug)]
pub(super) struct Host {
    pub name: String,
    pub port: Option<u16>,
}

/// The request-side tests of a binding other than its `paths`, which the layer indexes.
#[derive(Debug, Default)]
pub(super) struct Selector {
    pub exclude: Option<PathSet>,
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
                .any(|h| h.name == req.host && h.port.is_none_or(|p| p == port))
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
            if let Peer::Spiffe(id) = &req.peer {
                if id.service_account().is_some() {
                    return ClientAuth::Spiffe(id);
                }
                attempted = true;
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

    fn segs(p: &str) -> PathPattern {
        path_pattern(p).unwrap()
    }

    #[test]
    fn paths_match_as_drako_documents() {
        let cases: &[(&str, &str, bool)] = &[
            ("/api/v1/videos", "/api/v1/videos", true),
            ("/api/v1/videos", "/api/v1/videos/x", false),
            ("/api/v1/videos/:", "/api/v1/videos/dQw4w9WgXcQ", true),
            ("/api/v1/videos/:", "/api/v1/videos", false),
            ("/api/v1/videos/:", "/api/v1/videos/a/b", false),
            ("/user/:id/profile", "/user/7/profile", true),
            ("/user/*/profile", "/user/profile", true),
            ("/user/*/profile", "/user/a/b/profile", true),
            ("/user/*/profile", "/user/a/b/other", false),
            ("/api/*", "/api", true),
            ("/api/*", "/api/v3/user", true),
            ("/api/*", "/apix", false),
            ("/api/+", "/api", false),
            ("/api/+", "/api/v2", true),
            ("/api/+", "/api/v2/x", true),
            ("/api/:rest*", "/api", true),
            ("/api/:rest+", "/api", false),
            ("/api/v1/videos*", "/api/v1/videos-drop-table-comments", true),
            ("/api/v1/videos*", "/api/v1/video", false),
            ("/", "/", true),
            ("/", "/x", false),
        ];
        for (p, path, want) in cases {
            assert_eq!(segs(p).matches(path), *want, "{p} vs {path}");
        }
    }

    #[test]
    fn unsupported_paths_are_refused() {
        for bad in ["api", "/a/:x?", "/a/b:c", "/a/x+y", "/a/*/b*", "/a/\\:"] {
            assert!(path_pattern(bad).is_err(), "{bad}");
        }
    }

    fn host_sel(hs: &[(&str, Option<u16>)]) -> Selector {
        Selector {
            hosts: Some(
                hs.iter()
                    .map(|(n, p)| Host {
                        name: n.to_string(),
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
            exclude: Some(PathSet::from_patterns(&[segs("/api/v1"), segs("/api/v1/*")])),
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

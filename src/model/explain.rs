//! Why a predicate does or does not hold, in words a policy author can act on (for
//! `spiffe-authz explain`). Never on the request path: the filter only calls `matches`.

use super::{PathPattern, Pred, Seg, StringSet};
use crate::request::Request;

impl Pred {
    /// `None` when the predicate holds for `r`; otherwise the first test that fails, with the
    /// request's value (`method GET is not one of [POST]`).
    pub fn why_not(&self, r: &Request) -> Option<String> {
        (!self.matches(r)).then(|| self.failure(r))
    }

    fn failure(&self, r: &Request) -> String {
        let id = r.peer.id();
        let none = "none (no SPIFFE client certificate)";
        match self {
            Pred::Never => "can never match".into(),
            Pred::Principal(s) => format!("principal {} {}", id.map_or(none, |i| i.as_str()), not_in(s)),
            Pred::Namespace(s) => format!(
                "peer namespace {} {}",
                id.and_then(|i| i.namespace()).unwrap_or("none"),
                not_in(s)
            ),
            Pred::ServiceAccount(s) => match id.and_then(|i| Some((i.namespace()?, i.service_account()?))) {
                Some((ns, sa)) => format!("peer service account {ns}/{sa} {}", not_in(s)),
                None => "the peer has no Kubernetes service account identity".into(),
            },
            Pred::SourceIp(_) | Pred::SourceIpOrUnknown(_) => {
                format!("source address {} is not in the listed blocks", ip(r.source_ip))
            }
            Pred::RemoteIp(_) => format!(
                "remote address {} is not in the listed blocks",
                ip(r.remote_ip.or(r.source_ip))
            ),
            Pred::DestinationIp(_) => format!(
                "destination address {} is not in the listed blocks",
                ip(r.destination_ip)
            ),
            Pred::Id(t) => format!(
                "the {} of peer {} is not listed",
                t.what(),
                id.map_or(none, |i| i.as_str())
            ),
            Pred::Host(s) => format!("authority {:?} {}", r.authority, listed(s.exact_only(), s.len())),
            Pred::Port(ps) => format!(
                "port {} is not one of {ps:?}",
                r.port.map_or("unknown".into(), |p| p.to_string())
            ),
            Pred::Method(s) => format!("method {} {}", r.method, not_in(s)),
            Pred::Path(_, ps) => format!("path {} matches none of [{}]", r.path, patterns(ps)),
            Pred::Header(name, s) | Pred::HeaderValues(name, s, _) => {
                let vs: Vec<&str> = r.header_values(name).collect();
                if vs.is_empty() {
                    format!("header {name} is absent")
                } else {
                    format!("header {name} {vs:?} {}", not_in(s))
                }
            }
            Pred::Sni(s) => format!("SNI {} {}", r.sni.as_deref().unwrap_or("none"), not_in(s)),
            Pred::Jwt(_, _) if r.jwt.is_none() => "the request has no validated JWT".into(),
            Pred::Jwt(f, s) => format!("{} {}", f.describe(r), not_in(s)),
            Pred::JwtPrincipal(_) => format!("JWT principal {} is not listed", jwt_principal(r)),
            Pred::Metadata(t) => format!("metadata {} = {:?} is not listed", t.name(), t.value(r)),
            Pred::Not(p) => format!("excluded by a negative field: {}", p.holding(r)),
            Pred::All(ps) => ps
                .iter()
                .find_map(|p| p.why_not(r))
                .unwrap_or_else(|| "a test did not hold".into()),
            Pred::Any(ps) => {
                let alts: Vec<String> = ps.iter().filter_map(|p| p.why_not(r)).take(3).collect();
                let more = if ps.len() > 3 { " / ..." } else { "" };
                format!("no alternative holds: {}{more}", alts.join(" / "))
            }
            Pred::Always => "always holds".into(),
        }
    }

    /// What holds, for a negated test that excluded the request.
    fn holding(&self, r: &Request) -> String {
        let id = r.peer.id();
        match self {
            Pred::Principal(_) => format!("principal {} is listed", id.map_or("", |i| i.as_str())),
            Pred::Namespace(_) => format!(
                "peer namespace {} is listed",
                id.and_then(|i| i.namespace()).unwrap_or("")
            ),
            Pred::ServiceAccount(_) => "the peer's service account is listed".into(),
            Pred::Id(t) => format!("the {} of peer {} is listed", t.what(), id.map_or("", |i| i.as_str())),
            Pred::Host(_) => format!("authority {:?} is listed", r.authority),
            Pred::Method(_) => format!("method {} is listed", r.method),
            Pred::Path(_, ps) => format!("path {} matches one of [{}]", r.path, patterns(ps)),
            Pred::Port(_) => format!("port {} is listed", r.port.unwrap_or(0)),
            Pred::SourceIp(_) | Pred::RemoteIp(_) | Pred::DestinationIp(_) => "the address is listed".into(),
            Pred::SourceIpOrUnknown(_) if r.source_ip.is_none() => {
                "the peer address is unknown (X-Forwarded-For chose source.address)".into()
            }
            Pred::SourceIpOrUnknown(_) => "the address is listed".into(),
            Pred::Header(n, _) | Pred::HeaderValues(n, _, _) => format!("header {n} has a listed value"),
            Pred::Jwt(f, _) => format!("{} is listed", f.describe(r)),
            Pred::JwtPrincipal(_) => format!("JWT principal {} is listed", jwt_principal(r)),
            Pred::Metadata(t) => format!("metadata {} is listed", t.name()),
            Pred::All(ps) if ps.len() == 1 => ps.iter().map(|p| p.holding(r)).collect(),
            _ => "the negated test holds".into(),
        }
    }
}

/// `iss/sub` of the request's JWT, for `explain`.
fn jwt_principal(r: &Request) -> String {
    let text = |k: &str| r.jwt.as_ref().and_then(|p| p.get(k)?.as_str()).unwrap_or("?");
    match r.jwt {
        Some(_) => format!("{}/{}", text("iss"), text("sub")),
        None => "none (no validated JWT)".into(),
    }
}

fn ip(a: Option<std::net::IpAddr>) -> String {
    a.map_or("unknown".into(), |a| a.to_string())
}

/// `is not one of [a, b]` when the set is small and exact, else `is not among the N listed`.
fn not_in(s: &StringSet) -> String {
    listed(s.exact_only(), s.len())
}

fn listed<'a>(exact: Option<impl Iterator<Item = &'a str>>, len: usize) -> String {
    match exact.map(|i| i.collect::<Vec<_>>()) {
        Some(mut vs) if vs.len() <= 4 => {
            vs.sort_unstable();
            format!("is not one of {vs:?}")
        }
        _ => format!("is not among the {len} listed"),
    }
}

fn patterns(ps: &[PathPattern]) -> String {
    let one = |p: &PathPattern| match p {
        PathPattern::Exact(s) => s.clone(),
        PathPattern::Prefix(s) => format!("{s}*"),
        PathPattern::Suffix(s) => format!("*{s}"),
        PathPattern::Any => "*".into(),
        PathPattern::Segments(segs) => segs
            .iter()
            .map(|s| match s {
                Seg::Lit(l) => format!("/{l}"),
                Seg::One => "/{*}".into(),
                Seg::Rest => "/{**}".into(),
            })
            .collect(),
    };
    ps.iter().map(one).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StringMatch;
    use crate::request::Peer;

    fn req() -> Request {
        let mut r = Request::new("GET", "/pay");
        r.peer = Peer::from_uri_san("spiffe://cluster.local/ns/orders/sa/orders");
        r
    }

    #[test]
    fn holding_predicates_have_no_reason() {
        let p = Pred::Method(StringSet::from_matches([StringMatch::Exact("GET".into())]));
        assert_eq!(p.why_not(&req()), None);
    }

    #[test]
    fn failing_leaf_names_the_value_and_the_set() {
        let p = Pred::all(vec![
            Pred::Namespace(StringSet::from_matches([StringMatch::Exact("orders".into())])),
            Pred::Method(StringSet::from_matches([StringMatch::Exact("POST".into())])),
        ]);
        assert_eq!(p.why_not(&req()).unwrap(), "method GET is not one of [\"POST\"]");
        let p = Pred::path(vec![PathPattern::Segments(vec![Seg::Lit("refunds".into()), Seg::One])]);
        assert_eq!(p.why_not(&req()).unwrap(), "path /pay matches none of [/refunds/{*}]");
    }

    /// Istio `hosts`: a small exact set is listed by name, a set with a wildcard or more than
    /// four hosts by count (kills the `AuthoritySet::len` / `exact_only` mutants of issue 17).
    #[test]
    fn hosts_name_the_authority_and_the_listed_hosts() {
        let hosts = |vs: &[&str]| {
            let mut s = crate::model::AuthoritySet::default();
            for v in vs {
                s.insert_istio(v);
            }
            Pred::Host(Box::new(s))
        };
        let mut r = req();
        r.authority = "c.com".into();
        assert_eq!(
            hosts(&["B.com", "a.com"]).why_not(&r).unwrap(),
            "authority \"c.com\" is not one of [\"a.com\", \"b.com\"]"
        );
        assert_eq!(
            hosts(&["a.com", "*.b.com", "d.com"]).why_not(&r).unwrap(),
            "authority \"c.com\" is not among the 3 listed"
        );
        assert_eq!(
            hosts(&["a.com", "b.com", "d.com", "e.com", "f.com"])
                .why_not(&r)
                .unwrap(),
            "authority \"c.com\" is not among the 5 listed"
        );
    }

    #[test]
    fn negative_fields_say_what_excluded_the_request() {
        let p = Pred::negate(Pred::Namespace(StringSet::from_matches([StringMatch::Exact(
            "orders".into(),
        )])));
        assert_eq!(
            p.why_not(&req()).unwrap(),
            "excluded by a negative field: peer namespace orders is listed"
        );
        let mut anon = req();
        anon.peer = Peer::Unauthenticated;
        let p = Pred::Principal(StringSet::from_matches([StringMatch::Presence]));
        assert!(p.why_not(&anon).unwrap().starts_with("principal none"));
    }
}

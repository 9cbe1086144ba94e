//! Host patterns and Istio authority sets: every kind's boundaries, its specificity score, the
//! set's bookkeeping.

use super::*;

#[test]
fn gateway_wildcards_are_whole_leading_labels_only() {
    // `*.` is `*` once trailing dots are gone: no empty label to stand for.
    for bad in ["*.", "*..", "*.*.com", "*.a*.com", "a*.com", "*"] {
        assert!(HostPattern::parse_gateway(bad).is_err(), "{bad}");
    }
    assert_eq!(
        HostPattern::parse_gateway("*.a.com"),
        Ok(HostPattern::Subdomain(".a.com".into()))
    );
    assert_eq!(
        HostPattern::parse_gateway("*.a"),
        Ok(HostPattern::Subdomain(".a".into()))
    );
    assert_eq!(
        HostPattern::parse_gateway("A.com."),
        Ok(HostPattern::Exact("a.com".into()))
    );
    assert_eq!(
        HostPattern::parse_gateway("::1").unwrap_err(),
        "\"::1\": a hostname must not be an IP address"
    );
    assert_eq!(
        HostPattern::parse_gateway("a.*").unwrap_err(),
        "\"a.*\": a wildcard must be a whole leading label (*.example.com)"
    );
    assert_eq!(
        HostPattern::parse_gateway("").unwrap_err(),
        "a hostname must not be empty"
    );
}

#[test]
fn each_kind_matches_at_its_boundary() {
    let cases: &[(HostPattern, &str, bool)] = &[
        (HostPattern::Exact("a.com".into()), "a.com", true),
        (HostPattern::Exact("a.com".into()), "b.a.com", false),
        (HostPattern::Prefix("api.".into()), "api.", true),
        (HostPattern::Prefix("api.".into()), "api", false),
        (HostPattern::Suffix(".a.com".into()), ".a.com", true),
        (HostPattern::Suffix(".a.com".into()), "a.com", false),
        (HostPattern::Subdomain(".a.com".into()), "b.a.com", true),
        (HostPattern::Subdomain(".a.com".into()), ".a.com", false),
        (HostPattern::Subdomain(".a.com".into()), "ba.com", false),
        (HostPattern::Any, "a", true),
        (HostPattern::Any, "", false),
    ];
    for (p, host, want) in cases {
        assert_eq!(p.matches(host), *want, "{p:?} vs {host:?}");
    }
}

#[test]
fn scores_rank_exact_then_longer() {
    let host = "api.a.com";
    let cases: &[(HostPattern, Option<(u8, usize)>)] = &[
        (HostPattern::Exact("api.a.com".into()), Some((2, 9))),
        (HostPattern::Subdomain(".a.com".into()), Some((1, 6))),
        (HostPattern::Suffix("a.com".into()), Some((1, 5))),
        (HostPattern::Prefix("api".into()), Some((1, 3))),
        (HostPattern::Any, Some((0, 0))),
        (HostPattern::Exact("a.com".into()), None),
        (HostPattern::Prefix("www".into()), None),
    ];
    for (p, want) in cases {
        assert_eq!(p.score(host), *want, "{p:?}");
    }
}

#[test]
fn sets_count_and_list_their_hosts() {
    let mut s = HostSet::default();
    s.insert(HostPattern::exact("A.com"));
    s.insert(HostPattern::exact("b.com"));
    assert_eq!(s.len(), 2);
    let mut exact: Vec<&str> = s.exact_only().expect("only exact hosts").collect();
    exact.sort_unstable();
    assert_eq!(exact, ["a.com", "b.com"]);
    assert!(s.matches("a.com") && !s.matches("c.com"));
    s.insert(HostPattern::istio("*.c.com"));
    assert_eq!(s.len(), 3);
    assert!(s.exact_only().is_none());
    assert!(s.matches("x.c.com") && s.matches("b.com") && !s.matches("c.com"));
}

fn istio(vs: &[&str]) -> HostSet {
    let mut s = HostSet::default();
    vs.iter().for_each(|v| s.insert(HostPattern::istio(v)));
    s
}

#[test]
fn istio_hosts_match_case_insensitively() {
    let cases: &[(&[&str], &str, bool)] = &[
        (&["Example.COM"], "example.com", true),
        (&["Example.COM."], "example.com", true),
        (&["example.com"], "example.org", false),
        (&["*.Corp"], "a.corp", true),
        (&["*.corp"], ".corp", true),
        (&["*.corp"], "corp", false),
        (&["api.*"], "api.example.com", true),
        (&["api.*"], "www.example.com", false),
        (&["*"], "anything", true),
        (&["*"], "", false),
        (&["a.com", "*.b.com"], "x.b.com", true),
        (&["a.com", "*.b.com"], "b.com", false),
    ];
    for (set, host, want) in cases {
        assert_eq!(istio(set).matches(host), *want, "{set:?} vs {host}");
    }
    assert!(istio(&["a*b"]).matches("a*b"));
    // The request's side is normalized at the edge: any spelling of the host matches.
    let host = |a: &str| crate::request::parse_authority(a).map(|(h, _)| h).unwrap();
    let s = istio(&["Example.COM", "*.Corp"]);
    for (a, want) in [
        ("example.com", true),
        ("EXAMPLE.com", true),
        ("a.CORP", true),
        ("example.org", false),
    ] {
        assert_eq!(s.matches(&host(a)), want, "{a}");
    }
}

fn authority(vs: &[&str], widened: bool) -> AuthoritySet {
    let mut s = AuthoritySet::default();
    vs.iter().for_each(|v| s.insert_istio(v));
    s.widen(widened);
    s
}

#[test]
fn istio_hosts_match_the_whole_authority_when_they_grant() {
    let req = |a: &str| {
        let mut r = Request::new("GET", "/");
        r.set_authority(a);
        r
    };
    let cases: &[(&[&str], &str, bool)] = &[
        (&["example.com"], "example.com", true),
        (&["example.com"], "EXAMPLE.com", true),
        (&["example.com"], "example.com:8080", false),
        (&["example.com"], "example.com.", false),
        (&["example.com:*"], "example.com:8080", true),
        (&["example.com:*"], "example.com", false),
        (&["*.example.com"], "a.example.com:80", false),
        (&["*"], "a:1", true),
    ];
    for (vs, a, want) in cases {
        assert_eq!(authority(vs, false).matches(&req(a)), *want, "{vs:?} vs {a}");
    }
}

#[test]
fn istio_hosts_match_the_host_too_when_they_refuse() {
    let req = |a: &str| {
        let mut r = Request::new("GET", "/");
        r.set_authority(a);
        r
    };
    for a in ["secret.com", "secret.com:80", "SECRET.com.", "secret.com:8080"] {
        assert!(authority(&["secret.com"], true).matches(&req(a)), "{a}");
    }
    assert!(authority(&["secret.com:8080"], true).matches(&req("secret.com:8080")));
    assert!(!authority(&["secret.com"], true).matches(&req("other.com")));
}

#[test]
fn gateway_wildcards_need_a_label() {
    let p = HostPattern::parse_gateway("*.Example.com.").unwrap();
    assert_eq!(p, HostPattern::Subdomain(".example.com".into()));
    assert!(p.matches("a.example.com"));
    assert!(!p.matches(".example.com"));
    assert!(!p.matches("example.com"));
    for bad in ["10.0.0.1", "a.*.com", "*", "*x.com", ""] {
        assert!(HostPattern::parse_gateway(bad).is_err(), "{bad}");
    }
}

#[test]
fn exact_beats_wildcard_and_longer_beats_shorter() {
    let exact = HostPattern::parse_gateway("a.example.com").unwrap();
    let wild = HostPattern::parse_gateway("*.example.com").unwrap();
    let wider = HostPattern::parse_gateway("*.com").unwrap();
    let host = "a.example.com";
    assert!(exact.score(host) > wild.score(host));
    assert!(wild.score(host) > wider.score(host));
    assert_eq!(exact.score("b.example.com"), None);
}

#[test]
fn drako_hosts_are_exact() {
    let p = HostPattern::exact("SVC.Example.");
    assert!(p.matches("svc.example"));
    assert!(!p.matches("a.svc.example"));
}

//! Host patterns: every kind's boundaries, its specificity score, and the set's bookkeeping.

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

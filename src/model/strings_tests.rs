//! String matchers and sets: Istio's wildcard syntax, matching, the set's bookkeeping, and
//! `with_concat` on both sides of its stack buffer.

use super::*;

#[test]
fn istio_wildcards_parse_to_their_kind() {
    let cases: &[(&str, StringMatch)] = &[
        ("abc", StringMatch::Exact("abc".into())),
        ("abc*", StringMatch::Prefix("abc".into())),
        ("*abc", StringMatch::Suffix("abc".into())),
        ("*", StringMatch::Presence),
        ("", StringMatch::Exact(String::new())),
    ];
    for (v, want) in cases {
        assert_eq!(&Wildcard::istio(v).to_match(), want, "{v:?}");
    }
    assert_eq!(Wildcard::istio("ns/*").value(), "ns/");
    assert_eq!(Wildcard::istio("*").value(), "");
    // A dialect that rewrites the value keeps the kind.
    let w = Wildcard::istio("*/sa/x");
    assert_eq!(
        w.with_value("spiffe://td/sa/x".into()),
        StringMatch::Suffix("spiffe://td/sa/x".into())
    );
}

#[test]
fn sets_count_what_was_inserted() {
    let mut s = StringSet::new();
    assert!(s.is_empty());
    assert_eq!(s.len(), 0);
    assert!(!s.matches("") && !s.matches("a"));
    s.reserve(100);
    assert!(s.exact.capacity() >= 100);
    s.insert(StringMatch::Exact("a".into()));
    s.insert(StringMatch::Exact("b".into()));
    assert!(!s.is_empty());
    assert_eq!(s.len(), 2);
    let mut exact: Vec<&str> = s.exact_only().expect("only exact values").collect();
    exact.sort_unstable();
    assert_eq!(exact, ["a", "b"]);
    for (extra, hit, miss) in [
        (StringMatch::Prefix("p/".into()), "p/x", "xp/"),
        (StringMatch::Suffix("/s".into()), "x/s", "/sx"),
        (StringMatch::Presence, "anything", ""),
    ] {
        let mut t = s.clone();
        t.insert(extra.clone());
        assert_eq!(t.len(), 3);
        assert!(t.exact_only().is_none(), "{extra:?}");
        assert!(t.matches(hit) && t.matches("a"), "{extra:?}");
        assert!(!t.matches(miss), "{extra:?}");
    }
}

#[test]
fn concat_fits_the_stack_buffer_to_the_byte() {
    let half = "x".repeat(512);
    assert_eq!(with_concat(&[&half, &half], |s| s.len()), 1024);
    assert_eq!(with_concat(&[&half, &half, "y"], |s| s.len()), 1025);
    assert_eq!(
        with_concat(&[&half, "y", &half], |s| (s.len(), s.find('y'))),
        (1025, Some(512))
    );
    assert_eq!(with_concat(&["a", "", "b", "c"], str::to_string), "abc");
    assert_eq!(with_concat(&["é", "/", "ü"], str::to_string), "é/ü");
}

fn set(vs: &[&str]) -> StringSet {
    StringSet::from_matches(vs.iter().map(|v| Wildcard::istio(v).to_match()))
}

#[test]
fn istio_syntax() {
    let cases: &[(&str, &str, bool)] = &[
        ("abc", "abc", true),
        ("abc", "abcd", false),
        ("abc*", "abcd", true),
        ("abc*", "ab", false),
        ("*abc", "xabc", true),
        ("*abc", "abcx", false),
        ("*", "x", true),
        ("*", "", false),
        ("/api/*", "/api/", true),
        ("/api/*", "/api", false),
    ];
    for (pat, s, want) in cases {
        assert_eq!(set(&[pat]).matches(s), *want, "{pat} vs {s}");
    }
}

#[test]
fn a_star_elsewhere_is_a_literal_as_in_istiod() {
    assert_eq!(Wildcard::istio("a*b"), Wildcard::Exact("a*b"));
    assert_eq!(Wildcard::istio("/api/*/users"), Wildcard::Exact("/api/*/users"));
    assert_eq!(Wildcard::istio("*a*"), Wildcard::Suffix("a*"));
    assert_eq!(Wildcard::istio("**"), Wildcard::Suffix("*"));
    assert!(!set(&["/api/*/users"]).matches("/api/x/users"));
    assert!(set(&["/api/*/users"]).matches("/api/*/users"));
}

#[test]
fn concat_on_the_stack_or_the_heap() {
    assert_eq!(with_concat(&["ns", "/", "sa"], str::to_string), "ns/sa");
    let long = "x".repeat(2000);
    assert_eq!(with_concat(&[&long, "/", "sa"], |s| s.len()), 2003);
    assert_eq!(with_concat(&[], str::to_string), "");
}

#[test]
fn large_sets_hold_every_value() {
    let s = StringSet::from_matches((0..10_000).map(|i| StringMatch::Exact(format!("p{i}"))));
    assert!(s.matches("p9999"));
    assert!(!s.matches("p10000"));
    assert_eq!(s.exact_only().map(|i| i.count()), Some(10_000));
}

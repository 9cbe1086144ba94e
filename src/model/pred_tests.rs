//! Predicates, table-driven: each test kind, the guards against repeated headers and unknown
//! peers, and the index keys.

use super::*;
use crate::model::StringMatch;

fn principal(v: &str) -> Pred {
    Pred::Principal(StringSet::from_matches([StringMatch::Exact(v.into())]))
}

fn method(v: &str) -> Pred {
    Pred::Method(StringSet::from_matches([StringMatch::Exact(v.into())]))
}

#[test]
fn constants_simplify() {
    assert!(matches!(Pred::all(vec![]), Pred::Always));
    assert!(matches!(Pred::any(vec![]), Pred::Never));
    assert!(matches!(Pred::all(vec![Pred::Never, principal("a")]), Pred::Never));
    assert!(matches!(Pred::negate(Pred::negate(method("POST"))), Pred::Method(_)));
}

#[test]
fn unauthenticated_peers_match_no_principal() {
    let r = Request::new("GET", "/");
    assert!(!principal("").matches(&r));
    let authenticated = Pred::Principal(StringSet::from_matches([StringMatch::Presence]));
    assert!(!authenticated.matches(&r));
    assert!(Pred::negate(principal("spiffe://td/ns/a/sa/b")).matches(&r));
}

fn header(v: &str) -> Pred {
    Pred::Header("x-role".into(), StringSet::from_matches([StringMatch::Exact(v.into())]))
}

fn with_roles(vs: &[&str]) -> Request {
    let mut r = Request::new("GET", "/");
    vs.iter().for_each(|v| r.add_header("X-Role", v));
    r
}

#[test]
fn repeated_headers_cannot_dodge_a_deny() {
    let deny = header("admin").guard(false);
    for vs in [
        &["admin"][..],
        &["user", "admin"],
        &["admin", "user"],
        &["user, admin"],
        &["user,admin,x"],
    ] {
        assert!(deny.matches(&with_roles(vs)), "{vs:?}");
    }
    for vs in [&[][..], &["user"], &["administrator"], &["user,"]] {
        assert!(!deny.matches(&with_roles(vs)), "{vs:?}");
    }
    // DENY with notValues: [user] fires unless every value is `user`.
    let deny_not = Pred::negate(header("user")).guard(false);
    assert!(!deny_not.matches(&with_roles(&["user"])));
    assert!(!deny_not.matches(&with_roles(&["user", "user"])));
    assert!(deny_not.matches(&with_roles(&["user", "admin"])));
    assert!(deny_not.matches(&with_roles(&["user,admin"])));
    assert!(deny_not.matches(&with_roles(&[])));
}

#[test]
fn repeated_headers_cannot_stretch_an_allow() {
    let allow = header("user").guard(true);
    assert!(allow.matches(&with_roles(&["user"])));
    assert!(allow.matches(&with_roles(&["user", "user"])));
    for vs in [
        &[][..],
        &["user", "admin"],
        &["admin", "user"],
        &["user,admin"],
        &["user, user"],
    ] {
        assert!(!allow.matches(&with_roles(vs)), "{vs:?}");
    }
    // ALLOW with notValues: [admin] grants only if no value (or element) is `admin`.
    let allow_not = Pred::negate(header("admin")).guard(true);
    assert!(allow_not.matches(&with_roles(&["user"])));
    assert!(allow_not.matches(&with_roles(&[])));
    assert!(!allow_not.matches(&with_roles(&["user", "admin"])));
    assert!(!allow_not.matches(&with_roles(&["user,admin"])));
}

#[test]
fn guarding_keeps_the_rest_and_the_headers_read() {
    let p = Pred::all(vec![principal("a"), Pred::any(vec![header("x"), method("POST")])]).guard(true);
    assert_eq!(p.principal_keys(), Some(vec!["a"]));
    let mut plan = ReadPlan::default();
    p.plan(&mut plan);
    assert!(plan.seal().reads_header("x-role"));
}

fn peer_in(block: &str) -> Pred {
    Pred::SourceIp(IpSet::parse_all([block]).unwrap())
}

fn from_peer(ip: Option<&str>) -> Request {
    let mut r = Request::new("GET", "/");
    r.source_ip = ip.map(|i| i.parse().unwrap());
    r
}

/// An unknown peer (X-Forwarded-For chose `source.address`) meets a refusing peer test and
/// no granting one, negated or not; a known peer is tested as it is.
#[test]
fn an_unknown_peer_neither_dodges_a_deny_nor_meets_an_allow() {
    let (unknown, inside, outside) = (
        from_peer(None),
        from_peer(Some("10.1.2.3")),
        from_peer(Some("127.0.0.2")),
    );
    let cases: &[(&str, Pred, [bool; 3])] = &[
        // (rule, test, matches [unknown, inside, outside])
        ("DENY ipBlocks", peer_in("10.0.0.0/8").guard(false), [true, true, false]),
        (
            "DENY notIpBlocks",
            Pred::negate(peer_in("10.0.0.0/8")).guard(false),
            [true, false, true],
        ),
        (
            "ALLOW ipBlocks",
            peer_in("10.0.0.0/8").guard(true),
            [false, true, false],
        ),
        (
            "ALLOW notIpBlocks",
            Pred::negate(peer_in("10.0.0.0/8")).guard(true),
            [false, false, true],
        ),
        ("unguarded", peer_in("10.0.0.0/8"), [false, true, false]),
    ];
    for (name, p, want) in cases {
        let got = [p.matches(&unknown), p.matches(&inside), p.matches(&outside)];
        assert_eq!(got, *want, "{name}");
    }
    let mut plan = ReadPlan::default();
    peer_in("10.0.0.0/8").guard(false).plan(&mut plan);
    assert!(plan.reads.source_ip);
}

#[test]
fn index_keys_follow_the_logic() {
    let p = Pred::all(vec![principal("a"), method("POST")]);
    assert_eq!(p.principal_keys(), Some(vec!["a"]));
    let p = Pred::any(vec![principal("a"), principal("b")]);
    assert_eq!(p.principal_keys().map(|v| v.len()), Some(2));
    let p = Pred::any(vec![principal("a"), method("POST")]);
    assert_eq!(p.principal_keys(), None);
    assert_eq!(Pred::negate(principal("a")).principal_keys(), None);
}

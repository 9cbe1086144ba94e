//! The rule index files every rule where a request that can match it looks (issue 17: a rule
//! dropped from a shared bucket goes unnoticed by every fixture with one rule per principal).

use super::*;
use crate::model::{PathPattern, StringMatch, StringSet};
use crate::request::Peer;

const A: &str = "spiffe://td/ns/a/sa/a";
const B: &str = "spiffe://td/ns/b/sa/b";

fn principals(vs: &[&str]) -> Pred {
    Pred::Principal(StringSet::from_matches(
        vs.iter().map(|v| StringMatch::Exact(v.to_string())),
    ))
}

fn method(v: &str) -> Pred {
    Pred::Method(StringSet::from_matches([StringMatch::Exact(v.into())]))
}

fn exact(p: &str) -> Pred {
    Pred::path(vec![PathPattern::Exact(p.into())])
}

fn req(peer: &str, method: &str, path: &str) -> Request {
    let mut r = Request::new(method, path);
    r.peer = Peer::from_uri_san(peer);
    r
}

/// The first rule matching `r`, through the index.
fn first(idx: &RuleIndex, rules: &[Pred], r: &Request) -> Option<u32> {
    idx.first_match(r, |i| rules[i as usize].matches(r))
}

/// The ids filed under a principal.
fn bucket<'a>(idx: &'a RuleIndex, principal: &str) -> &'a [u32] {
    idx.by_principal
        .get(&principal_key(principal))
        .map_or(&[], Ids::as_slice)
}

#[test]
fn two_rules_under_one_principal_are_both_found() {
    // Istio: two DENY rules for one caller (GET, POST); the POST one is the second in its bucket.
    let rules = vec![
        Pred::all(vec![principals(&[A]), method("GET")]),
        Pred::all(vec![principals(&[A]), method("POST")]),
        Pred::all(vec![principals(&[A]), method("PUT")]),
        principals(&[B]),
    ];
    let idx = RuleIndex::build(&rules);
    assert_eq!(bucket(&idx, A), [0, 1, 2]);
    assert_eq!(bucket(&idx, B), [3]);
    for (peer, m, want) in [
        (A, "GET", Some(0)),
        (A, "POST", Some(1)),
        (A, "PUT", Some(2)),
        (A, "DELETE", None),
        (B, "POST", Some(3)),
    ] {
        assert_eq!(first(&idx, &rules, &req(peer, m, "/")), want, "{peer} {m}");
    }
}

#[test]
fn a_rule_naming_a_principal_twice_is_filed_once() {
    let rules = vec![Pred::any(vec![principals(&[A]), principals(&[A, B])]), principals(&[A])];
    let idx = RuleIndex::build(&rules);
    assert_eq!(bucket(&idx, A), [0, 1]);
    assert_eq!(bucket(&idx, B), [0]);
}

#[test]
fn a_rule_is_filed_where_its_bucket_is_smallest_ties_by_principal() {
    // Alone, each key is a bucket of one: one principal against one path is a tie.
    let idx = RuleIndex::build(&[Pred::all(vec![principals(&[A]), exact("/x")])]);
    assert_eq!((bucket(&idx, A), idx.always.len()), (&[0][..], 0));
    // Two principals against one path: the path.
    let idx = RuleIndex::build(&[Pred::all(vec![principals(&[A, B]), exact("/x")])]);
    assert!(idx.by_principal.is_empty());
    // One path against two principals' bucket of one each: still the path (1 < 2).
    let rules = [
        Pred::all(vec![principals(&[A, B]), exact("/x")]),
        Pred::all(vec![principals(&[A]), exact("/y")]),
        principals(&[B]),
    ];
    let idx = RuleIndex::build(&rules);
    // Rule 0: principals cost 1 + 2 = 3, path 1: by path. Rule 1: principal 2 (A is also
    // rule 0's), path 1: by path. Rule 2: by principal.
    assert_eq!((bucket(&idx, A), bucket(&idx, B)), (&[][..], &[2][..]));
    for (peer, path, want) in [
        (A, "/x", Some(0)),
        (B, "/x", Some(0)),
        (A, "/y", Some(1)),
        (B, "/y", Some(2)),
    ] {
        assert_eq!(first(&idx, &rules, &req(peer, "GET", path)), want, "{peer} {path}");
    }
    // Rules no attribute narrows are looked at always.
    let idx = RuleIndex::build(&[method("GET"), principals(&[A])]);
    assert_eq!(idx.always, [0]);
}

#[test]
fn the_lowest_matching_id_wins_across_buckets() {
    let rules = vec![
        exact("/a"),                                       // 0: by path
        principals(&[A]),                                  // 1: by principal
        method("GET"),                                     // 2: always
        Pred::all(vec![principals(&[A]), method("POST")]), // 3: by principal
        exact("/b"),                                       // 4: by path
    ];
    let idx = RuleIndex::build(&rules);
    for (peer, m, path, want) in [
        (A, "GET", "/a", Some(0)),
        (A, "GET", "/b", Some(1)),
        (B, "GET", "/b", Some(2)),
        (B, "POST", "/b", Some(4)),
        (B, "POST", "/c", None),
        (A, "POST", "/c", Some(1)),
    ] {
        assert_eq!(first(&idx, &rules, &req(peer, m, path)), want, "{peer} {m} {path}");
    }
    // Each candidate below the best so far is tested once; none above it.
    let mut tested = Vec::new();
    let r = req(A, "GET", "/a");
    idx.first_match(&r, |i| {
        tested.push(i);
        rules[i as usize].matches(&r)
    });
    tested.sort_unstable();
    assert_eq!(tested, [0, 1, 2]);
}

/// The ids of the rules filed where `req` looks, ascending and unique (requests use
/// [`RuleIndex::first_match`], which stops at the first that passes).
fn candidates(idx: &RuleIndex, req: &Request, out: &mut Vec<u32>) {
    out.clear();
    out.extend_from_slice(&idx.always);
    if let Some(id) = req.peer.id() {
        if let Some(ids) = idx.by_principal.get(&principal_key(id.as_str())) {
            out.extend_from_slice(ids.as_slice());
        }
    }
    idx.by_path.for_each_match(&req.path, |id| out.push(*id));
    out.sort_unstable();
    out.dedup();
}

#[test]
fn finds_only_what_can_match() {
    let rules = vec![
        principals(&["spiffe://td/ns/a/sa/a"]),
        principals(&["spiffe://td/ns/b/sa/b"]),
        Pred::all(vec![
            principals(&["spiffe://td/ns/a/sa/a"]),
            Pred::path(vec![PathPattern::Exact("/x".into())]),
        ]),
        method("POST"),
    ];
    let idx = RuleIndex::build(&rules);
    let mut req = Request::new("GET", "/y");
    req.peer = Peer::from_uri_san("spiffe://td/ns/a/sa/a");
    let mut out = vec![];
    candidates(&idx, &req, &mut out);
    // Rule 2's principal is also rule 0's (a bucket of 2), its path is its own (a bucket of
    // 1): it is filed by path, so only a request for /x looks at it. Rule 1 is another
    // principal's; rule 3 has no key and is looked at always.
    assert_eq!(out, vec![0, 3]);
    req.path = "/x".into();
    candidates(&idx, &req, &mut out);
    assert_eq!(out, vec![0, 2, 3]);
}

#[test]
fn first_match_is_the_lowest_matching_id() {
    let rules = vec![
        Pred::path(vec![PathPattern::Prefix("/a".into())]),
        principals(&["spiffe://td/ns/a/sa/a"]),
        method("POST"),
        Pred::path(vec![PathPattern::Exact("/a/b".into())]),
    ];
    let idx = RuleIndex::build(&rules);
    let mut req = Request::new("GET", "/a/b");
    req.peer = Peer::from_uri_san("spiffe://td/ns/a/sa/a");
    let first = |req: &Request| idx.first_match(req, |i| rules[i as usize].matches(req));
    assert_eq!(first(&req), Some(0));
    req.path = "/b".into();
    assert_eq!(first(&req), Some(1));
    req.peer = Peer::Unauthenticated;
    assert_eq!(first(&req), None);
    req.method = "POST".into();
    assert_eq!(first(&req), Some(2));
}

#[test]
fn busy_principals_file_rules_by_path() {
    let rules: Vec<Pred> = (0..100)
        .map(|i| {
            Pred::all(vec![
                principals(&["spiffe://td/ns/a/sa/a"]),
                Pred::path(vec![PathPattern::Exact(format!("/p{i}"))]),
            ])
        })
        .collect();
    let idx = RuleIndex::build(&rules);
    let mut req = Request::new("GET", "/p42");
    req.peer = Peer::from_uri_san("spiffe://td/ns/a/sa/a");
    let mut out = vec![];
    candidates(&idx, &req, &mut out);
    assert_eq!(out, vec![42]);
}

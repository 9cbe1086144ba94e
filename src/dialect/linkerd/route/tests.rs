//! Route selection: Linkerd's precedence, table by table, and the matchit index checked
//! against a plain scan of every match (the proxy's own algorithm) on many paths.

use super::*;

fn route(meta: usize, hosts: &[&str]) -> Route {
    Route {
        meta: Some(meta),
        name: "",
        hosts: hosts.iter().map(|h| HostPattern::parse_gateway(h).unwrap()).collect(),
        authz: AuthzList::default(),
    }
}

fn exact(p: &str) -> HttpMatchSpec {
    HttpMatchSpec {
        path: PathSpec::Exact(p.into()),
        ..HttpMatchSpec::any()
    }
}

fn prefix(p: &str) -> HttpMatchSpec {
    HttpMatchSpec {
        path: PathSpec::Prefix(p.into()),
        ..HttpMatchSpec::any()
    }
}

fn with_method(mut m: HttpMatchSpec, method: &str) -> HttpMatchSpec {
    m.method = Some(method.into());
    m
}

fn with_header(mut m: HttpMatchSpec, n: &str, v: &str) -> HttpMatchSpec {
    m.headers.push(NamedValue {
        name: n.into(),
        value: ValueSpec::Exact(v.into()),
    });
    m
}

fn with_query(mut m: HttpMatchSpec, n: &str, v: ValueSpec) -> HttpMatchSpec {
    m.query.push(NamedValue {
        name: n.into(),
        value: v,
    });
    m
}

fn regex(p: &str) -> HttpMatchSpec {
    HttpMatchSpec {
        path: PathSpec::Regex(Anchored::parse(p).unwrap()),
        ..HttpMatchSpec::any()
    }
}

/// One route per entry, one rule each, one match each; meta = position.
fn table(ms: Vec<HttpMatchSpec>) -> HttpRoutes {
    HttpRoutes::build(
        ms.into_iter()
            .enumerate()
            .map(|(i, m)| RouteSpec {
                route: route(i, &[]),
                rules: vec![vec![m]],
            })
            .collect(),
    )
    .unwrap()
}

fn req(method: &str, path: &str) -> Request {
    let mut r = Request::new(method, path);
    r.path = path.split('?').next().unwrap_or(path).into();
    r
}

fn winner(t: &HttpRoutes, r: &Request) -> Option<usize> {
    t.find(r).unwrap().and_then(|f| f.route.meta)
}

#[test]
fn longest_path_wins() {
    let t = table(vec![
        prefix("/"),
        prefix("/foo"),
        exact("/foo/bar"),
        prefix("/foo/bar/baz"),
    ]);
    let cases = [
        ("/", Some(0)),
        ("/x", Some(0)),
        ("/foo", Some(1)),
        ("/foo/", Some(1)),
        ("/foo/x", Some(1)),
        ("/foobar", Some(0)),
        ("/foo/bar", Some(2)),
        ("/foo/bar/", Some(1)),
        ("/foo/bar/x", Some(1)),
        ("/foo/bar/baz", Some(3)),
        ("/foo/bar/baz/q", Some(3)),
        ("/foo/bar/bazz", Some(1)),
    ];
    for (p, want) in cases {
        assert_eq!(winner(&t, &req("GET", p)), want, "{p}");
    }
}

#[test]
fn prefixes_are_segment_wise() {
    let t = table(vec![prefix("/api/")]);
    for (p, want) in [
        ("/api", true),
        ("/api/", true),
        ("/api/v1", true),
        ("/apis", false),
        ("/", false),
    ] {
        assert_eq!(t.find(&req("GET", p)).unwrap().is_some(), want, "{p}");
    }
}

/// Linkerd compares path *lengths* only: `Exact /foo` and `PathPrefix /foo` tie, and the tie
/// goes to the first route. (The Gateway API text prefers Exact; linkerd2-proxy does not.)
#[test]
fn exact_and_prefix_of_equal_length_tie_in_order() {
    let t = table(vec![prefix("/foo"), exact("/foo")]);
    assert_eq!(winner(&t, &req("GET", "/foo")), Some(0));
    let t = table(vec![exact("/foo"), prefix("/foo")]);
    assert_eq!(winner(&t, &req("GET", "/foo")), Some(0));
}

#[test]
fn headers_then_query_then_method_break_path_ties() {
    let t = table(vec![
        with_header(prefix("/foo"), "x-a", "1"),
        with_method(prefix("/foo"), "GET"),
        with_header(with_header(prefix("/foo"), "x-a", "1"), "x-b", "2"),
    ]);
    let mut r = req("GET", "/foo/x");
    r.add_header("x-a", "1");
    assert_eq!(winner(&t, &r), Some(0), "a header match beats a method match");
    assert_eq!(winner(&t, &req("GET", "/foo/x")), Some(1), "the method alone");
    let mut r = req("POST", "/foo/x");
    r.add_header("x-a", "1");
    r.add_header("x-b", "2");
    assert_eq!(winner(&t, &r), Some(2), "more headers beat fewer");
    let mut r = req("POST", "/foo/x");
    r.add_header("x-a", "1");
    assert_eq!(winner(&t, &r), Some(0));
    assert_eq!(winner(&t, &req("POST", "/foo/x")), None, "no route: 404");
}

#[test]
fn query_parameters_rank_between_headers_and_method() {
    let t = table(vec![
        with_method(prefix("/foo"), "GET"),
        with_query(prefix("/foo"), "a", ValueSpec::Exact("1".into())),
        with_header(prefix("/foo"), "x-a", "1"),
    ]);
    assert_eq!(winner(&t, &req("GET", "/foo?a=1")), Some(1), "query beats method");
    let mut r = req("GET", "/foo?a=1");
    r.add_header("x-a", "1");
    assert_eq!(winner(&t, &r), Some(2), "header beats query");
    assert_eq!(winner(&t, &req("GET", "/foo?a=2")), Some(0));
    assert_eq!(
        winner(&t, &req("GET", "/foo?b=1&a=1")),
        Some(1),
        "any pair of the query"
    );
}

#[test]
fn a_regex_path_counts_the_whole_path() {
    let t = table(vec![exact("/foo/123"), regex(r"/foo/\d+"), prefix("/foo/1")]);
    assert_eq!(winner(&t, &req("GET", "/foo/123")), Some(0), "a tie: the first route");
    assert_eq!(winner(&t, &req("GET", "/foo/12")), Some(1), "7 characters beat 6");
    assert_eq!(winner(&t, &req("GET", "/foo/1/x")), Some(2));
    assert_eq!(winner(&t, &req("GET", "/foo/x")), None);
}

#[test]
fn a_query_regex_meeting_non_ascii_text_is_undecidable_only_with_unicode_classes() {
    let q = |re: &str| with_query(prefix("/"), "id", ValueSpec::Regex(Anchored::parse(re).unwrap()));
    let t = table(vec![q(r"\d+")]);
    assert_eq!(t.find(&req("GET", "/?id=42")).unwrap().map(|f| f.rule), Some(0));
    assert_eq!(
        t.find(&req("GET", "/?id=%D9%A3")).map(|f| f.is_some()),
        Err(Undecidable)
    );
    assert_eq!(t.find(&req("GET", "/?other=%D9%A3")).map(|f| f.is_some()), Ok(false));
    let t = table(vec![q("[0-9]+")]);
    assert_eq!(t.find(&req("GET", "/?id=%D9%A3")).map(|f| f.is_some()), Ok(false));
}

#[test]
fn header_regexes_skip_values_that_are_not_visible_ascii() {
    let m = HttpMatchSpec {
        headers: vec![NamedValue {
            name: "x-a".into(),
            value: ValueSpec::Regex(Anchored::parse(".*").unwrap()),
        }],
        ..HttpMatchSpec::any()
    };
    let t = table(vec![m]);
    let mut r = req("GET", "/");
    r.add_header("x-a", "caf\u{e9}");
    assert_eq!(winner(&t, &r), None);
    r.add_header("x-a", "cafe");
    assert_eq!(winner(&t, &r), Some(0));
}

/// A method or header mismatch on the longest path falls back to a shorter prefix.
#[test]
fn mismatch_on_the_longest_path_falls_back_to_ancestors() {
    let t = table(vec![
        prefix("/"),
        with_method(prefix("/api"), "GET"),
        with_header(exact("/api/admin"), "x-admin", "yes"),
        with_method(prefix("/api/admin"), "DELETE"),
    ]);
    let mut admin = req("POST", "/api/admin");
    admin.add_header("x-admin", "yes");
    let cases = [
        (req("POST", "/api/admin"), Some(0)),
        (req("GET", "/api/admin"), Some(1)),
        (req("DELETE", "/api/admin/x"), Some(3)),
        (req("GET", "/api/admin/x"), Some(1)),
        (admin, Some(2)),
    ];
    for (r, want) in cases {
        assert_eq!(winner(&t, &r), want, "{} {}", r.method, r.path);
    }
}

#[test]
fn hosts_come_first() {
    let t = HttpRoutes::build(vec![
        RouteSpec {
            route: route(0, &[]),
            rules: vec![vec![exact("/foo/bar")]],
        },
        RouteSpec {
            route: route(1, &["*.example.com"]),
            rules: vec![vec![prefix("/")]],
        },
        RouteSpec {
            route: route(2, &["api.example.com"]),
            rules: vec![vec![prefix("/")]],
        },
    ])
    .unwrap();
    let at = |host: &str, path: &str| {
        let mut r = req("GET", path);
        r.set_authority(host);
        winner(&t, &r)
    };
    assert_eq!(
        at("api.example.com", "/foo/bar"),
        Some(2),
        "exact host beats a longer path"
    );
    assert_eq!(at("www.example.com", "/foo/bar"), Some(1), "suffix host beats no host");
    assert_eq!(at("example.com", "/foo/bar"), Some(0), "*.example.com needs a label");
    assert_eq!(at("other.org", "/x"), None);
}

#[test]
fn rules_without_matches_match_everything() {
    let t = HttpRoutes::build(vec![RouteSpec {
        route: route(0, &[]),
        rules: vec![vec![exact("/a")], vec![]],
    }])
    .unwrap();
    assert_eq!(t.find(&req("GET", "/a")).unwrap().map(|f| f.rule), Some(0));
    assert_eq!(t.find(&req("PUT", "/zzz")).unwrap().map(|f| f.rule), Some(1));
}

#[test]
fn braces_are_literal() {
    let t = table(vec![exact("/{id}"), prefix("/a{b}")]);
    assert_eq!(winner(&t, &req("GET", "/{id}")), Some(0));
    assert_eq!(winner(&t, &req("GET", "/7")), None);
    assert_eq!(winner(&t, &req("GET", "/a{b}/c")), Some(1));
}

/// The proxy's algorithm, verbatim in spirit: summarize every match, keep the first greatest.
fn scan(specs: &[HttpMatchSpec], r: &Request) -> Option<usize> {
    let mut best: Option<((usize, usize, bool), usize)> = None;
    for (i, m) in specs.iter().enumerate() {
        let len = match &m.path {
            PathSpec::Exact(p) => (p == &r.path).then_some(p.len()),
            PathSpec::Prefix(p) if p == "/" => Some(1),
            PathSpec::Prefix(p) => {
                let p = p.trim_end_matches('/');
                r.path
                    .trim_end_matches('/')
                    .strip_prefix(p)
                    .filter(|s| s.is_empty() || s.starts_with('/'))
                    .map(|_| p.len())
            }
            PathSpec::Regex(re) => re.is_match(&r.path).then_some(r.path.len()),
        };
        let Some(len) = len else { continue };
        if m.method.as_deref().is_some_and(|x| x != r.method) {
            continue;
        }
        let header = |h: &NamedValue| match &h.value {
            ValueSpec::Exact(v) => r.header_values(&h.name).any(|x| x == v),
            ValueSpec::Regex(_) => false,
        };
        if !m.headers.iter().all(header) {
            continue;
        }
        // `impl Ord for RequestMatch`: path length, header count, (query count), method.
        let key = (len, m.headers.len(), m.method.is_some());
        if best.is_none_or(|(k, _)| key > k) {
            best = Some((key, i));
        }
    }
    best.map(|(_, i)| i)
}

#[test]
fn index_agrees_with_a_full_scan() {
    let segs = ["a", "b", "ab", "{x}"];
    let mut specs = vec![];
    let mut paths = vec!["/".to_string()];
    for s1 in segs {
        paths.push(format!("/{s1}"));
        paths.push(format!("/{s1}/"));
        for s2 in segs {
            paths.push(format!("/{s1}/{s2}"));
            for s3 in ["a", "c"] {
                paths.push(format!("/{s1}/{s2}/{s3}"));
            }
        }
    }
    for (i, p) in paths.iter().enumerate() {
        let m = match i % 5 {
            0 => exact(p),
            1 => prefix(p),
            2 => with_method(prefix(p), "POST"),
            3 => with_header(exact(p), "x", "1"),
            _ => with_method(with_header(prefix(p), "x", "1"), "GET"),
        };
        specs.push(m);
    }
    let t = table(specs.clone());
    let mut checked = 0;
    for p in &paths {
        for method in ["GET", "POST"] {
            for hdr in [false, true] {
                let mut r = req(method, p);
                if hdr {
                    r.add_header("x", "1");
                }
                assert_eq!(winner(&t, &r), scan(&specs, &r), "{method} {p} hdr={hdr}");
                checked += 1;
            }
        }
    }
    assert!(checked > 200);
}

fn grpc_table(ms: Vec<GrpcMatchSpec>) -> GrpcRoutes {
    GrpcRoutes::build(
        ms.into_iter()
            .enumerate()
            .map(|(i, m)| RouteSpec {
                route: route(i, &[]),
                rules: vec![vec![m]],
            })
            .collect(),
    )
}

fn rpc(s: Option<&str>, m: Option<&str>) -> GrpcMatchSpec {
    GrpcMatchSpec {
        service: s.map(Into::into),
        method: m.map(Into::into),
        headers: vec![],
    }
}

#[test]
fn grpc_methods_match_service_then_method() {
    let t = grpc_table(vec![
        rpc(Some("emojivoto.v1.VotingService"), None),
        rpc(Some("emojivoto.v1.VotingService"), Some("VoteDog")),
        rpc(None, Some("Check")),
    ]);
    let g = |m: &str, p: &str| t.find(&req(m, p)).unwrap().and_then(|f| f.route.meta);
    assert_eq!(g("POST", "/emojivoto.v1.VotingService/VoteDog"), Some(1));
    assert_eq!(g("POST", "/emojivoto.v1.VotingService/VoteCat"), Some(0));
    assert_eq!(g("POST", "/grpc.health.v1.Health/Check"), Some(2));
    assert_eq!(g("POST", "/other.Service/Other"), None);
    assert_eq!(
        g("GET", "/emojivoto.v1.VotingService/VoteDog"),
        None,
        "explicit gRPC matches need POST"
    );
    assert_eq!(g("POST", "/emojivoto.v1.VotingService"), None, "needs /service/method");
}

#[test]
fn grpc_default_route_matches_anything() {
    let t = GrpcRoutes::build(vec![RouteSpec {
        route: Route {
            meta: None,
            name: "default",
            hosts: vec![],
            authz: AuthzList::default(),
        },
        rules: vec![vec![]],
    }]);
    assert!(t.find(&req("GET", "/healthz")).unwrap().is_some());
    assert!(t.find(&req("POST", "/a.B/C")).unwrap().is_some());
}

#[test]
fn grpc_headers_count() {
    let mut with_h = rpc(Some("s.S"), Some("M"));
    with_h.headers.push(NamedValue {
        name: "x-canary".into(),
        value: ValueSpec::Exact("1".into()),
    });
    let t = grpc_table(vec![rpc(Some("s.S"), Some("M")), with_h]);
    let mut r = req("POST", "/s.S/M");
    assert_eq!(t.find(&r).unwrap().and_then(|f| f.route.meta), Some(0));
    r.add_header("x-canary", "1");
    assert_eq!(t.find(&r).unwrap().and_then(|f| f.route.meta), Some(1));
}

#[test]
fn hostnames_parse() {
    assert!(HostPattern::parse_gateway("10.0.0.1").is_err());
    assert!(HostPattern::parse_gateway("a.*.com").is_err());
    assert!(
        matches!(HostPattern::parse_gateway("*.Example.com.").unwrap(), HostPattern::Subdomain(s) if &*s == ".example.com")
    );
}

//! Route selection: Linkerd's precedence, table by table, and the matchit index checked
//! against a plain scan of every match (the proxy's own algorithm) on many paths.

use super::*;

fn route(meta: usize, hosts: &[&str]) -> Route {
    Route {
        meta: Some(meta),
        hosts: hosts.iter().map(|h| HostPattern::parse_gateway(h).unwrap()).collect(),
        authz: AuthzList::default(),
    }
}

fn exact(p: &str) -> HttpMatchSpec {
    HttpMatchSpec {
        path: PathSpec::Exact(p.into()),
        method: None,
        headers: vec![],
    }
}

fn prefix(p: &str) -> HttpMatchSpec {
    HttpMatchSpec {
        path: PathSpec::Prefix(p.into()),
        method: None,
        headers: vec![],
    }
}

fn with_method(mut m: HttpMatchSpec, method: &str) -> HttpMatchSpec {
    m.method = Some(method.into());
    m
}

fn with_header(mut m: HttpMatchSpec, n: &str, v: &str) -> HttpMatchSpec {
    m.headers.push((n.into(), v.into()));
    m
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
    r.path = path.into();
    r
}

fn winner(t: &HttpRoutes, r: &Request) -> Option<usize> {
    t.find(r).and_then(|f| f.route.meta)
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
        assert_eq!(t.find(&req("GET", p)).is_some(), want, "{p}");
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
fn method_then_headers_break_path_ties() {
    let t = table(vec![
        with_header(prefix("/foo"), "x-a", "1"),
        with_method(prefix("/foo"), "GET"),
        with_header(with_header(prefix("/foo"), "x-a", "1"), "x-b", "2"),
    ]);
    let mut r = req("GET", "/foo/x");
    r.add_header("x-a", "1");
    assert_eq!(winner(&t, &r), Some(1), "method beats headers");
    let mut r = req("POST", "/foo/x");
    r.add_header("x-a", "1");
    r.add_header("x-b", "2");
    assert_eq!(winner(&t, &r), Some(2), "more headers beat fewer");
    let mut r = req("POST", "/foo/x");
    r.add_header("x-a", "1");
    assert_eq!(winner(&t, &r), Some(0));
    assert_eq!(winner(&t, &req("POST", "/foo/x")), None, "no route: 404");
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
    assert_eq!(t.find(&req("GET", "/a")).map(|f| f.rule), Some(0));
    assert_eq!(t.find(&req("PUT", "/zzz")).map(|f| f.rule), Some(1));
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
    let mut best: Option<((usize, bool, usize), usize)> = None;
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
        };
        let Some(len) = len else { continue };
        if m.method.as_deref().is_some_and(|x| x != r.method) {
            continue;
        }
        if !m.headers.iter().all(|(n, v)| r.header_values(n).any(|x| x == v)) {
            continue;
        }
        let key = (len, m.method.is_some(), m.headers.len());
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
    let g = |m: &str, p: &str| t.find(&req(m, p)).and_then(|f| f.route.meta);
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
            hosts: vec![],
            authz: AuthzList::default(),
        },
        rules: vec![vec![]],
    }]);
    assert!(t.find(&req("GET", "/healthz")).is_some());
    assert!(t.find(&req("POST", "/a.B/C")).is_some());
}

#[test]
fn grpc_headers_count() {
    let mut with_h = rpc(Some("s.S"), Some("M"));
    with_h.headers.push(("x-canary".into(), "1".into()));
    let t = grpc_table(vec![rpc(Some("s.S"), Some("M")), with_h]);
    let mut r = req("POST", "/s.S/M");
    assert_eq!(t.find(&r).and_then(|f| f.route.meta), Some(0));
    r.add_header("x-canary", "1");
    assert_eq!(t.find(&r).and_then(|f| f.route.meta), Some(1));
}

#[test]
fn hostnames_parse() {
    assert!(HostPattern::parse_gateway("10.0.0.1").is_err());
    assert!(HostPattern::parse_gateway("a.*.com").is_err());
    assert!(
        matches!(HostPattern::parse_gateway("*.Example.com.").unwrap(), HostPattern::Subdomain(s) if &*s == ".example.com")
    );
}

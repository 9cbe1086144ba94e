//! Canonical forms and refusals, table-driven.

use super::canonical::{already_canonical, decode, remove_dots};
use super::*;

fn canon(p: &str) -> Result<String, PathError> {
    canonicalize(p, &Options::default())
}

/// The fast path (a path already canonical is copied as is) agrees with decoding and dot
/// removal on every path of up to 6 characters over an alphabet of the tricky ones, for each
/// `pathParameters` setting.
#[test]
fn already_canonical_agrees_with_the_full_canonicalization() {
    let alphabet = ['/', '.', 'a', ';', '%', '2', 'f', '\\', '|'];
    let mut paths = vec![String::from("/")];
    let mut frontier = paths.clone();
    for _ in 0..5 {
        frontier = frontier
            .iter()
            .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
            .collect();
        paths.extend(frontier.iter().cloned());
    }
    for params in [PathParameters::Reject, PathParameters::Strip, PathParameters::Keep] {
        let opts = Options {
            path_parameters: params,
            ..Options::default()
        };
        for p in &paths {
            let full = decode(p, &opts).and_then(|d| remove_dots(&d, params));
            if already_canonical(p, params) {
                assert_eq!(full.as_deref(), Ok(p.as_str()), "{p:?} {params:?}");
            } else if !p.contains('%') {
                // And the fast path takes every path it can without escapes (an escape that
                // stays, such as `%25`, always goes the long way).
                assert_ne!(full.as_deref(), Ok(p.as_str()), "{p:?} {params:?}");
            }
            assert_eq!(canonicalize(p, &opts), full, "{p:?} {params:?}");
        }
    }
}

/// `;` path parameters: refused by default; stripped as a servlet container reads them; or
/// kept as ordinary characters. Never a way to reach /admin while deciding on another path.
#[test]
fn path_parameters_each_setting() {
    let opts = |path_parameters| Options {
        path_parameters,
        ..Options::default()
    };
    type Canon = Result<&'static str, PathError>;
    let cases: &[(&str, Canon, Canon)] = &[
        // (path, strip, keep); reject refuses every one of them.
        ("/admin;x=1", Ok("/admin"), Ok("/admin;x=1")),
        ("/admin;", Ok("/admin"), Ok("/admin;")),
        ("/admin;x/users", Ok("/admin/users"), Ok("/admin;x/users")),
        (
            "/admin;jsessionid=0/users",
            Ok("/admin/users"),
            Ok("/admin;jsessionid=0/users"),
        ),
        ("/;x/admin", Ok("/admin"), Ok("/;x/admin")),
        ("/admin;a=b;c=d", Ok("/admin"), Ok("/admin;a=b;c=d")),
        ("/a;x/../admin", Ok("/admin"), Ok("/admin")),
        ("/admin/;x", Ok("/admin/"), Ok("/admin/;x")),
        ("/admin;x=%61", Ok("/admin"), Ok("/admin;x=a")),
        (
            "/public/..;/admin",
            Err(PathError::DotSegmentWithParameters),
            Err(PathError::DotSegmentWithParameters),
        ),
        (
            "/public/.;x/admin",
            Err(PathError::DotSegmentWithParameters),
            Err(PathError::DotSegmentWithParameters),
        ),
        (
            "/admin%3Bx",
            Err(PathError::EscapedDelimiter),
            Err(PathError::EscapedDelimiter),
        ),
    ];
    for (raw, strip, keep) in cases {
        let reject = canonicalize(raw, &opts(PathParameters::Reject));
        match strip {
            Err(e) => assert_eq!(reject.as_ref(), Err(e), "{raw:?}"),
            Ok(_) => assert_eq!(reject, Err(PathError::PathParameters), "{raw:?}"),
        }
        assert_eq!(
            canonicalize(raw, &opts(PathParameters::Strip)).as_deref(),
            strip.as_deref(),
            "{raw:?}"
        );
        assert_eq!(
            canonicalize(raw, &opts(PathParameters::Keep)).as_deref(),
            keep.as_deref(),
            "{raw:?}"
        );
    }
    // A query may hold `;` whatever the setting: it is not part of the path.
    assert_eq!(canon("/a?b=1;c=2"), Ok("/a".into()));
    let c = canonical("/admin;x=1?q", &opts(PathParameters::Strip)).unwrap();
    assert_eq!((c.forward(), c.changed), ("/admin?q".to_string(), true));
}

#[test]
fn canonical_forms() {
    let cases: &[(&str, &str)] = &[
        ("/", "/"),
        ("/a/b", "/a/b"),
        ("/a/b/", "/a/b/"),
        ("/a?x=1", "/a"),
        ("/a#frag", "/a"),
        ("/a?x#f", "/a"),
        ("//a///b//", "/a/b/"),
        ("/a/./b", "/a/b"),
        ("/a/../b", "/b"),
        ("/../../a", "/a"),
        ("/a/..", "/"),
        ("/a/b/..", "/a/"),
        ("/a/.", "/a/"),
        ("/..", "/"),
        ("/.", "/"),
        ("//..//a", "/a"),
        ("/%2e%2e/admin", "/admin"),
        ("/public/%2E%2e/admin", "/admin"),
        ("/public/.%2e/admin", "/admin"),
        ("/%61dmin", "/admin"),
        ("/%7Euser", "/~user"),
        ("/a%3ab%40c%2b%2C%3d", "/a:b@c+,="),
        ("/a%25%20%7c%5b", "/a%25%20%7C%5B"),
        ("/a[b]", "/a%5Bb%5D"),
        ("/a%c3%a9", "/a%C3%A9"),
        ("/a|b{c}", "/a%7Cb%7Bc%7D"),
        ("/a/...", "/a/..."),
        ("/a/.../b", "/a/.../b"),
        ("/%252e%252e/x", "/%252e%252e/x"),
        ("/%41%2e/%2D", "/A./-"),
    ];
    for (raw, want) in cases {
        assert_eq!(canon(raw).as_deref(), Ok(*want), "{raw}");
    }
}

#[test]
fn ambiguous_paths_are_refused() {
    let cases: &[(&str, PathError)] = &[
        ("", PathError::NotAbsolute),
        ("*", PathError::NotAbsolute),
        ("http://a/b", PathError::NotAbsolute),
        ("?x", PathError::NotAbsolute),
        ("/a%2Fb", PathError::EscapedSlash),
        ("/a%2fb", PathError::EscapedSlash),
        ("/a%5Cb", PathError::EscapedSlash),
        ("/a\\b", PathError::Backslash),
        ("/a\0b", PathError::ControlCharacter { byte: 0 }),
        ("/a%00b", PathError::ControlCharacter { byte: 0 }),
        ("/a\nb", PathError::ControlCharacter { byte: b'\n' }),
        ("/a%0d%0ab", PathError::ControlCharacter { byte: b'\r' }),
        ("/a b", PathError::ControlCharacter { byte: b' ' }),
        ("/a\x7f", PathError::ControlCharacter { byte: 0x7F }),
        ("/é", PathError::NonAscii),
        ("/a%", PathError::InvalidEscape),
        ("/a%4", PathError::InvalidEscape),
        ("/a%G0", PathError::InvalidEscape),
        ("/a%%41", PathError::InvalidEscape),
        ("/public/..;/admin", PathError::DotSegmentWithParameters),
        ("/public/.;x/admin", PathError::DotSegmentWithParameters),
        ("/public/%2e%2e;/admin", PathError::DotSegmentWithParameters),
        ("/admin%3F/x", PathError::EscapedDelimiter),
        ("/admin%23x", PathError::EscapedDelimiter),
        ("/admin%3f", PathError::EscapedDelimiter),
        ("/admin%3Bx", PathError::EscapedDelimiter),
    ];
    for (raw, want) in cases {
        assert_eq!(canon(raw).as_ref(), Err(want), "{raw:?}");
    }
    // Found by the fuzzer: within the limit as sent, beyond it once encoded.
    let grows = format!("/{}", "|".repeat(DEFAULT_MAX_LENGTH / 2));
    assert_eq!(
        canon(&grows),
        Err(PathError::TooLong {
            max: DEFAULT_MAX_LENGTH
        })
    );
    let long = format!("/{}", "a".repeat(DEFAULT_MAX_LENGTH));
    assert_eq!(
        canon(&long),
        Err(PathError::TooLong {
            max: DEFAULT_MAX_LENGTH
        })
    );
}

#[test]
fn a_dot_segment_ending_the_query_does_not_count() {
    // Only the path part is checked: bytes after '?' or '#' belong to the query/fragment.
    assert_eq!(canon("/a?b=..;/x"), Ok("/a".into()));
    assert_eq!(canon("/a#%zz"), Ok("/a".into()));
}

#[test]
fn escaped_slash_options() {
    let mut o = Options {
        escaped_slashes: EscapedSlashes::Keep,
        ..Options::default()
    };
    assert_eq!(canonicalize("/a%2fb/%5c", &o), Ok("/a%2Fb/%5C".into()));
    assert_eq!(canonicalize("/a/..%2F..%2Fb", &o), Ok("/a/..%2F..%2Fb".into()));
    o.escaped_slashes = EscapedSlashes::Unescape;
    assert_eq!(canonicalize("/public%2F..%2Fadmin", &o), Ok("/admin".into()));
    assert_eq!(canonicalize("/a%5Cb", &o), Err(PathError::Backslash));
    o.backslash = Backslash::Slash;
    assert_eq!(canonicalize("/public%5C..%5Cadmin", &o), Ok("/admin".into()));
    assert_eq!(canonicalize("/public\\..\\admin", &o), Ok("/admin".into()));
}

#[test]
fn forward_reports_changes_and_keeps_the_query() {
    let o = Options::default();
    let c = canonical("/a//b/../c?x=%2F&y=..#f", &o).unwrap();
    assert_eq!(c.path, "/a/c");
    assert_eq!(c.query.as_deref(), Some("x=%2F&y=.."));
    assert!(c.changed);
    assert_eq!(c.forward(), "/a/c?x=%2F&y=..");
    let c = canonical("/a/c?x", &o).unwrap();
    assert!(!c.changed);
    assert_eq!(c.forward(), "/a/c?x");
    assert!(canonical("/a#", &o).unwrap().changed);
    assert!(canonical("/%41", &o).unwrap().changed);
}

#[test]
fn reject_if_changed() {
    let o = Options {
        forward: Forward::RejectIfChanged,
        ..Options::default()
    };
    assert_eq!(canonicalize("/a/b?q", &o), Ok("/a/b".into()));
    for raw in ["/a//b", "/a/./b", "/%61", "/a%3a", "/a%7c", "/a#f", "/a|b"] {
        assert_eq!(canonicalize(raw, &o), Err(PathError::NotCanonical), "{raw}");
    }
}

#[test]
fn is_canonical_matches_canonicalize() {
    let o = Options::default();
    assert!(is_canonical("/api/v1/", &o));
    assert!(!is_canonical("/api//v1", &o));
    assert!(!is_canonical("/api?x", &o));
    assert!(!is_canonical("api", &o));
}

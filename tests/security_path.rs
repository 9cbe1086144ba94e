//! Path canonicalization, black-box: its invariants over random paths (idempotent, no dot or
//! empty segment, one spelling per meaning), and no path reaching a DENY-protected resource
//! past the engine.

#[path = "common/xorshift.rs"]
mod xorshift;

use spiffe_authz::request::path::{
    self, canonical, canonicalize, Backslash, EscapedSlashes, Forward, Options, PathParameters,
};
use spiffe_authz::request::{incoming, Attribute, HostReads};
use spiffe_authz::{Engine, Workload};
use xorshift::Rng;

/// Pieces attackers and broken clients put in paths.
const TOKENS: &[&str] = &[
    "/",
    "/",
    "/",
    "//",
    ".",
    "..",
    "...",
    "%2e",
    "%2E",
    "%2e%2e",
    ".%2e",
    "a",
    "B",
    "admin",
    "Admin",
    "public",
    "%61dmin",
    "%41",
    "%2f",
    "%2F",
    "%5c",
    "%5C",
    "\\",
    ";",
    "..;",
    ";x",
    "?",
    "#",
    "%3f",
    "%3F",
    "%23",
    "%3b",
    "%25",
    "%252e",
    "%",
    "%G",
    "%4",
    "~",
    "%7e",
    "%7E",
    "|",
    "{",
    "}",
    "[",
    "%5B",
    "%3a",
    "%3A",
    ":",
    "@",
    "%40",
    " ",
    "%20",
    "\t",
    "\0",
    "%00",
    "%0a",
    "\u{e9}",
    "%c3%a9",
    "*",
    "+",
    "%2b",
    "=",
    "&",
    "'",
    "%7c",
    "v1",
    "items:delete",
    "%7f",
    "\u{7f}",
];

fn random_raw(rng: &mut Rng) -> String {
    let mut s = String::new();
    if !rng.one_in(50) {
        s.push('/');
    }
    for _ in 0..rng.below(12) {
        s.push_str(rng.pick(TOKENS));
    }
    s
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~".contains(&b)
}

/// What a server that percent-decodes the whole path, then resolves dot segments and merges
/// slashes, serves: the segments and whether the path ends with a slash. Written independently
/// of the canonicalizer, from the RFC.
fn server_view(p: &str) -> (Vec<Vec<u8>>, bool) {
    let b = p.as_bytes();
    let mut dec = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let (Some(h), Some(l)) = (b.get(i + 1).and_then(|&x| hex(x)), b.get(i + 2).and_then(|&x| hex(x))) {
                dec.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        dec.push(b[i]);
        i += 1;
    }
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut trailing = false;
    for seg in dec.split(|&c| c == b'/').skip(1) {
        trailing = matches!(seg, b"" | b"." | b"..");
        match seg {
            b"" | b"." => {}
            b".." => {
                out.pop();
            }
            s => out.push(s.to_vec()),
        }
    }
    let trailing = trailing || out.is_empty();
    (out, trailing)
}

/// The path part of a raw `:path`.
fn path_part(raw: &str) -> &str {
    let end = raw.find(['?', '#']).unwrap_or(raw.len());
    &raw[..end]
}

/// Re-spells a server view with as few escapes as possible.
fn respell(view: &(Vec<Vec<u8>>, bool)) -> String {
    let mut s = String::new();
    for seg in &view.0 {
        s.push('/');
        for &b in seg {
            if b.is_ascii_graphic() && !b"%?#/\\\"<>[]^`{|}".contains(&b) {
                s.push(b as char);
            } else {
                s.push_str(&format!("%{b:02X}"));
            }
        }
    }
    if view.1 {
        s.push('/');
    }
    s
}

fn option_sets() -> Vec<Options> {
    let mut v = vec![Options::default()];
    let mut o = Options::default();
    o.escaped_slashes = EscapedSlashes::Keep;
    v.push(o);
    let mut o = Options::default();
    o.escaped_slashes = EscapedSlashes::Unescape;
    o.backslash = Backslash::Slash;
    v.push(o);
    for params in [PathParameters::Strip, PathParameters::Keep] {
        let mut o = Options::default();
        o.path_parameters = params;
        v.push(o);
    }
    v
}

/// Checks every invariant of one canonical path; returns what is wrong.
fn invariants(c: &str, opts: &Options) -> Result<(), String> {
    if !c.starts_with('/') {
        return Err("does not start with /".into());
    }
    for bad in ["//", "/./", "/../", "?", "#", "\\"] {
        if c.contains(bad) {
            return Err(format!("contains {bad:?}"));
        }
    }
    if c.ends_with("/.") || c.ends_with("/..") {
        return Err("ends with a dot segment".into());
    }
    if c.contains(';') && opts.path_parameters != PathParameters::Keep {
        return Err("a ';' path parameter accepted".into());
    }
    let b = c.as_bytes();
    for (i, &x) in b.iter().enumerate() {
        if !x.is_ascii_graphic() || b"\"<>[]^`{|}".contains(&x) {
            return Err(format!("raw byte 0x{x:02X}"));
        }
        if x == b'%' {
            let (Some(&h), Some(&l)) = (b.get(i + 1), b.get(i + 2)) else {
                return Err("truncated escape".into());
            };
            if h.is_ascii_lowercase() || l.is_ascii_lowercase() {
                return Err("lowercase escape".into());
            }
            let (Some(h), Some(l)) = (hex(h), hex(l)) else {
                return Err("invalid escape".into());
            };
            let d = h * 16 + l;
            if unreserved(d) || b"!$&'()*+,=:@".contains(&d) {
                return Err(format!("escape of {:?} left encoded", d as char));
            }
            if d < 0x20 || d == 0x7F || b"?#;".contains(&d) {
                return Err(format!("escape of 0x{d:02X} accepted"));
            }
            if (d == b'/' || d == b'\\') && opts.escaped_slashes != EscapedSlashes::Keep {
                return Err("escaped slash accepted".into());
            }
        }
    }
    for seg in c.split('/') {
        if matches!(seg.split(';').next(), Some("." | "..")) {
            return Err(format!("dot segment {seg:?}"));
        }
    }
    Ok(())
}

#[test]
fn canonicalization_is_idempotent_and_clean_for_random_paths() {
    let mut rng = Rng::new(7);
    let sets = option_sets();
    let (mut accepted, mut refused) = (0, 0);
    for n in 0..100_000 {
        let raw = random_raw(&mut rng);
        for opts in &sets {
            match canonicalize(&raw, opts) {
                Ok(c) => {
                    accepted += 1;
                    assert_eq!(invariants(&c, opts), Ok(()), "#{n} {raw:?} -> {c:?}");
                    assert_eq!(
                        canonicalize(&c, opts).as_ref(),
                        Ok(&c),
                        "#{n} not idempotent: {raw:?} -> {c:?}"
                    );
                    assert!(path::is_canonical(&c, opts), "#{n} {c:?}");
                    let mut strict = opts.clone();
                    strict.forward = Forward::RejectIfChanged;
                    let again = canonical(&c, &strict).unwrap();
                    assert!(!again.changed && again.path == c, "#{n} {c:?}");
                }
                Err(_) => refused += 1,
            }
        }
    }
    assert!(
        accepted > 50_000 && refused > 50_000,
        "generator too one-sided: {accepted}/{refused}"
    );
}

/// With `pathParameters: strip`, the path decided on is the one a servlet container serves:
/// `;...` cut from every raw segment, then decoded and normalized.
#[test]
fn stripped_parameters_leave_the_servlet_view() {
    let mut opts = Options::default();
    opts.path_parameters = PathParameters::Strip;
    let mut rng = Rng::new(13);
    let mut checked = 0;
    for n in 0..100_000 {
        let raw = random_raw(&mut rng);
        let Ok(c) = canonicalize(&raw, &opts) else { continue };
        checked += 1;
        let servlet: Vec<&str> = path_part(&raw)
            .split('/')
            .map(|s| s.split(';').next().unwrap_or(s))
            .collect();
        assert_eq!(
            server_view(&c),
            server_view(&servlet.join("/")),
            "#{n} {raw:?} -> {c:?}"
        );
    }
    assert!(checked > 20_000, "only {checked} accepted");
}

#[test]
fn one_spelling_per_meaning() {
    // With the defaults: the canonical path means what the raw path means to a server that
    // decodes everything, and any two paths such a server cannot tell apart get one canonical
    // form, so no spelling of a DENY-protected path slips past its rule.
    let opts = Options::default();
    let mut rng = Rng::new(11);
    let mut checked = 0;
    for n in 0..100_000 {
        let raw = random_raw(&mut rng);
        let Ok(c) = canonicalize(&raw, &opts) else { continue };
        checked += 1;
        let view = server_view(path_part(&raw));
        assert_eq!(server_view(&c), view, "#{n} meaning changed: {raw:?} -> {c:?}");
        assert_eq!(
            canonicalize(&respell(&view), &opts).as_ref(),
            Ok(&c),
            "#{n} two spellings: {raw:?}"
        );
    }
    assert!(checked > 20_000, "{checked}");
}

#[test]
fn unescape_option_keeps_the_meaning_for_decoding_servers() {
    let mut opts = Options::default();
    opts.escaped_slashes = EscapedSlashes::Unescape;
    let mut rng = Rng::new(13);
    for n in 0..50_000 {
        let raw = random_raw(&mut rng);
        let Ok(c) = canonicalize(&raw, &opts) else { continue };
        assert_eq!(server_view(&c), server_view(path_part(&raw)), "#{n} {raw:?} -> {c:?}");
    }
}

const BUNDLE: &str = r#"{
  "workload": {"namespace": "app", "serviceAccount": "app", "labels": {"app": "app"}},
  "resources": [
    {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
     "metadata": {"name": "deny-admin", "namespace": "app"},
     "spec": {"action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/admin", "/admin/*", "/v1/items:delete"]}}]}]}},
    {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
     "metadata": {"name": "allow-all", "namespace": "app"},
     "spec": {"rules": [{}]}}
  ]
}"#;

fn engine() -> Result<Engine, spiffe_authz::BundleError> {
    Engine::from_json(BUNDLE.as_bytes(), &Workload::default())
}

/// A host with no attributes (no peer certificate).
struct NoHost;

impl HostReads for NoHost {
    fn read(&mut self, _: Attribute) -> Option<Vec<u8>> {
        None
    }
}

/// What the filter does with a raw `:path` (the same glue, `request::incoming`): 400, or the
/// engine's decision on the canonical path; the path it forwards is decided alike.
fn filter(e: &Engine, raw: &str) -> &'static str {
    let read = |p: &str| {
        incoming(
            e.plan(),
            &[
                (":method".as_bytes(), b"GET".as_slice()),
                (":path".as_bytes(), p.as_bytes()),
            ],
            &mut NoHost,
        )
    };
    match read(raw) {
        Err(_) => "400",
        Ok(i) => {
            let forwarded = i.forward_path.as_deref().unwrap_or(raw);
            let again = read(forwarded).map(|j| j.request.path);
            assert_eq!(
                again.as_deref(),
                Ok(i.request.path.as_str()),
                "{raw}: forwarded as {forwarded}"
            );
            if e.evaluate(&i.request).allowed() {
                "allow"
            } else {
                "deny"
            }
        }
    }
}

#[test]
fn cve_path_families_never_reach_a_denied_path() {
    let e = engine().unwrap();
    let cases: &[(&str, &str)] = &[
        ("/admin", "deny"),
        ("/Admin", "allow"), // another resource: paths are case-sensitive
        ("/admin/", "deny"),
        ("/admin/x", "deny"),
        ("/admin?x=1", "deny"),
        ("/admin#x", "deny"),
        ("/admin/#/../../public", "deny"),
        ("//admin", "deny"),
        ("///admin//x", "deny"),
        ("/./admin", "deny"),
        ("/public/../admin", "deny"),
        ("/public/../../admin", "deny"),
        ("/public/%2e%2e/admin", "deny"),
        ("/public/%2E%2E/admin", "deny"),
        ("/public/.%2e/admin", "deny"),
        ("/%2e/admin", "deny"),
        ("/%61dmin", "deny"),
        ("/%61%64%6d%69%6e/x", "deny"),
        ("/public%2f..%2fadmin", "400"),
        ("/public%2F..%2Fadmin", "400"),
        ("/admin%2f", "400"),
        ("/public%5c..%5cadmin", "400"),
        ("/public\\..\\admin", "400"),
        ("/public/..;/admin", "400"),
        // Servlet containers serve /admin;x as /admin: refused by default (pathParameters).
        ("/admin;x", "400"),
        ("/;x/admin", "400"),
        ("/admin;jsessionid=0/users", "400"),
        ("/admin%3bx", "400"),
        ("/admin%3f.png", "400"),
        ("/admin%23", "400"),
        ("/admin%00.png", "400"),
        ("/admin\0", "400"),
        ("/admin%0d%0a", "400"),
        ("/admin\u{e9}", "400"),
        ("/%252e%252e/admin", "allow"), // one literal segment "%2e%2e" after one decoding
        ("/v1/items:delete", "deny"),
        ("/v1/items%3adelete", "deny"),
        ("/v1/items%3Adelete", "deny"),
        ("/v1//items:delete", "deny"),
        ("/v1/./items%3adelete?x", "deny"),
        ("admin", "400"),
        ("*", "400"),
        ("/public", "allow"),
    ];
    let mut bad = Vec::new();
    for (raw, want) in cases {
        let got = filter(&e, raw);
        if got != *want {
            bad.push(format!("{raw:?}: expected {want}, got {got}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn random_paths_never_reach_a_denied_path() {
    // Every path a decoding server would serve as /admin, /admin/..., or /v1/items:delete is
    // refused or denied.
    let e = engine().unwrap();
    let mut rng = Rng::new(17);
    let mut hits = 0;
    for n in 0..200_000 {
        let raw = random_raw(&mut rng);
        let (segs, _) = server_view(path_part(&raw));
        let protected = segs.first().is_some_and(|s| s == b"admin")
            || (segs.len() == 2 && segs[0] == b"v1" && segs[1] == b"items:delete");
        if protected {
            hits += 1;
            let got = filter(&e, &raw);
            assert_ne!(got, "allow", "#{n} bypass: {raw:?}");
        }
    }
    assert!(hits > 100, "generator rarely reaches /admin: {hits}");
}

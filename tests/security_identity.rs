//! Identity, black-box: only a valid SPIFFE ID from the validated client certificate counts.
//! Anything else is unauthenticated and matches no identity rule; identity headers a client can
//! write (x-forwarded-client-cert and friends) are never read.

use spiffe_authz::{Engine, Peer, Request, Workload};

/// ALLOW rules on every identity field, each written to catch odd peers if they were matched as
/// strings: presence, the empty-looking and upper-case forms, namespaces, service accounts.
const BUNDLE: &str = r#"{
  "workload": {"namespace": "app", "serviceAccount": "app", "labels": {"app": "app"}, "trustDomain": "cluster.local"},
  "resources": [
    {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
     "metadata": {"name": "allow-identities", "namespace": "app"},
     "spec": {"rules": [
       {"from": [{"source": {"principals": ["*"]}}], "to": [{"operation": {"paths": ["/any-peer"]}}]},
       {"from": [{"source": {"principals": ["cluster.local/ns/admin/sa/admin", "Cluster.Local/ns/admin/sa/admin", "*/ns/admin/sa/admin"]}}],
        "to": [{"operation": {"paths": ["/admin"]}}]},
       {"from": [{"source": {"namespaces": ["*"]}}], "to": [{"operation": {"paths": ["/any-ns"]}}]},
       {"from": [{"source": {"namespaces": ["admin"]}}], "to": [{"operation": {"paths": ["/admin-ns"]}}]},
       {"from": [{"source": {"serviceAccounts": ["admin/admin"]}}], "to": [{"operation": {"paths": ["/admin-sa"]}}]},
       {"when": [{"key": "source.principal", "values": ["*"]}], "to": [{"operation": {"paths": ["/when-principal"]}}]},
       {"when": [{"key": "source.namespace", "values": ["*"]}], "to": [{"operation": {"paths": ["/when-ns"]}}]}
     ]}}
  ]
}"#;

const PATHS: &[&str] = &[
    "/any-peer",
    "/admin",
    "/any-ns",
    "/admin-ns",
    "/admin-sa",
    "/when-principal",
    "/when-ns",
];

fn engine() -> Result<Engine, spiffe_authz::BundleError> {
    Engine::from_json(BUNDLE.as_bytes(), &Workload::default())
}

fn allowed(e: &Engine, peer: &Peer, path: &str, headers: &[(&str, &str)]) -> bool {
    let mut r = Request::new("GET", path);
    r.peer = peer.clone();
    for (k, v) in headers {
        r.add_header(k, v);
    }
    e.evaluate(&r).allowed()
}

/// URI SANs a certificate might carry that are not valid SPIFFE IDs.
const NOT_SPIFFE: &[&str] = &[
    "",
    "\0",
    "spiffe://",
    "spiffe:///",
    "spiffe:///ns/admin/sa/admin",
    "spiffe://\0/ns/admin/sa/admin",
    "spiffe://cluster.local\0/ns/admin/sa/admin",
    "spiffe://cluster.local/ns/admin/sa/admin\0",
    "spiffe://cluster.local/ns/admin/sa/admin\0.evil",
    "SPIFFE://cluster.local/ns/admin/sa/admin",
    "Spiffe://cluster.local/ns/admin/sa/admin",
    "spiffe://Cluster.Local/ns/admin/sa/admin",
    "spiffe://CLUSTER.LOCAL/ns/admin/sa/admin",
    " spiffe://cluster.local/ns/admin/sa/admin",
    "spiffe://cluster.local/ns/admin/sa/admin ",
    "spiffe://cluster.local/ns/admin/sa/admin/",
    "spiffe://cluster.local//ns/admin/sa/admin",
    "spiffe://cluster.local/ns/admin/sa/../sa/admin",
    "spiffe://cluster.local/ns/./admin/sa/admin",
    "spiffe://cluster.local/ns/admin/sa/admin?x=1",
    "spiffe://cluster.local/ns/admin/sa/admin#x",
    "spiffe://user@cluster.local/ns/admin/sa/admin",
    "spiffe://cluster.local:443/ns/admin/sa/admin",
    "spiffe://cluster.local/ns/admin/sa/adm\u{ed}n",
    "spiffe:/cluster.local/ns/admin/sa/admin",
    "spiffe:cluster.local/ns/admin/sa/admin",
    "cluster.local/ns/admin/sa/admin",
    "https://cluster.local/ns/admin/sa/admin",
    "urn:spiffe:cluster.local:ns:admin",
    "*",
];

#[test]
fn control_a_valid_peer_is_allowed_everywhere() {
    let e = engine().unwrap();
    let admin = Peer::from_uri_san("spiffe://cluster.local/ns/admin/sa/admin");
    assert!(matches!(admin, Peer::Spiffe(_)));
    for p in PATHS {
        assert!(allowed(&e, &admin, p, &[]), "{p}");
    }
}

#[test]
fn a_san_that_is_not_a_spiffe_id_is_unauthenticated_and_matches_no_rule() {
    let e = engine().unwrap();
    let mut bad = Vec::new();
    for san in NOT_SPIFFE {
        let peer = Peer::from_uri_san(*san);
        if peer.id().is_some() {
            bad.push(format!("{san:?} parsed as {peer:?}"));
        }
        for p in PATHS {
            if allowed(&e, &peer, p, &[]) {
                bad.push(format!("{san:?} allowed on {p}"));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn no_certificate_matches_no_identity_rule() {
    let e = engine().unwrap();
    for p in PATHS {
        assert!(!allowed(&e, &Peer::Unauthenticated, p, &[]), "{p}");
    }
}

#[test]
fn identity_headers_are_ignored() {
    let e = engine().unwrap();
    let spoof: &[(&str, &str)] = &[
        (
            "x-forwarded-client-cert",
            "By=spiffe://cluster.local/ns/app/sa/app;Hash=00;URI=spiffe://cluster.local/ns/admin/sa/admin",
        ),
        (
            "x-forwarded-client-cert",
            "URI=spiffe://cluster.local/ns/admin/sa/admin",
        ),
        ("x-spiffe-id", "spiffe://cluster.local/ns/admin/sa/admin"),
        ("x-client-cert-san", "spiffe://cluster.local/ns/admin/sa/admin"),
        ("x-forwarded-for", "10.0.0.1"),
        (
            "x-envoy-peer-metadata-id",
            "sidecar~10.0.0.1~admin.admin~admin.svc.cluster.local",
        ),
        ("authorization", "Bearer x"),
    ];
    for p in PATHS {
        assert!(
            !allowed(&e, &Peer::Unauthenticated, p, spoof),
            "unauthenticated + headers on {p}"
        );
    }
    // A valid but other peer cannot borrow the admin identity through a header either.
    let other = Peer::from_uri_san("spiffe://cluster.local/ns/other/sa/other");
    for p in ["/admin", "/admin-ns", "/admin-sa"] {
        assert!(!allowed(&e, &other, p, spoof), "other peer + headers on {p}");
    }
    // The filter fetches only the headers a rule names: none of these.
    assert!(
        e.plan().headers().iter().all(|h| !h.starts_with("x-")),
        "{:?}",
        e.plan().headers()
    );
}

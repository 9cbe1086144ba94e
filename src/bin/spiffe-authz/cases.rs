//! Request/expectation files: the format is the library's (`spiffe_authz::cases`, shared with
//! the conformance and owner suites, so that `spiffe-authz test` builds each request with the
//! filter's own glue). What the CLI adds: a case's `principal` may be spelled as policies spell
//! it (Istio `cluster.local/ns/x/sa/y`, Linkerd's DNS-like name), as for `--principal`.

pub use spiffe_authz::cases::{Case, CaseFile, Got, Mismatch};
use spiffe_authz::Engine;

/// Decides a case; the differences (none: it passes). A principal in another spelling is taken
/// as the SPIFFE ID it names; one that names none is a mismatch, never "no certificate".
pub fn check(engine: &Engine, c: &Case) -> (Got, Vec<Mismatch>) {
    let Some(p) = c.principal.as_deref().filter(|p| !p.contains("://")) else {
        return spiffe_authz::cases::check(engine, c);
    };
    match crate::principal::peer(p) {
        Ok(peer) => {
            let mut c = c.clone();
            c.principal = peer.id().map(|id| id.as_str().to_string());
            spiffe_authz::cases::check(engine, &c)
        }
        Err(why) => {
            let (got, _) = spiffe_authz::cases::check(engine, c);
            let bad = vec![Mismatch {
                field: "principal",
                expected: "a SPIFFE ID".into(),
                got: why.replace("--principal", "principal"),
            }];
            (got, bad)
        }
    }
}

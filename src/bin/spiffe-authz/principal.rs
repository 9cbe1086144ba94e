//! `--principal`: the caller's identity as users write it. The filter reads the client
//! certificate's URI SAN, a SPIFFE ID (`spiffe://cluster.local/ns/shop/sa/web`); policies spell
//! the same identity differently (Istio `cluster.local/ns/shop/sa/web`, Linkerd
//! `web.shop.serviceaccount.identity.linkerd.cluster.local`). Each spelling is taken as the
//! SPIFFE ID it names; anything else is an error, never silently "no certificate".

use spiffe_authz::{Peer, SpiffeId};

/// The peer a `--principal` value names.
pub fn peer(value: &str) -> Result<Peer, String> {
    let uri = if value.contains("://") {
        value.to_string()
    } else if let Some(uri) = linkerd_identity(value) {
        uri
    } else if value.contains('/') {
        // Istio's spelling: the SPIFFE ID without its scheme.
        format!("spiffe://{value}")
    } else {
        return Err(format!(
            "--principal {value:?} is not a SPIFFE ID: write spiffe://TRUST_DOMAIN/ns/NS/sa/SA \
             (Istio's TRUST_DOMAIN/ns/NS/sa/SA is accepted too); leave --principal out for a \
             request without a client certificate"
        ));
    };
    SpiffeId::parse(uri.clone()).map(Peer::Spiffe).ok_or_else(|| {
        format!(
            "--principal {value:?}: {uri:?} is not a valid SPIFFE ID (lowercase scheme and trust \
             domain, no empty, `.` or `..` segments, no query, port or user). The filter treats \
             a certificate carrying it as unauthenticated: to decide such a request, leave \
             --principal out"
        )
    })
}

/// Linkerd's DNS-like name `<sa>.<ns>.serviceaccount.identity.<control-plane-ns>.<td>` as
/// `spiffe://<td>/ns/<ns>/sa/<sa>`.
pub fn linkerd_identity(value: &str) -> Option<String> {
    let (head, tail) = value.split_once(".serviceaccount.identity.")?;
    let (sa, ns) = head.split_once('.')?;
    let (_control_plane, td) = tail.split_once('.')?;
    let ok = |s: &str| !s.is_empty() && !s.contains(['/', '*']);
    (ok(sa) && ok(ns) && ok(td)).then(|| format!("spiffe://{td}/ns/{ns}/sa/{sa}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(v: &str) -> Result<String, String> {
        peer(v).map(|p| p.id().map(|i| i.as_str().to_string()).unwrap_or_default())
    }

    #[test]
    fn spiffe_ids_are_taken_as_given() {
        assert_eq!(id("spiffe://td/ns/a/sa/b").unwrap(), "spiffe://td/ns/a/sa/b");
    }

    #[test]
    fn istio_spelling_is_the_same_spiffe_id() {
        assert_eq!(
            id("cluster.local/ns/x/sa/y").unwrap(),
            "spiffe://cluster.local/ns/x/sa/y"
        );
    }

    #[test]
    fn linkerd_spelling_is_the_same_spiffe_id() {
        assert_eq!(
            id("web.emojivoto.serviceaccount.identity.linkerd.cluster.local").unwrap(),
            "spiffe://cluster.local/ns/emojivoto/sa/web"
        );
    }

    #[test]
    fn anything_else_is_an_error_not_an_unauthenticated_peer() {
        for bad in [
            "frontend-sa",
            "",
            "https://example.com/x",
            "spiffe://TD/ns/a",
            "spiffe://td//x",
        ] {
            let e = id(bad).unwrap_err();
            assert!(e.contains("--principal"), "{bad}: {e}");
        }
        assert!(id("web").unwrap_err().contains("Istio's"));
        assert!(id("spiffe://td/a/../b").unwrap_err().contains("unauthenticated"));
    }
}

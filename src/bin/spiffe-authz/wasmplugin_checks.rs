//! What the Kubernetes API server would refuse in a WasmPlugin, refused before `kubectl apply`,
//! and what would not fit, warned about.
//!
//! The rules are the WasmPlugin CRD's (istio/api b8f8791 `extensions/v1alpha1/wasm.proto`,
//! `type/v1beta1/selector.proto`, rendered in `kubernetes/customresourcedefinitions.gen.yaml`)
//! and istiod's validation webhook (istio/istio 86c9f01 `pkg/config/validation/validation.go`
//! `ValidateWasmPlugin`), plus Kubernetes' own object-name rules.

use std::collections::BTreeMap;

/// Kubernetes caps the annotations of one object at 256 KiB in all
/// (`TotalAnnotationSizeLimitB`, apimachinery `ValidateAnnotationsSize`). Client-side
/// `kubectl apply` copies the whole object into `kubectl.kubernetes.io/last-applied-configuration`,
/// so above this the apply is refused; `kubectl apply --server-side`, `create` and `replace`
/// write no such annotation.
pub const ANNOTATIONS_LIMIT: usize = 256 * 1024;

/// etcd's default request limit (`--max-request-bytes`, 1.5 MiB): the API server cannot store a
/// larger object, however it is applied.
pub const OBJECT_LIMIT: usize = 1536 * 1024;

/// DNS-1123 label: metadata.namespace.
pub fn namespace(ns: &str) -> Result<(), String> {
    dns_label(ns).map_err(|why| format!("namespace {ns:?}: {why}"))
}

/// DNS-1123 subdomain: metadata.name of a custom resource.
pub fn name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty() && name.len() <= 253 && name.split('.').all(|l| dns_label(l).is_ok());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "name {name:?}: a Kubernetes object name is at most 253 characters of lowercase \
             letters, digits, '-' and '.', starting and ending with a letter or digit"
        ))
    }
}

fn dns_label(l: &str) -> Result<(), String> {
    let chars_ok = l
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ends_ok = !l.starts_with('-') && !l.ends_with('-');
    if l.is_empty() || l.len() > 63 || !chars_ok || !ends_ok {
        return Err("at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit".into());
    }
    Ok(())
}

/// `selector.matchLabels`: the CRD refuses empty keys, wildcards, and values over 63
/// characters; a key or value that is not a valid label could never match a pod, so it is
/// refused too.
pub fn selector(labels: &BTreeMap<String, String>) -> Result<(), String> {
    for (k, v) in labels {
        let bad = |why: &str| Err(format!("selector {k}={v}: {why}"));
        if k.is_empty() {
            return bad("the key is empty");
        }
        if k.contains('*') || v.contains('*') {
            return bad("wildcards are not allowed in a workload selector (Istio matches labels exactly)");
        }
        if v.len() > 63 {
            return bad("a label value is at most 63 characters");
        }
        let (prefix, key) = k.rsplit_once('/').map_or((None, k.as_str()), |(p, n)| (Some(p), n));
        if prefix.is_some_and(|p| name(p).is_err()) || !label_text(key) || key.is_empty() {
            return bad("not a Kubernetes label key ([prefix/]name, name at most 63 characters)");
        }
        if !v.is_empty() && !label_text(v) {
            return bad("not a Kubernetes label value (letters, digits, '-', '_', '.', alphanumeric at both ends)");
        }
    }
    Ok(())
}

/// A label name or value: at most 63 of `[A-Za-z0-9-_.]`, alphanumeric at both ends.
fn label_text(s: &str) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    s.len() <= 63
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && alnum(s.chars().next())
        && alnum(s.chars().last())
}

/// `url`: the CRD's rule (a URL whose scheme is one of "", http, https, oci, file; without a
/// scheme Istio means oci://).
pub fn url(url: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("--url {url:?}: {why}"));
    if url.is_empty() {
        return bad("empty");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("a URL has no spaces or control characters");
    }
    let rest = match url.split_once("://") {
        Some((scheme, rest)) => {
            if !["http", "https", "oci", "file"].contains(&scheme) {
                return bad("the scheme must be one of oci, https, http, file (Istio's WasmPlugin CRD)");
            }
            rest
        }
        None => url,
    };
    if rest.is_empty() || rest.starts_with('/') && !url.starts_with("file://") {
        return bad("no host or registry");
    }
    Ok(())
}

/// `targetRefs`: the kinds Istio attaches a WasmPlugin to (validation.go `allowedTargetRefs`).
pub fn target_kind(kind: &str) -> Result<&'static str, String> {
    match kind {
        "Gateway" | "GatewayClass" => Ok("gateway.networking.k8s.io"),
        "Service" => Ok(""),
        "ServiceEntry" => Ok("networking.istio.io"),
        other => Err(format!(
            "--target-ref kind {other:?}: Istio attaches a WasmPlugin to Gateway, GatewayClass, \
             Service (waypoints) or ServiceEntry"
        )),
    }
}

/// Warnings about the object's size (its JSON, as kubectl sends it).
pub fn size(bytes: usize) -> Vec<String> {
    let mut out = Vec::new();
    if bytes > OBJECT_LIMIT {
        out.push(format!(
            "the WasmPlugin is {bytes} bytes: over the API server's {OBJECT_LIMIT}-byte object limit \
             (etcd --max-request-bytes), so no kind of apply can store it. Deliver the bundle by \
             ECDS (`spiffe-authz push`) or split the workloads' policies"
        ));
    } else if bytes > ANNOTATIONS_LIMIT {
        out.push(format!(
            "the WasmPlugin is {bytes} bytes: client-side `kubectl apply` copies it into the \
             last-applied-configuration annotation, and Kubernetes refuses annotations over \
             {ANNOTATIONS_LIMIT} bytes. Use `kubectl apply --server-side` (or kubectl create / \
             replace), which keep no such copy (limit {OBJECT_LIMIT} bytes)"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(k: &str, v: &str) -> BTreeMap<String, String> {
        BTreeMap::from([(k.to_string(), v.to_string())])
    }

    #[test]
    fn names_follow_kubernetes() {
        assert!(name("spiffe-authz.v1").is_ok());
        for bad in ["", "Spiffe", "-a", "a_b", &"a".repeat(254)] {
            assert!(name(bad).is_err(), "{bad}");
        }
        assert!(namespace("istio-system").is_ok());
        assert!(namespace(&"a".repeat(64)).is_err());
        assert!(namespace("a.b").is_err());
    }

    #[test]
    fn selectors_refuse_what_the_crd_refuses() {
        assert!(selector(&labels("app.kubernetes.io/name", "web-1")).is_ok());
        assert!(selector(&labels("app", "")).is_ok());
        for (k, v) in [
            ("", "x"),
            ("app", "*"),
            ("a*", "x"),
            ("app", &"v".repeat(64)),
            ("app", "a b"),
            ("-a", "x"),
        ] {
            assert!(selector(&labels(k, v)).is_err(), "{k}={v}");
        }
    }

    #[test]
    fn urls_need_a_known_scheme() {
        for ok in [
            "oci://r.example/a:1",
            "r.example/a:1",
            "https://h/x.wasm",
            "file:///opt/x.wasm",
        ] {
            assert!(url(ok).is_ok(), "{ok}");
        }
        for bad in ["", "ftp://h/x", "oci:// r/x", "https:///x", "oci://"] {
            assert!(url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn target_kinds_are_istios() {
        assert_eq!(target_kind("Gateway"), Ok("gateway.networking.k8s.io"));
        assert_eq!(target_kind("Service"), Ok(""));
        assert!(target_kind("Deployment").is_err());
    }

    #[test]
    fn sizes_name_the_limit_that_applies() {
        assert!(size(ANNOTATIONS_LIMIT).is_empty());
        let w = size(ANNOTATIONS_LIMIT + 1);
        assert!(w[0].contains("--server-side"), "{w:?}");
        let w = size(OBJECT_LIMIT + 1);
        assert!(w[0].contains("ECDS"), "{w:?}");
    }
}

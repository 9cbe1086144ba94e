use super::*;
use serde_json::json;

fn mentioned(bundle: Value) -> Mentioned {
    let mut m = Mentioned::default();
    m.add_bundle(&bundle);
    m
}

#[test]
fn istio_values_are_gathered_as_request_attributes() {
    let m = mentioned(json!({"workload": {"namespace": "shop"}, "resources": [{
        "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
        "metadata": {"name": "p"},
        "spec": {"rules": [{
            "from": [{"source": {"principals": ["cluster.local/ns/web/sa/front"], "namespaces": ["ops"],
                                 "serviceAccounts": ["batch"], "ipBlocks": ["10.0.0.0/24"]}}],
            "to": [{"operation": {"methods": ["DELETE"], "paths": ["/admin*"], "hosts": ["*.shop.example"],
                                  "ports": ["8443"]}}],
            "when": [{"key": "request.headers[X-Ticket]", "values": ["OPS-*"]}]}]}}]}));
    for id in [
        "spiffe://cluster.local/ns/web/sa/front",
        "spiffe://cluster.local/ns/ops/sa/default",
        "spiffe://cluster.local/ns/shop/sa/batch",
    ] {
        assert!(m.identities.contains(id), "{id}: {:?}", m.identities);
    }
    assert!(m.methods.contains("DELETE"));
    assert!(m.hosts.contains("zz.shop.example"));
    assert!(m.ports.contains(&8443));
    assert!(m.headers.contains(&("x-ticket".into(), "OPS-zz".into())));
    let ips: Vec<String> = m.ips.iter().map(|i| i.to_string()).collect();
    assert_eq!(ips, ["10.0.0.0", "10.0.1.0"], "the block and the address past it");
}

#[test]
fn identities_by_parts_from_other_dialects() {
    let m = mentioned(json!({"workload": {"namespace": "shop"}, "resources": [
        {"apiVersion": "woven-city.global/v1alpha1", "kind": "DrakoPolicy", "metadata": {"name": "a"},
         "spec": {"type": "Source", "spec": {"source": {"namespace": "bar", "serviceAccount": "client"}}}},
        {"apiVersion": "policy.linkerd.io/v1beta1", "kind": "ServerAuthorization", "metadata": {"name": "b"},
         "spec": {"client": {"meshTLS": {"serviceAccounts": [{"name": "web"}],
                  "identities": ["api.prod.serviceaccount.identity.linkerd.cluster.local"]}}}},
        {"apiVersion": "dapr.io/v1alpha1", "kind": "Configuration", "metadata": {"name": "c"},
         "spec": {"accessControl": {"policies": [{"appId": "app1", "namespace": "ns1", "trustDomain": "public"}]}}}]}));
    for id in [
        "spiffe://cluster.local/ns/bar/sa/client",
        "spiffe://cluster.local/ns/shop/sa/web",
        "spiffe://cluster.local/ns/prod/sa/api",
        "spiffe://public/ns/ns1/app1",
    ] {
        assert!(m.identities.contains(id), "{id}: {:?}", m.identities);
    }
    let probes = m.identity_probes();
    assert_eq!(probes[0], None, "no certificate comes first");
    assert!(probes.contains(&Some("spiffe://cluster.local/ns/bar/sa/zz-unlisted".into())));
    assert!(probes.contains(&Some("spiffe://cluster.local/ns/zz-other-namespace/sa/default".into())));
    assert!(
        m.ip_probes().contains(&"127.0.0.1".parse().ok()),
        "Linkerd admits loopback"
    );
}

#[test]
fn path_edges_surround_each_pattern() {
    let e = path_edges("/api/admin/*");
    for want in [
        "/api/admin/zz",
        "/api/admin/",
        "/api/admin",
        "/api/admin/zz/zz",
        "/api/adminzz",
    ] {
        assert!(e.contains(&want.to_string()), "{want}: {e:?}");
    }
    let e = path_edges("/api/profile");
    for want in [
        "/api/profile",
        "/api/profile/",
        "/api/profile/zz",
        "/api/profilezz",
        "/api",
    ] {
        assert!(e.contains(&want.to_string()), "{want}: {e:?}");
    }
    assert!(path_edges("/orders/:").contains(&"/orders/zz".to_string()));
    assert!(path_edges("/a/{**}").contains(&"/a/zz/zz".to_string()));
    assert!(path_edges("/x").contains(&"/".to_string()));
}

#[test]
fn defaults_stay_small_when_nothing_is_mentioned() {
    let m = mentioned(json!({"resources": []}));
    assert_eq!(m.host_probes(), [""]);
    assert_eq!(m.port_probes(), [None]);
    assert_eq!(m.ip_probes(), [None]);
    assert_eq!(m.header_probes(), [None]);
    assert_eq!(m.path_probes(), ["/"]);
    assert_eq!(m.method_probes(), ["GET", "POST"]);
}

"""The bundles test_bypass.py attacks: one per dialect (two for Istio), each written the way a
user would write the rule an attacker wants to dodge (issue 12). The workload is `app/app`
(Dapr app id `app`) in trust domain cluster.local; every client connects from 127.0.0.2 unless a
case says otherwise (rawclient.SOURCE), which is neither Envoy's address nor Linkerd's localhost.
"""

CLIENT = "spiffe://cluster.local/ns/client/sa/client"
ADMIN = "spiffe://cluster.local/ns/admin/sa/admin"
OTHER = "spiffe://cluster.local/ns/other/sa/other"
DAPR_CLIENT = "spiffe://cluster.local/ns/client/client-app"

WORKLOAD = {"namespace": "app", "serviceAccount": "app", "labels": {"app": "app"}, "appId": "app",
            "trustDomain": "cluster.local"}


def _istio(name, action, rules):
    return {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
            "metadata": {"name": name, "namespace": "app"}, "spec": {"action": action, "rules": rules}}


def _to(**op):
    return [{"operation": op}]


# DENY rules an attacker wants to dodge; CLIENT is otherwise allowed everything.
ISTIO_DENY = {"workload": WORKLOAD, "resources": [
    _istio("deny-admin", "DENY", [{"to": _to(paths=["/admin", "/admin/*"])}]),
    _istio("deny-secret-host", "DENY", [{"to": _to(hosts=["secret.com"])}]),
    _istio("deny-admin-role", "DENY", [{"when": [{"key": "request.headers[x-role]", "values": ["admin"]}]}]),
    _istio("deny-delete", "DENY", [{"to": _to(methods=["DELETE"])}]),
    _istio("deny-peer", "DENY", [{"from": [{"source": {"ipBlocks": ["127.0.0.2"]}}], "to": _to(paths=["/ipdeny"])}]),
    _istio("deny-peer-when", "DENY", [{"to": _to(paths=["/ipdeny-when"]),
                                       "when": [{"key": "source.ip", "values": ["127.0.0.2"]}]}]),
    _istio("deny-remote", "DENY", [{"from": [{"source": {"remoteIpBlocks": ["10.0.0.0/8"]}}],
                                    "to": _to(paths=["/remote-deny"])}]),
    _istio("allow-client", "ALLOW", [{"from": [{"source": {"principals": ["cluster.local/ns/client/sa/client"]}}]}]),
]}

# ALLOW rules an attacker wants to stretch (OTHER is allowed nothing else).
ISTIO_ALLOW = {"workload": WORKLOAD, "resources": [
    _istio("allow-public", "ALLOW", [{"to": _to(paths=["/public", "/public/*"])}]),
    _istio("allow-peer", "ALLOW", [{"from": [{"source": {"ipBlocks": ["10.0.0.0/8"]}}], "to": _to(paths=["/ipallow"])}]),
    _istio("allow-remote", "ALLOW", [{"from": [{"source": {"remoteIpBlocks": ["10.0.0.0/8"]}}],
                                      "to": _to(paths=["/remote-allow"])}]),
    _istio("allow-role", "ALLOW", [{"to": _to(paths=["/reader"]),
                                    "when": [{"key": "request.headers[x-role]", "values": ["reader"]}]}]),
    _istio("allow-any-peer", "ALLOW", [{"from": [{"source": {"principals": ["*"]}}], "to": _to(paths=["/any-peer"])}]),
]}


def _drako_policy(name, kind, spec=None):
    p = {"apiVersion": "woven-city.global/v1alpha1", "kind": "DrakoPolicy",
         "metadata": {"name": name, "namespace": "app"}, "spec": {"type": kind}}
    if spec:
        p["spec"]["spec"] = spec
    return p


def _drako_binding(name, policy, **spec):
    return {"apiVersion": "woven-city.global/v1alpha1", "kind": "DrakoPolicyBinding",
            "metadata": {"name": name, "namespace": "app"},
            "spec": {"destinationServiceAccounts": ["app"], "authenticationMode": "None",
                     "clientAuthenticationModes": ["SpiffeId"], "policies": [policy],
                     "decisionStrategy": policy, **spec}}


DRAKO = {"workload": WORKLOAD, "resources": [
    _drako_policy("allow-all", "AllowAll"),
    _drako_policy("admins", "ClientGroup", {"clientGroup": {"clientList": [{"type": "SpiffeId", "value": ADMIN}]}}),
    _drako_policy("from-ten", "Origin", {"origin": {"allowed": ["10.0.0.0/8"]}}),
    # /api/* for everyone but /api/admin, which only admins reach (excludePaths, as Drako's docs
    # write it).
    _drako_binding("api", "allow-all", paths=["/api/*"], excludePaths=["/api/admin", "/api/admin/*"]),
    _drako_binding("api-admin", "admins", paths=["/api/admin", "/api/admin/*"]),
    # /host/* on other.example for everyone, on secret.com for admins.
    _drako_binding("host-public", "allow-all", paths=["/host/*"], destinationHosts=[{"hostname": "other.example"}]),
    _drako_binding("host-secret", "admins", paths=["/host/*"], destinationHosts=[{"hostname": "secret.com"}]),
    # GET /m/* for everyone, DELETE /m/* for admins.
    _drako_binding("m-get", "allow-all", paths=["/m/*"], methods=["GET"]),
    _drako_binding("m-delete", "admins", paths=["/m/*"], methods=["DELETE"]),
    _drako_binding("origin", "from-ten", paths=["/origin"]),
]}


def _linkerd(kind, name, spec, api="policy.linkerd.io/v1alpha1", **meta):
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "app", **meta}, "spec": spec}


def _route(name, rules, minute, hostnames=None):
    spec = {"parentRefs": [{"name": "web", "kind": "Server", "group": "policy.linkerd.io"}], "rules": rules}
    if hostnames:
        spec["hostnames"] = hostnames
    return _linkerd("HTTPRoute", name, spec, api="gateway.networking.k8s.io/v1",
                    creationTimestamp=f"2024-05-01T10:{minute:02d}:00Z")


def _authz(name, route, authn_kind, authn):
    return _linkerd("AuthorizationPolicy", name, {
        "targetRef": {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": route},
        "requiredAuthenticationRefs": [{"group": "policy.linkerd.io", "kind": authn_kind, "name": authn}]})


def linkerd(port):
    """Linkerd picks the Server by destination port: the listener's port is written in."""
    prefix = {"path": {"type": "PathPrefix", "value": "/"}}
    return {"workload": {**WORKLOAD, "ports": {"http": port}}, "resources": [
        _linkerd("Server", "web", {"podSelector": {"matchLabels": {"app": "app"}}, "port": "http",
                                   "proxyProtocol": "HTTP/1", "accessPolicy": "deny"}, api="policy.linkerd.io/v1beta3"),
        # Admins only: /admin..., any request with x-role: admin, any DELETE, host secret.com.
        _route("admin", [{"matches": [{"path": {"type": "PathPrefix", "value": "/admin"}},
                                      {**prefix, "headers": [{"name": "x-role", "value": "admin"}]},
                                      {**prefix, "method": "DELETE"}]}], 0),
        _route("secret", [{"matches": [prefix]}], 1, hostnames=["secret.com"]),
        # Unauthenticated clients of 10.0.0.0/8 only.
        _route("net", [{"matches": [{"path": {"type": "Exact", "value": "/netonly"}}]}], 2),
        # Everything else: any authenticated client.
        _route("open", [{"matches": [prefix]}], 3),
        _linkerd("MeshTLSAuthentication", "admins",
                 {"identities": ["admin.admin.serviceaccount.identity.linkerd.cluster.local"]}),
        _linkerd("MeshTLSAuthentication", "anyone", {"identities": ["*"]}),
        _linkerd("NetworkAuthentication", "ten", {"networks": [{"cidr": "10.0.0.0/8"}]}),
        _authz("admin-authz", "admin", "MeshTLSAuthentication", "admins"),
        _authz("secret-authz", "secret", "MeshTLSAuthentication", "admins"),
        _authz("net-authz", "net", "NetworkAuthentication", "ten"),
        _authz("open-authz", "open", "MeshTLSAuthentication", "anyone"),
    ]}


DAPR = {"workload": WORKLOAD, "resources": [
    {"apiVersion": "dapr.io/v1alpha1", "kind": "Configuration", "metadata": {"name": "appconfig", "namespace": "app"},
     "spec": {"accessControl": {"defaultAction": "deny", "trustDomain": "cluster.local", "policies": [
         {"appId": "client-app", "defaultAction": "allow", "trustDomain": "cluster.local", "namespace": "client",
          "operations": [{"name": "/admin", "httpVerb": ["*"], "action": "deny"},
                         {"name": "/items", "httpVerb": ["DELETE"], "action": "deny"}]}]}}},
]}

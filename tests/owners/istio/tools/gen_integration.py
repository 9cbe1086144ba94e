"""tests/owners/istio/integration-authz.json: every request of istio/istio
tests/integration/security/authz_test.go, decided at the sidecar (or gateway) that enforces it."""
import sys

import yaml

from common import COMMIT, REPO, read, write

TEST = "tests/integration/security/authz_test.go"
TD = "testdata/authz/"
A1 = "spiffe://cluster.local/ns/ns1/sa/a"  # apps.Ns1.A
A2 = "spiffe://cluster.local/ns/ns2/sa/a"  # apps.Ns2.A
TO = {"namespace": "ns1", "serviceAccount": "b", "labels": {"app": "b"}}  # the `to` service, b in ns1
HTTP, HTTP2, GRPC = 18080, 18085, 17070  # echo's workload ports (pkg/test/framework/components/echo/common/ports)
ECHO = "/proto.EchoTestService/Echo"
GATEWAY = {"namespace": "istio-system", "serviceAccount": "istio-ingressgateway-service-account",
           "labels": {"app": "istio-ingressgateway", "istio": "ingressgateway"}}
EGRESS = {"namespace": "istio-system", "serviceAccount": "istio-egressgateway-service-account",
          "labels": {"app": "istio-egressgateway", "istio": "egressgateway"}}
# jwt payloads as Envoy's jwt_authn leaves them in metadata (tests/common/jwt/jwt_token.go; Istio
# configures `normalize_payload_in_metadata` to split the space-delimited claims `scope`,
# `permission` and the RequestAuthentication's `spaceDelimitedClaims` into lists).
T1 = {"iss": "test-issuer-1@istio.io", "sub": "sub-1", "groups": ["group-1"], "exp": 4715782722}
T1_AUD = {"iss": "test-issuer-1@istio.io", "sub": "sub-1", "aud": "foo"}
T1_AUD_LIST = {"iss": "test-issuer-1@istio.io", "sub": "sub-1", "aud": ["foo", "bar"]}
T1_NESTED1 = {"iss": "test-issuer-1@istio.io", "sub": "sub-1",
              "nested": {"key1": ["valueA", "valueB"], "nested-2": {"key1": ["valueA", "valueB"]}}}
T1_NESTED2 = {"iss": "test-issuer-1@istio.io", "sub": "sub-1",
              "nested": {"key2": "valueC", "nested-2": {"key2": "valueC"}}}
T2 = {"iss": "test-issuer-2@istio.io", "sub": "sub-2", "groups": ["group-2"]}
T2_PERMISSION = {"iss": "test-issuer-2@istio.io", "sub": "sub-2", "permission": ["read", "write"]}
T2_SCOPE = {"iss": "test-issuer-2@istio.io", "sub": "sub-2", "scope": ["write", "read"]}
T2_CUSTOM_SCOPE = {"iss": "test-issuer-2@istio.io", "sub": "sub-2", "custom_scope": ["admin", "user"]}


def render(name, **params):
    """The test's template with its parameters, as AuthorizationPolicy objects (other kinds dropped)."""
    text = read("tests/integration/security/" + TD + name)
    for k, v in params.items():
        text = text.replace("{{ " + k + " }}", v).replace("{{" + k + "}}", v)
    import re
    parts = [t for t in re.split(r"^---\s*$", text, flags=re.M) if "kind: AuthorizationPolicy" in t]
    docs = [yaml.safe_load(t) for t in parts]
    assert "{{" not in yaml.safe_dump(docs), (name, yaml.safe_dump(docs))
    return docs


def ns(docs, namespace):
    for d in docs:
        d["metadata"].setdefault("namespace", namespace)
    return docs


def to_params():
    return {".To.ServiceName": "b", "(.To.PortForName `http`).WorkloadPort": str(HTTP),
            "(.To.PortForName `http2`).WorkloadPort": str(HTTP2), "(.To.PortForName `grpc`).WorkloadPort": str(GRPC),
            "(.To.PortForName `tcp`).WorkloadPort": "19090", ".To.Config.Namespace.Prefix": "ns1",
            ".To.NamespaceName": "ns1"}


def case(name, expect, principal=None, **kw):
    c = {"name": name}
    if principal:
        c["principal"] = principal
    c.update(kw)
    c["expect"] = "allow" if expect is True else "deny" if expect is False else expect
    if "jwt" in kw or "remoteIp" in kw or "destinationIp" in kw or "sni" in kw:
        c["e2e"] = False
    return c


def http_and_grpc(label, peer, allow_http_paths, grpc_allow, paths):
    """The cases a traffic test runs for one `from`: gRPC Echo, then each (path, allow) on the
    HTTP and HTTP2 ports. TCP cases are not ported (a network filter's decision)."""
    out = [case(f"{label}: gRPC Echo", grpc_allow, peer, method="POST", path=ECHO, port=GRPC, grpc=True)]
    for path, allow in paths:
        for port in (HTTP, HTTP2):
            out.append(case(f"{label}: GET {path} on port {port}", allow, peer, path=path, port=port))
    return out


def groups():
    gs = []

    def g(test, name, bundle, cases, note=None, files=()):
        e = {"name": name, "source": {"test": test, "path": TEST}}
        if note:
            e["note"] = note
        e["bundle"] = bundle
        e["cases"] = cases
        gs.append(e)

    p = to_params()
    # TestAuthz_Principal / ServiceAccount / Namespace (ALLOW /allow for a1 only, by principal, SA, ns).
    for test, tmpl, extra in (("TestAuthz_Principal", "allow-principal.yaml.tmpl",
                               {".Allowed.SpiffeIdentity": A1[len("spiffe://"):]}),
                              ("TestAuthz_ServiceAccount", "allow-serviceaccount.yaml.tmpl",
                               {".Allowed.NamespacedName": "ns1/a"}),
                              ("TestAuthz_Namespace", "allow-namespace.yaml.tmpl", {".Allowed.NamespaceName": "ns1"})):
        res = ns(render(tmpl, **p, **extra), "ns1")
        cases = []
        for label, peer, allowed in (("ns1/a", A1, True), ("ns2/a", A2, False)):
            cases += http_and_grpc(label, peer, None, allowed,
                                   [("/allow", allowed), ("/allow?param=value", allowed), ("/deny", False),
                                    ("/deny?param=value", False)])
        g(test, test, {"workload": TO, "resources": res}, cases,
          note="the TCP port's cases are a network filter's decision and are not ported; mtls.yaml.tmpl holds "
               "PeerAuthentication/DestinationRule only")

    # TestAuthz_TrustDomain.
    res = ns(render("allow-trust-domain.yaml.tmpl", **p), "ns1")
    cases = []
    for label, peer in (("ns1/a", A1), ("ns2/a", A2)):
        cases += http_and_grpc(label, peer, None, True,
                               [("/allow", True), ("/deny", False), ("/not-trust-domain", False), ("/not-deny", True)])
    g("TestAuthz_TrustDomain", "TestAuthz_TrustDomain", {"workload": TO, "resources": res}, cases)

    # TestAuthz_DenyPrincipal / DenyNamespace (+ the mesh-wide deny-global in istio-system).
    for test, tmpl, extra in (("TestAuthz_DenyPrincipal", "deny-principal.yaml.tmpl",
                               {".Denied.SpiffeIdentity": A2[len("spiffe://"):]}),
                              ("TestAuthz_DenyNamespace", "deny-namespace.yaml.tmpl", {".Denied.NamespaceName": "ns2"})):
        res = ns(render("deny-global.yaml.tmpl"), "istio-system") + ns(render(tmpl, **p, **extra), "ns1")
        cases = []
        for label, peer, allowed in (("ns1/a", A1, True), ("ns2/a", A2, False)):
            cases += http_and_grpc(label, peer, None, allowed,
                                   [("/deny", allowed), ("/deny?param=value", allowed), ("/deny/allow", True),
                                    ("/deny/allow?param=value", True), ("/allow", True),
                                    ("/allow?param=value", True), ("/global-deny", False),
                                    ("/global-deny?param=value", False), ("/global-deny/allow", True),
                                    ("/global-deny/allow?param=value", True)])
        g(test, test, {"workload": TO, "resources": res}, cases,
          note="deny-global.yaml.tmpl is applied in the root namespace istio-system")

    # TestAuthz_NotNamespace.
    res = ns(render("not-namespace.yaml.tmpl", **p, **{".Allowed.NamespaceName": "ns1"}), "ns1")
    cases = []
    for label, peer, allowed in (("ns1/a", A1, True), ("ns2/a", A2, False)):
        cases += [case(f"{label}: gRPC Echo", allowed, peer, method="POST", path=ECHO, port=GRPC, grpc=True)]
        cases += [case(f"{label}: GET / on port {port}", allowed, peer, port=port) for port in (HTTP, HTTP2)]
    g("TestAuthz_NotNamespace", "TestAuthz_NotNamespace", {"workload": TO, "resources": res}, cases)

    # TestAuthz_NotHost: requests through the ingress gateway reach b with their Host.
    res = ns(render("not-host.yaml.tmpl", **p), "ns1")
    g("TestAuthz_NotHost", "TestAuthz_NotHost", {"workload": TO, "resources": res},
      [case("Host allow.b.com", True, GATEWAY_PEER, host="allow.b.com"),
       case("Host deny.b.com", False, GATEWAY_PEER, host="deny.b.com")],
      note="the calls come through the ingress gateway (its identity is the peer) with the Host kept; the "
           "Gateway and VirtualService objects of the template only route")

    # TestAuthz_NotMethod / NotPort.
    res = ns(render("not-method.yaml.tmpl", **p), "ns1")
    g("TestAuthz_NotMethod", "TestAuthz_NotMethod", {"workload": TO, "resources": res},
      [case(f"{m} on port {port}", m != "PUT", A1, method=m, port=port) for m in ("GET", "PUT")
       for port in (HTTP, HTTP2)] + [case(f"{m} (any port)", m != "PUT", A1, method=m) for m in ("GET", "PUT")])
    res = ns(render("not-port.yaml.tmpl", **p), "ns1")
    g("TestAuthz_NotPort", "TestAuthz_NotPort", {"workload": TO, "resources": res},
      [case("GET on the http port", True, A1, port=HTTP), case("GET on the http2 port", False, A1, port=HTTP2)])

    # TestAuthz_DenyPlaintext: DENY notPrincipals ["*"] refuses plaintext.
    res = ns(render("plaintext.yaml.tmpl", **{".To.ServiceName": "b", ".To.NamespaceName": "ns1"}), "ns1")
    g("TestAuthz_DenyPlaintext", "TestAuthz_DenyPlaintext", {"workload": TO, "resources": res},
      [case("ns1/a over mTLS", True, A1, port=HTTP), case("ns2/a in plaintext (no certificate)", False, port=HTTP),
       case("mTLS, gRPC", True, A1, method="POST", path=ECHO, port=GRPC, grpc=True),
       case("plaintext, gRPC", False, method="POST", path=ECHO, port=GRPC, grpc=True),
       case("mTLS, any port", True, A1), case("plaintext, any port", False)])

    # TestAuthz_JWT.
    res = ns(render("jwt.yaml.tmpl", **p), "ns1")
    jwt_cases = [("[No JWT]", None, "/token1", False), ("[No JWT]", None, "/token2", False),
                 ("[Token1]", T1, "/token1", True), ("[Token1]", T1, "/token2", False),
                 ("[Token2]", T2, "/token1", False), ("[Token2]", T2, "/token2", True),
                 ("[Token3]", T1, "/token3", False), ("[Token3]", T2, "/token3", True),
                 ("[Token1]", T1, "/tokenAny", True), ("[Token2]", T2, "/tokenAny", True),
                 ("[PermissionToken1]", T1, "/permission", False), ("[PermissionToken2]", T2, "/permission", False),
                 ("[PermissionTokenWithSpaceDelimitedPermission]", T2_PERMISSION, "/permission", True),
                 ("[PermissionTokenWithSpaceDelimitedScope]", T2_SCOPE, "/scope", True),
                 ("[PermissionTokenWithSpaceDelimitedScope]", T2_SCOPE, "/otherscope", False),
                 ("[CustomScopeToken]", T2_CUSTOM_SCOPE, "/custom-scope-admin", True),
                 ("[CustomScopeToken]", T2_CUSTOM_SCOPE, "/custom-scope-user", True),
                 ("[NoJWT]", None, "/custom-scope-admin", False), ("[NoJWT]", None, "/custom-scope-user", False),
                 ("[Token1]", T1, "/custom-scope-admin", False), ("[Token1]", T1, "/custom-scope-user", False),
                 ("[NestedToken1]", T1_NESTED1, "/nested-key1", True),
                 ("[NestedToken2]", T1_NESTED2, "/nested-key1", False),
                 ("[NestedToken1]", T1_NESTED1, "/nested-key2", False),
                 ("[NestedToken2]", T1_NESTED2, "/nested-key2", True),
                 ("[NestedToken1]", T1_NESTED1, "/nested-2-key1", True),
                 ("[NestedToken2]", T1_NESTED2, "/nested-2-key1", False),
                 ("[NestedToken1]", T1_NESTED1, "/nested-non-exist", False),
                 ("[NestedToken2]", T1_NESTED2, "/nested-non-exist", False),
                 ("[NoJWT]", None, "/tokenAny", False),
                 ("[JWTWithAud]", T1_AUD, "/audiences", True), ("[JWTWithAudList]", T1_AUD_LIST, "/audiences", True)]
    cases = []
    for prefix, tok, path, allow in jwt_cases:
        for port in (HTTP, HTTP2):
            kw = {"path": path, "port": port}
            if tok is not None:
                kw["jwt"] = tok
            cases.append(case(f"{prefix} {path} on port {port}", allow, A1, **kw))
    g("TestAuthz_JWT", "TestAuthz_JWT", {"workload": TO, "resources": res}, cases,
      note="the RequestAuthentication of the template is Envoy's jwt_authn; each case's jwt is the payload it "
           "leaves in metadata (tests/common/jwt/jwt_token.go), space-delimited claims (scope, permission, "
           "custom_scope) split into lists as Istio configures jwt_authn to do")

    # TestAuthz_WorkloadSelector.
    sel = (ns(render("workload.yaml.tmpl", **p), "ns1") + ns(render("workload-bad.yaml.tmpl", **p), "ns1")
           + ns(render("workload-ns.yaml.tmpl", **{".Namespace.Prefix": "ns1"}), "ns1")
           + ns(render("workload-ns.yaml.tmpl", **{".Namespace.Prefix": "ns2"}), "ns2")
           + ns(render("workload-system-ns.yaml.tmpl", **p), "istio-system"))
    paths = [("/policy-ns1-b-bad", False), ("/policy-ns1-all", True), ("/policy-ns2-all", False),
             ("/policy-ns1-b", True), ("/policy-system-b", True), ("/policy-ns1-c", False),
             ("/policy-system-c", False)]
    g("TestAuthz_WorkloadSelector", "TestAuthz_WorkloadSelector (single workload)", {"workload": TO, "resources": sel},
      [case(f"{pth} on port {port}", a, A1, path=pth, port=port) for pth, a in paths for port in (HTTP, HTTP2)])
    relabeled = dict(TO, labels={"app": "b", "foo": "bla"})
    g("TestAuthz_WorkloadSelector", "TestAuthz_WorkloadSelector (label foo=bla added to b)",
      {"workload": relabeled, "resources": sel},
      [case(f"/policy-ns1-b-bad on port {port} once b has foo=bla", True, A1, path="/policy-ns1-b-bad", port=port)
       for port in (HTTP, HTTP2)])

    # TestAuthz_PathPrecedence.
    res = ns(render("path-precedence.yaml.tmpl", **p), "ns1")
    g("TestAuthz_PathPrecedence", "TestAuthz_PathPrecedence", {"workload": TO, "resources": res},
      [case(f"{pth} on port {port}", a, A1, path=pth, port=port)
       for pth, a in (("/allow/admin", False), ("/allow/admin?param=value", False), ("/allow", True),
                      ("/allow?param=value", True)) for port in (HTTP, HTTP2)])

    # TestAuthz_PathTemplating.
    res = ns(render("path-templating.yaml.tmpl", **p), "ns1")
    tcases = [("/allow/admin/", True), ("/allow/admin", False), ("/allow/user/", False),
              ("/allow/admin?param=value", False), ("/allow", False), ("/allow/admin/temp", True),
              ("/allow/admin/temp.txt", True), ("/allow/admin/foo/temp.txt", True), ("/foo/buzz/bar/bat.txt", True),
              ("/foo/buzz/bar/bat.temp.txt", True), ("/foo/buzz/bar/bat/fuzz.txt", True), ("/foo/bar/bat.txt", False),
              ("/foo//bar/bat.txt", False), ("/foo/buzz/bar/bat", True), ("/store//cart", True),
              ("/store/cart", False), ("/store/foo/cart", True), ("/store/foo/bar/cart", True)]
    cases = []
    for pth, a in tcases:
        c = case(f"{pth} (http)", a, A1, path=pth)
        if pth == "/store//cart":
            c["expect"] = "deny"
            c["source"] = ("Istio: allow (its sidecars do not merge slashes, and {**} matches the empty text). "
                           "spiffe-authz decides and forwards the canonical path /store/cart (merged slashes: "
                           "README Security, 'One path'), which the template refuses, as Istio would refuse "
                           "/store/cart")
        cases.append(c)
    g("TestAuthz_PathTemplating", "TestAuthz_PathTemplating", {"workload": TO, "resources": res}, cases)

    # TestAuthz_IngressGateway: the DENY policy on the ingress gateway workload.
    res = render("ingress-gateway.yaml.tmpl", **{".To.ServiceName": "b", ".SystemNamespace.Name": "istio-system",
                                                 '.GatewayIstioLabel | default "istio-ingressgateway"':
                                                     "istio-ingressgateway", ".To.NamespaceName": "ns1"})
    ing = [("deny.b.com", None, None, False), ("DENY.b.COM", None, None, False), ("Deny.b.Com", None, None, False),
           ("deny.suffix.b.com", None, None, False), ("DENY.SUFFIX.b.COM", None, None, False),
           ("Deny.Suffix.b.Com", None, None, False), ("prefix.b.com", None, None, False),
           ("PREFIX.b.COM", None, None, False), ("Prefix.b.Com", None, None, False),
           ("www.b.com", "/", "172.16.0.1", True), ("www.b.com", "/private", "172.16.0.1", False),
           ("www.b.com", "/public", "172.16.0.1", True), ("internal.b.com", "/", "172.16.0.1", False),
           ("internal.b.com", "/private", "172.16.0.1", False), ("remoteipblocks.b.com", "/", "172.17.72.46", False),
           ("remoteipblocks.b.com", "/", "192.168.5.233", False), ("remoteipblocks.b.com", "/", "10.4.5.6", True),
           ("notremoteipblocks.b.com", "/", "10.2.3.4", False),
           ("notremoteipblocks.b.com", "/", "172.23.242.188", True),
           ("remoteipattr.b.com", "/", "10.242.5.7", False), ("remoteipattr.b.com", "/", "10.124.99.10", False),
           ("remoteipattr.b.com", "/", "10.4.5.6", True)]
    cases = []
    for host, pth, ip, a in ing:
        kw = {"host": host, "path": pth or "/"}
        if ip:
            kw["remoteIp"] = ip
        cases.append(case(f"{ip + '->' if ip else ''}{host}{pth or ''}", a, None, **kw))
    g("TestAuthz_IngressGateway", "TestAuthz_IngressGateway", {"workload": GATEWAY, "resources": res}, cases,
      note="the policy selects the ingress gateway (app: istio-ingressgateway in istio-system); the filter runs "
           "there as on a sidecar. `ip` is the X-Forwarded-For client the gateway resolves as remote.ip; the "
           "Gateway and VirtualService objects only route")

    # TestAuthz_EgressGateway: the ALLOW policy on the egress gateway.
    eg = render("egress-gateway.yaml.tmpl", **{
        '.EgressGatewayIstioLabel | default "egressgateway"': "egressgateway",
        ".EgressGatewayServiceNamespace | default .SystemNamespace.Name": "istio-system",
        '.EgressGatewayServiceName | default "istio-egressgateway"': "istio-egressgateway",
        ".Allowed.ServiceName": "a", ".Allowed.NamespaceName": "ns1",
        ".Allowed.SpiffeIdentity": A1[len("spiffe://"):], ".JWTServer.JwksURI": "https://jwks"})
    ecases = []
    for label, peer, allowed in (("ns1/a", A1, True), ("ns2/a", A2, False)):
        for host, pth, tok, a in (("www.company.com", "/allow", None, True), ("www.company.com", "/deny", None, False),
                                  ("a-ns1-only.com", "/", None, allowed), ("jwt-only.com", "/", T1, True),
                                  ("jwt-only.com", "/", T2, False), ("jwt-and-a-ns1-only.com", "/", T1, allowed),
                                  ("jwt-and-a-ns1-only.com", "/", T2, False)):
            kw = {"host": host, "path": pth}
            if tok:
                kw["jwt"] = tok
            ecases.append(case(f"{label} -> {host}{pth}{' with ' + tok['iss'] if tok else ''}", a, peer, **kw))
    g("TestAuthz_EgressGateway", "TestAuthz_EgressGateway", {"workload": EGRESS, "resources": eg}, ecases,
      note="the policy selects the egress gateway; sidecars reach it over Istio mTLS with the Host kept")

    # TestAuthz_Conditions.
    res = ns(render("conditions.yaml.tmpl", **p, **{
        ".Allowed.MustWorkloads.Addresses | toJson": '["10.10.1.1"]',
        ".Denied.MustWorkloads.Addresses | toJson": '["10.10.2.1"]',
        ".Allowed.NamespaceName": "ns1", ".Denied.NamespaceName": "ns2",
        ".Allowed.SpiffeIdentity": A1[len("spiffe://"):], ".Denied.SpiffeIdentity": A2[len("spiffe://"):],
        ".To.MustWorkloads.Addresses | toJson": '["10.10.1.2"]', "( .To.PortForName `http` ).WorkloadPort": str(HTTP),
        ".To.ClusterLocalFQDN": "b.ns1.svc.cluster.local"}), "ns1")
    sni = "outbound_.80_._.b.ns1.svc.cluster.local"
    cases = []
    for label, peer, ip, allowed in (("ns1/a", A1, "10.10.1.1", True), ("ns2/a", A2, "10.10.2.1", False)):
        base = {"port": HTTP, "sourceIp": ip, "destinationIp": "10.10.1.2", "sni": sni}
        for pth, hdr, a in (("/request-headers", "foo", True), ("/request-headers", "bar", False),
                            ("/request-headers", None, False), ("/request-headers-notValues", "foo", True),
                            ("/request-headers-notValues", "bar", False), ("/source-ip", None, allowed),
                            ("/source-ip-notValues", None, allowed), ("/source-namespace", None, allowed),
                            ("/source-namespace-notValues", None, allowed), ("/source-principal", None, allowed),
                            ("/source-principal-notValues", None, allowed), ("/source-trust-domain", None, True),
                            ("/source-trust-domain-notValues", None, True), ("/destination-ip-good", None, True),
                            ("/destination-ip-bad", None, False), ("/destination-ip-notValues", None, False),
                            ("/destination-port-good", None, True), ("/destination-port-bad", None, False),
                            ("/destination-port-notValues", None, False), ("/connection-sni-good", None, True),
                            ("/connection-sni-bad", None, False), ("/connection-sni-notValues", None, False),
                            ("/other", None, False)):
            kw = dict(base, path=pth)
            if hdr:
                kw["headers"] = [["x-foo", hdr]]
            cases.append(case(f"{label}: {pth}{'?x-foo=' + hdr if hdr else ''}", a, peer, **kw))
    g("TestAuthz_Conditions", "TestAuthz_Conditions", {"workload": TO, "resources": res}, cases,
      note="workload addresses: a in ns1 10.10.1.1, a in ns2 10.10.2.1, b 10.10.1.2; the SNI is the one Istio "
           "clients send (outbound_.<port>_._.<fqdn>)")

    # TestAuthz_PathNormalization.
    res = ns(render("path-normalization.yaml.tmpl", **p), "ns1")
    g("TestAuthz_PathNormalization", "TestAuthz_PathNormalization", {"workload": TO, "resources": res},
      [case(f"{pth} (http)", a, A1, path=pth) for pth, a in
       (("/public", True), ("/public/../public", True), ("/private", False), ("/public/../private", False),
        ("/public/./../private", False), ("/public/.././private", False), ("/public/%2E%2E/private", False),
        ("/public/%2e%2e/private", False), ("/public/%2E/%2E%2E/private", False),
        ("/public/%2e/%2e%2e/private", False), ("/public/%2E%2E/%2E/private", False),
        ("/public/%2e%2e/%2e/private", False))])

    return gs


GATEWAY_PEER = "spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"


def main(out_dir):
    gs = groups()
    suite = {"owner": "istio", "source": {"repo": REPO, "commit": COMMIT, "path": TEST},
             "description": "Every request of istio/istio's AuthorizationPolicy integration test, decided at the "
                            "workload that enforces it: service b in namespace ns1 (app: b; echo's ports http "
                            "18080, http2 18085, grpc 17070), called by a in ns1 or a in ns2; the gateway tests at "
                            "the gateway. TCP-port cases (a network filter's decision) and TestAuthz_CustomServer "
                            "(CUSTOM, an external authorizer) are not ported.",
             "groups": gs}
    write(out_dir + "/integration-authz.json", suite)
    print("integration:", len(gs), "groups", sum(1 + len(g["cases"]) for g in gs), "cases")


if __name__ == "__main__":
    main(sys.argv[1])

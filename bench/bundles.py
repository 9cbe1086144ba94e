"""Policy bundles of a chosen size, in each dialect, and the native RBAC filter that says the same.

Every bundle allows `principals` callers on `paths` path rules and nothing else. The request the
benchmark sends is the worst case for a scan: its caller is the LAST principal of the list and
its path matches only the LAST path rule. Paths are prefixes (`/api/v1/r<i>/...`), the shape
every dialect can say; the request path is `/api/v1/r<paths-1>/item`.

| dialect | what the bundle holds |
|---|---|
| istio   | one ALLOW AuthorizationPolicy, one rule: `from.source.principals` (N) x `to.operation.paths` (K) |
| drako   | one ClientGroup DrakoPolicy (N SpiffeIds), one DrakoPolicyBinding with K paths |
| linkerd | a Server, one HTTPRoute with K path-prefix matches, an AuthorizationPolicy on the route requiring a MeshTLSAuthentication of N identities |
| dapr    | a Configuration whose accessControl has N app policies (default deny), each allowing K operations |
| rbac    | Envoy's RBAC filter as Istio generates it: one policy, `or_rules` of K `url_path` prefixes and `or_ids` of N `authenticated.principal_name` exact matchers |
| rbac-matcher | Envoy's RBAC filter in its `matcher` form (the unified matcher API), which istiod does not generate but an expert would: a `matcher_tree` on the peer's URI SAN with an `exact_match_map` of the N SPIFFE IDs to an ALLOW action, DENY on no match (a hash lookup); it leaves the K paths out, so it is a lower bound for the same policy |
"""

TRUST_DOMAIN = "cluster.local"
NAMESPACE = "bench"
SERVICE_ACCOUNT = "server"


def caller(dialect):
    """The SPIFFE ID the load generator's client certificate carries for this dialect."""
    if dialect == "dapr":
        # Dapr reads spiffe://<td>/ns/<namespace>/<appId>.
        return f"spiffe://{TRUST_DOMAIN}/ns/{NAMESPACE}/client"
    return f"spiffe://{TRUST_DOMAIN}/ns/{NAMESPACE}/sa/client"


def request_path(paths):
    return f"/api/v1/r{paths - 1}/item"


def _prefix(i):
    return f"/api/v1/r{i}/"


def _names(n, last):
    """n names: filler names, then `last` (the caller)."""
    return [f"p{i}" for i in range(n - 1)] + [last]


def _workload(**extra):
    return {"namespace": NAMESPACE, "serviceAccount": SERVICE_ACCOUNT, "trustDomain": TRUST_DOMAIN, **extra}


def istio(principals, paths, port=None):
    ids = [f"{TRUST_DOMAIN}/ns/{NAMESPACE}/sa/{n}" for n in _names(principals, "client")]
    return {
        "workload": _workload(),
        "resources": [{
            "apiVersion": "security.istio.io/v1",
            "kind": "AuthorizationPolicy",
            "metadata": {"name": "allow-clients", "namespace": NAMESPACE},
            "spec": {
                "action": "ALLOW",
                "rules": [{
                    "from": [{"source": {"principals": ids}}],
                    "to": [{"operation": {"paths": [_prefix(i) + "*" for i in range(paths)]}}],
                }],
            },
        }],
    }


def drako(principals, paths, port=None):
    ids = [f"spiffe://{TRUST_DOMAIN}/ns/{NAMESPACE}/sa/{n}" for n in _names(principals, "client")]
    return {
        "workload": _workload(),
        "resources": [
            {"apiVersion": "woven-city.global/v1alpha1", "kind": "DrakoPolicy",
             "metadata": {"name": "clients", "namespace": NAMESPACE},
             "spec": {"type": "ClientGroup", "spec": {"clientGroup": {
                 "clientList": [{"type": "SpiffeId", "value": v} for v in ids]}}}},
            {"apiVersion": "woven-city.global/v1alpha1", "kind": "DrakoPolicyBinding",
             "metadata": {"name": "api", "namespace": NAMESPACE},
             "spec": {"destinationServiceAccounts": [SERVICE_ACCOUNT],
                      "paths": [_prefix(i) + "*" for i in range(paths)],
                      "authenticationMode": "None", "clientAuthenticationModes": ["SpiffeId"],
                      "policies": ["clients"], "decisionStrategy": "clients"}},
        ],
    }


def linkerd(principals, paths, port=8080):
    identities = [f"{n}.{NAMESPACE}.serviceaccount.identity.linkerd.{TRUST_DOMAIN}"
                  for n in _names(principals, "client")]
    return {
        "workload": _workload(labels={"app": "server"}, ports={"http": port}),
        "resources": [
            {"apiVersion": "policy.linkerd.io/v1beta3", "kind": "Server",
             "metadata": {"namespace": NAMESPACE, "name": "server"},
             "spec": {"podSelector": {"matchLabels": {"app": "server"}}, "port": "http",
                      "proxyProtocol": "HTTP/1", "accessPolicy": "deny"}},
            {"apiVersion": "policy.linkerd.io/v1beta3", "kind": "HTTPRoute",
             "metadata": {"namespace": NAMESPACE, "name": "api"},
             "spec": {"parentRefs": [{"name": "server", "kind": "Server", "group": "policy.linkerd.io"}],
                      "rules": [{"matches": [{"path": {"value": _prefix(i), "type": "PathPrefix"}}
                                             for i in range(paths)]}]}},
            {"apiVersion": "policy.linkerd.io/v1alpha1", "kind": "AuthorizationPolicy",
             "metadata": {"namespace": NAMESPACE, "name": "api"},
             "spec": {"targetRef": {"group": "policy.linkerd.io", "kind": "HTTPRoute", "name": "api"},
                      "requiredAuthenticationRefs": [
                          {"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication", "name": "clients"}]}},
            {"apiVersion": "policy.linkerd.io/v1alpha1", "kind": "MeshTLSAuthentication",
             "metadata": {"namespace": NAMESPACE, "name": "clients"},
             "spec": {"identities": identities}},
        ],
    }


def dapr(principals, paths, port=None):
    ops = [{"name": _prefix(i) + "**", "httpVerb": ["*"], "action": "allow"} for i in range(paths)]
    policies = [{"appId": n, "defaultAction": "deny", "trustDomain": TRUST_DOMAIN, "namespace": NAMESPACE,
                 "operations": ops} for n in _names(principals, "client")]
    return {
        "workload": {"namespace": NAMESPACE, "appId": "server", "trustDomain": TRUST_DOMAIN},
        "resources": [{
            "apiVersion": "dapr.io/v1alpha1", "kind": "Configuration",
            "metadata": {"name": "appconfig", "namespace": NAMESPACE},
            "spec": {"accessControl": {"defaultAction": "deny", "trustDomain": TRUST_DOMAIN,
                                       "policies": policies}},
        }],
    }


DIALECTS = {"istio": istio, "drako": drako, "linkerd": linkerd, "dapr": dapr}


def rbac_filter(principals, paths):
    """Envoy's RBAC HTTP filter with the Istio bundle's policy, in the shape istiod generates
    (pilot/pkg/security/authz/builder: one policy per rule, permissions AND-ed of OR-ed
    operation fields, principals AND-ed of OR-ed source fields)."""
    ids = [{"authenticated": {"principal_name": {"exact": f"spiffe://{TRUST_DOMAIN}/ns/{NAMESPACE}/sa/{n}"}}}
           for n in _names(principals, "client")]
    rules = [{"url_path": {"path": {"prefix": _prefix(i)}}} for i in range(paths)]
    return {
        "name": "envoy.filters.http.rbac",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
            "rules": {
                "action": "ALLOW",
                "policies": {
                    f"ns[{NAMESPACE}]-policy[allow-clients]-rule[0]": {
                        "permissions": [{"and_rules": {"rules": [{"or_rules": {"rules": rules}}]}}],
                        "principals": [{"and_ids": {"ids": [{"or_ids": {"ids": ids}}]}}],
                    }
                },
            },
        },
    }


def rbac_matcher_filter(principals, paths=None):
    """Envoy's RBAC HTTP filter in its `matcher` form: a `matcher_tree` on
    `envoy.extensions.matching.common_inputs.ssl.v3.UriSanInput` whose `exact_match_map` takes
    each allowed SPIFFE ID to an `envoy.config.rbac.v3.Action` ALLOW; `on_no_match` DENY.

    A hash lookup of the caller's URI SAN. It says less than the Istio bundle: it does not check
    the path (the benchmark's request matches the paths anyway), so its cost is a lower bound for
    the same policy. `UriSanInput` joins several URI SANs with commas, so a certificate with two
    never matches."""
    def action(name, what):
        return {"action": {"name": name, "typed_config": {
            "@type": "type.googleapis.com/envoy.config.rbac.v3.Action", "name": name, "action": what}}}

    allow = action(f"ns[{NAMESPACE}]-policy[allow-clients]", "ALLOW")
    ids = [f"spiffe://{TRUST_DOMAIN}/ns/{NAMESPACE}/sa/{n}" for n in _names(principals, "client")]
    return {
        "name": "envoy.filters.http.rbac",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
            "matcher": {
                "matcher_tree": {
                    "input": {"name": "uri-san", "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.matching.common_inputs.ssl.v3.UriSanInput"}},
                    "exact_match_map": {"map": {i: allow for i in ids}},
                },
                "on_no_match": action("deny", "DENY"),
            },
        },
    }

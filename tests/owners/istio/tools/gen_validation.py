"""tests/owners/istio/validation.json: istiod's validation webhook on AuthorizationPolicy
(pkg/config/validation/validation_test.go TestValidateAuthorizationPolicy, every case)."""
import sys

import golit
import gotests
from common import COMMIT, REPO, read, write

PATH = "pkg/config/validation/validation_test.go"
WORKLOAD = {"namespace": "namespace", "serviceAccount": "httpbin", "labels": {"app": "httpbin", "version": "v1"}}

GVK = {"gvk.KubernetesGateway.Group": "gateway.networking.k8s.io", "gvk.KubernetesGateway.Kind": "Gateway",
       "gvk.Service.Group": "", "gvk.Service.Kind": "Service"}

# The text of istiod's reason that our error carries (pkg/config/validation/validation.go).
REASONS = {
    "serviceAccounts and namespaces": "cannot set serviceAccounts with namespaces or principals",
    "custom-good": "CUSTOM",
    "custom-empty-provider": "CUSTOM",
    "custom-nil-provider": "CUSTOM",
    "custom-invalid-rule": "CUSTOM",
    "provider-wrong-action": "`provider` must not be with non CUSTOM action",
    "dry-run-invalid-value": "istio.io/dry-run with invalid value (foo)",
    "dry-run-invalid-action-custom": "CUSTOM",
    "dry-run-invalid-action-audit": "only supports action ALLOW/DENY",
    "deny-rules-nil": "DENY action without `rules` is meaningless",
    "selector-empty-key": "empty key is not supported in selector",
    "selector-wildcard-value": "wildcard is not supported in selector",
    "selector-wildcard-key": "wildcard is not supported in selector",
    "target-ref-non-empty-namespace": "targetRef namespace must not be set; cross namespace referencing is not supported",
    "target-ref-empty-name": "targetRef name must be set",
    "target-ref-wrong-group": "targetRef must be to one of",
    "target-ref-wrong-kind": "targetRef must be to one of",
    "target-ref-and-selector-cannot-both-be-set": "only one of targetRefs or workloadSelector can be set",
    "target-refs-and-selector-cannot-both-be-set": "only one of targetRefs or workloadSelector can be set",
    "from-empty": "`from` must not be empty",
    "source-nil": "`from.source` must not be nil",
    "source-empty": "`from.source` must not be empty",
    "to-empty": "`to` must not be empty",
    "operation-nil": "`to.operation` must not be nil",
    "operation-empty": "`to.operation` must not be empty",
    "value-empty": "empty value not allowed",
    "invalid ip and port in ipBlocks": "bad IP address (ip1)",
    "invalid ip and port in remoteIpBlocks": "bad IP address (ip1)",
    "condition-key-missing": "`key` must not be empty",
    "condition-key-empty": "`key` must not be empty",
    "condition-value-missing": "at least one of `values` or `notValues` must be set for key source.principal",
    "condition-value-invalid": "bad IP address (a.b.c.d)",
    "condition-notValue-invalid": "bad IP address (a.b.c.d)",
    "condition-unknown": "unknown attribute: key1",
}
for f in ("Principals", "NotPrincipals", "RequestPrincipals", "NotRequestPrincipals", "Namespaces", "ServiceAccounts",
          "NotNamespaces", "IpBlocks", "NotIpBlocks", "RemoteIpBlocks", "NotRemoteIpBlocks", "Hosts", "NotHosts",
          "Ports", "NotPorts", "Methods", "NotMethods", "Paths", "NotPaths"):
    REASONS[f + "-empty"] = "empty value not allowed"


def fix_gvk(v):
    if isinstance(v, dict):
        return {k: fix_gvk(x) for k, x in v.items()}
    if isinstance(v, list):
        return [fix_gvk(x) for x in v]
    return GVK.get(v, v)


def drop_empty_groups(spec):
    # targetRef group "" is the core group: write it as a user would (left out).
    for ref in ([spec.get("targetRef")] if spec.get("targetRef") else []) + spec.get("targetRefs", []):
        if ref.get("group") == "":
            del ref["group"]
    return spec


def resource(spec, annotations=None, name="name", namespace="namespace"):
    meta = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": meta, "spec": spec}


def main(out_dir):
    table = gotests.table(read(PATH), "TestValidateAuthorizationPolicy")
    groups = []
    for c in table:
        spec = drop_empty_groups(fix_gvk(golit.to_istio_json(c["in"])))
        g = {"name": c["name"], "source": {"test": f"TestValidateAuthorizationPolicy/{c['name']}"},
             "bundle": {"workload": WORKLOAD, "resources": [resource(spec, c.get("annotations"))]}}
        if c.get("valid"):
            if c["name"] == "custom-good":
                g["load"] = {"refused": REASONS[c["name"]]}
                g["note"] = ("istiod accepts it; refused here by design: CUSTOM delegates the decision to an "
                             "external authorizer and this filter makes no network call")
            if c.get("Warning"):
                g["note"] = "istiod accepts it with a warning"
        else:
            g["load"] = {"refused": REASONS[c["name"]]}
        g["cases"] = []
        groups.append(g)

    # istio.io/dry-run is read with Go's strconv.ParseBool (validation.go checkDryRunAnnotation,
    # pilot/pkg/security/authz/builder/builder.go isDryRun).
    parse_bool = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
                  "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}
    peer = "spiffe://cluster.local/ns/namespace/sa/client"
    for v, dry in sorted(parse_bool.items()):
        spec = {"action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/admin"]}}]}]}
        groups.append({
            "name": f"dry-run annotation {v!r} is {str(dry).lower()} (strconv.ParseBool)",
            "source": {"path": "pkg/config/validation/validation.go",
                       "test": "checkDryRunAnnotation; pilot/pkg/security/authz/builder/builder.go isDryRun"},
            "bundle": {"workload": WORKLOAD, "resources": [resource(spec, {"istio.io/dry-run": v})]},
            "cases": [{"name": "GET /admin", "principal": peer, "path": "/admin",
                       "expect": "allow" if dry else "deny", "allowed": dry,
                       "dryRun": ["deny"] if dry else []},
                      {"name": "GET /other", "principal": peer, "path": "/other", "expect": "allow",
                       "dryRun": ["allow"] if dry else []}]})
    for v in ("yes", "no", "on", "", " true", "tRuE"):
        spec = {"action": "DENY", "rules": [{}]}
        groups.append({
            "name": f"dry-run annotation {v!r} is refused (not a Go bool)",
            "source": {"path": "pkg/config/validation/validation.go", "test": "checkDryRunAnnotation"},
            "bundle": {"workload": WORKLOAD, "resources": [resource(spec, {"istio.io/dry-run": v})]},
            "load": {"refused": f"istio.io/dry-run with invalid value ({v})"}, "cases": []})

    suite = {"owner": "istio", "source": {"repo": REPO, "commit": COMMIT, "path": PATH,
                                          "test": "TestValidateAuthorizationPolicy"},
             "description": "istiod's validation webhook on AuthorizationPolicy (policy namespace/name "
                            "'namespace/name' as in the test): what it accepts loads, what it refuses is refused "
                            "here with istiod's reason in the error. Warnings are not checked.",
             "groups": groups}
    write(out_dir + "/validation.json", suite)
    print("validation:", len(groups), "groups", sum(1 + len(g["cases"]) for g in groups), "cases")


if __name__ == "__main__":
    main(sys.argv[1])

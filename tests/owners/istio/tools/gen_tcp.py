"""tests/owners/istio/builder-tcp.json: istiod's TCP RBAC generator inputs, read as a sidecar's HTTP
filter reads them (the TCP filter's -out.yaml does not apply to an HTTP listener)."""
import sys

from common import COMMIT, HTTP1_METHODS, REPO, bundle, load_yaml_docs, write

TCP = "pilot/pkg/security/authz/builder/testdata/tcp/"
NS1 = "spiffe://cluster.local/ns/ns-1/sa/a"
NS2 = "spiffe://cluster.local/ns/ns-2/sa/a"
OTHER = "spiffe://cluster.local/ns/other/sa/a"
ID1 = {"iss": "id-1", "sub": ""}
ID2 = {"iss": "id-2", "sub": ""}


def c(name, expect, **kw):
    case = {"name": name}
    case.update(kw)
    case["expect"] = expect
    if "jwt" in kw or kw.get("method", "GET") not in HTTP1_METHODS:
        case["e2e"] = False
    return case


def main(out_dir):
    P = "AuthorizationPolicy foo/httpbin-deny"
    groups = [
        {"name": "deny-both-http-tcp", "test": "deny-both-http-tcp", "cases": [
            c("GET is refused by rule[1] (methods: GET)", "deny", principal=OTHER, method="GET", policy=P, rule=1),
            c("POST without a listed port passes", "allow", principal=OTHER, method="POST", port=9999),
            c("POST to port 80 is refused by rule[9] (destination.port 80)", "deny", principal=OTHER,
              method="POST", port=80, policy=P, rule=9),
            c("POST to 8080 passes", "allow", principal=OTHER, method="POST", port=8080),
            c("a JWT iss=id-1 with an empty sub is refused by rule[2] (requestPrincipals id-1: iss id-1, sub '')",
              "deny", principal=OTHER, method="POST", port=9999, jwt=ID1, policy=P, rule=2),
            c("a JWT iss=id-1 sub=x is not requestPrincipal id-1", "allow", principal=OTHER, method="POST",
              port=9999, jwt={"iss": "id-1", "sub": "x"}),
            c("ns-1 POST to port 80 is refused (rule[7])", "deny", principal=NS1, method="POST", port=80),
            c("ns-1 PUT to 9999 passes", "allow", principal=NS1, method="PUT", port=9999),
            c("ns-1 GET is refused (rule[1])", "deny", principal=NS1, method="GET", port=9999),
            c("no certificate, POST, passes", "allow", method="POST", port=9999),
        ]},
        {"name": "allow-both-http-tcp", "test": "allow-both-http-tcp", "cases": [
            c("ns-1 GET to 8080 (rule[1])", "allow", principal=NS1, method="GET", port=8080, rule=1),
            c("ns-1 POST to 8080 matches no rule", "deny", principal=NS1, method="POST", port=8080),
            c("ns-1 POST to 80 (rule[3])", "allow", principal=NS1, method="POST", port=80, rule=3),
            c("ns-2 to 9090 without a JWT", "deny", principal=NS2, method="POST", port=9090),
            c("ns-2 to 9090 with requestPrincipal id-2 (rule[2])", "allow", principal=NS2, method="POST", port=9090,
              jwt=ID2, rule=2),
            c("GET with requestPrincipal id-1 (rule[0])", "allow", principal=OTHER, method="GET", port=1, jwt=ID1,
              rule=0),
            c("GET without a JWT from another namespace", "deny", principal=OTHER, method="GET", port=8080),
            c("no certificate", "deny", method="GET", port=80),
        ]},
        {"name": "allow-only-http", "test": "allow-only-http", "cases": [
            c("ns-1 to host example.com (rule[1])", "allow", principal=NS1, host="example.com", rule=1),
            c("ns-1 to example.com:80: Istio matches the whole :authority", "deny", principal=NS1,
              host="example.com:80"),
            c("ns-1 to another host", "deny", principal=NS1, host="other.com"),
            c("GET with requestPrincipal id-1 (rule[0])", "allow", principal=OTHER, method="GET", jwt=ID1, rule=0),
            c("POST with requestPrincipal id-1", "deny", principal=OTHER, method="POST", jwt=ID1),
            c("no certificate", "deny", host="example.com"),
        ]},
        {"name": "audit-both-http-tcp", "test": "audit-both-http-tcp",
         "note": "the AUDIT rule needs principal 'principal' and namespace 'ns' at once, which no peer has: it never "
                 "matches, and AUDIT never changes the decision",
         "cases": [
             c("any request passes, no audit", "allow", principal=OTHER, dryRun=[]),
             c("principal 'principal' passes, no audit (no namespace ns)", "allow", principal="spiffe://principal",
               method="method", path="/exact", host="exact.com", headers=[["x-header", "header"]], dryRun=[]),
             c("no certificate passes", "allow", dryRun=[]),
         ]},
        {"name": "dry-run-mix", "test": "dry-run-mix", "cases": [
            c("port 9000: allowed by httpbin-2; the dry-run ALLOW (port 80) would deny", "allow", principal=OTHER,
              port=9000, dryRun=["deny"]),
            c("port 80: denied (no enforced ALLOW matches); the dry-run ALLOW would allow", "deny", principal=OTHER,
              port=80, dryRun=["allow"]),
            c("another port: denied, and dry-run denied", "deny", principal=OTHER, port=1, dryRun=["deny"]),
        ]},
    ]
    out = []
    for g in groups:
        test = g.pop("test")
        res = load_yaml_docs(TCP + test + "-in.yaml")
        e = {"name": g["name"], "source": {"path": TCP + test + "-in.yaml", "test": f"TestGenerator_GenerateTCP/{test}"}}
        if "note" in g:
            e["note"] = g["note"]
        e["bundle"] = bundle(res)
        e["cases"] = g["cases"]
        out.append(e)
    for test in ("custom-both-http-tcp", "custom-only-http"):
        out.append({"name": test, "source": {"path": TCP + test + "-in.yaml",
                                             "test": f"TestGenerator_GenerateTCP/{test}"},
                    "note": "CUSTOM needs an external authorizer: refused",
                    "bundle": bundle(load_yaml_docs(TCP + test + "-in.yaml")), "load": {"refused": "CUSTOM"},
                    "cases": []})
    suite = {"owner": "istio",
             "source": {"repo": REPO, "commit": COMMIT, "path": "pilot/pkg/security/authz/builder/builder_test.go",
                        "test": "TestGenerator_GenerateTCP"},
             "description": "istiod's TCP RBAC generator inputs. Their -out.yaml is the network (TCP) RBAC filter, "
                            "which a sidecar puts on TCP listeners: it drops HTTP-only fields (ALLOW: the rule never "
                            "matches; DENY: the field is ignored, so the rule widens). spiffe-authz runs only as an "
                            "HTTP filter, where istiod generates the HTTP RBAC filter for the same policies; the "
                            "cases decide these inputs as that HTTP filter does (the TCP reading is not ported).",
             "groups": out}
    write(out_dir + "/builder-tcp.json", suite)
    print("builder-tcp:", len(out), "groups", sum(1 + len(g["cases"]) for g in out), "cases")


if __name__ == "__main__":
    main(sys.argv[1])

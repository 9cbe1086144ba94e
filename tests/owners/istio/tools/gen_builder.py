"""tests/owners/istio/builder-http.json and builder-tcp.json from istio/istio
pilot/pkg/security/authz/builder/testdata (inputs as bundles, decisions from the -out.yaml)."""
import copy
import re
import sys

import oracle
from common import COMMIT, REPO, bundle, label, load_yaml_docs, read, write
from probes import BASE_PEER, dedup, for_field

HTTP = "pilot/pkg/security/authz/builder/testdata/http/"
TEST = "pilot/pkg/security/authz/builder/builder_test.go"


def outs(names):
    return [oracle.filter_config(read(HTTP + n)) for n in names]


def name_of(req):
    parts = []
    for k in ("principal", "method", "path", "host", "port", "sourceIp", "remoteIp", "destinationIp", "sni"):
        if k in req:
            parts.append(f"{k}={req[k]}")
    if "headers" in req:
        parts.append("headers=" + ",".join(f"{k}:{v}" for k, v in req["headers"]))
    if "jwt" in req:
        parts.append("jwt=" + ",".join(f"{k}:{v}" for k, v in req["jwt"].items()))
    if "metadata" in req:
        parts.append(f"metadata={req['metadata']}")
    if not parts or "principal" not in req:
        parts.insert(0, "no certificate")
    return " ".join(parts)


def normalized_host(h):
    """The host spiffe-authz's refusing host tests also match: lowercase, no port, no trailing dot."""
    return h.lower().rsplit(":", 1)[0].rstrip(".") if not h.startswith("[") else h.lower()


def cases(filters, reqs, dry=False, e2e=True, not_hosts_allow=False):
    out = []
    for r in dedup(reqs):
        c = label(filters, r, name_of(r), with_dry_run=dry)
        if not_hosts_allow and c["expect"] == "allow" and "host" in r:
            # An ALLOW `notHosts` excludes the host in any spelling (README Istio): stricter than
            # the owner, who matches the whole :authority only.
            strict, _ = oracle.decide(filters, dict(r, host=normalized_host(r["host"])))
            if strict == "deny":
                c["expect"] = "deny"
                c.pop("policy", None)
                c.pop("rule", None)
                c["source"] = ("Istio: allow (notHosts is matched on the whole :authority). spiffe-authz "
                               "refuses: a rule that grants excludes the listed host with any port or "
                               "trailing dot too (README Istio, hosts)")
        if "jwt" in r:
            c["e2e"] = False
        if not e2e:
            c["e2e"] = False
        out.append(c)
    return out


def group(name, test, input_path, res, filters, reqs, dry=False, td=None, aliases=None, note=None, out_names=(),
          not_hosts_allow=False):
    g = {"name": name,
         "source": {"path": HTTP + input_path, "test": f"TestGenerator_GenerateHTTP/{test}"},
         "bundle": bundle(res, trust_domain=td, aliases=aliases)}
    if note:
        g["note"] = note
    g["cases"] = cases(filters, reqs, dry, not_hosts_allow=not_hosts_allow)
    return g


def single_rule_variant(doc, rule, perm, princ):
    """An ALLOW policy holding one rule, and its RBAC: the owner's permission and principal
    subtrees for that rule's fields."""
    d = copy.deepcopy(doc)
    d["spec"]["rules"] = [rule]
    d["spec"].pop("action", None)
    pol = {"permissions": [{"andRules": {"rules": perm}} if perm else {"andRules": {"rules": [{"any": True}]}}],
           "principals": [{"andIds": {"ids": princ}} if princ else {"andIds": {"ids": [{"any": True}]}}]}
    name = f"ns[{d['metadata']['namespace']}]-policy[{d['metadata']['name']}]-rule[0]"
    return d, [{"rules": {"policies": {name: pol}}}]


def rbac_rule(filters, i, policy_rule):
    pols = filters[i]["rules"]["policies"]
    pol = pols[policy_rule]
    return pol["permissions"][0]["andRules"]["rules"], pol["principals"][0]["andIds"]["ids"]


# allow-full-rule rule[1]: which subtree of the owner's RBAC each field became (the generator
# puts operation fields first in the order hosts, methods, paths, ports; source fields in the
# order principals, requestPrincipals, namespaces, remoteIpBlocks, ipBlocks; then `when`).
FULL_RULE_PERM = ["hosts", "notHosts", "methods", "notMethods", "paths", "notPaths", "ports", "notPorts",
                  "when:destination.ip", "when!:destination.ip", "when:destination.port", "when!:destination.port",
                  "when:connection.sni", "when!:connection.sni", "when:experimental.envoy.filters.a.b[c]",
                  "when!:experimental.envoy.filters.a.b[c]"]
FULL_RULE_PRINC = ["principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces",
                   "notNamespaces", "remoteIpBlocks", "notRemoteIpBlocks", "ipBlocks", "notIpBlocks",
                   "when:request.headers[X-header]", "when!:request.headers[X-header]", "when:source.ip",
                   "when!:source.ip", "when:remote.ip", "when!:remote.ip", "when:source.namespace",
                   "when!:source.namespace", "when:source.principal", "when!:source.principal",
                   "when:request.auth.principal", "when!:request.auth.principal", "when:request.auth.audiences",
                   "when!:request.auth.audiences", "when:request.auth.presenter", "when!:request.auth.presenter",
                   "when:request.auth.claims[iss]", "when!:request.auth.claims[iss]",
                   "when:request.auth.claims[nested1][nested2]", "when!:request.auth.claims[nested1][nested2]"]


def field_values(rule, field):
    """(wire rule with only `field`, its values)."""
    if field.startswith("when"):
        neg = field.startswith("when!")
        key = field.split(":", 1)[1]
        cond = next(c for c in rule["when"] if c["key"] == key)
        vs = cond["notValues" if neg else "values"]
        return {"when": [{"key": key, ("notValues" if neg else "values"): vs}]}, key, vs
    for side, inner in (("from", "source"), ("to", "operation")):
        for f in rule.get(side, []):
            if field in f[inner]:
                vs = f[inner][field]
                return {side: [{inner: {field: vs}}]}, field, vs
    raise KeyError(field)


def split_fields(doc, filters, policy_rule, perm_names, princ_names, rule_index, test, input_path, label_):
    """One group per field of one rule, each decided by that field's part of the owner's RBAC."""
    perm, princ = rbac_rule(filters, 0, policy_rule)
    if not princ_names:
        assert princ == [{"any": True}], princ
        princ = []
    assert len(perm) == len(perm_names) and len(princ) == len(princ_names), (len(perm), len(princ))
    wire = doc["spec"]["rules"][rule_index]
    groups = []
    for side, names, subtrees in (("perm", perm_names, perm), ("princ", princ_names, princ)):
        for field, sub in zip(names, subtrees):
            rule, key, vs = field_values(wire, field)
            d, f = single_rule_variant(doc, rule, [sub] if side == "perm" else None,
                                       [sub] if side == "princ" else None)
            probe_field = key if field.startswith("when") else field
            nice = field.replace("when!:", "when notValues ").replace("when:", "when values ")
            groups.append(group(f"{label_} rule[{rule_index}], {nice} alone", test, input_path, [d], f,
                                for_field(probe_field, vs),
                                note=f"the rule's {nice} only; decided by its subtree of the owner's RBAC",
                                not_hosts_allow=field == "notHosts"))
            if "*" in vs and len(vs) > 1:
                idx = vs.index("*")
                rest = vs[:idx] + vs[idx + 1:]
                rule2 = copy.deepcopy(rule)
                for side_ in ("from", "to"):
                    for x in rule2.get(side_, []):
                        for inner in x.values():
                            inner[field] = rest
                for c in rule2.get("when", []):
                    for k in ("values", "notValues"):
                        if k in c:
                            c[k] = rest
                sub2 = drop_alternative(copy.deepcopy(sub), len(vs), idx)
                d2, f2 = single_rule_variant(doc, rule2, [sub2] if side == "perm" else None,
                                             [sub2] if side == "princ" else None)
                groups.append(group(f"{label_} rule[{rule_index}], {nice} alone, without '*'", test, input_path,
                                    [d2], f2, for_field(probe_field, rest),
                                    note=f"the rule's {nice} only, its '*' value left out; decided by that "
                                         "subtree of the owner's RBAC with the '*' alternative left out",
                                    not_hosts_allow=field == "notHosts"))
    return groups


def drop_alternative(tree, n, idx):
    """Removes alternative `idx` from every OR of `n` alternatives (one per value) in `tree`."""
    if isinstance(tree, dict):
        for key, inner in (("orRules", "rules"), ("orIds", "ids"), ("orMatch", "valueMatchers")):
            if key in tree and len(tree[key][inner]) == n:
                del tree[key][inner][idx]
        for v in tree.values():
            drop_alternative(v, n, idx)
    elif isinstance(tree, list):
        for v in tree:
            drop_alternative(v, n, idx)
    return tree


def renamed(text_or_obj):
    """`rule[0]` → `rule-0`: brackets cannot appear in a SPIFFE ID path segment."""
    if isinstance(text_or_obj, str):
        s = re.sub(r"\\\[(\d+)\\\]", r"-\1", text_or_obj)
        return re.sub(r"\[(\d+)\]", r"-\1", s)
    if isinstance(text_or_obj, list):
        return [renamed(x) for x in text_or_obj]
    if isinstance(text_or_obj, dict):
        return {k: (renamed(v) if k in ("principals", "namespaces", "exact", "prefix", "suffix", "regex",
                                         "values", "methods") or isinstance(v, (dict, list)) else v)
                for k, v in text_or_obj.items()}
    return text_or_obj


def main(out_dir):
    groups = []
    docs = lambda n: load_yaml_docs(HTTP + n)  # noqa: E731
    peer = BASE_PEER

    # allow-empty-rule: rules [{}] allows every request.
    f = outs(["allow-empty-rule-out.yaml"])
    groups.append(group("allow-empty-rule", "allow-empty-rule", "allow-empty-rule-in.yaml",
                        docs("allow-empty-rule-in.yaml"), f,
                        [{}, {"principal": peer, "method": "POST", "path": "/x"}, {"principal": peer, "path": "/a/b"}]))

    # allow-full-rule, whole.
    d = docs("allow-full-rule-in.yaml")
    f = outs(["allow-full-rule-out.yaml"])
    reqs = for_field("serviceAccounts", ["my-ns/my-sa", "sa-only"]) + for_field(
        "notServiceAccounts", ["my-ns/my-sa-not", "sa-not-only"])
    reqs += [{"principal": "spiffe://principal", "method": "method", "path": "/exact", "host": "exact.com",
              "port": 80, "headers": [["x-header", "header"]]}]
    groups.append(group("allow-full-rule", "allow-full-rule", "allow-full-rule-in.yaml", d, f, reqs))
    # rule[0] alone, field by field.
    perm0, princ0 = rbac_rule(f, 0, "ns[foo]-policy[httpbin-1]-rule[0]")
    for i, fld in enumerate(["serviceAccounts", "notServiceAccounts"]):
        rule, key, vs = field_values(d[0]["spec"]["rules"][0], fld)
        v, vf = single_rule_variant(d[0], rule, None, [princ0[i]])
        groups.append(group(f"allow-full-rule rule[0], {fld} alone", "allow-full-rule", "allow-full-rule-in.yaml",
                            [v], vf, for_field(fld, vs),
                            note=f"the rule's {fld} only; decided by its subtree of the owner's RBAC"))
    groups += split_fields(d[0], f, "ns[foo]-policy[httpbin-1]-rule[1]", FULL_RULE_PERM, FULL_RULE_PRINC, 1,
                           "allow-full-rule", "allow-full-rule-in.yaml", "allow-full-rule")

    # allow-host-before-111 (in testdata, not listed in builder_test.go): hosts and notHosts.
    d = docs("allow-host-before-111-in.yaml")
    f = outs(["allow-host-before-111-out.yaml"])
    hosts = d[0]["spec"]["rules"][0]["to"][0]["operation"]
    reqs = for_field("hosts", hosts["hosts"]) + for_field("notHosts", hosts["notHosts"])
    g = group("allow-host-before-111", "(testdata only)", "allow-host-before-111-in.yaml", d, f, reqs)
    g["source"]["test"] = "testdata allow-host-before-111 (no test case in builder_test.go names it)"
    groups.append(g)
    groups += split_fields(d[0], f, "ns[foo]-policy[httpbin-1]-rule[0]", ["hosts", "notHosts"], [], 0,
                           "(testdata only)", "allow-host-before-111-in.yaml", "allow-host-before-111")

    # allow-nil-rule: an ALLOW policy without rules allows nothing.
    f = outs(["allow-nil-rule-out.yaml"])
    groups.append(group("allow-nil-rule", "allow-nil-rule", "allow-nil-rule-in.yaml", docs("allow-nil-rule-in.yaml"),
                        f, [{}, {"principal": peer}, {"principal": peer, "method": "POST", "path": "/x"}]))

    # allow-path.
    d = docs("allow-path-in.yaml")
    f = outs(["allow-path-out.yaml"])
    op = d[0]["spec"]["rules"][0]["to"][0]["operation"]
    groups.append(group("allow-path", "allow-path", "allow-path-in.yaml", d, f,
                        for_field("paths", op["paths"]) + for_field("notPaths", op["notPaths"])))
    groups += split_fields(d[0], f, "ns[foo]-policy[httpbin-1]-rule[0]", ["paths", "notPaths"], [], 0,
                           "allow-path", "allow-path-in.yaml", "allow-path")

    # audit-full-rule: AUDIT never changes the decision; it matches every request.
    f = outs(["audit-full-rule-out.yaml"])
    groups.append(group("audit-full-rule", "audit-full-rule", "audit-full-rule-in.yaml",
                        docs("audit-full-rule-in.yaml"), f, [{}, {"principal": peer, "path": "/x"}], dry=True))

    # deny-and-allow.
    f = outs(["deny-and-allow-out1.yaml", "deny-and-allow-out2.yaml"])
    groups.append(group("deny-and-allow", "deny-and-allow", "deny-and-allow-in.yaml", docs("deny-and-allow-in.yaml"),
                        f, [{"principal": "spiffe://deny"}, {"principal": "spiffe://allow"},
                            {"principal": "spiffe://other"}, {}, {"principal": "spiffe://allow/x"},
                            {"principal": "spiffe://cluster.local/ns/deny/sa/deny"}]))

    # deny-empty-rule.
    f = outs(["deny-empty-rule-out.yaml"])
    groups.append(group("deny-empty-rule", "deny-empty-rule", "deny-empty-rule-in.yaml",
                        docs("deny-empty-rule-in.yaml"), f,
                        [{}, {"principal": peer}, {"principal": peer, "method": "POST", "path": "/x"}]))

    # dry-run.
    for n, outs_, paths in (("dry-run-allow-and-deny", ["dry-run-allow-and-deny-out1.yaml",
                                                        "dry-run-allow-and-deny-out2.yaml"],
                             ["/allow", "/deny", "/other"]),
                            ("dry-run-allow", ["dry-run-allow-out.yaml"], ["/exact", "/other"]),
                            ("dry-run-mix", ["dry-run-mix-out.yaml"], ["/allow", "/another", "/other"])):
        f = outs(outs_)
        groups.append(group(n, n, n + "-in.yaml", docs(n + "-in.yaml"), f,
                            [{"principal": peer, "path": p} for p in paths] + [{"path": paths[0]}], dry=True))

    # multiple-policies: nine ALLOW policies, one field each.
    f = outs(["multiple-policies-out.yaml"])
    base = {"principal": peer, "method": "DELETE", "path": "/none", "host": "none.example"}
    reqs = [base, dict(base, method="GET"), dict(base, method="POST"), dict(base, method="get"),
            dict(base, path="/v1"), dict(base, path="/v2"), dict(base, path="/v1/x"),
            dict(base, host="google.com"), dict(base, host="HTTPBIN.org"), dict(base, host="httpbin.org:443"),
            dict(base, port=80), dict(base, port=90), dict(base, port=91),
            {"principal": "spiffe://principals1", "method": "DELETE", "path": "/none", "host": "none.example"},
            {"principal": "spiffe://principals2/x", "method": "DELETE", "path": "/none", "host": "none.example"},
            dict(base, jwt={"iss": "requestPrincipals1", "sub": ""}),
            dict(base, jwt={"iss": "requestPrincipals1", "sub": "x"}),
            {"principal": "spiffe://cluster.local/ns/namespaces1/sa/x", "method": "DELETE", "path": "/none",
             "host": "none.example"},
            {"principal": "spiffe://td/ns/namespaces2/sa/y/z", "method": "DELETE", "path": "/none",
             "host": "none.example"},
            {"principal": "spiffe://td/ns/namespaces3/sa/y", "method": "DELETE", "path": "/none",
             "host": "none.example"},
            dict(base, sourceIp="1.2.3.4"), dict(base, sourceIp="5.6.7.200"), dict(base, sourceIp="5.6.8.1"),
            dict(base, headers=[["x-abc", "abc1"]]), dict(base, headers=[["X-ABC", "abc2"]]),
            dict(base, headers=[["x-abc", "abc3"]]), {}]
    groups.append(group("multiple-policies", "multiple-policies", "multiple-policies-in.yaml",
                        docs("multiple-policies-in.yaml"), f, reqs))

    # Trust-domain aliases (builder_test.go sets the bundle).
    for n, test, td, aliases in (("simple-policy-td-aliases", "trust-domain-one-alias", "td1", ["cluster.local"]),
                                 ("simple-policy-multiple-td-aliases", "trust-domain-multiple-aliases", "td1",
                                  ["cluster.local", "some-td"]),
                                 ("simple-policy-principal-with-wildcard", "trust-domain-wildcard-in-principal",
                                  "td1", ["foobar"]),
                                 ("td-aliases-source-principal", "trust-domain-aliases-in-source-principal",
                                  "new-td", ["old-td", "some-trustdomain"])):
        d = docs(n + "-in.yaml")
        f = outs([n + "-out.yaml"])
        tds = [td] + aliases + ["other-td", "xbar", "foo-td"]
        paths = []
        for r in d[0]["spec"]["rules"]:
            for fr in r.get("from", []):
                for p in fr["source"].get("principals", []):
                    paths.append(p.split("/", 1)[1] if "/" in p else p)
            for c in r.get("when", []):
                paths += [v.split("/", 1)[1] for v in c["values"] if "/" in v]
        methods = [m for r in d[0]["spec"]["rules"] for t in r.get("to", []) for m in t["operation"].get("methods", [])]
        ns_peers = [f"ns/{ns}/sa/x" for r in d[0]["spec"]["rules"] for fr in r.get("from", [])
                    for ns in fr["source"].get("namespaces", [])]
        reqs = []
        for t in tds:
            for p in paths + ns_peers:
                reqs.append({"principal": f"spiffe://{t}/{p}", "method": methods[0] if methods else "GET"})
        reqs.append({})
        g = group(n, test, n + "-in.yaml", d, f, reqs, td=td, aliases=aliases)
        groups.append(g)
        # The same with names a SPIFFE ID can carry.
        rd = renamed(d)
        rf = renamed(f)
        rreqs = [dict(r, **({"principal": renamed(r["principal"])} if "principal" in r else {}),
                      **({"method": renamed(r["method"])} if "method" in r else {})) for r in reqs]
        if methods:
            rreqs += [dict(r, method="GET") for r in rreqs[:4]]
            rreqs += [{"principal": f"spiffe://{t}/{renamed(paths[-1])}", "method": renamed(methods[-1])}
                      for t in tds]
        g = group(n + " (names without brackets)", test, n + "-in.yaml", rd, rf, rreqs, td=td, aliases=aliases,
                  note="the owner's input with `[i]` written `-i` (brackets cannot appear in a SPIFFE ID path "
                       "segment, so no certificate could match the original names); decided by the owner's RBAC "
                       "renamed the same way")
        groups.append(g)

    # single-policy: every path is relative (`rule[0]-to[0]-path[1]`), so nothing can match.
    d = docs("single-policy-in.yaml")
    f = outs(["single-policy-out.yaml"])
    groups.append(group("single-policy", "single-policy", "single-policy-in.yaml", d, f,
                        [{"principal": peer}, {}, {"principal": peer, "method": "rule-0-to-0-method-1"}]))
    # trust-domains (trustDomains / notTrustDomains).
    d = docs("trust-domains-in.yaml")
    f = outs(["trust-domains-out.yaml"])
    reqs = for_field("trustDomains", ["cluster.local", "another.local"]) + for_field(
        "notTrustDomains", ["bad*", "untrusted"])
    groups.append(group("trust-domains", "trust-domains-field", "trust-domains-in.yaml", d, f, reqs))

    # CUSTOM policies need an external authorizer: refused.
    for n, tests in (("custom-simple-http-in.yaml", "custom-grpc-provider, custom-grpc-provider-no-namespace, "
                                                    "custom-http-provider, custom-bad-invalid-config"),
                     ("custom-bad-multiple-providers-in.yaml", "custom-bad-multiple-providers")):
        groups.append({"name": n[:-8], "source": {"path": HTTP + n, "test": f"TestGenerator_GenerateHTTP/{tests}"},
                       "note": "CUSTOM delegates to an external authorizer (ext_authz); this filter makes no "
                               "network call, so the bundle is refused",
                       "bundle": bundle(docs(n)), "load": {"refused": "CUSTOM"}, "cases": []})

    suite = {"owner": "istio",
             "source": {"repo": REPO, "commit": COMMIT, "path": TEST, "test": "TestGenerator_GenerateHTTP"},
             "description": "istiod's RBAC generator tests: each testdata/http/*-in.yaml as a bundle (workload "
                            "foo/httpbin with labels app=httpbin, version=v1, the trust-domain bundle builder_test.go "
                            "sets), each request decided as the matching -out.yaml (the Envoy RBAC istiod generates; "
                            "the extended-*-out.yaml files are identical) decides it. Groups named '... alone' keep "
                            "one field of a rule and are decided by that field's subtree of the owner's RBAC.",
             "groups": groups}
    write(out_dir + "/builder-http.json", suite)
    n = sum(1 + len(g["cases"]) for g in groups)
    print(f"builder-http: {len(groups)} groups, {n} cases")


if __name__ == "__main__":
    main(sys.argv[1])

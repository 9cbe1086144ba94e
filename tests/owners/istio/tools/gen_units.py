"""The unit tests of istiod's authorization code, as policies and requests:
security.json (pkg/config/security), model.json (pilot/pkg/security/authz/model),
matcher.json (pilot/pkg/security/authz/matcher), trustdomain.json (pilot/pkg/security/trustdomain)."""
import re
import sys

import oracle
from common import COMMIT, REPO, write

WL = {"namespace": "foo", "serviceAccount": "httpbin", "labels": {"app": "httpbin"}}
PEER = "spiffe://cluster.local/ns/foo/sa/client"
SPIFFE = re.compile(r"spiffe://[a-z0-9._-]+(/[a-zA-Z0-9._-]+)*")


def policy(spec, name="p", namespace="foo", annotations=None):
    meta = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": meta, "spec": spec}


def bundle(specs, workload=WL, td=None, aliases=None):
    w = dict(workload)
    if td:
        w["trustDomain"] = td
    b = {"workload": w}
    if aliases:
        b["settings"] = {"trustDomainAliases": aliases}
    b["resources"] = [policy(s, name=f"p{i}") if isinstance(s, dict) and "metadata" not in s else s
                      for i, s in enumerate(specs)]
    return b


def group(name, test, path, b, cases=None, refused=None, note=None):
    g = {"name": name, "source": {"path": path, "test": test}}
    if note:
        g["note"] = note
    g["bundle"] = b
    if refused is not None:
        g["load"] = {"refused": refused}
    g["cases"] = cases or []
    return g


def case(name, expect, **kw):
    c = {"name": name}
    c.update(kw)
    c["expect"] = "allow" if expect is True else "deny" if expect is False else expect
    if any(k in kw for k in ("jwt", "destinationIp", "sni", "remoteIp", "metadata")):
        c["e2e"] = False
    return c


def valid_peer(p):
    return SPIFFE.fullmatch(p) is not None


def sm(m, s):
    """An Envoy StringMatcher given as (kind, value[, ignore_case])."""
    kind, v = m[0], m[1]
    ic = len(m) > 2 and m[2]
    return oracle.str_match({kind: v if kind != "safeRegex" else {"regex": v}, "ignoreCase": ic}, s)


def with_prefix(v, prefix):
    """istio/istio pilot/pkg/security/authz/matcher StringMatcherWithPrefix, as a matcher tuple."""
    if v == "*":
        return ("safeRegex", ".+")
    if v.startswith("*"):
        return ("suffix", v[1:]) if prefix == "" else ("safeRegex", prefix + ".*" + re.escape(v[1:]))
    if v.endswith("*"):
        return ("prefix", prefix + v[:-1])
    return ("exact", prefix + v)


# ---------------------------------------------------------------- pkg/config/security
def security_suite():
    P = "pkg/config/security/security_test.go"
    gs = []
    # TestCheckWildcardValues and TestCheckTrustDomainValues: the values of trustDomains.
    for test, cases in (("TestCheckWildcardValues", [("exact", "foo", None), ("presence", "*", None),
                                                     ("prefix", "foo*", None), ("suffix", "*foo", None),
                                                     ("empty", "", "empty value not allowed"),
                                                     ("middle wildcard", "fo*-bar", "wildcard is only allowed at the start or end"),
                                                     ("multiple wildcards", "fo*bar*", "at most one wildcard is allowed")]),
                        ("TestCheckTrustDomainValues", [("exact", "cluster.local", None),
                                                        ("presence wildcard", "*", None),
                                                        ("prefix wildcard", "cluster-*", None),
                                                        ("suffix wildcard", "*-cluster", None),
                                                        ("empty", "", "empty value not allowed"),
                                                        ("slash", "cluster.local/ns/foo", "trust domain must not contain '/'"),
                                                        ("spiffe uri", "spiffe://cluster.local", "trust domain must not contain '/'")])):
        for name, v, err in cases:
            for field in ("trustDomains", "notTrustDomains"):
                b = bundle([{"rules": [{"from": [{"source": {field: [v]}}]}]}])
                cs = []
                if err is None:
                    tds = {"foo": ["foo", "foox", "xfoo"], "*": ["anything"], "foo*": ["foo", "foobar", "xfoo"],
                           "*foo": ["foo", "barfoo", "foox"], "cluster.local": ["cluster.local", "cluster.localx"],
                           "cluster-*": ["cluster-a", "cluster", "xcluster-a"],
                           "*-cluster": ["a-cluster", "cluster", "a-clusterx"]}[v]
                    for td in tds:
                        uri = f"spiffe://{td}/ns/foo/sa/x"
                        hit = sm(trust_domain_matcher(v), uri)
                        cs.append(case(f"peer in trust domain {td}", hit if field == "trustDomains" else not hit,
                                       principal=uri))
                    cs.append(case("no certificate", field == "notTrustDomains"))
                gs.append(group(f"{test}/{name}: {field} [{v!r}]", f"{test}/{name}", P, b, cs, refused=err))
    # TestValidateCondition: each key and values as a `when` condition.
    conds = [("request.headers[:authority]", ["productpage", ""], "empty value not allowed"),
             ("request.headers[:authority]", ["productpage"], None),
             ("request.headers[]", ["productpage"], "bad key (request.headers[]): should have format a[b]"),
             ("source.ip", ["1.2.3.4", "5.6.7.0/24"], None), ("source.ip", ["a.b.c.d"], "bad IP address (a.b.c.d)"),
             ("remote.ip", ["1.2.3.4", "5.6.7.0/24"], None), ("remote.ip", ["a.b.c.d"], "bad IP address (a.b.c.d)"),
             ("source.namespace", ["value"], None), ("source.user", ["value"], "unknown attribute: source.user"),
             ("source.principal", ["value"], None),
             ("source.serviceAccount", ["too/many/slashes"], "expected format 'serviceAccount' or 'namespace/serviceAccount'"),
             ("source.serviceAccount", ["/emptyns"], "found empty namespace"),
             ("source.serviceAccount", ["emptysa/"], "found empty serviceAccount"),
             ("source.serviceAccount", ["ns/sa"], None), ("source.serviceAccount", ["sa"], None),
             ("source.trustDomain", ["cluster.local"], None), ("source.trustDomain", ["*"], None),
             ("source.trustDomain", ["foo*"], None), ("source.trustDomain", ["*bar"], None),
             ("source.trustDomain", ["fo*-bar"], "wildcard is only allowed at the start or end"),
             ("source.trustDomain", ["fo*bar*"], "at most one wildcard is allowed"),
             ("source.trustDomain", [""], "empty value not allowed"),
             ("request.auth.principal", ["value"], None), ("request.auth.audiences", ["value"], None),
             ("request.auth.presenter", ["value"], None), ("request.auth.claims[id]", ["123"], None),
             ("request.auth.claims[]", ["value"], "bad key (request.auth.claims[]): should have format a[b]"),
             ("destination.ip", ["1.2.3.4", "5.6.7.0/24"], None),
             ("destination.ip", ["a.b.c.d"], "bad IP address (a.b.c.d)"),
             ("destination.port", ["80", "90"], None), ("destination.port", ["80", "x"], "bad port (x)"),
             ("destination.labels[app]", ["value"], "attribute destination.labels[app] is replaced by the workload selector"),
             ("destination.name", ["value"], "deprecated attribute destination.name: only supported in v1alpha1"),
             ("destination.namespace", ["value"], "attribute destination.namespace is replaced by the metadata.namespace"),
             ("destination.user", ["value"], "deprecated attribute destination.user: only supported in v1alpha1"),
             ("connection.sni", ["value"], None), ("experimental.envoy.filters.a.b[c]", ["value"], None),
             ("experimental.envoy.filters.a.b.x", ["value"], "bad key (experimental.envoy.filters.a.b.x): should have format a[b]")]
    for key, vals, err in conds:
        for which in ("values", "notValues"):
            b = bundle([{"rules": [{"when": [{"key": key, which: vals}]}]}])
            gs.append(group(f"TestValidateCondition: {key} {which} {vals}", "TestValidateCondition", P, b,
                            refused=err))
    # TestCheckValidPathTemplate: each value in paths (and notPaths), with requests for the valid ones.
    templates = [("valid path template - matchOneTemplate", "/{*}/foo", None),
                 ("valid path template - matchOneTemplate with trailing slash", "/{*}/foo/", None),
                 ("valid path template - matchAnyTemplate", "/foo/{**}/bar", None),
                 ("valid path template - matchAnyTemplate at end", "/foo/bar/{**}", None),
                 ("unsupported path template - matchAnyTemplate with additional chars", "/foo/{**}buzz/bar",
                  "Contains '{' or '}' beyond a supported path template"),
                 ("unsupported path template - empty curly braces", "/{*}/foo/{}/bar",
                  "Contains '{' or '}' beyond a supported path template"),
                 ("unsupported path template - matchOneTemplate with `*`", "/foo/{*}/bar/*", "invalid string literal"),
                 ("unsupported path template - matchOneTemplate with `**`", "/foo/{*}/bar/**/buzz",
                  "invalid string literal"),
                 ("unsupported path/path template - named var: {buzz}", "/foo/{buzz}/bar",
                  "Contains '{' or '}' beyond a supported path template"),
                 ("unsupported path/path template - only named var: {buzz}", "/{buzz}",
                  "Contains '{' or '}' beyond a supported path template"),
                 ("unsupported path template - matchAnyTemplate with named var: {buzz}", "/foo/{buzz}/bar/{**}",
                  "Contains '{' or '}' beyond a supported path template"),
                 ("unsupported path template - matchAnyTemplate with named var: {buzz=*}", "/foo/{buzz=*}/bar/{**}",
                  "Contains '{' or '}' beyond a supported path template"),
                 ("unsupported path template - matchAnyTemplate with named var: {buzz=**}", "/{*}/foo/{buzz=**}/bar",
                  "Contains '{' or '}' beyond a supported path template"),
                 ("unsupported path template - matchAnyTemplate with additional chars at end", "/{*}/foo/{**}bar",
                  "Contains '{' or '}' beyond a supported path template"),
                 ("unsupported path template - matchOneTemplate with file extension", "/{*}/foo/{*}.txt",
                  "Contains '{' or '}' beyond a supported path template"),
                 ("unsupported path template - matchOneTemplate with unmatched open curly brace", "/{*}/foo/{temp",
                  "Contains '{' or '}' beyond a supported path template"),
                 ("unsupported path template - matchOneTemplate with unmatched closed curly brace",
                  "/{*}/foo/temp}/bar", "Contains '{' or '}' beyond a supported path template"),
                 ("unsupported path template - matchOneTemplate with unmatched closed curly brace and `*`",
                  "/{*}/foo/temp}/*", "Contains '{' or '}' beyond a supported path template"),
                 ("unsupported path template - matchAnyTemplate is not the last operator in the template",
                  "/{**}/foo/temp/{*}/bar", "{**} is not the last operator"),
                 ("unsupported path template - simple multiple matchAnyTemplates", "/{**}/{**}",
                  "{**} is not the last operator"),
                 ("unsupported path template - multiple matchAnyTemplates", "/{**}/foo/temp/{**}/bar",
                  "{**} is not the last operator"),
                 ("unsupported path template - invalid literal in path template", "/{*}/foo/?abc",
                  "invalid string literal")]
    for name, v, err in templates:
        b = bundle([{"rules": [{"to": [{"operation": {"paths": [v]}}]}]}])
        cs = []
        if err is None:
            rx = oracle.template_regex(v.replace("{**}", "**").replace("{*}", "*"))
            probes = {"/{*}/foo": ["/x/foo", "/foo", "/x/y/foo", "/x/foo/"],
                      "/{*}/foo/": ["/x/foo/", "/x/foo", "/x/y/foo/"],
                      "/foo/{**}/bar": ["/foo/x/bar", "/foo/x/y/bar", "/foo/bar", "/foo/x/bar/z"],
                      "/foo/bar/{**}": ["/foo/bar/", "/foo/bar/x/y", "/foo/bar", "/foo/barx"]}[v]
            cs = [case(p, re.fullmatch(rx, p) is not None, principal=PEER, path=p) for p in probes]
        gs.append(group(f"TestCheckValidPathTemplate/{name}", "TestCheckValidPathTemplate", P, b, cs, refused=err))
        if err is not None:
            b = bundle([{"rules": [{"to": [{"operation": {"notPaths": [v]}}]}]}])
            gs.append(group(f"TestCheckValidPathTemplate/{name} (notPaths)", "TestCheckValidPathTemplate", P, b,
                            refused=err))
    # TestIsValidLiteral: a literal segment of a path template (`/{*}/<glob>`).
    literals = [("valid - alphabet chars and nums", "123abcABC", True), ("valid - unreserved chars", "._~-", True),
                ("valid - equals", "a=c", True), ("valid - mixed chars", "-._~%20!$&'()+,;:@", True),
                ("invalid - mixed chars", "`~!@#$%^&()-_+;:,<.>'\"\\| ", False),
                ("invalid - star with other chars", "ab*c", False), ("invalid - star", "*", False),
                ("invalid - double star with other chars", "ab**c", False), ("invalid - double star", "**", False),
                ("invalid - question mark", "?abc", False), ("invalid - question mark with equals", "?a=c", False),
                ("invalid - left curly brace", "{abc", False), ("invalid - right curly brace", "abc}", False),
                ("invalid - curly brace set", "{abc}", False)]
    for name, glob, ok in literals:
        v = "/{*}/" + glob
        b = bundle([{"rules": [{"to": [{"operation": {"paths": [v]}}]}]}])
        err = None
        if not ok:
            err = "Contains '{' or '}' beyond a supported path template" if "{" in glob or "}" in glob else \
                "invalid string literal"
        gs.append(group(f"TestIsValidLiteral/{name}: path {v!r}", "TestIsValidLiteral", P, b, refused=err,
                        note="the glob as a literal segment of a path template, where istiod checks it"))
    # TestContainsPathTemplate: a path with {*}/{**} is a template; `*` alone is a wildcard; {buzz} is refused.
    for name, v, kind in (("matchOneOnly", "/foo/bar/{*}", "template"), ("matchAnyOnly", "/foo/{**}/bar", "template"),
                          ("matchAnyAndOne", "/{*}/bar/{**}", "template"), ("stringMatch", "/foo/bar/*", "prefix"),
                          ("namedVariable", "/foo/bar/{buzz}", "refused")):
        b = bundle([{"rules": [{"to": [{"operation": {"paths": [v]}}]}]}])
        if kind == "refused":
            gs.append(group(f"TestContainsPathTemplate/{name}", f"TestContainsPathTemplate/{name}", P, b,
                            refused="Contains '{' or '}' beyond a supported path template",
                            note="not a template, so `{buzz}` is a literal brace, which istiod refuses"))
            continue
        probes = {"/foo/bar/{*}": ["/foo/bar/x", "/foo/bar/", "/foo/bar/x/y"],
                  "/foo/{**}/bar": ["/foo/x/bar", "/foo/x/y/bar", "/foo/bar"],
                  "/{*}/bar/{**}": ["/x/bar/", "/x/bar/y", "/x/bar"],
                  "/foo/bar/*": ["/foo/bar/x", "/foo/bar/", "/foo/bar", "/foo/bar/x/y"]}[v]
        if kind == "template":
            rx = oracle.template_regex(v.replace("{**}", "**").replace("{*}", "*"))
            cs = [case(p, re.fullmatch(rx, p) is not None, principal=PEER, path=p) for p in probes]
        else:
            cs = [case(p, p.startswith("/foo/bar/"), principal=PEER, path=p) for p in probes]
        gs.append(group(f"TestContainsPathTemplate/{name}", f"TestContainsPathTemplate/{name}", P, b, cs))
    return {"owner": "istio", "source": {"repo": REPO, "commit": COMMIT, "path": P},
            "description": "pkg/config/security: the value checks istiod's validation applies (wildcards, trust "
                           "domains, condition keys and values, path templates and their literals), each through "
                           "the AuthorizationPolicy field that uses it; valid templates and trust domains get "
                           "requests, decided as Envoy's uri_template matcher and istiod's generated matchers do.",
            "groups": gs}


def trust_domain_matcher(v):
    """pilot/pkg/security/authz/model/generator.go srcTrustDomainGenerator."""
    if v == "*":
        return ("prefix", "spiffe://")
    if "*" not in v:
        return ("prefix", f"spiffe://{v}/")
    a, b = v.split("*", 1)
    return ("safeRegex", f"spiffe://{re.escape(a)}[^/]*{re.escape(b)}/.*")


if __name__ == "__main__":
    out = sys.argv[1]
    s = security_suite()
    write(out + "/security.json", s)
    print("security:", len(s["groups"]), sum(1 + len(g["cases"]) for g in s["groups"]))


# ---------------------------------------------------------------- pilot/pkg/security/authz/model
def rp_match(value, payload):
    """requestPrincipalGenerator (generator.go): iss and sub matched apart, split at the last '/'."""
    if payload is None or not isinstance(payload.get("iss"), str) or not isinstance(payload.get("sub"), str):
        return False
    any_ = ("safeRegex", ".+")
    idx = value.rfind("/")
    found = idx >= 0
    iss, sub = (value[:idx], value[idx + 1:]) if found else (value, "")
    if value == "*":
        mi, ms = any_, any_
    elif value.startswith("*"):
        if found:
            mi = any_ if iss == "*" else ("suffix", iss[1:])
            ms = ("exact", sub)
        else:
            mi, ms = any_, ("suffix", value[1:])
    elif value.endswith("*"):
        if found:
            mi = ("exact", iss)
            ms = any_ if sub == "*" else ("prefix", sub[:-1])
        else:
            mi, ms = ("prefix", value[:-1]), any_
    else:
        mi, ms = ("exact", iss), ("exact", sub)
    return sm(mi, payload["iss"]) and sm(ms, payload["sub"])


def sa_regex(default_ns, value):
    ns_, _, sa = value.partition("/")
    if not _:
        ns_, sa = default_ns, value
    return f"spiffe://.+/ns/{re.escape(ns_)}/(.+/|)sa/{re.escape(sa)}(/.+)?"


def ns_regex(v):
    return ".*/ns/" + ".*".join(re.escape(p) for p in v.split("*")) + "/.*"


def model_suite():
    G = "pilot/pkg/security/authz/model/generator_test.go"
    M = "pilot/pkg/security/authz/model/model_test.go"
    U = "pilot/pkg/security/authz/model/util_test.go"
    gs = []
    # TestRequestPrincipal.
    payloads = [{"iss": "foo", "sub": "bar"}, {"iss": "foo", "sub": "barx"}, {"iss": "foox", "sub": "bar"},
                {"iss": "xbar", "sub": "foo"}, {"iss": "a", "sub": "foo"}, {"iss": "a", "sub": "xfoo"},
                {"iss": "a", "sub": "x/foo"}, {"iss": "x/y", "sub": "foo"}, {"iss": "foo", "sub": "a/bar"},
                {"iss": "foo", "sub": ""}, {"iss": "foo/bar", "sub": "x"}, {"iss": "https://foo", "sub": "bar"},
                {"sub": "bar"}, None]
    for v in ("*", "foo*", "foo/*", "foo/bar*", "*foo", "*/foo", "*bar/foo", "foo/bar"):
        b = bundle([{"rules": [{"from": [{"source": {"requestPrincipals": [v]}}]}]}])
        cs = []
        for p in payloads:
            kw = {"principal": PEER}
            if p is not None:
                kw["jwt"] = p
            name = "no JWT" if p is None else "JWT " + ", ".join(f"{k}={x!r}" for k, x in p.items())
            cs.append(case(name, rp_match(v, p), **kw))
        gs.append(group(f"TestRequestPrincipal/{v}", f"TestRequestPrincipal/{v}", G, b, cs,
                        note="requestPrincipals [v]: the issuer and the subject are matched apart, split at the "
                             "last '/'"))
    # TestGenerator: each generator through the field that uses it.
    def g1(name, rule, probes, test=None, note=None):
        b = bundle([{"rules": [rule]}])
        gs.append(group(f"TestGenerator/{name}", f"TestGenerator/{test or name}", G, b,
                        [case(n, e, **kw) for n, e, kw in probes], note=note))
    g1("destIPGenerator", {"when": [{"key": "destination.ip", "values": ["1.2.3.4"]}]},
       [("destination 1.2.3.4", True, {"principal": PEER, "destinationIp": "1.2.3.4"}),
        ("destination 1.2.3.5", False, {"principal": PEER, "destinationIp": "1.2.3.5"})])
    g1("destPortGenerator", {"when": [{"key": "destination.port", "values": ["80"]}]},
       [("port 80", True, {"principal": PEER, "port": 80}), ("port 81", False, {"principal": PEER, "port": 81})])
    g1("connSNIGenerator", {"when": [{"key": "connection.sni", "values": ["exact.com"]}]},
       [("SNI exact.com", True, {"principal": PEER, "sni": "exact.com"}),
        ("SNI exact.comx", False, {"principal": PEER, "sni": "exact.comx"}),
        ("SNI EXACT.COM (SNI is matched as sent)", False, {"principal": PEER, "sni": "EXACT.COM"})])
    md = "envoy.filters.a.b.c"
    g1("envoyFilterGenerator-string", {"when": [{"key": f"experimental.{md}[d]", "values": ["val"]}]},
       [("metadata d=val", True, {"principal": PEER, "metadata": {md: {"d": "val"}}}),
        ("metadata d=valx", False, {"principal": PEER, "metadata": {md: {"d": "valx"}}}),
        ("metadata d=[val] (a list is not the string)", False, {"principal": PEER, "metadata": {md: {"d": ["val"]}}}),
        ("no metadata", False, {"principal": PEER})],
       note="the test's key experimental.a.b.c[d] reads filter a.b.c; a policy key must start with "
            "experimental.envoy.filters., so the filter here is envoy.filters.a.b.c")
    b = bundle([{"rules": [{"when": [{"key": f"experimental.{md}]", "values": ["val"]}]}]}])
    gs.append(group("TestGenerator/envoyFilterGenerator-invalid", "TestGenerator/envoyFilterGenerator-invalid", G, b,
                    refused=f"bad key (experimental.{md}]): should have format a[b]"))
    g1("envoyFilterGenerator-list", {"when": [{"key": f"experimental.{md}[d]", "values": ["[v1, v2]"]}]},
       [("metadata d=[\"v1, v2\"]", True, {"principal": PEER, "metadata": {md: {"d": ["v1, v2"]}}}),
        ("metadata d=[\"x\", \"v1, v2\"]", True, {"principal": PEER, "metadata": {md: {"d": ["x", "v1, v2"]}}}),
        ("metadata d=[\"v1\", \"v2\"]", False, {"principal": PEER, "metadata": {md: {"d": ["v1", "v2"]}}}),
        ("metadata d=\"v1, v2\" (a string, not a list)", False, {"principal": PEER, "metadata": {md: {"d": "v1, v2"}}})],
       note="a value written [v] matches a list holding v")
    g1("srcIPGenerator", {"from": [{"source": {"ipBlocks": ["1.2.3.4"]}}]},
       [("source 1.2.3.4", True, {"principal": PEER, "sourceIp": "1.2.3.4"}),
        ("source 1.2.3.5", False, {"principal": PEER, "sourceIp": "1.2.3.5"})])
    g1("remoteIPGenerator", {"from": [{"source": {"remoteIpBlocks": ["1.2.3.4"]}}]},
       [("remote 1.2.3.4", True, {"principal": PEER, "sourceIp": "10.0.0.1", "remoteIp": "1.2.3.4"}),
        ("remote 1.2.3.5", False, {"principal": PEER, "sourceIp": "1.2.3.4", "remoteIp": "1.2.3.5"})])
    for name in ("srcNamespaceGenerator-http", "srcNamespaceGenerator-tcp"):
        g1(name, {"from": [{"source": {"namespaces": ["foo"]}}]},
           [("peer in foo", True, {"principal": "spiffe://cluster.local/ns/foo/sa/x"}),
            ("peer with /ns/foo/ after other segments", True, {"principal": "spiffe://td/k/v/ns/foo/x"}),
            ("peer in foox", False, {"principal": "spiffe://cluster.local/ns/foox/sa/x"}),
            ("peer with ns foo last", False, {"principal": "spiffe://cluster.local/x/ns/foo"}),
            ("no certificate", False, {})])
    for name, v, tds in (("srcTrustDomainGenerator-exact", "cluster.local", ["cluster.local", "cluster.localx"]),
                         ("srcTrustDomainGenerator-wildcard", "*", ["any.td", "x"]),
                         ("srcTrustDomainGenerator-prefix-wildcard", "cluster.*", ["cluster.local", "clusterxlocal",
                                                                                   "cluster.", "xcluster.a"]),
                         ("srcTrustDomainGenerator-suffix-wildcard", "*local", ["cluster.local", "local", "localx"])):
        probes = [(f"peer in {td}", sm(trust_domain_matcher(v), f"spiffe://{td}/ns/foo/sa/x"),
                   {"principal": f"spiffe://{td}/ns/foo/sa/x"}) for td in tds]
        probes.append(("no certificate", False, {}))
        g1(name, {"from": [{"source": {"trustDomains": [v]}}]}, probes)
    for name in ("srcPrincipalGenerator-http", "srcPrincipalGenerator-tcp"):
        g1(name, {"from": [{"source": {"principals": ["foo"]}}]},
           [("peer spiffe://foo", True, {"principal": "spiffe://foo"}),
            ("peer spiffe://foox", False, {"principal": "spiffe://foox"}), ("no certificate", False, {})])
    g1("requestHeaderGenerator", {"when": [{"key": "request.headers[x-foo]", "values": ["foo"]}]},
       [("x-foo: foo", True, {"principal": PEER, "headers": [["x-foo", "foo"]]}),
        ("x-foo: foox", False, {"principal": PEER, "headers": [["x-foo", "foox"]]}),
        ("X-Foo: foo (names are case-insensitive)", True, {"principal": PEER, "headers": [["X-Foo", "foo"]]}),
        ("no x-foo", False, {"principal": PEER})])
    g1("hostGenerator", {"to": [{"operation": {"hosts": ["foo"]}}]},
       [("host foo", True, {"principal": PEER, "host": "foo"}), ("host FOO", True, {"principal": PEER, "host": "FOO"}),
        ("host foo:80", False, {"principal": PEER, "host": "foo:80"}),
        ("host foox", False, {"principal": PEER, "host": "foox"})])
    g1("pathGenerator", {"to": [{"operation": {"paths": ["/abc"]}}]},
       [("/abc", True, {"principal": PEER, "path": "/abc"}), ("/abc?x=1", True, {"principal": PEER, "path": "/abc?x=1"}),
        ("/abc/", False, {"principal": PEER, "path": "/abc/"}), ("/ABC", False, {"principal": PEER, "path": "/ABC"})])
    g1("pathGenerator-template", {"to": [{"operation": {"paths": ["/abc/{*}"]}}]},
       [("/abc/x", True, {"principal": PEER, "path": "/abc/x"}), ("/abc/", False, {"principal": PEER, "path": "/abc/"}),
        ("/abc/x/y", False, {"principal": PEER, "path": "/abc/x/y"}),
        ("/abc/x?q", True, {"principal": PEER, "path": "/abc/x?q"})])
    g1("methodGenerator", {"to": [{"operation": {"methods": ["GET"]}}]},
       [("GET", True, {"principal": PEER, "method": "GET"}), ("POST", False, {"principal": PEER, "method": "POST"})])
    # TestServiceAccount (serviceAccountRegex, matched in full as Envoy does).
    sa_cases = [("standard", "my-ns/my-sa", "spiffe://cluster.local/ns/my-ns/sa/my-sa"),
                ("suffix attributes", "my-ns/my-sa", "spiffe://cluster.local/ns/my-ns/sa/my-sa/k/v"),
                ("prefix attributes", "my-ns/my-sa", "spiffe://cluster.local/k/v/ns/my-ns/sa/my-sa"),
                ("middle attributes", "my-ns/my-sa", "spiffe://cluster.local/ns/my-ns/k/v/sa/my-sa"),
                ("all attributes", "my-ns/my-sa", "spiffe://cluster.local/k1/v1/ns/my-ns/k2/v2/sa/my-sa/k3/v3"),
                ("sa suffix string", "my-ns/my-sa", "spiffe://cluster.local/ns/my-ns/sa/my-sa-suffix"),
                ("ns suffix string", "my-ns/my-sa", "spiffe://cluster.local/ns/my-ns-suffix/sa/my-sa"),
                ("not spiffe", "my-ns/my-sa", "cluster.local/ns/my-ns/sa/my-sa"),
                ("invalid spiffe", "my-ns/my-sa", "spiffe://ns/my-ns/sa/my-sa"),
                ("missing sa", "my-ns/my-sa", "spiffe://cluster.local/ns/my-ns"),
                ("missing ns", "my-ns/my-sa", "spiffe://cluster.local/sa/my-sa"),
                ("weird keys", "my-ns/my-sa", "spiffe://cluster.local/k/ns/my-ns/something/bar/sa/my-sa/baz"),
                ("regex metachars - exact match with dots", "my.ns/my.sa", "spiffe://cluster.local/ns/my.ns/sa/my.sa"),
                ("regex metachars - dot should not match arbitrary char in ns", "my.ns/my.sa",
                 "spiffe://cluster.local/ns/myXns/sa/my.sa"),
                ("regex metachars - dot should not match arbitrary char in sa", "my.ns/my.sa",
                 "spiffe://cluster.local/ns/my.ns/sa/myXsa")]
    for value in ("my-ns/my-sa", "my.ns/my.sa"):
        b = bundle([{"rules": [{"from": [{"source": {"serviceAccounts": [value]}}]}]}])
        cs = []
        for name, v, ident in sa_cases:
            if v != value:
                continue
            hit = re.fullmatch(sa_regex("", value), ident) is not None
            kw = {"principal": ident}
            note = None
            if not valid_peer(ident):
                note = "not a SPIFFE ID: the peer is unauthenticated"
                hit = False
            c = case(name, hit, **kw)
            if note:
                c["source"] = note
            cs.append(c)
        cs.append(case("no certificate", False))
        gs.append(group(f"TestServiceAccount ({value})", "TestServiceAccount", G, b, cs))
    # TestServiceAccountRegex: `sa` alone means the policy's namespace; metacharacters are literal.
    b = bundle([policy({"rules": [{"from": [{"source": {"serviceAccounts": ["my-sa"]}}]}]}, namespace="my-ns")],
               workload=dict(WL, namespace="my-ns"))
    gs.append(group("TestServiceAccountRegex: my-sa in a policy of namespace my-ns", "TestServiceAccountRegex", G, b,
                    [case("my-ns/my-sa", True, principal="spiffe://cluster.local/ns/my-ns/sa/my-sa"),
                     case("foo/my-sa", False, principal="spiffe://cluster.local/ns/foo/sa/my-sa")]))
    b = bundle([{"rules": [{"from": [{"source": {"serviceAccounts": ["ns+foo/sa(bar)"]}}]}]}])
    gs.append(group("TestServiceAccountRegex: ns+foo/sa(bar)", "TestServiceAccountRegex", G, b,
                    [case("nsfoo/sabar (+ and () are literal)", False, principal="spiffe://cluster.local/ns/nsfoo/sa/sabar"),
                     case("nssfoo/sabar", False, principal="spiffe://cluster.local/ns/nssfoo/sa/sabar")],
                    note="istiod accepts any characters; a SPIFFE ID cannot carry + or (), so nothing matches"))
    # TestNamespaceMatcherRegex_Match.
    for name, v, yes, no in (("exact-match-with-dot", "ns.prod", "spiffe://cluster.local/ns/ns.prod/sa/admin",
                              "spiffe://cluster.local/ns/nsXprod/sa/admin"),
                             ("wildcard-match-with-dot", "ns.*.prod", "spiffe://cluster.local/ns/ns.any.prod/sa/admin",
                              "spiffe://cluster.local/ns/nsXanyXprod/sa/admin")):
        b = bundle([{"rules": [{"from": [{"source": {"namespaces": [v]}}]}]}])
        cs = [case(f"match {yes}", True, principal=yes), case(f"no match {no}", False, principal=no)]
        if "*" in v:
            for extra in ("spiffe://cluster.local/ns/ns.a.b.prod/sa/x", "spiffe://cluster.local/ns/ns..prod/sa/x"):
                if valid_peer(extra):
                    cs.append(case(extra, re.fullmatch(ns_regex(v), extra) is not None, principal=extra))
            cs.append(case("spiffe://cluster.local/ns/ns.a/b.prod/sa/x ('*' spans '/')",
                           re.fullmatch(ns_regex(v), "spiffe://cluster.local/ns/ns.a/b.prod/sa/x") is not None,
                           principal="spiffe://cluster.local/ns/ns.a/b.prod/sa/x"))
        gs.append(group(f"TestNamespaceMatcherRegex_Match/{name}", f"TestNamespaceMatcherRegex_Match/{name}", G, b, cs,
                        note="namespaces may hold '*' anywhere: each becomes '.*' of a regex over the whole ID"))
    # TestModel_MigrateTrustDomain (bundle td-1, alias td-2).
    for name, rule, want, not_want in (
            ("no-source-principal", {"from": [{"source": {"requestPrincipals": ["td-1/ns/foo/sa/sleep"]}}]}, None, None),
            ("source-principal-field", {"from": [{"source": {"principals": ["td-1/ns/foo/sa/sleep"]}}]},
             ["td-1", "td-2"], ["td-3"]),
            ("source-principal-attribute", {"when": [{"key": "source.principal", "values": ["td-1/ns/foo/sa/sleep"]}]},
             ["td-1", "td-2"], ["td-3"])):
        b = bundle([{"rules": [rule]}], td="td-1", aliases=["td-2"])
        if want is None:
            cs = [case("JWT iss td-1/ns/foo/sa, sub sleep", True, principal=PEER,
                       jwt={"iss": "td-1/ns/foo/sa", "sub": "sleep"}),
                  case("JWT iss td-2/ns/foo/sa, sub sleep: request principals are not rewritten", False,
                       principal=PEER, jwt={"iss": "td-2/ns/foo/sa", "sub": "sleep"})]
        else:
            cs = [case(f"peer spiffe://{t}/ns/foo/sa/sleep", True, principal=f"spiffe://{t}/ns/foo/sa/sleep")
                  for t in want]
            cs += [case(f"peer spiffe://{t}/ns/foo/sa/sleep", False, principal=f"spiffe://{t}/ns/foo/sa/sleep")
                   for t in not_want]
        gs.append(group(f"TestModel_MigrateTrustDomain/{name}", f"TestModel_MigrateTrustDomain/{name}", M, b, cs))
    # TestModel_Generate, HTTP (TCP variants: a network filter).
    rule = {"from": [{"source": {"requestPrincipals": ["td-1/ns/foo/sa/sleep-1"],
                                 "notRequestPrincipals": ["td-1/ns/foo/sa/sleep-2"]}},
                     {"source": {"requestPrincipals": ["td-1/ns/foo/sa/sleep-3"],
                                 "notRequestPrincipals": ["td-1/ns/foo/sa/sleep-4"]}}],
            "to": [{"operation": {"ports": ["8001"], "notPorts": ["8002"]}},
                   {"operation": {"ports": ["8003"], "notPorts": ["8004"]}}],
            "when": [{"key": "source.principal", "values": ["td-1/ns/foo/sa/httpbin-1"],
                      "notValues": ["td-1/ns/foo/sa/httpbin-2"]},
                     {"key": "destination.ip", "values": ["10.0.0.1"], "notValues": ["10.0.0.2"]}]}
    base = {"principal": "spiffe://td-1/ns/foo/sa/httpbin-1", "jwt": {"iss": "td-1/ns/foo/sa", "sub": "sleep-1"},
            "port": 8001, "destinationIp": "10.0.0.1"}
    probes = [("all match (sleep-1, port 8001)", True, base),
              ("sleep-3 on port 8003", True, dict(base, jwt={"iss": "td-1/ns/foo/sa", "sub": "sleep-3"}, port=8003)),
              ("sleep-2 is not a listed request principal", False,
               dict(base, jwt={"iss": "td-1/ns/foo/sa", "sub": "sleep-2"})),
              ("port 8002", False, dict(base, port=8002)),
              ("peer httpbin-2", False, dict(base, principal="spiffe://td-1/ns/foo/sa/httpbin-2")),
              ("destination 10.0.0.2", False, dict(base, destinationIp="10.0.0.2")),
              ("no JWT", False, {k: v for k, v in base.items() if k != "jwt"})]
    for action in ("ALLOW", "DENY", "AUDIT"):
        b = bundle([{"action": action, "rules": [rule]}])
        cs = []
        for n, hit, kw in probes:
            if action == "ALLOW":
                cs.append(case(n, hit, **kw))
            elif action == "DENY":
                cs.append(case(n, not hit, **kw))
            else:
                cs.append(case(n, True, dryRun=["allow"] if hit else [], **kw))
        gs.append(group(f"TestModel_Generate/{action.lower()}-http", f"TestModel_Generate/{action.lower()}-http", M,
                        b, cs))
    # TestRule_Principal.
    b = bundle([{"rules": [{"from": [{"source": {"principals": ["value"], "notPrincipals": ["notvalue"]}}]}]}])
    gs.append(group("TestRule_Principal/useAuthenticated:true (principals)", "TestRule_Principal", M, b,
                    [case("spiffe://value", True, principal="spiffe://value"),
                     case("spiffe://notvalue", False, principal="spiffe://notvalue"),
                     case("spiffe://other", False, principal="spiffe://other")],
                    note="the test's notValue is written notvalue: a trust domain is lowercase"))
    b = bundle([{"rules": [{"from": [{"source": {"namespaces": ["value"], "notNamespaces": ["notValue"]}}]}]}])
    gs.append(group("TestRule_Principal/useAuthenticated:false (namespaces)", "TestRule_Principal", M, b,
                    [case("ns value", True, principal="spiffe://td/ns/value/sa/x"),
                     case("ns notValue", False, principal="spiffe://td/ns/notValue/sa/x"),
                     case("ns other", False, principal="spiffe://td/ns/other/sa/x")]))
    # util_test: TestConvertToPort (ports), TestExtractNameInBrackets (header keys),
    # TestExtractNameInNestedBrackets (claim keys).
    for name, v, err in (("negative port", "-80", "bad port (-80)"), ("invalid port", "xyz", "bad port (xyz)"),
                         ("port too large", "91234", "bad port (91234)"), ("valid port", "443", None)):
        for field in ("ports", "notPorts"):
            b = bundle([{"rules": [{"to": [{"operation": {field: [v]}}]}]}])
            cs = [] if err else [case("port 443", field == "ports", principal=PEER, port=443),
                                 case("port 444", field != "ports", principal=PEER, port=444)]
            gs.append(group(f"TestConvertToPort/{name} ({field})", "TestConvertToPort", U, b, cs, refused=err))
        b = bundle([{"rules": [{"when": [{"key": "destination.port", "values": [v]}]}]}])
        gs.append(group(f"TestConvertToPort/{name} (destination.port)", "TestConvertToPort", U, b,
                        [] if err else [case("port 443", True, principal=PEER, port=443)], refused=err))
    for s, want, err in (("[good]", "good", None), ("[[good]]", "[good]", None), ("[]", "", "bad key"),
                         ("[bad", None, "bad key"), ("bad]", None, "bad key"), ("bad", None, "bad key")):
        key = "request.headers" + s
        b = bundle([{"rules": [{"when": [{"key": key, "values": ["v"]}]}]}])
        cs = []
        if want == "good":
            cs = [case("good: v", True, principal=PEER, headers=[["good", "v"]]),
                  case("good: w", False, principal=PEER, headers=[["good", "w"]])]
        elif want is not None:
            cs = [case("no such header", False, principal=PEER)]
        gs.append(group(f"TestExtractNameInBrackets/{s} (key {key})", "TestExtractNameInBrackets", U, b, cs,
                        refused=err))
    for s, want, err in (("[good]", ["good"], None), ("[good][abc][xyz]", ["good", "abc", "xyz"], None),
                         ("[]", None, "bad key"), ("[[good]", ["[good"], None), ("[good]]", ["good]"], None),
                         ("[[good]]", ["[good]"], None), ("[bad", None, "bad key"), ("bad]", None, "bad key"),
                         ("bad", None, "bad key")):
        key = "request.auth.claims" + s
        b = bundle([{"rules": [{"when": [{"key": key, "values": ["v"]}]}]}])
        cs = []
        if want is not None:
            payload = "v"
            for k in reversed(want):
                payload = {k: payload}
            payload.update({"iss": "i", "sub": "s"})
            cs = [case(f"claim {'.'.join(want)} = v", True, principal=PEER, jwt=payload),
                  case("claim missing", False, principal=PEER, jwt={"iss": "i", "sub": "s", "v": "v"})]
        gs.append(group(f"TestExtractNameInNestedBrackets/{s} (key {key})", "TestExtractNameInNestedBrackets", U, b,
                        cs, refused=err))
    # x[bad]: istiod's validation accepts the key, its generator does not: an ALLOW rule is dropped
    # (builder.go "skipped rule"), a DENY rule loses the condition (model.go checkError).
    for action, expect, why in (("ALLOW", False, "the rule is dropped: nothing is allowed"),
                                ("DENY", False, "the condition is ignored: the DENY rule matches every request")):
        b = bundle([{"action": action, "rules": [{"when": [{"key": "request.auth.claimsx[bad]", "values": ["v"]}]}]}])
        gs.append(group(f"TestExtractNameInNestedBrackets/x[bad] in {action} (key request.auth.claimsx[bad])",
                        "TestExtractNameInNestedBrackets", U, b,
                        [case("a request with claim x[bad] = v", expect, principal=PEER,
                              jwt={"iss": "i", "sub": "s", "x[bad]": "v"}),
                         case("a request without JWT", expect, principal=PEER)],
                        note=f"validation accepts the key; generation fails: {why}"))
    return {"owner": "istio", "source": {"repo": REPO, "commit": COMMIT, "path": G},
            "description": "pilot/pkg/security/authz/model: each generator, the request-principal split, the "
                           "service-account and namespace regexes, trust-domain migration, and the key parsers, "
                           "as policies and requests (expected decisions from the generated Envoy matchers).",
            "groups": gs}


# ---------------------------------------------------------------- pilot/pkg/security/authz/matcher
def matcher_suite():
    H = "pilot/pkg/security/authz/matcher/header_test.go"
    S = "pilot/pkg/security/authz/matcher/string_test.go"
    T = "pilot/pkg/security/authz/matcher/template_test.go"
    MD = "pilot/pkg/security/authz/matcher/metadata_test.go"
    gs = []

    def probes_group(name, test, path, rule, m, probes, field, note=None):
        cs = []
        for p in probes:
            kw = {"principal": PEER}
            if field == "header":
                kw["headers"] = [["x-test", p]]
            elif field == "host":
                kw["host"] = p
            elif field == "path":
                kw["path"] = p
            elif field == "principal":
                if not valid_peer(p):
                    continue
                kw = {"principal": p}
            value = p.split("?")[0] if field == "path" else p
            cs.append(case(f"{field} {p}", sm(m, value) if m[0] != "present" else True, **kw))
        gs.append(group(name, test, path, bundle([{"rules": [rule]}]), cs, note=note))

    # TestHeaderMatcher: the test uses :path; here a plain header, x-test (the matcher is the same).
    for name, v, m, probes in (("exact match", "/productpage", ("exact", "/productpage"),
                                ["/productpage", "/productpagex", "/PRODUCTPAGE"]),
                               ("suffix match", "*/productpage*", ("suffix", "/productpage*"),
                                ["/a/productpage*", "/productpage*", "/productpage", "/productpagex"]),
                               ("prefix match", "/productpage*", ("prefix", "/productpage"),
                                ["/productpage", "/productpage/x", "/product"]),
                               ("* match", "*", ("present", None), ["x", "/"])):
        rule = {"when": [{"key": "request.headers[x-test]", "values": [v]}]}
        probes_group(f"TestHeaderMatcher/{name}", f"TestHeaderMatcher/{name}", H, rule, m, probes, "header",
                     note="the test's header is :path; request.headers[x-test] builds the same matcher")
        gs[-1]["cases"].append(case("no x-test header", False, principal=PEER))
    for name, v, m, probes in (("present match", "*", ("present", None), ["anything", "a:1"]),
                               ("suffix match", "*.example.com", ("suffix", ".example.com", True),
                                ["a.example.com", "A.EXAMPLE.COM", "example.com", "a.example.com:80"]),
                               ("prefix match", "example.*", ("prefix", "example.", True),
                                ["example.com", "EXAMPLE.org", "example.com:8080", "xexample.com"]),
                               ("exact match", "example.com", ("exact", "example.com", True),
                                ["example.com", "EXAMPLE.COM", "example.com:80", "example.com."])):
        probes_group(f"TestHostMatcher/{name}", f"TestHostMatcher/{name}", H, {"to": [{"operation": {"hosts": [v]}}]},
                     m, probes, "host")
    for name, v, m, probes in (("exact match", "/productpage", ("exact", "/productpage"),
                                ["/productpage", "/productpage?x=1", "/productpage/", "/PRODUCTPAGE"]),
                               ("prefix match", "/prefix*", ("prefix", "/prefix"), ["/prefix", "/prefixes/x", "/pre"]),
                               ("suffix match", "*suffix", ("suffix", "suffix"), ["/a/suffix", "/suffix", "/suffixes"]),
                               ("wildcard match", "*", ("safeRegex", ".+"), ["/", "/x"])):
        probes_group(f"TestPathMatcher/{name}", f"TestPathMatcher/{name}", H, {"to": [{"operation": {"paths": [v]}}]},
                     m, probes, "path")
    # TestStringMatcherWithPrefix / TestStringMatcherRegex_Match: with the prefix spiffe:// (principals).
    for name, v, probes in (("wildcardAsRequired", "*", ["spiffe://a", "spiffe://cluster.local/ns/x/sa/y"]),
                            ("prefix", "-prefix-*", ["spiffe://-prefix-x", "spiffe://a-prefix-x"]),
                            ("suffix", "*-suffix", ["spiffe://a-suffix", "spiffe://td/ns/a-suffix",
                                                    "spiffe://a-suffixx"]),
                            ("suffix-with-dot", "*admin.example", ["spiffe://cluster.local/ns/foo/sa/some-admin.example",
                                                                   "spiffe://cluster.local/ns/foo/sa/some-adminXexample"]),
                            ("suffix-with-bracket", "*rule[0]", ["spiffe://cluster.local/ns/foo/sa/some-rule0"]),
                            ("exact", "-exact", ["spiffe://-exact", "spiffe://x-exact"])):
        probes_group(f"TestStringMatcherWithPrefix/{name} (principals [{v!r}])", f"TestStringMatcherWithPrefix/{name}",
                     S, {"from": [{"source": {"principals": [v]}}]}, with_prefix(v, "spiffe://"), probes, "principal",
                     note="StringMatcherWithPrefix as principals use it (prefix spiffe://)")
    # TestPathTemplateMatcher: Istio's template → Envoy's uri_template, and what it matches.
    for name, v, probes in (("matchOneOnly", "/foo/bar/{*}", ["/foo/bar/x", "/foo/bar/", "/foo/bar/x/y"]),
                            ("matchAnyOnly", "/foo/{**}/bar", ["/foo/x/bar", "/foo/x/y/bar", "/foo/bar", "/foo/x/barx"]),
                            ("matchAnyAndOne", "/{*}/foo/{**}/bar", ["/x/foo/y/bar", "/x/foo/bar", "/x/y/foo/z/bar"]),
                            ("matchAnyAndMultipleOnes", "/{*}/{*}/foo/{**}/bar",
                             ["/x/y/foo/z/bar", "/x/foo/z/bar", "/x/y/foo/z/w/bar"])):
        rx = oracle.template_regex(v.replace("{**}", "**").replace("{*}", "*"))
        b = bundle([{"rules": [{"to": [{"operation": {"paths": [v]}}]}]}])
        gs.append(group(f"TestPathTemplateMatcher/{name}", f"TestPathTemplateMatcher/{name}", T, b,
                        [case(p, re.fullmatch(rx, p) is not None, principal=PEER, path=p) for p in probes]))
    # TestMetadataStringMatcher / TestMetadataListMatcher: experimental.envoy.filters.* values.
    md = "envoy.filters.http.foo"
    b = bundle([{"rules": [{"when": [{"key": f"experimental.{md}[bar]", "values": ["baz"]}]}]}])
    gs.append(group("TestMetadataStringMatcher (a string value)", "TestMetadataStringMatcher", MD, b,
                    [case("bar = baz", True, principal=PEER, metadata={md: {"bar": "baz"}}),
                     case("bar = bazz", False, principal=PEER, metadata={md: {"bar": "bazz"}}),
                     case("another filter's bar = baz", False, principal=PEER, metadata={"other": {"bar": "baz"}})]))
    b = bundle([{"rules": [{"when": [{"key": f"experimental.{md}[bar]", "values": ["[baz]"]}]}]}])
    gs.append(group("TestMetadataListMatcher (a value in a list)", "TestMetadataListMatcher", MD, b,
                    [case("bar = [x, baz]", True, principal=PEER, metadata={md: {"bar": ["x", "baz"]}}),
                     case("bar = [x]", False, principal=PEER, metadata={md: {"bar": ["x"]}})]))
    return {"owner": "istio", "source": {"repo": REPO, "commit": COMMIT, "path": H},
            "description": "pilot/pkg/security/authz/matcher: how istiod turns each value into an Envoy matcher, "
                           "as policies and requests decided by that matcher.",
            "groups": gs}


# ---------------------------------------------------------------- pilot/pkg/security/trustdomain
def trustdomain_suite():
    B = "pilot/pkg/security/trustdomain/bundle_test.go"
    U = "pilot/pkg/security/trustdomain/util_test.go"
    gs = []
    rta = [("No trust domain aliases (no change in trust domain)", "cluster.local", [],
            ["cluster.local/ns/foo/sa/bar"], ["cluster.local/ns/foo/sa/bar"]),
           ("Principal with *", "cluster.local", [], ["*"], ["*"]),
           ("Principal with * prefix", "cluster.local", [], ["*/ns/foo/sa/bar"], ["*/ns/foo/sa/bar"]),
           ("One trust domain alias, one principal", "td2", ["td1"], ["td1/ns/foo/sa/bar"],
            ["td2/ns/foo/sa/bar", "td1/ns/foo/sa/bar"]),
           ("One trust domain alias, two principals", "td1", ["cluster.local"],
            ["cluster.local/ns/foo/sa/bar", "cluster.local/ns/yyy/sa/zzz"],
            ["td1/ns/foo/sa/bar", "cluster.local/ns/foo/sa/bar", "td1/ns/yyy/sa/zzz", "cluster.local/ns/yyy/sa/zzz"]),
           ("One trust domain alias, principals with * as-is", "td1", ["cluster.local"],
            ["*/ns/foo/sa/bar", "*sa/zzz", "*"], ["*/ns/foo/sa/bar", "*sa/zzz", "*"]),
           ("Two trust domain aliases, two principals", "td2", ["td1", "cluster.local"],
            ["cluster.local/ns/foo/sa/bar", "td1/ns/yyy/sa/zzz"],
            ["td2/ns/foo/sa/bar", "td1/ns/foo/sa/bar", "cluster.local/ns/foo/sa/bar", "td2/ns/yyy/sa/zzz",
             "td1/ns/yyy/sa/zzz", "cluster.local/ns/yyy/sa/zzz"]),
           ("Two trust domain aliases with * prefix in trust domain", "td2", ["foo-td1", "cluster.local"],
            ["*-td1/ns/foo/sa/bar"], ["td2/ns/foo/sa/bar", "*-td1/ns/foo/sa/bar", "cluster.local/ns/foo/sa/bar"]),
           ("Principals not match any trust domains", "td1", ["td2"], ["some-td/ns/foo/sa/bar"],
            ["some-td/ns/foo/sa/bar"]),
           ("Principals match one alias", "td1", ["td2", "some-td"], ["some-td/ns/foo/sa/bar"],
            ["td1/ns/foo/sa/bar", "td2/ns/foo/sa/bar", "some-td/ns/foo/sa/bar"]),
           ("One principal match one alias", "new-td", ["td2", "td3"],
            ["td1/ns/some-ns/sa/some-sa", "td2/ns/foo/sa/bar"],
            ["td1/ns/some-ns/sa/some-sa", "new-td/ns/foo/sa/bar", "td2/ns/foo/sa/bar", "td3/ns/foo/sa/bar"]),
           ("Trust domain is empty string", "new-td", ["td2", "td3"], ["/ns/some-ns/sa/some-sa"],
            ["/ns/some-ns/sa/some-sa"]),
           ("No duplicated principals for prefix", "new-td", ["old-td"], ["*-td/ns/some-ns/sa/some-sa"],
            ["*-td/ns/some-ns/sa/some-sa"])]
    for name, td, aliases, principals, expect in rta:
        b = bundle([{"rules": [{"from": [{"source": {"principals": principals}}]}]}], td=td, aliases=aliases)
        tds = [td] + aliases + ["cluster.local", "other-td", "x-td1", "any"]
        paths = sorted({p.split("/", 1)[1] for p in principals if "/" in p} | {"ns/foo/sa/bar"})
        cs = []
        seen = set()
        for t in tds:
            for pth in paths:
                uri = f"spiffe://{t}/{pth}"
                if uri in seen or not valid_peer(uri):
                    continue
                seen.add(uri)
                hit = any(sm(with_prefix(e, "spiffe://"), uri) for e in expect)
                cs.append(case(uri, hit, principal=uri))
        cs.append(case("no certificate", False))
        gs.append(group(f"TestReplaceTrustDomainAliases/{name}", "TestReplaceTrustDomainAliases", B, b, cs,
                        note=f"trust domain {td}, aliases {aliases}: istiod rewrites {principals} to {expect}; "
                             "each peer is decided against the rewritten principals"))
    # replaceTrustDomainInPrincipal / getTrustDomainFromSpiffeIdentity / isTrustDomainBeingEnforced:
    # only five-part principals name a trust domain that is rewritten.
    for test, principal, td, aliases, peers in (
            ("TestReplaceTrustDomainInPrincipal/Principal in wrong format with SPIFFE:// prefix",
             "spiffe://cluster.local/ns/foo/sa/bar", "td", ["cluster.local"],
             [("spiffe://cluster.local/ns/foo/sa/bar", False), ("spiffe://td/ns/foo/sa/bar", False)]),
            ("TestReplaceTrustDomainInPrincipal/Principal in wrong format with less components",
             "sa/test-sa/ns/default", "td", ["cluster.local"], [("spiffe://sa/test-sa/ns/default", True),
                                                                ("spiffe://td/test-sa/ns/default", False)]),
            ("TestReplaceTrustDomainInPrincipal/Replace td with domain name in principal", "cluster.local/ns/foo/sa/bar",
             "td", [], [("spiffe://td/ns/foo/sa/bar", True), ("spiffe://cluster.local/ns/foo/sa/bar", False)]),
            ("TestReplaceTrustDomainInPrincipal/Replace td without domain name in principal", "xyz/ns/foo/sa/bar",
             "abc", ["xyz"], [("spiffe://abc/ns/foo/sa/bar", True), ("spiffe://xyz/ns/foo/sa/bar", True)]),
            ("TestIsTrustDomainBeingEnforced: */ns/foo/sa/bar is not rewritten", "*/ns/foo/sa/bar", "td",
             ["cluster.local"], [("spiffe://any/ns/foo/sa/bar", True), ("spiffe://td/ns/foo/sa/bar", True)]),
            ("TestIsTrustDomainBeingEnforced: *-td/ns/foo/sa/bar is enforced", "*-td/ns/foo/sa/bar", "new-td",
             ["old-td", "other"], [("spiffe://other/ns/foo/sa/bar", True), ("spiffe://any-td/ns/foo/sa/bar", True),
                                    ("spiffe://any/ns/foo/sa/bar", False)]),
            ("TestIsTrustDomainBeingEnforced: */sa/bar (three parts) is kept", "*/sa/bar", "td", ["cluster.local"],
             [("spiffe://any/sa/bar", True), ("spiffe://td/ns/x/sa/bar", True)]),
            ("TestGetTrustDomainFromSpiffeIdentity: six parts are kept", "td/ns/foo/sa/bar/x", "td", ["other"],
             [("spiffe://td/ns/foo/sa/bar/x", True), ("spiffe://other/ns/foo/sa/bar/x", False)])):
        b = bundle([{"rules": [{"from": [{"source": {"principals": [principal]}}]}]}], td=td, aliases=aliases)
        cs = [case(u, e, principal=u) for u, e in peers if valid_peer(u)]
        gs.append(group(test, test.split(":")[0].split("/")[0], B, b, cs,
                        note=f"trust domain {td}, aliases {aliases}, principal {principal!r}"))
    # TestStringMatch: the principal's trust domain against the bundle (prefix/suffix wildcards both ways).
    for desc, element, lst, expected in (("suffix=match", "yo*", ["yo", "yolo", "yo-yo"], True),
                                         ("no-sub", "foo", ["bar"], False),
                                         ("prefix-match", "*yo", ["yoyo", "goyo"], True),
                                         ("empty", "", ["yo", "tawg"], False)):
        principal = f"{element}/ns/foo/sa/bar"
        b = bundle([{"rules": [{"from": [{"source": {"principals": [principal]}}]}]}], td=lst[0], aliases=lst[1:])
        if expected:
            rewritten = [principal if element.startswith("*") and t.endswith(element[1:]) else f"{t}/ns/foo/sa/bar"
                         for t in lst]
        else:
            rewritten = [principal]
        peers = [f"spiffe://{t}/ns/foo/sa/bar" for t in lst + ["zz" + element.strip("*"), "other"]]
        cs = [case(u, any(sm(with_prefix(e, "spiffe://"), u) for e in rewritten), principal=u) for u in peers
              if valid_peer(u)]
        gs.append(group(f"TestStringMatch/{desc} (principal {principal!r}, trust domains {lst})", f"TestStringMatch/{desc}",
                        U, b, cs))
    return {"owner": "istio", "source": {"repo": REPO, "commit": COMMIT, "path": B},
            "description": "pilot/pkg/security/trustdomain: trust-domain aliases. Each principal list is loaded "
                           "with the test's trust domain and aliases, and peers in every trust domain are decided "
                           "against the principals istiod rewrites it to.",
            "groups": gs}

"""Shared helpers for writing tests/owners/istio/*.json."""
import copy
import os
import subprocess
import json
import re

import yaml

import oracle

MIRROR = os.environ.get("ISTIO_MIRROR", "/work/.mirror/istio+istio/repo")


def read(path):
    """A file of istio/istio at COMMIT, from the bare snapshot (git show)."""
    return subprocess.run(["git", "-C", MIRROR, "show", f"{COMMIT}:{path}"], check=True, capture_output=True,
                          text=True).stdout
REPO = "istio/istio"
COMMIT = "86c9f01fd735fb01d8192f5bcaf0d424afb7f14c"
API_REPO = "istio/api"
API_COMMIT = "b8f8791d9653b2edc77a071d48887e582cfe84bf"

HTTPBIN = {"namespace": "foo", "serviceAccount": "httpbin", "labels": {"app": "httpbin", "version": "v1"}}

# What a case looks like when it runs through the tests/e2e harness (loopback, random port,
# SNI "localhost", default :authority "localhost:<port>").
E2E_PORT = 61234


def load_yaml_docs(path):
    return [d for d in yaml.safe_load_all(read(path)) if d]


def bundle(resources, workload=None, trust_domain=None, aliases=None):
    w = copy.deepcopy(workload or HTTPBIN)
    if trust_domain:
        w["trustDomain"] = trust_domain
    b = {"workload": w}
    if aliases:
        b["settings"] = {"trustDomainAliases": aliases}
    b["resources"] = resources
    return b


# Methods Envoy's HTTP/1.1 codec accepts (others are answered 400 before any filter runs).
HTTP1_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}


def e2e_view(req):
    r = dict(req)
    r.setdefault("sourceIp", "127.0.0.1")
    r.setdefault("destinationIp", "127.0.0.1")
    r.setdefault("sni", "localhost")
    if r.get("port") is None:
        r["port"] = E2E_PORT
    r.setdefault("host", f"localhost:{E2E_PORT}")
    return r


def policy_name(rbac_name):
    m = re.fullmatch(r"ns\[(.*)\]-policy\[(.*)\]-rule\[(\d+)\]", rbac_name)
    return f"AuthorizationPolicy {m.group(1)}/{m.group(2)}", int(m.group(3))


def dry_run_effects(shadow):
    """Our engine's dry-run list from Envoy's shadow results (see tests/common/cases.rs)."""
    out = []
    for action, res in shadow:
        if action == "LOG" and res:
            out.append("allow")
    deny = [r for a, r in shadow if a == "DENY"]
    allow = [r for a, r in shadow if a == "ALLOW"]
    if deny or allow:
        if deny and deny[0] == "denied":
            out.append("deny")
        elif allow:
            out.append("allow" if allow[0] == "allowed" else "deny")
        else:
            out.append("allow")
    return out


def label(filters, req, name, with_dry_run=False, with_policy=True):
    """A case for `req`, its expectation decided by the owner's generated RBAC `filters`."""
    effect, shadow = oracle.decide(filters, req)
    case = {"name": name}
    case.update(req)
    case["expect"] = effect
    if with_policy:
        # Name the deciding policy when exactly one enforced policy of the deciding kind matched.
        for cfg in filters:
            rules = cfg.get("rules")
            if rules is None:
                continue
            action = rules.get("action", "ALLOW")
            m = oracle.matched(rules, req)
            if (action == "DENY" and effect == "deny") or (action == "ALLOW" and effect == "allow"):
                if len(m) == 1:
                    case["policy"], case["rule"] = policy_name(m[0])
    if with_dry_run:
        case["dryRun"] = dry_run_effects(shadow)
    env_effect, env_shadow = oracle.decide(filters, e2e_view(req))
    if (env_effect != effect or "metadata" in req or "destinationIp" in req or "sni" in req
            or "remoteIp" in req or req.get("method", "GET") not in HTTP1_METHODS):
        case["e2e"] = False
    return case


def write(path, suite):
    """One group header and one case per line: readable, and diffs show the case that changed."""
    d = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731
    lines = ["{", f' "owner": {d(suite["owner"])},', f' "source": {d(suite["source"])},',
             f' "description": {d(suite["description"])},', ' "groups": [']
    for gi, g in enumerate(suite["groups"]):
        head = {k: v for k, v in g.items() if k not in ("bundle", "cases")}
        lines.append("  {" + d(head)[1:-1] + ",")
        lines.append(f'   "bundle": {d(g["bundle"])},')
        if not g["cases"]:
            lines.append('   "cases": []')
        else:
            lines.append('   "cases": [')
            for ci, c in enumerate(g["cases"]):
                lines.append("    " + d(c) + ("," if ci + 1 < len(g["cases"]) else ""))
            lines.append("   ]")
        lines.append("  }" + ("," if gi + 1 < len(suite["groups"]) else ""))
    lines += [" ]", "}"]
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == suite
    with open(path, "w") as f:
        f.write(text)


def probes_for(v):
    """Concrete strings around an Istio wildcard value: some match, some just miss."""
    if v == "*":
        return ["x", "anything-at-all"]
    if v.startswith("*"):
        s = v[1:]
        return ["x" + s, s, s + "x", s[1:]]
    if v.endswith("*"):
        p = v[:-1]
        return [p + "x", p, "x" + p, p[:-1]]
    return [v, v + "x", "x" + v, v.upper()]

"""Evaluates Envoy RBAC filter configs (the -out.yaml istiod generates) against a request.

A request is a dict in the tests/owners case shape: principal (URI SAN or None), method, path,
host (the :authority as sent), port (destination port), sourceIp, remoteIp, destinationIp, sni,
headers [[k, v]], jwt (payload dict), metadata {filter: {key: value}}.
"""
import ipaddress
import re

import yaml

LIT = "a-zA-Z0-9\\-._~%!$&'()+,;:@"


def str_match(m, s):
    if s is None:
        return False
    ic = m.get("ignoreCase", False)
    a = s.lower() if ic else s

    def f(v):
        return v.lower() if ic else v

    if "exact" in m:
        return a == f(m["exact"])
    if "prefix" in m:
        return a.startswith(f(m["prefix"]))
    if "suffix" in m:
        return a.endswith(f(m["suffix"]))
    if "contains" in m:
        return f(m["contains"]) in a
    if "safeRegex" in m:
        return re.fullmatch(m["safeRegex"]["regex"], s, re.I if ic else 0) is not None
    raise ValueError(f"string matcher {m}")


def header_value(req, name):
    name = name.lower()
    if name == ":authority":
        return req.get("host")
    if name == ":method":
        return req.get("method", "GET")
    if name == ":path":
        return req.get("path", "/")
    vals = [v for k, v in req.get("headers", []) if k.lower() == name]
    if not vals:
        return None
    return ",".join(vals)


def header_match(h, req):
    v = header_value(req, h["name"])
    if h.get("presentMatch"):
        r = v is not None
    elif "stringMatch" in h:
        r = str_match(h["stringMatch"], v)
    elif "safeRegexMatch" in h:
        r = v is not None and re.fullmatch(h["safeRegexMatch"]["regex"], v) is not None
    elif "exactMatch" in h:
        r = v == h["exactMatch"]
    elif "prefixMatch" in h:
        r = v is not None and v.startswith(h["prefixMatch"])
    elif "suffixMatch" in h:
        r = v is not None and v.endswith(h["suffixMatch"])
    else:
        raise ValueError(f"header matcher {h}")
    return (not r) if h.get("invertMatch") else r


def path_only(req):
    return req.get("path", "/").split("?", 1)[0].split("#", 1)[0]


def template_regex(t):
    assert t.startswith("/")
    out = []
    for seg in t[1:].split("/"):
        if seg == "**":
            out.append(f"[{LIT}/]*")
        elif seg == "*":
            out.append(f"[{LIT}]+")
        else:
            assert "*" not in seg, t
            out.append(re.escape(seg))
    return "/" + "/".join(out)


def cidr(c):
    return ipaddress.ip_network(f"{c['addressPrefix']}/{c.get('prefixLen', 32)}", strict=False)


def ip_in(c, ip):
    if ip is None:
        return False
    return ipaddress.ip_address(ip) in cidr(c)


def metadata_value(req, filt, path):
    if filt == "envoy.filters.http.jwt_authn":
        if req.get("jwt") is None or path[0]["key"] != "payload":
            return None
        v = req["jwt"]
        keys = [p["key"] for p in path[1:]]
    else:
        v = (req.get("metadata") or {}).get(filt)
        keys = [p["key"] for p in path]
    for k in keys:
        if not isinstance(v, dict) or k not in v:
            return None
        v = v[k]
    return v


def value_match(m, v):
    if v is None:
        return False
    if "stringMatch" in m:
        return isinstance(v, str) and str_match(m["stringMatch"], v)
    if "listMatch" in m:
        return isinstance(v, list) and any(value_match(m["listMatch"]["oneOf"], e) for e in v)
    if "orMatch" in m:
        return any(value_match(x, v) for x in m["orMatch"]["valueMatchers"])
    if "presentMatch" in m:
        return True
    raise ValueError(f"value matcher {m}")


def metadata_match(m, req):
    r = value_match(m["value"], metadata_value(req, m["filter"], m["path"]))
    return (not r) if m.get("invert") else r


def perm(p, req):
    if p.get("any"):
        return True
    if "andRules" in p:
        return all(perm(x, req) for x in p["andRules"]["rules"])
    if "orRules" in p:
        return any(perm(x, req) for x in p["orRules"]["rules"])
    if "notRule" in p:
        return not perm(p["notRule"], req)
    if "header" in p:
        return header_match(p["header"], req)
    if "urlPath" in p:
        return str_match(p["urlPath"]["path"], path_only(req))
    if "uriTemplate" in p:
        t = p["uriTemplate"]["typedConfig"]["pathTemplate"]
        return re.fullmatch(template_regex(t), path_only(req)) is not None
    if "destinationPort" in p:
        return req.get("port") == p["destinationPort"]
    if "destinationIp" in p:
        return ip_in(p["destinationIp"], req.get("destinationIp"))
    if "requestedServerName" in p:
        return str_match(p["requestedServerName"], req.get("sni"))
    if "metadata" in p:
        return metadata_match(p["metadata"], req)
    raise ValueError(f"permission {p}")


def princ(p, req):
    if p.get("any"):
        return True
    if "andIds" in p:
        return all(princ(x, req) for x in p["andIds"]["ids"])
    if "orIds" in p:
        return any(princ(x, req) for x in p["orIds"]["ids"])
    if "notId" in p:
        return not princ(p["notId"], req)
    if "authenticated" in p:
        uri = req.get("principal")
        if uri is None:
            return False
        pn = p["authenticated"].get("principalName")
        return pn is None or str_match(pn, uri)
    if "directRemoteIp" in p:
        return ip_in(p["directRemoteIp"], req.get("sourceIp"))
    if "remoteIp" in p:
        return ip_in(p["remoteIp"], req.get("remoteIp", req.get("sourceIp")))
    if "header" in p:
        return header_match(p["header"], req)
    if "metadata" in p:
        return metadata_match(p["metadata"], req)
    raise ValueError(f"principal {p}")


def policy_matches(pol, req):
    return any(perm(x, req) for x in pol["permissions"]) and any(princ(x, req) for x in pol["principals"])


def matched(rbac, req):
    """Names of the policies of an RBAC rules block that match, in sorted order (Envoy's map)."""
    return [n for n, pol in sorted((rbac or {}).get("policies", {}).items()) if policy_matches(pol, req)]


def filter_config(text):
    """The RBAC config of an -out.yaml (an HttpFilter)."""
    return yaml.safe_load(text)["typedConfig"]


def decide(filters, req):
    """(effect, shadow) for an HTTP filter chain: effect 'allow'/'deny'; shadow a list of
    (action, result) for each filter with shadow rules, and ('LOG', matched) for audit filters."""
    denied = False
    shadow = []
    for cfg in filters:
        rules = cfg.get("rules")
        if rules is not None:
            action = rules.get("action", "ALLOW")
            m = matched(rules, req)
            if action == "ALLOW" and not m:
                denied = True
            elif action == "DENY" and m:
                denied = True
            elif action == "LOG":
                shadow.append(("LOG", bool(m)))
        sh = cfg.get("shadowRules")
        if sh is not None:
            action = sh.get("action", "ALLOW")
            m = matched(sh, req)
            if action == "ALLOW":
                shadow.append(("ALLOW", "allowed" if m else "denied"))
            else:
                shadow.append(("DENY", "denied" if m else "allowed"))
    return ("deny" if denied else "allow"), shadow

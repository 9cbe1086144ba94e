"""Probe requests for one Istio field: concrete requests around each value of the field."""
import ipaddress
import re

from common import probes_for

BASE_PEER = "spiffe://cluster.local/ns/foo/sa/client"


def ip_probes(vs):
    out = []
    for v in vs:
        net = ipaddress.ip_network(v, strict=False)
        first = net.network_address
        out.append(str(first if net.prefixlen == net.max_prefixlen else first + 7))
        out.append(str(net.broadcast_address + 1))
    return out


def path_probes(vs):
    out = []
    for v in vs:
        if "{" in v:
            concrete = v.replace("{**}", "a/b").replace("{*}", "x")
            out += [concrete, v.replace("{**}", "a").replace("{*}", "x"), v.replace("{**}", "").replace("{*}", ""),
                    concrete + "/more"]
            continue
        if v == "*":
            out += ["/", "/anything"]
        elif v.startswith("*"):
            s = v[1:]
            out += ["/a" + s, s if s.startswith("/") else "/" + s, "/a" + s + "x"]
        elif v.endswith("*"):
            p = v[:-1]
            out += [p + "x", p, p.rstrip("/"), p + "x/y"]
        else:
            out += [v, v + "/", v + "x", v.upper()]
    out = [p if p.startswith("/") else "/" + p for p in out]
    # Only canonical paths: the filter decides (and forwards) the canonical form.
    return [p for p in out if "//" not in p]


def host_probes(vs):
    out = []
    for v in vs:
        for p in probes_for(v):
            out += [p, p + ":8080"]
        out.append(v.replace("*", "q").upper())
    return out


def request_principal_payloads(vs):
    out = []
    for v in vs:
        for p in probes_for(v):
            iss, _, sub = p.rpartition("/")
            if not iss:
                out.append({"iss": p, "sub": "someone"})
                out.append({"iss": p, "sub": ""})
                out.append({"iss": "issuer", "sub": p})
            else:
                out.append({"iss": iss, "sub": sub})
    out.append({"iss": "https://issuer/x", "sub": "a/b"})
    return out


SPIFFE = re.compile(r"spiffe://[a-z0-9._-]+(/[a-zA-Z0-9._-]+)*")


def valid_peer(r):
    """Probes keep to SPIFFE IDs the SPIFFE spec allows: others are unauthenticated here on purpose."""
    p = r.get("principal")
    return p is None or (SPIFFE.fullmatch(p) is not None and "/./" not in p + "/" and "/../" not in p + "/")


def dedup(reqs):
    seen, out = set(), []
    for r in reqs:
        if not valid_peer(r):
            continue
        k = repr(sorted(r.items()))
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def for_field(field, vs):
    """Requests (dicts in the case shape, without name/expect) probing `field` with values `vs`."""
    base = {"principal": BASE_PEER}
    reqs = []
    if field in ("hosts", "notHosts"):
        reqs = [dict(base, host=h) for h in host_probes(vs)] + [dict(base)]
    elif field in ("methods", "notMethods"):
        reqs = [dict(base, method=m) for v in vs for m in probes_for(v)]
    elif field in ("paths", "notPaths"):
        reqs = [dict(base, path=p) for p in path_probes(vs)]
    elif field in ("ports", "notPorts", "destination.port"):
        reqs = [dict(base, port=int(v)) for v in vs] + [dict(base, port=int(vs[0]) + 1)]
    elif field in ("principals", "notPrincipals", "source.principal"):
        reqs = [{"principal": "spiffe://" + p} for v in vs for p in probes_for(v)] + [{}]
    elif field in ("namespaces", "notNamespaces", "source.namespace"):
        reqs = [{"principal": f"spiffe://cluster.local/ns/{p}/sa/x"} for v in vs for p in probes_for(v)] + [{}]
    elif field in ("ipBlocks", "notIpBlocks", "source.ip"):
        reqs = [dict(base, sourceIp=ip) for ip in ip_probes(vs)]
    elif field in ("remoteIpBlocks", "notRemoteIpBlocks", "remote.ip"):
        reqs = [dict(base, sourceIp="10.0.0.1", remoteIp=ip) for ip in ip_probes(vs)]
    elif field == "destination.ip":
        reqs = [dict(base, destinationIp=ip) for ip in ip_probes(vs)]
    elif field == "connection.sni":
        reqs = [dict(base, sni=s) for v in vs for s in probes_for(v)]
    elif field in ("requestPrincipals", "notRequestPrincipals", "request.auth.principal"):
        reqs = [dict(base, jwt=j) for j in request_principal_payloads(vs)] + [dict(base)]
    elif field.startswith("request.headers["):
        name = field[len("request.headers["):-1]
        reqs = [dict(base, headers=[[name, p]]) for v in vs for p in probes_for(v)] + [dict(base)]
    elif field.startswith("request.auth.claims["):
        keys = field[len("request.auth.claims["):-1].split("][")
        reqs = []
        for v in vs:
            for p in probes_for(v):
                # A validated JWT's `iss` is a string (jwt_authn checks it against the issuer).
                for shape in (p,) if keys == ["iss"] else (p, [p, "other"]):
                    payload = shape
                    for k in reversed(keys):
                        payload = {k: payload}
                    payload.setdefault("iss", "issuer") if isinstance(payload, dict) and keys[0] != "iss" else None
                    reqs.append(dict(base, jwt=payload))
        reqs.append(dict(base, jwt={"iss": "issuer", "sub": "s"}))
    elif field in ("request.auth.audiences", "request.auth.presenter"):
        claim = "aud" if field.endswith("audiences") else "azp"
        reqs = [dict(base, jwt={"iss": "i", "sub": "s", claim: p}) for v in vs for p in probes_for(v)]
        reqs += [dict(base, jwt={"iss": "i", "sub": "s", claim: ["other", p]}) for v in vs for p in probes_for(v)[:1]]
        reqs.append(dict(base, jwt={"iss": "i", "sub": "s"}))
    elif field.startswith("experimental.envoy.filters."):
        filt, _, key = field[len("experimental."):-1].partition("[")
        reqs = [dict(base, metadata={filt: {key: p}}) for v in vs for p in probes_for(v.strip("[]"))]
        reqs += [dict(base, metadata={filt: {key: [p]}}) for v in vs for p in probes_for(v.strip("[]"))[:1]]
        reqs.append(dict(base))
    elif field in ("serviceAccounts", "notServiceAccounts", "source.serviceAccount"):
        reqs = []
        for v in vs:
            ns, _, sa = v.rpartition("/")
            ns = ns or "foo"
            for p in (f"ns/{ns}/sa/{sa}", f"ns/{ns}/sa/{sa}/k/v", f"k/v/ns/{ns}/sa/{sa}", f"ns/{ns}/k/v/sa/{sa}",
                      f"ns/{ns}/sa/{sa}-x", f"ns/{ns}x/sa/{sa}", f"ns/other/sa/{sa}"):
                reqs.append({"principal": f"spiffe://cluster.local/{p}"})
        reqs.append({})
    elif field in ("trustDomains", "notTrustDomains", "source.trustDomain"):
        reqs = [{"principal": f"spiffe://{p}/ns/foo/sa/x"} for v in vs for p in probes_for(v)] + [{}]
    else:
        raise ValueError(field)
    return dedup(reqs)

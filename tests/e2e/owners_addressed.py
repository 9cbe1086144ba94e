"""Runs owner-suite cases that name a destination `port` or a client `sourceIp` through real Envoy.

Loopback cannot reproduce those cases in the test process's own network namespace, so
test_owners_addressed.py starts this script under `unshare -n` (a private network namespace, as
root). Inside it nothing else listens and every address is ours:

- each case's `sourceIp` (IPv4) is added to `lo`, and before the case the local route to
  127.0.0.1 is given that address as its preferred source, so Envoy sees the connection come
  from it (HTTP and gRPC clients alike, without binding sockets);
- each (group, port P) gets a listener on a port L of its own, and the bundle says L wherever
  it said P (`workload.ports`, a Server's numeric `spec.port`, `workload.probes`, the
  port-list annotations, Istio's `ports`, `notPorts` and `destination.port`): the Servers,
  routes and authorizations are the suite's, unchanged.

    unshare -n -- python owners_addressed.py ITEMS.json RESULTS.json

ITEMS: [[label, bundle, cases], ...]. RESULTS: {"label [port P]": [failure, ...], ...}.
"""
import copy
import ipaddress
import json
import subprocess
import sys

from harness import EnvoyFailed, Harness

PORT_ANNOTATIONS = ("config.linkerd.io/opaque-ports", "config.linkerd.io/proxy-require-identity-inbound-ports")
FIRST_PORT = 20000
PER_ENVOY = 40


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


def prepare_network(addresses):
    """`lo` up, every client address on it."""
    ip("link", "set", "lo", "up")
    for a in sorted(addresses):
        if not ipaddress.ip_address(a).is_loopback:
            ip("addr", "add", f"{a}/32", "dev", "lo")


def set_source(address):
    """New connections to 127.0.0.1 come from `address` (127.0.0.1 when None)."""
    ip("route", "replace", "local", "127.0.0.1", "dev", "lo", "table", "local", "proto", "kernel",
       "scope", "host", "src", address or "127.0.0.1")


def remap(bundle, old, new):
    """The bundle with port `old` written as `new` wherever a port number names a workload port."""
    b = copy.deepcopy(bundle)
    w = b.get("workload", {})
    w["ports"] = {k: (new if v == old else v) for k, v in w.get("ports", {}).items()}
    for p in w.get("probes", []):
        if p.get("port") == old:
            p["port"] = new
    anns = w.get("annotations", {})
    for k in PORT_ANNOTATIONS:
        if k in anns:
            anns[k] = ",".join(str(new) if x.strip() == str(old) else x for x in anns[k].split(","))
    for r in b.get("resources", []):
        spec = r.get("spec") or {}
        if r.get("kind") == "Server" and spec.get("port") == old:
            spec["port"] = new
        if r.get("kind") == "AuthorizationPolicy":
            remap_istio(spec, old, new)
    return b


def remap_istio(spec, old, new):
    """Istio's `ports`, `notPorts` and `destination.port` values (strings) naming `old`."""
    swap = lambda vs: [str(new) if v == str(old) else v for v in vs]  # noqa: E731
    for rule in spec.get("rules") or []:
        for to in rule.get("to") or []:
            op = to.get("operation") or {}
            for k in ("ports", "notPorts"):
                if k in op:
                    op[k] = swap(op[k])
        for c in rule.get("when") or []:
            if c.get("key") == "destination.port":
                for k in ("values", "notValues"):
                    if k in c:
                        c[k] = swap(c[k])


def listeners(items):
    """[(label, bundle, cases, port)]: one listener per group and destination port."""
    out, next_port = [], FIRST_PORT
    for label, bundle, cases in items:
        by_port = {}
        for c in cases:
            by_port.setdefault(c.get("port"), []).append(c)
        for port, cs in by_port.items():
            listen = next_port
            next_port += 1
            b = remap(bundle, port, listen) if port is not None else bundle
            out.append((f"{label} [port {port}]", b, cs, listen))
    return out


def run_chunk(h, chunk, results):
    """One Envoy for the chunk's listeners; each case's failures under its listener's label."""
    first = chunk[0]
    with h.envoy(first[1], require_client_cert=False, listen_port=first[3],
                 extra_bundles=[b for _, b, _, _ in chunk[1:]],
                 extra_ports=[p for _, _, _, p in chunk[1:]]) as envoy:
        for i, (label, _, cases, _) in enumerate(chunk):
            view = envoy.listener(i)
            failures = []
            for c in cases:
                set_source(c.get("sourceIp"))
                try:
                    problem = h._run_case(view, c)
                except Exception as e:  # a harness error fails this case, not the run
                    problem = f"{type(e).__name__}: {e}"
                if problem:
                    failures.append(f"case {c['name']!r}: {problem}")
            results[label] = failures


def run(items):
    ls = listeners(items)
    prepare_network({c["sourceIp"] for _, _, cs, _ in ls for c in cs if c.get("sourceIp")})
    h = Harness.shared()
    results = {}
    for start in range(0, len(ls), PER_ENVOY):
        chunk = ls[start:start + PER_ENVOY]
        try:
            run_chunk(h, chunk, results)
        except EnvoyFailed:
            # One bundle the filter refuses stops the whole Envoy: find it, run the others.
            for one in chunk:
                try:
                    run_chunk(h, [one], results)
                except EnvoyFailed as e:
                    refused = [line for line in str(e).splitlines() if "bundle rejected" in line]
                    results[one[0]] = [f"Envoy did not start: {(refused or [str(e)[:300]])[-1]}"]
    set_source(None)
    return results


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        items = json.load(f)
    results = run(items)
    with open(sys.argv[2], "w") as f:
        json.dump(results, f, indent=1)

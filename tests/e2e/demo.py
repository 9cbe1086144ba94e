#!/usr/bin/env python3
"""The demo behind `./build.sh demo`: a real Envoy, real mTLS, the filter deciding by SPIFFE ID.

    ./build.sh demo                                   # seed 001: frontend / admin / others
    ./build.sh demo --once                            # print the table and exit
    ./build.sh demo --bundle policies/istio/seed-004-payments.json
    ./build.sh demo --port 10443                      # where Envoy listens (default: 10443, else any)
    ./build.sh demo --change policies/istio/seed-001-deny-all.json   # the change `diff` reviews

Builds nothing (build.sh builds first). Makes a CA and one client certificate per identity (URI
SAN = the SPIFFE ID), starts Envoy with envoy/envoy.yaml and the bundle, sends the sample
requests of the bundle's cases file (<bundle>.cases.json, the same cases the tests check) from
each identity, and prints what Envoy decided and which policy decided it (from the response
body for denials, from Envoy's log for both). Then shows the offline tools on the example
policies: `spiffe-authz test` (every policies/*.cases.json, like `opa test`) and `spiffe-authz
diff` (the requests a policy change decides differently, with the deciding rules). Then keeps
Envoy serving and prints curl commands until Ctrl-C.
"""
import argparse
import json
import pathlib
import re
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import grpc  # noqa: E402

from harness import ROOT, WASM, Harness, runnable  # noqa: E402

DEFAULT_BUNDLE = "policies/istio/seed-001-backend.json"
# The change reviewed with `diff` for the default bundle: seed 001's advice to add a DENY-all
# policy "under" the ALLOW policies, which Istio decides as denying everything.
DEFAULT_CHANGE = "policies/istio/seed-001-deny-all.json"
CLI = ROOT / "dist" / "spiffe-authz"
LOG_LINE = re.compile(r'spiffe-authz (?P<what>allow|deny|not-found): dialect=(?P<dialect>\S+) policy="(?P<policy>[^"]*)" '
                      r'rule=(?P<rule>\S+) peer=(?P<peer>\S+) method=(?P<method>\S+) path=(?P<path>\S+)'
                      r'(?: reason="(?P<reason>[^"]*)")?')
BOLD, GREEN, RED, DIM, RESET = ("\033[1m", "\033[32m", "\033[31m", "\033[2m", "\033[0m") if sys.stdout.isatty() \
    else ("",) * 5


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bundle", default=DEFAULT_BUNDLE, help=f"bundle JSON (default {DEFAULT_BUNDLE})")
    p.add_argument("--cases", help="sample requests (default: the bundle's .cases.json)")
    p.add_argument("--port", type=int, help="listener port (default: the port the cases use, else 10443; "
                   "any free one if taken)")
    p.add_argument("--change", help=f"a changed bundle to review with `spiffe-authz diff` "
                   f"(default for {DEFAULT_BUNDLE}: {DEFAULT_CHANGE})")
    p.add_argument("--once", action="store_true", help="print the table and exit")
    a = p.parse_args()
    change = a.change or (DEFAULT_CHANGE if a.bundle == DEFAULT_BUNDLE else None)

    bundle = resolve(a.bundle)
    cases_path = resolve(a.cases) if a.cases else bundle.with_name(bundle.name.removesuffix(".json") + ".cases.json")
    if not WASM.exists():
        sys.exit(f"{WASM} is missing: run ./build.sh demo (it builds first)")
    wanted = a.port or cases_port(cases_path) or 10443
    samples = load_samples(cases_path, wanted)

    workdir = pathlib.Path(tempfile.mkdtemp(prefix="spiffe-authz-demo-"))
    h = Harness(workdir)
    port = wanted if port_free(wanted) else 0
    envoy = h.envoy(bundle, listen_port=port)
    try:
        print(f"{BOLD}spiffe-authz demo{RESET}: Envoy {envoy_version()} + {WASM.relative_to(ROOT)}")
        print(f"bundle   {bundle.relative_to(ROOT) if bundle.is_relative_to(ROOT) else bundle}")
        print(f"samples  {cases_path.relative_to(ROOT) if cases_path.is_relative_to(ROOT) else cases_path}")
        envoy.start()
        print(f"Envoy    https://localhost:{envoy.port} (client certificates required), "
              f"admin http://127.0.0.1:{envoy.admin_port}, log {envoy.log_path}\n")
        certs = {}
        for s in samples:
            if s["principal"] and s["principal"] not in certs:
                certs[s["principal"]] = h.pki.named_client(cert_name(s["principal"], certs), s["principal"])
        rows = [run_sample(envoy, s) for s in samples]
        print_table(rows)
        stats = envoy.stats()
        print(f"\nfilter counters: " + ", ".join(f"{k}={v}" for k, v in sorted(stats.items())))
        bad = [r for r in rows if r["expected"] and not r["as_expected"]]
        if bad:
            print(f"{RED}{len(bad)} sample(s) did not match the cases file{RESET}")
        offline_ok = show_offline_tools(bundle, cases_path, change)
        if a.once:
            return 1 if bad or not offline_ok else 0
        print_curl(envoy, h, samples, certs)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopping Envoy")
        return 0
    finally:
        envoy.stop()
        h.close()
        shutil.rmtree(workdir, ignore_errors=True)


def show_offline_tools(bundle, cases_path, change):
    """`spiffe-authz test` and `diff` on the example policies, as a reviewer would run them.
    Returns False if a tool failed in a way the demo did not expect."""
    import subprocess

    def run(*args, head=None):
        shown = " ".join(str(pathlib.Path(x).relative_to(ROOT)) if str(x).startswith(str(ROOT)) else str(x)
                         for x in args)
        print(f"\n{BOLD}$ spiffe-authz {shown}{RESET}")
        out = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, cwd=ROOT)
        lines = (out.stdout + out.stderr).rstrip("\n").splitlines()
        for line in lines[:head] if head else lines:
            print(f"  {line}")
        if head and len(lines) > head:
            print(f"  {DIM}... ({len(lines) - head} more lines){RESET}")
        print(f"  {DIM}(exit {out.returncode}){RESET}")
        return out.returncode

    print(f"\n{BOLD}Offline, with the same engine:{RESET} policy tests and a change review")
    ok = True
    if cases_path.exists():
        ok &= run("test", cases_path, "-v") == 0
    ok &= run("test", ROOT / "policies") == 0
    if change:
        # Exit 1 means "decisions change": what the review is for.
        ok &= run("diff", bundle, resolve(change), head=30) == 1
    return ok


def resolve(path):
    p = pathlib.Path(path)
    return p if p.is_absolute() or p.exists() else ROOT / p


def cases_port(path):
    """The one destination port the cases use (Linkerd Servers select by port), if any."""
    if not path.exists():
        return None
    ports = {c["port"] for c in json.loads(path.read_text())["cases"] if "port" in c}
    return ports.pop() if len(ports) == 1 else None


def load_samples(path, port):
    if not path.exists():
        # A bundle without a cases file: one request without a certificate shows the default.
        return [{"name": "no client certificate", "principal": None, "method": "GET", "path": "/",
                 "expect": None}]
    cf = json.loads(path.read_text())
    out = []
    for c in cf["cases"]:
        if runnable({k: v for k, v in c.items() if not (k == "port" and v == port)}):
            out.append({"name": c["name"], "principal": c.get("principal"), "method": c.get("method", "GET"),
                        "path": c.get("path", "/"), "host": c.get("host"), "headers": c.get("headers", []),
                        "grpc": c.get("grpc", False), "expect": c.get("expect")})
    if not out:
        # Every case needs a source IP or port loopback cannot fake: show each identity's
        # request as written, without the cases file's expectation.
        print(f"note: every case in {path.name} needs a source IP or port this demo cannot fake; "
              "sending their requests from loopback, expectations not checked")
        for c in cf["cases"]:
            out.append({"name": c["name"], "principal": c.get("principal"), "method": c.get("method", "GET"),
                        "path": c.get("path", "/"), "host": c.get("host"), "headers": c.get("headers", []),
                        "grpc": c.get("grpc", False), "expect": None})
    return out


def cert_name(principal, taken):
    """A readable file name for an identity: `frontend-sa` for .../sa/frontend-sa."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", principal.rstrip("/").rsplit("/", 1)[-1]) or "client"
    names = {c[0].stem for c in taken.values()}
    name, i = base, 2
    while name in names:
        name, i = f"{base}-{i}", i + 1
    return name


def run_sample(envoy, s):
    """Sends one sample; returns a table row."""
    log_before = len(envoy.read_log())
    row = {"who": short_id(s["principal"]), "request": f"{s['method']} {s['path']}", "expected": s["expect"]}
    if s["grpc"]:
        row["request"] = f"gRPC {s['path']}"
        code, details, _ = envoy.grpc_call_full(s["principal"], s["path"], host=s.get("host"),
                                                metadata=[(k.lower(), v) for k, v in s["headers"]])
        if code == grpc.StatusCode.UNAVAILABLE and s["principal"] is None:
            row.update(result="TLS refused", decided="the listener requires a client certificate",
                       as_expected=s["expect"] in ("deny", None), allowed=False)
            return row
        allowed = code == grpc.StatusCode.OK
        row["result"] = code.name
        body = details or ""
    else:
        try:
            r = envoy.request(s["principal"], s["method"], s["path"], host=s.get("host"), headers=s["headers"])
        except OSError:
            row.update(result="TLS refused", decided="the listener requires a client certificate",
                       as_expected=s["expect"] in ("deny", None), allowed=False)
            return row
        allowed = r.status == 200
        row["result"] = str(r.status)
        body = r.text.strip()
    row["allowed"] = allowed
    row["as_expected"] = s["expect"] is None or (s["expect"] == "allow") == allowed
    # The deciding policy: Envoy's log line for this request (allow lines are logged at debug;
    # the demo runs Envoy with --component-log-level wasm:debug), else the deny body.
    row["decided"] = body.removeprefix("RBAC: access denied by ").removeprefix("RBAC: ") if not allowed else ""
    line = None
    deadline = time.monotonic() + 1.0
    while line is None and time.monotonic() < deadline:
        for m in LOG_LINE.finditer(envoy.read_log()[log_before:]):
            line = m
        if line is None:
            time.sleep(0.02)
    if line:
        if line["policy"] != "-":
            rule = f" rule {line['rule']}" if line["rule"] != "-" else ""
            row["decided"] = f"{line['policy']}{rule}"
        elif line["reason"]:
            row["decided"] = f"{line['dialect']}: {line['reason']}"
    return row


def short_id(principal):
    if principal is None:
        return "(no certificate)"
    return principal.removeprefix("spiffe://")


def print_table(rows):
    cols = [("identity", "who"), ("request", "request"), ("result", "result"), ("decided by", "decided")]
    widths = [max(len(title), *(len(str(r.get(key, ""))) for r in rows)) for title, key in cols]
    print(BOLD + "  ".join(t.ljust(w) for (t, _), w in zip(cols, widths)) + "  verdict" + RESET)
    for r in rows:
        verdict = f"{GREEN}ALLOWED{RESET}" if r["allowed"] else f"{RED}DENIED{RESET}"
        mark = "" if r["as_expected"] else f"  {RED}(cases file expects {r['expected']}){RESET}"
        print("  ".join(str(r.get(k, "")).ljust(w) for (_, k), w in zip(cols, widths)) + "  " + verdict + mark)


def print_curl(envoy, h, samples, certs):
    print(f"\n{BOLD}Envoy keeps serving. Try it (Ctrl-C to stop):{RESET}")
    ca = h.pki.ca
    shown = set()
    for s in samples:
        if s["grpc"] or (s["principal"], s["method"], s["path"]) in shown:
            continue
        if s["principal"] and sum(1 for x in shown if x[0] == s["principal"]) >= 2:
            continue
        shown.add((s["principal"], s["method"], s["path"]))
        who = short_id(s["principal"])
        if s["principal"]:
            cert, key = certs[s["principal"]]
            auth = f"--cert {cert} --key {key} "
        else:
            auth = ""
        x = f"-X {s['method']} " if s["method"] != "GET" else ""
        expect = f" (expect {s['expect']})" if s["expect"] else ""
        print(f"\n{DIM}# {who}: {s['name']}{expect}{RESET}")
        print(f"curl -sS -i --cacert {ca} {auth}{x}'https://localhost:{envoy.port}{s['path']}'")
    print(f"\n{DIM}# the filter's counters{RESET}")
    print(f"curl -s 'http://127.0.0.1:{envoy.admin_port}/stats?filter=spiffe_authz'")
    print(f"\n{DIM}# decisions as Envoy logs them{RESET}")
    print(f"tail -f {envoy.log_path} | grep spiffe-authz")


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def envoy_version():
    import subprocess
    from harness import envoy_binary
    try:
        out = subprocess.run([envoy_binary(), "--version"], capture_output=True, text=True, timeout=10).stdout
        m = re.search(r"/(\d+\.\d+\.\d+)/", out)
        return m.group(1) if m else "?"
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The benchmark behind README "Performance": what spiffe-authz costs inside Envoy, against no
filter, a no-op wasm filter (the floor any wasm filter pays) and Envoy's native RBAC filter.

    ./build.sh bench            # full run, about 10-15 minutes on 2 cores; rewrites bench/RESULTS.md
    ./build.sh bench --quick    # about 2 minutes, fewer configurations; writes target/bench/
    bench/run.py --rounds 3 --duration 3 --only istio-10kx10,rbac-10kx10   # ad hoc (none, noop always)

wrk (HTTP/1.1, keep-alive; the 15 headers of bench/request-headers.txt) -> client Envoy (plain
HTTP in, mTLS out with a SPIFFE client certificate) -> server Envoy (--concurrency 1; the filter
under test; direct_response). Then the load phase (bench/load.py): two workers, HTTP/2 with many
streams per connection, latency at a fixed rate.
One server Envoy per configuration, all started before measuring; rounds visit every
configuration in a rotated order, so that machine noise is spread over all of them. Figures
per configuration are medians over rounds of per-round values; ratios are taken within a round
(against that round's no-filter and no-op measurements) before the median.

Server CPU per request = delta of the server process's CPU time (all threads, nanoseconds:
/proc/<pid>/task/*/schedstat) over the measured interval / delta of the server's
`http.inbound.downstream_rq_completed`. Latency p50/p99 and
throughput come from wrk.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
sys.path.insert(0, str(HERE))

import bundles  # noqa: E402
import envoys  # noqa: E402
import load  # noqa: E402
import report  # noqa: E402
import startup  # noqa: E402
from harness import Pki, envoy_binary, free_port  # noqa: E402  (the e2e suite's PKI)

WASM = pathlib.Path(os.environ.get("SPIFFE_AUTHZ_WASM", ROOT / "dist" / "spiffe_authz.wasm"))
NOOP_DIR = HERE / "noop-filter"
NOOP_TARGET = ROOT / "target" / "bench-noop"
NOOP_WASM = NOOP_TARGET / "wasm32-wasip1" / "release" / "noop_filter.wasm"
OUT = ROOT / "target" / "bench"
WRK_LUA = HERE / "wrk-report.lua"
# What the load generators send beyond the request line (README "Performance": a realistic
# request of 22 headers at the server).
HEADERS = [line for line in (HERE / "request-headers.txt").read_text().splitlines()
           if line and not line.startswith("#")]

K = 1000


class Config:
    """One server configuration: kind none | noop | probe | wasm (spiffe-authz) | rbac (native RBAC,
    istiod's linear form) | matcher (native RBAC, the matcher form)."""

    def __init__(self, kind, dialect=None, principals=0, paths=0, calls="", wasm=None, access_log=None, label=None):
        self.kind, self.dialect, self.principals, self.paths = kind, dialect, principals, paths
        self.calls = calls
        self.wasm = wasm or WASM
        # None: no access log. "denied" / "all": Envoy writes envoy/envoy.yaml's access log line
        # per request, and the bundle's settings.accessLog is that (see --access-log).
        self.access_log = access_log
        if kind in ("none", "noop"):
            self.name = kind
        elif kind == "probe":
            self.name = f"probe-{calls.replace(',', '+')}"
        else:
            who = {"rbac": "rbac", "matcher": "matcher"}.get(kind, dialect)
            self.name = f"{who}-{_n(principals)}x{_n(paths)}" + (f"-{label or 'alt'}" if wasm else "")
        if access_log:
            self.name += "+log" if access_log == "denied" else "+log-all"
        self.bundle_bytes = None
        self.envoy = None
        self.server_port = None  # the server Envoy's mTLS listener
        self.client_port = None  # the client Envoy's plain-HTTP listener for this server

    @property
    def alt(self):
        """Another build of spiffe-authz (--alt-wasm) than dist/spiffe_authz.wasm."""
        return self.wasm != WASM

    @property
    def identity(self):
        return bundles.caller(self.dialect or "istio")

    @property
    def path(self):
        return bundles.request_path(self.paths or 1)


def _n(v):
    return f"{v // K}k" if v >= K and v % K == 0 else str(v)


# Probes (--probes): the no-op filter making some of spiffe-authz's host calls per request and
# nothing else (see bench/noop-filter/src/lib.rs), to tell the host calls' cost from the module's.
# Per dialect, the calls spiffe-authz makes for its benchmark bundle (bench/vm-harness.mjs counts
# them): the anchor of the "≤ 1.25 × the probe" target.
DIALECT_PROBE = {"istio": "uri,headers", "dapr": "uri,headers", "drako": "uri,headers,saddr,set",
                 "linkerd": "uri,headers,dport,saddr"}
# And what other ways of reading the request and the peer would cost: one header by name each
# (the three pseudo-headers spiffe-authz needs), the connection id (to key a per-connection cache).
PROBES = ["uri", "headers", "connid", "path,authority,method"] + sorted(set(DIALECT_PROBE.values()))


def configs(quick, rbac_cap, probes=False):
    out = [Config("none"), Config("noop")]
    if probes:
        out += [Config("probe", calls=c) for c in PROBES]
    sizes = [1, 10 * K] if quick else [1, K, 10 * K, 100 * K]
    out += [Config("wasm", "istio", p, 10) for p in sizes]
    if not quick:
        # The bundle of the load target (100,000 principals, 10,000 paths), measured per request too.
        out.append(Config("wasm", "istio", 100 * K, 10 * K))
        out += [Config("wasm", d, 10 * K, 10) for d in ("drako", "linkerd", "dapr")]
    out += [Config("rbac", "istio", p, 10) for p in sizes if p <= rbac_cap]
    out += [Config("matcher", "istio", p, 10) for p in sizes]
    return out


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- preparation ---------------------------------------------------------------------------------


def ensure_wrk():
    if shutil.which("wrk"):
        return shutil.which("wrk")
    log("installing wrk (apt-get install -y wrk)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    r = subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], capture_output=True)
    if r.returncode != 0:
        subprocess.run([*sudo, "apt-get", "update"], capture_output=True)
        subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk")


def build_noop():
    log("building the no-op filter (bench/noop-filter, wasm32-wasip1)")
    env = {**os.environ, "CARGO_TARGET_DIR": str(NOOP_TARGET)}
    subprocess.run(["cargo", "build", "-q", "--release", "--target", "wasm32-wasip1",
                    "--manifest-path", str(NOOP_DIR / "Cargo.toml")], check=True, env=env)
    return NOOP_WASM


def write_bundles(cfgs, directory):
    """Writes each wasm configuration's bundle; returns the engine micro-benchmark's cases."""
    cases = []
    for c in cfgs:
        if c.kind != "wasm":
            continue
        bundle = bundles.DIALECTS[c.dialect](c.principals, c.paths, port=c.server_port)
        if c.access_log:
            bundle.setdefault("settings", {})["accessLog"] = c.access_log
        text = json.dumps(bundle)
        c.bundle_text = text
        c.bundle_bytes = len(text)
        (directory / f"{c.name}.json").write_text(text)
        if c.alt or c.access_log:
            continue  # the same bundle as its twin: the engine alone cannot differ
        cases.append({"name": c.name, "file": f"{c.name}.json", "principal": c.identity,
                      "path": c.path, "port": c.server_port})
    # The engine alone at both ends of the principal range, whatever the configuration list.
    for p in (1, 100 * K):
        name = f"istio-{_n(p)}x10"
        if not any(x["name"] == name for x in cases):
            (directory / f"{name}.json").write_text(json.dumps(bundles.istio(p, 10)))
            cases.append({"name": name, "file": f"{name}.json", "principal": bundles.caller("istio"),
                          "path": bundles.request_path(10), "port": None})
    (directory / "cases.json").write_text(json.dumps(cases))
    return cases


def engine_micro(directory):
    """Runs tests/bench_engine.rs (native, release) over the bundles; returns its BENCH lines."""
    log("engine micro-benchmark (cargo test --release --test bench_engine)")
    # Its own target directory, without LTO: builds faster and leaves target/release (the CLI)
    # alone. opt-level stays the release profile's ("s", as the shipped .wasm).
    env = {**os.environ, "SPIFFE_AUTHZ_BENCH_DIR": str(directory),
           "CARGO_TARGET_DIR": str(ROOT / "target" / "bench-engine"), "CARGO_PROFILE_RELEASE_LTO": "false"}
    r = subprocess.run(
        # --no-default-features: the engine without the CLI (whose binary the test does not need).
        ["cargo", "test", "-q", "--release", "--no-default-features", "--test", "bench_engine", "--",
         "--ignored", "--nocapture", "--test-threads", "1"], cwd=ROOT, env=env, capture_output=True, text=True)
    rows = [json.loads(line[6:]) for line in r.stdout.splitlines() if line.startswith("BENCH ")]
    if r.returncode != 0 or not rows:
        log(f"engine micro-benchmark failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return rows


def vm_alone(cfgs, directory, noop):
    """bench/vm-harness.mjs (Node's V8, a stub host) per module and bundle: ns inside the VM per
    request and the host calls made per request, without Envoy's side of those calls."""
    node = shutil.which("node")
    if not node:
        log("node not found: skipping the VM-alone measurement")
        return []
    log("the module alone in V8 (node bench/vm-harness.mjs)")
    runs = [("noop", noop, "-", bundles.caller("istio"), bundles.request_path(10))]
    runs += [(c.name, c.wasm, str(directory / f"{c.name}.json"), c.identity, c.path)
             for c in cfgs if c.kind == "wasm" and not c.alt and not c.access_log]
    rows = []
    for name, wasm, bundle, who, path in runs:
        r = subprocess.run([node, str(HERE / "vm-harness.mjs"), str(wasm), bundle, who, path, "1"],
                           capture_output=True, text=True, timeout=300)
        try:
            rows.append({"name": name, **json.loads(r.stdout.strip().splitlines()[-1])})
        except (ValueError, IndexError):
            log(f"vm-harness failed for {name}: {r.stderr[-500:]}")
    return rows


# -- measuring -----------------------------------------------------------------------------------


def wrk(binary, port, path, seconds, connections):
    headers = [a for h in HEADERS for a in ("-H", h)]
    r = subprocess.run(
        [binary, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "30s", "-s", str(WRK_LUA), *headers,
         f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, timeout=seconds + 60)
    for line in r.stdout.splitlines():
        if line.startswith("WRKJSON "):
            return json.loads(line[8:])
    raise RuntimeError(f"wrk printed no summary:\n{r.stdout}\n{r.stderr}")


def measure(c, wrk_bin, seconds, warmup, connections, perf_dir=None):
    """One measurement of configuration c: warm-up, then `seconds` of load. With perf_dir, the
    server is also sampled by `perf record` (CPU clock) and its profile summarized by DSO."""
    wrk(wrk_bin, c.client_port, c.path, warmup, connections)
    e = c.envoy
    perf = None
    if perf_dir:
        data = perf_dir / f"{c.name}.perf"
        perf = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "2000", "-o", str(data),
                                 "-p", str(e.proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
    n0, t0 = e.counter("http.inbound.downstream_rq_completed"), e.cpu_seconds()
    w = wrk(wrk_bin, c.client_port, c.path, seconds, connections)
    t1, n1 = e.cpu_seconds(), e.counter("http.inbound.downstream_rq_completed")
    if perf:
        perf.send_signal(2)
        perf.wait(30)
    done = n1 - n0
    if w["non2xx"] or w["errors"]:
        raise RuntimeError(f"{c.name}: {w['non2xx']} non-2xx answers and {w['errors']} errors: "
                           f"the configuration does not allow the benchmark's request")
    return {
        "cpu_us": (t1 - t0) / max(done, 1) * 1e6,
        "requests": done,
        "rps": w["requests"] / (w["duration_us"] / 1e6),
        "p50_ms": w["p50"] / 1e3,
        "p99_ms": w["p99"] / 1e3,
    }


def filters_for(c, noop):
    """The server's HTTP filters (before the router) for configuration c."""
    if c.kind == "none":
        return []
    if c.kind in ("noop", "probe"):
        return [envoys.wasm_filter("noop", noop, c.calls)]
    if c.kind == "wasm":
        return [envoys.wasm_filter("spiffe_authz", c.wasm, c.bundle_text)]
    if c.kind == "matcher":
        return [bundles.rbac_matcher_filter(c.principals)]
    return [bundles.rbac_filter(c.principals, c.paths)]


def perf_by_dso(data, requests):
    """{dso: µs per request} from a perf.data file: where the server's CPU time goes (V8's
    wasm code shows as anonymous memory, `[JIT]` or `[unknown]`; Envoy's own code as `envoy`)."""
    r = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--sort", "dso", "-F", "sample,dso"],
                       capture_output=True, text=True)
    rows = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].isdigit():
            rows[" ".join(parts[1:])] = int(parts[0])
    total = sum(rows.values())
    # cpu-clock at 2000 Hz: one sample = 500 µs of CPU.
    return {k: v * 500 / max(requests, 1) for k, v in sorted(rows.items(), key=lambda kv: -kv[1])[:8]} if total else {}


def configure_line(log_text):
    """The filter's on_configure report (elapsed ms and VM linear memory), if it logs one."""
    m = re.findall(r"spiffe-authz: bundle loaded \((\d+) bytes;.*?configure_ms=([\d.]+) vm_memory_bytes=(\d+)",
                   log_text)
    if not m:
        return None
    size, ms, mem = m[-1]
    return {"json_bytes": int(size), "configure_ms": float(ms), "vm_memory_bytes": int(mem),
            "configures": len(m), "all_ms": [float(x[1]) for x in m], "all_memory": [int(x[2]) for x in m]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="2-minute smoke run: fewer sizes and rounds, no probes, no profile, no micro-benchmark")
    ap.add_argument("--rounds", type=int, help="rounds over all configurations (default 6; quick 2)")
    ap.add_argument("--duration", type=float, help="measured seconds per configuration and round (default 4; quick 2)")
    ap.add_argument("--warmup", type=float, default=1, help="unmeasured seconds before each measurement")
    ap.add_argument("--connections", type=int, default=4, help="wrk connections (default 4)")
    ap.add_argument("--rbac-cap", type=int, default=100 * K,
                    help="largest principal count measured with native RBAC (default 100000)")
    ap.add_argument("--probes", action=argparse.BooleanOptionalAction, default=None,
                    help="also measure the no-op filter making spiffe-authz's host calls (default: on, off in --quick)")
    ap.add_argument("--probe-calls", help="the probes to measure, ';'-separated (each a comma-separated list of "
                                          "calls; default: " + "; ".join(PROBES) + ")")
    ap.add_argument("--alt-wasm", action="append", default=[], metavar="[LABEL=]PATH",
                    help="also measure this build of spiffe-authz (istio, 1 and 10,000 principals), named "
                         "istio-<size>-LABEL (default label: alt); repeatable, e.g. one build per stage of the "
                         "request path to bisect its cost")
    ap.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=None,
                    help="also measure the decision in Envoy's access log: none+log (no filter, access log), "
                         "istio-1x10+log (access log; the filter records refusals only: the measured requests "
                         "are allowed, so this is the access log's own cost) and istio-1x10+log-all "
                         "(settings.accessLog: all: the filter records every decision, one host call more) "
                         "(default: on, off in --quick)")
    ap.add_argument("--load", action=argparse.BooleanOptionalAction, default=None,
                    help="the load phase (bench/load.py): two workers, HTTP/2 with many streams, latency at a "
                         "fixed rate, for " + ", ".join(load.NAMES) + " (default: on, off in --quick)")
    ap.add_argument("--load-rounds", type=int, default=3, help="rounds of the load phase (default 3)")
    ap.add_argument("--perf", action=argparse.BooleanOptionalAction, default=None,
                    help="after the measured rounds, one more (not counted: sampling costs CPU) in which each "
                         "server is sampled by perf (CPU clock) and its time split by DSO (default: on if perf "
                         "is installed, off in --quick)")
    ap.add_argument("--only", help="comma-separated configuration names (none and noop are always kept)")
    ap.add_argument("--micro", action=argparse.BooleanOptionalAction, default=None,
                    help="the native engine micro-benchmark (default: on, off in --quick)")
    ap.add_argument("--startup-reps", type=int,
                    help="starts of each server per configuration and concurrency (1, 2, 4) for the start-up "
                         "and resident-memory tables (default 5; quick 3; 0: skip)")
    ap.add_argument("--out", help="results directory (default target/bench)")
    ap.add_argument("--results-md", help="write the report here (default: bench/RESULTS.md for a full run, "
                                         "target/bench/RESULTS.md otherwise)")
    a = ap.parse_args()
    rounds = a.rounds or (2 if a.quick else 6)
    if a.startup_reps is None:
        a.startup_reps = 3 if a.quick else 5
    seconds = a.duration or (2 if a.quick else 4)
    for opt in ("probes", "perf", "micro", "access_log", "load"):
        if getattr(a, opt) is None:
            setattr(a, opt, not a.quick)
    a.perf = a.perf and bool(shutil.which("perf"))
    started = time.time()
    load_at_start = os.getloadavg()

    if a.probe_calls:
        PROBES[:] = a.probe_calls.split(";")
    cfgs = configs(a.quick, a.rbac_cap, a.probes)
    for alt in a.alt_wasm:
        label, _, path = alt.rpartition("=")
        cfgs += [Config("wasm", "istio", p, 10, wasm=pathlib.Path(path), label=label) for p in (1, 10 * K)]
    if a.access_log:
        cfgs += [Config("none", access_log="denied"), Config("wasm", "istio", 1, 10, access_log="denied"),
                 Config("wasm", "istio", 1, 10, access_log="all")]
    if a.only:
        keep = set(a.only.split(",")) | {"none", "noop"}
        cfgs = [c for c in cfgs
                if c.name in keep or c.kind == "probe" or c.alt or c.access_log]
    out = pathlib.Path(a.out) if a.out else OUT
    out.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="spiffe-authz-bench-"))
    wrk_bin = ensure_wrk()
    if not WASM.exists():
        sys.exit(f"{WASM} is missing: run ./build.sh first")
    noop = build_noop()
    for c in cfgs:
        c.server_port = free_port()
    bdir = work / "bundles"
    bdir.mkdir()
    write_bundles(cfgs, bdir)
    micro = engine_micro(bdir) if a.micro else []
    vm = vm_alone(cfgs, bdir, noop) if a.micro else []

    pki = Pki(work / "pki")
    binary = envoys.native_binary(envoy_binary())
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    base = (os.getpid() % 20000) * 50 + 1_000_000
    # Start-up and memory first, one server at a time, before the load phase's Envoys exist.
    startup_cfgs = [c for c in cfgs if c.kind != "probe" and not c.access_log]
    start_data = startup.run(binary, work, startup_cfgs, lambda c: filters_for(c, noop), pki, base + 40,
                             a.startup_reps, log) if a.startup_reps else {}
    started_envoys = []
    results = {c.name: [] for c in cfgs}
    try:
        for i, c in enumerate(cfgs):
            access_log = work / f"{c.name}.access.log" if c.access_log else None
            boot = envoys.server_bootstrap(filters_for(c, noop), port=c.server_port, pki=pki, access_log=access_log)
            c.envoy = envoys.Envoy(binary, work, c.name, boot, base + i)
            log(f"starting server {c.name}")
            c.envoy.start()
            started_envoys.append(c.envoy)
            log(f"  ready in {c.envoy.ready_s:.2f}s, RSS {c.envoy.rss_bytes() / 2**20:.0f} MiB")
        for c in cfgs:
            c.client_port = free_port()
        routes = [(c.client_port, c.server_port, pki.client(c.identity)) for c in cfgs]
        client = envoys.Envoy(binary, work, "client", envoys.client_bootstrap(routes, pki=pki), base + len(cfgs))
        client.start()
        started_envoys.append(client)
        profiles = {}
        for r in range(rounds + (1 if a.perf else 0)):
            order = envoys.rotated(cfgs, r * max(1, len(cfgs) // rounds))
            profiling = r == rounds
            label = "profile round (perf, not counted)" if profiling else f"round {r + 1}/{rounds}"
            log(f"{label}: {' '.join(c.name for c in order)}")
            for c in order:
                perf_dir = out / "perf" if profiling else None
                if perf_dir:
                    perf_dir.mkdir(exist_ok=True)
                m = measure(c, wrk_bin, seconds, a.warmup, a.connections, perf_dir)
                if perf_dir:
                    profiles[c.name] = perf_by_dso(perf_dir / f"{c.name}.perf", m["requests"])
                    continue
                m["round"] = r
                results[c.name].append(m)
                log(f"  {c.name:22s} {m['cpu_us']:9.1f} us/req  {m['rps']:8.0f} rps  "
                    f"p50 {m['p50_ms']:.2f} ms  p99 {m['p99_ms']:.2f} ms")
        memory = {c.name: c.envoy.rss_bytes() for c in cfgs}
        configure = {c.name: configure_line(c.envoy.log()) for c in cfgs if c.kind == "wasm"}
        ready = {c.name: c.envoy.ready_s for c in cfgs}
    finally:
        for e in started_envoys:
            e.stop()
    load_results = load.run(cfgs, envoy=binary, work=work, pki=pki, base_id=base + len(cfgs) + 10,
                            server_filters=lambda c: filters_for(c, noop), headers=HEADERS,
                            rounds=a.load_rounds, seconds=seconds, log=log) if a.load else {}

    data = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"nproc": os.cpu_count(), "cpu": _cpu_model(), "kernel": platform.release(), "envoy": version},
        "settings": {"rounds": rounds, "seconds": seconds, "warmup": a.warmup, "connections": a.connections,
                     "quick": a.quick, "rbac_cap": a.rbac_cap, "startup_reps": a.startup_reps,
                     "request_headers": len(HEADERS), "load_avg_start": load_at_start,
                     "load_avg_end": os.getloadavg()},
        "configs": [{"name": c.name, "kind": c.kind, "dialect": c.dialect, "principals": c.principals,
                     "paths": c.paths, "calls": c.calls, "bundle_bytes": c.bundle_bytes, "access_log": c.access_log,
                     "wasm": str(c.wasm) if c.kind == "wasm" else None, "alt": c.alt} for c in cfgs],
        "runs": results, "profiles": profiles if a.perf else {}, "rss": memory, "configure": configure, "ready_s": ready, "micro": micro,
        "vm": vm, "startup": start_data, "load": load_results,
        "load_settings": {"workers": load.WORKERS, "clients": load.CLIENTS, "streams": load.STREAMS,
                          "rate": load.RATE, "rounds": a.load_rounds, "seconds": seconds} if a.load else None,
        "dialect_probe": DIALECT_PROBE,
        "wasm_bytes": WASM.stat().st_size, "noop_wasm_bytes": noop.stat().st_size,
        "elapsed_s": time.time() - started,
    }
    (out / "results.json").write_text(json.dumps(data, indent=1))
    md = a.results_md or (HERE / "RESULTS.md" if not (a.quick or a.only or a.rounds or a.duration)
                          else out / "RESULTS.md")
    report.write(data, pathlib.Path(md))
    log(f"done in {data['elapsed_s'] / 60:.1f} min: {md} and {out / 'results.json'}")
    print(report.tables(data))
    shutil.rmtree(work, ignore_errors=True)


def _cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    main()

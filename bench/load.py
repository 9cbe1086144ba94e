"""Beyond one stream at a time (`bench/run.py`'s load phase): two workers, HTTP/2 with many
concurrent streams per connection, and latency at a fixed request rate.

h2load (nghttp2-client; HTTP/2 over cleartext) -> client Envoy (two workers; HTTP/2 over mTLS to
the server, at most 16 streams per connection, so that the streams spread over several
connections and both server workers) -> server Envoy under test (`--concurrency 2`) ->
direct_response. For each configuration and round:

- **saturated**: `h2load -c CLIENTS -m STREAMS` for `seconds`, as fast as it goes: server CPU per
  request (as in the main phase) and requests per second;
- **fixed rate**: `h2load --rps` at RATE requests per second in all (an open loop: requests are
  sent on schedule whatever the answers), for `seconds`; p50 / p99 / p99.9 of the per-request
  latencies h2load logs, and the server's CPU per request at that rate.

Rounds visit the configurations in a rotated order, as the main phase does; figures are medians.
"""
import pathlib
import shutil
import statistics
import subprocess

import envoys
from harness import free_port  # the e2e suite's (bench/run.py puts tests/e2e on the path)

CLIENTS = 4
STREAMS = 32  # concurrent streams per h2load client: 128 in flight
RATE = 1000  # requests per second, all clients together, in the fixed-rate run
WORKERS = 2
# The configurations of the load phase (by the main phase's names).
NAMES = ["none", "noop", "istio-1x10", "istio-10kx10", "rbac-10kx10", "matcher-10kx10"]


def ensure_h2load(log):
    if shutil.which("h2load"):
        return shutil.which("h2load")
    log("installing h2load (apt-get install -y nghttp2-client)")
    subprocess.run(["apt-get", "install", "-y", "-qq", "nghttp2-client"], capture_output=True)
    return shutil.which("h2load")


def client_bootstrap(routes, *, pki):
    """The main phase's client Envoy, but speaking HTTP/2 to each server (16 streams at most per
    connection) and accepting HTTP/2 over cleartext from h2load (the codec detects it)."""
    boot = envoys.client_bootstrap(routes, pki=pki)
    for cluster in boot["static_resources"]["clusters"]:
        cluster["typed_extension_protocol_options"] = {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {"max_concurrent_streams": 16}},
            }
        }
        tls = cluster["transport_socket"]["typed_config"]["common_tls_context"]
        tls["alpn_protocols"] = ["h2"]
    return boot


def h2load(binary, port, path, headers, seconds, rate=None, log_file=None):
    """One h2load run; returns (requests succeeded, failed or not 2xx, requests per second)."""
    cmd = [binary, "-c", str(CLIENTS), "-t", "1", "-m", str(STREAMS), "-D", f"{seconds:g}"]
    for h in headers:
        cmd += ["-H", h]
    if rate:
        cmd += ["--rps", str(max(1, rate // CLIENTS))]
    if log_file:
        cmd += ["--log-file", str(log_file)]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    done = bad = 0
    rps = None
    for line in r.stdout.splitlines():
        line = line.strip()
        if line.startswith("finished in") and "req/s" in line:
            rps = float(line.split(",")[1].split()[0])
        elif line.startswith("requests:"):
            # requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout
            parts = [p.strip() for p in line.split(":", 1)[1].split(",")]
            num = {p.split()[1]: int(p.split()[0]) for p in parts if len(p.split()) == 2}
            done = num.get("succeeded", 0)
            bad += num.get("failed", 0) + num.get("errored", 0)
        elif line.startswith("status codes:"):
            parts = [p.strip() for p in line.split(":", 1)[1].split(",")]
            bad += sum(int(p.split()[0]) for p in parts if not p.split()[1].startswith("2"))
    if done == 0:
        raise RuntimeError(f"h2load completed no request:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return done, bad, rps


def latencies(log_file):
    """Per-request latencies (ms) from h2load's log file, 2xx only."""
    out = []
    for line in pathlib.Path(log_file).read_text().splitlines():
        cols = line.split("\t")
        if len(cols) >= 3 and cols[1].startswith("2"):
            out.append(int(cols[2]) / 1e3)
    return sorted(out)


def _pct(xs, p):
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else None


def measure(c, binary, headers, seconds, work):
    """Both runs of one configuration (its `load_envoy` and `load_port` set by `run`)."""
    e = c.load_envoy
    # Saturated.
    h2load(binary, c.load_port, c.path, headers, 1)
    n0, t0 = e.counter("http.inbound.downstream_rq_completed"), e.cpu_seconds()
    done, bad, rps = h2load(binary, c.load_port, c.path, headers, seconds)
    n1, t1 = e.counter("http.inbound.downstream_rq_completed"), e.cpu_seconds()
    if bad:
        raise RuntimeError(f"{c.name} (load phase): {bad} requests failed or not 2xx")
    out = {"sat_cpu_us": (t1 - t0) / max(n1 - n0, 1) * 1e6, "sat_rps": rps}
    # Fixed rate.
    log_file = work / f"{c.name}.h2load.log"
    n0, t0 = e.counter("http.inbound.downstream_rq_completed"), e.cpu_seconds()
    done, bad, _ = h2load(binary, c.load_port, c.path, headers, seconds, rate=RATE, log_file=log_file)
    n1, t1 = e.counter("http.inbound.downstream_rq_completed"), e.cpu_seconds()
    lat = latencies(log_file)
    out.update({"rate_cpu_us": (t1 - t0) / max(n1 - n0, 1) * 1e6, "rate_done_rps": done / seconds,
                "rate_bad": bad,
                "p50_ms": _pct(lat, 0.5), "p99_ms": _pct(lat, 0.99), "p999_ms": _pct(lat, 0.999)})
    return out


def run(cfgs, *, envoy, work, pki, base_id, server_filters, headers, rounds, seconds, log):
    """The load phase over the configurations named in NAMES. Returns {name: [per-round dict]}."""
    chosen = [c for c in cfgs if c.name in NAMES]
    binary = ensure_h2load(log)
    if not binary or not chosen:
        log("load phase skipped (no h2load or no configuration)")
        return {}
    started = []
    results = {c.name: [] for c in chosen}
    try:
        for i, c in enumerate(chosen):
            c.load_server_port = free_port()
            boot = envoys.server_bootstrap(server_filters(c), port=c.load_server_port, pki=pki)
            c.load_envoy = envoys.Envoy(envoy, work, f"load-{c.name}", boot, base_id + i, concurrency=WORKERS)
            c.load_envoy.start()
            started.append(c.load_envoy)
            c.load_port = free_port()
        routes = [(c.load_port, c.load_server_port, pki.client(c.identity)) for c in chosen]
        client = envoys.Envoy(envoy, work, "load-client", client_bootstrap(routes, pki=pki), base_id + len(chosen),
                              concurrency=WORKERS)
        client.start()
        started.append(client)
        for r in range(rounds):
            order = envoys.rotated(chosen, r)
            log(f"load phase round {r + 1}/{rounds} ({WORKERS} workers, HTTP/2, {CLIENTS}×{STREAMS} streams; "
                f"then {RATE} req/s)")
            for c in order:
                m = measure(c, binary, headers, seconds, work)
                m["round"] = r
                results[c.name].append(m)
                log(f"  {c.name:22s} saturated {m['sat_cpu_us']:8.1f} us/req {m['sat_rps']:8.0f} rps; "
                    f"at {RATE} rps {m['rate_cpu_us']:8.1f} us/req p50 {m['p50_ms']:.2f} p99 {m['p99_ms']:.2f} ms")
    finally:
        for e in started:
            e.stop()
    return results


def summary(results):
    """{name: {key: median over rounds}}."""
    out = {}
    for n, runs in results.items():
        if runs:
            out[n] = {k: statistics.median([m[k] for m in runs if m.get(k) is not None] or [0])
                      for k in runs[0] if k != "round"}
    return out

"""Start-up and resident memory per server Envoy (issue 16), the part of `bench/run.py` that
starts each configuration's server again and again instead of loading it.

In a mesh every pod runs its own Envoy, so what a filter costs once per process (memory, time to
ready) is multiplied by the number of pods. For every configuration (no filter, the no-op wasm
filter, spiffe-authz with each bundle, native RBAC) and every --concurrency in CONCURRENCY, one
server Envoy at a time (nothing else of the benchmark running) is started, timed until its
listeners serve, sent REQUESTS requests over mTLS, measured, and stopped; repetitions visit the
configurations in a rotated order. Figures are medians over repetitions.

- ready s: wall time from exec to `/ready` answering LIVE (polled every 10 ms);
- CPU to ready: utime + stime of the Envoy process (all threads) at that moment;
- RSS: VmRSS of the process after the requests; heap: Envoy's tcmalloc heap (`/memory`
  heap_size, of which `allocated` is in use; the rest is freed memory tcmalloc keeps, e.g. what
  V8's optimizing compiler used while compiling the module); code: resident anonymous executable
  mappings (V8's wasm code space).
"""
import http.client
import json
import ssl
import statistics

import envoys

CONCURRENCY = (1, 2, 4)
REQUESTS = 50
MiB = 2 ** 20


def rss_detail(pid):
    """(VmRSS bytes, resident bytes of anonymous executable mappings) of a process."""
    rss = code = 0
    executable_anon = False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split(None, 6)
            if "-" in head[0] and len(head) >= 5 and ":" in head[3]:
                executable_anon = "x" in head[1] and (len(head) < 6 or head[5].startswith("[anon"))
            elif head[0] == "Rss:":
                kib = int(head[1]) * 1024
                rss += kib
                if executable_anon:
                    code += kib
    return rss, code


def serve(port, cert, ca, path, n):
    """n GETs over one mTLS keep-alive connection; the number answered 200."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(str(ca))
    ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
    ok = 0
    try:
        for _ in range(n):
            conn.request("GET", path, headers={"host": "localhost"})
            r = conn.getresponse()
            r.read()
            ok += r.status == 200
    finally:
        conn.close()
    return ok


def measure_once(binary, work, c, filters, concurrency, pki, base_id, tag):
    boot = envoys.server_bootstrap(filters, port=c.server_port, pki=pki)
    e = envoys.Envoy(binary, work, f"startup-{c.name}-c{concurrency}-{tag}", boot, base_id,
                     concurrency=concurrency)
    try:
        e.start(poll=0.01)
        cpu = e.process_cpu_seconds()
        ok = serve(c.server_port, pki.client(c.identity), pki.ca, c.path, REQUESTS)
        if ok != REQUESTS:
            raise RuntimeError(f"{c.name}: {REQUESTS - ok} of {REQUESTS} start-up requests not answered 200")
        rss, code = rss_detail(e.proc.pid)
        mem = json.loads(e.admin("/memory"))
        return {"ready_s": e.ready_s, "cpu_s": cpu, "rss": rss, "code": code,
                "heap": int(mem["heap_size"]), "allocated": int(mem["allocated"])}
    finally:
        e.stop()


def run(binary, work, cfgs, filters_of, pki, base_id, reps, log):
    """{config name: {concurrency: [sample, ...]}} over `reps` rotated repetitions. One Envoy at a
    time, each stopped before the next starts: --base-id cycles through base_id .. base_id + 9."""
    out = {c.name: {str(n): [] for n in CONCURRENCY} for c in cfgs}
    k = 0
    for r in range(reps):
        order = envoys.rotated(cfgs, r)
        log(f"start-up and memory {r + 1}/{reps}: {len(order)} configurations x concurrency "
            f"{', '.join(map(str, CONCURRENCY))}")
        for n in CONCURRENCY:
            for c in order:
                m = measure_once(binary, work, c, filters_of(c), n, pki, base_id + k % 10, r)
                k += 1
                out[c.name][str(n)].append(m)
            line = "  ".join(f"{c.name} {out[c.name][str(n)][-1]['rss'] / MiB:.0f} MiB "
                             f"{out[c.name][str(n)][-1]['ready_s']:.2f} s" for c in cfgs)
            log(f"  c{n}: {line}")
    return out


def medians(data):
    """{name: {concurrency: {key: median}}} of the start-up samples."""
    out = {}
    for name, by_n in (data.get("startup") or {}).items():
        out[name] = {n: {k: statistics.median(s[k] for s in xs) for k in xs[0]} for n, xs in by_n.items() if xs}
    return out


def _mib(v):
    return "—" if v is None else f"{v / MiB:.1f}"


def _plus(v, base):
    return "—" if v is None or base is None else f"{(v - base) / MiB:+.1f}"


def tables(data, label):
    """The Markdown tables of the start-up phase; label(config) names a row."""
    med = medians(data)
    if not med:
        return ""
    ns = [str(n) for n in CONCURRENCY]
    noop, none = med.get("noop", {}), med.get("none", {})
    reps = data["settings"].get("startup_reps")

    def at(m, n, key):
        return m.get(n, {}).get(key)

    def memory(m):
        rss = [at(m, n, "rss") for n in ns]
        return ([_mib(v) for v in rss] + [_plus(v, at(noop, n, "rss")) for v, n in zip(rss, ns)]
                + [f"{_mib(at(m, '1', 'allocated'))} / {_mib(at(m, '1', 'heap'))}", _mib(at(m, "1", "code"))])

    def start(m):
        return ([_f(at(m, n, "ready_s")) for n in ns] + [_f(at(m, n, "cpu_s")) for n in ns]
                + [_ratio(at(m, "1", k), at(noop, "1", k)) for k in ("ready_s", "cpu_s")])

    L = _table(data, med, label,
               f"Resident memory per server Envoy (after start-up and {REQUESTS} requests; median of {reps} starts)",
               "RSS in MiB at each `--concurrency`; ± the no-op wasm filter's RSS at the same concurrency; "
               "heap = Envoy's tcmalloc heap (in use / held), code = V8's resident wasm code, at concurrency 1.",
               [f"RSS c{n}" for n in ns] + [f"± no-op c{n}" for n in ns] + ["heap in use / held", "code"], memory)
    L += _table(data, med, label, f"Start-up to ready per server Envoy (median of {reps} starts)",
                "Wall seconds from exec to `/ready` LIVE, and the Envoy process's CPU seconds (user + system, "
                "all threads) at that moment; ÷ the no-op's at concurrency 1.",
                [f"ready s c{n}" for n in ns] + [f"CPU s c{n}" for n in ns] + ["ready ÷ no-op c1", "CPU ÷ no-op c1"],
                start)
    ours = med.get("istio-1x10")
    if ours and none and noop:
        L.append("\n### A mesh of 1,000 pods (one server Envoy each, Istio bundle of 1 principal)\n")
        L.append("| concurrency | spiffe-authz RSS | over no filter, × 1,000 pods | over the no-op filter, × 1,000 pods |")
        L.append("|---:|---:|---:|---:|")
        for n in ns:
            v = ours.get(n, {}).get("rss")
            L.append(f"| {n} | {_mib(v)} MiB | {_gib(v, none.get(n, {}).get('rss'))} | "
                     f"{_gib(v, noop.get(n, {}).get('rss'))} |")
    return "\n".join(L) + "\n"


def targets(data):
    """[(target, met, evidence)] of issue 16, at the tiny Istio bundle (the module's own cost)."""
    med = medians(data)
    ours, noop = med.get("istio-1x10"), med.get("noop")
    if not ours or not noop:
        return []
    ns = [str(n) for n in CONCURRENCY if str(n) in ours and str(n) in noop]
    over = {n: (ours[n]["rss"] - noop[n]["rss"]) / MiB for n in ns}
    ready = {n: ours[n]["ready_s"] / noop[n]["ready_s"] for n in ns}
    cpu = {n: ours[n]["cpu_s"] / noop[n]["cpu_s"] for n in ns}
    return [
        ("resident memory ≤ no-op filter + 15 MiB at concurrency 1, 2, 4 (Istio 1 × 10)",
         all(v <= 15 for v in over.values()),
         ", ".join(f"c{n}: {over[n]:+.1f} MiB" for n in ns)),
        ("start-up to ready ≤ 2 × the no-op filter's (Istio 1 × 10)",
         all(v <= 2 for v in ready.values()),
         ", ".join(f"c{n}: {ready[n]:.1f}× ({ours[n]['ready_s']:.2f} s vs {noop[n]['ready_s']:.2f} s; "
                   f"CPU {cpu[n]:.1f}×)" for n in ns)),
    ]


def _table(data, med, label, title, note, columns, row):
    """A Markdown table with a row per configuration that has start-up samples: row(medians)
    gives its cells."""
    out = [f"\n### {title}\n", note + "\n", "| configuration | " + " | ".join(columns) + " |",
           "|---|" + "---:|" * len(columns)]
    out += [f"| {label(c)} | " + " | ".join(row(med[c['name']])) + " |" for c in data["configs"] if c["name"] in med]
    return out


def _f(v):
    return "—" if v is None else f"{v:.2f}"


def _ratio(a, b):
    return "—" if a is None or not b else f"{a / b:.1f}×"


def _gib(v, base):
    return "—" if v is None or base is None else f"{(v - base) * 1000 / 2 ** 30:.1f} GiB"


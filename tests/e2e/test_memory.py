"""A long run through real Envoy: the filter's VM memory does not grow with the requests it decides.

Hundreds of thousands of requests (allowed and denied, each with a distinct path so nothing can be
cached) go through one Envoy worker; the filter's `spiffe_authz.vm_memory_bytes` gauge (the VM's
linear memory, which never shrinks: a leak could only make it grow) is read after a warm-up and at
the end. The bound: no growth beyond 2 pages (128 KiB) over the measured run; a leak of even 1 byte
per request would exceed it. Envoy's resident memory is reported alongside, for information.
"""
import http.client
import multiprocessing
import os
import pathlib
import ssl
import time
import unittest

from harness import ROOT, SERVER_NAME, Harness

BUNDLE = ROOT / "policies" / "istio" / "seed-001-backend.json"
FRONTEND = "spiffe://cluster.local/ns/myapp/sa/frontend-sa"
ADMIN = "spiffe://cluster.local/ns/myapp/sa/admin-sa"
OTHER = "spiffe://cluster.local/ns/myapp/sa/other-sa"
WARMUP = int(os.environ.get("MEMORY_WARMUP", "20000"))
MEASURED = int(os.environ.get("MEMORY_REQUESTS", "200000"))
WORKERS = 4
GROWTH_BOUND = 2 * 65536


def _drive(args):
    """One client process: `count` requests on keep-alive mTLS connections, one per identity.
    Returns {status: count}."""
    port, ca, certs, count, offset = args
    conns = {}
    for name, (cert, key) in certs.items():
        ctx = ssl.create_default_context(cafile=ca)
        ctx.load_cert_chain(cert, key)
        conns[name] = (ctx, None)
    statuses = {}
    # 1 in 4 allowed GET, 1 in 4 allowed POST under a prefix, 2 in 4 denied: both paths exercised.
    plan = [("frontend", "GET", "/api/profile?n={}"), ("admin", "POST", "/api/admin/users/{}"),
            ("other", "GET", "/api/profile/{}"), ("frontend", "DELETE", "/api/items/{}")]
    for i in range(count):
        who, method, path = plan[i % len(plan)]
        ctx, conn = conns[who]
        for attempt in range(2):
            if conn is None:
                conn = http.client.HTTPSConnection(SERVER_NAME, port, context=ctx, timeout=10)
            try:
                conn.request(method, path.format(offset + i), headers={"host": f"{SERVER_NAME}:{port}"})
                r = conn.getresponse()
                r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1
                if r.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                conn.close()
                conn = None
                if attempt:
                    statuses["error"] = statuses.get("error", 0) + 1
        conns[who] = (ctx, conn)
    return statuses


class VmMemory(unittest.TestCase):
    def test_long_run_does_not_grow_vm_memory(self):
        h = Harness.shared()
        certs = {name: tuple(map(str, h.pki.client(uri))) for name, uri in
                 (("frontend", FRONTEND), ("admin", ADMIN), ("other", OTHER))}
        # Logging at info: a debug line per allowed request would measure the log, not the filter.
        with h.envoy(BUNDLE, component_log_level="wasm:info") as envoy:
            def run(total, offset):
                per = total // WORKERS
                jobs = [(envoy.port, str(h.pki.ca), certs, per, offset + k * per) for k in range(WORKERS)]
                with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
                    merged = {}
                    for s in pool.map(_drive, jobs):
                        for k, v in s.items():
                            merged[k] = merged.get(k, 0) + v
                return merged

            def gauge():
                return envoy.stats().get("spiffe_authz.vm_memory_bytes")

            def rss_kib():
                status = pathlib.Path(f"/proc/{envoy.proc.pid}/status").read_text()
                return next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmRSS:"))

            loaded = gauge()
            self.assertIsNotNone(loaded, "the filter reports its VM memory when the bundle loads")
            warm = run(WARMUP, 0)
            before, rss_before = gauge(), rss_kib()
            t0 = time.monotonic()
            measured = run(MEASURED, WARMUP)
            seconds = time.monotonic() - t0
            after, rss_after = gauge(), rss_kib()
            stats = envoy.stats()

        done = sum(v for k, v in measured.items() if k != "error")
        print(f"\nvm memory: {loaded} B at load, {before} B after {WARMUP} warm-up requests, {after} B after "
              f"{done} more ({seconds:.0f} s, {done / seconds:.0f} req/s; statuses {measured}); "
              f"Envoy RSS {rss_before} KiB -> {rss_after} KiB")
        self.assertEqual(measured.get("error", 0), 0, measured)
        self.assertEqual(done, (MEASURED // WORKERS) * WORKERS)
        # Both decisions were exercised, as planned: half allowed, half denied.
        self.assertEqual(measured.get(200, 0), done // 2, measured)
        self.assertEqual(measured.get(403, 0), done // 2, measured)
        self.assertEqual(warm.get(200, 0) + warm.get(403, 0), (WARMUP // WORKERS) * WORKERS, warm)
        self.assertGreaterEqual(stats["spiffe_authz.allowed"] + stats["spiffe_authz.denied"], WARMUP + MEASURED)
        self.assertLessEqual(after - before, GROWTH_BOUND,
                             f"VM memory grew by {after - before} B over {done} requests")


if __name__ == "__main__":
    unittest.main()

"""Live updates under load: bundles pushed by ECDS (spiffe-authz push → watched file) while
clients keep sending requests; no request may be lost or decided by anything but one bundle.

Each valid push k is bundle A or B (alternating) with its policies named `v<k>-allow` and
`v<k>-deny`, so a denial names the push that decided it:

    identity   A        B
    alice      200      403 (v<k>-deny)
    bob        403      200
    carol      200      200
    dave       403      403

Every fourth push is invalid (an unknown field, an unsupported kind, a CUSTOM action, broken
JSON): Envoy must reject it (ECDS update_rejected / config_fail), the filter must log the
resource and field, and the last good bundle must keep deciding.

Per request, with its start and end times:
- the status is 200 or 403 (anything else, or a connection error, is a lost request);
- a 403 names push k, bundle k denies that identity, and k could be serving then (k was pushed
  before the request ended and the next valid push was not yet applied, plus a small margin
  because workers switch to a new configuration asynchronously, after Envoy counts it);
- a 200 is what some bundle that could be serving then answers for that identity.

RELOAD_SECONDS (default 20) sets the length of the run.
"""
import http.client
import json
import os
import re
import threading
import time
import unittest

from ecds import EcdsEnvoy
from harness import SERVER_NAME, Harness

TD = "cluster.local"
IDS = {n: f"spiffe://{TD}/ns/app/sa/{n}" for n in ("alice", "bob", "carol", "dave")}
ALLOWED = {"A": {"alice", "carol"}, "B": {"bob", "carol"}}
SECONDS = float(os.environ.get("RELOAD_SECONDS", "20"))
PUSH_EVERY = 0.4
# How long after Envoy counts an update the previous configuration may still decide a stream on
# a worker thread (workers pick the new one up asynchronously).
MARGIN = 0.25
DENY_BODY = re.compile(r"access denied by AuthorizationPolicy app/v(\d+)-deny")


def policy(name, action, who):
    return {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
            "metadata": {"name": name, "namespace": "app"},
            "spec": {"action": action,
                     "rules": [{"from": [{"source": {"principals": [f"{TD}/ns/app/sa/{n}" for n in sorted(who)]}}]}]}}


def bundle(kind, k):
    denied = set(IDS) - ALLOWED[kind]
    return {"workload": {"namespace": "app", "serviceAccount": "api"},
            "resources": [policy(f"v{k}-deny", "DENY", denied), policy(f"v{k}-allow", "ALLOW", ALLOWED[kind])]}


def invalid(n, k):
    """Bundles the filter refuses, with the field its log must name."""
    b = bundle("A", k)
    kind = n % 4
    if kind == 0:
        b["resources"][1]["spec"]["rules"][0]["from"][0]["source"]["principal"] = ["x"]
        return json.dumps(b), "spec.rules[0].from[0].source.principal"
    if kind == 1:
        b["resources"].append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}})
        return json.dumps(b), "apiVersion/kind"
    if kind == 2:
        b["resources"][0]["spec"]["action"] = "CUSTOM"
        return json.dumps(b), "spec.action"
    return json.dumps(b)[:-7], "bundle:"


class Client(threading.Thread):
    """Sends requests until `stop`, recording (identity, t0, t1, status, body) or the error.
    keepalive=True reuses one connection per identity across updates."""

    def __init__(self, envoy, names, stop, keepalive):
        super().__init__(daemon=True)
        self.envoy, self.names, self.stop, self.keepalive = envoy, names, stop, keepalive
        self.results, self.errors = [], []
        self.conns = {}

    def _conn(self, name):
        c = self.conns.get(name)
        if c is None or not self.keepalive:
            c = http.client.HTTPSConnection(SERVER_NAME, self.envoy.port,
                                            context=self.envoy.ssl_context(IDS[name]), timeout=10)
            self.conns[name] = c
        return c

    def close(self):
        for c in self.conns.values():
            c.close()

    def run(self):
        i = 0
        while not self.stop.is_set():
            name = self.names[i % len(self.names)]
            i += 1
            t0 = time.monotonic()
            try:
                c = self._conn(name)
                c.request("GET", f"/api/{i}", headers={"host": f"{SERVER_NAME}:{self.envoy.port}"})
                r = c.getresponse()
                body = r.read().decode(errors="replace")
                self.results.append((name, t0, time.monotonic(), r.status, body))
                if not self.keepalive:
                    c.close()
            except Exception as e:  # a lost request: counted and reported
                self.errors.append(f"{name} at {t0:.3f}: {type(e).__name__}: {e}")
                bad = self.conns.pop(name, None)
                if bad is not None:
                    bad.close()


class LiveReload(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()

    def test_updates_under_load_lose_and_misdecide_nothing(self):
        with EcdsEnvoy(self.h, bundle("A", 0)) as envoy:
            # Timeline of valid pushes: (k, kind, pushed at, applied at).
            timeline = [(0, "A", 0.0, time.monotonic())]
            stop = threading.Event()
            clients = [Client(envoy, list(IDS), stop, keepalive=ka) for ka in (False, False, True, True)]
            for c in clients:
                c.start()
            rejected_pushes, fields = 0, []
            k, n, start = 0, 0, time.monotonic()
            while time.monotonic() - start < SECONDS:
                time.sleep(PUSH_EVERY)
                n += 1
                stats = envoy.ecds_stats()
                if n % 4 == 0:
                    text, field = invalid(n // 4, k + 1)
                    envoy.push(text, validate=False)
                    got = envoy.wait_ecds("update_rejected", stats.get("update_rejected", 0))
                    self.assertIsNotNone(got, f"Envoy did not reject invalid push {n} ({field})")
                    rejected_pushes += 1
                    fields.append(field)
                    continue
                k += 1
                kind = "B" if k % 2 else "A"
                pushed = time.monotonic()
                envoy.push(bundle(kind, k))
                self.assertIsNotNone(envoy.wait_ecds("update_success", stats.get("update_success", 0)),
                                     f"Envoy did not apply push {n}")
                timeline.append((k, kind, pushed, time.monotonic()))
            stop.set()
            for c in clients:
                c.join(15)
                c.close()
            final = envoy.ecds_stats()
            log = envoy.read_log()

        results = [r for c in clients for r in c.results]
        errors = [e for c in clients for e in c.errors]
        statuses = {}
        for r in results:
            statuses[r[3]] = statuses.get(r[3], 0) + 1
        misdecided = []
        for name, t0, t1, status, body in results:
            problem = self.check(timeline, name, t0, t1, status, body)
            if problem:
                misdecided.append(f"{name} [{t0 - start:.3f}, {t1 - start:.3f}] {status} {body.strip()!r}: {problem}")
        keepalive = sum(len(c.results) for c in clients if c.keepalive)
        # How long after Envoy counted the next update a superseded push still decided a request
        # (started after that moment): the workers' switch-over lag, which MARGIN must cover.
        applied = {k: timeline[i + 1][3] for i, (k, _, _, _) in enumerate(timeline[:-1])}
        lag = max([t0 - applied[int(m.group(1))] for _, t0, _, st, b in results
                   if st == 403 and (m := DENY_BODY.search(b)) and int(m.group(1)) in applied] + [0.0])
        print(f"\nlive reload: {len(results)} requests ({keepalive} on keep-alive connections) in {SECONDS:.0f} s, "
              f"statuses {statuses}; {len(timeline) - 1} updates applied, {rejected_pushes} invalid pushes "
              f"rejected (Envoy update_rejected={final.get('update_rejected')}, "
              f"config_fail={final.get('config_fail')}); lost {len(errors)}, misdecided {len(misdecided)}; "
              f"longest switch-over lag seen {max(lag, 0) * 1000:.0f} ms")
        self.assertEqual(errors, [], "requests lost during updates")
        self.assertEqual(misdecided[:20], [], f"{len(misdecided)} requests decided by no single bundle")
        self.assertEqual(set(statuses) - {200, 403}, set())
        self.assertGreater(len(results), 200)
        self.assertGreaterEqual(len(timeline) - 1, 10)
        self.assertEqual(final.get("update_rejected"), rejected_pushes)
        self.assertEqual(final.get("update_success"), len(timeline))  # the first bundle too
        for field in set(fields):
            self.assertIn(field, log, f"the filter's log does not name {field}")
        self.assertIn("spiffe-authz: bundle rejected: resources[", log)

    def test_the_checker_catches_misdecisions(self):
        # Push 1 (B) applied at t=10, push 2 (A) at t=20.
        tl = [(0, "A", 0.0, 0.0), (1, "B", 9.0, 10.0), (2, "A", 19.0, 20.0)]
        deny = "RBAC: access denied by AuthorizationPolicy app/v{}-deny"
        ok = [("alice", 5, 5.1, 200, ""), ("alice", 15, 15.1, 403, deny.format(1)),
              ("alice", 19.5, 19.6, 403, deny.format(1)),  # push 2 not applied yet
              ("dave", 25, 25.1, 403, deny.format(2)), ("bob", 15, 15.1, 200, "")]
        bad = [("alice", 15, 15.1, 200, ""),                 # only B was serving: alice is denied
               ("bob", 15, 15.1, 403, deny.format(1)),       # push 1 (B) does not deny bob
               ("dave", 25, 25.1, 403, deny.format(1)),      # push 1 was replaced at t=20
               ("carol", 5, 5.1, 503, ""), ("dave", 5, 5.1, 403, "RBAC: access denied")]
        self.assertEqual([r for r in ok if self.check(tl, *r)], [])
        self.assertEqual([r for r in bad if not self.check(tl, *r)], [])

    @staticmethod
    def check(timeline, name, t0, t1, status, body):
        """None if some bundle that could be serving during [t0, t1] answers `status`."""
        candidates = []
        for i, (k, kind, pushed, applied) in enumerate(timeline):
            until = timeline[i + 1][3] + MARGIN if i + 1 < len(timeline) else float("inf")
            if pushed <= t1 and until >= t0:
                candidates.append((k, kind))
        if status == 403:
            m = DENY_BODY.search(body)
            if not m:
                return "a denial that names no push"
            k = int(m.group(1))
            kind = next((kd for (kk, kd, _, _) in timeline if kk == k), None)
            if kind is None or name in ALLOWED[kind]:
                return f"push {k} ({kind}) does not deny {name}"
            if (k, kind) not in candidates:
                return f"push {k} could not be serving then (candidates {candidates})"
            return None
        if status == 200:
            if any(name in ALLOWED[kind] for _, kind in candidates):
                return None
            return f"no bundle serving then allows {name} (candidates {candidates})"
        return f"unexpected status {status}"


if __name__ == "__main__":
    unittest.main()

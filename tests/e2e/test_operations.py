"""The operator's view through real Envoy: per-policy counters read from the admin endpoint's
/stats/prometheus (what `linkerd viz authz` shows, per policy: allowed, denied), dry-run
policies and dry-run bundles (computed, logged, counted, never enforced), and config
load/reject counters.
"""
import json
import re
import subprocess
import unittest

from ecds import CLI
from harness import ROOT, Harness

TD = "cluster.local"
WEB = f"spiffe://{TD}/ns/frontend/sa/web"
EVIL = f"spiffe://{TD}/ns/evil/sa/x"
LINE = re.compile(r"^(\w+)\{(.*)\} (\d+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def ap(name, spec, dry_run=False):
    meta = {"name": name, "namespace": "shop"}
    if dry_run:
        meta["annotations"] = {"istio.io/dry-run": "true"}
    return {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": meta, "spec": spec}


BUNDLE = {
    "workload": {"namespace": "shop", "serviceAccount": "cart"},
    "resources": [
        ap("allow-web", {"rules": [{"from": [{"source": {"principals": [f"{TD}/ns/frontend/sa/web"]}}],
                                    "to": [{"operation": {"paths": ["/items*"]}}]}]}),
        ap("deny-evil", {"action": "DENY", "rules": [{"from": [{"source": {"namespaces": ["evil"]}}]}]}),
        ap("deny-delete", {"action": "DENY", "rules": [{"to": [{"operation": {"methods": ["DELETE"]}}]}]},
           dry_run=True),
    ],
}


def prometheus(envoy):
    """{(metric, (("label", "value"), ...)): value} for the filter's per-policy counters."""
    envoy.settle_counters()
    out = {}
    for line in envoy.admin("/stats/prometheus").splitlines():
        m = LINE.match(line)
        if m and m.group(1).startswith("spiffe_authz_policy_"):
            labels = dict(LABEL.findall(m.group(2)))
            key = (m.group(1), labels.get("policy_kind"), labels.get("policy_namespace"), labels.get("policy_name"))
            out[key] = int(m.group(3))
    return out


def authz_table(counts):
    """A `linkerd viz authz`-like table from the counters: per policy, allowed and denied."""
    rows = {}
    for (metric, kind, ns, name), v in counts.items():
        row = rows.setdefault(f"{kind} {ns}/{name}", {})
        row[metric.removeprefix("spiffe_authz_policy_")] = v
    cols = ["allowed", "denied", "dry_run_allowed", "dry_run_denied"]
    lines = [f"{'POLICY':56} " + " ".join(f"{c.upper():>15}" for c in cols)]
    for policy in sorted(rows):
        lines.append(f"{policy:56} " + " ".join(f"{rows[policy].get(c, 0):>15}" for c in cols))
    return "\n".join(lines)


class Operations(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()

    def test_per_policy_counters_in_prometheus(self):
        with self.h.envoy(BUNDLE) as envoy:
            sent = [(WEB, "GET", "/items/1", 200)] * 3 + [(WEB, "GET", "/admin", 403)] * 2 \
                + [(EVIL, "GET", "/items", 403)] * 4 + [(WEB, "DELETE", "/items/9", 200)]
            for who, method, path, want in sent:
                self.assertEqual(envoy.request(who, method, path).status, want, (who, method, path))
            counts = prometheus(envoy)
            exposition = envoy.admin("/stats/prometheus")
            log = envoy.read_log()
        # What an operator runs: the table `linkerd viz authz` shows, from the same endpoint.
        table = subprocess.run([str(CLI), "authz"], input=exposition, capture_output=True, text=True, check=True).stdout
        print("\n" + table)
        self.assertRegex(table, r"istio +AuthorizationPolicy shop/deny-evil +0 +4 +100.0 +0 +0")
        self.assertRegex(table, r"istio +AuthorizationPolicy shop/allow-web +4 +0 +0.0 +0 +0")
        want = {
            ("spiffe_authz_policy_allowed", "AuthorizationPolicy", "shop", "allow-web"): 4,
            ("spiffe_authz_policy_denied", "default", "-", "deny"): 2,
            ("spiffe_authz_policy_denied", "AuthorizationPolicy", "shop", "deny-evil"): 4,
            # The dry-run DENY matched the DELETE (forwarded all the same) ...
            ("spiffe_authz_policy_dry_run_denied", "AuthorizationPolicy", "shop", "deny-delete"): 1,
            # ... and, like Envoy's shadow rules, let every other request through.
            ("spiffe_authz_policy_dry_run_allowed", "default", "-", "allow"): 9,
        }
        self.assertEqual(counts, want)
        self.assertIn("dry-run deny (not enforced)", log)
        self.assertIn("deny-delete", log)

    def test_dry_run_bundle_forwards_and_counts(self):
        path = ROOT / "policies/istio/dry-run-mode.cases.json"
        cf = json.loads(path.read_text())
        with self.h.envoy(cf["bundle"], require_client_cert=False) as envoy:
            for case in cf["cases"]:
                r = envoy.request(case.get("principal"), case.get("method", "GET"), case.get("path", "/"))
                want = 200 if case.get("allowed", case["expect"] == "allow") else 403
                self.assertEqual(r.status, want, case["name"])
            counts = prometheus(envoy)
            stats = envoy.stats()
            log = envoy.read_log()
        print("\n" + authz_table(counts))
        denied = sum(1 for c in cf["cases"] if c["expect"] == "deny")
        self.assertEqual(sum(v for (m, *_), v in counts.items() if m == "spiffe_authz_policy_dry_run_denied"), denied)
        self.assertEqual(counts.get(("spiffe_authz_policy_dry_run_denied", "AuthorizationPolicy", "payments",
                                     "deny-refunds-outside-finance")), 1)
        # Nothing is enforced: no per-policy denial, every request forwarded.
        self.assertFalse([k for k in counts if k[0] == "spiffe_authz_policy_denied"])
        self.assertEqual(stats.get("spiffe_authz.denied", 0), 0)
        self.assertEqual(stats.get("spiffe_authz.allowed"), len(cf["cases"]))
        self.assertEqual(stats.get("spiffe_authz.dry_run_denied"), denied)
        self.assertIn("dry-run deny (not enforced)", log)

    def test_config_counters(self):
        with self.h.envoy(BUNDLE) as envoy:
            stats = envoy.stats()
        self.assertGreaterEqual(stats.get("spiffe_authz.config_loaded", 0), 1)
        self.assertEqual(stats.get("spiffe_authz.config_rejected", 0), 0)


if __name__ == "__main__":
    unittest.main()

"""The compact bundle form through real Envoy: a bundle gzip-compressed and base64-encoded by
Python's own gzip and base64 modules (not by spiffe-authz), inline and by ECDS, decides as the
plain bundle; the 100,000-principal benchmark bundle travels in 240 KB; a zip bomb is refused
with an error naming the limit while the previous bundle keeps serving.
"""
import base64
import gzip
import json
import sys
import unittest

from ecds import EcdsEnvoy
from harness import ROOT, Harness

sys.path.insert(0, str(ROOT / "bench"))
import bundles  # noqa: E402  (bench/bundles.py: the benchmark's bundles)

FRONTEND = "spiffe://cluster.local/ns/myapp/sa/frontend-sa"


def compact(text):
    """`gzip -c | base64` in the JSON envelope (README "Istio (WasmPlugin)")."""
    data = base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode()
    return json.dumps({"encoding": "gzip+base64", "data": data})


class Compact(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()

    def test_inline_compact_bundle_decides_as_the_plain_one(self):
        plain = (ROOT / "policies/istio/seed-001-backend.json").read_text()
        with self.h.envoy(compact(plain)) as envoy:
            self.assertEqual(envoy.request(FRONTEND, "GET", "/api/profile").status, 200)
            r = envoy.request(FRONTEND, "POST", "/api/profile")
            self.assertEqual(r.status, 403)
            log = envoy.read_log()
        self.assertRegex(log, r"spiffe-authz: bundle loaded \(\d+ bytes")

    def test_the_100000_principal_bundle_by_ecds_and_a_zip_bomb_refused(self):
        big = json.dumps(bundles.istio(100_000, 10))
        form = compact(big)
        self.assertLess(len(form), 400_000, f"{len(big)} bytes of JSON, {len(form)} compact")
        caller = bundles.caller("istio")
        path = bundles.request_path(10)
        with EcdsEnvoy(self.h, form, require_client_cert=False) as envoy:
            self.assertEqual(envoy.request(caller, "GET", path).status, 200)
            self.assertEqual(envoy.request("spiffe://cluster.local/ns/bench/sa/intruder", "GET", path).status, 403)
            fails = envoy.ecds_stats().get("config_fail", 0)
            bomb = json.dumps({"encoding": "gzip+base64",
                               "data": base64.b64encode(gzip.compress(b" " * (40 << 20))).decode()})
            self.assertLess(len(bomb), 100_000)
            envoy.push(bomb, validate=False)
            self.assertIsNotNone(envoy.wait_ecds("config_fail", fails), envoy.read_log())
            self.assertIn("expands to more than 33554432 bytes", envoy.wait_for_log("bundle rejected") or envoy.read_log())
            # The previous bundle serves on.
            self.assertEqual(envoy.request(caller, "GET", path).status, 200)


if __name__ == "__main__":
    unittest.main()

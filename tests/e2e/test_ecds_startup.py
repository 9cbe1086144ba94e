"""ECDS start-up: Envoy rendered from envoy/ecds.yaml (by envoy/render.py) starts before any
bundle was pushed and refuses every request until the first valid push, whatever the watched
directory holds at start-up (nothing yet, or a bundle Envoy rejects).

The mechanism (envoy/ecds.yaml): `default_config` is the filter with a bundle of no resources
(settings.defaultAction: deny), `apply_default_config_without_warming: true` lets the listener
serve with it instead of waiting, and the renderer creates the watched file Envoy's file
subscription needs at start-up.
"""
import json
import subprocess
import sys
import tempfile
import unittest

from ecds import CLI, EcdsEnvoy
from harness import ROOT, WASM, Harness

FRONTEND = "spiffe://cluster.local/ns/myapp/sa/frontend-sa"
BUNDLE = "policies/istio/seed-001-backend.json"


class EcdsStartup(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()

    def assert_refuses_everything(self, envoy):
        for who, path in ((FRONTEND, "/api/profile"), (None, "/"), (FRONTEND, "/anything")):
            r = envoy.request(who, path=path)
            self.assertEqual(r.status, 403, f"{who} {path}: {r}")
            self.assertEqual(r.headers.get("x-spiffe-authz"), "denied")
            self.assertEqual(r.text.strip(), "RBAC: access denied")

    def assert_first_push_takes_over(self, envoy):
        before = envoy.ecds_stats().get("config_reload", 0)
        envoy.push(BUNDLE)
        self.assertIsNotNone(envoy.wait_ecds("config_reload", before), envoy.read_log())
        # Workers pick the new configuration up asynchronously.
        for _ in range(50):
            if envoy.request(FRONTEND, path="/api/profile").status == 200:
                break
        self.assertEqual(envoy.request(FRONTEND, path="/api/profile").status, 200)
        r = envoy.request(FRONTEND, method="POST", path="/api/profile")
        self.assertEqual(r.status, 403)

    def test_starts_with_nothing_pushed_and_refuses_until_the_first_push(self):
        with EcdsEnvoy(self.h, None, require_client_cert=False) as envoy:
            self.assertTrue((envoy.ecds_dir / "spiffe_authz.json").exists(), "the renderer wrote the first file")
            self.assertEqual(envoy.ecds_stats().get("config_fail", 0), 0, envoy.read_log())
            self.assert_refuses_everything(envoy)
            self.assert_first_push_takes_over(envoy)

    def test_a_first_bundle_envoy_rejects_still_starts_and_refuses(self):
        broken = json.loads((ROOT / BUNDLE).read_text())
        broken["resources"][0]["spec"]["rules"][0]["from"][0]["source"]["principal"] = ["x"]
        with EcdsEnvoy(self.h, broken, first_push_validate=False, require_client_cert=False) as envoy:
            self.assertGreaterEqual(envoy.ecds_stats().get("config_fail", 0), 1, envoy.read_log())
            self.assertIn("spec.rules[0].from[0].source.principal", envoy.read_log())
            self.assert_refuses_everything(envoy)
            self.assert_first_push_takes_over(envoy)

    def test_the_renderer_is_a_command(self):
        with tempfile.TemporaryDirectory(dir=self.h.dir) as d:
            certs = self.h.pki.ca.parent
            out = subprocess.run(
                [sys.executable, str(ROOT / "envoy" / "render.py"), "--ecds-dir", f"{d}/ecds", "--certs", str(certs),
                 "--wasm", str(WASM), "--cli", str(CLI)],
                capture_output=True, text=True, check=True,
            ).stdout
            self.assertIn("apply_default_config_without_warming: true", out)
            self.assertIn(f'path: "{d}/ecds/spiffe_authz.json"', out)
            pushed = json.loads(open(f"{d}/ecds/spiffe_authz.json").read())
            config = pushed["resources"][0]["typed_config"]["config"]
            self.assertEqual(json.loads(config["configuration"]["value"]),
                             {"settings": {"defaultAction": "deny"}, "resources": []})
            static = subprocess.run(
                [sys.executable, str(ROOT / "envoy" / "render.py"), "--bundle", str(ROOT / BUNDLE),
                 "--certs", str(certs)], capture_output=True, text=True, check=True,
            ).stdout
            self.assertIn("allow-frontend-get-profile", static)


if __name__ == "__main__":
    unittest.main()

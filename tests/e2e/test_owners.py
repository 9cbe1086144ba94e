"""The owners' own tests (tests/owners/**/*.json) through a real Envoy, with real certificates.

The same suites run natively and in a wasm VM (tests/owners.rs). Here every group whose bundle
the owner accepts becomes a listener (40 per Envoy) and each of its request cases a real HTTPS or
gRPC request; cases with `port`, `sourceIp`, `jwt` or `"e2e": false` are skipped (loopback cannot
reproduce them). Groups the owner refuses are checked natively only.
"""
import json
import unittest

from harness import Harness, ROOT, owner_suites


def loadable_groups():
    """[(label, bundle, cases)] of every group expected to load."""
    items = []
    for path in owner_suites():
        suite = json.loads(path.read_text())
        for g in suite["groups"]:
            if g.get("load", "ok") != "ok":
                continue
            cases = [c for c in g.get("cases", []) if "jwt" not in c]
            label = f"{path.relative_to(ROOT)} [{g['name']}]"
            items.append((label, g["bundle"], cases))
    return items


class OwnerSuites(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()

    def test_every_owner_case_through_envoy(self):
        results = self.h.run_bundles(loadable_groups())
        ran = 0
        for label, failures in results.items():
            ran += 1
            with self.subTest(group=label):
                self.assertEqual(failures, [])
        print(f"\nowner suites through Envoy: {ran} groups with request cases")


if __name__ == "__main__":
    unittest.main()

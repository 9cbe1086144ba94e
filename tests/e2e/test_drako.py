"""Drako in a real Envoy: the seed-000 scenario (a ClientGroup of SPIFFE IDs bound to my-service-sa
with clientAuthenticationModes [SpiffeId] and authenticationMode None), with real client
certificates for service-foo, service-bar and an outsider; the headers Drako injects and strips,
checked at the echo backend.

The cases files of policies/drako/ run through Envoy in test_cases.py, with every other file.
"""
import copy
import json
import pathlib
import unittest

from harness import Harness, ROOT

FOO = "spiffe://cluster.local/ns/foo-namespace/sa/service-foo"
BAR = "spiffe://cluster.local/ns/bar-namespace/sa/service-bar"
OUTSIDER = "spiffe://cluster.local/ns/outsider-namespace/sa/outsider"
SEED = "policies/drako/seed-000-client-group.json"
BINDING = "DrakoPolicyBinding my-namespace/spiffe-access-binding"


def client_ids(spiffe_id):
    return json.dumps([{"type": "SpiffeId", "value": spiffe_id}], separators=(",", ":"))


def seed_with_client_ids():
    """The seed bundle, its binding extended with injectHeaders: [{type: ClientIds}]."""
    b = json.loads((ROOT / SEED).read_text())
    b = copy.deepcopy(b)
    for r in b["resources"]:
        if r["kind"] == "DrakoPolicyBinding":
            r["spec"]["injectHeaders"] = [{"type": "ClientIds"}]
    return b


SPOOFED = [("x-user-id", "admin"), ("X-Drako-Foo", "1"), ("x-drako-client-ids", client_ids(OUTSIDER)),
           ("x-email", "admin@example.com")]


class SeedScenario(unittest.TestCase):
    """The seed verbatim; client certificates optional so an anonymous client reaches the filter."""

    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()
        cls.envoy = cls.h.envoy(SEED, require_client_cert=False).start()

    @classmethod
    def tearDownClass(cls):
        cls.envoy.stop()

    def test_listed_services_are_allowed_as_anonymous_users(self):
        for who in (FOO, BAR):
            r = self.envoy.request(who, "GET", "/orders")
            self.assertEqual(r.status, 200, f"{who}: {r.text}")
            self.assertEqual(r.echo["headers"].get("x-user-id"), "anonymous")
            self.assertNotIn("x-drako-client-ids", r.echo["headers"], "no injectHeaders in the seed")

    def test_outsider_is_denied_naming_the_binding(self):
        before = len(self.h.echo.received)
        r = self.envoy.request(OUTSIDER, "GET", "/orders")
        self.assertEqual(r.status, 403)
        self.assertIn(BINDING, r.text)
        self.assertEqual(len(self.h.echo.received), before, "a denied request never reaches the app")

    def test_no_client_certificate_is_denied(self):
        r = self.envoy.request(None, "GET", "/orders")
        self.assertEqual(r.status, 403)
        self.assertIn(BINDING, r.text)

    def test_spoofed_drako_headers_never_reach_the_app(self):
        r = self.envoy.request(FOO, "GET", "/orders", headers=SPOOFED)
        self.assertEqual(r.status, 200, r.text)
        seen = r.echo["headers"]
        self.assertEqual(seen.get("x-user-id"), "anonymous")
        for name in ("x-drako-foo", "x-drako-client-ids", "x-email"):
            self.assertNotIn(name, seen)

    def test_spoofed_headers_do_not_help_an_outsider(self):
        r = self.envoy.request(OUTSIDER, "GET", "/orders", headers=SPOOFED)
        self.assertEqual(r.status, 403)


class InjectedClientIds(unittest.TestCase):
    """The seed with injectHeaders: [{type: ClientIds}] on its binding."""

    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()
        cls.envoy = cls.h.envoy(seed_with_client_ids()).start()

    @classmethod
    def tearDownClass(cls):
        cls.envoy.stop()

    def test_client_ids_name_the_authenticated_spiffe_id(self):
        for who in (FOO, BAR):
            r = self.envoy.request(who, "POST", "/orders", body="{}")
            self.assertEqual(r.status, 200, f"{who}: {r.text}")
            self.assertEqual(r.echo["headers"].get("x-user-id"), "anonymous")
            self.assertEqual(json.loads(r.echo["headers"]["x-drako-client-ids"]),
                             [{"type": "SpiffeId", "value": who}])

    def test_a_spoofed_client_ids_header_is_replaced(self):
        r = self.envoy.request(FOO, "GET", "/", headers=SPOOFED)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.echo["headers"].get("x-drako-client-ids"), client_ids(FOO))
        self.assertNotIn("x-drako-foo", r.echo["headers"])

    def test_outsider_is_denied(self):
        self.assertEqual(self.envoy.request(OUTSIDER, "GET", "/").status, 403)


class DrakoCaseFiles(unittest.TestCase):
    """policies/drako/*.cases.json through Envoy (test_cases.py runs them too, with all others)."""

    def test_drako_cases(self):
        h = Harness.shared()
        for path in sorted(pathlib.Path(ROOT / "policies/drako").glob("*.cases.json")):
            with self.subTest(path=path.name):
                self.assertEqual(h.run_case_file(path), [])


if __name__ == "__main__":
    unittest.main()

"""The decision in Envoy's access log (envoy/envoy.yaml's access_log): every refusal names its
deciding resource and rule in %RESPONSE_CODE_DETAILS% (the local reply's details, which the
filter passes through the Proxy-Wasm ABI) and in the filter state wasm.spiffe_authz.decision;
allowed requests do too with settings.accessLog: all, and only then.
"""
import re
import unittest

import grpc

from harness import Harness

NS = "shop"
WEB = f"spiffe://cluster.local/ns/{NS}/sa/web"
OTHER = f"spiffe://cluster.local/ns/{NS}/sa/other"
LINE = re.compile(r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<code>\d+) (?P<details>\S+) peer=(?P<peer>\S+) '
                  r'decision=(?P<decision>\S+)')


def bundle(access_log=None):
    settings = {"accessLog": access_log} if access_log else {}
    return {
        "workload": {"namespace": NS},
        "settings": settings,
        "resources": [
            {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "deny-admin", "namespace": NS},
             "spec": {"action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/admin*"]}}]}]}},
            {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "allow-web", "namespace": NS},
             "spec": {"rules": [{"from": [{"source": {"principals": [f"cluster.local/ns/{NS}/sa/web"]}}]}]}},
        ],
    }


class AccessLog(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()

    def access_line(self, envoy, path):
        """The access log line of the (one) request to `path`. Call after Envoy stopped: Envoy
        writes access logs every --file-flush-interval-msec (10 s by default), and on exit."""
        line = next((l for l in envoy.read_log().splitlines() if f" {path} HTTP" in l), None)
        self.assertIsNotNone(line, envoy.read_log()[-3000:])
        m = LINE.search(line)
        self.assertIsNotNone(m, line)
        return m

    def test_refusals_name_their_rule_allowed_requests_only_when_asked(self):
        with self.h.envoy(bundle()) as envoy:
            self.assertEqual(envoy.request(WEB, "GET", "/admin/deny-rule").status, 403)
            self.assertEqual(envoy.request(OTHER, "GET", "/default-deny").status, 403)
            self.assertEqual(envoy.request(WEB, "GET", "/allowed").status, 200)
            self.assertEqual(envoy.request(WEB, "GET", "/%zz").status, 400)
        rule = self.access_line(envoy, "/admin/deny-rule")
        expected = "spiffe_authz:deny:istio:AuthorizationPolicy:shop/deny-admin:0"
        self.assertEqual((rule["code"], rule["details"], rule["decision"]), ("403", expected, expected))
        self.assertEqual(rule["peer"], WEB)
        default = self.access_line(envoy, "/default-deny")
        self.assertEqual(default["details"], "spiffe_authz:deny:istio:default:-/deny:-")
        allowed = self.access_line(envoy, "/allowed")
        self.assertEqual((allowed["code"], allowed["decision"]), ("200", "-"), "not asked for")
        bad = self.access_line(envoy, "/%zz")
        self.assertEqual((bad["code"], bad["details"]), ("400", "spiffe_authz:bad-request:path"))

    def test_settings_access_log_all_records_allowed_requests(self):
        with self.h.envoy(bundle("all")) as envoy:
            self.assertEqual(envoy.request(WEB, "GET", "/allowed-all").status, 200)
            self.assertEqual(envoy.request(OTHER, "GET", "/denied-all").status, 403)
        allowed = self.access_line(envoy, "/allowed-all")
        self.assertEqual(allowed["decision"], "spiffe_authz:allow:istio:AuthorizationPolicy:shop/allow-web:0")
        self.assertEqual(allowed["details"], "via_upstream")
        denied = self.access_line(envoy, "/denied-all")
        self.assertEqual(denied["decision"], "spiffe_authz:deny:istio:default:-/deny:-")

    def test_grpc_refusals_carry_the_details_too(self):
        with self.h.envoy(bundle()) as envoy:
            code = envoy.grpc_call(WEB, "/admin.Svc/Reset")
            self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)
        line = self.access_line(envoy, "/admin.Svc/Reset")
        self.assertEqual(line["details"], "spiffe_authz:deny:istio:AuthorizationPolicy:shop/deny-admin:0")


if __name__ == "__main__":
    unittest.main()

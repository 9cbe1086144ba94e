"""Dapr access control in a real Envoy: HTTP and gRPC callers with Dapr SPIFFE IDs
(spiffe://<trustDomain>/ns/<namespace>/<appId>) as client-certificate URI SANs.

The cases files under policies/dapr/ run through Envoy in test_cases.py; this file checks what
they cannot: what the application receives, the deny body, and a real grpcio client calling a
real gRPC method name.
"""
import unittest

import grpc

from harness import Harness

APP1 = "spiffe://public/ns/default/app1"
APP2 = "spiffe://public/ns/default/app2"

# Scenario 3 of the Dapr docs, with a gRPC method name for app2 (trust domain mydomain, ns1).
BUNDLE = {
    "workload": {"namespace": "default", "appId": "myapp", "trustDomain": "public"},
    "resources": [{
        "apiVersion": "dapr.io/v1alpha1", "kind": "Configuration",
        "metadata": {"name": "appconfig", "namespace": "default"},
        "spec": {"accessControl": {
            "defaultAction": "deny", "trustDomain": "public",
            "policies": [
                {"appId": "app1", "defaultAction": "deny", "trustDomain": "public", "namespace": "default",
                 "operations": [
                     {"name": "/op1", "httpVerb": ["POST", "PUT"], "action": "allow"},
                     {"name": "/helloworld.Greeter/SayHello", "action": "allow"},
                 ]},
                {"appId": "app2", "defaultAction": "deny", "trustDomain": "mydomain", "namespace": "ns1",
                 "operations": [{"name": "/op2/*", "action": "allow"}]},
            ],
        }},
    }],
}


class DaprInEnvoy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()
        cls.envoy = cls.h.envoy(BUNDLE, require_client_cert=False).start()

    @classmethod
    def tearDownClass(cls):
        cls.envoy.stop()

    def test_http_verbs_of_an_operation(self):
        r = self.envoy.request(APP1, "POST", "/op1")
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.echo["path"], "/op1")
        self.assertEqual(self.envoy.request(APP1, "PUT", "/OP1").status, 200)
        r = self.envoy.request(APP1, "GET", "/op1")
        self.assertEqual(r.status, 403)
        self.assertIn("Configuration default/appconfig", r.text)

    def test_http_callers(self):
        self.assertEqual(self.envoy.request(APP2, "POST", "/op1").status, 403)
        self.assertEqual(self.envoy.request(None, "POST", "/op1").status, 403)
        # Malformed for Dapr (no app id): refused.
        self.assertEqual(self.envoy.request("spiffe://public/ns/default", "POST", "/op1").status, 403)

    def test_http_paths_are_cleaned_and_traversal_refused(self):
        r = self.envoy.request(APP1, "POST", "/x/../op1")
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.echo["path"], "/op1")  # the app gets the path that was decided on
        for path in ("/op1%23x", "/x%2F..%2Fop1"):
            self.assertIn(self.envoy.request(APP1, "POST", path).status, (400, 403), path)

    def test_grpc_uses_the_operation_action_case_sensitively(self):
        call = self.envoy.grpc_call
        self.assertEqual(call(APP1, "/helloworld.Greeter/SayHello"), grpc.StatusCode.OK)
        self.assertEqual(call(APP1, "/helloworld.Greeter/SayBye"), grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(call(APP1, "/helloworld.greeter/sayhello"), grpc.StatusCode.PERMISSION_DENIED)
        # Over gRPC the verbs of /op1 are ignored: its action (allow) decides.
        self.assertEqual(call(APP1, "/op1"), grpc.StatusCode.OK)
        self.assertEqual(call(APP2, "/helloworld.Greeter/SayHello"), grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(call(None, "/helloworld.Greeter/SayHello"), grpc.StatusCode.PERMISSION_DENIED)

    def test_grpc_caller_in_another_trust_domain_and_namespace(self):
        app2 = "spiffe://mydomain/ns/ns1/app2"
        code, details, resp = self.envoy.grpc_call_full(app2, "/op2/Anything")
        self.assertEqual(code, grpc.StatusCode.OK, details)
        self.assertEqual(resp, b"ping")
        self.assertEqual(self.envoy.grpc_call(app2, "/op3/Anything"), grpc.StatusCode.PERMISSION_DENIED)
        # Same app id and namespace, wrong trust domain: the policy is ignored (global deny).
        self.assertEqual(self.envoy.grpc_call("spiffe://public/ns/ns1/app2", "/op2/Anything"),
                         grpc.StatusCode.PERMISSION_DENIED)


if __name__ == "__main__":
    unittest.main()

"""What a user relies on when the filter runs in a real Envoy with real mTLS.

Each test class starts the Envoys it needs (about a second each: V8 compiles the module).
"""
import json
import time
import unittest

import grpc

from harness import Harness, EnvoyFailed

FRONTEND = "spiffe://cluster.local/ns/myapp/sa/frontend-sa"
ADMIN = "spiffe://cluster.local/ns/myapp/sa/admin-sa"
OTHER = "spiffe://cluster.local/ns/myapp/sa/other-sa"
SEED = "policies/istio/seed-001-backend.json"


def policy(name, spec, namespace="myapp", annotations=None, version="v1"):
    md = {"name": name, "namespace": namespace}
    if annotations:
        md["annotations"] = annotations
    return {"apiVersion": f"security.istio.io/{version}", "kind": "AuthorizationPolicy", "metadata": md,
            "spec": spec}


def bundle(*resources, workload=None, settings=None):
    b = {"resources": list(resources)}
    if workload is not None:
        b["workload"] = workload
    if settings is not None:
        b["settings"] = settings
    return b


class RequiredClientCertificates(unittest.TestCase):
    """envoy/envoy.yaml as shipped: client certificates required; the seed-001 bundle (and, on a
    second listener, a bundle with a DENY policy)."""

    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()
        cls.envoy = cls.h.envoy(SEED, extra_bundles=[bundle(
            policy("allow-all", {"rules": [{}]}),
            policy("deny-admin", {"action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/admin/*"]}}]}]}),
            workload={"namespace": "myapp"},
        ), bundle(
            policy("allow-loopback", {"rules": [{"from": [{"source": {"ipBlocks": ["127.0.0.1/32"],
                                                                      "remoteIpBlocks": ["127.0.0.1/32"]}}]}]}),
            policy("deny-tennet", {"action": "DENY", "rules": [{"from": [{"source": {"remoteIpBlocks": ["10.0.0.0/8"]}}]}]}),
            workload={"namespace": "myapp"},
        )]).start()

    @classmethod
    def tearDownClass(cls):
        cls.envoy.stop()

    def test_allowed_identity_reaches_the_backend(self):
        before = len(self.h.echo.received)
        r = self.envoy.request(FRONTEND, "GET", "/api/profile?x=1")
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.echo["method"], "GET")
        self.assertEqual(r.echo["path"], "/api/profile?x=1", "the backend gets the query string untouched")
        self.assertEqual(len(self.h.echo.received), before + 1)

    def test_other_identity_gets_403_with_the_documented_body(self):
        before = len(self.h.echo.received)
        r = self.envoy.request(OTHER, "GET", "/api/profile")
        self.assertEqual(r.status, 403)
        self.assertEqual(r.text, "RBAC: access denied\n")
        self.assertEqual(r.headers.get("x-spiffe-authz"), "denied")
        self.assertEqual(len(self.h.echo.received), before, "a denied request never reaches the backend")

    def test_deny_body_names_the_deciding_policy(self):
        envoy = self.envoy.listener(1)
        r = envoy.request(FRONTEND, "GET", "/admin/x")
        self.assertEqual((r.status, r.text), (403, "RBAC: access denied by AuthorizationPolicy myapp/deny-admin\n"))
        self.assertEqual(envoy.request(FRONTEND, "GET", "/public").status, 200)

    def test_x_forwarded_for_cannot_choose_the_source_ip(self):
        # use_remote_address: true, xff_num_trusted_hops: 0 (envoy/envoy.yaml)
        envoy = self.envoy.listener(2)
        self.assertEqual(envoy.request(OTHER, "GET", "/x").status, 200)
        self.assertEqual(envoy.request(OTHER, "GET", "/x", headers=[("x-forwarded-for", "10.1.2.3")]).status, 200)

    def test_no_client_certificate_is_refused_by_tls(self):
        with self.assertRaises((OSError, ConnectionError)):
            self.envoy.request(None, "GET", "/api/profile")

    def test_one_info_line_per_denial_without_header_values_or_query(self):
        self.envoy.request(ADMIN, "DELETE", "/api/profile?token=s3cr3t-query", headers=[("x-secret", "s3cr3t-header")])
        line = self.envoy.wait_for_log("spiffe-authz deny:")
        deadline = time.monotonic() + 5
        while "DELETE" not in (line or "") and time.monotonic() < deadline:
            time.sleep(0.05)
            line = next((l for l in self.envoy.read_log().splitlines()
                         if "spiffe-authz deny:" in l and "method=DELETE" in l), None)
        self.assertIsNotNone(line)
        self.assertIn("[info][wasm]", line)
        for want in ("dialect=istio", 'policy="-"', "rule=-", f"peer={ADMIN}", "method=DELETE", "path=/api/profile "):
            self.assertIn(want, line)
        log = self.envoy.read_log()
        self.assertNotIn("s3cr3t-header", log)
        self.assertNotIn("s3cr3t-query", log)

    def test_escaped_slashes_are_rejected_by_envoy(self):
        # path_with_escaped_slashes_action: REJECT_REQUEST (envoy/envoy.yaml)
        self.assertEqual(self.envoy.request(FRONTEND, "GET", "/api%2Fprofile").status, 400)

    def test_dot_segments_and_slashes_are_normalized_before_the_policy(self):
        r = self.envoy.request(FRONTEND, "GET", "/api/x/../profile")
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.echo["path"], "/api/profile")
        self.assertEqual(self.envoy.request(FRONTEND, "GET", "//api///profile").status, 200)
        self.assertEqual(self.envoy.request(OTHER, "GET", "/api/x/../profile").status, 403)

    def test_stats_show_the_filter_ran(self):
        before = self.envoy.stats()
        self.envoy.request(FRONTEND, "GET", "/api/profile")
        self.envoy.request(OTHER, "GET", "/api/profile")
        after = self.envoy.stats()
        self.assertEqual(after["spiffe_authz.allowed"], before["spiffe_authz.allowed"] + 1)
        self.assertEqual(after["spiffe_authz.denied"], before["spiffe_authz.denied"] + 1)
        self.assertGreaterEqual(after["spiffe_authz.config_loaded"], 1)
        self.assertEqual(after["spiffe_authz.config_rejected"], 0)
        for name in ("spiffe_authz.dry_run_denied", "spiffe_authz.bad_request"):
            self.assertIn(name, after)
        prom = self.envoy.admin("/stats/prometheus")
        self.assertIn("spiffe_authz_allowed", prom)


class OptionalClientCertificates(unittest.TestCase):
    """A listener that lets clients without a certificate reach the filter."""

    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()
        cls.envoy = cls.h.envoy(SEED, require_client_cert=False).start()

    @classmethod
    def tearDownClass(cls):
        cls.envoy.stop()

    def test_no_certificate_is_denied(self):
        self.assertEqual(self.envoy.request(None, "GET", "/api/profile").status, 403)

    def test_non_spiffe_uri_san_is_denied(self):
        r = self.envoy.request("https://frontend.example.com/ns/myapp/sa/frontend-sa", "GET", "/api/profile")
        self.assertEqual(r.status, 403)
        line = self.envoy.wait_for_log("peer=unauthenticated")
        self.assertIsNotNone(line, "a non-SPIFFE URI SAN is an unauthenticated peer")

    def test_spiffe_certificate_still_works(self):
        self.assertEqual(self.envoy.request(FRONTEND, "GET", "/api/profile").status, 200)


class Grpc(unittest.TestCase):
    """A real grpcio client through Envoy to a real gRPC backend."""

    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()
        cls.envoy = cls.h.envoy(bundle(
            policy("allow-frontend-greeter", {"rules": [{
                "from": [{"source": {"principals": ["cluster.local/ns/myapp/sa/frontend-sa"]}}],
                "to": [{"operation": {"paths": ["/demo.Greeter/*"]}}]}]}),
            workload={"namespace": "myapp"},
        )).start()

    @classmethod
    def tearDownClass(cls):
        cls.envoy.stop()

    def test_allowed_call_is_answered_by_the_backend(self):
        code, _, resp = self.envoy.grpc_call_full(FRONTEND, "/demo.Greeter/Hello", request=b"hi")
        self.assertEqual(code, grpc.StatusCode.OK)
        self.assertEqual(resp, b"hi")
        self.assertIn("/demo.Greeter/Hello", self.h.grpc.calls)

    def test_denied_call_gets_permission_denied(self):
        code, details, _ = self.envoy.grpc_call_full(OTHER, "/demo.Greeter/Hello")
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(details, "RBAC: access denied")

    def test_other_method_is_denied(self):
        self.assertEqual(self.envoy.grpc_call(FRONTEND, "/demo.Admin/Reset"), grpc.StatusCode.PERMISSION_DENIED)


class RefusedBundles(unittest.TestCase):
    """A bundle that does not parse or validate: Envoy refuses it; nothing serves."""

    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()

    def assertRefused(self, b, *needles):
        envoy = self.h.envoy(b)
        with self.assertRaises(EnvoyFailed) as ctx:
            envoy.start()
        envoy.stop()
        log = ctx.exception.log
        line = next((l for l in log.splitlines() if "spiffe-authz: bundle rejected:" in l), None)
        self.assertIsNotNone(line, log[-3000:])
        for n in needles:
            self.assertIn(n, line)
        self.assertIn("Unable to create Wasm", log)
        self.assertIsNone(envoy.port, "the listener never served")
        return line

    def test_unknown_field_names_resource_and_field(self):
        self.assertRefused(
            bundle(policy("allow-frontend", {"rules": [{"to": [{"operation": {"method": ["GET"]}}]}]}),
                   workload={"namespace": "myapp"}),
            "resources[0]", "AuthorizationPolicy myapp/allow-frontend", "spec.rules[0].to[0].operation",
        )

    def test_custom_action_is_refused(self):
        self.assertRefused(
            bundle(policy("ext", {"action": "CUSTOM", "provider": {"name": "x"}, "rules": [{}]}, version="v1beta1"),
                   workload={"namespace": "myapp"}),
            "AuthorizationPolicy myapp/ext",
        )

    def test_not_json(self):
        self.assertRefused("{not json", "bundle")


class DryRun(unittest.TestCase):
    """Listener 0: an enforced bundle with a dry-run DENY policy; listener 1: a dry-run bundle."""

    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()
        cls.envoy = cls.h.envoy(bundle(
            policy("allow-all", {"rules": [{}]}),
            policy("deny-other", {"action": "DENY", "rules": [{"from": [{"source": {"principals": [OTHER[9:]]}}]}]},
                   annotations={"istio.io/dry-run": "true"}),
            workload={"namespace": "myapp"},
        ), extra_bundles=[bundle(
            policy("allow-frontend", {"rules": [{"from": [{"source": {"principals": [FRONTEND[9:]]}}]}]}),
            workload={"namespace": "myapp"}, settings={"mode": "dry-run"},
        )]).start()

    @classmethod
    def tearDownClass(cls):
        cls.envoy.stop()

    def test_dry_run_policy_is_logged_and_counted_never_enforced(self):
        before = self.envoy.stats()
        r = self.envoy.request(OTHER, "GET", "/x")
        self.assertEqual(r.status, 200)
        after = self.envoy.stats()
        self.assertEqual(after["spiffe_authz.dry_run_denied"], before["spiffe_authz.dry_run_denied"] + 1)
        line = self.envoy.wait_for_log('dry-run deny (not enforced): dialect=istio policy="AuthorizationPolicy '
                                       'myapp/deny-other" rule=0')
        self.assertIsNotNone(line)
        self.assertIn("[info][wasm]", line)

    def test_dry_run_bundle_forwards_what_it_would_deny(self):
        before = self.envoy.stats()
        self.assertEqual(self.envoy.listener(1).request(OTHER, "GET", "/y").status, 200)
        after = self.envoy.stats()
        self.assertEqual(after["spiffe_authz.dry_run_denied"], before["spiffe_authz.dry_run_denied"] + 1)
        self.assertEqual(after["spiffe_authz.denied"], before["spiffe_authz.denied"])


class NodeMetadata(unittest.TestCase):
    """A bundle without workload namespace/labels learns them from Istio's node metadata
    (xds.node.metadata NAMESPACE, SERVICE_ACCOUNT, LABELS), as a mesh-wide push does."""

    BUNDLE = bundle(
        policy("allow-frontend", {"selector": {"matchLabels": {"app": "backend"}},
                                  "rules": [{"from": [{"source": {"principals": [FRONTEND[9:]]}}]}]}),
        # Applies only to namespace "elsewhere": must not let other-sa in here.
        policy("allow-everyone", {"rules": [{}]}, namespace="elsewhere"),
    )

    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()

    def test_namespace_and_labels_from_node_metadata_select_policies(self):
        # Listener 1: the same bundle naming its own namespace, which wins over the node's.
        md = {"NAMESPACE": "myapp", "SERVICE_ACCOUNT": "backend-sa", "LABELS": {"app": "backend", "version": "v1"}}
        own = dict(self.BUNDLE, workload={"namespace": "elsewhere"})
        with self.h.envoy(self.BUNDLE, node_metadata=md, extra_bundles=[own]) as envoy:
            self.assertEqual(envoy.request(FRONTEND, "GET", "/x").status, 200)
            self.assertEqual(envoy.request(OTHER, "GET", "/x").status, 403)
            line = envoy.wait_for_log('spiffe-authz: bundle loaded (%d bytes; workload namespace="myapp"'
                                      % len(json.dumps(self.BUNDLE)))
            self.assertIsNotNone(line)
            self.assertIn('namespace="myapp" serviceAccount="backend-sa" labels=2', line)
            # bundle fields win over node metadata
            self.assertIsNotNone(envoy.wait_for_log('namespace="elsewhere" serviceAccount="backend-sa" labels=2'))
            self.assertEqual(envoy.listener(1).request(OTHER, "GET", "/x").status, 200)

    def test_labels_that_do_not_match_the_selector(self):
        # The selector picks app=backend only: for app=frontend no policy applies -> Istio allows.
        md = {"NAMESPACE": "myapp", "LABELS": {"app": "frontend"}}
        with self.h.envoy(self.BUNDLE, node_metadata=md) as envoy:
            self.assertEqual(envoy.request(OTHER, "GET", "/x").status, 200)


if __name__ == "__main__":
    unittest.main()

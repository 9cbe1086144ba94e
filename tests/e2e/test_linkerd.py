"""Linkerd policy in a real Envoy: seed 002 (emojivoto) and the per-route example.

Linkerd selects a Server by the destination port, so each bundle is generated at test time from
the fixture under policies/linkerd/ with the workload's named port set to the Envoy listener
port (the Server objects themselves are the fixture's, unchanged). Two settings adapt Linkerd's
cluster to loopback: the client connects from 127.0.0.1, which is not in Linkerd's default
cluster networks (a ServerAuthorization without `networks` admits only those), and which
Linkerd's proxy would always admit through its built-in `default:localhost` authorization.
"""
import copy
import json
import unittest

import grpc

from harness import ROOT, Harness, free_port

WEB = "spiffe://cluster.local/ns/emojivoto/sa/web"
BOT = "spiffe://cluster.local/ns/emojivoto/sa/vote-bot"
VOTE = "/emojivoto.v1.VotingService/VoteDog"
CLUSTER = ["10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8"]
LOOPBACK = {"authorizeLocalhost": False, "clusterNetworks": CLUSTER + ["127.0.0.0/8", "::1/128"]}


def fixture(name, port_name, port, **linkerd):
    b = json.loads((ROOT / "policies/linkerd" / name).read_text())
    b["workload"]["ports"] = {port_name: port}
    settings = b.setdefault("settings", {})
    settings["linkerd"] = {**settings.get("linkerd", {}), **LOOPBACK, **linkerd}
    return b


class EmojivotoInEnvoy(unittest.TestCase):
    """Seed 002: only web may call the Voting service."""

    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()
        port = free_port()
        cls.envoy = cls.h.envoy(fixture("seed-002-emojivoto.json", "grpc", port), require_client_cert=False,
                                listen_port=port).start()

    @classmethod
    def tearDownClass(cls):
        cls.envoy.stop()

    def test_web_calls_voting_over_grpc(self):
        self.assertEqual(self.envoy.grpc_call(WEB, VOTE), grpc.StatusCode.OK)

    def test_web_over_http(self):
        r = self.envoy.request(WEB, "GET", "/")
        self.assertEqual(r.status, 200, r.text)

    def test_other_identity_gets_403(self):
        r = self.envoy.request(BOT, "POST", VOTE)
        self.assertEqual(r.status, 403, r.text)
        self.assertIn("Server emojivoto/voting-grpc", r.text)

    def test_grpc_client_gets_permission_denied(self):
        code, details, _ = self.envoy.grpc_call_full(BOT, VOTE)
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED, details)
        code, _, _ = self.envoy.grpc_call_full("spiffe://cluster.local/ns/default/sa/default", VOTE)
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)

    def test_no_certificate_is_refused(self):
        self.assertEqual(self.envoy.request(None, "POST", VOTE).status, 403)
        self.assertEqual(self.envoy.grpc_call(None, VOTE), grpc.StatusCode.PERMISSION_DENIED)


class DefaultPolicyInEnvoy(unittest.TestCase):
    """The listener port has no Server (the Server's named port is elsewhere): default policy."""

    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()

    def run_with(self, **linkerd):
        port = free_port()
        b = fixture("seed-002-emojivoto.json", "grpc", port + 1 if port < 65535 else port - 1, **linkerd)
        return self.h.envoy(b, require_client_cert=False, listen_port=port)

    def test_all_unauthenticated_admits_anyone(self):
        with self.run_with() as envoy:
            self.assertEqual(envoy.grpc_call(BOT, VOTE), grpc.StatusCode.OK)
            self.assertEqual(envoy.request(None, "GET", "/").status, 200)

    def test_deny(self):
        with self.run_with(defaultInboundPolicy="deny") as envoy:
            self.assertEqual(envoy.grpc_call(WEB, VOTE), grpc.StatusCode.PERMISSION_DENIED)
            self.assertEqual(envoy.request(WEB, "GET", "/").status, 403)

    def test_cluster_authenticated(self):
        with self.run_with(defaultInboundPolicy="cluster-authenticated") as envoy:
            self.assertEqual(envoy.request(BOT, "GET", "/").status, 200)
            self.assertEqual(envoy.request(None, "GET", "/").status, 403)

    def test_localhost_is_admitted_as_linkerd_does(self):
        # Linkerd's proxy always admits loopback clients; with the setting at its default, so
        # does the filter, even on the Server's port.
        port = free_port()
        b = fixture("seed-002-emojivoto.json", "grpc", port, authorizeLocalhost=True)
        with self.h.envoy(b, require_client_cert=False, listen_port=port) as envoy:
            self.assertEqual(envoy.grpc_call(BOT, VOTE), grpc.StatusCode.OK)


class GrpcRoutesAndAuditInEnvoy(unittest.TestCase):
    """A GRPCRoute on the seed's gRPC Server, authorized per route; then the same Server in
    audit mode."""

    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()

    def bundle(self, port, access=None):
        b = fixture("seed-002-emojivoto.json", "grpc", port)
        server, _saz = b["resources"]
        if access:
            server["spec"]["accessPolicy"] = access
        b["resources"] = [server, {
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "GRPCRoute",
            "metadata": {"namespace": "emojivoto", "name": "vote-dog"},
            "spec": {"parentRefs": [{"group": "policy.linkerd.io", "kind": "Server", "name": "voting-grpc"}],
                     "rules": [{"matches": [{"method": {"service": "emojivoto.v1.VotingService",
                                                        "method": "VoteDog"}}]}]},
        }, {
            "apiVersion": "policy.linkerd.io/v1alpha1", "kind": "AuthorizationPolicy",
            "metadata": {"namespace": "emojivoto", "name": "vote-dog"},
            "spec": {"targetRef": {"group": "gateway.networking.k8s.io", "kind": "GRPCRoute", "name": "vote-dog"},
                     "requiredAuthenticationRefs": [{"kind": "ServiceAccount", "name": "web"}]},
        }]
        return b

    def test_grpc_route(self):
        port = free_port()
        with self.h.envoy(self.bundle(port), require_client_cert=False, listen_port=port) as envoy:
            self.assertEqual(envoy.grpc_call(WEB, VOTE), grpc.StatusCode.OK)
            code, details, _ = envoy.grpc_call_full(BOT, VOTE)
            self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED, details)
            self.assertIn("GRPCRoute emojivoto/vote-dog", details)
            self.assertEqual(envoy.grpc_call(WEB, "/emojivoto.v1.VotingService/VoteCat"), grpc.StatusCode.NOT_FOUND)

    def test_audit_allows_and_reports(self):
        port = free_port()
        with self.h.envoy(self.bundle(port, access="audit"), require_client_cert=False, listen_port=port) as envoy:
            self.assertEqual(envoy.grpc_call(BOT, VOTE), grpc.StatusCode.OK)
            self.assertIsNotNone(envoy.wait_for_log("spiffe-authz dry-run deny (not enforced)"))
            # No route still answers NOT_FOUND: audit only widens authorization.
            self.assertEqual(envoy.grpc_call(BOT, "/emojivoto.v1.VotingService/VoteCat"), grpc.StatusCode.NOT_FOUND)


class PerRouteInEnvoy(unittest.TestCase):
    """policies/linkerd/per-route.json: route authorizations, server-level ones, and the 404."""

    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()
        port = free_port()
        cls.envoy = cls.h.envoy(fixture("per-route.json", "service", port), require_client_cert=False,
                                listen_port=port).start()

    @classmethod
    def tearDownClass(cls):
        cls.envoy.stop()

    def test_routes(self):
        books = "spiffe://cluster.local/ns/booksapp/sa/books"
        webapp = "spiffe://cluster.local/ns/booksapp/sa/webapp"
        admin = "spiffe://cluster.local/ns/booksapp/sa/admin"
        cases = [
            (books, "GET", "/authors.json", 200),
            (webapp, "GET", "/authors/1.json", 200),
            (books, "DELETE", "/authors/1.json", 403),
            (webapp, "DELETE", "/authors/1.json", 200),
            (admin, "DELETE", "/authors/1.json", 200),
            (books, "GET", "/books", 404),
            (admin, "GET", "/admin", 404),
            (None, "GET", "/authors.json", 403),
        ]
        for who, method, path, want in cases:
            with self.subTest(who=who, method=method, path=path):
                r = self.envoy.request(who, method, path)
                self.assertEqual(r.status, want, r.text)
                if want == 200:
                    self.assertEqual(r.echo["path"], path)

    def test_deny_names_the_route(self):
        r = self.envoy.request("spiffe://cluster.local/ns/booksapp/sa/books", "DELETE", "/authors/1.json")
        self.assertIn("HTTPRoute booksapp/authors-modify-route", r.text)


if __name__ == "__main__":
    unittest.main()

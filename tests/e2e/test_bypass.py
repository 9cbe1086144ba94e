"""Bypass attempts through real Envoy, round 2 (issue 12): `;` path parameters, HTTP/2 header
whitespace, duplicate Host, forwarded addresses, identities outside the SPIFFE spec, client-chosen
gRPC, lowercase methods and underscores in header names, against every dialect each applies to.

Every request is written by hand (rawclient: raw HTTP/1.1 bytes or raw HTTP/2 frames over mTLS,
from 127.0.0.2) and tagged `x-attack-id`; the recording backends say which requests reached them
and what they saw (method, path, Host, header lines as received). A request that should have been
refused but reached a backend is a bypass; an allowed one must reach the backend exactly as
expected. Four Envoy configurations, each with one listener per bundle (attack_bundles.py):

  recommended     envoy/envoy.yaml: normalization on, use_remote_address: true, underscores rejected
  xff-trusted     normalization on, use_remote_address: false (Istio's sidecar inbound listener),
                  headers with underscores allowed (Envoy's and Istio sidecars' default)
  norm-off        normalization off, use_remote_address: true, underscores rejected
  envoy-defaults  normalization off, use_remote_address: false, underscores allowed

Expectations: "refused" (400/403/404/426, a gRPC error, or Envoy closing the stream: nothing reaches a
backend), "bad-request" (400, nothing reaches a backend), "allowed" (200, and the backend saw `see`), or a function of the configuration where
the owner's meaning depends on it (remoteIpBlocks and Drako's Origin read the client address
Envoy resolved from X-Forwarded-For when the listener trusts it).

BYPASS_E2E_SUMMARY=FILE writes the figures (requests per configuration and protocol, bypasses).
"""
import itertools
import json
import os
import pathlib
import struct
import unittest

import attack_bundles as B
import rawclient
from harness import Harness, free_port

CONFIGS = {
    "recommended": dict(normalization=True, use_remote_address=True, reject_underscores=True),
    "xff-trusted": dict(normalization=True, use_remote_address=False, reject_underscores=False),
    "norm-off": dict(normalization=False, use_remote_address=True, reject_underscores=True),
    "envoy-defaults": dict(normalization=False, use_remote_address=False, reject_underscores=False),
}
LISTENERS = ["linkerd", "istio-deny", "istio-allow", "drako", "dapr"]

FIGURES = {"requests": 0, "bypasses": 0, "by_config": {}, "by_protocol": {"HTTP/1.1": 0, "HTTP/2": 0}}
ENVOYS = {}
_ids = itertools.count(1)


def setUpModule():
    h = Harness.shared()
    for name, cfg in CONFIGS.items():
        port = free_port()
        bundles = [B.linkerd(port), B.ISTIO_DENY, B.ISTIO_ALLOW, B.DRAKO, B.DAPR]
        ENVOYS[name] = h.envoy(bundles[0], extra_bundles=bundles[1:], listen_port=port,
                               require_client_cert=False, **cfg).start()


def tearDownModule():
    for e in ENVOYS.values():
        e.stop()
    out = os.environ.get("BYPASS_E2E_SUMMARY")
    if out:
        pathlib.Path(out).write_text(json.dumps(FIGURES, indent=2))


def trusts_xff(config):
    return not CONFIGS[config]["use_remote_address"]


def underscores_allowed(config):
    return not CONFIGS[config]["reject_underscores"]


class Attack:
    """One request. `h2`: HTTP/2 (headers as pairs) or HTTP/1.1 (raw lines). `expect`:
    "refused", "allowed", or f(config) -> one of them. `see`: what an allowed request must look
    like at the backend ({"path", "method", "host", "headers": {name: value as read}})."""

    def __init__(self, name, listener, *, target=b"/", method=b"GET", headers=(), host=b"localhost",
                 principal=B.CLIENT, h2=False, body=None, expect="refused", see=None, source=rawclient.SOURCE,
                 raw_host_lines=None, request_line=None):
        self.name, self.listener, self.target, self.method = name, listener, target, method
        self.headers, self.host, self.principal, self.h2, self.body = list(headers), host, principal, h2, body
        self.expect, self.see, self.source, self.raw_host_lines = expect, see, source, raw_host_lines
        self.request_line = request_line

    def label(self):
        return f"{self.listener} {'h2' if self.h2 else 'h1'} {self.name}"

    def send(self, envoy, attack_id):
        tag = (b"x-attack-id", str(attack_id).encode())
        if self.h2:
            fields = [(b":method", self.method), (b":scheme", b"https"), (b":path", self.target)]
            if self.host is not None:
                fields.append((b":authority", self.host))
            return rawclient.http2(envoy, self.principal, fields + self.headers + [tag], body=self.body,
                                   source=self.source)
        hosts = self.raw_host_lines if self.raw_host_lines is not None else [b"host: " + self.host]
        lines = hosts + [k + b": " + v for k, v in self.headers] + [b"x-attack-id: " + tag[1]]
        if self.body is not None:
            lines.append(b"content-length: " + str(len(self.body)).encode())
        request_line = self.request_line or self.method + b" " + self.target + b" HTTP/1.1"
        return rawclient.http1(envoy, self.principal, request_line, lines, body=self.body or b"",
                               source=self.source)


def reached(h, attack_id):
    """What the backends received for this attack: [(backend, method, path, host, {header: [values]})]."""
    tag = str(attack_id)
    out = []
    for seen in list(h.echo.received):
        headers = {}
        for k, v in seen.get("raw_headers", []):
            headers.setdefault(k, []).append(v.strip(" \t"))  # RFC 9110 5.5: the value without OWS
        if headers.get("x-attack-id") == [tag]:
            out.append(("echo", seen["method"], seen["path"], (headers.get("host") or [None])[0], headers))
    for call in list(h.grpc.received):
        md = {}
        for k, v in call["metadata"]:
            md.setdefault(k, []).append(v if isinstance(v, str) else v.decode("latin-1"))
        if md.get("x-attack-id") == [tag]:
            out.append(("grpc", "POST", call["method"], None, md))
    return out


def refused(reply):
    if reply.status is None:
        return True  # Envoy refused the stream or the connection
    grpc_status = reply.header("grpc-status")
    # 426: Envoy refuses HTTP/1.0 and HTTP/0.9 request lines (accept_http_10 is off).
    return reply.status in (400, 403, 404, 426) or (grpc_status not in (None, "0"))


def run(test, attacks):
    h = Harness.shared()
    failures = []
    for config, envoy in ENVOYS.items():
        figures = FIGURES["by_config"].setdefault(config, {"requests": 0, "bypasses": 0})
        for a in attacks:
            expect = a.expect(config) if callable(a.expect) else a.expect
            attack_id = next(_ids)
            reply = a.send(envoy.listener(LISTENERS.index(a.listener)), attack_id)
            got = reached(h, attack_id)
            FIGURES["requests"] += 1
            figures["requests"] += 1
            FIGURES["by_protocol"]["HTTP/2" if a.h2 else "HTTP/1.1"] += 1
            where = f"[{config}] {a.label()}"
            if expect == "bad-request" and not got and reply.status != 400:
                failures.append(f"{where}: expected 400, got {reply!r}")
            if expect in ("refused", "bad-request"):
                if got:
                    FIGURES["bypasses"] += 1
                    figures["bypasses"] += 1
                    failures.append(f"{where}: BYPASS: status {reply.status}, backend saw {got[0][:4]}")
                elif not refused(reply):
                    failures.append(f"{where}: expected a refusal, got {reply!r}")
                continue
            if reply.status != 200 or len(got) != 1:
                failures.append(f"{where}: expected 200 at the backend, got {reply!r}, backend saw {len(got)}")
                continue
            _, method, path, host, headers = got[0]
            see = a.see or {}
            want_path = see.get("path", a.target.decode())
            for what, have, want in (("path", path, want_path), ("method", method, see.get("method")),
                                     ("host", host, see.get("host"))):
                if want is not None and have != want:
                    failures.append(f"{where}: backend saw {what} {have!r}, expected {want!r}")
            for name, want in see.get("headers", {}).items():
                if headers.get(name) != want:
                    failures.append(f"{where}: backend read {name}: {headers.get(name)!r}, expected {want!r}")
    test.assertEqual(failures, [], "\n" + "\n".join(failures))


def both(*attacks):
    """Each attack over HTTP/1.1 and over HTTP/2."""
    out = []
    for a in attacks:
        out.append(a)
        twin = Attack(a.name, a.listener, target=a.target, method=a.method, headers=a.headers, host=a.host,
                      principal=a.principal, h2=True, body=a.body, expect=a.expect, see=a.see, source=a.source)
        out.append(twin)
    return out


class RequestLine(unittest.TestCase):
    """Odd request lines (raw HTTP/1.1): Envoy's parser refuses them, or they mean /admin."""

    def test_istio_deny_paths(self):
        lines = [b"GET /admin", b"GET  /admin HTTP/1.1", b"GET\t/admin HTTP/1.1", b"GET /admin HTTP/1.1 ",
                 b"GET /admin  HTTP/1.1", b"get /admin HTTP/1.1", b"GET /admin HTTP/1.0", b"GET /admin HTTP/2.0",
                 b"GET http://localhost/admin HTTP/1.1", b"GET admin HTTP/1.1",
                 b"GET * HTTP/1.1", b"GET /adm\x00in HTTP/1.1", b"GET /admin\rx HTTP/1.1"]
        run(self, [Attack("control: GET /public", "istio-deny", request_line=b"GET /public HTTP/1.1",
                          target=b"/public", expect="allowed"),
                   # Origin-form with an empty first segment, not a network-path reference.
                   Attack("//localhost/admin is /localhost/admin", "istio-deny", expect="allowed",
                          request_line=b"GET //localhost/admin HTTP/1.1", see={"path": "/localhost/admin"}),
                   *[Attack(repr(line), "istio-deny", request_line=line) for line in lines]])


class PathParameters(unittest.TestCase):
    """1. `;` path parameters: Tomcat, Jetty and Spring serve /admin;x=1 as /admin."""

    def test_istio_deny_paths(self):
        run(self, both(
            Attack("control: public", "istio-deny", target=b"/public", expect="allowed"),
            Attack("control: admin", "istio-deny", target=b"/admin"),
            *[Attack(t.decode(), "istio-deny", target=t)
              for t in (b"/admin;x=1", b"/admin;", b"/admin;x/users", b"/admin;jsessionid=0/users",
                        b"/;x/admin", b"/admin;a=b;c=d", b"/admin;x=1?q")],
        ))

    def test_drako_exclude_paths(self):
        run(self, both(
            Attack("control: api", "drako", target=b"/api/orders", expect="allowed"),
            Attack("control: excluded", "drako", target=b"/api/admin"),
            *[Attack(t.decode(), "drako", target=t) for t in (b"/api/admin;x", b"/api/admin;", b"/api/admin;x/users")],
        ))

    def test_linkerd_routes(self):
        run(self, both(
            Attack("control: open route", "linkerd", target=b"/orders", expect="allowed"),
            Attack("control: admin route", "linkerd", target=b"/admin"),
            *[Attack(t.decode(), "linkerd", target=t) for t in (b"/admin;x", b"/admin;x/users", b"/admin;")],
        ))

    def test_dapr_operations(self):
        run(self, both(
            Attack("control: other operation", "dapr", target=b"/orders", principal=B.DAPR_CLIENT, expect="allowed"),
            Attack("control: denied operation", "dapr", target=b"/admin", principal=B.DAPR_CLIENT),
            *[Attack(t.decode(), "dapr", target=t, principal=B.DAPR_CLIENT)
              for t in (b"/admin;x", b"/admin;x/users", b"/admin;")],
        ))


WHITESPACE = [b"admin ", b"admin\t", b" admin", b"\tadmin", b" admin\t "]


class HeaderWhitespace(unittest.TestCase):
    """2. HTTP/2 header values with surrounding whitespace: every HTTP/1.1 parser trims them."""

    def test_istio_request_headers(self):
        run(self, [
            Attack("control: other role", "istio-deny", h2=True, headers=[(b"x-role", b"user")], expect="allowed",
                   see={"headers": {"x-role": ["user"]}}),
            Attack("control: inner space", "istio-deny", h2=True, headers=[(b"x-role", b"ad min")], expect="allowed",
                   see={"headers": {"x-role": ["ad min"]}}),
            Attack("control: admin", "istio-deny", h2=True, headers=[(b"x-role", b"admin")]),
            Attack("control: HTTP/1.1 trailing space (Envoy trims)", "istio-deny", headers=[(b"x-role", b"admin \t")]),
            *[Attack(f"x-role {v!r}", "istio-deny", h2=True, headers=[(b"x-role", v)]) for v in WHITESPACE],
            Attack("repeated, one with a space", "istio-deny", h2=True,
                   headers=[(b"x-role", b"user"), (b"x-role", b"admin ")]),
            # An ALLOW decides on the value the application reads, too.
            Attack("allow: reader with a trailing space", "istio-allow", h2=True, target=b"/reader",
                   principal=B.OTHER, headers=[(b"x-role", b"reader ")], expect="allowed",
                   see={"headers": {"x-role": ["reader"]}}),
        ])

    def test_linkerd_header_matches(self):
        run(self, [
            Attack("control: other role", "linkerd", h2=True, headers=[(b"x-role", b"user")], expect="allowed"),
            Attack("control: admin", "linkerd", h2=True, headers=[(b"x-role", b"admin")]),
            *[Attack(f"x-role {v!r}", "linkerd", h2=True, headers=[(b"x-role", v)]) for v in WHITESPACE],
        ])


DUPLICATE_HOSTS = [
    ("two Host lines", [b"host: other.example", b"host: secret.com"]),
    ("two Host lines, secret first", [b"host: secret.com", b"host: other.example"]),
    ("comma-merged Host", [b"host: other.example,secret.com"]),
    ("comma-merged Host with a space", [b"host: other.example, secret.com"]),
]


class DuplicateHost(unittest.TestCase):
    """3. Duplicate Host headers arrive comma-merged; RFC 9112 3.2 says 400."""

    def hosts(self, listener, target=b"/", principal=B.CLIENT):
        return [
            Attack("control: other host", listener, target=target, host=b"other.example", principal=principal,
                   expect="allowed", see={"host": "other.example"}),
            Attack("control: secret host", listener, target=target, host=b"secret.com", principal=principal),
            Attack("Host with whitespace (Envoy trims)", listener, target=target, principal=principal,
                   raw_host_lines=[b"host:  secret.com \t"]),
            *[Attack(name, listener, target=target, principal=principal, raw_host_lines=lines, expect="bad-request")
              for name, lines in DUPLICATE_HOSTS],
            # HTTP/2: Envoy refuses a repeated or comma-separated :authority itself, and keeps
            # :authority over a `host` field.
            Attack("h2 :authority and host", listener, target=target, h2=True, host=b"other.example",
                   principal=principal, headers=[(b"host", b"secret.com")], expect="allowed",
                   see={"host": "other.example"}),
            Attack("h2 comma in :authority", listener, target=target, h2=True, host=b"other.example,secret.com",
                   principal=principal, expect="bad-request"),
            Attack("h2 two host fields", listener, target=target, h2=True, host=None, principal=principal,
                   headers=[(b"host", b"other.example"), (b"host", b"secret.com")]),
        ]

    def test_istio_hosts(self):
        run(self, self.hosts("istio-deny"))

    def test_drako_destination_hosts(self):
        run(self, self.hosts("drako", target=b"/host/x"))

    def test_linkerd_hostnames(self):
        run(self, self.hosts("linkerd"))


XFF = b"x-forwarded-for"


def remote_follows_xff(config):
    """remoteIpBlocks / Drako Origin read the client address Envoy resolved: the last
    X-Forwarded-For entry when the listener trusts it (use_remote_address: false), else the peer."""
    return "allowed" if trusts_xff(config) else "refused"


def remote_deny(config):
    return "refused" if trusts_xff(config) else "allowed"


def peer_unknown(config):
    """From 127.0.0.3 claiming to be 127.0.0.2: the peer is known only when Envoy ignores XFF."""
    return "refused" if trusts_xff(config) else "allowed"


class ForwardedAddresses(unittest.TestCase):
    """4. X-Forwarded-For never chooses the peer address that ipBlocks and networks rules see."""

    def test_istio_ip_blocks(self):
        run(self, both(
            Attack("control: peer in the DENY block", "istio-deny", target=b"/ipdeny"),
            Attack("control: peer outside the DENY block", "istio-deny", target=b"/ipdeny", source="127.0.0.3",
                   expect="allowed"),
            Attack("XFF dodges ipBlocks DENY", "istio-deny", target=b"/ipdeny", headers=[(XFF, b"10.1.2.3")]),
            Attack("XFF list dodges ipBlocks DENY", "istio-deny", target=b"/ipdeny",
                   headers=[(XFF, b"127.0.0.2, 10.1.2.3")]),
            Attack("XFF dodges source.ip DENY", "istio-deny", target=b"/ipdeny-when", headers=[(XFF, b"10.1.2.3")]),
            Attack("XFF claims the blocked peer", "istio-deny", target=b"/ipdeny", source="127.0.0.3",
                   headers=[(XFF, b"127.0.0.2")], expect=peer_unknown),
            Attack("XFF meets ipBlocks ALLOW", "istio-allow", target=b"/ipallow", principal=B.OTHER,
                   headers=[(XFF, b"10.1.2.3")]),
            Attack("XFF meets ipBlocks ALLOW, no certificate", "istio-allow", target=b"/ipallow", principal=None,
                   headers=[(XFF, b"10.1.2.3")]),
            # remoteIpBlocks means the forwarded client (Istio: Envoy's remote_ip).
            Attack("remoteIpBlocks DENY follows the resolved client", "istio-deny", target=b"/remote-deny",
                   headers=[(XFF, b"10.1.2.3")], expect=remote_deny),
            Attack("remoteIpBlocks ALLOW follows the resolved client", "istio-allow", target=b"/remote-allow",
                   principal=B.OTHER, headers=[(XFF, b"10.1.2.3")], expect=remote_follows_xff),
        ))

    def test_linkerd_networks_and_localhost(self):
        run(self, both(
            Attack("control: network route from outside 10/8", "linkerd", target=b"/netonly", principal=None),
            Attack("XFF meets networks", "linkerd", target=b"/netonly", principal=None, headers=[(XFF, b"10.1.2.3")]),
            Attack("control: no identity", "linkerd", target=b"/", principal=None),
            Attack("XFF claims localhost", "linkerd", target=b"/", principal=None, headers=[(XFF, b"127.0.0.1")]),
            Attack("XFF claims ::1", "linkerd", target=b"/", principal=None, headers=[(XFF, b"::1")]),
            Attack("XFF claims localhost on the admin route", "linkerd", target=b"/admin",
                   headers=[(XFF, b"127.0.0.1")]),
        ))

    def test_drako_origin(self):
        run(self, both(
            Attack("control: origin outside 10/8", "drako", target=b"/origin"),
            Attack("Origin follows the resolved client", "drako", target=b"/origin", headers=[(XFF, b"10.1.2.3")],
                   expect=remote_follows_xff),
        ))


ODD_IDS = [
    "spiffe://cluster.local/ns/client/sa/clien%74",
    "spiffe://cluster.local/ns/cli%65nt/sa/client",
    "spiffe://cluster.local/ns/client/sa/client;x=1",
    "spiffe://cluster.local/ns/client/sa/client@x",
    "spiffe://cluster.local/ns/client/sa/cli~ent",
    "spiffe://cluster.local/ns/client/sa/client:1",
    "spiffe://cluster.local/ns/client/sa/cli!ent",
    "spiffe://Cluster.local/ns/client/sa/client",
    "spiffe://cluster.local/ns//sa/client",
    "spiffe://cluster.local/ns/./client/sa/client",
    "spiffe://cluster.local/ns/client/sa/client/",
    "spiffe://cluster.local:443/ns/client/sa/client",
    "spiffe://user@cluster.local/ns/client/sa/client",
    "spiffe://cluster.local/ns/client/sa/client?x=1",
]
ODD_DAPR_IDS = [
    "spiffe://cluster.local/ns/client/client-ap%70",
    "spiffe://cluster.local/ns/client/client-app;x=1",
    "spiffe://cluster.local/ns/client/client-app@x",
    "spiffe://Cluster.local/ns/client/client-app",
    "spiffe://cluster.local/ns//client/client-app",
    "spiffe://cluster.local/ns/client/client-app/",
]


class Identities(unittest.TestCase):
    """5. A certificate from the trusted CA whose URI SAN is not a SPIFFE ID (spec: segments of
    [a-zA-Z0-9.-_], no empty/dot segments, lowercase trust domain) is unauthenticated."""

    def test_every_dialect(self):
        attacks = [
            Attack("control: istio any peer", "istio-allow", target=b"/any-peer", expect="allowed"),
            Attack("control: linkerd any identity", "linkerd", target=b"/", expect="allowed"),
            Attack("control: drako SpiffeId", "drako", target=b"/api/x", expect="allowed"),
            Attack("control: dapr app", "dapr", target=b"/x", principal=B.DAPR_CLIENT, expect="allowed"),
        ]
        for uri in ODD_IDS:
            attacks += [Attack(f"istio principals ['*'] {uri}", "istio-allow", target=b"/any-peer", principal=uri),
                        Attack(f"linkerd identities ['*'] {uri}", "linkerd", target=b"/", principal=uri),
                        Attack(f"drako SpiffeId {uri}", "drako", target=b"/api/x", principal=uri)]
        for uri in ODD_DAPR_IDS:
            attacks.append(Attack(f"dapr {uri}", "dapr", target=b"/x", principal=uri))
        run(self, attacks)


def grpc_frame(payload=b"ping"):
    return b"\x00" + struct.pack(">I", len(payload)) + payload


class ClientChosenGrpc(unittest.TestCase):
    """6. gRPC cannot run over HTTP/1.1: `content-type: application/grpc` there must not switch
    Dapr to gRPC's case-sensitive operation matching."""

    def test_dapr(self):
        def grpc_req(name, target, ct=b"application/grpc", h2=False, expect="refused", see=None):
            return Attack(name, "dapr", method=b"POST", target=target, principal=B.DAPR_CLIENT, h2=h2,
                          headers=[(b"content-type", ct), (b"te", b"trailers")], body=grpc_frame(), expect=expect,
                          see=see)
        run(self, [
            grpc_req("HTTP/1.1 grpc /ADMIN", b"/ADMIN"),
            grpc_req("HTTP/1.1 grpc+json /ADMIN", b"/ADMIN", ct=b"application/grpc+json"),
            grpc_req("HTTP/1.1 grpc+proto /Admin/users", b"/Admin/users", ct=b"application/grpc+proto"),
            grpc_req("control: HTTP/1.1 grpc /admin", b"/admin"),
            Attack("control: HTTP/2 POST /ADMIN without gRPC", "dapr", h2=True, method=b"POST", target=b"/ADMIN",
                   principal=B.DAPR_CLIENT, body=b"x"),
            grpc_req("control: HTTP/2 gRPC /admin", b"/admin", h2=True),
            # Real gRPC: method names are case-sensitive, as in Dapr.
            grpc_req("control: HTTP/2 gRPC /ADMIN is another method", b"/ADMIN", h2=True, expect="allowed",
                     see={"method": "POST"}),
        ])


class LowercaseMethods(unittest.TestCase):
    """Hardening: `delete` dodges a DENY on DELETE over HTTP/2 (Django upper-cases it)."""

    def test_every_dialect(self):
        cases = [("istio-deny", b"/x", B.CLIENT), ("linkerd", b"/x", B.CLIENT), ("drako", b"/m/x", B.CLIENT),
                 ("dapr", b"/items", B.DAPR_CLIENT)]
        attacks = []
        for listener, target, who in cases:
            attacks += [
                Attack("control: DELETE", listener, h2=True, method=b"DELETE", target=target, principal=who),
                Attack("control: GET", listener, h2=True, method=b"GET", target=target, principal=who,
                       expect="allowed", see={"method": "GET"}),
                Attack("delete", listener, h2=True, method=b"delete", target=target, principal=who),
                Attack("Delete", listener, h2=True, method=b"Delete", target=target, principal=who),
                Attack("dELETE", listener, h2=True, method=b"dELETE", target=target, principal=who),
                Attack("control: HTTP/1.1 delete (Envoy refuses)", listener, method=b"delete", target=target,
                       principal=who),
            ]
        attacks.append(Attack("control: custom method", "istio-deny", h2=True, method=b"PURGE", target=b"/x",
                              expect="allowed", see={"method": "PURGE"}))
        run(self, attacks)


def underscore_other(config):
    """A name with `_` that no rule reads: Envoy's REJECT_REQUEST refuses it; otherwise it passes."""
    return "allowed" if underscores_allowed(config) else "refused"


class Underscores(unittest.TestCase):
    """Hardening: `x_role: admin` is X-Role to WSGI/CGI applications (HTTP_X_ROLE)."""

    def test_istio_and_linkerd(self):
        run(self, both(
            Attack("x_role: admin", "istio-deny", headers=[(b"x_role", b"admin")]),
            Attack("x_role: admin", "linkerd", headers=[(b"x_role", b"admin")]),
            Attack("x_role beside x-role: user", "istio-deny", headers=[(b"x-role", b"user"), (b"x_role", b"admin")]),
            Attack("X_Role: admin", "istio-deny", headers=[(b"X_Role", b"admin")]),
            Attack("underscore in a name no rule reads", "istio-deny", headers=[(b"x_other", b"1")],
                   expect=underscore_other),
        ))


if __name__ == "__main__":
    unittest.main()

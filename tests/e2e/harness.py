"""End-to-end harness: real Envoy, real mTLS, real backends, all on loopback, in one process.

Python stdlib + grpcio only. Typical use in a test (tests/e2e/test_<dialect>.py):

    import unittest
    from harness import Harness, ROOT

    class MyDialect(unittest.TestCase):
        @classmethod
        def setUpClass(cls):
            cls.h = Harness.shared()          # one PKI and one pair of backends per process

        # test_cases.py already runs EVERY policies/**/*.cases.json (one Envoy, a listener per
        # file): a dialect test adds what a cases file cannot say. run_case_file(path) runs one.

        def test_something(self):
            with self.h.envoy("policies/mine/x.json") as envoy:      # path or bundle dict/str
                r = envoy.request("spiffe://cluster.local/ns/a/sa/b", "GET", "/api")
                self.assertEqual(r.status, 200)
                self.assertEqual(r.echo["path"], "/api")             # what the backend saw
                self.assertEqual(envoy.grpc_call(None, "/pkg.Svc/M"), grpc.StatusCode.PERMISSION_DENIED)
                self.assertGreater(envoy.stats()["spiffe_authz.allowed"], 0)

Several bundles in one Envoy (the module compiles once, ~1-4 s per Envoy saved):
h.envoy(b0, extra_bundles=[b1, b2]) and envoy.listener(1).request(...).

Pieces, each usable alone: Pki (openssl CLI: CA, server and client certificates, a client per
SPIFFE ID on demand), EchoBackend (HTTP/1.1, answers JSON {method, path, headers}), GrpcBackend
(any method, bytes in and out, no codegen), Envoy (render envoy/envoy.yaml, start with its own
--base-id and kernel-chosen ports, wait until ready, stats, log, stop).

Environment: ENVOY (the binary; default: `envoy` next to this Python, i.e. the venv's),
SPIFFE_AUTHZ_WASM (default dist/spiffe_authz.wasm), E2E_KEEP=1 keeps the temp directory.
"""
import atexit
import copy
import http.client
import itertools
import json
import os
import pathlib
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "envoy"))
import render  # noqa: E402  (envoy/render.py: the one place that knows the template)

WASM = pathlib.Path(os.environ.get("SPIFFE_AUTHZ_WASM", ROOT / "dist" / "spiffe_authz.wasm"))
SERVER_NAME = "localhost"


def envoy_binary():
    """The Envoy to run: $ENVOY, else the one installed next to this Python (the venv's)."""
    if os.environ.get("ENVOY"):
        return os.environ["ENVOY"]
    beside = pathlib.Path(sys.executable).parent / "envoy"
    return str(beside) if beside.exists() else (shutil.which("envoy") or "envoy")


# ---------------------------------------------------------------------------------------------
# PKI
# ---------------------------------------------------------------------------------------------


class Pki:
    """A throwaway CA and certificates made with the openssl CLI (EC P-256, valid one day).

    pki.ca, pki.server -> (cert, key) paths; pki.client(uri) -> (cert, key) for a client whose
    only URI SAN is `uri` (a SPIFFE ID, or anything else to test non-SPIFFE peers), made once.
    """

    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._clients = {}
        self._names = itertools.count()
        self.ca = self.dir / "ca.crt"
        self.ca_key = self.dir / "ca.key"
        if not self.ca.exists():
            self._openssl(
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", self.ca_key, "-out", self.ca, "-days", "2", "-subj", "/O=spiffe-authz/CN=test CA",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            )
        self.server = self._leaf("server", f"DNS:{SERVER_NAME},IP:127.0.0.1", "serverAuth")

    def client(self, uri):
        """(cert, key) of a client certificate whose URI SAN is `uri`."""
        with self._lock:
            if uri not in self._clients:
                self._clients[uri] = self._leaf(f"client-{next(self._names)}", f"URI:{uri}", "clientAuth")
            return self._clients[uri]

    def named_client(self, name, uri):
        """Like client(), with readable file names (name.crt, name.key): for the demo's curl lines."""
        with self._lock:
            if uri not in self._clients:
                self._clients[uri] = self._leaf(name, f"URI:{uri}", "clientAuth")
            return self._clients[uri]

    def _leaf(self, name, san, usage):
        cert, key, csr = self.dir / f"{name}.crt", self.dir / f"{name}.key", self.dir / f"{name}.csr"
        if cert.exists() and key.exists():
            return cert, key
        ext = self.dir / f"{name}.ext"
        # openssl config syntax: commas separate SAN entries, so refuse them inside one.
        ext.write_text(
            f"subjectAltName=critical,{san}\nbasicConstraints=critical,CA:FALSE\n"
            f"keyUsage=critical,digitalSignature\nextendedKeyUsage={usage}\n"
        )
        self._openssl(
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", csr, "-subj", f"/O=spiffe-authz/CN={name}",
        )
        self._openssl(
            "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key, "-set_serial",
            str(int.from_bytes(os.urandom(8), "big")), "-days", "2", "-extfile", ext, "-out", cert,
        )
        return cert, key

    @staticmethod
    def _openssl(*args):
        r = subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"openssl {args[0]} failed: {r.stderr.strip()}")


# ---------------------------------------------------------------------------------------------
# Backends
# ---------------------------------------------------------------------------------------------


class _Tee:
    """Reads through to `f`, keeping a copy of the lines read (the request head, raw)."""

    def __init__(self, f):
        self.f, self.data = f, b""

    def readline(self, *a):
        line = self.f.readline(*a)
        self.data += line
        return line

    def read(self, *a):
        return self.f.read(*a)


class EchoBackend:
    """HTTP/1.1 server answering 200 with JSON {"method", "path", "headers": {name: value},
    "raw_headers": [[name, value], ...]}: `raw_headers` are the header lines exactly as they
    arrived (name lowercased, value with any whitespace around it, repeated names kept), what a
    security test asserts on. Every request it received is also kept in `.received`."""

    def __init__(self):
        backend = self
        self.received = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in two writes: with Nagle on, the second waits for the
            # peer's delayed ACK (~40 ms a request on keep-alive connections).
            disable_nagle_algorithm = True

            def parse_request(self):
                tee = _Tee(self.rfile)
                self.rfile = tee
                try:
                    return super().parse_request()
                finally:
                    self.rfile = tee.f
                    self.raw_head = tee.data

            def _raw_headers(self):
                out = []
                for line in getattr(self, "raw_head", b"").split(b"\r\n"):
                    name, colon, value = line.partition(b":")
                    if colon:
                        out.append([name.decode("latin-1").lower(), value.decode("latin-1")])
                return out

            def _echo(self):
                n = int(self.headers.get("content-length") or 0)
                if n:
                    self.rfile.read(n)
                seen = {"method": self.command, "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "raw_headers": self._raw_headers()}
                backend.received.append(seen)
                body = json.dumps(seen).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _echo

            def __getattr__(self, name):
                # Any other method (the cases use custom ones) echoes too.
                if name.startswith("do_"):
                    return self._echo
                raise AttributeError(name)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


class GrpcBackend:
    """gRPC server (plaintext HTTP/2) that answers every unary method OK, echoing the request
    bytes. No codegen: bytes in, bytes out. `.calls` lists the methods it served, `.received`
    each call as {"method", "metadata": [[key, value], ...]}."""

    def __init__(self):
        self.calls = []
        self.received = []
        backend = self

        class AnyMethod(grpc.GenericRpcHandler):
            def service(self, details):
                def echo(request, context):
                    backend.calls.append(details.method)
                    backend.received.append({"method": details.method,
                                             "metadata": [[k, v] for k, v in details.invocation_metadata]})
                    return request

                return grpc.unary_unary_rpc_method_handler(echo)  # no (de)serializers: raw bytes

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self.server.add_generic_rpc_handlers((AnyMethod(),))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def stop(self):
        self.server.stop(None)


# ---------------------------------------------------------------------------------------------
# Envoy
# ---------------------------------------------------------------------------------------------


class EnvoyFailed(RuntimeError):
    """Envoy exited or never became ready. `.log` holds its log."""

    def __init__(self, message, log):
        super().__init__(f"{message}\n--- envoy log (tail) ---\n{log[-4000:]}")
        self.log = log


class Response:
    """An HTTP response: status, headers (lowercase names), body (bytes); text; echo (the echo
    backend's JSON when the request reached it, else None)."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    @property
    def echo(self):
        if self.headers.get("content-type") != "application/json":
            return None
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.text[:80]!r}>"


_base_ids = itertools.count(1)


class Envoy:
    """One Envoy process. Use as a context manager, or start()/stop().

    bundle: a path (str/Path to a file), a dict, or JSON text. require_client_cert=False lets
    clients without a certificate reach the filter. node_metadata: bootstrap node.metadata.
    listen_port: 0 (default) lets the kernel choose; `.port` tells which. normalization=False
    renders Envoy with its path normalization off; use_remote_address=False makes source.address
    follow X-Forwarded-For (Envoy's default); reject_underscores=False lets header names with `_`
    through (Envoy's default); wasm: another filter build. Envoy runs with
    --component-log-level wasm:debug, so allowed requests are logged too (`spiffe-authz allow:`).

    extra_bundles: more bundles, each on a listener of its own in the same Envoy (same template,
    same VM: the module is compiled once, each bundle has its own root context and engine);
    `envoy.listener(i)` is a view whose requests go to bundle i (0 = `bundle`). The filter's
    counters are per VM, so they add up across those listeners. extra_ports: the listen port of
    each extra bundle's listener (default: the kernel chooses).
    """

    def __init__(self, harness, bundle, *, require_client_cert=True, node_metadata=None, log_level="info",
                 component_log_level="wasm:debug", listen_port=0, normalization=True, wasm=None,
                 extra_bundles=(), extra_ports=(), use_remote_address=True, reject_underscores=True):
        self.h = harness
        self.bundle_text = _bundle_text(bundle)
        self.extra_bundles = [_bundle_text(b) for b in extra_bundles]
        self.extra_ports = list(extra_ports) + [0] * (len(self.extra_bundles) - len(extra_ports))
        self.ports = []
        self.require_client_cert = require_client_cert
        self.node_metadata = node_metadata
        self.log_level = log_level
        self.component_log_level = component_log_level
        self.listen_port = listen_port
        self.normalization = normalization
        self.use_remote_address = use_remote_address
        self.reject_underscores = reject_underscores
        self.wasm = pathlib.Path(wasm) if wasm else WASM
        self.concurrency = 1
        self.proc = None
        self.port = None
        self.admin_port = None
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="envoy-", dir=harness.dir))
        self.log_path = self.dir / "envoy.log"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _render(self, bundle_text, listen_port):
        return render.render(
            bundle_text, ca=str(self.h.pki.ca), server_cert=str(self.h.pki.server[0]),
            server_key=str(self.h.pki.server[1]), wasm=str(self.wasm), echo_port=self.h.echo.port,
            grpc_port=self.h.grpc.port, require_client_cert=self.require_client_cert,
            node_metadata=self.node_metadata, listen_port=listen_port,
            normalization=self.normalization, use_remote_address=self.use_remote_address,
            reject_underscores=self.reject_underscores,
        )

    def config(self):
        """The bootstrap YAML: envoy/envoy.yaml rendered, plus one copy of its listener per extra
        bundle (renamed inbound_mtls_<i>, root_id spiffe_authz_<i>: a root context per bundle)."""
        cfg = self._render(self.bundle_text, self.listen_port)
        items = []
        for i, (b, port) in enumerate(zip(self.extra_bundles, self.extra_ports), 1):
            text = self._render(b, port)
            item = text[text.index("  - name: inbound_mtls\n"):text.index("\n  clusters:")]
            for old, new in (("- name: inbound_mtls\n", f"- name: inbound_mtls_{i}\n"),
                             ("root_id: spiffe_authz\n", f"root_id: spiffe_authz_{i}\n")):
                if old not in item:
                    raise ValueError(f"envoy.yaml no longer says {old!r}: update Envoy.config()")
                item = item.replace(old, new, 1)
            items.append(item)
        if items:
            at = cfg.index("\n  clusters:")
            cfg = cfg[:at] + "\n" + "\n".join(items) + cfg[at:]
        return cfg

    def listener(self, i):
        """A view of this Envoy whose request()/grpc_call() go to bundle i's listener. Stop the
        Envoy itself, not a view."""
        view = copy.copy(self)
        view.port = self.ports[i]
        return view

    def start(self, timeout=30):
        """Starts Envoy and waits until the listeners serve. Raises EnvoyFailed with the log."""
        (self.dir / "envoy.yaml").write_text(self.config())
        admin_file = self.dir / "admin.address"
        base_id = (os.getpid() % 100000) * 100 + next(_base_ids)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [envoy_binary(), "-c", str(self.dir / "envoy.yaml"), "--base-id", str(base_id),
             "--concurrency", str(self.concurrency), "--log-level", self.log_level,
             "--component-log-level", self.component_log_level,
             "--admin-address-path", str(admin_file)],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise EnvoyFailed(f"envoy exited with status {self.proc.returncode}", self.read_log())
            if admin_file.exists() and admin_file.read_text().strip():
                self.admin_port = int(admin_file.read_text().strip().rsplit(":", 1)[1])
                if self._ready():
                    return self
            time.sleep(0.05)
        self.stop()
        raise EnvoyFailed("envoy did not become ready", self.read_log())

    def _ready(self):
        """True once every listener serves (sets .ports and .port). Subclasses say what else
        "ready" means."""
        self.ports = self._listener_ports()
        if self.ports:
            self.port = self.ports[0]
        return bool(self.ports)

    def _listener_ports(self):
        """[port of inbound_mtls, inbound_mtls_1, ...] once all listen, else None."""
        names = ["inbound_mtls"] + [f"inbound_mtls_{i}" for i in range(1, len(self.extra_bundles) + 1)]
        try:
            status = json.loads(self.admin("/listeners?format=json"))
            ports = {ls["name"]: ls["local_address"]["socket_address"].get("port_value")
                     for ls in status.get("listener_statuses", [])}
        except (OSError, ValueError, KeyError):
            return None
        if all(ports.get(n) for n in names):
            return [ports[n] for n in names]
        return None

    def stop(self):
        """Stops Envoy (admin /quitquitquit, then SIGTERM, then SIGKILL)."""
        if self.proc and self.proc.poll() is None:
            try:
                self.admin("/quitquitquit", method="POST")
            except OSError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()

    def wait_exit(self, timeout=30):
        """Waits for Envoy to exit by itself (e.g. a refused configuration); returns its status."""
        return self.proc.wait(timeout)

    def read_log(self):
        """Envoy's log so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def admin(self, path, method="GET"):
        """Body of an admin API call (admin listens on loopback only)."""
        req = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}{path}", method=method)
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.read().decode()

    # The filter hands its counts to Envoy once a second (src/filter/metrics.rs), and at once
    # whenever it logs (denials, dry-run denials, refused requests, bundle loads).
    COUNTER_FLUSH_S = 1.0

    def settle_counters(self):
        """Waits until counts of requests already answered have reached Envoy's stats."""
        time.sleep(self.COUNTER_FLUSH_S + 0.3)

    def stats(self, prefix="spiffe_authz", settle=True):
        """Stats whose name starts with `prefix`, as {name: int}, once the filter's pending
        counts have been flushed (`settle`). The filter's counters appear in Envoy's /stats as
        `wasmcustom.spiffe_authz.*` (and in /stats/prometheus as `spiffe_authz_*`); the internal
        `wasmcustom.` prefix is dropped here."""
        if settle:
            self.settle_counters()
        out = {}
        for line in self.admin("/stats").splitlines():
            name, _, value = line.partition(": ")
            name = name.removeprefix("wasmcustom.")
            if name.startswith(prefix) and value.strip().isdigit():
                out[name] = int(value)
        return out

    def wait_for_log(self, needle, timeout=5):
        """Waits until `needle` appears in the log; returns the matching line (or None)."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.read_log().splitlines():
                if needle in line:
                    return line
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)

    # -- clients -------------------------------------------------------------------------------

    def ssl_context(self, principal):
        """A client TLS context trusting the test CA, presenting a certificate for `principal`
        (None: no client certificate). `principal` may also be a (cert, key) pair."""
        ctx = ssl.create_default_context(cafile=str(self.h.pki.ca))
        ctx.check_hostname = True
        if principal is not None:
            cert, key = principal if isinstance(principal, tuple) else self.h.pki.client(principal)
            ctx.load_cert_chain(str(cert), str(key))
        return ctx

    def request(self, principal, method="GET", path="/", host=None, headers=(), body=None, timeout=10):
        """One HTTPS request over a fresh mTLS connection. `headers`: pairs or a dict (repeated
        names allowed as pairs). Returns a Response; a refused handshake raises ssl.SSLError or
        ConnectionError."""
        conn = http.client.HTTPSConnection(SERVER_NAME, self.port, context=self.ssl_context(principal),
                                           timeout=timeout)
        try:
            conn.connect()
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("host", host or f"{SERVER_NAME}:{self.port}")
            for k, v in (headers.items() if isinstance(headers, dict) else headers):
                conn.putheader(k, v)
            data = body.encode() if isinstance(body, str) else body
            if data is not None:
                conn.putheader("content-length", str(len(data)))
            conn.endheaders(data)
            r = conn.getresponse()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()

    def grpc_call(self, principal, method, *, host=None, metadata=(), request=b"ping", timeout=10):
        """One unary gRPC call through Envoy with a real grpcio client; returns grpc.StatusCode."""
        return self.grpc_call_full(principal, method, host=host, metadata=metadata, request=request,
                                   timeout=timeout)[0]

    def grpc_call_full(self, principal, method, *, host=None, metadata=(), request=b"ping", timeout=10):
        """Like grpc_call; returns (status code, details, response bytes or None)."""
        cert = key = None
        if principal is not None:
            cert, key = principal if isinstance(principal, tuple) else self.h.pki.client(principal)
        creds = grpc.ssl_channel_credentials(
            root_certificates=self.h.pki.ca.read_bytes(),
            private_key=key and pathlib.Path(key).read_bytes(),
            certificate_chain=cert and pathlib.Path(cert).read_bytes(),
        )
        options = [("grpc.ssl_target_name_override", SERVER_NAME)]
        if host:
            options.append(("grpc.default_authority", host))
        with grpc.secure_channel(f"127.0.0.1:{self.port}", creds, options=options) as ch:
            call = ch.unary_unary(method)  # no serializers: bytes
            try:
                resp = call(request, timeout=timeout, metadata=list(metadata))
                return grpc.StatusCode.OK, "", resp
            except grpc.RpcError as e:
                return e.code(), e.details(), None


def _bundle_text(bundle):
    if isinstance(bundle, dict):
        return json.dumps(bundle)
    if isinstance(bundle, pathlib.Path) or (isinstance(bundle, str) and not bundle.lstrip().startswith("{")):
        p = pathlib.Path(bundle)
        return (p if p.is_absolute() else ROOT / p).read_text()
    return bundle


# ---------------------------------------------------------------------------------------------
# The harness: what a test needs, shared per process
# ---------------------------------------------------------------------------------------------


class Harness:
    """A temp directory, a PKI, an echo backend and a gRPC backend. Harness.shared() returns the
    one of this process (made on first use, cleaned up at exit)."""

    _shared = None
    _lock = threading.Lock()

    def __init__(self, directory=None):
        if not WASM.exists():
            raise RuntimeError(f"{WASM} is missing: run ./build.sh first")
        self.dir = pathlib.Path(directory or tempfile.mkdtemp(prefix="spiffe-authz-e2e-"))
        self.pki = Pki(self.dir / "pki")
        self.echo = EchoBackend()
        self.grpc = GrpcBackend()

    @classmethod
    def shared(cls):
        with cls._lock:
            if cls._shared is None:
                cls._shared = Harness()
                atexit.register(cls._shared.close)
            return cls._shared

    def close(self):
        self.echo.stop()
        self.grpc.stop()
        if not os.environ.get("E2E_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def envoy(self, bundle, **kw):
        """An Envoy for `bundle` (not started: use `with h.envoy(...) as e:`). See Envoy."""
        return Envoy(self, bundle, **kw)

    def run_case_files(self, paths):
        """Runs several cases files through ONE Envoy (a listener per bundle, the module compiled
        once): {path: failures}. Same checks as run_case_file."""
        paths = [pathlib.Path(p) for p in paths]
        files = [json.loads(p.read_text()) for p in paths]
        return self.run_bundles([(p, cf["bundle"], cf["cases"]) for p, cf in zip(paths, files)])

    def run_bundles(self, items, per_envoy=40):
        """Runs [(label, bundle, cases)] through as few Envoys as can hold them (`per_envoy`
        listeners each, the module compiled once per Envoy): {label: failures}. Same checks as
        run_case_file; items without a runnable case start no listener."""
        items = [it for it in items if any(runnable(c) for c in it[2])]
        out = {}
        for start in range(0, len(items), per_envoy):
            chunk = items[start:start + per_envoy]
            with self.envoy(chunk[0][1], require_client_cert=False,
                            extra_bundles=[b for _, b, _ in chunk[1:]]) as envoy:
                for i, (label, _, cases) in enumerate(chunk):
                    out[label] = self._run_cases(envoy.listener(i), label, {"cases": cases})
        return out

    def run_case_file(self, path):
        """Runs a policies/**/*.cases.json file through one Envoy (client certificates optional,
        so cases without a principal arrive unauthenticated). Returns failures as readable lines
        ([] = all passed). Skips cases with `port`, `sourceIp` or `"e2e": false` (loopback cannot
        reproduce them). allow → 200 / gRPC OK, deny → 403 / PERMISSION_DENIED, not-found → 404 /
        NOT_FOUND, bad-request → 400 / INVALID_ARGUMENT (the path refused before any policy, by the
        filter or by Envoy; or 403 when Envoy's normalization turned it into a denied path);
        a given `policy` must appear in a deny body; given `setHeaders` must reach
        the backend."""
        path = pathlib.Path(path)
        cf = json.loads(path.read_text())
        with self.envoy(cf["bundle"], require_client_cert=False) as envoy:
            return self._run_cases(envoy, path, cf)

    def _run_cases(self, envoy, path, cf):
        failures = []
        for case in cf["cases"]:
            if not runnable(case):
                continue
            try:
                problem = self._run_case(envoy, case)
            except Exception as e:  # a harness error is a failure of this case, not the file
                problem = f"{type(e).__name__}: {e}"
            if problem:
                name = path.name if isinstance(path, pathlib.Path) else path
                failures.append(f"{name}: case {case['name']!r}: {problem}")
        return failures

    def _run_case(self, envoy, case):
        expect = case["expect"]
        principal = case.get("principal")
        headers = [tuple(h) for h in case.get("headers", [])]
        if case.get("grpc"):
            # bad-request: the path is refused before any policy, by the filter or by Envoy's own
            # checks (a 400 reaches a gRPC client as INTERNAL), or Envoy's normalization made it
            # a path a policy denies.
            want = {"allow": [grpc.StatusCode.OK], "deny": [grpc.StatusCode.PERMISSION_DENIED],
                    "not-found": [grpc.StatusCode.NOT_FOUND],
                    "bad-request": [grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.INTERNAL,
                                    grpc.StatusCode.PERMISSION_DENIED]}[expect]
            got, details, _ = envoy.grpc_call_full(principal, case.get("path", "/"), host=case.get("host"),
                                                   metadata=[(k.lower(), v) for k, v in headers])
            if got not in want:
                return f"expected {' or '.join(w.name for w in want)}, got {got.name} ({details})"
            return None
        want = {"allow": [200], "deny": [403], "not-found": [404], "bad-request": [400, 403]}[expect]
        r = envoy.request(principal, case.get("method", "GET"), case.get("path", "/"), host=case.get("host"),
                          headers=headers)
        if r.status not in want:
            return f"expected {' or '.join(map(str, want))}, got {r.status}: {r.text.strip()[:200]}"
        if r.status == 200 and r.echo is None:
            return "200 but the echo backend did not answer"
        # A HEAD answer has no body to name the policy in.
        if expect != "allow" and case.get("policy") and case.get("method") != "HEAD" and case["policy"] not in r.text:
            return f"deny body {r.text.strip()!r} does not name {case['policy']!r}"
        for k, v in (case.get("setHeaders") or {}).items():
            got = (r.echo or {}).get("headers", {}).get(k.lower())
            if got != v:
                return f"backend saw {k}: {got!r}, expected {v!r}"
        return None


def runnable(case):
    """Can loopback Envoy reproduce this case? (No fake source IP or port.)"""
    return "port" not in case and "sourceIp" not in case and case.get("e2e", True) is not False


def case_files():
    """Every policies/**/*.cases.json, sorted."""
    return sorted((ROOT / "policies").glob("**/*.cases.json"))


def owner_suites():
    """Every tests/owners/**/*.json (the owners' own tests as data; tests/common/owners.rs)."""
    return sorted((ROOT / "tests" / "owners").glob("**/*.json"))


def free_port():
    """A port free right now on 127.0.0.1 (for callers that need a fixed one, e.g. the demo)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

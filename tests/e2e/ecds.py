"""An Envoy that receives the filter by ECDS from a watched directory (envoy/ecds.yaml, rendered
by envoy/render.py), and `spiffe-authz push` to update it live. Used by test_reload.py,
test_operations.py and test_ecds_startup.py.

    with EcdsEnvoy(Harness.shared(), first_bundle) as envoy:      # pushes first_bundle, starts
    with EcdsEnvoy(Harness.shared(), None) as envoy:              # starts with nothing pushed
        envoy.push(other_bundle)                                   # atomic rename; returns version
        envoy.push(broken_text, validate=False)                    # Envoy must reject it
        envoy.ecds_stats()  -> {"config_reload": n, "config_fail": n, ...}

Environment: SPIFFE_AUTHZ_CLI (default dist/spiffe-authz) besides harness.py's ENVOY and
SPIFFE_AUTHZ_WASM.
"""
import json
import os
import pathlib
import subprocess
import time

import harness
import render
from harness import ROOT, Envoy

CLI = pathlib.Path(os.environ.get("SPIFFE_AUTHZ_CLI", ROOT / "dist" / "spiffe-authz"))
ECDS_PREFIX = "extension_config_discovery.http_filter.spiffe_authz."


class EcdsEnvoy(Envoy):
    """harness.Envoy with the filter delivered by ECDS. `bundle` is pushed before Envoy starts,
    so the listener comes up with it; None pushes nothing (the renderer's deny-all serves).
    `first_push_validate=False` pushes even a bundle the engine refuses as the first one.
    `concurrency`: Envoy worker threads (one VM each)."""

    def __init__(self, h, bundle, *, concurrency=2, first_push_validate=True, **kw):
        self.first_bundle = bundle
        super().__init__(h, bundle if bundle is not None else "{}", **kw)
        self.concurrency = concurrency
        self.first_push_validate = first_push_validate
        self.ecds_dir = self.dir / "ecds"
        self.ecds_dir.mkdir()
        self.pushes = 0

    def start(self, timeout=30):
        if self.first_bundle is not None:
            self.push(self.first_bundle, validate=self.first_push_validate)
        return super().start(timeout)

    def config(self):
        """envoy/ecds.yaml, rendered by envoy/render.py: the filter arrives by ECDS from
        `ecds_dir` (which the renderer gives a deny-all configuration if nothing was pushed)."""
        return render.render_ecds(
            str(self.ecds_dir), ca=str(self.h.pki.ca), server_cert=str(self.h.pki.server[0]),
            server_key=str(self.h.pki.server[1]), wasm=str(self.wasm), listen_port=self.listen_port,
            echo_port=self.h.echo.port, require_client_cert=self.require_client_cert,
            node_metadata=self.node_metadata, cli=str(CLI),
        )

    def _ready(self):
        """Ready once the listener serves AND the first file in the directory was read by ECDS
        (applied, or rejected: the default configuration then serves)."""
        self.port = self._inbound_port()
        stats = self.ecds_stats() if self.port else {}
        if self.port and stats.get("config_reload", 0) + stats.get("config_fail", 0) >= 1:
            self.ports = [self.port]
            return True
        return False

    def _inbound_port(self):
        """The port of the inbound_mtls listener once it listens, else None."""
        try:
            status = json.loads(self.admin("/listeners?format=json"))
            for ls in status.get("listener_statuses", []):
                if ls["name"] == "inbound_mtls":
                    return ls["local_address"]["socket_address"].get("port_value")
        except (OSError, ValueError, KeyError):
            return None
        return None

    def push(self, bundle, validate=True):
        """Pushes a bundle (path, dict or JSON text) with `spiffe-authz push`; returns the version.
        validate=False pushes even a bundle the engine refuses (Envoy must then reject it)."""
        text = harness._bundle_text(bundle)
        self.pushes += 1
        src = self.dir / f"push-{self.pushes}.json"
        src.write_text(text)
        args = [str(CLI), "push", "--bundle", str(src), "--dir", str(self.ecds_dir), "--wasm", str(self.wasm)]
        if not validate:
            args.append("--no-validate")
        out = subprocess.run(args, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"spiffe-authz push failed: {out.stderr.strip()}")
        return out.stdout.strip()

    def ecds_stats(self):
        """The ECDS provider's counters for the filter: config_reload, config_fail, ..."""
        out = {}
        for line in self.admin("/stats?filter=extension_config_discovery").splitlines():
            name, _, value = line.partition(": ")
            if name.startswith(ECDS_PREFIX) and value.strip().isdigit():
                out[name[len(ECDS_PREFIX):]] = int(value)
        return out

    def wait_ecds(self, key, above, timeout=10):
        """Waits until ecds_stats()[key] > above; returns the new value (or None on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = self.ecds_stats().get(key, 0)
            if v > above:
                return v
            time.sleep(0.01)
        return None

"""Delivery as a user does it, through real Envoy:

- Kubernetes YAML manifests → `spiffe-authz bundle` → the same decisions in Envoy as the
  fixture's cases say;
- `spiffe-authz package` → an OCI image layout checked independently here (hashlib, tarfile,
  gzip: every digest, size and media type of the Wasm image spec's compat variant), whose
  plugin.wasm Envoy loads and enforces with.
"""
import gzip
import hashlib
import io
import json
import pathlib
import subprocess
import tarfile
import tempfile
import unittest

from ecds import CLI
from harness import ROOT, WASM, Harness

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def cli(*args):
    out = subprocess.run([str(CLI), *args], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise AssertionError(f"spiffe-authz {' '.join(args)}: {out.stderr}")
    return out.stdout


class Delivery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()
        cls.tmp = tempfile.TemporaryDirectory(prefix="delivery-", dir=cls.h.dir)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_yaml_manifests_to_bundle_decide_in_envoy_as_the_fixture(self):
        out = f"{self.tmp.name}/backend.json"
        cli("bundle", "-f", "policies/istio/manifests/backend.yaml", "--workload-namespace", "myapp",
            "--workload-service-account", "backend-sa", "--workload-label", "app=backend",
            "--trust-domain", "cluster.local", "--output-file", out)
        fixture = json.loads((ROOT / "policies/istio/seed-001-backend.json").read_text())
        self.assertEqual(json.loads(pathlib.Path(out).read_text()), fixture)
        cases = json.loads((ROOT / "policies/istio/seed-001-backend.cases.json").read_text())
        cases["bundle"] = out
        cases_path = f"{self.tmp.name}/backend.cases.json"
        pathlib.Path(cases_path).write_text(json.dumps(cases))
        self.assertEqual(self.h.run_case_file(cases_path), [])

    def test_oci_layout_is_a_wasm_image_envoy_can_run(self):
        layout = f"{self.tmp.name}/oci"
        digest = cli("package", "--wasm", str(WASM), "--out", layout, "--tag", "e2e").strip()
        blobs = f"{layout}/blobs/sha256"

        def blob(d):
            self.assertTrue(d.startswith("sha256:"), d)
            data = pathlib.Path(f"{blobs}/{d[7:]}").read_bytes()
            self.assertEqual(hashlib.sha256(data).hexdigest(), d[7:], "blob not named by its digest")
            return data

        self.assertEqual(json.loads(pathlib.Path(f"{layout}/oci-layout").read_text()), {"imageLayoutVersion": "1.0.0"})
        index = json.loads(pathlib.Path(f"{layout}/index.json").read_text())
        [m] = index["manifests"]
        self.assertEqual((m["mediaType"], m["digest"]), (MANIFEST, digest))
        self.assertEqual(m["annotations"]["org.opencontainers.image.ref.name"], "e2e")
        raw = blob(m["digest"])
        self.assertEqual(m["size"], len(raw))
        manifest = json.loads(raw)
        self.assertEqual(manifest["annotations"]["module.wasm.image/variant"], "compat")
        [layer] = manifest["layers"]
        self.assertEqual(layer["mediaType"], LAYER)
        gz = blob(layer["digest"])
        self.assertEqual(layer["size"], len(gz))
        config = json.loads(blob(manifest["config"]["digest"]))
        tar_bytes = gzip.decompress(gz)
        self.assertEqual(config["rootfs"]["diff_ids"], ["sha256:" + hashlib.sha256(tar_bytes).hexdigest()])
        with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as t:
            self.assertEqual(t.getnames(), ["plugin.wasm"])
            module = t.extractfile("plugin.wasm").read()
        self.assertEqual(module, WASM.read_bytes())
        # The packaged module is the filter: Envoy loads it and enforces.
        extracted = f"{self.tmp.name}/plugin.wasm"
        pathlib.Path(extracted).write_bytes(module)
        with self.h.envoy("policies/istio/seed-001-backend.json", wasm=extracted) as envoy:
            ok = envoy.request("spiffe://cluster.local/ns/myapp/sa/frontend-sa", "GET", "/api/profile")
            no = envoy.request("spiffe://cluster.local/ns/myapp/sa/other", "GET", "/api/profile")
        self.assertEqual((ok.status, no.status), (200, 403))
        # `wasmplugin --oci-layout` puts this manifest digest in WasmPlugin.spec.sha256.
        plugin = cli("wasmplugin", "--bundle", "policies/istio/seed-001-backend.json",
                     "--url", "oci://registry.example/spiffe-authz:e2e", "--oci-layout", layout)
        self.assertIn(f"sha256: {digest[7:]}", plugin)


if __name__ == "__main__":
    unittest.main()

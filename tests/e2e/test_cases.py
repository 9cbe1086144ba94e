"""Every policies/**/*.cases.json through a real Envoy: one Envoy, one listener per file.

The same files run natively and in a wasm VM (tests/conformance.rs); here each case is a real
HTTPS (or gRPC) request with a client certificate for its principal. Cases with `port`,
`sourceIp` or `"e2e": false` are skipped (loopback cannot fake them). New cases files are picked
up automatically: dialect tests need not run their cases files again.
"""
import unittest

from harness import Harness, ROOT, case_files


class CaseFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()

    def test_every_case_file(self):
        files = case_files()
        self.assertTrue(files, "no policies/**/*.cases.json found")
        for path, failures in self.h.run_case_files(files).items():
            with self.subTest(path=str(path.relative_to(ROOT))):
                self.assertEqual(failures, [])


if __name__ == "__main__":
    unittest.main()

"""The owners' cases that name a destination port or a client address, through real Envoy.

test_owners.py runs every other request case of tests/owners/**/*.json. The cases here (most of
Linkerd's: a Server is chosen by port, networks by the client address) need a listener on a
given port and a client on a given address; owners_addressed.py reproduces both inside a
private network namespace (`unshare -n`, root only). IPv6 client addresses stay native and wasm
only (the listener is IPv4).
"""
import ipaddress
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

from harness import ROOT, owner_suites

HERE = pathlib.Path(__file__).resolve().parent


def addressed(case):
    return "port" in case or "sourceIp" in case


def reproducible(case):
    """Loopback in a private namespace can reproduce it: no JWT, no IPv6 client, not opted out."""
    if "jwt" in case or case.get("e2e", True) is False:
        return False
    ip = case.get("sourceIp")
    return ip is None or ipaddress.ip_address(ip).version == 4


def items():
    """[(label, bundle, cases)] of the loadable groups' addressed cases; and how many were left."""
    out, left = [], 0
    for path in owner_suites():
        suite = json.loads(path.read_text())
        for g in suite["groups"]:
            if g.get("load", "ok") != "ok":
                continue
            cases = [c for c in g.get("cases", []) if addressed(c)]
            run = [c for c in cases if reproducible(c)]
            left += len(cases) - len(run)
            if run:
                out.append((f"{path.relative_to(ROOT)} [{g['name']}]", g["bundle"], run))
    return out, left


class AddressedOwnerCases(unittest.TestCase):
    def test_port_and_address_cases_through_envoy(self):
        todo, left = items()
        if not todo:
            self.skipTest("no owner case names a port or a client address")
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "items.json"), os.path.join(d, "results.json")
            with open(src, "w") as f:
                json.dump(todo, f)
            cmd = ["unshare", "-n", "--", sys.executable, str(HERE / "owners_addressed.py"), src, dst]
            p = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True, timeout=1800)
            self.assertEqual(p.returncode, 0, f"{' '.join(cmd)} failed (root is needed):\n{p.stderr[-4000:]}")
            with open(dst) as f:
                results = json.load(f)
        cases = sum(len(cs) for _, _, cs in todo)
        for label, failures in sorted(results.items()):
            with self.subTest(listener=label):
                self.assertEqual(failures, [])
        print(f"\nowner cases with a port or client address through Envoy: {cases} cases on "
              f"{len(results)} listeners ({left} IPv6 or JWT cases native and wasm only)")


if __name__ == "__main__":
    unittest.main()

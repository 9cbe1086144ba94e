"""Regenerates tests/owners/istio/*.json from the istio/istio snapshot (common.COMMIT).

    python3 tests/owners/istio/tools/regenerate.py [OUT_DIR]   # default: tests/owners/istio

Reads the owner's files with `git show` from ISTIO_MIRROR (default /work/.mirror/istio+istio/repo).
Expected decisions come from the owner: the builder's -out.yaml (the Envoy RBAC istiod generates)
evaluated by oracle.py, the unit tests' stated matches, the integration test's expectations.
Needs PyYAML.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402
import gen_builder  # noqa: E402
import gen_integration  # noqa: E402
import gen_tcp  # noqa: E402
import gen_units  # noqa: E402
import gen_validation  # noqa: E402


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(HERE)
    gen_builder.main(out)
    gen_tcp.main(out)
    gen_validation.main(out)
    gen_integration.main(out)
    for name, suite in (("security", gen_units.security_suite), ("model", gen_units.model_suite),
                        ("matcher", gen_units.matcher_suite), ("trustdomain", gen_units.trustdomain_suite)):
        s = suite()
        common.write(os.path.join(out, f"{name}.json"), s)
        print(name, len(s["groups"]), "groups", sum(1 + len(g["cases"]) for g in s["groups"]), "cases")


if __name__ == "__main__":
    main()

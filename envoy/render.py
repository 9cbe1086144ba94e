#!/usr/bin/env python3
"""Renders the Envoy configurations in envoy/: fills their placeholders ($NAME in braces) and
prints a plain Envoy bootstrap.

    # envoy/envoy.yaml: the bundle inside the bootstrap
    python3 envoy/render.py --bundle policies/istio/seed-001-backend.json --certs DIR > envoy.yaml

    # envoy/ecds.yaml: the filter and its bundle arrive by ECDS from a watched directory; Envoy
    # starts and refuses every request until the first `spiffe-authz push --dir ECDS_DIR`
    python3 envoy/render.py --ecds-dir ECDS_DIR --certs DIR > envoy.yaml

    common options: [--wasm dist/spiffe_authz.wasm] [--listen-port 10443] [--admin-port 9901]
        [--echo-port 8080] [--grpc-port 50051] [--optional-client-cert]
        [--node-metadata '{"NAMESPACE": "myapp", "LABELS": {"app": "backend"}}']

DIR holds ca.crt, server.crt and server.key. With --ecds-dir, the directory is created and, when
it holds no configuration yet, given a deny-all one (written by `spiffe-authz push`, --cli):
Envoy's file subscription requires the file to exist at start-up.

Importable: render(bundle_text, ...) and render_ecds(ecds_dir, ...) return the YAML text.
"""
import argparse
import json
import os
import string
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
STATIC = os.path.join(HERE, "envoy.yaml")
ECDS = os.path.join(HERE, "ecds.yaml")
WASM = os.path.join(ROOT, "dist", "spiffe_authz.wasm")
CLI = os.path.join(ROOT, "dist", "spiffe-authz")
# What the filter runs before the first push: no resources, so settings.defaultAction decides.
DENY_ALL = '{"settings": {"defaultAction": "deny"}, "resources": []}'
ECDS_FILE = "spiffe_authz.json"


# Every placeholder's value but the certificates' (ca, server_cert, server_key: required).
DEFAULTS = dict(wasm=WASM, listen_port=0, admin_port=0, echo_port=8080, grpc_port=50051,
                require_client_cert=True, node_metadata=None)


def _substitute(template, *, ca, server_cert, server_key, extra, **given):
    unknown = set(given) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown option(s) {sorted(unknown)}")
    v = {**DEFAULTS, **given}
    with open(template) as f:
        return string.Template(f.read()).substitute(
            ADMIN_PORT=int(v["admin_port"]),
            LISTEN_PORT=int(v["listen_port"]),
            ECHO_PORT=int(v["echo_port"]),
            GRPC_PORT=int(v["grpc_port"]),
            SERVER_CERT=server_cert,
            SERVER_KEY=server_key,
            CA=ca,
            REQUIRE_CLIENT_CERT="true" if v["require_client_cert"] else "false",
            WASM=v["wasm"],
            NODE_METADATA=json.dumps(v["node_metadata"] or {}),
            **extra,
        )


def render(bundle_text, *, normalization=True, use_remote_address=True, reject_underscores=True, **options):
    """envoy/envoy.yaml for one Envoy. `bundle_text` is the bundle JSON, passed verbatim.
    options: ca, server_cert, server_key (PEM paths), and any of DEFAULTS.
    normalization=False turns Envoy's path normalization off (Envoy's own defaults), to prove the
    filter alone keeps policy and backend on one path. use_remote_address=False makes Envoy take
    source.address from X-Forwarded-For (Envoy's default, and Istio's sidecar inbound listener);
    reject_underscores=False lets header names with `_` through (Envoy's and Istio sidecars'
    default)."""
    # JSON is YAML: a JSON string literal carries the bundle byte for byte.
    text = _substitute(STATIC, extra={"BUNDLE": json.dumps(bundle_text)}, **options)
    changes = []
    if not normalization:
        changes += [
            ("normalize_path: true", "normalize_path: false"),
            ("merge_slashes: true", "merge_slashes: false"),
            ("path_with_escaped_slashes_action: REJECT_REQUEST", "path_with_escaped_slashes_action: KEEP_UNCHANGED"),
        ]
    if not use_remote_address:
        changes.append(("use_remote_address: true", "use_remote_address: false"))
    if not reject_underscores:
        changes.append(("headers_with_underscores_action: REJECT_REQUEST", "headers_with_underscores_action: ALLOW"))
    for on, off in changes:
        if on not in text:
            raise ValueError(f"envoy.yaml no longer says {on!r}: update render()")
        text = text.replace(on, off)
    return text


def render_ecds(ecds_dir, *, cli=CLI, **options):
    """envoy/ecds.yaml for one Envoy, after preparing `ecds_dir` (see prepare_ecds_dir).
    options: as render's."""
    prepare_ecds_dir(ecds_dir, wasm=options.get("wasm", WASM), cli=cli)
    return _substitute(ECDS, extra={"ECDS_DIR": os.path.abspath(ecds_dir)}, **options)


def prepare_ecds_dir(ecds_dir, *, wasm=WASM, cli=CLI):
    """Creates the watched directory and, if it has no configuration yet, pushes the deny-all
    bundle into it (with `spiffe-authz push`, so the file is exactly what later pushes write)."""
    os.makedirs(ecds_dir, exist_ok=True)
    if os.path.exists(os.path.join(ecds_dir, ECDS_FILE)):
        return
    out = subprocess.run(
        [cli, "push", "--bundle", "-", "--dir", ecds_dir, "--wasm", wasm],
        input=DENY_ALL, capture_output=True, text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{cli} push (deny-all until the first push) failed: {out.stderr.strip()}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--bundle", help="render envoy/envoy.yaml with this bundle inside")
    which.add_argument("--ecds-dir", help="render envoy/ecds.yaml: the bundle arrives by ECDS from this directory")
    p.add_argument("--certs", required=True, help="directory with ca.crt, server.crt, server.key")
    p.add_argument("--wasm", default=WASM)
    p.add_argument("--cli", default=CLI, help="spiffe-authz, for --ecds-dir's first file")
    p.add_argument("--listen-port", type=int, default=10443)
    p.add_argument("--admin-port", type=int, default=9901)
    p.add_argument("--echo-port", type=int, default=8080)
    p.add_argument("--grpc-port", type=int, default=50051)
    p.add_argument("--optional-client-cert", action="store_true")
    p.add_argument("--node-metadata", default="{}", help="JSON object")
    a = p.parse_args()
    common = dict(
        ca=os.path.abspath(os.path.join(a.certs, "ca.crt")),
        server_cert=os.path.abspath(os.path.join(a.certs, "server.crt")),
        server_key=os.path.abspath(os.path.join(a.certs, "server.key")),
        wasm=os.path.abspath(a.wasm),
        listen_port=a.listen_port,
        admin_port=a.admin_port,
        echo_port=a.echo_port,
        grpc_port=a.grpc_port,
        require_client_cert=not a.optional_client_cert,
        node_metadata=json.loads(a.node_metadata),
    )
    if a.ecds_dir:
        sys.stdout.write(render_ecds(os.path.abspath(a.ecds_dir), cli=a.cli, **common))
    else:
        with open(a.bundle) as f:
            bundle = f.read()
        sys.stdout.write(render(bundle, **common))


if __name__ == "__main__":
    main()

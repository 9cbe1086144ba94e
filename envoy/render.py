#!/usr/bin/env python3
"""Renders envoy/envoy.yaml: fills its placeholders ($NAME in braces) and prints a plain Envoy bootstrap.

    python3 envoy/render.py --bundle policies/istio/seed-001-backend.json --certs DIR \
        [--wasm dist/spiffe_authz.wasm] [--listen-port 10443] [--admin-port 9901] \
        [--echo-port 8080] [--grpc-port 50051] [--optional-client-cert] \
        [--node-metadata '{"NAMESPACE": "myapp", "LABELS": {"app": "backend"}}']

DIR holds ca.crt, server.crt and server.key. Importable: render(values) returns the YAML text.
"""
import argparse
import json
import os
import string
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, "envoy.yaml")
ROOT = os.path.dirname(HERE)


def render(
    bundle_text,
    *,
    ca,
    server_cert,
    server_key,
    wasm=os.path.join(ROOT, "dist", "spiffe_authz.wasm"),
    listen_port=0,
    admin_port=0,
    echo_port=8080,
    grpc_port=50051,
    require_client_cert=True,
    node_metadata=None,
    normalization=True,
    use_remote_address=True,
    reject_underscores=True,
):
    """The bootstrap YAML for one Envoy. `bundle_text` is the bundle JSON, passed verbatim.
    normalization=False turns Envoy's path normalization off (Envoy's own defaults), to prove the
    filter alone keeps policy and backend on one path. use_remote_address=False makes Envoy take
    source.address from X-Forwarded-For (Envoy's default, and Istio's sidecar inbound listener);
    reject_underscores=False lets header names with `_` through (Envoy's and Istio sidecars'
    default)."""
    with open(TEMPLATE) as f:
        template = string.Template(f.read())
    text = template.substitute(
        ADMIN_PORT=int(admin_port),
        LISTEN_PORT=int(listen_port),
        ECHO_PORT=int(echo_port),
        GRPC_PORT=int(grpc_port),
        SERVER_CERT=server_cert,
        SERVER_KEY=server_key,
        CA=ca,
        REQUIRE_CLIENT_CERT="true" if require_client_cert else "false",
        WASM=wasm,
        # JSON is YAML: a JSON string literal carries the bundle byte for byte.
        BUNDLE=json.dumps(bundle_text),
        NODE_METADATA=json.dumps(node_metadata or {}),
    )
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


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bundle", required=True)
    p.add_argument("--certs", required=True, help="directory with ca.crt, server.crt, server.key")
    p.add_argument("--wasm", default=os.path.join(ROOT, "dist", "spiffe_authz.wasm"))
    p.add_argument("--listen-port", type=int, default=10443)
    p.add_argument("--admin-port", type=int, default=9901)
    p.add_argument("--echo-port", type=int, default=8080)
    p.add_argument("--grpc-port", type=int, default=50051)
    p.add_argument("--optional-client-cert", action="store_true")
    p.add_argument("--node-metadata", default="{}", help="JSON object")
    a = p.parse_args()
    with open(a.bundle) as f:
        bundle = f.read()
    sys.stdout.write(
        render(
            bundle,
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
    )


if __name__ == "__main__":
    main()

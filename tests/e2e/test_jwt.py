"""JWT end to end: Envoy's jwt_authn validates locally signed tokens (RS256, keys made here with
the openssl CLI, JWKS inline) and leaves the payload in the stream's metadata, keyed by issuer as
Istio configures it; the filter decides Istio `requestPrincipals` and `request.auth.*` on it.

Every case of policies/istio/jwt.cases.json runs here with a real token signed for its `jwt`
payload. A token that does not verify never reaches the filter (jwt_authn answers 401), and a
client cannot put a payload in the metadata itself.
"""
import base64
import json
import pathlib
import subprocess
import time
import unittest

import harness
from harness import ROOT, Harness

ISSUERS = ["https://issuer.example", "https://other.example"]


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Signer:
    """An RSA key, its JWKS, and RS256 tokens, with the openssl CLI."""

    def __init__(self, directory, name, kid="k1"):
        self.key = pathlib.Path(directory) / f"jwt-{name}.key"
        self.kid = kid
        subprocess.run(["openssl", "genrsa", "-out", str(self.key), "2048"], check=True, capture_output=True)
        out = subprocess.run(["openssl", "rsa", "-in", str(self.key), "-noout", "-modulus"], check=True,
                             capture_output=True, text=True).stdout
        modulus = bytes.fromhex(out.strip().split("=", 1)[1])
        self.jwks = json.dumps({"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
                                          "n": b64(modulus), "e": "AQAB"}]})

    def token(self, payload):
        claims = {"exp": int(time.time()) + 600, **payload}
        head = b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": self.kid}).encode())
        body = b64(json.dumps(claims).encode())
        signing_input = f"{head}.{body}".encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)], input=signing_input,
                             check=True, capture_output=True).stdout
        return f"{head}.{body}.{b64(sig)}"


def jwt_authn(jwks):
    """The jwt_authn filter as an http_filters entry (flow YAML, one line): one provider per
    issuer, payload in metadata under the issuer (as Istio's RequestAuthentication does); a
    request without a token passes on, one with a token that does not verify gets 401."""
    providers = {
        f"p{i}": {"issuer": iss, "local_jwks": {"inline_string": jwks}, "payload_in_metadata": iss, "forward": True}
        for i, iss in enumerate(ISSUERS)
    }
    reqs = [{"provider_name": p} for p in providers] + [{"allow_missing": {}}]
    return json.dumps({
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
            "providers": providers,
            "rules": [{"match": {"prefix": "/"}, "requires": {"requires_any": {"requirements": reqs}}}],
        },
    })


class JwtEnvoy(harness.Envoy):
    """harness.Envoy with jwt_authn placed before the spiffe_authz filter."""

    def __init__(self, h, bundle, jwks, **kw):
        super().__init__(h, bundle, **kw)
        self.jwks = jwks

    def config(self):
        cfg = super().config()
        anchor = "          - name: spiffe_authz\n"
        if anchor not in cfg:
            raise ValueError("envoy/envoy.yaml no longer has the spiffe_authz filter entry: update test_jwt.py")
        return cfg.replace(anchor, f"          - {jwt_authn(self.jwks)}\n" + anchor, 1)


class Jwt(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = Harness.shared()
        cls.signer = Signer(cls.h.dir, "issuer")

    def test_cases_with_real_tokens(self):
        cf = json.loads((ROOT / "policies/istio/jwt.cases.json").read_text())
        failures, ran = [], 0
        with JwtEnvoy(self.h, cf["bundle"], self.signer.jwks, require_client_cert=False) as envoy:
            for case in cf["cases"]:
                headers = []
                if case.get("jwt"):
                    headers.append(("authorization", f"Bearer {self.signer.token(case['jwt'])}"))
                r = envoy.request(case.get("principal"), case.get("method", "GET"), case.get("path", "/"),
                                  headers=headers)
                ran += 1
                want = 200 if case["expect"] == "allow" else 403
                if r.status != want:
                    failures.append(f"{case['name']}: expected {want}, got {r.status} {r.text.strip()!r}")
                elif want == 403 and case.get("policy") and case["policy"] not in r.text:
                    failures.append(f"{case['name']}: {r.text.strip()!r} does not name {case['policy']}")
        self.assertEqual(failures, [])
        self.assertEqual(ran, len(cf["cases"]))

    def test_unverified_tokens_never_reach_the_filter(self):
        forger = Signer(self.h.dir, "forger", kid="k1")  # same kid, another key
        admin = {"iss": ISSUERS[0], "sub": "mallory", "groups": ["admin"]}
        with JwtEnvoy(self.h, "policies/istio/jwt.json", self.signer.jwks) as envoy:
            me = "spiffe://cluster.local/ns/web/sa/web"
            forged = envoy.request(me, "GET", "/admin/x", headers=[("authorization", f"Bearer {forger.token(admin)}")])
            expired = envoy.request(me, "GET", "/admin/x", headers=[
                ("authorization", f"Bearer {self.signer.token({**admin, 'exp': int(time.time()) - 3600})}")])
            # A payload-shaped header is just a header: no metadata, no JWT, the DENY applies.
            spoof = envoy.request(me, "GET", "/admin/x", headers=[("x-jwt-payload", b64(json.dumps(admin).encode()))])
            good = envoy.request(me, "GET", "/admin/x", headers=[("authorization", f"Bearer {self.signer.token(admin)}")])
        self.assertEqual((forged.status, expired.status), (401, 401))
        self.assertEqual(spoof.status, 403)
        self.assertIn("require-jwt-for-admin", spoof.text)
        self.assertEqual(good.status, 200)


if __name__ == "__main__":
    unittest.main()

"""RequestAuthentication: JWTs checked by the proxy (Envoy's jwt_authn filter as Istio configures it).

A request without a token passes (only an AuthorizationPolicy can require one); a token that is present must be
valid for one of the jwtRules (issuer, audiences, RS256 signature against the rule's inline jwks, exp), else the
proxy answers 401. Tokens and keys are real: `Issuer` signs with an RSA key made by `cryptography`.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass

__all__ = ["Issuer", "verify", "jwks_for", "NOW", "ISTIO_SAMPLE_JWKS"]

NOW = 1796342400          # the simulated clock's "now" for exp/nbf checks (2026-12-04T00:00:00Z)

# What istiod fetches from the jwksUri the Istio docs' JWT tasks use: the public key of the sample tokens
# (istio/istio security/tools/jwt/samples/jwks.json, which verifies demo.jwt and groups-scope.jwt there).
ISTIO_SAMPLE_JWKS = (
    '{ "keys":[ {"e":"AQAB","kid":"DHFbpoIUqrY8t2zpA2qXfCmr5VO5ZEr4RzHU_-envvQ","kty":"RSA","n":"xAE7eB6qugXyCAG3yhh7'
    'pkDkT65pHymX-P7KfIupjf59vsdo91bSP9C8H07pSAGQO1MV_xFj9VswgsCg4R6otmg5PV2He95lZdHtOcU5DXIg_pbhLdKXbi66GlVeK6ABZOUW3'
    'WYtnNHD-91gVuoeJT_DwtGGcp4ignkgXfkiEm4sw-4sfb4qdt5oLbyVpmW6x9cfa7vs2WTfURiCrBoUqgBo_-4WTiULmmHSGZHOjzwa8WtrtOQGs'
    'AFjIbno85jp6MnGGGZPYZbDAa_b3y5u-YpW7ypZrvD8BgtKVjgtQgZhLAGezMt0ua3DRrWnKqTZ0BJ_EyxOGuHJrLsn00fnMQ"}]}')


def jwks_for(rule: dict) -> str:
    """The rule's key set: inline `jwks`, the Istio samples' jwksUri, or — a jwksUri the simulated istiod
    cannot fetch — an empty set, so every token fails (istiod's fallback when a JWKS fetch fails)."""
    if rule.get("jwks"):
        return rule["jwks"]
    uri = str(rule.get("jwksUri") or "")
    if uri.startswith("https://raw.githubusercontent.com/istio/istio/") and \
            uri.endswith("/security/tools/jwt/samples/jwks.json"):
        return ISTIO_SAMPLE_JWKS
    return '{"keys": []}'


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_b64(n: int) -> str:
    return _b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))


@dataclass
class Issuer:
    """A token issuer with its own RSA key: `.jwks` goes in a jwtRule, `.token(sub)` makes a signed JWT."""

    issuer: str
    kid: str = "kubelab-key"

    def __post_init__(self):
        from cryptography.hazmat.primitives.asymmetric import rsa
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def jwks(self) -> str:
        numbers = self._key.public_key().public_numbers()
        return json.dumps({"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
                                     "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}]})

    def token(self, sub: str, exp: int = NOW + 3600, **claims) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        header = _b64(json.dumps({"alg": "RS256", "kid": self.kid, "typ": "JWT"}).encode())
        body = _b64(json.dumps({"iss": self.issuer, "sub": sub, "exp": exp, **claims}, sort_keys=True).encode())
        signature = self._key.sign(f"{header}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{header}.{body}.{_b64(signature)}"


def _signature_ok(jwks_text: str, kid: str | None, signed: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    try:
        keys = json.loads(jwks_text).get("keys") or []
    except ValueError:
        return False
    for key in keys:
        if key.get("kty") != "RSA" or (kid and key.get("kid") and key["kid"] != kid):
            continue
        public = rsa.RSAPublicNumbers(int.from_bytes(_unb64(key["e"]), "big"),
                                      int.from_bytes(_unb64(key["n"]), "big")).public_key()
        try:
            public.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            return True
        except InvalidSignature:
            continue
    return False


def _token_from(rule: dict, headers: dict) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    for spot in rule.get("fromHeaders") or [{"name": "Authorization", "prefix": "Bearer "}]:
        value = lowered.get(spot["name"].lower())
        prefix = spot.get("prefix", "")
        if value and value.startswith(prefix):
            return value[len(prefix):].strip()
    return None


def verify(policies: list[dict], headers: dict):
    """None: no token (the request goes on without a request principal); (401, why): a token none of the
    jwtRules accepts; ("ok", "<iss>/<sub>", claims): the request principal and the token's claims."""
    rules = [r for p in sorted(policies, key=lambda p: p["metadata"]["name"])
             for r in (p.get("spec") or {}).get("jwtRules") or []]
    token = next((t for t in (_token_from(r, headers) for r in rules) if t), None)
    if token is None:
        return None
    parts = token.split(".")
    if len(parts) != 3:
        return 401, "Jwt is not in the form of Header.Payload.Signature"
    try:
        header = json.loads(_unb64(parts[0]))
        payload = json.loads(_unb64(parts[1]))
        signature = _unb64(parts[2])
    except ValueError:
        return 401, "Jwt is not in the form of Header.Payload.Signature"
    matching = [r for r in rules if r.get("issuer") == payload.get("iss")]
    if not matching:
        return 401, f"Jwt issuer {payload.get('iss')!r} is not configured"
    for rule in matching:
        audiences = rule.get("audiences") or []
        aud = payload.get("aud")
        token_aud = aud if isinstance(aud, list) else ([aud] if aud else [])
        if audiences and not set(audiences) & set(token_aud):
            return 401, "Audiences in Jwt are not allowed"
        if not _signature_ok(jwks_for(rule), header.get("kid"), f"{parts[0]}.{parts[1]}".encode(), signature):
            continue
        if isinstance(payload.get("exp"), (int, float)) and payload["exp"] < NOW:
            return 401, "Jwt is expired"
        return "ok", f"{payload['iss']}/{payload.get('sub', '')}", payload
    return 401, "Jwt verification fails"

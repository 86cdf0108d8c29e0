"""TLS Secrets (type kubernetes.io/tls): read the certificate itself (SANs, validity, key pair) and make
real self-signed certificates for lessons and tests, with `cryptography`."""
from __future__ import annotations

import base64
import datetime
import functools
from dataclasses import dataclass

from .match import host_matches

__all__ = ["CertificateInfo", "read_tls_secret", "make_tls_secret", "certificate_covers", "FAKE_CERTIFICATE_CN",
           "SIMULATED_NOW"]

FAKE_CERTIFICATE_CN = "Kubernetes Ingress Controller Fake Certificate"   # ingress-nginx's default certificate
# the simulated clock's "now" for certificate validity: fixed, so verdicts do not change from day to day
SIMULATED_NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)


@dataclass(frozen=True)
class CertificateInfo:
    """What a controller reads from a TLS Secret; `problem` says why it cannot be used (None: usable)."""

    subject_cn: str | None = None
    dns_names: tuple = ()
    not_before: str = ""
    not_after: str = ""
    problem: str | None = None

    @property
    def names(self) -> tuple:
        """The names the certificate is valid for: its SAN DNS names (RFC 6125), else the subject CN."""
        return self.dns_names or ((self.subject_cn,) if self.subject_cn else ())

    def expired(self, now: datetime.datetime = SIMULATED_NOW) -> bool:
        return bool(self.not_after) and self.not_after < now.strftime("%Y-%m-%dT%H:%M:%SZ")

    def covers(self, host: str) -> bool:
        return certificate_covers(self.names, host)


def certificate_covers(names, host: str) -> bool:
    """RFC 6125 §6.4.3: a name matches the host exactly, or a "*." name matches one left-most label."""
    host = host.lower()
    return any(host_matches(n.lower(), host) for n in names)


def _decode(value: str | None) -> bytes | None:
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        return None


def read_tls_secret(secret: dict) -> CertificateInfo:
    """Parse data["tls.crt"] and data["tls.key"] (base64 PEM; stringData too) and check they form a pair."""
    data = dict(secret.get("data") or {})
    text = secret.get("stringData") or {}
    crt = _decode(data.get("tls.crt")) or (text.get("tls.crt") or "").encode() or None
    key = _decode(data.get("tls.key")) or (text.get("tls.key") or "").encode() or None
    if not crt or not key:
        return CertificateInfo(problem="the Secret has no tls.crt or no tls.key")
    return _parse(crt, key)


@functools.lru_cache(maxsize=512)
def _parse(crt: bytes, key: bytes) -> CertificateInfo:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_pem_x509_certificate(crt)
    except ValueError as exc:
        return CertificateInfo(problem=f"tls.crt is not a PEM certificate ({exc})")
    try:
        private = serialization.load_pem_private_key(key, password=None)
    except (ValueError, TypeError) as exc:
        return CertificateInfo(problem=f"tls.key is not an unencrypted PEM private key ({exc})")
    cn = next((a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)), None)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = tuple(san.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        dns_names = ()
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    info = CertificateInfo(cn, dns_names, cert.not_valid_before_utc.strftime(fmt), cert.not_valid_after_utc.strftime(fmt))
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    if private.public_key().public_bytes(enc, pub) != cert.public_key().public_bytes(enc, pub):
        return CertificateInfo(cn, dns_names, info.not_before, info.not_after,
                               problem="tls.key does not belong to tls.crt (the key pair does not match)")
    return info


@functools.lru_cache(maxsize=128)
def _make(hosts: tuple, seed: int, not_before: str, days: int) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    # a key derived from the seed, so the same call makes the same key pair
    private = ec.derive_private_key(1000003 + seed * 7919 + sum(map(ord, ",".join(hosts))), ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    start = datetime.datetime.strptime(not_before, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
            .serial_number(1000 + seed).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
            .sign(private, hashes.SHA256()))
    crt = cert.public_bytes(serialization.Encoding.PEM).decode()
    key = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return crt, key


def make_tls_secret(name: str, namespace: str, hosts, *, seed: int = 0, not_before: str = "2026-01-01",
                    days: int = 365) -> dict:
    """A kubernetes.io/tls Secret holding a real self-signed certificate for `hosts` (SANs) and its key."""
    hosts = tuple(hosts)
    if not hosts:
        raise ValueError("make_tls_secret needs at least one host name for the certificate")
    crt, key = _make(hosts, seed, not_before, days)
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": namespace},
            "data": {"tls.crt": base64.b64encode(crt.encode()).decode(),
                     "tls.key": base64.b64encode(key.encode()).decode()}}

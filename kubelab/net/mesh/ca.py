"""istiod's certificate authority, simulated with `cryptography`: a self-signed root for the trust domain and
one short-lived workload certificate per identity, its SPIFFE id as the URI SAN (Istio's self-signed CA:
security/pkg/pki/ca, the certificate a sidecar gets over SDS).

Keys are Ed25519 derived from the lab's seed and the identity, and the validity window starts at a fixed
simulated date, so certificates, fingerprints and the X-Forwarded-Client-Cert Hash are the same on every run.
"""
from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

__all__ = ["MeshCA", "CertificateInfo", "NOT_BEFORE"]

NOT_BEFORE = datetime.datetime(2026, 12, 4, 0, 0, 0, tzinfo=datetime.timezone.utc)
ROOT_LIFETIME = datetime.timedelta(days=3650)        # istiod's self-signed root: 10 years
WORKLOAD_LIFETIME = datetime.timedelta(hours=24)     # workload certificates: 24 hours


@dataclass(frozen=True)
class CertificateInfo:
    """What `openssl x509 -text` would show of a certificate, in a few fields."""

    subject: str
    issuer: str
    uris: tuple
    not_before: str
    not_after: str
    serial: int
    sha256: str
    is_ca: bool

    def __str__(self) -> str:
        lines = [f"subject: {self.subject or '(empty)'}", f"issuer: {self.issuer}",
                 f"validity: {self.not_before} -> {self.not_after}", f"CA: {'yes' if self.is_ca else 'no'}"]
        lines += [f"URI SAN: {u}" for u in self.uris]
        lines.append(f"SHA-256 fingerprint: {self.sha256}")
        return "\n".join(lines)


class MeshCA:
    """A trust domain's root and the workload certificates it signs (made once per identity)."""

    def __init__(self, trust_domain: str = "cluster.local", seed: int = 0):
        from cryptography import x509
        from cryptography.x509.oid import NameOID

        self.trust_domain = trust_domain
        self.seed = seed
        self._key = self._derive_key("root")
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, trust_domain)])
        self.root = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self._key.public_key()).serial_number(self._serial("root"))
                     .not_valid_before(NOT_BEFORE).not_valid_after(NOT_BEFORE + ROOT_LIFETIME)
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                    critical=True)
                     .sign(self._key, None))
        self._issued: dict = {}

    def _derive_key(self, label: str):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        seed = hashlib.sha256(f"kubelab-mesh-ca/{self.seed}/{self.trust_domain}/{label}".encode()).digest()
        return Ed25519PrivateKey.from_private_bytes(seed)

    def _serial(self, label: str) -> int:
        return int.from_bytes(hashlib.sha256(f"serial/{self.seed}/{label}".encode()).digest()[:16], "big") >> 1

    def issue(self, spiffe_id: str):
        """The workload certificate for a SPIFFE id: empty subject, the id as URI SAN, signed by the root."""
        found = self._issued.get(spiffe_id)
        if found is not None:
            return found
        from cryptography import x509
        from cryptography.x509.oid import ExtendedKeyUsageOID

        key = self._derive_key(spiffe_id)
        cert = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(self.root.subject)
                .public_key(key.public_key()).serial_number(self._serial(spiffe_id))
                .not_valid_before(NOT_BEFORE).not_valid_after(NOT_BEFORE + WORKLOAD_LIFETIME)
                .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(spiffe_id)]),
                               critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                      ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .sign(self._key, None))
        self._issued[spiffe_id] = cert
        return cert

    def verify(self, cert) -> bool:
        """Was `cert` signed by this root (the check a peer's proxy makes during the mTLS handshake)?"""
        from cryptography.exceptions import InvalidSignature
        try:
            self.root.public_key().verify(cert.signature, cert.tbs_certificate_bytes)
            return cert.issuer == self.root.subject
        except InvalidSignature:
            return False

    @staticmethod
    def der(cert) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding
        return cert.public_bytes(Encoding.DER)

    @staticmethod
    def pem(cert) -> str:
        from cryptography.hazmat.primitives.serialization import Encoding
        return cert.public_bytes(Encoding.PEM).decode()

    @staticmethod
    def describe(cert) -> CertificateInfo:
        from cryptography import x509
        try:
            uris = tuple(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                         .get_values_for_type(x509.UniformResourceIdentifier))
        except x509.ExtensionNotFound:
            uris = ()
        try:
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        return CertificateInfo(cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(), uris,
                               cert.not_valid_before_utc.isoformat(), cert.not_valid_after_utc.isoformat(),
                               cert.serial_number, hashlib.sha256(MeshCA.der(cert)).hexdigest(), is_ca)

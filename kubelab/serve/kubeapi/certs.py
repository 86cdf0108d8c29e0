"""A self-signed serving certificate for `kubelab serve --tls` (made with `cryptography`)."""
from __future__ import annotations

import datetime
import ipaddress

__all__ = ["self_signed"]


def self_signed(host: str = "127.0.0.1") -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM): an EC P-256 key, valid a year, for `host`, localhost and
    127.0.0.1 (kubectl checks the IP SAN), usable as its own CA."""
    try:
        from cryptography import x509
    except ImportError:
        from ...errors import BackendError
        raise BackendError("--tls needs the cryptography package (pip install cryptography); "
                           "without --tls the server speaks plain http on 127.0.0.1") from None
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubelab-apiserver")])
    sans = {x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))}
    try:
        sans.add(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        sans.add(x509.DNSName(host))
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName(sorted(sans, key=str)), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))

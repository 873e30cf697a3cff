"""TLS certificates made at test time: a test CA, and server certificates it signs or that sign
themselves, written as PEM files for `ssl` contexts and SSL_CERT_FILE."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class CertFiles:
    """A certificate and its private key, as PEM files."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        """A server-side TLS context presenting this certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> CertFiles:
    files = CertFiles(folder / f"{stem}.pem", folder / f"{stem}.key")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return files


def _builder(subject: str, issuer: str, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
    )


def make_ca(folder: Path) -> tuple[CertFiles, x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A CA certificate (its PEM file can be an SSL_CERT_FILE), with what signs server certificates."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder("Sahel test CA", "Sahel test CA", key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return _write(folder, "ca", cert, key), cert, key


def make_server_cert(
    folder: Path, stem: str, names: list[str], issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None
) -> CertFiles:
    """A server certificate for `names` (host names or IP addresses), signed by `issuer`
    (a CA from make_ca) or by itself when `issuer` is None."""
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = []
    for name in names:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt_names.append(x509.DNSName(name))
    issuer_cert, issuer_key = issuer if issuer else (None, key)
    issuer_name = issuer_cert.subject.rfc4514_string().removeprefix("CN=") if issuer_cert else names[0]
    cert = (
        _builder(names[0], issuer_name, key)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )
    return _write(folder, stem, cert, key)

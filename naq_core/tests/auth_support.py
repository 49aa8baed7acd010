"""Made in the test, nothing shipped: nkeys, NATS JWTs (operator -> account -> user), TLS certificates."""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import json
import os
import time
from pathlib import Path
from typing import Any

import nkeys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["Certs", "Jwts", "make_certs", "make_jwts", "new_nkey"]


def new_nkey(prefix: int) -> nkeys.KeyPair:
    """A fresh key pair of the given kind (``nkeys.PREFIX_BYTE_USER`` ...)."""
    seed = nkeys.encode_seed(os.urandom(32), prefix)
    return nkeys.from_seed(bytearray(seed))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt(issuer: nkeys.KeyPair, subject: str, name: str, nats: dict[str, Any]) -> str:
    claims: dict[str, Any] = {
        "iat": int(time.time()),
        "iss": issuer.public_key.decode(),
        "name": name,
        "sub": subject,
        "nats": {**nats, "version": 2},
    }
    claims["jti"] = (
        base64.b32encode(hashlib.sha256(json.dumps(claims).encode()).digest()).decode().rstrip("=")
    )
    head = _b64(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = issuer.sign(f"{head}.{body}".encode())
    return f"{head}.{body}.{_b64(signature)}"


class Jwts:
    """An operator with a system account and one JetStream-enabled account holding one user."""

    def __init__(self, directory: Path) -> None:
        operator = new_nkey(nkeys.PREFIX_BYTE_OPERATOR)
        system = new_nkey(nkeys.PREFIX_BYTE_ACCOUNT)
        account = new_nkey(nkeys.PREFIX_BYTE_ACCOUNT)
        user = new_nkey(nkeys.PREFIX_BYTE_USER)
        op_pub, sys_pub, acc_pub = (k.public_key.decode() for k in (operator, system, account))
        self.operator_jwt = _jwt(operator, op_pub, "op", {"type": "operator", "system_account": sys_pub})
        unlimited = {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1, "conn": -1}
        jetstream = {"mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1}
        self.system_jwt = _jwt(operator, sys_pub, "SYS", {"type": "account", "limits": unlimited})
        self.account_jwt = _jwt(
            operator, acc_pub, "app", {"type": "account", "limits": {**unlimited, **jetstream}}
        )
        user_jwt = _jwt(
            account,
            user.public_key.decode(),
            "worker",
            {"type": "user", "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1},
        )
        self.system_public, self.account_public = sys_pub, acc_pub
        self.creds_file = directory / "user.creds"
        self.creds_file.write_text(
            "-----BEGIN NATS USER JWT-----\n"
            f"{user_jwt}\n"
            "------END NATS USER JWT------\n\n"
            "-----BEGIN USER NKEY SEED-----\n"
            f"{user.seed.decode()}\n"
            "------END USER NKEY SEED------\n",
            encoding="utf-8",
        )

    def server_config(self) -> str:
        """Operator mode, the accounts preloaded into a MEMORY resolver."""
        return (
            f"operator: {self.operator_jwt}\n"
            f"system_account: {self.system_public}\n"
            "resolver: MEMORY\n"
            "resolver_preload: {\n"
            f"  {self.system_public}: {self.system_jwt}\n"
            f"  {self.account_public}: {self.account_jwt}\n"
            "}\n"
        )


def make_jwts(directory: Path) -> Jwts:
    return Jwts(directory)


class Certs:
    """Paths of a CA, a server certificate for 127.0.0.1 and a client certificate, all PEM."""

    def __init__(self, directory: Path, name: str = "naq-test") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} CA")])
        ca = (
            _builder(ca_name, ca_name, ca_key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        self.ca = directory / "ca.pem"
        self.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        self.server_cert, self.server_key = self._leaf(
            directory, "server", ca, ca_key, ExtendedKeyUsageOID.SERVER_AUTH
        )
        self.client_cert, self.client_key = self._leaf(
            directory, "client", ca, ca_key, ExtendedKeyUsageOID.CLIENT_AUTH
        )

    @staticmethod
    def _leaf(
        directory: Path,
        role: str,
        ca: x509.Certificate,
        ca_key: ec.EllipticCurvePrivateKey,
        usage: x509.ObjectIdentifier,
    ) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, role)])
        cert = (
            _builder(subject, ca.subject, key.public_key())
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        cert_path, key_path = directory / f"{role}.pem", directory / f"{role}-key.pem"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cert_path, key_path

    def server_config(self, *, verify_clients: bool = True) -> str:
        """A ``tls { ... }`` block: the server certificate, and client certificates required."""
        verify = "  verify: true\n" if verify_clients else ""
        return (
            "tls {\n"
            f'  cert_file: "{self.server_cert}"\n'
            f'  key_file: "{self.server_key}"\n'
            f'  ca_file: "{self.ca}"\n'
            f"{verify}"
            "  timeout: 5\n"
            "}\n"
        )


def make_certs(directory: Path, name: str = "naq-test") -> Certs:
    return Certs(directory, name)


def _builder(subject: x509.Name, issuer: x509.Name, public_key: Any) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )

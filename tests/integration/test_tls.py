"""A listener with TLS (cert/key paths in server.yaml), checked with a real TLS client."""

from __future__ import annotations

import datetime
import ipaddress
import ssl

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .gateway import Gateway, free_port, provider, rule


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "server.crt", tmp_path / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_tls_listener_serves_https_with_hsts(tmp_path, mock_upstream):
    cert, key = _self_signed(tmp_path)
    port = free_port()
    gw = Gateway(
        tmp_path,
        [provider("up", "openai", mock_upstream.url, api_key_env="LR_K")],
        [rule("all", None, "*", "up")],
        listeners=[
            {"id": "secure", "type": "openai", "bind": f"127.0.0.1:{port}", "tls": {"cert": str(cert), "key": str(key)}}
        ],
        env={"LR_K": "k"},
    )
    gw.openai_port = port
    gw.start()
    try:
        r = httpx.post(
            f"https://127.0.0.1:{port}/v1/chat/completions",
            verify=ssl.create_default_context(cafile=str(cert)),
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "over tls"}]},
        )
        assert r.status_code == 200
        assert r.json()["choices"][0]["message"]["content"] == "echo: over tls"
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert r.headers["x-content-type-options"] == "nosniff"
    finally:
        assert gw.stop() == 0, gw.logs()

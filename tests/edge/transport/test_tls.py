"""TLS with a client certificate against a private Mosquitto that requires one."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edge.comms.config import MqttConfig, OutboxConfig, TlsConfig, TransportConfig
from edge.contract import Heartbeat
from edge.events.publisher import EventPublisher
from tests.edge.transport.helpers import COMPOUND, DEVICE_KEY, Subscriber, wait_until
from tests.support.services import private_mosquitto

Key = ec.EllipticCurvePrivateKey


def _certificate(
    name: str, key: Key, issuer: tuple[str, Key] | None, server: bool = False
) -> x509.Certificate:
    issuer_name, issuer_key = issuer or (name, key)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if server:
        address = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
        builder = builder.add_extension(x509.SubjectAlternativeName([address]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(folder: Path, name: str, key: Key, cert: x509.Certificate) -> tuple[Path, Path]:
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def test_publisher_connects_with_a_client_certificate(tmp_path: Path, device_id: str) -> None:
    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _certificate("anju-test-ca", ca_key, None)
    _, ca_path = _write(tmp_path, "ca", ca_key, ca)
    server = _write(
        tmp_path,
        "server",
        server_key,
        _certificate("b", server_key, ("anju-test-ca", ca_key), True),
    )
    client = _write(
        tmp_path,
        "client",
        client_key,
        _certificate(device_id, client_key, ("anju-test-ca", ca_key)),
    )
    settings = (
        f"cafile {ca_path}\ncertfile {server[1]}\nkeyfile {server[0]}\n"
        "require_certificate true\nuse_identity_as_username true\nallow_anonymous false\n"
    )
    with private_mosquitto(tmp_path / "broker", settings) as broker:
        tls = TlsConfig(ca_file=ca_path, cert_file=client[1], key_file=client[0])
        config = TransportConfig(
            mqtt=MqttConfig(port=broker.port, tls=tls, reconnect_min_s=0.1),
            outbox=OutboxConfig(path=tmp_path / "outbox.sqlite3"),
        )
        central = Subscriber(broker.port, "anju/v1/#", tls=tls)
        publisher = EventPublisher(config, DEVICE_KEY, COMPOUND, device_id)
        publisher.start()
        try:
            publisher.publish(Heartbeat(uptime_s=1.0, outbox_depth=0))
            wait_until(lambda: publisher.connected and publisher.outbox_depth == 0)
            wait_until(lambda: len(central.event_ids()) == 1)
        finally:
            publisher.stop()
            central.close()

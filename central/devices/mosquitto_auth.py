"""Mosquitto's password file (PBKDF2-SHA512, ``$7$`` format) and ACL file, written from the DB.

A device may publish only under ``anju/v1/dev/<id>/`` and read only its own commands and (gates)
its compound's gallery; central reads every device topic and writes commands and galleries.
Files are replaced atomically; Mosquitto rereads them on SIGHUP.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db.registry_models import Device
from edge.contract.topics import ROOT

PBKDF2_ITERATIONS = 101
_SALT_BYTES = 12


@dataclass(frozen=True)
class MqttAccount:
    """A broker account given as username and password hash (central's own)."""

    username: str
    password_hash: str


def mosquitto_password_hash(password: str, iterations: int = PBKDF2_ITERATIONS) -> str:
    """``password`` hashed as ``mosquitto_passwd`` does (sha512-pbkdf2)."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    encode = base64.b64encode
    return f"$7${iterations}${encode(salt).decode()}${encode(digest).decode()}"


def _write_atomic(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def device_acl(device: Device) -> str:
    """The ACL block of one device."""
    lines = [
        f"user {device.mqtt_username}",
        f"topic write {ROOT}/dev/{device.id}/#",
        f"topic read {ROOT}/dev/{device.id}/cmd/#",
    ]
    if device.kind == "gate":
        lines.append(f"topic read {ROOT}/site/{device.site_id}/gallery")
    return "\n".join(lines) + "\n"


def central_acl(username: str) -> str:
    """The ACL block of central's own account."""
    return (
        f"user {username}\n"
        f"topic read {ROOT}/dev/+/#\n"
        f"topic write {ROOT}/dev/+/cmd/#\n"
        f"topic readwrite {ROOT}/site/+/gallery\n"
    )


def write_mosquitto_auth(
    session: Session, passwd_path: Path, acl_path: Path, central: MqttAccount | None = None
) -> None:
    """Rewrite both files from the active devices (and central's account when given)."""
    devices = session.scalars(select(Device).where(Device.active).order_by(Device.id)).all()
    accounts = [(d.mqtt_username, d.mqtt_password_hash) for d in devices]
    blocks = [device_acl(device) for device in devices]
    if central is not None:
        accounts.insert(0, (central.username, central.password_hash))
        blocks.insert(0, central_acl(central.username))
    _write_atomic(passwd_path, "".join(f"{user}:{hashed}\n" for user, hashed in accounts))
    _write_atomic(acl_path, "\n".join(blocks))

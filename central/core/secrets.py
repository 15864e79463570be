"""Central's own secrets on disk: signing key, at-rest key, JWT secret; made on first start."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central.core.settings import CentralSettings
from edge.contract import KEY_BYTES, load_private_key, private_key_text
from edge.contract.signing import b64url, unb64url

log = logging.getLogger(__name__)


class SecretFileError(Exception):
    """A secret file exists but cannot be read or is malformed."""


@dataclass(frozen=True)
class CentralSecrets:
    """The secrets central runs with."""

    signing_key: Ed25519PrivateKey
    at_rest_key: bytes
    jwt_secret: bytes


def _read_or_create(path: Path, make: Callable[[], str]) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(make() + "\n")
        log.warning("secret_created path=%s", path)
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretFileError(f"cannot read secret file {path}: {exc}") from exc


def _random_key_text() -> str:
    return b64url(secrets.token_bytes(KEY_BYTES))


def _new_signing_key() -> str:
    return private_key_text(Ed25519PrivateKey.generate())


def _key_bytes(path: Path) -> bytes:
    text = _read_or_create(path, _random_key_text)
    try:
        key = unb64url(text)
    except ValueError as exc:
        raise SecretFileError(f"{path} is not base64url") from exc
    if len(key) != KEY_BYTES:
        raise SecretFileError(f"{path} must hold {KEY_BYTES} bytes, not {len(key)}")
    return key


def load_secrets(settings: CentralSettings) -> CentralSecrets:
    """Central's secrets, each file generated with mode 0600 if it is missing."""
    try:
        signing = load_private_key(_read_or_create(settings.signing_key_file, _new_signing_key))
    except ValueError as exc:
        raise SecretFileError(f"{settings.signing_key_file}: {exc}") from exc
    return CentralSecrets(
        signing_key=signing,
        at_rest_key=_key_bytes(settings.at_rest_key_file),
        jwt_secret=_key_bytes(settings.jwt_secret_file),
    )

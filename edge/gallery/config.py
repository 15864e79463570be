"""Gallery configuration (pydantic, extra="forbid") and opening the store from it."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from edge.contract import KEY_BYTES, SignatureError, load_public_key
from edge.contract.signing import unb64url
from edge.gallery.store import GalleryError, GalleryStore
from edge.recognize.search import TemplateIndex


class GalleryConfig(BaseModel):
    """Where the gallery lives and the keys that protect it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path = Field(default=Path("var/gallery.sqlite3"), description="SQLite file.")
    at_rest_key_file: Path = Field(
        description="This node's own 32-byte AES key (base64url text) for templates at rest."
    )
    gallery_key_file: Path = Field(
        description="The compound's 32-byte gallery key (base64url text), shared with central."
    )
    central_public_key: str = Field(description="Central's Ed25519 public key (base64url).")

    @field_validator("central_public_key")
    @classmethod
    def _valid_key(cls, value: str) -> str:
        try:
            load_public_key(value)
        except SignatureError as exc:
            raise ValueError(str(exc)) from exc
        return value


def read_key_file(path: Path) -> bytes:
    """A 32-byte key stored as base64url text; ``GalleryError('incompatible')`` otherwise."""
    try:
        key = unb64url(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as exc:
        raise GalleryError("incompatible", f"cannot read key file {path}: {exc}") from exc
    if len(key) != KEY_BYTES:
        raise GalleryError("incompatible", f"key file {path} holds {len(key)} bytes, not 32")
    return key


def open_gallery(config: GalleryConfig, compound_id: str, index: TemplateIndex) -> GalleryStore:
    """The gallery store described by ``config``, loaded into ``index``."""
    return GalleryStore(
        config.path,
        at_rest_key=read_key_file(config.at_rest_key_file),
        gallery_key=read_key_file(config.gallery_key_file),
        central_key=load_public_key(config.central_public_key),
        compound_id=compound_id,
        index=index,
    )

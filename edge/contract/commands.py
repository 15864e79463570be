"""Messages central sends to edge nodes, signed with central's key: gallery and commands.

Templates never travel in clear text: each is AES-GCM encrypted with the compound's gallery
key (shared with its gates at provisioning) and carried as base64url.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

REMOTE_OPEN_MAX_AGE_S = 10.0


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    issued_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))


class GalleryEntry(BaseModel):
    """One person a compound's gates may recognise."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: str
    person_kind: Literal["resident", "visitor"]
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    gate_ids: list[str] = Field(default_factory=list, description="Empty: every gate.")
    templates: list[str] = Field(description="Templates sealed with the gallery key (sealing.py).")
    card_hashes: list[str] = Field(default_factory=list, description="credential_hash of cards.")
    pin_hashes: list[str] = Field(default_factory=list, description="credential_hash of PINs.")


class RevokedPass(BaseModel):
    """A visitor QR pass that no longer admits anyone (the visitor was revoked, or their window
    or gates changed): gates refuse it until its own ``valid_until``, after which it is void."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pass_id: str
    valid_until: AwareDatetime


class GallerySnapshot(_Command):
    """The whole gallery of a compound at ``version``."""

    kind: Literal["gallery.snapshot"] = "gallery.snapshot"
    compound_id: str
    version: int = Field(ge=0)
    pack: str = Field(description="Model pack and embedder the templates were made with.")
    embedder: str
    dimension: int
    entries: list[GalleryEntry]
    revoked_passes: list[RevokedPass] = Field(
        default_factory=list, description="Every revoked pass not yet expired."
    )


class GalleryDelta(_Command):
    """Changes from ``base_version`` to ``version``; deletions apply before the next match."""

    kind: Literal["gallery.delta"] = "gallery.delta"
    compound_id: str
    base_version: int = Field(ge=0)
    version: int = Field(ge=1)
    upserts: list[GalleryEntry] = Field(default_factory=list)
    deletions: list[str] = Field(default_factory=list, description="Person ids to forget.")
    revoked_passes: list[RevokedPass] = Field(
        default_factory=list, description="Passes revoked in this change."
    )


class RemoteOpen(_Command):
    """A guard opens a gate from the control room; refused when older than 10 s."""

    kind: Literal["command.open"] = "command.open"
    gate_id: str
    operator: str
    reason: str = ""
    command_id: str


class GalleryResync(_Command):
    """Ask a gate to report its gallery version so central can send what it lacks."""

    kind: Literal["command.gallery_resync"] = "command.gallery_resync"


CentralMessage = Annotated[
    GallerySnapshot | GalleryDelta | RemoteOpen | GalleryResync, Field(discriminator="kind")
]

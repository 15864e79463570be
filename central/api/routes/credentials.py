"""Cards and PINs: stored and distributed only as the compound's keyed hashes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from central.api.deps import ContextDep, CurrentUser, SessionDep, Writer
from central.api.routes.privacy import PersonDep
from central.audit.log import record
from central.core.schemas import RequestModel
from central.db.registry_models import Credential
from central.registry.queries import gallery_key
from edge.contract import credential_hash

router = APIRouter(prefix="/api/persons", tags=["credentials"])
_FORMATS = {"card": re.compile(r"^[0-9A-Fa-f]{4,32}$"), "pin": re.compile(r"^\d{4,8}$")}


class CredentialCreate(RequestModel):
    """A card number (hex, 4-32) or a PIN (4-8 digits)."""

    method: Literal["card", "pin"]
    value: str = Field(max_length=32)

    @model_validator(mode="after")
    def _format(self) -> CredentialCreate:
        if not _FORMATS[self.method].match(self.value):
            raise ValueError("a card is 4-32 hex digits, a PIN 4-8 digits")
        return self


class CredentialPublic(BaseModel):
    """A credential (never its value or hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    method: str
    created_at: datetime


@router.post("/{person_id}/credentials", status_code=status.HTTP_201_CREATED)
def add_credential(
    person: PersonDep,
    body: CredentialCreate,
    user: Writer,
    session: SessionDep,
    context: ContextDep,
) -> CredentialPublic:
    """Give the person a card or PIN; gates learn its hash with the next gallery version."""
    value_hash = credential_hash(gallery_key(session, person.compound_id), body.method, body.value)
    credential = Credential(
        person_id=person.person_id,
        compound_id=person.compound_id,
        method=body.method,
        value_hash=value_hash,
    )
    session.add(credential)
    session.flush()
    detail = {"credential_id": credential.id, "method": body.method}
    record(session, user.username, "credential.add", person.person_id, person.compound_id, detail)
    context.enroller.gallery_change(session, person.compound_id, [person.person_id], [])
    session.commit()
    return CredentialPublic.model_validate(credential)


@router.get("/{person_id}/credentials")
def list_credentials(
    person: PersonDep, user: CurrentUser, session: SessionDep
) -> list[CredentialPublic]:
    """The person's cards and PINs (kinds only)."""
    rows = session.scalars(
        select(Credential)
        .where(Credential.person_id == person.person_id)
        .order_by(Credential.created_at)
    )
    return [CredentialPublic.model_validate(row) for row in rows]

"""Partial updates of residents and visitors: the request base, applying it, auditing it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

from fastapi import HTTPException, status
from pydantic import model_validator
from sqlalchemy.orm import Session

from central.audit.log import record
from central.core.schemas import RequestModel
from central.db.registry_models import Resident, Visitor
from central.enrol.consent import GUARDIAN_AGE, active_consent
from central.registry.identity import age_on


class PartialUpdate(RequestModel):
    """A PATCH body: fields left out stay as they are; ``null`` clears only optional fields.

    Subclasses give every field a default of None and name in ``NOT_NULL`` those a person must
    keep (a name, a window), for which an explicit ``null`` is refused.
    """

    NOT_NULL: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _required_kept(self) -> PartialUpdate:
        cleared = sorted(
            name for name in self.NOT_NULL & self.model_fields_set if getattr(self, name) is None
        )
        if cleared:
            raise ValueError(f"may not be null: {', '.join(cleared)}")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the request set, by name."""
        return {name: getattr(self, name) for name in self.model_fields_set}


def keep_consent_valid(
    session: Session, person_id: str, changes: Mapping[str, Any], today: date
) -> None:
    """Refuse (409) a birth-date change the person's consent on record would no longer cover:
    an enrolled person's age must stay known, and under 14 the consent must be a guardian's."""
    if "birth_date" not in changes or (consent := active_consent(session, person_id)) is None:
        return
    birth_date = changes["birth_date"]
    if birth_date is None:
        detail = "birth_date may not be cleared while a consent is on record"
        raise HTTPException(status.HTTP_409_CONFLICT, detail)
    guardian = consent.guardian_consent and consent.guardian_name
    if age_on(birth_date, today) < GUARDIAN_AGE and not guardian:
        detail = (
            f"the new birth date makes the person under {GUARDIAN_AGE} and the consent on "
            "record has no guardian's consent: record the guardian's consent first"
        )
        raise HTTPException(status.HTTP_409_CONFLICT, detail)


def apply_edit(
    session: Session, actor: str, person: Resident | Visitor, changes: Mapping[str, Any]
) -> list[str]:
    """Set ``changes`` on ``person``; returns the attributes whose value differed, sorted.

    A change that alters anything is audited (``resident.update`` or ``visitor.update``) with
    the names of the changed attributes only, never their values (phone and ID numbers).
    """
    changed = sorted(name for name, value in changes.items() if getattr(person, name) != value)
    for name in changed:
        setattr(person, name, changes[name])
    if changed:
        action = "resident.update" if isinstance(person, Resident) else "visitor.update"
        record(session, actor, action, person.id, person.compound_id, {"fields": changed})
    return changed

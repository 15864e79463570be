"""Enrol faces under consent; delete them everywhere on withdrawal or move-out.

Every change to who a compound's gates recognise goes through ``GalleryChange`` (the gallery
distribution's ``record_gallery_change``) in the same transaction, so the deletion reaches the
gates after commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from central.audit.log import record
from central.db.base import utcnow
from central.db.privacy_models import FaceTemplate
from central.db.registry_models import Credential, Resident, Visitor
from central.enrol.consent import active_consent, withdraw_all
from central.enrol.errors import EnrolmentRefused
from central.enrol.photos import Photo, photo_templates
from central.gallery.distribution import current_version
from central.gallery.passes import revoke_passes
from central.registry.queries import PersonWindow
from central.registry.sealed import seal_template
from models.engine import FaceEngine
from models.manifest import load_manifest
from models.zoo import FaceEngineConfig, open_engine

log = logging.getLogger(__name__)
GalleryChange = Callable[[Session, str, Sequence[str], Sequence[str]], int]


class Enroller:
    """Enrolment with one lazily opened face engine shared by all requests."""

    def __init__(
        self,
        engine_config: FaceEngineConfig,
        gallery_change: GalleryChange,
        photo_dir: Path | None = None,
    ) -> None:
        self.engine_config = engine_config
        self.gallery_change = gallery_change
        self.photo_dir = photo_dir
        self._engine: FaceEngine | None = None
        self._lock = threading.Lock()

    def engine(self) -> FaceEngine:
        """The face engine, opened on first use."""
        with self._lock:
            if self._engine is None:
                self._engine = open_engine(self.engine_config)
            return self._engine

    def _embedder_name(self) -> str:
        config = self.engine_config
        return config.embedder or load_manifest(config.pack).defaults.embedder

    def enrol(
        self, session: Session, person: PersonWindow, photos: list[Photo], actor: str
    ) -> list[FaceTemplate]:
        """Add one sealed template per photo; refused without consent or an active person."""
        if not person.active:
            raise EnrolmentRefused("person has moved out or was revoked: enrolment refused")
        if active_consent(session, person.person_id) is None:
            raise EnrolmentRefused("no consent on record for this person: record consent first")
        vectors = photo_templates(self.engine(), photos)
        rows = []
        for vector in vectors:
            row = FaceTemplate(
                person_id=person.person_id,
                person_kind=person.person_kind,
                compound_id=person.compound_id,
                pack=self.engine_config.pack,
                embedder=self._embedder_name(),
            )
            seal_template(session, row, vector)
            session.add(row)
            rows.append(row)
        session.flush()
        self._keep_photos(person.person_id, rows, photos)
        for row in rows:
            detail = {"template_id": row.id, "embedder": row.embedder}
            record(session, actor, "template.create", person.person_id, person.compound_id, detail)
        self.gallery_change(session, person.compound_id, [person.person_id], [])
        return rows

    def _keep_photos(self, person_id: str, rows: list[FaceTemplate], photos: list[Photo]) -> None:
        if self.photo_dir is None:
            return
        folder = self.photo_dir / person_id
        folder.mkdir(parents=True, exist_ok=True)
        for row, photo in zip(rows, photos, strict=True):
            (folder / f"{row.id}.img").write_bytes(photo.data)

    def forget(self, session: Session, person: PersonWindow, actor: str, reason: str) -> int:
        """Delete the person's templates (and kept photos), tell the gates; returns how many."""
        count = session.scalar(
            select(func.count()).where(FaceTemplate.person_id == person.person_id)
        )
        session.execute(delete(FaceTemplate).where(FaceTemplate.person_id == person.person_id))
        if self.photo_dir is not None:
            for kept in (self.photo_dir / person.person_id).glob("*.img"):
                kept.unlink(missing_ok=True)
        detail = {"templates": int(count or 0), "reason": reason}
        record(session, actor, "template.delete", person.person_id, person.compound_id, detail)
        self.gallery_change(session, person.compound_id, [], [person.person_id])
        log.info("templates_deleted person=%s count=%s reason=%s", person.person_id, count, reason)
        return int(count or 0)

    def withdraw(self, session: Session, person: PersonWindow, actor: str) -> int:
        """Withdraw every open consent of the person and delete their templates."""
        withdrawn = withdraw_all(session, person.person_id, utcnow())
        if withdrawn == 0:
            raise EnrolmentRefused("no consent on record to withdraw")
        record(session, actor, "consent.withdraw", person.person_id, person.compound_id, {})
        return self.forget(session, person, actor, "consent_withdrawn")

    def leave(self, session: Session, person: PersonWindow, actor: str) -> int:
        """A resident moved out or a visitor was revoked: drop templates and credentials."""
        if person.person_kind == "resident":
            row: Resident | Visitor | None = session.get(Resident, person.person_id)
        else:
            row = session.get(Visitor, person.person_id)
        if row is None or not person.active:
            raise EnrolmentRefused(f"{person.person_kind} has already left")
        if isinstance(row, Resident):
            row.moved_out_at = utcnow()
        else:
            row.revoked_at = utcnow()
        session.execute(delete(Credential).where(Credential.person_id == person.person_id))
        action = "resident.move_out" if isinstance(row, Resident) else "visitor.revoke"
        record(session, actor, action, person.person_id, person.compound_id, {})
        deleted = self.forget(session, person, actor, action)
        if isinstance(row, Visitor):
            version = current_version(session, person.compound_id)
            revoke_passes(session, row.id, version, utcnow())
        return deleted

"""Publish recorded gallery versions after commit: a signed delta per version (QoS 1) and the
compound's retained snapshot, so a gate that connects later starts from the current gallery."""

from __future__ import annotations

import logging
from collections.abc import Callable
from itertools import groupby

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from central.core.periodic import Periodic
from central.db.base import utcnow
from central.db.events_models import GalleryVersion
from central.gallery.distribution import CHANGED_FLAG, current_version, lagging_gates
from central.gallery.messages import TemplateFormat, build_delta, build_snapshot, signed_bytes
from central.gallery.passes import revoked_in, revoked_in_force
from central.registry.queries import compound_gallery, gallery_key
from edge.contract import GalleryResync, command_topic, gallery_topic

logger = logging.getLogger(__name__)
RESYNC_COMMAND = "gallery_resync"

Publish = Callable[[str, bytes, bool], None]
"""Publishes (topic, payload, retain) with QoS 1 and returns once the broker acknowledged."""


class GalleryPublisher:
    """Sends what ``record_gallery_change`` recorded; marks a version published after the ack."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        publish: Publish,
        signing_key: Ed25519PrivateKey,
        template_format: TemplateFormat,
        poll_interval_s: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._publish = publish
        self._key = signing_key
        self._format = template_format
        self._loop = Periodic(
            "gallery-publisher", poll_interval_s, self.publish_pending, run_first=True
        )

    def publish_pending(self) -> int:
        """Publish every unpublished version, oldest first; returns how many were sent.

        Rows are locked while sent (PostgreSQL skips rows another worker is sending); if the
        broker fails, nothing is marked and the next run sends again (gates apply by version).
        """
        sent = 0
        with self._sessions() as session, session.begin():
            rows = session.scalars(
                select(GalleryVersion)
                .where(GalleryVersion.published.is_(False))
                .order_by(GalleryVersion.compound_id, GalleryVersion.version)
                .with_for_update(skip_locked=True)
            ).all()
            for compound_id, versions in groupby(rows, key=lambda row: row.compound_id):
                sources = compound_gallery(session, compound_id)
                key = gallery_key(session, compound_id)
                for row in versions:
                    revoked = revoked_in(session, compound_id, row.version)
                    delta = build_delta(row, sources, key, revoked)
                    self._publish(gallery_topic(compound_id), signed_bytes(delta, self._key), False)
                    row.published = True
                    sent += 1
                self._send_snapshot(session, compound_id)
        if sent:
            logger.info("gallery published versions=%d", sent)
        return sent

    def publish_snapshot(self, compound_id: str) -> int:
        """Publish the compound's current snapshot (retained); returns its version."""
        with self._sessions() as session, session.begin():
            return self._send_snapshot(session, compound_id)

    def _send_snapshot(self, session: Session, compound_id: str) -> int:
        version = current_version(session, compound_id)
        sources = compound_gallery(session, compound_id)
        snapshot = build_snapshot(
            compound_id,
            version,
            sources,
            gallery_key(session, compound_id),
            self._format,
            revoked_in_force(session, compound_id, utcnow()),
        )
        self._publish(gallery_topic(compound_id), signed_bytes(snapshot, self._key), True)
        return version

    def request_resync(self, compound_id: str) -> list[str]:
        """Re-send the snapshot and ask each lagging gate to report; returns the gates asked."""
        self.publish_snapshot(compound_id)
        with self._sessions() as session:
            lagging = [lag.device_id for lag in lagging_gates(session, compound_id)]
        command = signed_bytes(GalleryResync(), self._key)
        for device_id in lagging:
            self._publish(command_topic(device_id, RESYNC_COMMAND), command, False)
        logger.info("gallery resync compound=%s gates=%s", compound_id, lagging)
        return lagging

    def watch_commits(self) -> None:
        """Wake the publishing thread after any commit that recorded a gallery change."""

        def after_commit(session: Session) -> None:
            if session.info.pop(CHANGED_FLAG, False):
                self._loop.wake()

        event.listen(self._sessions, "after_commit", after_commit)

    def start(self) -> None:
        """Publish pending versions now, on every wake-up and every poll interval."""
        self._loop.start()

    def stop(self) -> None:
        """Stop the publishing thread."""
        self._loop.stop()

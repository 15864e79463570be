"""The MQTT wire contract shared by edge nodes and central: topics, schemas, signing, and how a
client paces its reconnects (``edge.contract.reconnect``).

Depends only on the standard library, pydantic and cryptography, so that central can import it
without OpenCV and the edge without FastAPI.
"""

from edge.contract.commands import (
    REMOTE_OPEN_MAX_AGE_S,
    CentralMessage,
    GalleryDelta,
    GalleryEntry,
    GalleryResync,
    GallerySnapshot,
    RemoteOpen,
    RevokedPass,
)
from edge.contract.envelope import (
    MAX_MESSAGE_BYTES,
    SCHEMA_VERSION,
    ContractError,
    Envelope,
    parse_message,
    verify_envelope,
)
from edge.contract.events import (
    EVENT_KINDS,
    AccessDecision,
    CameraStatus,
    DeviceStatus,
    EventPayload,
    GalleryApplied,
    Heartbeat,
    OutboxDropped,
    ParcelInspection,
)
from edge.contract.ids import event_id_millis, new_event_id
from edge.contract.qr_pass import PassError, VisitorPass, issue_pass, verify_pass
from edge.contract.sealing import KEY_BYTES, SealError, credential_hash, seal, unseal
from edge.contract.signing import (
    SignatureError,
    load_private_key,
    load_public_key,
    private_key_text,
    public_key_text,
    sign_message,
    verify_message,
)
from edge.contract.topics import (
    central_event_subscription,
    command_topic,
    device_of,
    event_topic,
    gallery_topic,
    status_topic,
)

__all__ = [
    "EVENT_KINDS",
    "KEY_BYTES",
    "MAX_MESSAGE_BYTES",
    "REMOTE_OPEN_MAX_AGE_S",
    "SCHEMA_VERSION",
    "AccessDecision",
    "CameraStatus",
    "CentralMessage",
    "ContractError",
    "DeviceStatus",
    "Envelope",
    "EventPayload",
    "GalleryApplied",
    "GalleryDelta",
    "GalleryEntry",
    "GalleryResync",
    "GallerySnapshot",
    "Heartbeat",
    "OutboxDropped",
    "ParcelInspection",
    "PassError",
    "RemoteOpen",
    "RevokedPass",
    "SealError",
    "SignatureError",
    "VisitorPass",
    "central_event_subscription",
    "command_topic",
    "credential_hash",
    "device_of",
    "event_id_millis",
    "event_topic",
    "gallery_topic",
    "issue_pass",
    "load_private_key",
    "load_public_key",
    "new_event_id",
    "parse_message",
    "private_key_text",
    "public_key_text",
    "seal",
    "sign_message",
    "status_topic",
    "unseal",
    "verify_envelope",
    "verify_message",
    "verify_pass",
]

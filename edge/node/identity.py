"""Who a node is (device, site, signing key) and the event publisher that speaks for it."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge.comms.config import TransportConfig
from edge.contract import load_private_key
from edge.contract.topics import check_id
from edge.events.publisher import EventPublisher
from edge.node.health import software_version


class NodeIdentity(BaseModel):
    """The identity every node has; each kind adds what it serves (gates, an outlet)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device_id: str = Field(description="This node's id (topics, events).")
    site_id: str = Field(description="The site in envelopes (the compound, for a gate).")
    key_file: Path = Field(description="The node's Ed25519 private key (base64url text).")

    @model_validator(mode="after")
    def _safe_ids(self) -> NodeIdentity:
        check_id(self.device_id)
        check_id(self.site_id)
        return self


def open_publisher(identity: NodeIdentity, transport: TransportConfig) -> EventPublisher:
    """The node's event publisher (not started), signing with its key, naming its version.

    ``OSError`` when the key file cannot be read; ``SignatureError`` when it holds no key.
    """
    key = load_private_key(identity.key_file.read_text(encoding="ascii"))
    publisher = EventPublisher(transport, key, identity.site_id, identity.device_id)
    publisher.software_version = software_version()
    return publisher

"""Credential configuration (pydantic, extra="forbid"): which methods, which readers, which gate."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from edge.credentials.desk import READ_METHODS, CredentialDesk, ReadMethod
from edge.credentials.readers import CredentialReader, HttpReader, StreamReader
from edge.credentials.serial_reader import SerialReader


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StdinReaderConfig(_Section):
    """Lines typed on the node's stdin (keyboard-wedge card or QR readers)."""

    kind: Literal["stdin"] = "stdin"
    gate_id: str = Field(description="The gate the reader stands at.")


class HttpReaderConfig(_Section):
    """``POST /credential`` from networked readers or kiosks."""

    kind: Literal["http"] = "http"
    host: str = Field(default="127.0.0.1", description="Bind address; 0.0.0.0 to open it up.")
    port: int = Field(default=8765, ge=0, le=65535)
    gate_ids: list[str] = Field(
        min_length=1, description="Gates it may name; the first is default."
    )


class SerialReaderConfig(_Section):
    """A reader on a serial port (needs pyserial)."""

    kind: Literal["serial"] = "serial"
    gate_id: str
    device: str = Field(description="e.g. /dev/ttyUSB0")
    baudrate: int = Field(default=9600, gt=0)


ReaderConfig = Annotated[
    StdinReaderConfig | HttpReaderConfig | SerialReaderConfig, Field(discriminator="kind")
]


class CredentialsConfig(_Section):
    """Credentials a gate node accepts besides the face."""

    methods: list[ReadMethod] = Field(
        default_factory=lambda: list(READ_METHODS), description="Of qr, card, pin."
    )
    readers: list[ReaderConfig] = Field(default_factory=list)
    remote_open: bool = Field(default=True, description="Accept central's guard remote-open.")
    remote_open_max_skew_s: float = Field(
        default=2.0, ge=0, le=10, description="How far in the future a command may be dated."
    )


def build_readers(config: CredentialsConfig, desk: CredentialDesk) -> list[CredentialReader]:
    """The readers ``config`` names, feeding ``desk`` (not started)."""
    readers: list[CredentialReader] = []
    for reader in config.readers:
        if isinstance(reader, StdinReaderConfig):
            readers.append(StreamReader(desk, reader.gate_id))
        elif isinstance(reader, HttpReaderConfig):
            readers.append(HttpReader(desk, tuple(reader.gate_ids), reader.host, reader.port))
        else:
            readers.append(SerialReader(desk, reader.gate_id, reader.device, reader.baudrate))
    return readers

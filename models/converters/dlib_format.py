"""A reader for dlib's binary serialization format (``dlib/serialize.h``, ``dlib/cuda/tensor.h``).

Only the primitives that dlib's DNN model files use are supported: variable-length integers,
mantissa/exponent floats, length-prefixed strings, ``'0'``/``'1'`` booleans, tensors and
alias-tensor shapes. Every malformed value raises :class:`ModelError` naming the byte offset.
"""

from __future__ import annotations

import math
from typing import NoReturn

import numpy as np
import numpy.typing as npt

from models.errors import ModelError

# float_details exponents that encode non-finite values (dlib/float_details.h).
_EXP_INF = 32000
_EXP_NINF = 32001
_EXP_NAN = 32002

_TENSOR_VERSION = 2
_ALIAS_TENSOR_VERSION = 1


class DlibReader:
    """Sequential reader over the bytes of a dlib-serialized object."""

    def __init__(self, data: bytes, name: str = "<bytes>") -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._name = name

    @property
    def offset(self) -> int:
        """Byte offset of the next value to read."""
        return self._pos

    @property
    def remaining(self) -> int:
        """Number of bytes not read yet."""
        return len(self._data) - self._pos

    def fail(self, message: str, offset: int | None = None) -> NoReturn:
        """Raise a :class:`ModelError` that names the file and the byte offset."""
        where = self._pos if offset is None else offset
        raise ModelError(f"{self._name}: {message} (at byte offset {where})")

    def read_bytes(self, count: int) -> bytes:
        """Read exactly ``count`` raw bytes."""
        if count < 0 or count > self.remaining:
            self.fail(f"unexpected end of data: need {count} bytes, {self.remaining} left")
        chunk = bytes(self._data[self._pos : self._pos + count])
        self._pos += count
        return chunk

    def _read_int_body(self, signed: bool, max_bytes: int) -> int:
        start = self._pos
        control = self.read_bytes(1)[0]
        negative = signed and bool(control & 0x80)
        size = control & (0x0F if signed else 0x8F)
        if size == 0 or size > max_bytes:
            self.fail(f"invalid integer control byte 0x{control:02x}", start)
        value = int.from_bytes(self.read_bytes(size), "little", signed=False)
        return -value if negative else value

    def read_int(self, max_bytes: int = 8) -> int:
        """Read a signed integer of at most ``max_bytes`` bytes (4 for ``int``)."""
        return self._read_int_body(signed=True, max_bytes=max_bytes)

    def read_uint(self, max_bytes: int = 8) -> int:
        """Read an unsigned integer of at most ``max_bytes`` bytes."""
        return self._read_int_body(signed=False, max_bytes=max_bytes)

    def read_float(self) -> float:
        """Read a float or double stored as a (mantissa, exponent) pair."""
        start = self._pos
        if self.remaining and self._data[self._pos] & 0x70:
            self.fail("legacy ASCII float encoding is not supported", start)
        mantissa = self.read_int(max_bytes=8)
        exponent = self.read_int(max_bytes=2)
        if exponent == _EXP_INF:
            return math.inf
        if exponent == _EXP_NINF:
            return -math.inf
        if exponent == _EXP_NAN:
            return math.nan
        try:
            return math.ldexp(float(mantissa), exponent)
        except OverflowError:
            return math.copysign(math.inf, mantissa)

    def read_string(self, max_len: int = 256) -> str:
        """Read a length-prefixed ASCII string of at most ``max_len`` bytes."""
        start = self._pos
        length = self.read_uint()
        if length > max_len:
            self.fail(f"string length {length} exceeds {max_len}", start)
        raw = self.read_bytes(length)
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            self.fail("string is not ASCII", start)

    def read_bool(self) -> bool:
        """Read a boolean stored as the character ``'0'`` or ``'1'``."""
        start = self._pos
        char = self.read_bytes(1)
        if char not in (b"0", b"1"):
            self.fail(f"invalid boolean byte {char!r}", start)
        return char == b"1"

    def _read_shape(self, version: int, what: str) -> tuple[int, int, int, int]:
        start = self._pos
        found = self.read_int(max_bytes=4)
        if found != version:
            self.fail(f"unsupported {what} version {found}", start)
        dims = tuple(self.read_int() for _ in range(4))
        if any(d < 0 or d >= 2**31 for d in dims):
            self.fail(f"invalid {what} dimensions {dims}", start)
        return dims[0], dims[1], dims[2], dims[3]

    def read_alias_tensor(self) -> tuple[int, int, int, int]:
        """Read an alias-tensor shape ``(num_samples, k, nr, nc)``; aliases carry no data."""
        return self._read_shape(_ALIAS_TENSOR_VERSION, "alias tensor")

    def read_tensor(self) -> npt.NDArray[np.float32]:
        """Read a tensor as a float32 array of shape ``(num_samples, k, nr, nc)``."""
        start = self._pos
        shape = self._read_shape(_TENSOR_VERSION, "tensor")
        count = math.prod(shape)
        if count * 4 > self.remaining:
            self.fail(f"tensor of shape {shape} runs past the end of the data", start)
        values = np.frombuffer(self.read_bytes(count * 4), dtype="<f4").astype(np.float32)
        try:
            return values.reshape(shape)
        except ValueError:
            self.fail(f"invalid tensor shape {shape}", start)

    def expect_string(self, *allowed: str) -> str:
        """Read a version string and fail unless it is one of ``allowed``."""
        start = self._pos
        found = self.read_string()
        if found not in allowed:
            self.fail(f"expected one of {list(allowed)}, found {found!r}", start)
        return found

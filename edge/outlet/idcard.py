"""Resident ID numbers (GB 11643-1999): validation, keyed hash and masked form.

The raw number never leaves this module's caller: events carry only ``SenderId.hash_hex``
(HMAC-SHA256 with the outlet's key) and ``SenderId.masked`` (first 4 and last 4 characters).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
# Province-level prefixes of GB/T 2260 (mainland, plus 71/81/82 for Taiwan, Hong Kong, Macao).
_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)


class IdNumberError(ValueError):
    """A resident ID number that fails validation; ``reason`` is a short code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def validate_id_number(text: str, today: date | None = None) -> str:
    """The normalised 18-character number; ``IdNumberError`` naming the first failed check."""
    number = text.strip().upper()
    if not _SHAPE.match(number):
        raise IdNumberError("format")
    if int(number[:2]) not in _PROVINCES or number[2:6] == "0000":
        raise IdNumberError("region")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("birth_date") from None
    if born > (today or date.today()) or born.year < 1900:
        raise IdNumberError("birth_date")
    if check_digit(number[:17]) != number[17]:
        raise IdNumberError("check_digit")
    return number


@dataclass(frozen=True)
class SenderId:
    """What may be stored and sent about a sender's ID number."""

    hash_hex: str
    masked: str


def protect(number: str, key: bytes) -> SenderId:
    """Keyed hash and masked form of a validated number."""
    digest = hmac.new(key, number.encode("ascii"), hashlib.sha256).hexdigest()
    return SenderId(hash_hex=digest, masked=number[:4] + "*" * 10 + number[14:])

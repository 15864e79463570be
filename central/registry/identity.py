"""Identity numbers and phone numbers: keyed hashes, masked forms, birth dates, ages."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

_ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")
_PHONE = re.compile(r"^\+?\d{7,15}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def valid_id_number(number: str) -> bool:
    """Whether ``number`` is an 18-character resident ID with a correct check character."""
    if not _ID_NUMBER.match(number):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number, _ID_WEIGHTS, strict=False))
    return _ID_CHECK[total % 11] == number[17].upper() and birth_date_of(number) is not None


def valid_phone(phone: str) -> bool:
    """Whether ``phone`` looks like a phone number (digits, optional leading +)."""
    return bool(_PHONE.match(phone))


def birth_date_of(number: str) -> date | None:
    """The birth date inside an 18-character ID number, or None if it is not a date."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def age_on(birth: date, day: date) -> int:
    """Whole years from ``birth`` to ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def id_number_hash(key: bytes, number: str) -> str:
    """Keyed hash of an ID number, for look-ups without storing the number."""
    return hmac.new(key, f"id:{number.upper()}".encode(), hashlib.sha256).hexdigest()


def mask_id_number(number: str) -> str:
    """``110***********1234``: the first three and last four characters."""
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_phone(phone: str) -> str:
    """``138****5678``: the first three and last four digits."""
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:]

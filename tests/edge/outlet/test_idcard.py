"""Resident ID numbers: check digit, birth date, region; only hash and mask leave."""

from __future__ import annotations

from datetime import date

import pytest

from edge.outlet.idcard import IdNumberError, check_digit, protect, validate_id_number

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("11010519491231002X", None),
        ("11010519491231002x", None),  # lower-case x is normalised
        ("440524198001010013", None),
        ("110105194912310021", "check_digit"),  # wrong check digit
        ("440524198001010014", "check_digit"),
        ("110105194902300012", "birth_date"),  # 30 February
        ("110105194913010010", "birth_date"),  # month 13
        ("11010520300101001X", "birth_date"),  # born in the future
        ("990105194912310023", "region"),  # no such province
        ("110000194912310022", "region"),  # no county part
        ("1101051949123100", "format"),
        ("11010519491231002Y", "format"),
        ("", "format"),
    ],
)
def test_validation(number: str, error: str | None) -> None:
    if error is None:
        assert validate_id_number(number, TODAY) == number.upper()
        return
    with pytest.raises(IdNumberError) as caught:
        validate_id_number(number, TODAY)
    assert caught.value.reason == error


def test_check_digit_follows_gb11643() -> None:
    assert check_digit("11010519491231002") == "X"
    assert check_digit("44052419800101001") == "3"


def test_protect_keeps_no_raw_number() -> None:
    number = "11010519491231002X"
    first = protect(number, b"k" * 32)
    assert first.masked == "1101**********002X"
    assert number not in first.hash_hex and len(first.hash_hex) == 64
    assert protect(number, b"k" * 32) == first
    assert protect(number, b"j" * 32).hash_hex != first.hash_hex

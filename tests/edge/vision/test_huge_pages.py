"""Huge pages under the coarse codes: asked for, and granted where Linux allows it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from edge.recognize.huge_pages import HUGE_PAGE, back_with_huge_pages, huge_page_span
from edge.recognize.search import faiss_available

THP = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def huge_pages_possible() -> bool:
    """Linux with transparent huge pages not switched off (and a kernel with MADV_COLLAPSE)."""
    if not sys.platform.startswith("linux") or not THP.exists() or "[never]" in THP.read_text():
        return False
    release = tuple(
        int(part)
        for part in Path("/proc/sys/kernel/osrelease").read_text().split("-")[0].split(".")[:2]
    )
    return release >= (6, 1)


def huge_bytes_under(start: int, end: int) -> int:
    """AnonHugePages of the mapping holding ``start``…``end`` in this process."""
    mapping, total = None, 0
    for line in Path("/proc/self/smaps").read_text().splitlines():
        first = line.split()[0]
        if "-" in first and not first.endswith(":"):
            low, high = (int(x, 16) for x in first.split("-"))
            mapping = low <= start and end <= high
        elif mapping and line.startswith("AnonHugePages:"):
            total += int(line.split()[1]) * 1024
    return total


def test_span_covers_only_whole_huge_pages() -> None:
    array = np.zeros(3 * HUGE_PAGE, np.uint8)
    start, end = huge_page_span(array)
    assert start % HUGE_PAGE == 0 and end % HUGE_PAGE == 0
    assert array.ctypes.data <= start and end <= array.ctypes.data + array.nbytes
    assert end - start >= 2 * HUGE_PAGE
    assert huge_page_span(np.zeros(100, np.uint8))[0] == huge_page_span(np.zeros(100, np.uint8))[1]


@pytest.mark.skipif(not huge_pages_possible(), reason="no transparent huge pages here")
def test_a_large_array_is_collapsed_onto_huge_pages() -> None:
    array = np.ones(8 * HUGE_PAGE, np.uint8)
    start, end = huge_page_span(array)
    assert back_with_huge_pages(array)
    assert huge_bytes_under(start, end) >= end - start
    assert int(array.sum()) == array.nbytes  # the contents are untouched


def test_small_arrays_are_left_alone() -> None:
    assert not back_with_huge_pages(np.ones(1000, np.uint8))


@pytest.mark.skipif(not huge_pages_possible(), reason="no transparent huge pages here")
@pytest.mark.skipif(not faiss_available(), reason="faiss not installed (optional)")
def test_sq8x2_coarse_codes_live_on_huge_pages() -> None:
    from edge.recognize.quantized import QuantizedRows

    rows = QuantizedRows(256)
    rng = np.random.default_rng(0)
    block = rng.standard_normal((40_000, 256)).astype(np.float32)
    rows.add(block / np.linalg.norm(block, axis=1, keepdims=True))
    codes = rows._coarse_codes()
    start, end = huge_page_span(codes)
    assert end - start >= 4 * HUGE_PAGE
    assert huge_bytes_under(start, end) >= end - start

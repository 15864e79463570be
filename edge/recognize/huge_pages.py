"""Back a large array with 2 MiB pages (Linux transparent huge pages), where the system allows.

A coarse scan reads every byte of a gallery's codes, 256 MB per query at 1M x 256, and with
4 KiB pages it needs a new address translation every 4 KiB; measured here, the scan of 1M rows
took about 10-25 % less time on huge pages. ``MADV_HUGEPAGE`` marks the range and
``MADV_COLLAPSE`` (Linux 6.1+) turns the pages already there into huge ones at once. On other
systems, older kernels or with huge pages switched off, nothing changes and the scan is as
before.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import numpy.typing as npt

HUGE_PAGE = 2 << 20
MADV_HUGEPAGE = 14
MADV_COLLAPSE = 25

_Madvise = Callable[[int, int, int], int]


@lru_cache(maxsize=1)
def _madvise() -> _Madvise | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    function.restype = ctypes.c_int
    return function


def huge_page_span(array: npt.NDArray[np.generic]) -> tuple[int, int]:
    """Start and end address of the whole huge pages inside ``array``'s memory (may be empty)."""
    first = array.ctypes.data
    start = -(-first // HUGE_PAGE) * HUGE_PAGE
    end = (first + array.nbytes) // HUGE_PAGE * HUGE_PAGE
    return start, max(start, end)


def back_with_huge_pages(array: npt.NDArray[np.generic]) -> bool:
    """Ask for huge pages under ``array``; whether the kernel collapsed its whole pages."""
    madvise = _madvise()
    start, end = huge_page_span(array)
    if madvise is None or end == start:
        return False
    if madvise(start, end - start, MADV_HUGEPAGE) != 0:
        return False
    return madvise(start, end - start, MADV_COLLAPSE) == 0

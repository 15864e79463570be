"""The compiled int8 scan: exact integer sums, refusals, and sq8x2 using it where it can run."""

from __future__ import annotations

import numpy as np
import pytest

from edge.recognize.int8_scan import BLOCK, compiled_scanner
from edge.recognize.search import faiss_available


def host_has_vnni() -> bool:
    import llvmlite.binding as llvm  # a dev dependency: missing it fails, never skips

    llvm.initialize_native_target()
    features = llvm.get_host_cpu_features()
    return bool(features.get("avx512f") and features.get("avx512vnni"))


needs_vnni = pytest.mark.skipif(not host_has_vnni(), reason="this CPU has no AVX-512 VNNI")


def test_scanner_exists_exactly_where_the_cpu_can_run_it() -> None:
    assert (compiled_scanner() is not None) == host_has_vnni()


@needs_vnni
@pytest.mark.parametrize("width", [BLOCK, 2 * BLOCK, 4 * BLOCK, 8 * BLOCK])
@pytest.mark.parametrize("rows", [1, 3, 1000])
def test_sums_are_exact_integers(width: int, rows: int) -> None:
    scan = compiled_scanner()
    assert scan is not None
    rng = np.random.default_rng(width + rows)
    codes = rng.integers(0, 256, (rows, width), dtype=np.uint8)
    codes[0] = 255  # the largest sum this width can reach, with the query at its extreme
    query = np.full(width, 127, np.int8) if rows == 1 else rng.integers(-127, 128, width, np.int8)
    out = np.full(rows + 2, -1, np.int32)
    scan(codes, query, out)
    assert out[:rows].tolist() == (codes.astype(np.int64) @ query.astype(np.int64)).tolist()
    assert out[rows:].tolist() == [-1, -1]  # nothing written past the rows


@needs_vnni
@pytest.mark.parametrize(
    ("codes", "query", "out"),
    [
        (np.zeros((2, 100), np.uint8), np.zeros(100, np.int8), np.zeros(2, np.int32)),
        (np.zeros((2, 64), np.uint8), np.zeros(128, np.int8), np.zeros(2, np.int32)),
        (np.zeros((3, 64), np.uint8), np.zeros(64, np.int8), np.zeros(2, np.int32)),
        (np.zeros((2, 64), np.int8), np.zeros(64, np.int8), np.zeros(2, np.int32)),
        (np.zeros((2, 128), np.uint8)[:, ::2], np.zeros(64, np.int8), np.zeros(2, np.int32)),
        (np.zeros((2, 64), np.uint8), np.zeros(64, np.int8), np.zeros(2, np.int64)),
    ],
    ids=["width", "query-length", "short-output", "code-type", "strided", "output-type"],
)
def test_unsafe_arguments_are_refused(
    codes: np.ndarray, query: np.ndarray, out: np.ndarray
) -> None:
    scan = compiled_scanner()
    assert scan is not None
    with pytest.raises(ValueError, match="int8 scan needs"):
        scan(codes, query, out)


@pytest.mark.skipif(not faiss_available(), reason="faiss not installed (optional)")
@pytest.mark.parametrize(("dim", "usable"), [(256, True), (128, True), (96, False)])
def test_sq8x2_scans_with_the_kernel_where_it_can(dim: int, usable: bool) -> None:
    from edge.recognize.quantized import QuantizedRows

    assert QuantizedRows(dim).compiled == (usable and host_has_vnni())
    assert not QuantizedRows(dim, compiled_scan=False).compiled

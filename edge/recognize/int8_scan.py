"""Score every row of 8-bit codes against an 8-bit query in one pass, compiled at run time.

``sq8x2``'s coarse stage reads one byte per value of every template; at 100k x 256 that is
25.6 MB per query, and FAISS's scalar-quantizer kernel decodes the bytes to floats, which costs
about twice the time the memory takes to read. On CPUs with AVX-512 VNNI one ``vpdpbusd``
multiplies 64 unsigned code bytes by 64 signed query bytes and adds them in groups of four to
sixteen 32-bit sums, so the scan runs at about the speed memory delivers the codes. The kernel
is a few lines of LLVM IR compiled by llvmlite (a wheel on PyPI; no compiler needed) for the
host CPU on first use. Sums are exact integers: a row's score ``sum(code * query)`` is at most
``255 * 127 * d``, far inside 32 bits for any template size.

``compiled_scanner()`` returns None (and the caller keeps FAISS's scan) when llvmlite is not
installed, the CPU lacks AVX-512 VNNI, or the compiled kernel fails its self-check.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

BLOCK = 64  # bytes per vpdpbusd step: a row's length must be a multiple of this
_SELF_CHECK_ROWS = 97

_IR = r"""
declare <16 x i32> @llvm.x86.avx512.vpdpbusd.512(<16 x i32>, <16 x i32>, <16 x i32>)
declare i32 @llvm.vector.reduce.add.v16i32(<16 x i32>)

; out[i] = sum over j of codes[i * 64 * blocks + j] (unsigned) * query[j] (signed)
define void @scan(ptr %codes, ptr %query, i64 %rows, i64 %blocks, ptr %out) {
entry:
  %none = icmp eq i64 %rows, 0
  br i1 %none, label %done, label %row
row:
  %i = phi i64 [0, %entry], [%next_i, %row_end]
  %first = mul i64 %i, %blocks
  br label %block
block:
  %b = phi i64 [0, %row], [%next_b, %block]
  %sum = phi <16 x i32> [zeroinitializer, %row], [%summed, %block]
  %at = add i64 %first, %b
  %code_ptr = getelementptr <16 x i32>, ptr %codes, i64 %at
  %code = load <16 x i32>, ptr %code_ptr, align 1
  %query_ptr = getelementptr <16 x i32>, ptr %query, i64 %b
  %weights = load <16 x i32>, ptr %query_ptr, align 1
  %summed = call <16 x i32> @llvm.x86.avx512.vpdpbusd.512(
      <16 x i32> %sum, <16 x i32> %code, <16 x i32> %weights)
  %next_b = add i64 %b, 1
  %more_blocks = icmp ult i64 %next_b, %blocks
  br i1 %more_blocks, label %block, label %row_end
row_end:
  %total = call i32 @llvm.vector.reduce.add.v16i32(<16 x i32> %summed)
  %out_ptr = getelementptr i32, ptr %out, i64 %i
  store i32 %total, ptr %out_ptr, align 4
  %next_i = add i64 %i, 1
  %more_rows = icmp ult i64 %next_i, %rows
  br i1 %more_rows, label %row, label %done
done:
  ret void
}
"""

Codes = npt.NDArray[np.uint8]
Query = npt.NDArray[np.int8]
Sums = npt.NDArray[np.int32]
Scanner = Callable[[Codes, Query, Sums], None]
_Kernel = Callable[[int, int, int, int, int], None]
_ENGINES: list[Any] = []  # each compiled kernel's machine code lives as long as its engine


@lru_cache(maxsize=1)
def compiled_scanner() -> Scanner | None:
    """``scan(codes, query, out)`` writing ``codes @ query`` (exact int32) into ``out``, or None
    when this machine cannot run the compiled kernel."""
    try:
        import llvmlite.binding as llvm
    except ImportError:
        return None
    try:
        kernel = _compile(llvm)
    except Exception as exc:  # an LLVM build without the x86 target, an unknown CPU, ...
        logger.warning("int8_scan.unavailable error=%r", exc)
        return None
    if kernel is None:
        return None
    scanner = _checked_scanner(kernel)
    if not _passes_self_check(scanner):
        logger.warning("int8_scan.self_check_failed (FAISS scans instead)")
        return None
    logger.info("int8_scan.compiled cpu=%s kernel=avx512-vnni", llvm.get_host_cpu_name())
    return scanner


def _compile(llvm: Any) -> _Kernel | None:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    features = llvm.get_host_cpu_features()
    if not (features.get("avx512f") and features.get("avx512vnni")):
        return None
    target = llvm.Target.from_default_triple()
    machine = target.create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=features.flatten(), opt=3
    )
    module = llvm.parse_assembly(_IR)
    module.verify()
    engine = llvm.create_mcjit_compiler(module, machine)
    engine.finalize_object()
    signature = ctypes.CFUNCTYPE(
        None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p
    )
    kernel = signature(engine.get_function_address("scan"))
    _ENGINES.append(engine)
    return kernel


def _checked_scanner(kernel: _Kernel) -> Scanner:
    def scan(codes: Codes, query: Query, out: Sums) -> None:
        rows, width = codes.shape
        if width % BLOCK or query.shape != (width,) or out.shape[0] < rows:
            raise ValueError(f"int8 scan needs rows of a multiple of {BLOCK} bytes, got {width}")
        for array, kind in ((codes, np.uint8), (query, np.int8), (out, np.int32)):
            if array.dtype != kind or not array.flags.c_contiguous:
                raise ValueError(f"int8 scan needs contiguous {np.dtype(kind)} arrays")
        kernel(codes.ctypes.data, query.ctypes.data, rows, width // BLOCK, out.ctypes.data)

    return scan


def _passes_self_check(scan: Scanner) -> bool:
    """The kernel agrees with numpy on random codes, including the extreme values."""
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 256, (_SELF_CHECK_ROWS, 2 * BLOCK), dtype=np.uint8)
    codes[0], codes[1] = 255, 0
    query = rng.integers(-127, 128, 2 * BLOCK, dtype=np.int8)
    query[:BLOCK] = -127
    out = np.zeros(_SELF_CHECK_ROWS, np.int32)
    scan(codes, query, out)
    expected = codes.astype(np.int64) @ query.astype(np.int64)
    return bool((out == expected).all())

"""Exact search rows at two bytes per dimension: a coarse 8-bit code scanned by FAISS, rescored
from an 8-bit residual code.

Each dimension ``j`` has a grid ``offset_j + step_j * c`` (``c`` in 0…255) that covers every
stored value, and a finer grid of ``step_j / 255`` inside each step for the residual, so a row
is stored as ``offset + step * (c + r / 255 - 1/2)``: 16-bit fixed point, finer than float16 for
unit templates. The query, scaled by ``step``, is rounded to integers in -127…127 and FAISS's
byte kernel (``QT_8bit_direct_signed``) scores every row's centred coarse code ``c - 128`` with
exact integer sums. A row's coarse score differs from its stored score by at most
``|q| * rho + |e| * C`` (Cauchy-Schwarz: ``rho`` bounds every row's residual norm, ``C`` every
row's centred code norm, ``e`` is the query's rounding error), so once the best fetched rows are
rescored from both codes, any row left out whose coarse score is below the ``count``-th rescored
score minus that slack cannot beat it; when rows could, more are fetched. The answer is the
exact top ``count`` of the stored values, never an approximate one.

Where the CPU has AVX-512 VNNI (and llvmlite is installed), a compiled kernel
(``edge.recognize.int8_scan``) replaces FAISS's scan: it scores every row's coarse code with exact
integer sums at about the speed memory delivers them, and every row whose coarse score lies
within twice the slack of the ``count``-th best is rescored; the rest provably cannot win.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.recognize.huge_pages import back_with_huge_pages
from edge.recognize.int8_scan import BLOCK, Scanner, compiled_scanner

Floats = npt.NDArray[np.float64]
Codes = npt.NDArray[np.uint8]
Scores = npt.NDArray[np.float32]
Rows = npt.NDArray[np.int64]

LEVELS = 255
CENTRE = 128  # FAISS decodes a signed direct code ``c`` as ``c - 128``
QUERY_LEVELS = 127
HEADROOM = 1 / 8  # a new grid spans the values plus this share of their width on each side
FIRST_FETCH_EXTRA = 32  # rows fetched beyond ``count`` before the bound is checked
FETCH_GROWTH = 16
CHUNK = 16_384  # rows encoded or rescored at a time when there are many


@dataclass(frozen=True)
class GridCodec:
    """Per-dimension coarse and residual 8-bit grids; see the module docstring."""

    offset: Floats
    step: Floats

    @classmethod
    def covering(cls, low: Floats, high: Floats) -> GridCodec:
        """A grid over ``[low, high]`` per dimension, with headroom for later rows."""
        pad = (high - low) * HEADROOM + 1e-6
        return cls(low - pad, (high - low + 2 * pad) / LEVELS)

    @property
    def low(self) -> Floats:
        """Smallest value each dimension can hold."""
        return self.offset

    @property
    def high(self) -> Floats:
        """Largest value each dimension can hold."""
        return self.offset + LEVELS * self.step

    def covers(self, rows: npt.NDArray[Any]) -> bool:
        """Whether every value of ``rows`` lies on the grid's span."""
        return bool((rows >= self.low).all() and (rows <= self.high).all())

    def encode(self, rows: npt.NDArray[Any]) -> tuple[Codes, Codes]:
        """Coarse and residual codes of ``rows`` (values outside the span are clipped)."""
        scaled = (np.asarray(rows, np.float64) - self.offset) / self.step
        coarse = np.clip(np.rint(scaled), 0, LEVELS)
        residual = np.clip(np.rint((scaled - coarse + 0.5) * LEVELS), 0, LEVELS)
        return coarse.astype(np.uint8), residual.astype(np.uint8)

    def decode(self, coarse: Codes, residual: Codes) -> Floats:
        """The stored values of rows with these codes."""
        fine = coarse.astype(np.float64) + residual / LEVELS - 0.5
        return self.offset + self.step * fine

    def residual_norms(self, residual: Codes) -> Floats:
        """Norm of each row's residual, the gap between its coarse and stored values."""
        offsets = (residual / LEVELS - 0.5) * self.step
        norms: Floats = np.sqrt(np.einsum("ij,ij->i", offsets, offsets))
        return norms


@dataclass(frozen=True)
class _Query:
    """One query prepared for both stages (see the module docstring)."""

    integers: npt.NDArray[np.int8]  # ``weights / scale`` rounded, in -127…127
    scale: float
    coarse_base: float  # stored score ≈ coarse_base + scale * FAISS score ± slack
    slack: float
    fine_base: float  # stored score = fine_base + (255 * coarse + residual) . fine_weights
    fine_weights: Floats


@dataclass(frozen=True)
class _Norms:
    """Upper bounds on every stored row's residual norm and centred coarse code norm."""

    residual: float = 0.0
    centred: float = 0.0

    def __or__(self, other: _Norms) -> _Norms:
        return _Norms(max(self.residual, other.residual), max(self.centred, other.centred))


class QuantizedRows:
    """Row store for ``TemplateIndex`` precision ``sq8x2``: FAISS coarse scan, exact rescore."""

    def __init__(self, dimension: int, compiled_scan: bool = True) -> None:
        import faiss

        if not hasattr(faiss.ScalarQuantizer, "QT_8bit_direct_signed"):
            raise ValueError("precision 'sq8x2' needs faiss >= 1.9 (pip install -U faiss-cpu)")
        self._faiss = faiss
        self.dimension = dimension
        self._index: Any = self._new_index()
        self._residual: Codes = np.zeros((0, dimension), np.uint8)
        self._codec: GridCodec | None = None
        self._norms = _Norms()
        usable = compiled_scan and dimension % BLOCK == 0
        self._scanner: Scanner | None = compiled_scanner() if usable else None
        self._sums: npt.NDArray[np.int32] = np.zeros(0, np.int32)

    @property
    def compiled(self) -> bool:
        """Whether the coarse scan runs the compiled VNNI kernel rather than FAISS's."""
        return self._scanner is not None

    @property
    def nbytes(self) -> int:
        """Bytes of both codes (two per dimension per row) and the compiled scan's row sums."""
        codes = int(self._index.ntotal) * self.dimension + int(self._residual.nbytes)
        return codes + int(self._sums.nbytes)

    def add(self, block: npt.NDArray[np.float32]) -> None:
        """Append ``block``, re-encoding every row onto a wider grid if it falls outside; the
        coarse codes are then put on huge pages where the system allows."""
        if not len(block):
            return
        if self._codec is None or not self._codec.covers(block):
            self._regrid(block)
        else:
            residual, norms = self._encode_into(self._index, self._codec, block)
            self._residual = np.concatenate([self._residual, residual])
            self._norms |= norms
        back_with_huge_pages(self._coarse_codes())  # the coarse scan reads all of them

    def keep(self, mask: npt.NDArray[np.bool_]) -> None:
        """Keep the rows where ``mask`` holds (the norm bounds stay valid, maybe loose)."""
        drop = np.flatnonzero(~mask).astype(np.int64)
        if len(drop):
            self._index.remove_ids(self._faiss.IDSelectorBatch(drop))
            self._residual = self._residual[mask]

    def top(self, query: npt.NDArray[np.float32], count: int) -> tuple[Scores, Rows]:
        """The exact best ``count`` rows for ``query`` by stored value, best first."""
        prepared = self._prepare(query)
        if self._scanner is not None:
            return self._top_of_all(self._scanner, prepared, count)
        total, fetch = int(self._index.ntotal), count + FIRST_FETCH_EXTRA
        faiss_query = prepared.integers.astype(np.float32).reshape(1, -1)
        while fetch < total:
            coarse, found = self._index.search(faiss_query, fetch)
            rows = found[0].astype(np.int64)
            scores = self._rescore(prepared, rows)
            best = _best(scores, rows, count)
            beatable = prepared.coarse_base + prepared.scale * float(coarse[0, -1]) + prepared.slack
            if beatable <= float(scores[best[-1]]):
                return scores[best].astype(np.float32), rows[best]
            fetch *= FETCH_GROWTH
        return self._best_rescored(prepared, np.arange(total, dtype=np.int64), count)

    def _top_of_all(self, scan: Scanner, prepared: _Query, count: int) -> tuple[Scores, Rows]:
        """Coarse-score every row with the compiled kernel, rescore the rows that could win."""
        codes = self._coarse_codes()
        if len(self._sums) < len(codes):
            self._sums = np.empty(len(codes), np.int32)
        sums = self._sums[: len(codes)]
        scan(codes, prepared.integers, sums)
        width = 2 * prepared.slack / prepared.scale  # the slack on both sides, in integer units
        return self._best_rescored(prepared, _rows_near_top(sums, count, width), count)

    def _prepare(self, query: npt.NDArray[np.float32]) -> _Query:
        codec = self._codec
        assert codec is not None, "top() on an empty store"
        exact = query.astype(np.float64)
        weights = exact * codec.step
        scale = float(np.abs(weights).max()) / QUERY_LEVELS or 1.0
        integers = np.rint(weights / scale)
        error = float(np.linalg.norm(weights - scale * integers))
        slack = (
            float(np.linalg.norm(exact)) * self._norms.residual
            + error * self._norms.centred
            + scale * _rounding(self.dimension)
        )
        offset_score = float(exact @ codec.offset)
        return _Query(
            integers=integers.astype(np.int8),
            scale=scale,
            coarse_base=offset_score + CENTRE * float(weights.sum()),
            slack=slack,
            fine_base=offset_score - 0.5 * float(weights.sum()),
            fine_weights=weights / LEVELS,
        )

    def _rescore(self, prepared: _Query, rows: Rows) -> Floats:
        fine = np.multiply(self._coarse_codes()[rows], float(LEVELS)) + self._residual[rows]
        scores: Floats = prepared.fine_base + fine @ prepared.fine_weights
        return scores

    def _best_rescored(self, prepared: _Query, rows: Rows, count: int) -> tuple[Scores, Rows]:
        """The best ``count`` of ``rows`` by stored value, rescoring a chunk at a time."""
        kept_scores: list[Floats] = []
        kept_rows: list[Rows] = []
        for start in range(0, len(rows), CHUNK):
            part = rows[start : start + CHUNK]
            scores = self._rescore(prepared, part)
            best = _best(scores, part, count)
            kept_scores.append(scores[best])
            kept_rows.append(part[best])
        scores, rows = np.concatenate(kept_scores), np.concatenate(kept_rows)
        best = _best(scores, rows, count)
        return scores[best].astype(np.float32), rows[best]

    def _coarse_codes(self) -> Codes:
        """A view of FAISS's coarse codes; valid until the index next changes."""
        total = int(self._index.ntotal)
        if not total:
            return np.zeros((0, self.dimension), np.uint8)
        flat = self._faiss.rev_swig_ptr(self._index.codes.data(), total * self.dimension)
        return np.asarray(flat, np.uint8).reshape(total, self.dimension)

    def _stored_chunks(self) -> Iterator[Floats]:
        """Stored values of every row in order, a chunk at a time."""
        codec, coarse = self._codec, self._coarse_codes()
        for start in range(0, len(coarse) if codec else 0, CHUNK):
            part = slice(start, start + CHUNK)
            assert codec is not None
            yield codec.decode(coarse[part], self._residual[part])

    def _regrid(self, block: npt.NDArray[np.float32]) -> None:
        low, high = block.min(axis=0).astype(np.float64), block.max(axis=0).astype(np.float64)
        if self._codec is not None:
            low, high = np.minimum(low, self._codec.low), np.maximum(high, self._codec.high)
        codec, index = GridCodec.covering(low, high), self._new_index()
        parts = [self._encode_into(index, codec, rows) for rows in self._stored_chunks()]
        parts.append(self._encode_into(index, codec, block))
        self._index, self._codec = index, codec
        self._residual = np.concatenate([codes for codes, _ in parts])
        self._norms = _Norms()
        for _, norms in parts:
            self._norms |= norms

    @staticmethod
    def _encode_into(index: Any, codec: GridCodec, rows: npt.NDArray[Any]) -> tuple[Codes, _Norms]:
        """Add the coarse codes of ``rows`` to ``index``; their residual codes and norm bounds."""
        residuals, norms = [], _Norms()
        for start in range(0, len(rows), CHUNK):
            coarse, residual = codec.encode(rows[start : start + CHUNK])
            index.add_sa_codes(coarse)
            residuals.append(residual)
            centred = np.linalg.norm(coarse.astype(np.float64) - CENTRE, axis=1)
            norms |= _Norms(float(codec.residual_norms(residual).max()), float(centred.max()))
        return np.concatenate(residuals), norms

    def _new_index(self) -> Any:
        faiss = self._faiss
        quantizer = faiss.ScalarQuantizer.QT_8bit_direct_signed
        return faiss.IndexScalarQuantizer(self.dimension, quantizer, faiss.METRIC_INNER_PRODUCT)


def _rounding(dimension: int) -> float:
    """Bound on FAISS's error in an integer coarse score, in query-integer units.

    Products and partial sums are integers below ``127 * 128 * d``: exact in float32 (or int32)
    while that stays under ``2**24``; past it, ``d + 2`` roundings of ``2**-24`` relative each.
    """
    largest = QUERY_LEVELS * CENTRE * dimension
    return 0.0 if largest < 2**24 else 2.0 * (dimension + 2) * 2.0**-24 * largest


def _rows_near_top(sums: npt.NDArray[np.int32], count: int, width: float) -> Rows:
    """Every row whose coarse sum is at least the ``count``-th largest minus ``width``.

    Each of the ``count`` best rows scores at least its estimate minus the slack, and a row
    below that cut scores less than its estimate plus the slack: so none below it can be among
    the best ``count``. The ``count``-th largest is found among the rows near the top, widening
    the window until it holds ``count`` rows, so the whole array is never sorted.
    """
    top = int(sums.max())
    reach = width
    near = np.flatnonzero(sums >= top - reach)
    while len(near) < count:
        reach = 4 * reach + 1
        near = np.flatnonzero(sums >= top - reach)
    kth = int(np.partition(sums[near], len(near) - count)[len(near) - count])
    cut = kth - width
    return near if cut >= top - reach else np.flatnonzero(sums >= cut).astype(np.int64)


def _best(scores: Floats, rows: Rows, count: int) -> Rows:
    """Positions of the ``count`` best ``scores``, best first (ties: lower row first)."""
    if count < len(scores):
        picked = np.argpartition(-scores, count - 1)[:count]
    else:
        picked = np.arange(len(scores))
    order = np.lexsort((rows[picked], -scores[picked]))
    return picked[order].astype(np.int64)

"""Exact 1:N cosine search over unit templates: numpy float32, or FAISS when installed and asked.

Rows live in one store (a float32 matrix, or a FAISS index) with a parallel array of owner
slots. A query takes the best ``k * m`` rows (``m``: most templates any one person has), which
always contain the ``k`` best people, then keeps each person's best row. FAISS stores rows as
float32 (``IndexFlatIP``), float16 (``IndexScalarQuantizer`` fp16) or ``sq8x2``: two 8-bit codes
per value, a coarse one that FAISS scans and a residual one that rescores the rows the coarse
scan cannot rule out (16-bit fixed point, see ``edge.recognize.quantized``); f16 and sq8x2 take
about half the memory of f32, and sq8x2 is the fastest. All three give the exact top rows of
the stored precision, never an approximate one. sq8x2's coarse scan runs a compiled AVX-512
VNNI kernel where the CPU has one (``edge.recognize.int8_scan``), else FAISS's. Every method
holds one lock, so the gallery may change from another thread while a camera searches.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from edge.recognize.quantized import QuantizedRows

Backend = Literal["auto", "numpy", "faiss"]
Precision = Literal["f32", "f16", "sq8x2"]
Rows = npt.NDArray[np.float32]


def faiss_available() -> bool:
    """Whether the optional ``faiss`` package can be imported."""
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


class _RowStore(Protocol):
    @property
    def nbytes(self) -> int: ...

    def add(self, block: Rows) -> None: ...
    def keep(self, mask: npt.NDArray[np.bool_]) -> None: ...
    def top(self, query: Rows, count: int) -> tuple[Rows, npt.NDArray[np.int64]]: ...


class _NumpyRows:
    def __init__(self, dimension: int) -> None:
        self._matrix = np.zeros((0, dimension), np.float32)

    @property
    def nbytes(self) -> int:
        return int(self._matrix.nbytes)

    def add(self, block: Rows) -> None:
        self._matrix = np.concatenate([self._matrix, block])

    def keep(self, mask: npt.NDArray[np.bool_]) -> None:
        self._matrix = self._matrix[mask]

    def top(self, query: Rows, count: int) -> tuple[Rows, npt.NDArray[np.int64]]:
        scores: Rows = self._matrix @ query
        rows = np.argpartition(-scores, count - 1)[:count] if count < len(scores) else None
        rows = np.arange(len(scores)) if rows is None else rows
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        return scores[rows], rows.astype(np.int64)


class _FaissRows:
    def __init__(self, dimension: int, precision: Literal["f32", "f16"]) -> None:
        import faiss

        self._faiss = faiss
        self.dimension = dimension
        self._index: Any
        if precision == "f16":
            self._index = faiss.IndexScalarQuantizer(
                dimension, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
            )
        else:
            self._index = faiss.IndexFlatIP(dimension)
        self._bytes_per_row = dimension * (2 if precision == "f16" else 4)

    @property
    def nbytes(self) -> int:
        return int(self._index.ntotal) * self._bytes_per_row

    def add(self, block: Rows) -> None:
        self._index.add(block)

    def keep(self, mask: npt.NDArray[np.bool_]) -> None:
        drop = np.flatnonzero(~mask).astype(np.int64)
        if len(drop):
            self._index.remove_ids(self._faiss.IDSelectorBatch(drop))

    def top(self, query: Rows, count: int) -> tuple[Rows, npt.NDArray[np.int64]]:
        scores, rows = self._index.search(query.reshape(1, -1), count)
        return scores[0], rows[0].astype(np.int64)


class TemplateIndex:
    """Exact 1:N cosine search over unit templates: FAISS (sq8x2) if installed, else numpy."""

    def __init__(
        self,
        dimension: int,
        backend: Backend = "auto",
        precision: Precision = "sq8x2",
        compiled_scan: bool = True,
    ):
        if dimension <= 0:
            raise ValueError(f"dimension must be positive, got {dimension}")
        if backend == "faiss" and not faiss_available():
            raise ValueError(
                "backend 'faiss' asked but faiss is not installed (pip install faiss-cpu)"
            )
        self.dimension = dimension
        use_faiss = backend == "faiss" or (backend == "auto" and faiss_available())
        self.backend: Literal["numpy", "faiss"] = "faiss" if use_faiss else "numpy"
        self.precision: Precision = precision if use_faiss else "f32"
        self.compiled_scan = compiled_scan
        self._lock = threading.RLock()
        self._clear()

    def __len__(self) -> int:
        return len(self._owners)

    def __contains__(self, person_id: object) -> bool:
        return person_id in self._slots

    @property
    def people(self) -> int:
        """Number of people with at least one template."""
        return len(self._slots)

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the stored templates and their owner array."""
        return self._rows.nbytes + int(self._owners.nbytes)

    def replace_all(self, entries: Mapping[str, npt.NDArray[Any]]) -> None:
        """Forget everything, then hold ``entries`` (person id → ``(n, dimension)`` templates)."""
        checked = {person: self._checked(t) for person, t in entries.items()}
        with self._lock:
            self._clear()
            blocks = [(self._slot(p), b) for p, b in checked.items() if len(b)]
            if blocks:
                self._rows.add(np.concatenate([b for _, b in blocks]))
                self._owners = np.concatenate([np.full(len(b), s, np.int32) for s, b in blocks])
            self._recount()

    def upsert(self, person_id: str, templates: npt.NDArray[Any]) -> None:
        """Set the templates of ``person_id``, replacing any it had; none removes the person."""
        block = self._checked(templates)
        with self._lock:
            self.remove(person_id)
            if len(block):
                slot = self._slot(person_id)
                self._rows.add(block)
                self._owners = np.concatenate([self._owners, np.full(len(block), slot, np.int32)])
                self._recount()

    def remove(self, person_id: str) -> None:
        """Forget ``person_id``; a no-op for an unknown id."""
        with self._lock:
            slot = self._slots.pop(person_id, None)
            if slot is None:
                return
            mask = self._owners != slot
            self._rows.keep(mask)
            self._owners = self._owners[mask]
            self._names[slot] = None
            self._free.append(slot)
            self._recount()

    def search(self, query: npt.NDArray[Any], k: int = 1) -> list[tuple[str, float]]:
        """The ``k`` best people for ``query`` with their best cosine score, descending."""
        vector = np.ascontiguousarray(query, np.float32).reshape(-1)
        if vector.shape[0] != self.dimension:
            raise ValueError(f"query has {vector.shape[0]} dimensions, index has {self.dimension}")
        if not np.isfinite(vector).all():
            raise ValueError("query contains NaN or infinity")
        with self._lock:
            if len(self) == 0 or k <= 0:
                return []
            scores, rows = self._rows.top(vector, min(len(self), k * self._most_per_person))
            return self._best_people(scores, rows, k)

    def _best_people(
        self, scores: Rows, rows: npt.NDArray[np.int64], k: int
    ) -> list[tuple[str, float]]:
        result: list[tuple[str, float]] = []
        seen: set[int] = set()
        for score, row in zip(scores.tolist(), rows.tolist(), strict=True):
            slot = int(self._owners[row])
            if slot not in seen:
                seen.add(slot)
                result.append((str(self._names[slot]), float(score)))
                if len(result) == k:
                    break
        return result

    def _clear(self) -> None:
        self._rows: _RowStore
        if self.backend == "numpy":
            self._rows = _NumpyRows(self.dimension)
        elif self.precision == "sq8x2":
            self._rows = QuantizedRows(self.dimension, self.compiled_scan)
        else:
            self._rows = _FaissRows(self.dimension, self.precision)
        self._owners = np.zeros((0,), np.int32)
        self._slots: dict[str, int] = {}
        self._names: list[str | None] = []
        self._free: list[int] = []
        self._most_per_person = 1

    def _recount(self) -> None:
        counts = np.bincount(self._owners) if len(self._owners) else np.zeros(1, np.int64)
        self._most_per_person = max(1, int(counts.max()))

    def _checked(self, templates: npt.NDArray[Any]) -> Rows:
        block = np.asarray(templates, np.float32)
        block = block.reshape(1, -1) if block.ndim == 1 else block
        if block.ndim != 2 or (len(block) and block.shape[1] != self.dimension):
            raise ValueError(f"templates must be (n, {self.dimension}), got {block.shape}")
        if not np.isfinite(block).all():
            raise ValueError("templates contain NaN or infinity")
        return np.ascontiguousarray(block)

    def _slot(self, person_id: str) -> int:
        slot = self._free.pop() if self._free else len(self._names)
        if slot == len(self._names):
            self._names.append(person_id)
        self._names[slot] = person_id
        self._slots[person_id] = slot
        return slot

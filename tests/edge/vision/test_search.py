"""TemplateIndex: exact against brute force, for every backend and precision installed here."""

from __future__ import annotations

import numpy as np
import pytest

from edge.recognize.quantized import GridCodec
from edge.recognize.search import TemplateIndex, faiss_available

needs_faiss = pytest.mark.skipif(not faiss_available(), reason="faiss not installed (optional)")
INDEXES = [
    pytest.param("numpy", "f32", True, id="numpy"),
    pytest.param("faiss", "f32", True, marks=needs_faiss, id="faiss-f32"),
    pytest.param("faiss", "f16", True, marks=needs_faiss, id="faiss-f16"),
    pytest.param("faiss", "sq8x2", True, marks=needs_faiss, id="faiss-sq8x2"),
    pytest.param("faiss", "sq8x2", False, marks=needs_faiss, id="faiss-sq8x2-faiss-scan"),
]
SQ8X2_SCANS = [pytest.param(True, id="compiled-scan"), pytest.param(False, id="faiss-scan")]
SCORE_TOLERANCE = {"f32": 1e-5, "f16": 1e-3, "sq8x2": 1e-4}


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    rows = rng.standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def brute_force(entries: dict[str, np.ndarray], query: np.ndarray, k: int) -> list[str]:
    best = {person: float((rows @ query).max()) for person, rows in entries.items()}
    return sorted(best, key=lambda p: -best[p])[:k]


def assert_exact(
    index: TemplateIndex, entries: dict[str, np.ndarray], query: np.ndarray, k: int
) -> None:
    found = index.search(query, k=k)
    assert [p for p, _ in found] == brute_force(entries, query, k)
    for person, score in found:
        best = float((entries[person] @ query).max())
        assert score == pytest.approx(best, abs=SCORE_TOLERANCE[index.precision])
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)


@pytest.mark.parametrize(("backend", "precision", "compiled"), INDEXES)
@pytest.mark.parametrize("dim", [128, 256])
def test_search_matches_brute_force(backend: str, precision: str, compiled: bool, dim: int) -> None:
    rng = np.random.default_rng(dim)
    entries = {f"p{i}": unit_rows(rng, int(rng.integers(1, 5)), dim) for i in range(300)}
    index = TemplateIndex(dim, backend, precision, compiled)  # type: ignore[arg-type]
    index.replace_all(entries)
    assert len(index) == sum(len(v) for v in entries.values())
    for _ in range(40):
        assert_exact(index, entries, unit_rows(rng, 1, dim)[0], 5)


@pytest.mark.parametrize(("backend", "precision", "compiled"), INDEXES)
def test_upsert_remove_and_membership(backend: str, precision: str, compiled: bool) -> None:
    rng = np.random.default_rng(1)
    index = TemplateIndex(64, backend, precision, compiled)  # type: ignore[arg-type]
    alice, bob = unit_rows(rng, 3, 64), unit_rows(rng, 2, 64)
    index.upsert("alice", alice)
    index.upsert("bob", bob)
    assert "alice" in index and len(index) == 5 and index.people == 2
    assert index.search(alice[1])[0] == ("alice", pytest.approx(1.0, abs=1e-4))
    index.remove("alice")
    assert "alice" not in index and len(index) == 2
    assert index.search(alice[1], k=3)[0][0] == "bob"
    index.upsert("bob", bob[:1])
    assert len(index) == 1
    index.upsert("bob", np.zeros((0, 64), np.float32))
    assert "bob" not in index and index.search(bob[0]) == []
    index.remove("nobody")


def near_ties(rng: np.random.Generator, query: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Unit rows whose cosine with the unit ``query`` is exactly ``scores`` (up to rounding)."""
    others = rng.standard_normal((len(scores), len(query)))
    others -= np.outer(others @ query, query)
    others /= np.linalg.norm(others, axis=1, keepdims=True)
    rows = scores[:, None] * query + np.sqrt(1 - scores**2)[:, None] * others
    return rows.astype(np.float32)


@needs_faiss
@pytest.mark.parametrize("compiled", SQ8X2_SCANS)
@pytest.mark.parametrize(("ties", "gap", "filler"), [(40, 3e-4, 3000), (300, 1e-4, 100)])
def test_sq8x2_is_exact_where_its_coarse_codes_alone_are_wrong(
    ties: int, gap: float, filler: int, compiled: bool
) -> None:
    rng = np.random.default_rng(ties)
    dim, k, coarse_wrong = 128, 5, 0
    for _ in range(4):
        query = unit_rows(rng, 1, dim)[0].astype(np.float64)
        # Cosines ``gap`` apart: far above the 16-bit stored precision, far below 8-bit's.
        rows = np.concatenate(
            [near_ties(rng, query, 0.9 - gap * rng.permutation(ties)), unit_rows(rng, filler, dim)]
        )
        entries = {f"p{i}": rows[i : i + 1] for i in range(len(rows))}
        index = TemplateIndex(dim, "faiss", "sq8x2", compiled)
        index.replace_all(entries)
        assert_exact(index, entries, query.astype(np.float32), k)
        codec = GridCodec.covering(rows.min(axis=0), rows.max(axis=0))
        coarse, _ = codec.encode(rows)
        coarse_scores = (codec.offset + codec.step * coarse) @ query
        coarse_wrong += list(np.argsort(-coarse_scores)[:k]) != list(
            np.argsort(-(rows @ query))[:k]
        )
    assert coarse_wrong >= 3


@needs_faiss
@pytest.mark.parametrize("compiled", SQ8X2_SCANS)
def test_sq8x2_stays_exact_after_rows_outside_its_grid_and_deletions(compiled: bool) -> None:
    rng = np.random.default_rng(7)
    dim = 64
    entries = {f"p{i}": unit_rows(rng, int(rng.integers(1, 4)), dim) for i in range(200)}
    index = TemplateIndex(dim, "faiss", "sq8x2", compiled)
    index.replace_all(entries)
    for axis in range(0, dim, 8):  # a component of 1.0 lies far outside the random rows' grid
        entries[f"axis{axis}"] = np.eye(dim, dtype=np.float32)[axis : axis + 1]
        index.upsert(f"axis{axis}", entries[f"axis{axis}"])
    for person in [f"p{i}" for i in range(0, 200, 3)] + ["axis8"]:
        del entries[person]
        index.remove(person)
    entries["p1"] = unit_rows(rng, 2, dim)
    index.upsert("p1", entries["p1"])
    assert len(index) == sum(len(v) for v in entries.values())
    for axis in (0, 16):
        assert index.search(np.eye(dim, dtype=np.float32)[axis])[0][0] == f"axis{axis}"
    for _ in range(40):
        assert_exact(index, entries, unit_rows(rng, 1, dim)[0], 4)


@pytest.mark.parametrize(("backend", "precision", "compiled"), INDEXES)
@pytest.mark.parametrize("dim", [128, 256])
def test_memory_per_dimension_and_template(
    backend: str, precision: str, compiled: bool, dim: int
) -> None:
    rng = np.random.default_rng(3)
    index = TemplateIndex(dim, backend, precision, compiled)  # type: ignore[arg-type]
    index.replace_all({f"p{i}": unit_rows(rng, 2, dim) for i in range(500)})
    per_dim = index.memory_bytes / len(index) / dim
    limit = {"f32": 4.1, "f16": 2.1, "sq8x2": 2.2}[index.precision]
    assert per_dim <= limit


@pytest.mark.parametrize(
    ("templates", "error"),
    [
        (np.zeros((2, 63), np.float32), "templates must be"),
        (np.full((1, 64), np.nan, np.float32), "NaN"),
    ],
)
def test_bad_templates_are_refused(templates: np.ndarray, error: str) -> None:
    index = TemplateIndex(64, "numpy")
    with pytest.raises(ValueError, match=error):
        index.upsert("x", templates)
    with pytest.raises(ValueError, match="dimensions"):
        index.search(np.zeros(10, np.float32))


@pytest.mark.parametrize(("backend", "precision", "compiled"), INDEXES)
def test_non_finite_query_is_refused(backend: str, precision: str, compiled: bool) -> None:
    rng = np.random.default_rng(4)
    index = TemplateIndex(32, backend, precision, compiled)  # type: ignore[arg-type]
    index.replace_all({"a": unit_rows(rng, 2, 32)})
    query = unit_rows(rng, 1, 32)[0]
    query[3] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        index.search(query)


def test_k_larger_than_gallery_returns_everyone() -> None:
    rng = np.random.default_rng(2)
    index = TemplateIndex(32, "numpy")
    index.replace_all({"a": unit_rows(rng, 4, 32), "b": unit_rows(rng, 1, 32)})
    assert {p for p, _ in index.search(unit_rows(rng, 1, 32)[0], k=10)} == {"a", "b"}

"""TemplateIndex: exact against brute force, for every backend installed here."""

from __future__ import annotations

import numpy as np
import pytest

from edge.recognize.search import TemplateIndex, faiss_available

BACKENDS = [
    "numpy",
    pytest.param(
        "faiss",
        marks=pytest.mark.skipif(not faiss_available(), reason="faiss not installed (optional)"),
    ),
]


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    rows = rng.standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def brute_force(entries: dict[str, np.ndarray], query: np.ndarray, k: int) -> list[str]:
    best = {person: float((rows @ query).max()) for person, rows in entries.items()}
    return sorted(best, key=lambda p: -best[p])[:k]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dim", [128, 256])
def test_search_matches_brute_force(backend: str, dim: int) -> None:
    rng = np.random.default_rng(dim)
    entries = {f"p{i}": unit_rows(rng, int(rng.integers(1, 5)), dim) for i in range(300)}
    index = TemplateIndex(dim, backend)  # type: ignore[arg-type]
    index.replace_all(entries)
    assert len(index) == sum(len(v) for v in entries.values())
    for _ in range(40):
        query = unit_rows(rng, 1, dim)[0]
        found = index.search(query, k=5)
        assert [p for p, _ in found] == brute_force(entries, query, 5)
        assert found[0][1] == pytest.approx(float((entries[found[0][0]] @ query).max()), abs=1e-5)
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_upsert_remove_and_membership(backend: str) -> None:
    rng = np.random.default_rng(1)
    index = TemplateIndex(64, backend)  # type: ignore[arg-type]
    alice, bob = unit_rows(rng, 3, 64), unit_rows(rng, 2, 64)
    index.upsert("alice", alice)
    index.upsert("bob", bob)
    assert "alice" in index and len(index) == 5 and index.people == 2
    assert index.search(alice[1])[0] == ("alice", pytest.approx(1.0, abs=1e-5))
    index.remove("alice")
    assert "alice" not in index and len(index) == 2
    assert index.search(alice[1], k=3)[0][0] == "bob"
    index.upsert("bob", bob[:1])
    assert len(index) == 1
    index.upsert("bob", np.zeros((0, 64), np.float32))
    assert "bob" not in index and index.search(bob[0]) == []
    index.remove("nobody")


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


def test_k_larger_than_gallery_returns_everyone() -> None:
    rng = np.random.default_rng(2)
    index = TemplateIndex(32, "numpy")
    index.replace_all({"a": unit_rows(rng, 4, 32), "b": unit_rows(rng, 1, 32)})
    assert {p for p, _ in index.search(unit_rows(rng, 1, 32)[0], k=10)} == {"a", "b"}

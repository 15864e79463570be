"""1:N search benchmark: p50/p99 query ms and memory per backend, one thread, same run.

Galleries of random unit templates (one per person) at 1k, 10k and 100k (and 1M with
``--full``; ``--sizes`` picks others) for dimensions 256 (the fused pack's) and 128. Plain numpy
float32 runs next to the FAISS backends when ``faiss`` is installed (f32, f16 and sq8x2; where
sq8x2 scans with the compiled VNNI kernel, also sq8x2 with FAISS's own scan), and every row
prints its ratio to numpy f32 at the same size. Queries alternate between a noisy
copy of an enrolled template (a resident) and a random vector (a stranger, whose best matches
are close together: the hard case for sq8x2's coarse scan). Each query is timed ``--passes``
times (3) and keeps its fastest, so a shared machine's preemptions do not make the p99; the
per-query cost still varies (a stranger may make sq8x2 fetch more rows). Each row checks its
top-1 against numpy's on every query and its score (within 1e-3). A different top-1 is allowed
only where numpy itself scores the two within 2e-4 (a near tie that 16-bit storage may order
either way: strangers' best matches in a big gallery sometimes are); any other makes the exit
status 1.
``--json PATH`` also writes the figures: p99 per size, dimension and backend against numpy's
p99, memory per dimension and template, and p99 against gallery size for a plot.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from edge.recognize.int8_scan import compiled_scanner  # noqa: E402
from edge.recognize.search import (  # noqa: E402
    Backend,
    Precision,
    TemplateIndex,
    faiss_available,
)
from scripts.bench.results import BenchResults, Figure, Series, write_results  # noqa: E402

SIZES = (1_000, 10_000, 100_000)
FULL_SIZE = 1_000_000
DIMENSIONS = (256, 128)
GOALS_MS = {100_000: 1.0, 1_000_000: 10.0}  # issue #3: p99 at 100k and 1M templates
MEMORY_GOAL = 2.2  # bytes per dimension per template
SCORE_TOLERANCE = 1e-3
NEAR_TIE = 2e-4  # numpy-f32 score gap under which a different top-1 is a tie, not a miss
BASELINE = "numpy-f32"


@dataclass(frozen=True)
class Row:
    """One backend measured on one gallery."""

    size: int
    dim: int
    label: str
    p50: float
    p99: float
    bytes_per_dim: float
    agreement: float
    misses: int  # different top-1 whose numpy score is more than NEAR_TIE below numpy's best
    score_error: float

    @property
    def checked(self) -> bool:
        """Same top-1 as numpy on every query, with the same score."""
        return self.misses == 0 and self.score_error <= SCORE_TOLERANCE


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """``n`` random unit vectors, built in blocks to bound peak memory."""
    out = np.empty((n, dim), np.float32)
    for start in range(0, n, 100_000):
        block = rng.standard_normal((min(100_000, n - start), dim), dtype=np.float32)
        out[start : start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def measure(
    index: TemplateIndex, queries: np.ndarray, passes: int
) -> tuple[float, float, list[tuple[str, float]]]:
    """p50 and p99 in ms over ``queries`` (each its fastest of ``passes``), and each top-1."""
    tops = [index.search(query, k=1)[0] for query in queries]  # also warms the caches up
    times = np.full(len(queries), np.inf)
    for _ in range(passes):
        for i, query in enumerate(queries):
            started = time.perf_counter()
            index.search(query, k=1)
            times[i] = min(times[i], (time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99)), tops


def compare(
    tops: list[tuple[str, float]],
    reference: list[tuple[str, float]],
    entries: dict[str, np.ndarray],
    queries: np.ndarray,
) -> tuple[float, int, float]:
    """Share of queries with numpy's top-1, misses (not a near tie), largest score difference."""
    pairs = list(zip(tops, reference, strict=True))
    misses = sum(
        float((entries[ours] @ query).max()) < best - NEAR_TIE
        for ((ours, _), (_, best)), query in zip(pairs, queries, strict=True)
    )
    agreement = sum(ours[0] == theirs[0] for ours, theirs in pairs) / len(pairs)
    return agreement, misses, max(abs(ours[1] - theirs[1]) for ours, theirs in pairs)


def backends() -> list[tuple[str, Backend, Precision, bool]]:
    """(label, backend, precision, compiled scan) to compare, numpy f32 first."""
    chosen: list[tuple[str, Backend, Precision, bool]] = [(BASELINE, "numpy", "f32", False)]
    if faiss_available():
        import faiss

        faiss.omp_set_num_threads(1)
        chosen += [(f"faiss-{p}", "faiss", p, True) for p in ("f32", "f16", "sq8x2")]
        if compiled_scanner() is not None:
            chosen.append(("sq8x2-faiss-scan", "faiss", "sq8x2", False))
    return chosen


def run_size(
    size: int, dim: int, queries_n: int, passes: int, rng: np.random.Generator
) -> list[Row]:
    """Measure and print every backend on one gallery of ``size`` templates."""
    rows = unit_rows(rng, size, dim)
    queries = unit_rows(rng, queries_n, dim)
    residents = queries[::2] * 0.6 + rows[rng.integers(0, size, len(queries[::2]))] * 0.8
    queries[::2] = residents / np.linalg.norm(residents, axis=1, keepdims=True)
    entries = {f"p{i}": rows[i : i + 1] for i in range(size)}
    del rows
    measured: list[Row] = []
    reference: list[tuple[str, float]] = []
    for label, backend, precision, compiled in backends():
        index = TemplateIndex(dim, backend, precision, compiled)
        index.replace_all(entries)
        p50, p99, tops = measure(index, queries, passes)
        reference = reference or tops
        agreement, misses, score_error = compare(tops, reference, entries, queries)
        per_dim = index.memory_bytes / size / dim
        row = Row(size, dim, label, p50, p99, per_dim, agreement, misses, score_error)
        baseline = measured[0] if measured else row
        print(
            f"{size:>9,} {dim:>4} {label:<16} p50={p50:8.3f} ms p99={p99:8.3f} ms "
            f"ratio_p50={baseline.p50 / p50:6.2f}x ratio_p99={baseline.p99 / p99:6.2f}x "
            f"mem={index.memory_bytes / 2**20:8.1f} MiB "
            f"bytes/dim/template={row.bytes_per_dim:5.2f} "
            f"top1_agreement={row.agreement:.3f} misses={row.misses} "
            f"max_score_diff={row.score_error:.1e}" + ("" if row.checked else "  CHECK FAILED"),
            flush=True,
        )
        measured.append(row)
        del index
    return measured


def results_of(rows: list[Row], sizes: tuple[int, ...], queries: int, passes: int) -> BenchResults:
    """Figures (p99 and memory against numpy f32) and a p99-vs-size series per dimension."""
    results = BenchResults(
        bench="search",
        setup=f"random unit templates, one per person; {queries} queries per size (50 at 1M; "
        f"half residents, half strangers), each timed {passes}x keeping its fastest, k=1, "
        "one thread",
    )
    baselines = {(r.size, r.dim): r for r in rows if r.label == BASELINE}
    for row in rows:
        base = baselines[(row.size, row.dim)]
        goal = GOALS_MS.get(row.size)
        results.figures.append(
            Figure(
                name=f"p99 {row.label} {row.dim}-d {row.size:,}",
                value=row.p99,
                unit="ms",
                baseline_name=f"p99 {BASELINE}",
                baseline_value=base.p99,
                better="lower",
                goal=None if goal is None else f"<= {goal:g} ms",
                met=None if goal is None else row.p99 <= goal,
            )
        )
    largest = max(sizes)
    for row in rows:
        if row.size == largest:
            base = baselines[(row.size, row.dim)]
            results.figures.append(
                Figure(
                    name=f"memory {row.label} {row.dim}-d",
                    value=row.bytes_per_dim,
                    unit="bytes/dim/template",
                    baseline_name=f"memory {BASELINE}",
                    baseline_value=base.bytes_per_dim,
                    better="lower",
                    goal=f"<= {MEMORY_GOAL} bytes/dim/template",
                    met=row.bytes_per_dim <= MEMORY_GOAL,
                )
            )
    for dim in sorted({r.dim for r in rows}, reverse=True):
        labels = list(dict.fromkeys(r.label for r in rows))
        p99 = {(r.size, r.label): r.p99 for r in rows if r.dim == dim}
        results.series.append(
            Series(
                name=f"p99 query time vs gallery size, {dim}-d",
                x_label="templates",
                y_label="p99 ms",
                x=[float(s) for s in sizes],
                lines={label: [p99[(s, label)] for s in sizes] for label in labels},
                log_x=True,
                log_y=True,
            )
        )
    failed = [f"{r.label} {r.dim}-d {r.size:,}" for r in rows if not r.checked]
    results.notes.append(
        f"top-1 same as numpy f32 (or a near tie within {NEAR_TIE:g}) with scores within "
        f"{SCORE_TOLERANCE:g}: " + ("every row" if not failed else "NOT " + ", ".join(failed))
    )
    ties = [f"{r.label} {r.dim}-d {r.size:,}: {r.agreement:.3f}" for r in rows if r.agreement < 1]
    if ties:
        results.notes.append("top-1 agreement below 1.000 (near ties): " + "; ".join(ties))
    return results


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="also 1M templates (needs ~6 GB)")
    parser.add_argument("--sizes", type=int, nargs="+", help="gallery sizes (default 1k 10k 100k)")
    parser.add_argument("--dims", type=int, nargs="+", default=list(DIMENSIONS))
    parser.add_argument("--queries", type=int, default=200, help="queries per size")
    parser.add_argument(
        "--passes", type=int, default=3, help="time each query this often, keep its fastest"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    sizes = tuple(sorted({*(args.sizes or SIZES), *((FULL_SIZE,) if args.full else ())}))
    rng = np.random.default_rng(0)
    compiled = compiled_scanner() is not None
    print(f"faiss installed: {faiss_available()}; compiled VNNI scan: {compiled}; one thread")
    rows: list[Row] = []
    for dim in args.dims:
        for size in sizes:
            queries = args.queries if size < FULL_SIZE else 50
            rows += run_size(size, dim, queries, args.passes, rng)
    if args.json:
        write_results(args.json, results_of(rows, sizes, args.queries, args.passes))
    if not all(row.checked for row in rows):
        sys.exit("a backend disagreed with numpy f32 (see CHECK FAILED above)")


if __name__ == "__main__":
    main()

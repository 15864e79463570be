"""1:N search benchmark: p50/p99 query ms and memory per backend, one thread, same run.

Galleries of random unit templates (one per person) at 1k, 10k and 100k (and 1M with
``--full``) for dimensions 256 (the fused pack's) and 128. Plain numpy float32 runs next to the
FAISS backends when ``faiss`` is installed, and every row prints its ratio to numpy f32 at the
same size. Each FAISS row also checks that its top-1 matches numpy's on every query.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from edge.recognize.search import (  # noqa: E402
    Backend,
    Precision,
    TemplateIndex,
    faiss_available,
)

SIZES = (1_000, 10_000, 100_000)
DIMENSIONS = (256, 128)


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """``n`` random unit vectors, built in blocks to bound peak memory."""
    out = np.empty((n, dim), np.float32)
    for start in range(0, n, 100_000):
        block = rng.standard_normal((min(100_000, n - start), dim), dtype=np.float32)
        out[start : start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def measure(index: TemplateIndex, queries: np.ndarray) -> tuple[float, float, list[str]]:
    """p50 and p99 in ms over ``queries``, and the top-1 of each."""
    index.search(queries[0])
    times, tops = [], []
    for query in queries:
        started = time.perf_counter()
        found = index.search(query, k=1)
        times.append((time.perf_counter() - started) * 1000)
        tops.append(found[0][0])
    return float(np.percentile(times, 50)), float(np.percentile(times, 99)), tops


def backends() -> list[tuple[str, Backend, Precision]]:
    """(label, backend, precision) to compare, numpy f32 first."""
    chosen: list[tuple[str, Backend, Precision]] = [("numpy-f32", "numpy", "f32")]
    if faiss_available():
        import faiss

        faiss.omp_set_num_threads(1)
        chosen += [("faiss-f32", "faiss", "f32"), ("faiss-f16", "faiss", "f16")]
    return chosen


def run_size(size: int, dim: int, queries_n: int, rng: np.random.Generator) -> None:
    """Print one row per backend for a gallery of ``size`` templates."""
    rows = unit_rows(rng, size, dim)
    noise = unit_rows(rng, queries_n, dim)
    picks = rng.integers(0, size, queries_n)
    queries = rows[picks] * 0.8 + noise * 0.6
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    entries = {f"p{i}": rows[i : i + 1] for i in range(size)}
    baseline_p50, reference = 0.0, list[str]()
    for label, backend, precision in backends():
        index = TemplateIndex(dim, backend, precision)
        index.replace_all(entries)
        p50, p99, tops = measure(index, queries)
        if not reference:
            baseline_p50, reference = p50, tops
        agree = sum(a == b for a, b in zip(tops, reference, strict=True)) / len(tops)
        per_dim = index.memory_bytes / size / dim
        print(
            f"{size:>9,} {dim:>4} {label:<10} p50={p50:8.3f} ms p99={p99:8.3f} ms "
            f"mem={index.memory_bytes / 2**20:8.1f} MiB bytes/dim/template={per_dim:5.2f} "
            f"ratio_p50_vs_numpy={baseline_p50 / p50:5.2f}x top1_agreement={agree:.3f}"
        )
        del index


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="also 1M templates (needs ~4 GB)")
    parser.add_argument("--queries", type=int, default=200, help="queries per size")
    args = parser.parse_args()
    sizes = (*SIZES, 1_000_000) if args.full else SIZES
    rng = np.random.default_rng(0)
    print(f"faiss installed: {faiss_available()}; one thread")
    for dim in DIMENSIONS:
        for size in sizes:
            run_size(size, dim, args.queries if size < 1_000_000 else 50, rng)


if __name__ == "__main__":
    main()

"""`make bench`: run every benchmark, then write one Markdown report with plots.

Each script under ``scripts/bench/`` runs as a child process with ``--json PATH``; its figures
(each next to the baseline it measured in the same run), plot series and notes become one
section of ``bench-report/README.md`` (or ``--out``), with a PNG per series and a bar chart of
every ratio. A benchmark that fails, times out or writes no results is reported as such, with
the tail of its stderr, and the others still run. ``--quick`` runs short versions (no 1M
search); ``--render-only`` rebuilds the report from the result files of an earlier run.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from anju.logs import setup_logging  # noqa: E402
from scripts.bench.results import BenchResults, Figure, Series, read_results  # noqa: E402

log = logging.getLogger("scripts.bench.report")
BENCH_DIR = Path(__file__).resolve().parent
STDERR_TAIL_LINES = 40
PACKAGES = (
    "numpy", "onnxruntime", "opencv-python-headless", "faiss-cpu", "face-recognition", "dlib",
    "zxing-cpp", "paho-mqtt", "fastapi", "uvicorn", "sqlalchemy", "psycopg", "httpx", "matplotlib",
)  # fmt: skip


@dataclass(frozen=True)
class BenchSpec:
    """One benchmark script and its arguments for a full and a quick run."""

    name: str
    script: Path
    full_args: tuple[str, ...] = ()
    quick_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class BenchRun:
    """How one benchmark ended: ``status`` is ok, failed, timed out or no results."""

    spec: BenchSpec
    status: str
    seconds: float
    results: BenchResults | None
    stdout: str = ""
    stderr_tail: str = ""

    @property
    def ok(self) -> bool:
        """Whether it exited cleanly and wrote its results."""
        return self.status == "ok"


def benchmarks(search_full: bool, database_url: str | None) -> list[BenchSpec]:
    """Every benchmark of issue #7, in the order the report shows them."""
    database = ("--database-url", database_url) if database_url else ()
    full_search = ("--full",) if search_full else ()
    return [
        BenchSpec("faces", BENCH_DIR / "faces.py", (), ("--repeats", "3")),
        BenchSpec("gate", BENCH_DIR / "gate.py"),
        BenchSpec("liveness", BENCH_DIR / "liveness.py", (), ("--trials", "1")),
        BenchSpec("search", BENCH_DIR / "search.py", full_search, ("--queries", "50")),
        BenchSpec("ingest", BENCH_DIR / "ingest.py", database, ("--events", "1000", *database)),
        BenchSpec("outlet", BENCH_DIR / "outlet.py", (), ("--samples", "40")),
        BenchSpec(
            "dashboard_latency",
            BENCH_DIR / "dashboard_latency.py",
            database,
            ("--samples", "20", *database),
        ),
    ]


def tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    """The last ``lines`` lines of ``text``."""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def readable_results(path: Path) -> tuple[BenchResults | None, str | None]:
    """The results in ``path``, or None and why not (missing, or not in the shared schema)."""
    if not path.exists():
        return None, "no results (no --json file written)"
    try:
        return read_results(path), None
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"unreadable results ({type(exc).__name__}: {exc})"


def run_bench(spec: BenchSpec, results_dir: Path, quick: bool, timeout_s: float) -> BenchRun:
    """Run one benchmark with ``--json``, its output in ``results_dir/NAME.stdout|stderr.txt``
    (follow them with ``tail -f``); never raises for the benchmark's own failure. On timeout
    its whole process group is killed (brokers or servers it started too)."""
    json_path = results_dir / f"{spec.name}.json"
    json_path.unlink(missing_ok=True)
    out_path, err_path = (results_dir / f"{spec.name}.{kind}.txt" for kind in ("stdout", "stderr"))
    argv = [sys.executable, str(spec.script), *(spec.quick_args if quick else spec.full_args)]
    argv += ["--json", str(json_path)]
    log.info("bench_start name=%s args=%r stderr=%s", spec.name, argv[2:], err_path)
    started = time.monotonic()
    with out_path.open("w") as stdout, err_path.open("w") as stderr:
        child = subprocess.Popen(
            argv, cwd=REPO, stdout=stdout, stderr=stderr, start_new_session=True
        )
        try:
            code: int | None = child.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            code = None
    seconds = time.monotonic() - started
    results, problem = readable_results(json_path)
    if code is None:
        status = f"timed out after {timeout_s:.0f} s"
    elif code != 0:
        status = f"failed (exit {code})"
    else:
        status = problem or "ok"
    level = logging.INFO if status == "ok" else logging.ERROR
    log.log(level, "bench_end name=%s status=%r seconds=%.0f", spec.name, status, seconds)
    output = out_path.read_text(encoding="utf-8", errors="replace")
    return BenchRun(
        spec, status, seconds, results, output, tail(err_path.read_text(errors="replace"))
    )


def save_run(run: BenchRun, results_dir: Path) -> None:
    """Keep how a benchmark ended next to its results, for ``--render-only``."""
    record = {
        "status": run.status,
        "seconds": run.seconds,
        "stdout": run.stdout,
        "stderr_tail": run.stderr_tail,
    }
    (results_dir / f"{run.spec.name}.run.json").write_text(json.dumps(record), encoding="utf-8")


def earlier_run(spec: BenchSpec, results_dir: Path) -> BenchRun:
    """A benchmark as an earlier run left it in ``results_dir`` (``--render-only``)."""
    path, record_path = results_dir / f"{spec.name}.json", results_dir / f"{spec.name}.run.json"
    results, problem = readable_results(path)
    if not record_path.exists():
        return BenchRun(spec, problem or "ok", 0.0, results)
    record = json.loads(record_path.read_text(encoding="utf-8"))
    return BenchRun(
        spec, record["status"], record["seconds"], results, record["stdout"], record["stderr_tail"]
    )


def _first_line(path: Path, prefix: str) -> str | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith(prefix)), None)


def usable_cores() -> str:
    """Cores this process may run on (a container's share), where the OS says."""
    if hasattr(os, "sched_getaffinity"):
        return str(len(os.sched_getaffinity(0)))
    return "?"


def machine_description() -> dict[str, str]:
    """CPU, cores, memory, OS, Python and the versions of the packages the benchmarks use."""
    memory_kib = _first_line(Path("/proc/meminfo"), "MemTotal")
    machine = {
        "CPU": _first_line(Path("/proc/cpuinfo"), "model name") or platform.processor() or "?",
        "cores (logical)": str(os.cpu_count()),
        "cores usable": usable_cores(),
        "memory": f"{int(memory_kib.split()[0]) / 2**20:.1f} GiB" if memory_kib else "?",
        "OS": platform.platform(),
        "Python": platform.python_version(),
    }
    for package in PACKAGES:
        try:
            machine[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            machine[package] = "not installed"
    return machine


def slug(text: str) -> str:
    """A file-name-safe form of ``text``."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "plot"


def plot_series(series: Series, path: Path) -> None:
    """A line plot of ``series`` as a PNG."""
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=110)
    for label, ys in series.lines.items():
        axes.plot(series.x, ys, marker="o", label=label)
    axes.set_xscale("log" if series.log_x else "linear")
    axes.set_yscale("log" if series.log_y else "linear")
    axes.set(title=series.name, xlabel=series.x_label, ylabel=series.y_label)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def plot_ratios(runs: Sequence[BenchRun], path: Path) -> bool:
    """Horizontal bars of every finite ratio from 1 (the baseline) on a log scale; False if there
    is none."""
    bars = [
        (f"{run.spec.name}: {fig.name}", fig.ratio)
        for run in runs
        if run.results is not None
        for fig in run.results.figures
        if math.isfinite(fig.ratio) and fig.ratio > 0
    ]
    if not bars:
        return False
    figure, axes = plt.subplots(figsize=(9, 0.32 * len(bars) + 1.2), dpi=110)
    labels, ratios = zip(*reversed(bars), strict=True)
    colours = ["tab:green" if r > 1 else "tab:red" if r < 1 else "tab:gray" for r in ratios]
    starts = [min(r, 1.0) for r in ratios]  # each bar runs from 1 (the baseline) to its ratio
    axes.barh(labels, [abs(r - 1.0) for r in ratios], left=starts, color=colours)
    axes.set_xscale("log")
    axes.axvline(1.0, color="black", linewidth=1)
    axes.margins(x=0.05)
    axes.set(title="Ratio to the baseline measured in the same run (> 1: better)", xlabel="ratio")
    axes.tick_params(axis="y", labelsize=7)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return True


def number(value: float) -> str:
    """A figure's value for the table ("n/a" when not measured)."""
    if not math.isfinite(value):
        return "n/a"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def ratio_text(figure: Figure) -> str:
    """The ratio for the table: "inf" when a lower-is-better figure is 0 and its baseline is not
    (say an attack that never passed), "n/a" when there is no measured baseline."""
    if math.isfinite(figure.ratio):
        return f"{figure.ratio:.2f}x"
    zero_against_some = figure.better == "lower" and figure.value == 0 < figure.baseline_value
    return "inf" if zero_against_some else "n/a"


def figure_row(figure: Figure) -> str:
    """One table row: figure, value, unit, baseline, its value, ratio, goal, met."""
    ratio = ratio_text(figure)
    met = {True: "yes", False: "**no**", None: ""}[figure.met]
    cells = (
        figure.name, number(figure.value), figure.unit, figure.baseline_name,
        number(figure.baseline_value), ratio, figure.goal or "", met,
    )  # fmt: skip
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


TABLE_HEAD = (
    "| figure | value | unit | baseline | baseline value | ratio | goal | met |\n"
    "|---|---:|---|---|---:|---:|---|---|"
)


def bench_section(run: BenchRun, plots_dir: Path, report_dir: Path) -> list[str]:
    """The Markdown of one benchmark, writing its plots into ``plots_dir``."""
    lines = [f"## {run.spec.name}", ""]
    script = run.spec.script
    shown = script.relative_to(REPO) if script.is_relative_to(REPO) else script
    lines.append(f"`{shown}` — {run.status}, {run.seconds:.0f} s")
    lines.append("")
    if not run.ok:
        lines += [f"**{run.spec.name} {run.status}.**", ""]
        if run.stderr_tail:
            lines += ["stderr (tail):", "", "```text", run.stderr_tail, "```", ""]
    if run.results is not None:
        lines += [run.results.setup, "", TABLE_HEAD]
        lines += [figure_row(f) for f in run.results.figures]
        lines.append("")
        lines += [f"- {note}" for note in run.results.notes]
        lines += [""] if run.results.notes else []
        for series in run.results.series:
            path = plots_dir / f"{run.spec.name}-{slug(series.name)}.png"
            plot_series(series, path)
            lines += [f"![{series.name}]({path.relative_to(report_dir).as_posix()})", ""]
    if run.stdout.strip():
        output = run.stdout.rstrip()
        lines += ["<details><summary>output</summary>", "", "```text", output, "```", "</details>"]
        lines.append("")
    return lines


def summary_row(run: BenchRun) -> str:
    """One row of the summary table."""
    figures = run.results.figures if run.results else []
    goals = [f.met for f in figures if f.met is not None]
    met = f"{sum(goals)}/{len(goals)}" if goals else ""
    return f"| {run.spec.name} | {run.status} | {len(figures)} | {met} | {run.seconds:.0f} s |"


def render(runs: Sequence[BenchRun], out: Path, mode: str, machine: dict[str, str]) -> None:
    """Write the report to ``out`` and its plots to ``out``'s folder/plots."""
    report_dir = out.parent
    plots_dir = report_dir / "plots"
    plots_dir.mkdir(parents=True, exist_ok=True)
    for old in plots_dir.glob("*.png"):
        old.unlink()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Anju benchmark report",
        "",
        f"{when}, {mode}. Every figure sits next to a baseline measured in the same run; "
        "ratio > 1 means better than that baseline. Written by `scripts/bench/report.py` "
        "(`make bench`).",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in machine.items()),
        "",
        "## Summary",
        "",
        "| benchmark | status | figures | goals met | time |",
        "|---|---|---:|---:|---:|",
        *(summary_row(run) for run in runs),
        "",
    ]
    if plot_ratios(runs, plots_dir / "ratios.png"):
        lines += ["![ratios](plots/ratios.png)", ""]
    for run in runs:
        lines += bench_section(run, plots_dir, report_dir)
    out.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks (or reuse their files) and write the report; 1 if any failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "bench-report/README.md")
    parser.add_argument("--quick", action="store_true", help="short runs, no 1M search")
    parser.add_argument(
        "--search-full",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="1:N search also at 1M templates (default: on, off with --quick)",
    )
    parser.add_argument("--only", action="append", help="run only this benchmark (repeatable)")
    parser.add_argument("--database-url", help="PostgreSQL for ingest and dashboard latency")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per benchmark")
    parser.add_argument("--render-only", action="store_true", help="reuse the result files")
    args = parser.parse_args(argv)
    setup_logging("info")
    search_full = (not args.quick) if args.search_full is None else args.search_full
    specs = benchmarks(search_full, args.database_url)
    unknown = set(args.only or ()) - {s.name for s in specs}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    specs = [s for s in specs if not args.only or s.name in args.only]
    out = args.out.resolve()
    results_dir = out.parent / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    runs = []
    for spec in specs:
        if args.render_only:
            runs.append(earlier_run(spec, results_dir))
        else:
            runs.append(run_bench(spec, results_dir, args.quick, args.timeout))
            save_run(runs[-1], results_dir)
    mode = "quick run" if args.quick else "full run"
    if args.render_only:
        mode = "rendered from the result files of an earlier run"
    render(runs, out, mode, machine_description())
    failed = [run.spec.name for run in runs if not run.ok]
    log.info("report_written path=%s benchmarks=%d failed=%s", out, len(runs), ",".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

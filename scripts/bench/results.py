"""Machine-readable benchmark results: each figure next to its baseline from the same run.

Every script under ``scripts/bench/`` accepts ``--json PATH`` and writes one
:class:`BenchResults` there with :func:`write_results`; ``scripts/bench/report.py`` runs them
all and turns the files into one Markdown report with plots.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

Better = Literal["lower", "higher"]


@dataclass(frozen=True)
class Figure:
    """One measured figure beside the baseline measured in the same process.

    ``ratio`` is always oriented so that > 1 means the figure beats its baseline.
    """

    name: str
    value: float
    unit: str
    baseline_name: str
    baseline_value: float
    better: Better
    goal: str | None = None
    met: bool | None = None

    @property
    def ratio(self) -> float:
        """How many times better than the baseline (> 1 is better)."""
        if self.value == 0 or self.baseline_value == 0:
            return float("nan")
        if self.better == "lower":
            return self.baseline_value / self.value
        return self.value / self.baseline_value


@dataclass(frozen=True)
class Series:
    """A curve set for a plot: one y list per line label, all over the same x values."""

    name: str
    x_label: str
    y_label: str
    x: list[float]
    lines: dict[str, list[float]]
    log_x: bool = False
    log_y: bool = False


@dataclass
class BenchResults:
    """All figures and plot series of one benchmark run."""

    bench: str
    setup: str
    figures: list[Figure] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def write_results(path: Path, results: BenchResults) -> None:
    """Write ``results`` as JSON to ``path`` (ratios included for readers without this code)."""
    data = asdict(results)
    for figure, raw in zip(results.figures, data["figures"], strict=True):
        raw["ratio"] = figure.ratio
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


def read_results(path: Path) -> BenchResults:
    """Read a file written by :func:`write_results`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    figures = [Figure(**{k: v for k, v in raw.items() if k != "ratio"}) for raw in data["figures"]]
    series = [Series(**raw) for raw in data["series"]]
    return BenchResults(data["bench"], data["setup"], figures, series, data.get("notes", []))

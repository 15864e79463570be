"""The benchmark report (scripts/bench/report.py) and the event -> dashboard latency benchmark.

The report is rendered from result files written with the shared schema, and from real child
processes that succeed, fail or hang; the latency benchmark runs for a few samples against a
real private Mosquitto and a real central. No timing is asserted.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scripts.bench.report import BenchSpec, earlier_run, render, run_bench, save_run
from scripts.bench.results import BenchResults, Figure, Series, read_results, write_results
from scripts.demo.broker import mosquitto_binary
from tests.support.services import unavailable

REPO = Path(__file__).resolve().parents[2]
REPORT = REPO / "scripts/bench/report.py"


def fake_results(bench: str) -> BenchResults:
    """Results with a goal met and one missed, an unmeasured baseline and two plot series."""
    return BenchResults(
        bench,
        f"setup of {bench}",
        [
            Figure(f"{bench} latency p50", 12.0, "ms", "raw p50", 3.0, "lower", "<= 20 ms", True),
            Figure(f"{bench} rate", 80.0, "%", "straight rate", 100.0, "higher", ">= 95%", False),
            Figure(f"{bench} speed", 30.0, "ms", "face_recognition", math.nan, "lower"),
            Figure(f"{bench} attacks passed", 0.0, "%", "without check", 50.0, "lower"),
        ],
        [
            Series(
                f"{bench} curve",
                "size",
                "ms",
                [1e3, 1e4],
                {"a": [1.0, 2.0], "b": [2.0, 4.0]},
                log_x=True,
                log_y=True,
            ),
            Series(f"{bench} other", "x", "y", [1.0, 2.0], {"only": [3.0, 1.0]}),
        ],
        [f"note of {bench}"],
    )


def image_links(markdown: str) -> list[str]:
    """The targets of every Markdown image."""
    return re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)


def test_report_from_result_files_shows_every_figure_and_plot(tmp_path: Path) -> None:
    out = tmp_path / "report/README.md"
    for bench in ("faces", "gate"):
        write_results(out.parent / "results" / f"{bench}.json", fake_results(bench))
    argv = [sys.executable, str(REPORT), "--out", str(out), "--render-only"]
    done = subprocess.run(
        [*argv, "--only", "faces", "--only", "gate", "--only", "search"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # search has no result file
    assert "report_written" in done.stderr
    markdown = out.read_text(encoding="utf-8")
    for bench in ("faces", "gate"):
        for figure in fake_results(bench).figures:
            assert figure.name in markdown
            assert figure.baseline_name in markdown
        assert f"note of {bench}" in markdown
    assert "| faces latency p50 | 12 | ms | raw p50 | 3 | 0.25x | <= 20 ms | yes |" in markdown
    assert "| gate rate | 80 | % | straight rate | 100 | 0.80x | >= 95% | **no** |" in markdown
    assert "| n/a | n/a |" in markdown  # the baseline that was not measured, and its ratio
    assert "| gate attacks passed | 0 | % | without check | 50 | inf |" in markdown
    assert "| search | no results (no --json file written) |" in markdown
    assert "## Machine" in markdown and "| Python |" in markdown
    links = image_links(markdown)
    assert "plots/ratios.png" in links
    assert len(links) == 1 + 2 * 2
    for link in links:
        png = out.parent / link
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", link


def write_script(folder: Path, name: str, body: str) -> Path:
    """A benchmark stand-in that may use the results schema (``json_path`` is its --json)."""
    path = folder / f"{name}.py"
    header = f"""\
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from pathlib import Path
        from scripts.bench.results import BenchResults, Figure, write_results
        json_path = Path(sys.argv[sys.argv.index("--json") + 1])
        """
    path.write_text(textwrap.dedent(header) + textwrap.dedent(body), encoding="utf-8")
    return path


def test_failed_and_hung_benchmarks_are_reported_and_the_others_still_run(tmp_path: Path) -> None:
    scripts = {
        "broken": 'print("started")\nprint("Traceback: boom at step 3", file=sys.stderr)\n'
        "sys.exit(3)\n",
        "good": 'figure = Figure("good latency p50", 2.0, "ms", "raw p50", 1.0, "lower")\n'
        'write_results(json_path, BenchResults("good", "setup", [figure]))\nprint("all fine")\n',
        "hung": "import time\ntime.sleep(60)\n",
        "silent": "pass\n",
    }
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    runs = [
        run_bench(
            BenchSpec(name, write_script(tmp_path, name, body)),
            results_dir,
            quick=False,
            timeout_s=20.0 if name != "hung" else 3.0,
        )
        for name, body in scripts.items()
    ]
    assert [run.status for run in runs] == [
        "failed (exit 3)",
        "ok",
        "timed out after 3 s",
        "no results (no --json file written)",
    ]
    assert "Traceback: boom at step 3" in runs[0].stderr_tail
    for run in runs:
        save_run(run, results_dir)
    assert [earlier_run(run.spec, results_dir) for run in runs] == runs
    out = tmp_path / "README.md"
    render(runs, out, "test run", {"CPU": "test"})
    markdown = out.read_text(encoding="utf-8")
    assert "**broken failed (exit 3).**" in markdown
    assert "Traceback: boom at step 3" in markdown
    assert "**hung timed out after 3 s.**" in markdown
    assert "good latency p50" in markdown and "all fine" in markdown
    assert "| broken | failed (exit 3) | 0 |" in markdown


def test_quick_report_runs_a_real_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "README.md"
    done = subprocess.run(
        [sys.executable, str(REPORT), "--quick", "--only", "outlet", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = read_results(tmp_path / "results/outlet.json")
    markdown = out.read_text(encoding="utf-8")
    assert results.figures
    for figure in results.figures:
        assert figure.name in markdown
        assert math.isfinite(figure.value) and math.isfinite(figure.baseline_value)
    assert (tmp_path / "plots/ratios.png").exists()


@pytest.mark.slow
def test_dashboard_latency_quick_against_real_broker_and_central(tmp_path: Path) -> None:
    if mosquitto_binary() is None:
        unavailable("the mosquitto binary is not installed (apt-get install mosquitto)")
    json_path = tmp_path / "dashboard.json"
    script = REPO / "scripts/bench/dashboard_latency.py"
    done = subprocess.run(
        [sys.executable, str(script), "--samples", "5", "--json", str(json_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(json_path.read_text(encoding="utf-8"))
    names = [figure["name"] for figure in data["figures"]]
    assert names == ["event -> dashboard feed p50", "event -> dashboard feed p95"]
    for figure in data["figures"]:
        assert figure["value"] > 0 and figure["baseline_value"] > 0
    assert "lost (not seen within 10 s): dashboard 0, raw 0" in data["notes"][0]
    assert set(data["series"][0]["lines"]) == {"event -> dashboard feed", "raw MQTT (bare paho)"}

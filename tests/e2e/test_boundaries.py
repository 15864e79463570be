"""The dashboard keeps central's import boundaries: no OpenCV, nothing of edge but its contract."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import central.api.app, central.web.router, central.reports.export
edge = sorted(m for m in sys.modules if m.startswith("edge.") and not m.startswith("edge.contract"))
print("cv2" in sys.modules, edge)
"""


def test_central_with_the_dashboard_imports_no_cv2_and_no_edge_internals() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False []"

"""The dashboard's page and static files under ``/dashboard``; charts from the plotly wheel.

The page itself holds no data: everything comes from the scope-checked ``/api`` routes with the
token the page keeps in sessionStorage, so serving these files needs no authentication.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, status
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from central.web.evidence import EvidenceSources

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)


def plotly_bundle() -> Path | None:
    """plotly.min.js shipped inside the installed ``plotly`` wheel, if it is installed."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        return None
    bundle = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    return bundle if bundle.is_file() else None


@router.get("/")
def root() -> RedirectResponse:
    """The dashboard is the service's home page."""
    return RedirectResponse("/dashboard/")


@router.get("/dashboard")
@router.get("/dashboard/")
def page() -> FileResponse:
    """The single page."""
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/dashboard/vendor/plotly.min.js")
def plotly_js() -> FileResponse:
    """The chart library, from the Python package (404 when plotly is not installed)."""
    bundle = plotly_bundle()
    if bundle is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "plotly is not installed")
    return FileResponse(bundle, media_type="text/javascript")


def mount_dashboard(app: FastAPI) -> None:
    """Add the page, its static files and the chart library to ``app``."""
    app.include_router(router)
    if not hasattr(app.state, "evidence_sources"):
        app.state.evidence_sources = EvidenceSources()
    app.mount("/dashboard/static", StaticFiles(directory=STATIC_DIR), name="dashboard-static")
    if plotly_bundle() is None:
        log.warning("dashboard_charts_disabled reason=plotly_not_installed")

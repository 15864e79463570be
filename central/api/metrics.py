"""Prometheus metrics: HTTP request counts here; other packages add theirs to the registry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, generate_latest

REQUESTS = Counter(
    "anju_central_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
router = APIRouter(tags=["metrics"])


async def count_requests(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Middleware counting each request by route template (not raw path) and status."""
    response = await call_next(request)
    route = request.scope.get("route")
    template = getattr(route, "path", "unmatched")
    REQUESTS.labels(request.method, template, str(response.status_code)).inc()
    return response


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    """Every metric of the process registry, in Prometheus text format."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

"""Server-sent events: live events and alarms of the caller's sites."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from central.api.deps import ContextDep, get_stream_user
from central.feeds.bus import EventBus
from central.security.scopes import Principal, user_can_see

router = APIRouter(prefix="/api", tags=["feeds"])
KEEPALIVE_S = 15.0
StreamUser = Annotated[Principal, Depends(get_stream_user)]


def sse_frame(kind: str, data: dict[str, Any]) -> str:
    """One SSE message."""
    return f"event: {kind}\ndata: {json.dumps(data, default=str, ensure_ascii=False)}\n\n"


async def scoped_frames(
    bus: EventBus, user: Principal, keepalive_s: float = KEEPALIVE_S
) -> AsyncIterator[str]:
    """SSE frames of bus items whose ``site_id`` the user may see, with keep-alive comments."""
    yield ": connected\n\n"
    items = bus.subscribe()
    try:
        while True:
            try:
                kind, data = await asyncio.wait_for(anext(items), keepalive_s)
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            site = data.get("site_id")
            if isinstance(site, str) and user_can_see(user, site):
                yield sse_frame(kind, data)
    finally:
        await items.aclose()


@router.get("/stream", response_class=StreamingResponse)
async def stream(request: Request, user: StreamUser, context: ContextDep) -> StreamingResponse:
    """Live ``event`` and ``alarm`` items (bearer token, or ``?token=`` for EventSource)."""

    async def until_disconnect() -> AsyncIterator[str]:
        async for frame in scoped_frames(context.bus, user):
            if await request.is_disconnected():
                return
            yield frame

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(until_disconnect(), media_type="text/event-stream", headers=headers)

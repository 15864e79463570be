"""Login (OAuth2 password flow, rate-limited) and who-am-I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy import select

from central.api.context import CentralContext
from central.api.deps import ContextDep, CurrentUser, SessionDep
from central.audit.log import record
from central.db.auth_models import User
from central.db.base import utcnow
from central.security.passwords import burn_check, check_password
from central.security.tokens import issue_token

router = APIRouter(prefix="/api/auth", tags=["auth"])
USERNAME_MAX = 100


class Token(BaseModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(BaseModel):
    """The authenticated user."""

    username: str
    role: str
    scope_node_id: str
    sites: list[str]


@router.post("/token")
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    context: ContextDep,
    session: SessionDep,
) -> Token:
    """Exchange username and password for a short-lived access token."""
    address = request.client.host if request.client else "unknown"
    if context.limiter.blocked(form.username, address):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many failed logins: wait")
    wellformed = "\x00" not in form.username and len(form.username) <= USERNAME_MAX
    query = select(User).where(User.username == form.username)
    user = session.scalars(query).first() if wellformed else None
    if user is None:
        burn_check(form.password)
    if user is None or not user.active or not check_password(user.password_hash, form.password):
        context.limiter.failed(form.username, address)
        name = form.username[:USERNAME_MAX].replace("\x00", "?")
        record(session, name, "auth.login_failed", name, None)
        session.commit()
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "wrong username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    context.limiter.succeeded(form.username, address)
    record(session, user.username, "auth.login", user.username, None, {"address": address})
    session.commit()
    return fresh_token(context, user.username)


def fresh_token(context: CentralContext, username: str) -> Token:
    """A new access token for ``username`` with the configured lifetime."""
    minutes = context.settings.access_token_minutes
    token = issue_token(context.secrets.jwt_secret, username, utcnow(), minutes)
    return Token(access_token=token, expires_in=minutes * 60)


@router.get("/refresh")
def refresh(
    user: CurrentUser,
    request: Request,
    response: Response,
    context: ContextDep,
    session: SessionDep,
) -> Token:
    """Trade a still-valid token for a new one (audited); expired tokens and inactive users
    are refused by authentication as for every route, so a closed account ends its screens."""
    address = request.client.host if request.client else "unknown"
    record(session, user.username, "auth.refresh", user.username, None, {"address": address})
    session.commit()
    response.headers["Cache-Control"] = "no-store"
    return fresh_token(context, user.username)


@router.get("/me")
def me(user: CurrentUser) -> Me:
    """The authenticated user and the sites they may see."""
    return Me(
        username=user.username,
        role=user.role,
        scope_node_id=user.scope_node_id,
        sites=sorted(user.sites),
    )

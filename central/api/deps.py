"""Request dependencies: session, current user, roles, and objects loaded within scope."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.api.context import CentralContext
from central.db.auth_models import User
from central.db.registry_models import (
    Compound,
    Device,
    HierarchyNode,
    Household,
    Outlet,
    Resident,
    Visitor,
)
from central.security.scopes import Principal, node_visible, principal_of, user_can_see
from central.security.tokens import TokenError, token_subject

Row = TypeVar("Row")
_OBJECT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def get_context(request: Request) -> CentralContext:
    """The process's ``CentralContext``."""
    context: CentralContext = request.app.state.ctx
    return context


ContextDep = Annotated[CentralContext, Depends(get_context)]


def get_session(context: ContextDep) -> Iterator[Session]:
    """A session for this request; uncommitted work is rolled back at the end."""
    with context.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
_UNAUTHORISED = HTTPException(
    status.HTTP_401_UNAUTHORIZED,
    "not authenticated or token expired",
    headers={"WWW-Authenticate": "Bearer"},
)


def authenticate(context: CentralContext, session: Session, token: str | None) -> Principal:
    """The principal a bearer token stands for; 401 unless valid and the user active."""
    if not token:
        raise _UNAUTHORISED
    try:
        username = token_subject(context.secrets.jwt_secret, token)
    except TokenError as exc:
        raise _UNAUTHORISED from exc
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        raise _UNAUTHORISED
    return principal_of(session, user)


def get_current_user(
    context: ContextDep, session: SessionDep, token: Annotated[str | None, Depends(_bearer)]
) -> Principal:
    """The authenticated user (Authorization: Bearer)."""
    return authenticate(context, session, token)


CurrentUser = Annotated[Principal, Depends(get_current_user)]


def get_stream_user(
    context: ContextDep,
    session: SessionDep,
    header_token: Annotated[str | None, Depends(_bearer)],
    token: Annotated[
        str | None, Query(description="For EventSource, which cannot set headers.")
    ] = None,
) -> Principal:
    """The authenticated user from the header or, for EventSource, the ``token`` query."""
    return authenticate(context, session, header_token or token)


def require_role(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency admitting only users holding one of ``roles`` (403 otherwise)."""

    def check(user: CurrentUser) -> Principal:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"requires role: {', '.join(roles)}")
        return user

    return check


WRITERS = ("admin", "operator")
Writer = Annotated[Principal, Depends(require_role(*WRITERS))]
Admin = Annotated[Principal, Depends(require_role("admin"))]


def visible(user: Principal, row: Any) -> bool:
    """Whether ``row`` lies in the user's scope (nodes by path, the rest by site)."""
    if isinstance(row, HierarchyNode):
        return node_visible(user, row.path)
    if isinstance(row, Compound | Outlet):
        return user_can_see(user, row.id)
    if isinstance(row, Device):
        return user_can_see(user, row.site_id)
    return user_can_see(user, row.compound_id)


def well_formed_id(object_id: str) -> bool:
    """Whether ``object_id`` could be an id at all (letters, digits, ``_.-``; at most 64)."""
    return bool(_OBJECT_ID.match(object_id))


def load_scoped(session: Session, user: Principal, model: type[Row], object_id: str) -> Row:
    """The row ``object_id`` of ``model``; 404 if missing or outside the user's scope."""
    row = session.get(model, object_id) if well_formed_id(object_id) else None
    if row is None or not visible(user, row):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{model.__name__.lower()} not found")
    return row


def scoped_loader(model: type[Row], param: str) -> Callable[..., Row]:
    """A dependency loading ``model`` by the path parameter ``param`` within scope (else 404).

    As a dependency it runs before the request body is validated, so a request for another
    compound's object gets 404 whatever its body. FastAPI reads the parameter names from the
    signature, which is therefore built with ``param`` as the path parameter's name.
    """

    def load(**values: Any) -> Row:
        return load_scoped(values["session"], values["user"], model, values[param])

    keyword = inspect.Parameter.KEYWORD_ONLY
    load.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("user", keyword, annotation=CurrentUser),
            inspect.Parameter("session", keyword, annotation=SessionDep),
            inspect.Parameter(param, keyword, annotation=str),
        ]
    )
    return load


NodeDep = Annotated[HierarchyNode, Depends(scoped_loader(HierarchyNode, "node_id"))]
CompoundDep = Annotated[Compound, Depends(scoped_loader(Compound, "compound_id"))]
OutletDep = Annotated[Outlet, Depends(scoped_loader(Outlet, "outlet_id"))]
DeviceDep = Annotated[Device, Depends(scoped_loader(Device, "device_id"))]
HouseholdDep = Annotated[Household, Depends(scoped_loader(Household, "household_id"))]
ResidentDep = Annotated[Resident, Depends(scoped_loader(Resident, "resident_id"))]
VisitorDep = Annotated[Visitor, Depends(scoped_loader(Visitor, "visitor_id"))]

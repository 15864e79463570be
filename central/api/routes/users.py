"""User accounts, created by admins within their own scope."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from central.api.deps import Admin, SessionDep, load_scoped
from central.audit.log import record
from central.core.schemas import RequestModel
from central.db.auth_models import Role, User
from central.db.registry_models import HierarchyNode
from central.security.passwords import MIN_PASSWORD_CHARS
from central.users import create_user

router = APIRouter(prefix="/api/users", tags=["users"])


class UserCreate(RequestModel):
    """A new user scoped to a node the admin can see."""

    username: str = Field(pattern=r"^[A-Za-z0-9_.@-]{3,100}$")
    password: str = Field(min_length=MIN_PASSWORD_CHARS, max_length=200)
    role: Role
    scope_node_id: str = Field(max_length=64)


class UserPublic(BaseModel):
    """A user (no password hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    username: str
    role: str
    scope_node_id: str
    active: bool


@router.post("", status_code=status.HTTP_201_CREATED)
def add_user(body: UserCreate, admin: Admin, session: SessionDep) -> UserPublic:
    """Create a user; the scope node must lie within the admin's own scope."""
    load_scoped(session, admin, HierarchyNode, body.scope_node_id)
    if session.scalars(select(User.id).where(User.username == body.username)).first():
        raise HTTPException(status.HTTP_409_CONFLICT, "username is taken")
    user = create_user(session, body.username, body.password, body.role, body.scope_node_id)
    record(session, admin.username, "user.create", user.username, None, {"role": body.role})
    session.commit()
    return UserPublic.model_validate(user)

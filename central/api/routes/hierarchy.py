"""The governance hierarchy: city → district → street → community."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from central.api.deps import Admin, CurrentUser, NodeDep, SessionDep, load_scoped
from central.audit.log import record
from central.core.schemas import RequestModel
from central.db.registry_models import HierarchyNode, NodeLevel
from central.registry.nodes import HierarchyError, add_node

router = APIRouter(prefix="/api/nodes", tags=["hierarchy"])


class NodeCreate(RequestModel):
    """A new node below ``parent_id`` (a city has no parent)."""

    name: str = Field(min_length=1, max_length=200)
    level: NodeLevel
    parent_id: str | None = Field(default=None, max_length=64)


class NodePublic(BaseModel):
    """A hierarchy node."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    level: str
    parent_id: str | None
    created_at: datetime


@router.post("", status_code=status.HTTP_201_CREATED)
def create_node(body: NodeCreate, user: Admin, session: SessionDep) -> NodePublic:
    """Add a node; the parent must be in the caller's scope and one level up."""
    parent = None
    if body.parent_id is not None:
        parent = load_scoped(session, user, HierarchyNode, body.parent_id)
    try:
        node = add_node(session, body.name, body.level, parent)
    except HierarchyError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    record(session, user.username, "node.create", node.id, None, {"level": body.level})
    session.commit()
    return NodePublic.model_validate(node)


@router.get("")
def list_nodes(user: CurrentUser, session: SessionDep) -> list[NodePublic]:
    """Every node the caller may see."""
    query = select(HierarchyNode).where(
        HierarchyNode.path.startswith(user.scope_path, autoescape=True)
    )
    return [
        NodePublic.model_validate(n) for n in session.scalars(query.order_by(HierarchyNode.path))
    ]


@router.get("/{node_id}")
def get_node(node: NodeDep) -> NodePublic:
    """One node."""
    return NodePublic.model_validate(node)

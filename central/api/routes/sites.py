"""Compounds with their gates, and courier outlets: the sites devices belong to."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from central.api.deps import Admin, CompoundDep, CurrentUser, OutletDep, SessionDep, load_scoped
from central.audit.log import record
from central.core.schemas import RequestModel
from central.db.registry_models import Compound, Gate, HierarchyNode, Outlet
from central.registry.sealed import new_gallery_key
from central.security.scopes import Principal

router = APIRouter(prefix="/api", tags=["sites"])


class SiteCreate(RequestModel):
    """A compound or outlet under a community node."""

    name: str = Field(min_length=1, max_length=200)
    community_id: str = Field(max_length=64)


class SitePublic(BaseModel):
    """A compound or outlet."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    community_id: str
    created_at: datetime


class GateCreate(RequestModel):
    """A gate of a compound."""

    name: str = Field(min_length=1, max_length=200)


class GatePublic(BaseModel):
    """A gate."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    compound_id: str
    name: str


def _community(session: SessionDep, user: Principal, node_id: str) -> HierarchyNode:
    node = load_scoped(session, user, HierarchyNode, node_id)
    if node.level != "community":
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "sites belong to a community")
    return node


@router.post("/compounds", status_code=status.HTTP_201_CREATED)
def create_compound(body: SiteCreate, user: Admin, session: SessionDep) -> SitePublic:
    """Add a compound (with its gallery key) under a community in scope."""
    _community(session, user, body.community_id)
    compound = Compound(name=body.name, community_id=body.community_id)
    session.add(compound)
    session.flush()
    new_gallery_key(session, compound.id)
    record(session, user.username, "compound.create", compound.id, compound.id)
    session.commit()
    return SitePublic.model_validate(compound)


@router.get("/compounds")
def list_compounds(user: CurrentUser, session: SessionDep) -> list[SitePublic]:
    """Every compound the caller may see."""
    rows = session.scalars(
        select(Compound).where(Compound.id.in_(user.sites)).order_by(Compound.name)
    )
    return [SitePublic.model_validate(row) for row in rows]


@router.get("/compounds/{compound_id}")
def get_compound(compound: CompoundDep) -> SitePublic:
    """One compound."""
    return SitePublic.model_validate(compound)


@router.post("/compounds/{compound_id}/gates", status_code=status.HTTP_201_CREATED)
def create_gate(
    compound: CompoundDep, body: GateCreate, user: Admin, session: SessionDep
) -> GatePublic:
    """Add a gate to a compound."""
    compound_id = compound.id
    gate = Gate(compound_id=compound_id, name=body.name)
    session.add(gate)
    session.flush()
    record(session, user.username, "gate.create", gate.id, compound_id)
    session.commit()
    return GatePublic.model_validate(gate)


@router.get("/compounds/{compound_id}/gates")
def list_gates(compound: CompoundDep, session: SessionDep) -> list[GatePublic]:
    """The compound's gates."""
    rows = session.scalars(select(Gate).where(Gate.compound_id == compound.id).order_by(Gate.name))
    return [GatePublic.model_validate(row) for row in rows]


@router.post("/outlets", status_code=status.HTTP_201_CREATED)
def create_outlet(body: SiteCreate, user: Admin, session: SessionDep) -> SitePublic:
    """Add a courier outlet under a community in scope."""
    _community(session, user, body.community_id)
    outlet = Outlet(name=body.name, community_id=body.community_id)
    session.add(outlet)
    session.flush()
    record(session, user.username, "outlet.create", outlet.id, outlet.id)
    session.commit()
    return SitePublic.model_validate(outlet)


@router.get("/outlets/{outlet_id}")
def get_outlet(outlet: OutletDep) -> SitePublic:
    """One outlet."""
    return SitePublic.model_validate(outlet)

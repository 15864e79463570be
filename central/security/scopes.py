"""Who sees what: a user sees their scope node, every node below it, and those nodes' sites."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db.auth_models import User
from central.db.registry_models import Compound, HierarchyNode, Outlet


@dataclass(frozen=True)
class Principal:
    """An authenticated user with the sites (compounds and outlets) of their scope."""

    user_id: str
    username: str
    role: str
    scope_node_id: str
    scope_path: str
    sites: frozenset[str]


def user_can_see(user: Principal, site_id: str) -> bool:
    """Whether ``user`` may read or write objects of the compound or outlet ``site_id``."""
    return site_id in user.sites


def node_visible(user: Principal, node_path: str) -> bool:
    """Whether the hierarchy node with ``node_path`` is the user's node or below it."""
    return node_path.startswith(user.scope_path)


def sites_under(session: Session, path: str) -> frozenset[str]:
    """Ids of every compound and outlet whose community lies at or below ``path``."""
    under = select(HierarchyNode.id).where(HierarchyNode.path.startswith(path, autoescape=True))
    compounds = session.scalars(select(Compound.id).where(Compound.community_id.in_(under)))
    outlets = session.scalars(select(Outlet.id).where(Outlet.community_id.in_(under)))
    return frozenset(compounds) | frozenset(outlets)


def principal_of(session: Session, user: User) -> Principal:
    """The principal of an active ``user``, with the sites their scope covers."""
    node = session.get(HierarchyNode, user.scope_node_id)
    path = node.path if node is not None else "\0"
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        scope_node_id=user.scope_node_id,
        scope_path=path,
        sites=sites_under(session, path) if node is not None else frozenset(),
    )

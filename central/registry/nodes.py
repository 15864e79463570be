"""Adding nodes to the governance hierarchy (API and CLI alike)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from central.db.registry_models import LEVELS, HierarchyNode, NodeLevel, new_id


class HierarchyError(ValueError):
    """A node placed at the wrong level."""


def add_node(
    session: Session, name: str, level: NodeLevel, parent: HierarchyNode | None
) -> HierarchyNode:
    """A new node one level below ``parent`` (a city has none), flushed."""
    index = LEVELS.index(level)
    wanted = LEVELS[index - 1] if index else None
    if (parent.level if parent else None) != wanted:
        raise HierarchyError(f"a {level} needs a parent of level {wanted}")
    node_id = new_id()
    node = HierarchyNode(
        id=node_id,
        name=name,
        level=level,
        parent_id=parent.id if parent else None,
        path=(parent.path if parent else "/") + f"{node_id}/",
    )
    session.add(node)
    session.flush()
    return node

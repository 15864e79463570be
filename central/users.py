"""Creating users (shared by the API and the ``anju central users create`` command)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from central.db.auth_models import Role, User
from central.security.passwords import MIN_PASSWORD_CHARS, hash_password


class UserError(ValueError):
    """A user that cannot be created as asked."""


def create_user(session: Session, username: str, password: str, role: Role, node_id: str) -> User:
    """Add a user with an argon2 hash of ``password`` (flushed, not committed)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"password must have at least {MIN_PASSWORD_CHARS} characters")
    user = User(
        username=username, password_hash=hash_password(password), role=role, scope_node_id=node_id
    )
    session.add(user)
    session.flush()
    return user

"""Short-lived HS256 access tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt

ALGORITHM = "HS256"


class TokenError(ValueError):
    """A token that is malformed, forged or expired."""


def issue_token(secret: bytes, username: str, now: datetime, minutes: int) -> str:
    """An access token for ``username`` valid for ``minutes`` from ``now``."""
    claims = {"sub": username, "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def token_subject(secret: bytes, token: str) -> str:
    """The username a valid token was issued to; ``TokenError`` otherwise."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp"]})
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise TokenError("token has no subject")
    return subject

"""Authentication (passwords, tokens, login limits) and scope checks."""

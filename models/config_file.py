"""Read a YAML configuration file into a validated pydantic model, naming any bad key."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from models.errors import ModelError

Config = TypeVar("Config", bound=BaseModel)


def describe_errors(error: ValidationError) -> str:
    """One line per problem: the dotted key, then what is wrong with it."""
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        lines.append(f"{key}: {problem['msg']}")
    return "; ".join(lines)


def load_config(path: Path, model: type[Config], section: str | None = None) -> Config:
    """The ``section`` of the YAML file at ``path`` (or all of it) validated as ``model``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ModelError(f"cannot read configuration {path}: {exc}") from exc
    if section is not None:
        data = data.get(section, {}) if isinstance(data, dict) else data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = f"{path}" + (f" [{section}]" if section else "")
        raise ModelError(f"invalid configuration {where}: {describe_errors(exc)}") from exc

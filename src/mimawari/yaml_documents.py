"""YAML files that configure mimawari (the configuration, the gateway's policy): read with a size limit,
parsed safely, validated by a pydantic model, and every problem told in one line naming the file and the
key at fault (``the policy gateway.yaml: actions.encrypted: Input should be …``). Inputs are never echoed
back, so a secret in the wrong key does not end up in a log."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from mimawari.errors import InputError

MAX_BYTES = 1 << 20
M = TypeVar("M", bound=BaseModel)


def read_limited(path: Path, label: str) -> bytes:
    """The file's bytes (at most ``MAX_BYTES`` + 1); ``label`` names it in errors: ``the policy``."""
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise InputError(f"cannot read {label} {path}: {error.strerror}") from None


def parse_document(model: type[M], raw: bytes, label: str, keys: str) -> M:
    """``raw`` as ``model``; ``label`` names the file (``the configuration /etc/…``), ``keys`` the top-level
    keys a mapping is expected to have, for the error when it is something else."""
    if len(raw) > MAX_BYTES:
        raise InputError(f"{label} is larger than {MAX_BYTES >> 20} MiB")
    try:
        document: Any = yaml.safe_load(raw.decode("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise InputError(f"{label} is not YAML: {yaml_problem(error)}") from None
    if not isinstance(document, dict):
        raise InputError(f"{label} must be a mapping of keys ({keys})")
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise InputError(f"{label}: {first_problem(error)}") from None


def yaml_problem(error: yaml.YAMLError | UnicodeDecodeError) -> str:
    """What the YAML parser found and where (``expected ',' or ']', but got '<stream end>' at line 4,
    column 1``), in one line."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"{error.problem} at line {mark.line + 1}, column {mark.column + 1}"
    return " ".join(str(error).split())


def first_problem(error: ValidationError) -> str:
    """The first validation problem, with the key path it is at, and how many more there are."""
    problem = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in problem["loc"])
    message = " ".join(problem["msg"].removeprefix("Value error, ").split())
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {message}{more}" if where else f"{message}{more}"

"""JSON round trip for mimawari's dataclasses (findings, observations, snapshots).

The data types stay plain frozen dataclasses; pydantic's TypeAdapter validates them on the way in,
so a stored snapshot that no longer fits its type fails loudly instead of loading half-right.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import TypeAdapter

T = TypeVar("T")


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(tp: Any) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(tp)
    if adapter is None:
        adapter = _ADAPTERS[tp] = TypeAdapter(tp)
    return adapter


def to_jsonable(obj: object) -> Any:
    """``obj`` as JSON-compatible Python data (dicts, lists, strings, numbers)."""
    return _adapter(type(obj)).dump_python(obj, mode="json")


def to_json(obj: object, *, indent: int | None = None) -> str:
    return _adapter(type(obj)).dump_json(obj, indent=indent).decode()


def from_jsonable(tp: type[T], data: Any) -> T:
    result: T = _adapter(tp).validate_python(data)
    return result


def from_json(tp: type[T], text: str | bytes) -> T:
    result: T = _adapter(tp).validate_json(text)
    return result

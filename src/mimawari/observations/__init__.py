"""Observations: what the scanner saw, as frozen data, each with the lookup plan that builds it.

Plans are pure (see ``mimawari.lookup``); ``mimawari.observe`` runs them against the network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from mimawari.lookup import Plan
from mimawari.model import Target

O_co = TypeVar("O_co", covariant=True)


@dataclass(frozen=True)
class Observer(Generic[O_co]):
    """A named kind of observation and the plan that makes it for one target."""

    name: str
    plan: Callable[[Target], Plan[O_co]]

"""How much work one message may cost the detector: size, expansion, members, nesting, ratio, time.

A gateway reads hostile input at the speed mail arrives; every reader checks these limits on the bytes it
actually produced (a header may lie about sizes), and an overrun is a verdict (``undecidable``, with a
one-line reason), never a hang or a crash. ``Budgets`` is the configuration (frozen); ``Meter`` is the
running account of one message (mutable on purpose: it counts).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from mimawari.gateway.verdict import Undecidable

MIB = 1024 * 1024


@dataclass(frozen=True)
class Budgets:
    max_message_bytes: int = 50 * MIB
    """A larger message is not parsed at all."""
    max_expanded_bytes: int = 256 * MIB
    """Bytes decompressed from every archive of one message together."""
    max_members: int = 10_000
    """Entries in one archive."""
    max_depth: int = 5
    """Archives within archives: a member of an attached archive is at depth 1; an archive at this depth
    is not opened (its contents would be at ``max_depth + 1``)."""
    max_ratio: int = 100
    """Uncompressed to compressed size, per member, once a member expands past ``ratio_floor``."""
    ratio_floor: int = 1 * MIB
    """Below this a member may compress as well as it likes: a page of zeros is not a bomb."""
    max_seconds: float = 30.0
    """Wall-clock time for one message."""


class MessageBudgetExceeded(Undecidable):
    """A limit of the whole message (time, total expansion) ran out: the rest is not read either."""


@dataclass
class Meter:
    """The account of one message against its ``Budgets``."""

    budgets: Budgets
    expanded: int = 0
    deadline: float = field(default=0.0)

    def __post_init__(self) -> None:
        if not self.deadline:
            self.deadline = time.monotonic() + self.budgets.max_seconds

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise MessageBudgetExceeded(f"time budget of {self.budgets.max_seconds:g} s exceeded")

    def spend(self, produced: int) -> None:
        """Count ``produced`` decompressed bytes against the message's total."""
        self.expanded += produced
        if self.expanded > self.budgets.max_expanded_bytes:
            raise MessageBudgetExceeded(
                f"more than {self.budgets.max_expanded_bytes} bytes expanded from archives"
            )
        self.check_time()

    def check_ratio(self, produced: int, compressed: int) -> None:
        """A member that has produced ``produced`` bytes out of ``compressed`` is a bomb when over ratio."""
        if produced > self.budgets.ratio_floor and produced > self.budgets.max_ratio * max(compressed, 1):
            raise Undecidable(
                f"compression ratio over {self.budgets.max_ratio}:1 ({produced} bytes from {compressed})"
            )

    def check_members(self, count: int) -> None:
        if count > self.budgets.max_members:
            raise Undecidable(f"more than {self.budgets.max_members} members")

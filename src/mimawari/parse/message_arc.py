"""ARC header fields (RFC 8617): the sets an intermediary adds when it forwards a message.

Each set is three fields with the same instance ``i=`` — ARC-Seal, ARC-Message-Signature and
ARC-Authentication-Results — numbered 1…N from the first intermediary on. Only their presence, count and
the seals' ``cv=`` (chain validation) are read here; verifying the chain needs every intermediary's key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_INSTANCE = re.compile(r"(?:^|;)\s*i\s*=\s*(\d+)")


@dataclass(frozen=True)
class ArcHeaders:
    """The ARC sets (RFC 8617) a message carries: one per intermediary that sealed it."""

    seals: int = 0
    message_signatures: int = 0
    authentication_results: int = 0
    instances: tuple[int, ...] = ()
    """The ``i=`` values of the ARC-Seal fields, sorted."""
    chain_validation: tuple[str, ...] = ()
    """The ``cv=`` values of the ARC-Seal fields, by instance."""

    @property
    def present(self) -> bool:
        return bool(self.seals or self.message_signatures or self.authentication_results)

    @property
    def complete(self) -> bool:
        """Every instance 1…N has its three fields."""
        n = len(self.instances)
        return (
            n > 0
            and self.instances == tuple(range(1, n + 1))
            and self.seals == self.message_signatures == self.authentication_results == n
        )


def arc_headers(values: dict[str, tuple[str, ...]]) -> ArcHeaders:
    """The ARC sets of a message from its fields' values by lower-case name."""
    seals = values.get("arc-seal", ())
    instances = []
    validation = []
    for seal in seals:
        found = _INSTANCE.search(seal)
        if found is not None:
            instances.append(int(found.group(1)))
        cv = re.search(r"(?:^|;)\s*cv\s*=\s*([a-z]+)", seal, re.IGNORECASE)
        validation.append(cv.group(1).lower() if cv else "")
    return ArcHeaders(
        len(seals),
        len(values.get("arc-message-signature", ())),
        len(values.get("arc-authentication-results", ())),
        tuple(sorted(instances)),
        tuple(validation),
    )

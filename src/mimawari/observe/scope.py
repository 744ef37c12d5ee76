"""Where the scanner may connect (DESIGN rule 7). One rule, used by every connecting observer.

DNS answers are the attacker's to choose: a hostile domain can point ``mta-sts.`` at 127.0.0.1 or at
an internal address. So connections go only to globally routable addresses, unless the scan explicitly
allows loopback (the lab) or private networks (an internal deployment scanning its own ranges).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    allow_loopback: bool = False
    allow_private: bool = False

    def refusal(self, address: str) -> str | None:
        """Why connecting to ``address`` is out of scope, or None when it is allowed."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return f"out of scope: {address!r} is not an IP address"
        if ip.is_loopback:
            return None if self.allow_loopback else f"out of scope: {ip} is a loopback address"
        if ip.is_multicast or ip.is_link_local or ip.is_unspecified or ip.is_reserved:
            return f"out of scope: {ip} is not a unicast address one can scan"
        if ip.is_global:
            return None
        return None if self.allow_private else f"out of scope: {ip} is a private address"

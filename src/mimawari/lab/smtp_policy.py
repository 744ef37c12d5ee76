"""What the lab's SMTP servers say: their options and the replies they give, as pure functions.

Replies follow Postfix's wording (see ``lab.smtp`` for the whole behaviour), so a scanner meets the
texts it will meet on the internet.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

SIZE_LIMIT = 10_240_000
"""Postfix's default ``message_size_limit``, advertised in EHLO and enforced on DATA."""
IDLE_TIMEOUT = 60.0
"""Seconds a session may sit idle before the server hangs up (RFC 5321 §4.5.3.2.7 asks for 5 min;
the lab is impatient so forgotten clients do not pile up)."""
MESSAGES_KEPT = 100
"""At most this many received messages are kept (the oldest are dropped)."""


class AuthPlacement(StrEnum):
    """Where SMTP AUTH is offered: before STARTTLS (passwords in clear text), only in TLS, or not at all."""

    BEFORE_TLS = "before-tls"
    AFTER_TLS = "after-tls"
    NONE = "none"


@dataclass(frozen=True)
class SmtpOptions:
    host: str
    """The server's name: in EHLO, and in the default banner."""
    banner: str = ""
    """The greeting text after ``220 ``; empty: ``<host> ESMTP``."""
    starttls: bool = True
    implicit_tls: bool = False
    open_relay: bool = False
    vrfy: bool = False
    expn: bool = False
    accept_unknown: bool = False
    auth: AuthPlacement = AuthPlacement.NONE
    local_domains: tuple[str, ...] = ()
    users: tuple[str, ...] = ("postmaster",)
    """Local parts that exist in every local domain; ``postmaster`` always does (RFC 5321 §4.5.1)."""
    smuggling: bool = False
    slow: float = 0.0
    """Seconds to wait before the greeting."""

    @property
    def greeting(self) -> str:
        return self.banner or f"{self.host} ESMTP"

    def is_local(self, address: str) -> bool:
        """``<postmaster>`` with no domain is local (RFC 5321 §4.1.1.3), as is any local domain."""
        _local, at, domain = address.rpartition("@")
        return not at or domain.rstrip(".").lower() in self.local_domains

    def user_exists(self, address: str) -> bool:
        local = address.rpartition("@")[0] or address
        return local.lower() == "postmaster" or local.lower() in self.users


def rcpt_reply(options: SmtpOptions, address: str) -> str:
    """The reply to ``RCPT TO:<address>``: 250 when accepted, else Postfix's refusal."""
    if not options.is_local(address):
        if options.open_relay:
            return "250 2.1.5 Ok"
        return f"554 5.7.1 <{address}>: Relay access denied"
    if options.accept_unknown or options.user_exists(address):
        return "250 2.1.5 Ok"
    return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in local recipient table"


def vrfy_reply(options: SmtpOptions, address: str) -> str:
    if not options.vrfy:
        return "502 5.5.1 VRFY command is disabled"
    if not options.is_local(address) or options.accept_unknown or options.user_exists(address):
        return f"252 2.0.0 {address}"
    return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in local recipient table"


def expn_reply(options: SmtpOptions, address: str) -> str:
    if not options.expn:
        return "502 5.5.2 Error: command not recognized"
    if options.is_local(address) and options.user_exists(address):
        domain = address.rpartition("@")[2] or (options.local_domains or (options.host,))[0]
        local = address.rpartition("@")[0] or address
        return f"250 2.1.5 <{local}@{domain}>"
    return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in local recipient table"


@dataclass(frozen=True)
class ReceivedMessage:
    """A message a lab SMTP server accepted with DATA, for tests to look at."""

    host: str
    address: str
    """The address (and port) the message was sent to, as the client was told to reach it."""
    port: int
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    """The message as received, dot-stuffing removed, line endings untouched."""

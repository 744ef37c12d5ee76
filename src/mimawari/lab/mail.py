"""The lab's mail servers: SMTP (``lab.smtp``), IMAP and POP3 (``lab.mailbox``) for lab hosts.

A lab mail host stands for the addresses its zone gives it. Every (address, port) it serves gets its own
listener on a loopback ephemeral port, and ``MailLab.endpoints`` maps one to the other, the way a scan's
probe client is told where to really connect: ``"203.0.113.25:25" -> "127.0.0.1:40123"``,
``"[2001:db8::25]:25" -> "127.0.0.1:40124"``. Certificates come from the lab's CA (``lab.ca``).

The ``mail:`` section of a lab document, and what each server does, is described in ``lab.mail_config``.
"""

from __future__ import annotations

import ipaddress
import ssl
from types import TracebackType
from typing import Protocol

from mimawari.errors import LabError
from mimawari.lab.ca import CertMode, KeyType, LabCa, LeafFiles, ServerTls, server_context
from mimawari.lab.mail_config import MailServer, MailServers, MailService, mail_from_document
from mimawari.lab.mailbox import ImapListener, ImapOptions, Pop3Listener, Tarpit
from mimawari.lab.smtp import SmtpListener
from mimawari.lab.smtp_policy import ReceivedMessage, SmtpOptions
from mimawari.observe.tcp import endpoint_key

__all__ = ["MailLab", "MailServers", "mail_from_document"]


class _Listener(Protocol):
    @property
    def port(self) -> int: ...

    @property
    def sessions(self) -> int: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class MailLab:
    """The lab's mail servers, as an async context manager::

        async with MailLab(mail_from_document(document)) as mail:
            ProbeClient(endpoint_map=mail.endpoints, ca_file=mail.ca_file, ...)

    ``ca`` lets the lab's servers share one CA; by default the mail lab makes its own and removes it on
    stop. ``messages`` holds what the SMTP servers accepted with DATA.
    """

    def __init__(self, servers: MailServers, *, host: str = "127.0.0.1", ca: LabCa | None = None) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise LabError(f"the lab only listens on loopback addresses, not {host}")
        self.servers = servers
        self.host = host
        self.messages: list[ReceivedMessage] = []
        self._ca = ca
        self._own_ca = ca is None
        self._listeners: dict[str, _Listener] = {}
        self._contexts: dict[tuple[str, ServerTls], ssl.SSLContext] = {}
        self._leaves: dict[tuple[str, CertMode, KeyType], LeafFiles] = {}

    @property
    def ca_file(self) -> str:
        if self._ca is None:
            raise LabError("the lab mail servers are not started")
        return self._ca.ca_file

    @property
    def endpoints(self) -> dict[str, str]:
        """``"203.0.113.25:25" -> "127.0.0.1:40123"`` for every (address, port) served."""
        local = f"[{self.host}]" if ":" in self.host else self.host
        return {key: f"{local}:{listener.port}" for key, listener in self._listeners.items()}

    @property
    def open_sessions(self) -> int:
        """Client connections the mail servers hold right now (a hung-up client's is gone soon after)."""
        return sum(listener.sessions for listener in self._listeners.values())

    def endpoint(self, address: str, port: int) -> tuple[str, int]:
        """Where the lab really listens for ``address``:``port``; ``LabError`` when nothing does."""
        try:
            listener = self._listeners.get(endpoint_key(str(ipaddress.ip_address(address)), port))
        except ValueError:
            listener = None
        if listener is None:
            raise LabError(f"no lab mail server listens for {endpoint_key(address, port)}")
        return self.host, listener.port

    async def __aenter__(self) -> MailLab:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._ca is None:
            self._ca = LabCa()
        try:
            for server in self.servers.servers:
                for service in server.services:
                    for address in server.addresses:
                        listener = self._listener(server, service, address)
                        await listener.start()
                        self._listeners[endpoint_key(address, service.port)] = listener
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        listeners = list(self._listeners.values())
        self._listeners.clear()
        for listener in listeners:
            await listener.stop()
        self._contexts.clear()
        self._leaves.clear()
        if self._own_ca and self._ca is not None:
            self._ca.close()
            self._ca = None

    def _listener(self, server: MailServer, service: MailService, address: str) -> _Listener:
        if service.stall:
            return Tarpit(host=self.host)
        tls = self._context(server.host, service.tls) if service.uses_tls else None
        options = service.options
        if isinstance(options, SmtpOptions):
            return SmtpListener(
                options, address=address, port=service.port, tls=tls, messages=self.messages, host=self.host
            )
        if isinstance(options, ImapOptions):
            return ImapListener(options, tls=tls, host=self.host)
        return Pop3Listener(options, tls=tls, host=self.host)

    def _context(self, host: str, tls: ServerTls) -> ssl.SSLContext:
        context = self._contexts.get((host, tls))
        if context is None:
            assert self._ca is not None
            leaf = self._leaves.get((host, tls.cert, tls.key))
            if leaf is None:  # a 4096-bit RSA key takes a second to make: one per host, mode and type
                leaf = self._leaves[host, tls.cert, tls.key] = self._ca.issue(host, tls.cert, tls.key)
            try:
                context = self._contexts[host, tls] = server_context(tls, leaf)
            except ssl.SSLError as exc:
                raise LabError(f"lab mail server {host}: cannot set up TLS: {exc.reason or exc}") from None
        return context

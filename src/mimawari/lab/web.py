"""The lab's HTTPS server: static answers per host name, certificates from the lab's throw-away CA.

One listener on a loopback address serves every lab site. The site is chosen twice, as a real shared
host would: the TLS certificate by the server name the client sends (SNI), the answer by the ``Host``
header. Each site has a certificate mode (see ``lab.ca.CertMode``) so scans can meet expired,
wrong-name and self-signed certificates. HTTP/1.1, one request per connection (``Connection: close``).

YAML form, in the same lab document as the zones (the DNS side ignores this key)::

    https:
      sites:
        mta-sts.kuroneko.example:
          cert: valid                  # valid (default) | expired | wrong-name | self-signed
          paths:
            /.well-known/mta-sts.txt:
              status: 200              # default 200, or 301 when redirect is given
              content_type: text/plain # default text/plain
              body: |
                version: STSv1
                mode: enforce
              redirect: https://elsewhere.example/   # sent as Location
              stall: false             # true: read the request and never answer (timeouts)

Unknown sites and paths get 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any

import yaml

from mimawari.errors import LabError, ZoneError
from mimawari.lab.ca import CertMode, LabCa

log = logging.getLogger(__name__)

MAX_REQUEST_HEAD = 16 * 1024
DEFAULT_SITE = "default.lab.invalid"
"""The certificate shown to a client that sends no known server name."""


@dataclass(frozen=True)
class HttpsPath:
    status: int = 200
    content_type: str = "text/plain"
    body: str = ""
    redirect: str = ""
    stall: bool = False


@dataclass(frozen=True)
class HttpsSite:
    host: str
    cert: CertMode = CertMode.VALID
    paths: Mapping[str, HttpsPath] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpsSites:
    sites: tuple[HttpsSite, ...] = ()

    def __add__(self, other: HttpsSites) -> HttpsSites:
        return HttpsSites(self.sites + other.sites)

    def site(self, host: str) -> HttpsSite | None:
        host = host.rstrip(".").lower()
        return next((s for s in self.sites if s.host == host), None)


def _path(site: str, path: str, spec: Any) -> HttpsPath:
    if not isinstance(spec, Mapping):
        raise ZoneError(f"lab YAML: https site {site} path {path} must be a mapping")
    unknown = set(spec) - {"status", "content_type", "body", "redirect", "stall"}
    if unknown:
        raise ZoneError(f"lab YAML: https site {site} path {path}: unknown keys {sorted(unknown)}")
    redirect = str(spec.get("redirect") or "")
    try:
        status = int(spec.get("status", 301 if redirect else 200))
        HTTPStatus(status)
    except ValueError:
        raise ZoneError(f"lab YAML: https site {site} path {path}: status must be an HTTP status") from None
    return HttpsPath(
        status=status,
        content_type=str(spec.get("content_type", "text/plain")),
        body=str(spec.get("body") or ""),
        redirect=redirect,
        stall=bool(spec.get("stall", False)),
    )


def sites_from_document(document: Mapping[str, Any]) -> HttpsSites:
    """The ``https:`` part of an already loaded lab YAML document (absent: no sites)."""
    section = document.get("https") or {}
    sites = section.get("sites") if isinstance(section, Mapping) else None
    if not isinstance(sites or {}, Mapping):
        raise ZoneError("lab YAML: 'https' must be a mapping with a 'sites' mapping")
    parsed = []
    for host, given in (sites or {}).items():
        spec = given or {}
        name = str(host).rstrip(".").lower()
        if not isinstance(spec, Mapping) or not isinstance(spec.get("paths") or {}, Mapping):
            raise ZoneError(f"lab YAML: https site {name} must be a mapping with a 'paths' mapping")
        try:
            cert = CertMode(str(spec.get("cert", "valid")))
        except ValueError:
            modes = ", ".join(m.value for m in CertMode)
            raise ZoneError(f"lab YAML: https site {name}: cert must be one of {modes}") from None
        paths = {str(p): _path(name, str(p), s) for p, s in (spec.get("paths") or {}).items()}
        parsed.append(HttpsSite(name, cert, paths))
    return HttpsSites(tuple(parsed))


def sites_from_yaml(text: str) -> HttpsSites:
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ZoneError(f"lab YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(document, Mapping):
        raise ZoneError("lab YAML: expected a mapping")
    return sites_from_document(document)


class WebLab:
    """The lab HTTPS server, as an async context manager::

    async with WebLab(sites) as web:
        HttpClient(ca_file=web.ca_file, port_map={443: web.port}, ...)

    ``ca`` lets several lab servers share one CA; by default the server makes its own and removes it
    on stop.
    """

    def __init__(
        self, sites: HttpsSites, *, host: str = "127.0.0.1", port: int = 0, ca: LabCa | None = None
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise LabError(f"the lab only listens on loopback addresses, not {host}")
        self.sites = sites
        self.host = host
        self._requested_port = port
        self._port = 0
        self._ca = ca
        self._own_ca = ca is None
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self.requests: list[tuple[str, str]] = []
        """Every request served, as (host, path): lets tests see what a client asked for."""

    @property
    def port(self) -> int:
        return self._port

    @property
    def ca_file(self) -> str:
        if self._ca is None:
            raise LabError("the lab HTTPS server is not started")
        return self._ca.ca_file

    async def __aenter__(self) -> WebLab:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._ca is None:
            self._ca = LabCa()
        contexts = {site.host: self._context(site.host, site.cert) for site in self.sites.sites}
        default = self._context(DEFAULT_SITE, CertMode.VALID)

        def choose(sslobj: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
            sslobj.context = contexts.get((server_name or "").lower(), default)

        default.sni_callback = choose
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            self._server = await asyncio.start_server(
                self._serve, self.host, self._requested_port, family=family, ssl=default
            )
        except OSError as exc:
            self.close_ca()
            raise LabError(
                f"lab HTTPS cannot listen on {self.host}:{self._requested_port}: {exc.strerror}"
            ) from None
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        self.close_ca()

    def close_ca(self) -> None:
        if self._own_ca and self._ca is not None:
            self._ca.close()

    def _context(self, host: str, mode: CertMode) -> ssl.SSLContext:
        assert self._ca is not None
        leaf = self._ca.issue(host, mode)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(leaf.cert_file, leaf.key_file)
        return context

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            reply = await self._answer(head, reader)
            if reply is not None:
                writer.write(reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ssl.SSLError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()

    async def _answer(self, head: bytes, reader: asyncio.StreamReader) -> bytes | None:
        lines = head[:MAX_REQUEST_HEAD].decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        target = rest.rpartition(" ")[0] or rest
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:] if ":" in line)
        }
        host = headers.get("host", "")
        # The Host header may carry a port (the lab's real one); an IPv6 literal is bracketed.
        host = host[1:].partition("]")[0] if host.startswith("[") else host.partition(":")[0]
        path = target.split("?", 1)[0]
        self.requests.append((host.lower(), path))
        site = self.sites.site(host)
        answer = site.paths.get(path) if site is not None else None
        if method != "GET":
            answer = HttpsPath(405, body="only GET is served here\n")
        elif answer is None:
            answer = HttpsPath(404, body="not found\n")
        if answer.stall:
            await reader.read()  # hold the connection until the client gives up
            return None
        body = answer.body.encode()
        reason = HTTPStatus(answer.status).phrase
        fields = [
            f"HTTP/1.1 {answer.status} {reason}",
            f"Content-Type: {answer.content_type}",
            f"Content-Length: {len(body)}",
            "Connection: close",
        ]
        if answer.redirect:
            fields.append(f"Location: {answer.redirect}")
        return ("\r\n".join(fields) + "\r\n\r\n").encode("latin-1") + body

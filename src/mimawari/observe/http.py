"""HTTP(S) fetches for lookup plans (MTA-STS policies, BIMI logos), on httpx.

The plan has already resolved the host through the scan's DNS and names the address to use; the TLS
server name and the Host header come from the URL, so certificates are checked against the real name.
Redirects are never followed (RFC 8461 §3.3), bodies are capped, the environment's proxies are ignored,
and the trust store is the system's (``SSL_CERT_FILE`` is honoured) or ``ca_file``.

The lab runs one HTTPS listener on loopback for hosts whose DNS records hold documentation addresses
(203.0.113.0/24 …). Two injections make that work without touching the plan or the snapshot:
``address_map`` says where to really connect for an address the plan chose, and ``port_map`` where
for a port. The scope is checked against the plan's address, before mapping, so the rule a scan applies
is the rule it would apply on the internet (the lab's scope admits documentation prefixes).
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Mapping

import httpx

from mimawari.lookup import HttpRequest, HttpResponse
from mimawari.model import Status
from mimawari.observe.scope import Scope

MAX_BODY = 512 * 1024


class HttpClient:
    def __init__(
        self,
        *,
        scope: Scope | None = None,
        ca_file: str | None = None,
        port_map: Mapping[int, int] | None = None,
        address_map: Mapping[str, str] | None = None,
        timeout: float = 5.0,
        max_body: int = MAX_BODY,
        concurrency: int = 32,
    ) -> None:
        self.scope = scope or Scope()
        self.port_map = dict(port_map or {})
        """Where the lab really listens: ``{443: 40123}`` sends https:// fetches to port 40123."""
        self.address_map = dict(address_map or {})
        """Where to connect for an address: ``{"203.0.113.10": "127.0.0.1"}``; unmapped ones as they are."""
        self.timeout = timeout
        self.max_body = max_body
        self._tls = ssl.create_default_context(cafile=ca_file)
        self._limit = asyncio.Semaphore(max(1, concurrency))
        self._cache: dict[HttpRequest, asyncio.Task[HttpResponse]] = {}

    async def fetch(self, request: HttpRequest) -> HttpResponse:
        task = self._cache.get(request)
        if task is None:
            task = asyncio.ensure_future(self._fetch(request))
            self._cache[request] = task
        return await asyncio.shield(task)

    async def _fetch(self, request: HttpRequest) -> HttpResponse:
        refusal = self.scope.refusal(request.address)
        if refusal is not None:
            return HttpResponse(request, Status.ERROR, detail=refusal)
        try:
            url = httpx.URL(request.url)
        except httpx.InvalidURL as exc:
            return HttpResponse(request, Status.ERROR, detail=f"invalid URL: {exc}")
        if url.scheme not in ("http", "https") or not url.host:
            return HttpResponse(request, Status.ERROR, detail=f"not an http(s) URL: {request.url}")
        port = url.port or (443 if url.scheme == "https" else 80)
        address = self.address_map.get(request.address, request.address)
        direct = url.copy_with(host=address, port=self.port_map.get(port, port))
        headers = {"Host": url.netloc.decode("ascii"), "User-Agent": "mimawari"}
        try:
            async with (
                self._limit,
                httpx.AsyncClient(verify=self._tls, timeout=self.timeout, trust_env=False) as client,
                client.stream("GET", direct, headers=headers, extensions={"sni_hostname": url.host}) as reply,
            ):
                body = bytearray()
                async for chunk in reply.aiter_bytes():
                    body += chunk
                    if len(body) > self.max_body:
                        return HttpResponse(
                            request,
                            Status.ERROR,
                            reply.status_code,
                            detail=f"body larger than {self.max_body} bytes",
                        )
                return HttpResponse(
                    request,
                    Status.PRESENT,
                    reply.status_code,
                    content_type=reply.headers.get("content-type", ""),
                    body=body.decode(reply.encoding or "utf-8", errors="replace"),
                    redirect=reply.headers.get("location", "") if reply.is_redirect else "",
                )
        except httpx.TimeoutException:
            return HttpResponse(request, Status.TIMEOUT, detail=f"no answer within {self.timeout:g} s")
        except (httpx.HTTPError, OSError, ssl.SSLError) as exc:
            return HttpResponse(request, Status.ERROR, detail=_describe(exc))


_SSL_LOCATION = re.compile(r"\s*\(_ssl\.c:\d+\)")


def _describe(exc: BaseException) -> str:
    """One line for evidence: ``certificate verify failed: certificate has expired``, not a traceback."""
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text:
        text = "certificate verify failed: " + text.split("certificate verify failed:")[-1].lstrip()
    return _SSL_LOCATION.sub("", text.splitlines()[0]).strip()

"""The TLS configuration of one endpoint, mapped with our own ClientHellos: versions, suites, groups.

Each probe opens a connection (through the caller's opener, which owns scope, address mapping and any
STARTTLS preamble), sends one hello from ``tls_hello``, reads until a ServerHello, HelloRetryRequest,
alert or EOF, and closes: no handshake is ever completed. What is learnt, and how:

* **Versions** (SSLv3 … TLS 1.3): a hello offering that version alone and every suite valid for it. A
  ServerHello at that version accepts it; a lower one, an alert or a closed connection refuses it (the
  suites go out in chunks of ``MAX_SUITES``, so a refusal other than ``protocol_version`` tries the next
  chunk). The first probe decides whether the endpoint talks TLS at all: its timeout makes the scan
  TIMEOUT, a refused connection or a non-TLS answer makes it ERROR; so does a server that only ever
  closes the connection.
* **Suites**, per accepted version: offer all, remove the one chosen, repeat until refused. Then the
  accepted ones reversed: the same first choice means the server imposes its own order.
* **Groups**, for the highest version: the same elimination over ``supported_groups``. TLS 1.3 sends an
  empty key_share so that the HelloRetryRequest names the server's pick among what is left (RFC 8446
  §4.2.8); a server that refuses that is asked one group at a time with a real key share where we have
  one. TLS 1.2 and older offer ECDHE suites only and read the named curve off the ServerKeyExchange,
  keeping an ECDSA certificate's own curve in every list (RFC 8422 §5.1).

Politeness: at most ``concurrency`` connections at once and ``max_connections`` in all (then the scan
stops and says so in ``detail``); every probe is bounded by ``timeout`` for the answer, and by
``OPEN_STEPS`` timeouts for the opener. A probe that timed out leaves its version TIMEOUT, never ABSENT.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from mimawari.model import Status
from mimawari.observe import tls_hello as th
from mimawari.observe.tcp import ProbeFailure
from mimawari.parse.tls_suites import by_code, suites_for
from mimawari.probes import GroupSupport, TlsScan, TlsScanRequest, VersionSupport

Opener = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]

OPEN_STEPS = 4
"""An opener may talk before the hello (connect, greeting, EHLO, STARTTLS): it gets this many timeouts."""


class Kind(Enum):
    HELLO = "hello"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    ERROR = "error"
    NOT_TLS = "not TLS"
    LIMIT = "limit"


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    hello: th.ServerHello | None = None
    detail: str = ""
    alert: int | None = None

    @property
    def status(self) -> Status:
        """For a probe that told us nothing: TIMEOUT stays TIMEOUT, everything else is ERROR."""
        return Status.TIMEOUT if self.kind is Kind.TIMEOUT else Status.ERROR


def _suite_name(code: int) -> str:
    suite = by_code(code)
    return suite.name if suite is not None else f"0x{code:04X}"


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(writer.wait_closed(), 1.0)


class Prober:
    """Opens, sends one hello, reads the answer, closes — within the endpoint's connection budget."""

    def __init__(self, opener: Opener, timeout: float, concurrency: int, max_connections: int) -> None:
        self.opener = opener
        self.timeout = timeout
        self.max_connections = max(1, max_connections)
        self.connections = 0
        self.limit_reached = False
        self.answered = False
        """True once any probe got a TLS answer (a ServerHello or an alert)."""
        self._slots = asyncio.Semaphore(max(1, concurrency))

    async def probe(self, hello: bytes, *, want_key_exchange: bool = False) -> Outcome:
        async with self._slots:
            if self.connections >= self.max_connections:
                self.limit_reached = True
                return Outcome(Kind.LIMIT, detail=f"connection limit ({self.max_connections}) reached")
            self.connections += 1
            try:
                reader, writer = await asyncio.wait_for(self.opener(), self.timeout * OPEN_STEPS)
            except TimeoutError as exc:
                bound = self.timeout * OPEN_STEPS
                return Outcome(Kind.TIMEOUT, detail=str(exc) or f"no connection within {bound:g} s")
            except ProbeFailure as failure:
                kind = Kind.TIMEOUT if failure.status is Status.TIMEOUT else Kind.ERROR
                return Outcome(kind, detail=failure.detail)
            except ConnectionRefusedError:
                return Outcome(Kind.ERROR, detail="connection refused")
            except (OSError, EOFError) as exc:
                return Outcome(
                    Kind.ERROR, detail=getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
                )
            try:
                outcome = await self._exchange(reader, writer, hello, want_key_exchange)
            finally:
                await _close(writer)
            self.answered = self.answered or outcome.kind is Kind.HELLO or outcome.alert is not None
            return outcome

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, hello: bytes, want: bool
    ) -> Outcome:
        parser = th.HelloParser(want_key_exchange=want)
        answer: th.Answer | None = None
        try:
            async with asyncio.timeout(self.timeout):
                writer.write(hello)
                await writer.drain()
                while answer is None:
                    data = await reader.read(65536)
                    answer = parser.feed(data) if data else parser.close()
        except TimeoutError:
            return Outcome(Kind.TIMEOUT, detail=f"no answer to the ClientHello within {self.timeout:g} s")
        except (OSError, EOFError):
            answer = parser.close()  # a reset after an alert still leaves the alert
        return _judge(answer)


def _judge(answer: th.Answer) -> Outcome:
    if isinstance(answer, th.ServerHello):
        return Outcome(Kind.HELLO, hello=answer)
    if isinstance(answer, th.Alert):
        return Outcome(Kind.REFUSED, detail=f"alert {answer.name}", alert=answer.description)
    if isinstance(answer, th.Closed):
        return Outcome(Kind.REFUSED, detail="connection closed without an answer")
    if isinstance(answer, th.NotTls):
        return Outcome(Kind.NOT_TLS, detail=f"not a TLS answer: {answer.excerpt!r}")
    return Outcome(Kind.ERROR, detail=f"malformed answer: {answer.detail}")


@dataclass(frozen=True)
class Found:
    """An elimination's result: items in the order the server picked them; ``problem`` when it stopped
    before the server refused the rest."""

    items: tuple[int, ...]
    problem: Outcome | None = None
    note: str = ""
    """Why the rest may have been refused, when the server did not simply refuse them."""


Pick = Callable[[th.ServerHello], int | None]


async def eliminate(
    prober: Prober,
    items: Sequence[int],
    hello_for: Callable[[tuple[int, ...]], bytes],
    pick: Pick,
    *,
    found: Sequence[int] = (),
    want_key_exchange: bool = False,
) -> Found:
    """Offer ``items`` less those found, note the server's pick, repeat until it refuses the rest."""
    chosen = list(found)
    while remaining := tuple(item for item in items if item not in chosen):
        outcome = await prober.probe(hello_for(remaining), want_key_exchange=want_key_exchange)
        if outcome.kind is Kind.REFUSED:
            break
        if outcome.hello is None:
            return Found(tuple(chosen), outcome)
        item = pick(outcome.hello)
        if item is None:  # an answer at another version, or without the thing asked for: refused
            break
        if item not in remaining:  # RFC 8446 §4.1.3 / RFC 5246 §7.4.1.3 forbid it; stop, don't loop
            detail = f"the server chose 0x{item:04X}, which was not offered"
            return Found(tuple(chosen), Outcome(Kind.ERROR, detail=detail))
        chosen.append(item)
    return Found(tuple(chosen))


def _suite_pick(version: int) -> Pick:
    return lambda hello: hello.cipher_suite if hello.version == version else None


def _suite_hello(version: int, host: str) -> Callable[[tuple[int, ...]], bytes]:
    return lambda suites: th.client_hello(version, suites[: th.MAX_SUITES - 1], host)


@dataclass(frozen=True)
class Acceptance:
    """Whether a version is accepted; if so, the chunk where the first suite was chosen, that suite and
    (TLS 1.3) the key share group of that answer."""

    support: VersionSupport
    chunk: int = 0
    suite: int = 0
    group: int | None = None


async def version_acceptance(
    prober: Prober, version: int, host: str, first: Outcome | None = None
) -> Acceptance:
    name = th.VERSION_NAMES[version]
    refusal = "refused"
    for index, chunk in enumerate(th.suite_chunks(suites_for(version))):
        if first is not None and index == 0:
            outcome = first
        else:
            outcome = await prober.probe(th.client_hello(version, chunk, host))
        if outcome.hello is not None:
            return _accepted(version, index, chunk, outcome.hello)
        if outcome.kind is not Kind.REFUSED:
            return Acceptance(VersionSupport(name, outcome.status, detail=outcome.detail))
        refusal = outcome.detail
        if outcome.alert == 70:  # protocol_version: the version itself is refused, whatever the suites
            break
    return Acceptance(VersionSupport(name, Status.ABSENT, detail=refusal))


def _accepted(version: int, index: int, chunk: tuple[int, ...], hello: th.ServerHello) -> Acceptance:
    name = th.VERSION_NAMES[version]
    said = th.VERSION_NAMES.get(hello.version, f"0x{hello.version:04x}")
    if hello.version < version:  # the server went down to a version it prefers: this one is refused
        return Acceptance(VersionSupport(name, Status.ABSENT, detail=f"the server answered {said}"))
    if hello.version > version or hello.cipher_suite not in chunk:
        detail = f"the server answered {said} with suite 0x{hello.cipher_suite:04X}, which was not offered"
        return Acceptance(VersionSupport(name, Status.ERROR, detail=detail))
    return Acceptance(VersionSupport(name, Status.PRESENT), index, hello.cipher_suite, hello.group)


async def enumerate_suites(prober: Prober, version: int, host: str, acceptance: Acceptance) -> VersionSupport:
    """All suites accepted with ``version`` and the server's order, starting from the acceptance probe."""
    pick, hello_for = _suite_pick(version), _suite_hello(version, host)
    accepted: list[int] = []
    chunks_used = 0
    problem: Outcome | None = None
    for index, chunk in enumerate(th.suite_chunks(suites_for(version))[acceptance.chunk :]):
        found = await eliminate(
            prober, chunk, hello_for, pick, found=(acceptance.suite,) if index == 0 else ()
        )
        accepted.extend(found.items)
        chunks_used += bool(found.items)
        if found.problem is not None:
            problem = found.problem
            break
    server_order: bool | None = None
    if problem is None and len(accepted) >= 2:
        server_order, accepted, problem = await _server_order(
            prober, accepted, chunks_used > 1, pick, hello_for
        )
    detail = f"suite list incomplete: {problem.detail}" if problem is not None else ""
    return VersionSupport(
        th.VERSION_NAMES[version],
        Status.PRESENT,
        tuple(_suite_name(code) for code in accepted),
        server_order,
        detail,
    )


async def _server_order(
    prober: Prober,
    accepted: list[int],
    several_chunks: bool,
    pick: Pick,
    hello_for: Callable[[tuple[int, ...]], bytes],
) -> tuple[bool | None, list[int], Outcome | None]:
    """Offer the accepted suites reversed: the same first choice means the server's own order. Found in
    one chunk, the elimination's first pick is the pick from the accepted ones in our order; across
    chunks that has to be asked, and a server order has to be found again over the accepted ones."""
    top: int | None = accepted[0]
    if several_chunks:
        forward = await prober.probe(hello_for(tuple(accepted)))
        top = pick(forward.hello) if forward.hello is not None else None
        if top is None:
            return None, accepted, forward if forward.kind is not Kind.REFUSED else None
    backward = await prober.probe(hello_for(tuple(reversed(accepted))))
    last = pick(backward.hello) if backward.hello is not None else None
    if last is None:
        return None, accepted, backward if backward.kind is not Kind.REFUSED else None
    server_order = last == top
    if server_order and several_chunks and top is not None:
        found = await eliminate(prober, accepted, hello_for, pick, found=(top,))
        rest = [code for code in accepted if code not in found.items]
        return True, [*found.items, *rest], found.problem
    return server_order, accepted, None


async def scan_groups(prober: Prober, version: int, host: str, hint: int | None) -> tuple[GroupSupport, ...]:
    """Key exchange groups with ``version``, in the order the server picked them (its preference when it
    has one). ``hint`` is the group of the TLS 1.3 acceptance answer, proof that at least one works."""
    if version >= th.TLS13:
        candidates, found = th.TLS13_GROUPS, await _groups13(prober, host, hint)
    elif version > th.SSL3:
        candidates, found = th.EC_CURVES, await _curves(prober, version, host)
    else:
        return ()  # no extensions in SSLv3, so no way to name a group
    missing = Status.ABSENT if found.problem is None else found.problem.status
    why = found.note if found.problem is None else found.problem.detail
    return (
        *(GroupSupport(th.GROUP_NAMES[code], Status.PRESENT) for code in found.items),
        *(GroupSupport(th.GROUP_NAMES[code], missing, why) for code in candidates if code not in found.items),
    )


async def _groups13(prober: Prober, host: str, hint: int | None) -> Found:
    suites = suites_for(th.TLS13)

    def hello_for(groups: tuple[int, ...]) -> bytes:
        return th.client_hello(th.TLS13, suites, host, groups=groups, key_shares=())

    def pick(hello: th.ServerHello) -> int | None:
        return hello.group if hello.version == th.TLS13 else None

    found = await eliminate(prober, th.TLS13_GROUPS, hello_for, pick)
    if not found.items and found.problem is None and hint is not None:
        return await _one_group_at_a_time(prober, th.TLS13_GROUPS, suites, host)
    return found


async def _curves(prober: Prober, version: int, host: str) -> Found:
    """ECDHE curves before TLS 1.3, read off the ServerKeyExchange. Here supported_groups also bounds the
    curve of an ECDSA certificate (RFC 8422 §5.1), so once the certificate's curve is known it stays in
    every list, last; a server preferring it to the rest hides whether it would take them."""
    ecdhe = tuple(code for code in suites_for(version) if _kex(code) == "ECDHE")[: th.MAX_SUITES - 1]
    found: list[int] = []
    anchor: int | None = None
    while remaining := tuple(code for code in th.EC_CURVES if code not in found):
        offer = remaining if anchor is None or anchor in remaining else (*remaining, anchor)
        outcome = await prober.probe(
            th.client_hello(version, ecdhe, host, groups=offer), want_key_exchange=True
        )
        if outcome.hello is None:
            return Found(tuple(found), None if outcome.kind is Kind.REFUSED else outcome)
        curve = outcome.hello.group if outcome.hello.version == version else None
        if curve is None:
            break
        if curve == anchor and anchor in found:
            note = f"not chosen over {th.GROUP_NAMES[anchor]}, the curve of the server's certificate"
            return Found(tuple(found), note=note)
        if curve not in remaining:
            return Found(
                tuple(found), Outcome(Kind.ERROR, detail=f"the server chose 0x{curve:04X}, not offered")
            )
        found.append(curve)
        anchor = anchor if anchor is not None else _certificate_curve(outcome.hello.certificate)
    return Found(tuple(found))


def _certificate_curve(der: bytes) -> int | None:
    try:
        key = x509.load_der_x509_certificate(der).public_key()
    except ValueError:
        return None
    return th.GROUP_CODES.get(key.curve.name) if isinstance(key, ec.EllipticCurvePublicKey) else None


def _kex(code: int) -> str:
    suite = by_code(code)
    return suite.kex if suite is not None else ""


async def _one_group_at_a_time(
    prober: Prober, candidates: Sequence[int], suites: tuple[int, ...], host: str
) -> Found:
    """For servers that refuse an empty key_share: each group alone, with our key share if we have one
    (a HelloRetryRequest for that group still says it is accepted)."""
    accepted: list[int] = []
    for group in candidates:
        hello = th.client_hello(th.TLS13, suites, host, groups=(group,), key_shares=(group,))
        outcome = await prober.probe(hello)
        if outcome.hello is not None and outcome.hello.group == group:
            accepted.append(group)
        elif outcome.kind not in (Kind.REFUSED, Kind.HELLO):
            return Found(tuple(accepted), outcome)
    return Found(tuple(accepted))


async def scan_tls(
    request: TlsScanRequest,
    open_connection: Opener,
    *,
    timeout: float = 5.0,
    concurrency: int = 2,
    max_connections: int = 80,
) -> TlsScan:
    """Map the TLS configuration of ``request``'s endpoint; never raises for anything the server does."""
    prober = Prober(open_connection, timeout, concurrency, max_connections)
    host = request.host
    first = await prober.probe(th.client_hello(th.TLS12, th.suite_chunks(suites_for(th.TLS12))[0], host))
    if first.kind not in (Kind.HELLO, Kind.REFUSED):
        return TlsScan(request, first.status, detail=first.detail, connections=prober.connections)
    order = (th.SSL3, th.TLS10, th.TLS11, th.TLS12, th.TLS13)
    acceptances = await asyncio.gather(
        *(version_acceptance(prober, v, host, first if v == th.TLS12 else None) for v in order)
    )
    if not prober.answered:
        detail = f"no ClientHello got a TLS answer ({acceptances[-1].support.detail})"
        return TlsScan(request, Status.ERROR, detail=detail, connections=prober.connections)
    accepted = [(v, a) for v, a in zip(order, acceptances, strict=True) if a.support.status is Status.PRESENT]
    found: dict[int, VersionSupport] = {}
    groups: tuple[GroupSupport, ...] = ()
    if accepted:
        highest, top = accepted[-1]
        supports, groups = await asyncio.gather(
            asyncio.gather(*(enumerate_suites(prober, v, host, a) for v, a in accepted)),
            scan_groups(prober, highest, host, top.group),
        )
        found = dict(zip((v for v, _ in accepted), supports, strict=True))
    versions = tuple(found.get(v, a.support) for v, a in zip(order, acceptances, strict=True))
    detail = ""
    if prober.limit_reached:
        detail = f"stopped at {prober.max_connections} connections (the limit): results are incomplete"
    return TlsScan(request, Status.PRESENT, versions, groups, detail, prober.connections)

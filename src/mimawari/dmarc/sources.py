"""The sender inventory: who sends mail with a domain in From, grouped by sending organisation, each with a
verdict and, where it fails, how to fix it.

Each stored aggregate row (one source address, one day, one combination of results) is put with an
organisation, first match wins:

1. the reverse DNS name of the address is under a known sender (``senders.py``: Google, SendGrid …);
2. the reverse name is under the domain's own organisational domain (the domain's own servers);
3. a *passing* DKIM d= or a *passing* SPF domain is under a known sender (a failing one proves nothing:
   anyone can write ``d=sendgrid.net``);
4. the organisational domain of the reverse name (a network nobody listed);
5. the address itself.

The verdict of an organisation looks at all its mail in the window (thresholds below):

* **forwarder**: a known forwarder, or mail whose own DKIM signature passes aligned while SPF does not
  (a mailing list or a forwarding service relays it from its own addresses);
* **aligned**: DMARC passes (aligned DKIM or aligned SPF) for nearly all its mail;
* **misaligned**: an authorised sender (a known sender, the domain's own servers, or one whose mail often
  passes DMARC) whose mail fails DMARC: it authenticates, but for another domain (``d=sendgrid.net``);
* **spoofing**: next to nothing authenticates, for any domain, from a source nobody vouches for;
* **unknown**: fails DMARC and is not explained (authenticates for an unrelated domain, or is a shared
  platform where nothing authenticates).

Reverse DNS is only a hint (whoever holds an address writes its PTR), so it decides grouping, and, for
the domain's own servers, that failing mail counts as legitimate: the readiness verdict then errs towards
"not yet", never towards rejecting real mail.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from mimawari.dmarc.senders import (
    FORWARDER_FIX,
    GENERIC_FIX,
    STRICT_FIX,
    KnownSender,
    SenderMap,
    known_senders,
)
from mimawari.errors import InputError
from mimawari.model import Text
from mimawari.parse.names import normalize_domain, organizational_domain

if TYPE_CHECKING:
    from mimawari.store import Store

ALIGNED_SHARE = 0.98
"""A source is aligned when DMARC passes for at least this share of its mail ("nearly all": a few
messages of a big sender fail for reasons of their own, a broken signature, a retried delivery)."""
FORWARDER_DKIM_SHARE = 0.5
"""A forwarder's mail carries the domain's own DKIM signature, passing, at least this often (mailing
lists that add footers break the rest)."""
FORWARDER_SPF_SHARE = 0.1
"""…and passes aligned SPF at most this often (it sends from its own addresses, not the domain's)."""
AUTHORISED_SHARE = 0.5
"""A source nobody listed whose mail passes DMARC at least this often holds the domain's DKIM key or is
in its SPF record: authorised, so its failing mail is a misconfiguration, not an attack."""
SPOOFING_AUTH_SHARE = 0.1
"""A source whose mail authenticates (DKIM or SPF pass, for any domain) at most this often is spoofing."""


class SourceVerdict(StrEnum):
    ALIGNED = "aligned"
    MISALIGNED = "misaligned"
    FORWARDER = "forwarder"
    UNKNOWN = "unknown"
    SPOOFING = "spoofing"

    @property
    def legitimate(self) -> bool:
        """Mail the domain owner wants delivered: what tightening the policy must not break."""
        return self in (SourceVerdict.ALIGNED, SourceVerdict.MISALIGNED, SourceVerdict.FORWARDER)


class SourceKind(StrEnum):
    OWN = "own"
    """Reverse DNS under the domain's own organisational domain."""
    MAILBOX_PROVIDER = "mailbox-provider"
    ESP = "esp"
    SAAS = "saas"
    FORWARDER = "forwarder"
    NETWORK = "network"
    """Reverse DNS under a domain the known-sender map does not list: named by that base domain."""
    ADDRESS = "address"
    """No reverse name and nothing else to go by: named by the address."""


class AggregateRow(NamedTuple):
    """One row of ``DmarcLedger.rows``, with its day and times normalised across database backends."""

    day: date
    source_ip: str
    header_from: str
    disposition: str
    dkim: str
    spf: str
    dkim_domain: str
    dkim_selector: str
    dkim_result: str
    spf_domain: str
    spf_result: str
    messages: int
    first: datetime
    last: datetime

    @property
    def dmarc_pass(self) -> bool:
        """RFC 7489 §3: DMARC passes when aligned DKIM or aligned SPF passes."""
        return self.dkim == "pass" or self.spf == "pass"

    @property
    def authenticated(self) -> bool:
        """Some authentication passed, for any domain."""
        return self.dmarc_pass or self.dkim_result == "pass" or self.spf_result == "pass"


@dataclass(frozen=True)
class Source:
    """One sending organisation's mail with the domain in From, over the window."""

    name: str
    """The known sender's name, the own or reverse-DNS base domain, or the address."""
    kind: SourceKind
    verdict: SourceVerdict
    messages: int
    dmarc_pass: int
    dkim_aligned: int
    """Messages whose DKIM passed aligned with From."""
    spf_aligned: int
    dkim_pass: int
    """Messages with a passing DKIM signature for any domain."""
    spf_pass: int
    dmarc_pass_rate: float
    ips: tuple[str, ...]
    """Most messages first."""
    reverse_names: tuple[str, ...]
    dkim_domains: tuple[str, ...]
    dkim_selectors: tuple[str, ...]
    spf_domains: tuple[str, ...]
    header_from: tuple[str, ...]
    first_seen: datetime
    """Begin of the earliest report period that named it (reports give periods, not message times)."""
    last_seen: datetime
    """End of the latest report period that named it."""
    reason: Text
    fix: Text | None = None
    docs: str = ""
    """The known sender's documentation the fix comes from."""

    @property
    def dmarc_fail(self) -> int:
        return self.messages - self.dmarc_pass


# --- reading the window --------------------------------------------------------------------------------


def window_start(days: int, now: datetime) -> datetime:
    """The start of the last ``days`` days before ``now``."""
    if days < 1:
        raise InputError(f"the window must be at least 1 day, not {days}")
    if now.tzinfo is None:
        raise InputError("the time 'now' must carry a time zone (use UTC)")
    return now - timedelta(days=days)


def _day(value: Any) -> date:
    # SQLite's date() gives text, PostgreSQL's a date.
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _row(values: tuple[Any, ...]) -> AggregateRow:
    ip, header_from, disposition, dkim, spf, dkim_domain, selector, dkim_result, spf_domain, spf_result = (
        str(value or "") for value in values[1:11]
    )
    return AggregateRow(
        _day(values[0]),
        ip,
        header_from.lower(),
        disposition.lower(),
        dkim.lower(),
        spf.lower(),
        dkim_domain.lower(),
        selector,
        dkim_result.lower(),
        spf_domain.lower(),
        spf_result.lower(),
        int(values[11]),
        _aware(values[12]),
        _aware(values[13]),
    )


def window_rows(store: Store, domain: str, days: int, now: datetime) -> tuple[str, list[AggregateRow]]:
    """The domain (normalised) and its aggregate rows in reports ending in the window."""
    name = normalize_domain(domain)
    since = window_start(days, now)
    return name, [_row(values) for values in store.dmarc.rows(name, since)]


def source_ips(store: Store, domain: str, days: int, now: datetime) -> tuple[str, ...]:
    """The addresses the window's reports name, most messages first: what the reverse DNS stage asks."""
    _name, rows = window_rows(store, domain, days, now)
    counts: Counter[str] = Counter()
    for row in rows:
        counts[row.source_ip] += row.messages
    return tuple(ip for ip, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])))


# --- grouping and verdicts -------------------------------------------------------------------------------


@dataclass
class _Tally:
    kind: SourceKind
    known: KnownSender | None
    first: datetime
    last: datetime
    messages: int = 0
    dmarc_pass: int = 0
    dkim_aligned: int = 0
    spf_aligned: int = 0
    dkim_pass: int = 0
    spf_pass: int = 0
    authenticated: int = 0
    own_auth: int = 0
    """Failing mail that authenticates for a domain under the domain's own (strict alignment)."""
    ips: Counter[str] = field(default_factory=Counter)
    reverse_names: Counter[str] = field(default_factory=Counter)
    dkim_domains: Counter[str] = field(default_factory=Counter)
    dkim_selectors: Counter[str] = field(default_factory=Counter)
    spf_domains: Counter[str] = field(default_factory=Counter)
    header_from: Counter[str] = field(default_factory=Counter)

    def add(self, row: AggregateRow, ptr: str | None, own: str) -> None:
        n = row.messages
        self.messages += n
        self.dmarc_pass += n * row.dmarc_pass
        self.dkim_aligned += n * (row.dkim == "pass")
        self.spf_aligned += n * (row.spf == "pass")
        self.dkim_pass += n * (row.dkim_result == "pass")
        self.spf_pass += n * (row.spf_result == "pass")
        self.authenticated += n * row.authenticated
        if not row.dmarc_pass and _passes_under(row, own):
            self.own_auth += n
        self.first, self.last = min(self.first, row.first), max(self.last, row.last)
        for counter, value in (
            (self.ips, row.source_ip),
            (self.reverse_names, ptr or ""),
            (self.dkim_domains, row.dkim_domain),
            (self.dkim_selectors, row.dkim_selector),
            (self.spf_domains, row.spf_domain),
            (self.header_from, row.header_from),
        ):
            if value:
                counter[value] += n


def _passes_under(row: AggregateRow, own: str) -> bool:
    return (row.dkim_result == "pass" and _under(row.dkim_domain, own)) or (
        row.spf_result == "pass" and _under(row.spf_domain, own)
    )


@lru_cache(maxsize=65536)
def _under(name: str, own: str) -> bool:
    # Cached: a month of reports repeats the same few names over thousands of rows.
    return bool(name) and organizational_domain(name.lower()) == own


def _organisation(
    row: AggregateRow, ptr: str | None, own: str, senders: SenderMap
) -> tuple[str, SourceKind, KnownSender | None]:
    if ptr and (known := senders.match(ptr)):
        return known.name, SourceKind(known.kind.value), known
    if ptr and _under(ptr, own):
        return own, SourceKind.OWN, None
    for name, result in ((row.dkim_domain, row.dkim_result), (row.spf_domain, row.spf_result)):
        if result == "pass" and not _under(name, own) and (known := senders.match(name)):
            return known.name, SourceKind(known.kind.value), known
    if ptr:
        return organizational_domain(ptr), SourceKind.NETWORK, None
    if row.spf_result == "pass" and _under(row.spf_domain, own):
        return own, SourceKind.OWN, None  # the domain's own SPF record authorises the address
    return row.source_ip, SourceKind.ADDRESS, None


def _verdict(t: _Tally) -> SourceVerdict:
    m = t.messages
    if t.kind is SourceKind.FORWARDER:
        return SourceVerdict.FORWARDER
    if (
        t.known is None
        and t.kind is not SourceKind.OWN
        and t.dkim_aligned >= FORWARDER_DKIM_SHARE * m
        and t.spf_aligned <= FORWARDER_SPF_SHARE * m
    ):
        return SourceVerdict.FORWARDER
    if t.dmarc_pass >= ALIGNED_SHARE * m:
        return SourceVerdict.ALIGNED
    if t.known is not None and t.authenticated <= SPOOFING_AUTH_SHARE * m:
        # A shared platform where nothing authenticates: anyone's account there could be sending.
        return SourceVerdict.UNKNOWN
    if t.known is not None or t.kind is SourceKind.OWN or t.dmarc_pass >= AUTHORISED_SHARE * m or t.own_auth:
        return SourceVerdict.MISALIGNED
    if t.authenticated <= SPOOFING_AUTH_SHARE * m:
        return SourceVerdict.SPOOFING
    return SourceVerdict.UNKNOWN


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}" if whole else "0.0"


def _reason(t: _Tally, verdict: SourceVerdict, domain: str) -> Text:
    rate = _percent(t.dmarc_pass, t.messages)
    if verdict is SourceVerdict.ALIGNED:
        return Text(
            en=f"DMARC passes for {rate}% of its mail (aligned DKIM or SPF for {domain}).",
            ja=f"メールの {rate}% が DMARC に合格しています（{domain} にアラインメントした DKIM または SPF）。",
        )
    if verdict is SourceVerdict.FORWARDER:
        dkim = _percent(t.dkim_aligned, t.messages)
        return Text(
            en=f"Relays mail it received: your DKIM signature passes for {dkim}% of it while SPF does not "
            "align (it sends from its own addresses). If this is your own server, add it to SPF.",
            ja=f"受け取ったメールを中継しています。{dkim}% はあなたの DKIM 署名が有効ですが、SPF はアラインメントしません"
            "（自社のアドレスから送信しているため）。自社のサーバーなら SPF に追加してください。",
        )
    others = ", ".join(_ranked(t.dkim_domains) or _ranked(t.spf_domains)) or "-"
    if verdict is SourceVerdict.MISALIGNED:
        return Text(
            en=f"An authorised sender, but DMARC fails for {_percent(t.messages - t.dmarc_pass, t.messages)}%"
            f" of its mail: it authenticates for {others}, not aligned with {domain}.",
            ja=f"正規の送信元ですが、メールの {_percent(t.messages - t.dmarc_pass, t.messages)}% が DMARC に"
            f"不合格です。認証は {others} で行われ、{domain} にアラインメントしていません。",
        )
    if verdict is SourceVerdict.SPOOFING:
        return Text(
            en=f"Nothing authenticates for {domain} or any other domain: mail in your name from a source "
            "you have not authorised.",
            ja=f"{domain} でも他のドメインでも認証に合格していません。許可していない送信元からのなりすましメールです。",
        )
    return Text(
        en=f"Fails DMARC ({rate}% pass) and is not explained: it authenticates only for {others}. Find out "
        "who sends this; if it is yours, align it, otherwise it is abuse.",
        ja=f"DMARC に不合格（合格 {rate}%）で、理由が分かりません。認証は {others} のみです。送信者を確認し、"
        "自社のものならアラインメントさせ、そうでなければ不正利用です。",
    )


def _fix(t: _Tally, verdict: SourceVerdict, domain: str) -> Text | None:
    if verdict is SourceVerdict.MISALIGNED:
        if t.known is not None:
            return t.known.fix
        return (STRICT_FIX if t.own_auth else GENERIC_FIX).format(domain=domain)
    if verdict is SourceVerdict.FORWARDER:
        return t.known.fix if t.known is not None else FORWARDER_FIX.format(domain=domain)
    if verdict is SourceVerdict.UNKNOWN and t.known is not None:
        return Text(en=f"If this mail is yours: {t.known.fix.en}", ja=f"自社のメールなら: {t.known.fix.ja}")
    return None


def _ranked(counter: Counter[str]) -> tuple[str, ...]:
    return tuple(value for value, _ in sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def inventory(
    rows: Iterable[AggregateRow],
    domain: str,
    reverse: Mapping[str, str | None] | None = None,
    senders: SenderMap | None = None,
) -> tuple[Source, ...]:
    """The sources of ``rows`` with their verdicts, most messages first (no I/O)."""
    senders = senders or known_senders()
    own = organizational_domain(domain)
    tallies: dict[str, _Tally] = {}
    for row in rows:
        ptr = (reverse or {}).get(row.source_ip)
        ptr = ptr.rstrip(".").lower() if ptr else None
        name, kind, known = _organisation(row, ptr, own, senders)
        tally = tallies.get(name)
        if tally is None:
            tally = tallies[name] = _Tally(kind, known, row.first, row.last)
        tally.add(row, ptr, own)
    result = []
    for name, t in tallies.items():
        verdict = _verdict(t)
        result.append(
            Source(
                name=name,
                kind=t.kind,
                verdict=verdict,
                messages=t.messages,
                dmarc_pass=t.dmarc_pass,
                dkim_aligned=t.dkim_aligned,
                spf_aligned=t.spf_aligned,
                dkim_pass=t.dkim_pass,
                spf_pass=t.spf_pass,
                dmarc_pass_rate=t.dmarc_pass / t.messages if t.messages else 0.0,
                ips=_ranked(t.ips),
                reverse_names=_ranked(t.reverse_names),
                dkim_domains=_ranked(t.dkim_domains),
                dkim_selectors=_ranked(t.dkim_selectors),
                spf_domains=_ranked(t.spf_domains),
                header_from=_ranked(t.header_from),
                first_seen=t.first,
                last_seen=t.last,
                reason=_reason(t, verdict, domain),
                fix=_fix(t, verdict, domain),
                docs=t.known.docs if t.known is not None else "",
            )
        )
    return tuple(sorted(result, key=lambda s: (-s.messages, s.name)))


def sources(
    store: Store,
    domain: str,
    days: int,
    now: datetime,
    reverse: Mapping[str, str | None] | None = None,
    *,
    senders: SenderMap | None = None,
) -> tuple[Source, ...]:
    """The sending organisations of ``domain``'s mail in the last ``days`` days before ``now``.

    ``reverse`` maps source addresses to their PTR names (``observe.rdns.reverse_names`` and
    ``ptr_names``); None when reverse DNS is off. ``senders`` replaces the bundled known-sender map.
    """
    name, rows = window_rows(store, domain, days, now)
    return inventory(rows, name, reverse, senders)

"""The sender inventory on a synthetic month of aggregate reports whose truth is known, stored through the
ledger, with and without reverse DNS (also from the lab's PTR records), and the verdict rules on
hand-made rows at their thresholds.

The corpus (``fill``), 30 daily reports from one reporter and 7 from a second, for kuroneko.example:

* own servers 192.0.2.10 (100 + 10 a day) and 192.0.2.11 (50 a day): DKIM and SPF aligned;
* SendGrid 149.72.10.1, 20 a day, signing d=sendgrid.net (misaligned) or, with ``sendgrid_aligned``,
  d=kuroneko.example;
* a mailing list 198.51.100.7, 10 a day with the domain's DKIM intact and SPF for the list's domain, and
  one more on days 0, 10 and 20 whose signature the list broke;
* a spoofer rotating over 203.0.113.1–3, 5 a day, nothing authenticates (quarantined by local policy
  when from .1);
* an unknown sender 198.51.100.50, 2 a day on days 10–19, DKIM and SPF passing for unrelated.example
  (rejected by local policy).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from mimawari.dmarc.model import AggregateHeader, AggregateRecord, DkimResult, PublishedPolicy, SpfResult
from mimawari.dmarc.senders import GENERIC_FIX, STRICT_FIX, known_senders, load_senders
from mimawari.dmarc.sources import (
    AggregateRow,
    Source,
    SourceKind,
    SourceVerdict,
    inventory,
    source_ips,
    sources,
)
from mimawari.errors import InputError, InvalidDomainError
from mimawari.lab import DnsLab, zones_from_yaml
from mimawari.model import Text
from mimawari.observe import DnsClient
from mimawari.observe.rdns import ptr_names, reverse_names
from mimawari.store import Store, open_store

DOMAIN = "kuroneko.example"
NOW = datetime(2026, 11, 1, tzinfo=UTC)
START = NOW - timedelta(days=30)
LAST = NOW - timedelta(seconds=1)
"""End of the last report's period."""
POLICY = PublishedPolicy(DOMAIN, p="none", sp="none", adkim="r", aspf="r", pct=100, fo="0")
OWN_DKIM = (DkimResult(DOMAIN, "pass", "k1"),)
REVERSE = {
    "192.0.2.10": "mail1.kuroneko.example",
    "192.0.2.11": "mail2.kuroneko.example.",
    "149.72.10.1": "o1.ptr1234.sendgrid.net",
    "198.51.100.7": "mail.lists.example.org",
    "203.0.113.1": None,
}


def record(
    ip: str,
    count: int,
    dkim: str = "fail",
    spf: str = "fail",
    dkim_results: tuple[DkimResult, ...] = (),
    spf_results: tuple[SpfResult, ...] = (),
    disposition: str = "none",
) -> AggregateRecord:
    return AggregateRecord(
        ip, count, disposition, dkim, spf, DOMAIN, dkim_results=dkim_results, spf_results=spf_results
    )


def day_records(day: int, *, sendgrid_aligned: bool) -> Iterator[AggregateRecord]:
    own_spf = (SpfResult(DOMAIN, "pass", "mfrom"),)
    yield record("192.0.2.10", 100, "pass", "pass", OWN_DKIM, own_spf)
    yield record("192.0.2.11", 50, "pass", "pass", OWN_DKIM, own_spf)
    sendgrid_spf = (SpfResult("bounces.sendgrid.net", "pass", "mfrom"),)
    if sendgrid_aligned:
        yield record("149.72.10.1", 20, "pass", "fail", (DkimResult(DOMAIN, "pass", "s1"),), sendgrid_spf)
    else:
        yield record(
            "149.72.10.1", 20, "fail", "fail", (DkimResult("sendgrid.net", "pass", "smtpapi"),), sendgrid_spf
        )
    list_spf = (SpfResult("lists.example.org", "pass", "mfrom"),)
    yield record("198.51.100.7", 10, "pass", "fail", OWN_DKIM, list_spf)
    if day % 10 == 0:
        yield record("198.51.100.7", 1, "fail", "fail", (DkimResult(DOMAIN, "fail", "k1"),), list_spf)
    spoofer = f"203.0.113.{1 + day % 3}"
    disposition = "quarantine" if spoofer.endswith(".1") else "none"
    yield record(spoofer, 5, spf_results=(SpfResult(DOMAIN, "fail", "mfrom"),), disposition=disposition)
    if 10 <= day < 20:
        unrelated = (
            (DkimResult("unrelated.example", "pass", "x"),),
            (SpfResult("unrelated.example", "pass"),),
        )
        yield record("198.51.100.50", 2, "fail", "fail", *unrelated, disposition="reject")


def header(reporter: str, day: int, policy: PublishedPolicy) -> AggregateHeader:
    begin = START + timedelta(days=day)
    return AggregateHeader(
        "1.0",
        reporter,
        f"dmarc@{reporter}",
        f"{reporter}-{day}",
        begin,
        begin + timedelta(days=1, seconds=-1),
        policy,
    )


def fill(
    store: Store,
    *,
    days: Iterable[int] = range(30),
    sendgrid_aligned: bool = False,
    policy: PublishedPolicy = POLICY,
) -> None:
    for day in days:
        store.dmarc.add_aggregate(
            header("google.com", day, policy), day_records(day, sendgrid_aligned=sendgrid_aligned), "test"
        )
        if day < 7:
            yahoo = [record("192.0.2.10", 10, "pass", "pass", OWN_DKIM, (SpfResult(DOMAIN, "pass"),))]
            store.dmarc.add_aggregate(header("Yahoo", day, policy), yahoo, "test")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        fill(opened)
        yield opened


def by_name(found: Iterable[Source]) -> dict[str, Source]:
    return {s.name: s for s in found}


def test_sources_with_reverse_dns(store: Store) -> None:
    found = sources(store, DOMAIN, 30, NOW, REVERSE)
    summary = [(s.name, s.kind, s.verdict, s.messages, s.dmarc_pass) for s in found]
    assert summary == [
        ("kuroneko.example", SourceKind.OWN, SourceVerdict.ALIGNED, 4570, 4570),
        ("SendGrid", SourceKind.ESP, SourceVerdict.MISALIGNED, 600, 0),
        ("example.org", SourceKind.NETWORK, SourceVerdict.FORWARDER, 303, 300),
        ("203.0.113.1", SourceKind.ADDRESS, SourceVerdict.SPOOFING, 50, 0),
        ("203.0.113.2", SourceKind.ADDRESS, SourceVerdict.SPOOFING, 50, 0),
        ("203.0.113.3", SourceKind.ADDRESS, SourceVerdict.SPOOFING, 50, 0),
        ("198.51.100.50", SourceKind.ADDRESS, SourceVerdict.UNKNOWN, 20, 0),
    ]
    own, sendgrid, forwarder, spoof1, spoof2, spoof3, unknown = found
    assert own.ips == ("192.0.2.10", "192.0.2.11")
    assert own.reverse_names == ("mail1.kuroneko.example", "mail2.kuroneko.example")
    assert (own.dkim_aligned, own.spf_aligned, own.dmarc_pass_rate) == (4570, 4570, 1.0)
    assert own.dkim_domains == (DOMAIN,)
    assert own.dkim_selectors == ("k1",)
    assert (own.first_seen, own.last_seen) == (START, LAST)
    assert own.fix is None

    assert sendgrid.dkim_domains == ("sendgrid.net",)
    assert sendgrid.dkim_selectors == ("smtpapi",)
    assert sendgrid.spf_domains == ("bounces.sendgrid.net",)
    assert (sendgrid.dkim_pass, sendgrid.spf_pass, sendgrid.dkim_aligned) == (600, 600, 0)
    sendgrid_entry = known_senders().match("sendgrid.net")
    assert sendgrid_entry is not None
    assert sendgrid.fix == sendgrid_entry.fix
    assert "Domain Authentication" in sendgrid.fix.en
    assert "sendgrid.net" in sendgrid.reason.en
    assert sendgrid.docs.startswith("https://")

    assert (forwarder.dkim_aligned, forwarder.spf_aligned, forwarder.spf_pass) == (300, 0, 303)
    assert forwarder.reverse_names == ("mail.lists.example.org",)
    assert forwarder.fix is not None
    assert "DKIM" in forwarder.fix.en
    assert "DKIM" in forwarder.fix.ja

    # The spoofer rotates: .1 on days 0, 3 … 27, .2 on days 1 … 28, .3 on days 2 … 29.
    assert (spoof1.first_seen, spoof1.last_seen) == (START, LAST - timedelta(days=2))
    assert (spoof2.first_seen, spoof2.last_seen) == (START + timedelta(days=1), LAST - timedelta(days=1))
    assert (spoof3.first_seen, spoof3.last_seen) == (START + timedelta(days=2), LAST)
    assert spoof1.fix is None
    assert (unknown.first_seen, unknown.last_seen) == (START + timedelta(days=10), LAST - timedelta(days=10))
    assert unknown.dkim_domains == ("unrelated.example",)
    assert "unrelated.example" in unknown.reason.en
    assert "unrelated.example" in unknown.reason.ja
    assert unknown.fix is None


def test_sources_without_reverse_dns_fall_back_to_addresses_and_signatures(store: Store) -> None:
    found = by_name(sources(store, DOMAIN, 30, NOW))
    verdicts = {name: (s.kind, s.verdict, s.messages) for name, s in found.items()}
    assert verdicts == {
        # The domain's own SPF passes for its two servers: one source, the domain's own.
        DOMAIN: (SourceKind.OWN, SourceVerdict.ALIGNED, 4570),
        "SendGrid": (SourceKind.ESP, SourceVerdict.MISALIGNED, 600),  # from the passing d=sendgrid.net
        "198.51.100.7": (SourceKind.ADDRESS, SourceVerdict.FORWARDER, 303),
        "203.0.113.1": (SourceKind.ADDRESS, SourceVerdict.SPOOFING, 50),
        "203.0.113.2": (SourceKind.ADDRESS, SourceVerdict.SPOOFING, 50),
        "203.0.113.3": (SourceKind.ADDRESS, SourceVerdict.SPOOFING, 50),
        "198.51.100.50": (SourceKind.ADDRESS, SourceVerdict.UNKNOWN, 20),
    }


def test_sendgrid_with_domain_authentication_is_aligned(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        fill(store, sendgrid_aligned=True)
        sendgrid = by_name(sources(store, DOMAIN, 30, NOW))["SendGrid"]
    assert (sendgrid.verdict, sendgrid.dkim_domains, sendgrid.fix) == (SourceVerdict.ALIGNED, (DOMAIN,), None)


def test_window_and_input_errors(store: Store) -> None:
    # The last 5 days: reports whose period ends at or after 2026-10-27 00:00 (days 25 … 29).
    found = by_name(sources(store, DOMAIN, 5, NOW, REVERSE))
    assert found["kuroneko.example"].messages == 5 * 150
    assert "198.51.100.50" not in found
    assert source_ips(store, DOMAIN, 30, NOW)[:3] == ("192.0.2.10", "192.0.2.11", "149.72.10.1")
    assert sources(store, "other.example", 30, NOW) == ()
    assert sources(store, "KURONEKO.example.", 30, NOW) == sources(store, DOMAIN, 30, NOW)
    with pytest.raises(InputError, match="at least 1 day"):
        sources(store, DOMAIN, 0, NOW)
    with pytest.raises(InputError, match="time zone"):
        sources(store, DOMAIN, 30, NOW.replace(tzinfo=None))
    with pytest.raises(InvalidDomainError):
        sources(store, "not a domain", 30, NOW)


REVERSE_LAB = """
zones:
  2.0.192.in-addr.arpa:
    records:
      "10": {PTR: mail1.kuroneko.example.}
      "11": {PTR: mail2.kuroneko.example.}
  10.72.149.in-addr.arpa:
    records:
      "1": {PTR: o1.ptr1234.sendgrid.net.}
  100.51.198.in-addr.arpa:
    records:
      "7": {PTR: mail.lists.example.org.}
"""


async def test_sources_from_the_reverse_dns_stage(store: Store) -> None:
    async with DnsLab(zones_from_yaml(REVERSE_LAB)) as lab:
        found = await reverse_names(
            source_ips(store, DOMAIN, 30, NOW), DnsClient([lab.nameserver], timeout=1.0)
        )
    names = ptr_names(found)
    assert names["192.0.2.10"] == "mail1.kuroneko.example"
    assert names["203.0.113.1"] is None  # REFUSED: the lab serves no such zone
    assert sources(store, DOMAIN, 30, NOW, names) == sources(store, DOMAIN, 30, NOW, REVERSE)


# --- the verdict rules on hand-made rows -----------------------------------------------------------------


def row(
    ip: str,
    messages: int,
    *,
    dkim: str = "fail",
    spf: str = "fail",
    dkim_domain: str = "",
    dkim_result: str = "",
    spf_domain: str = "",
    spf_result: str = "",
) -> AggregateRow:
    first = datetime(2026, 10, 1, tzinfo=UTC)
    return AggregateRow(
        date(2026, 10, 1),
        ip,
        DOMAIN,
        "none",
        dkim,
        spf,
        dkim_domain,
        "s",
        dkim_result,
        spf_domain,
        spf_result,
        messages,
        first,
        first + timedelta(days=1),
    )


def verdict(
    rows: list[AggregateRow], reverse: Mapping[str, str | None] | None = None
) -> tuple[str, SourceKind, SourceVerdict, Text | None]:
    (found,) = inventory(rows, DOMAIN, reverse)
    return found.name, found.kind, found.verdict, found.fix


def test_aligned_share_threshold() -> None:
    passing = {
        "dkim": "pass",
        "dkim_domain": DOMAIN,
        "dkim_result": "pass",
        "spf_domain": DOMAIN,
        "spf_result": "pass",
        "spf": "pass",
    }
    isp = {"192.0.2.20": "host.isp.example"}
    nearly_all = [
        row("192.0.2.20", 98, **passing),
        row("192.0.2.20", 2, spf_domain=DOMAIN, spf_result="fail"),
    ]
    assert verdict(nearly_all, isp)[2] is SourceVerdict.ALIGNED
    most = [row("192.0.2.20", 97, **passing), row("192.0.2.20", 3, spf_domain=DOMAIN, spf_result="fail")]
    # Passing DMARC this often proves it holds the key: authorised, with the generic fix for the rest.
    assert verdict(most, isp) == (
        "isp.example",
        SourceKind.NETWORK,
        SourceVerdict.MISALIGNED,
        GENERIC_FIX.format(domain=DOMAIN),
    )


def test_strict_alignment_failure_is_misaligned_with_its_fix() -> None:
    rows = [row("192.0.2.30", 10, dkim_domain=f"mail.{DOMAIN}", dkim_result="pass")]
    assert verdict(rows) == (
        "192.0.2.30",
        SourceKind.ADDRESS,
        SourceVerdict.MISALIGNED,
        STRICT_FIX.format(domain=DOMAIN),
    )


def test_own_server_failing_everything_counts_as_legitimate() -> None:
    rows = [row("192.0.2.31", 10, spf_domain=DOMAIN, spf_result="fail")]
    assert verdict(rows, {"192.0.2.31": "mx9.kuroneko.example"})[:3] == (
        DOMAIN,
        SourceKind.OWN,
        SourceVerdict.MISALIGNED,
    )
    assert verdict(rows)[2] is SourceVerdict.SPOOFING  # the same mail without the reverse name


def test_failing_signatures_do_not_name_a_known_sender() -> None:
    forged = [row("203.0.113.9", 10, dkim_domain="sendgrid.net", dkim_result="fail")]
    assert verdict(forged)[:3] == ("203.0.113.9", SourceKind.ADDRESS, SourceVerdict.SPOOFING)


def test_known_platform_where_nothing_authenticates_is_unknown() -> None:
    rows = [row("209.85.220.41", 10, spf_domain=DOMAIN, spf_result="softfail")]
    name, kind, found, fix = verdict(rows, {"209.85.220.41": "mail-sor-f41.google.com"})
    assert (name, kind, found) == ("Google Workspace", SourceKind.MAILBOX_PROVIDER, SourceVerdict.UNKNOWN)
    assert fix is not None
    assert "If this mail is yours" in fix.en


def test_known_forwarder_and_esp_signing_for_the_domain() -> None:
    relayed = [
        row(
            "192.0.2.40",
            10,
            dkim_domain=DOMAIN,
            dkim_result="fail",
            spf_domain="groups.io",
            spf_result="pass",
        )
    ]
    assert verdict(relayed, {"192.0.2.40": "out.groups.io"})[:3] == (
        "groups.io",
        SourceKind.FORWARDER,
        SourceVerdict.FORWARDER,
    )
    # An ESP signing with the domain's key is aligned, not a forwarder, though its SPF is its own.
    esp = [
        row(
            "192.0.2.41",
            10,
            dkim="pass",
            dkim_domain=DOMAIN,
            dkim_result="pass",
            spf_domain="amazonses.com",
            spf_result="pass",
        )
    ]
    assert verdict(esp)[:3] == ("Amazon SES", SourceKind.ESP, SourceVerdict.ALIGNED)


# --- the known-sender map ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sender"),
    [
        ("mail-yw1-f170.google.com", "Google Workspace"),
        ("example-com.20230601.gappssmtp.com", "Google Workspace"),
        ("mail-tycjpn01on2101.outbound.protection.outlook.com", "Microsoft 365"),
        ("a8-12.smtp-out.amazonses.com", "Amazon SES"),
        ("o1.ptr1234.sendgrid.net", "SendGrid"),
        ("mail136.suw11.mcdlv.net", "Mailchimp / Mandrill"),
        ("mail.mandrillapp.com", "Mailchimp / Mandrill"),
        ("so254-35.mailgun.net", "Mailgun"),
        ("mta.cuenote.jp", "Cuenote"),
        ("sv1234.xserver.jp", "Xserver"),
        ("www123.sakura.ne.jp", "Sakura Internet"),
        ("ezweb.ne.jp", "KDDI / au"),
        ("out.groups.io", "groups.io"),
    ],
)
def test_bundled_map_matches_by_domain_suffix(name: str, sender: str) -> None:
    found = known_senders().match(name)
    assert found is not None
    assert found.name == sender


def test_bundled_map_is_complete_data() -> None:
    senders = known_senders().senders
    assert known_senders().match("notsendgrid.net") is None  # a suffix of labels, not of characters
    assert all(s.fix.en and s.fix.ja and s.docs.startswith("https://") for s in senders)
    assert not any("\n" in s.fix.en + s.fix.ja or "  " in s.fix.en for s in senders)
    assert len({s.name for s in senders}) == len(senders)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("senders: [", "not valid YAML"),
        ("other: 1", "top-level 'senders' list"),
        ("senders: [{kind: esp}]", "entry 1 has no name"),
        ("senders: [{name: X, kind: bank, domains: [x.example]}]", "kind must be one of"),
        ("senders: [{name: X, kind: esp, domains: []}]", "domains must be a non-empty list"),
        ("senders: [{name: X, kind: esp, domains: [x.example], fix: {en: only}}]", "en and ja texts"),
    ],
)
def test_malformed_sender_maps_are_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_senders(text)


def test_a_site_map_replaces_the_bundled_one(store: Store) -> None:
    own_map = load_senders(
        "senders: [{name: Kuroneko Mailer, kind: esp, domains: [sendgrid.net], fix: {en: ask, ja: 依頼}}]"
    )
    found = by_name(sources(store, DOMAIN, 30, NOW, senders=own_map))
    assert found["Kuroneko Mailer"].fix == Text(en="ask", ja="依頼")

"""The sender-requirement matrix (issue 8): the requirement data, each row on lab domains and on sample
messages built for each case (aligned, misaligned, missing unsubscribe, ``l=`` signature, bad PTR), the
spam-rate row, the check's grade, replay from the snapshot, and ``mimawari requirements`` as a user runs it."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from mimawari.checks.email.other import sender_requirements
from mimawari.checks.email.other.matrix import Matrix, State
from mimawari.checks.email.other.matrix_judge import REQUIREMENTS, TESTS, judge
from mimawari.deliverability.requirements import (
    Level,
    RequirementDataError,
    bundled_requirements,
    parse_requirements,
)
from mimawari.lab import DnsLab, zones_from_yaml
from mimawari.model import Grade, SpamRateDay, SpamRateSummary, Target
from mimawari.observations.sender_posture import SENDER_POSTURE, SenderPosture
from mimawari.scan import evaluate_snapshot, scan_target
from tests.cli_runner import assert_one_line_error, run
from tests.helpers import lab_network
from tests.message_samples import (
    ESP,
    ESP_IP,
    ESP_SELECTOR,
    NO_PTR_IP,
    SHOP,
    SHOP_IP,
    sample_target,
    signed_message,
    signing_key,
    world_yaml,
)
from tests.test_dkim_parse import rsa_p

pytestmark = pytest.mark.timeout(90)
CHECKS = {sender_requirements.CHECK.id: sender_requirements.CHECK}


def extra_zones() -> str:
    weak = rsa_p(768)
    return f"""
  bare.test:
    records:
      "@": {{MX: 10 mx.bare.test.}}
      mx: {{A: 192.0.2.30}}
  weak.test:
    records:
      "@": {{TXT: "v=spf1 mx -all", MX: 10 mx.weak.test.}}
      mx: {{A: 192.0.2.31}}
      _dmarc: {{TXT: "v=DMARC1; p=none"}}
      default._domainkey: {{TXT: "v=DKIM1; k=rsa; p={weak}"}}
  broken.test:
    records:
      "@": {{TXT: ["v=spf1 -all", "v=spf1 mx -all"]}}
      _dmarc: {{TXT: "v=DMARC1; p=none"}}
"""


@pytest.fixture
async def lab() -> AsyncIterator[DnsLab]:
    async with DnsLab(zones_from_yaml(world_yaml(extra=extra_zones()))) as server:
        yield server


async def posture_of(lab: DnsLab, target: Target) -> tuple[SenderPosture, Grade, Any]:
    report = await scan_target(target, lab_network(lab.nameserver), CHECKS)
    posture = report.observations[SENDER_POSTURE.name]
    assert isinstance(posture, SenderPosture)
    (finding,) = report.findings
    return posture, finding.grade, report


def states(matrix: Matrix) -> dict[str, State]:
    return {row.requirement.id: row.result.state for row in matrix.rows}


def row(matrix: Matrix, requirement: str) -> Any:
    return next(r for r in matrix.rows if r.requirement.id == requirement)


# The requirement data -----------------------------------------------------------------------------------


def test_bundled_requirements_cover_the_providers_rules() -> None:
    data = bundled_requirements(frozenset(TESTS))
    assert [c.id for c in data.columns] == [
        "gmail-all",
        "gmail-bulk",
        "yahoo-all",
        "yahoo-bulk",
        "outlook-bulk",
    ]
    assert {p.id: p.checked for p in data.providers}.keys() == {"gmail", "yahoo", "outlook"}
    assert all(p.source.startswith("https://") for p in data.providers)
    by_id = {r.id: r for r in data.requirements}
    outlook = next(c for c in data.columns if c.id == "outlook-bulk")
    gmail_all = next(c for c in data.columns if c.id == "gmail-all")
    # Outlook.com enforces SPF, DKIM, DMARC and alignment for high-volume senders; unsubscribe is advice.
    assert all(by_id[r].level(outlook) is Level.REQUIRED for r in ("spf", "dkim", "dmarc", "alignment"))
    assert by_id["one_click_unsubscribe"].level(outlook) is Level.RECOMMENDED
    assert by_id["spam_rate"].level(outlook) is None
    assert by_id["tls"].level(gmail_all) is Level.REQUIRED and by_id["dmarc"].level(gmail_all) is None


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["requirements"][0].update(test="nope"),
            "requirements.0.test: 'nope' is not a known test",
        ),
        (
            lambda d: d["requirements"][1]["applies"].update({"hotmail": "required"}),
            "requirements.1.applies.hotmail",
        ),
        (
            lambda d: d["requirements"][2]["applies"].update({"gmail-all": "maybe"}),
            "expected required or recommended",
        ),
        (lambda d: d["columns"][0].update(tier="huge"), "columns.0.tier"),
        (lambda d: d["providers"]["gmail"].pop("source"), "providers.gmail.source"),
        (lambda d: d["requirements"][1].update(id="spf_or_dkim"), "an id is used twice"),
    ],
)
def test_malformed_requirement_data_names_the_key(mutate: Any, message: str) -> None:
    text = Path(__file__).parents[1].joinpath("src/mimawari/data/sender_requirements.yaml").read_text()
    data = yaml.safe_load(text)
    mutate(data)
    with pytest.raises(RequirementDataError, match=message.replace(".", r"\.").replace("'", ".")):
        parse_requirements(data, frozenset(TESTS))


# Rows on lab domains and sample messages -----------------------------------------------------------------


async def test_aligned_sample_passes_every_message_row(lab: DnsLab) -> None:
    posture, grade, _ = await posture_of(lab, sample_target(signed_message()))
    matrix = judge(posture)
    assert states(matrix) == {
        "spf_or_dkim": State.PASS,
        "spf": State.PASS,
        "dkim": State.PASS,
        "dkim_key_size": State.PASS,
        "dmarc": State.PASS,
        "alignment": State.PASS,
        "reverse_dns": State.PASS,
        "tls": State.PASS,
        "format": State.PASS,
        "one_click_unsubscribe": State.PASS,
        "visible_unsubscribe": State.PASS,
        "spam_rate": State.NEEDS_SPAM_DATA,
    }
    assert grade is Grade.A
    assert {matrix.column_state(c) for c in matrix.requirements.columns} == {
        State.PASS,
        State.NEEDS_SPAM_DATA,
    }
    assert "mail.shop.test" in row(matrix, "reverse_dns").result.summary.en


async def test_misaligned_sample_fails_alignment_only(lab: DnsLab) -> None:
    # Signed by the ESP, bounced to the ESP, sent from the shop's own (forward-confirmed) address.
    esp = signing_key(2048, "esp")
    raw = signed_message(esp, ESP, ESP_SELECTOR, return_path=f"bounce@bounce.{ESP}", ip=SHOP_IP)
    posture, grade, _ = await posture_of(lab, sample_target(raw))
    matrix = judge(posture)
    result = states(matrix)
    assert result["alignment"] is State.FAIL and result["dkim"] is State.PASS
    assert result["spf"] is State.FAIL  # bounce.esp.test does not authorise the shop's address
    assert result["reverse_dns"] is State.PASS
    assert grade is Grade.D  # alignment is a bulk-sender requirement
    alignment = row(matrix, "alignment").result
    assert alignment.fix is not None and "d=" in alignment.fix.action.en


async def test_missing_unsubscribe_fails_both_unsubscribe_rows(lab: DnsLab) -> None:
    raw = signed_message(unsubscribe=False, visible_link=False)
    posture, grade, _ = await posture_of(lab, sample_target(raw))
    matrix = judge(posture)
    one_click = row(matrix, "one_click_unsubscribe").result
    assert one_click.state is State.FAIL and "no List-Unsubscribe field" in one_click.summary.en
    assert one_click.fix is not None and "List-Unsubscribe-Post" in (one_click.fix.snippet or "")
    assert states(matrix)["visible_unsubscribe"] is State.FAIL
    assert grade is Grade.D
    # Recommended only at Outlook.com; required at Gmail and Yahoo for bulk senders.
    failing = {r.requirement.id: [c.id for c in cols] for r, cols in matrix.failing(Level.RECOMMENDED)}
    assert failing == {"one_click_unsubscribe": ["outlook-bulk"], "visible_unsubscribe": ["outlook-bulk"]}


async def test_unsigned_unsubscribe_fields_do_not_count_as_one_click(lab: DnsLab) -> None:
    raw = signed_message(headers=("from", "to", "subject", "date", "message-id"))
    posture, _, _ = await posture_of(lab, sample_target(raw))
    one_click = row(judge(posture), "one_click_unsubscribe").result
    assert one_click.state is State.FAIL and "RFC 8058 §4" in one_click.summary.en


async def test_body_length_signature_still_passes_dkim(lab: DnsLab) -> None:
    # l= is a replay risk (email.other.dkim_replay grades it); the providers' rows still pass.
    posture, grade, _ = await posture_of(lab, sample_target(signed_message(l=True)))
    assert states(judge(posture))["dkim"] is State.PASS
    assert grade is Grade.A
    assert posture.message.signatures[0].signature.body_length is not None


async def test_bad_ptr_fails_an_every_sender_requirement(lab: DnsLab) -> None:
    raw = signed_message(ip=NO_PTR_IP)
    posture, grade, _ = await posture_of(lab, sample_target(raw, sending_ip=NO_PTR_IP))
    matrix = judge(posture)
    reverse = row(matrix, "reverse_dns").result
    assert reverse.state is State.FAIL and "no PTR record" in reverse.summary.en
    assert states(matrix)["spf"] is State.FAIL  # the shop's SPF authorises 203.0.113.25 only
    assert grade is Grade.E
    esp = signing_key(2048, "esp")
    raw = signed_message(esp, ESP, ESP_SELECTOR, return_path=f"bounce@bounce.{ESP}", ip=ESP_IP)
    posture, _, _ = await posture_of(lab, sample_target(raw))
    assert "no PTR name resolves back" in row(judge(posture), "reverse_dns").result.summary.en


async def test_plain_text_sample_without_ip_says_what_it_needs(lab: DnsLab) -> None:
    raw = signed_message(ip=None, tls=False)
    posture, _, _ = await posture_of(lab, sample_target(raw))
    result = states(judge(posture))
    assert result["reverse_dns"] is State.NEEDS_MESSAGE and result["tls"] is State.NEEDS_MESSAGE
    assert result["alignment"] is State.PASS  # DKIM alone aligns it
    no_tls = signed_message(tls=False)
    posture, _, _ = await posture_of(lab, sample_target(no_tls))
    assert states(judge(posture))["tls"] is State.FAIL


async def test_dns_only_rows(lab: DnsLab) -> None:
    bare, grade, _ = await posture_of(lab, Target("bare.test"))
    matrix = judge(bare)
    result = states(matrix)
    assert result["spf"] is State.FAIL and result["dmarc"] is State.FAIL
    assert result["dkim"] is State.NEEDS_MESSAGE  # selectors cannot be listed: never "no DKIM"
    assert result["spf_or_dkim"] is State.NEEDS_MESSAGE
    assert grade is Grade.D  # SPF and DMARC are bulk requirements; SPF-or-DKIM is still open
    spf_fix = row(matrix, "spf").result.fix
    assert spf_fix is not None and spf_fix.snippet == 'bare.test. IN TXT "v=spf1 mx -all"'
    dmarc_fix = row(matrix, "dmarc").result.fix
    assert dmarc_fix is not None and "_dmarc.bare.test." in (dmarc_fix.snippet or "")

    weak, grade, _ = await posture_of(lab, Target("weak.test"))
    assert states(judge(weak))["dkim_key_size"] is State.FAIL
    assert grade is Grade.D

    broken, _, _ = await posture_of(lab, Target("broken.test"))
    spf = row(judge(broken), "spf").result
    assert spf.state is State.FAIL and "more than one SPF record" in spf.summary.en


async def test_dkim_key_timeout_is_unknown_never_fail(lab: DnsLab) -> None:
    raw = signed_message(selector="slow")
    posture, _, _ = await posture_of(lab, sample_target(raw))
    result = states(judge(posture))
    # SPF passes and aligns, so the message is fine; the DKIM row cannot be decided.
    assert result["dkim"] is State.UNKNOWN and result["alignment"] is State.PASS


def _spam(rate: float, days_ago: int = 1, upper: bool = False) -> SpamRateSummary:
    day = (datetime.now(UTC) - timedelta(days=days_ago)).date().isoformat()
    return SpamRateSummary(30, (SpamRateDay(day, "google-postmaster", rate, upper_bound=upper),))


@pytest.mark.parametrize(
    ("summary", "state", "grade"),
    [
        (_spam(0.0005), State.PASS, Grade.A),
        (_spam(0.0015), State.PASS, Grade.A),
        (_spam(0.001, upper=True), State.PASS, Grade.A),
        (_spam(0.0035), State.FAIL, Grade.E),
        (_spam(0.0035, days_ago=20), State.NEEDS_SPAM_DATA, Grade.A),
    ],
)
async def test_spam_rate_row(lab: DnsLab, summary: SpamRateSummary, state: State, grade: Grade) -> None:
    target = sample_target(signed_message())
    target = Target(
        target.domain, sample_message=target.sample_message, spam_rates=summary, observed_at=int(time.time())
    )
    posture, found, _ = await posture_of(lab, target)
    spam = row(judge(posture), "spam_rate").result
    assert spam.state is state and found is grade
    if summary.series[0].rate == 0.0015:
        assert "over the 0.1 %" in spam.summary.en


async def test_matrix_replays_from_the_snapshot(lab: DnsLab) -> None:
    posture, _, report = await posture_of(lab, sample_target(signed_message(ip=NO_PTR_IP)))
    replayed = evaluate_snapshot(report.snapshot, CHECKS)
    assert replayed.observations[SENDER_POSTURE.name] == posture
    assert replayed.findings == report.findings


def test_requirements_version_is_shown() -> None:
    assert REQUIREMENTS.version


# The command ---------------------------------------------------------------------------------------------


async def test_requirements_command(lab: DnsLab, tmp_path: Path) -> None:
    sample = tmp_path / "news.eml"
    sample.write_bytes(signed_message(unsubscribe=False))
    ns = str(lab.nameserver)
    code, out, err = await run("requirements", SHOP, "-n", ns, "--message", str(sample), "--format", "json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["domain"] == SHOP
    rows = {r["id"]: r for r in document["rows"]}
    assert rows["one_click_unsubscribe"]["cells"] == {
        "gmail-bulk": {"level": "required", "state": "fail"},
        "yahoo-bulk": {"level": "required", "state": "fail"},
        "outlook-bulk": {"level": "recommended", "state": "fail"},
    }
    assert {c["id"]: c["state"] for c in document["columns"]}["gmail-bulk"] == "fail"
    assert [s["provider"] for s in document["sources"]] == ["gmail", "yahoo", "outlook"]

    code, out, err = await run("requirements", "bare.test", "-n", ns)
    assert (code, err) == (0, "")
    assert "FAIL" in out and "message?" in out and 'bare.test. IN TXT "v=spf1 mx -all"' in out
    code, out, err = await run("requirements", "bare.test", "-n", ns, "--lang", "ja")
    assert code == 0 and "不適合" in out and "要件" in out

    code, _, err = await run("requirements", SHOP, "-n", ns, "--message", str(tmp_path / "missing.eml"))
    assert code == 2
    assert_one_line_error(err, "missing.eml")
    code, _, err = await run("requirements", SHOP, "-n", ns, "--sending-ip", "192.0.2.1")
    assert code == 2
    assert_one_line_error(err, "add --message FILE")


async def test_malformed_sample_fails_the_format_row(lab: DnsLab) -> None:
    raw = signed_message(extra_headers=("From: Other <other@shop.test>",))
    posture, grade, _ = await posture_of(lab, sample_target(raw))
    form = row(judge(posture), "format").result
    assert form.state is State.FAIL and "From" in form.summary.en
    assert grade is Grade.E  # RFC 5322 is a requirement for every sender at Gmail and Yahoo

"""What-if: record changes applied to a scan's snapshot, against the demo lab."""

from __future__ import annotations

import pytest

from mimawari.cli_options import checks_of
from mimawari.errors import InputError
from mimawari.lab import demo_lab
from mimawari.model import Category, Grade, Target
from mimawari.scan import scan_target
from mimawari.whatif import Comparison, RecordChange, compare, merge, parse_change, patch, reevaluate

DMARC = "_dmarc.kuroneko.example"
DNS_CHECKS = checks_of([Category.EMAIL_DNS])


def test_changes_parse_in_presentation_format() -> None:
    change = parse_change(f"{DMARC} TXT v=DMARC1; p=reject")
    assert change.records == ('"v=DMARC1; p=reject"',)
    assert parse_change(f'{DMARC} txt "v=DMARC1; p=reject"').records == change.records
    assert parse_change(f"{DMARC} TXT", remove=True).removal
    assert parse_change("example.com MX 10 mx.example.com.").records == ("10 mx.example.com.",)
    both = merge([parse_change("example.com A 192.0.2.1"), parse_change("example.com A 192.0.2.2")])
    assert both == [RecordChange("example.com", "A", ("192.0.2.1", "192.0.2.2"))]


@pytest.mark.parametrize(
    ("text", "remove", "fragment"),
    [
        ("only-a-name", False, "is not NAME TYPE DATA"),
        ("example.com NOPE data", False, "is not a DNS record type"),
        ("example.com MX not-a-preference", False, "does not parse"),
        ("example.com TXT extra", True, "is not NAME TYPE"),
    ],
)
def test_bad_changes_are_one_line_errors(text: str, remove: bool, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        parse_change(text, remove=remove)


async def _whatif(*changes: RecordChange) -> Comparison:
    async with demo_lab() as lab:
        network = lab.network()
        target = Target("kuroneko.example", trust_anchors=lab.connection().trust_anchors)
        before = await scan_target(target, network, DNS_CHECKS)
        after, asked = await reevaluate(patch(before.snapshot, changes), network, DNS_CHECKS)
    return compare(before, after, changes, len(asked))


async def test_p_none_to_reject_improves_exactly_the_checks_it_should() -> None:
    record = "v=DMARC1; p=reject; ri=3600; rua=mailto:dmarc@kuroneko.example"  # only p changes
    result = await _whatif(parse_change(f"{DMARC} TXT {record}"))
    moved = {m.check_id: (m.before, m.after) for m in result.checks}
    assert moved == {
        "email.dmarc.policy": (Grade.C, Grade.A),
        "email.dmarc.subdomain_policy": (Grade.B, Grade.A),  # subdomains now inherit reject
        "email.bimi.dmarc": (Grade.D, Grade.A),  # BIMI needs an enforcing policy
    }
    assert result.before is not None and result.after is not None
    assert (result.before.score or 0) < (result.after.score or 0)
    assert result.asked == 0  # nothing new to look up


async def test_a_new_include_is_looked_up_and_only_it() -> None:
    spf = "v=spf1 mx include:_spf.kuroneko-group.example include:spf.newsletter.example -all"
    result = await _whatif(parse_change(f"kuroneko.example TXT {spf}"))
    moved = {m.check_id: m.after for m in result.checks}
    assert moved["email.spf.include_targets"] is Grade.E  # the new include does not exist
    assert moved["email.spf.all"] is Grade.A
    assert result.asked >= 1


async def test_removing_dmarc_is_graded_as_missing() -> None:
    result = await _whatif(parse_change(f"{DMARC} TXT", remove=True))
    moved = {m.check_id: m.after for m in result.checks}
    assert moved["email.dmarc.policy"] is Grade.E

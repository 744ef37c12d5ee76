"""DKIM end to end: real RSA and Ed25519 keys served by the lab DNS → observation → findings → replay."""

from __future__ import annotations

import dns.message

from mimawari.checks import ALL_CHECKS
from mimawari.lab import DnsLab, LabZones, zones_from_yaml
from mimawari.lookup import Snapshot
from mimawari.model import Grade, Status, Target
from mimawari.observations.dkim import DkimObservation, candidate_selectors
from mimawari.scan import evaluate_snapshot, scan_domains
from mimawari.serial import from_json, to_json
from tests.helpers import lab_network
from tests.test_dkim_parse import ed25519_p, rsa_p

DKIM_CHECKS = {
    check_id: check for check_id, check in ALL_CHECKS.items() if check_id.startswith("email.dkim.")
}


def lab_yaml() -> str:
    rsa2048, rsa1024 = rsa_p(2048), rsa_p(1024)
    return f"""
zones:
  signed.test:
    records:
      "@":
        MX: 10 mx.signed.test.
        TXT: v=spf1 mx -all
      mx: {{A: 192.0.2.10}}
      custom2024._domainkey: {{TXT: "v=DKIM1; k=rsa; p={rsa2048}"}}
      k1._domainkey: {{TXT: "v=DKIM1; k=rsa; t=y; p={rsa1024}"}}
      s2._domainkey: {{TXT: "v=DKIM1; k=ed25519; p={ed25519_p()}"}}
      default._domainkey: {{TXT: "v=DKIM1; k=rsa; p="}}
      selector1._domainkey: {{CNAME: selector1-signed-test._domainkey.tenant.provider.test.}}
      selector2._domainkey: {{CNAME: selector2-signed-test._domainkey.tenant.provider.test.}}
  provider.test:
    records:
      selector1-signed-test._domainkey.tenant: {{TXT: "v=DKIM1; k=rsa; p={rsa2048}"}}
  unsigned.test:
    records:
      "@": {{MX: 0 unsigned-test.mail.protection.outlook.com.}}
  flaky.test:
    records:
      "@": {{MX: 10 mx.flaky.test.}}
      mx: {{A: 192.0.2.20}}
      # A leftover ADSP record (RFC 5617, historic) makes _domainkey an empty non-terminal: NODATA, so
      # the whole selector list is asked (RFC 8020 would let NXDOMAIN skip it).
      _adsp._domainkey: {{TXT: dkim=unknown}}
behaviour:
  google._domainkey.flaky.test: drop
"""


async def test_dkim_end_to_end_through_the_lab() -> None:
    targets: list[Target | str] = [Target("signed.test", ("custom2024",)), "unsigned.test", "flaky.test"]
    async with DnsLab(zones_from_yaml(lab_yaml())) as lab:
        reports = await scan_domains(targets, lab_network(lab.nameserver), DKIM_CHECKS)
    grades = {
        r.domain: {f.check_id.removeprefix("email.dkim."): f.grade for f in r.findings} for r in reports
    }
    assert grades["signed.test"] == {
        "selectors": Grade.A,
        "syntax": Grade.A,
        "key_type": Grade.A,
        "key_size": Grade.C,
        "testing": Grade.C,
        "revoked": Grade.A,
        "hash_algorithms": Grade.A,
        "cname": Grade.C,
    }
    assert grades["unsigned.test"]["selectors"] is Grade.UNKNOWN
    assert {grade for name, grade in grades["unsigned.test"].items() if name != "selectors"} == {Grade.NA}
    # A dropped selector lookup and nothing found elsewhere: unknown everywhere, never "no DKIM".
    assert set(grades["flaky.test"].values()) == {Grade.UNKNOWN}

    signed = reports[0].observations["dkim"]
    assert isinstance(signed, DkimObservation)
    found = {lookup.selector: lookup for lookup in signed.found}
    assert set(found) == {"custom2024", "k1", "s2", "default", "selector1"}
    assert found["custom2024"].origin == "given"
    assert found["custom2024"].keys[0].key is not None and found["custom2024"].keys[0].key.bits == 2048
    assert found["s2"].keys[0].key is not None and found["s2"].keys[0].key.algorithm == "ed25519"
    assert found["selector1"].delegated_to == "selector1-signed-test._domainkey.tenant.provider.test"
    assert [lookup.selector for lookup in signed.dangling] == ["selector2"]

    unsigned = reports[1]
    summary = next(f for f in unsigned.findings if f.check_id == "email.dkim.selectors").summary.en
    assert (
        "Microsoft 365 (MX unsigned-test.mail.protection.outlook.com) signs with selector1/selector2"
        in summary
    )
    assert "no names exist under _domainkey.unsigned.test (NXDOMAIN, RFC 8020)" in summary
    assert unsigned.observations["dkim"].tried == ("selector1", "selector2")
    flaky = reports[2].observations["dkim"]
    assert flaky.status is Status.TIMEOUT
    assert [lookup.selector for lookup in flaky.failed] == ["google"]

    for report in reports:
        snapshot = from_json(Snapshot, to_json(report.snapshot))
        assert evaluate_snapshot(snapshot, DKIM_CHECKS).findings == report.findings


class CountingLab(DnsLab):
    """A lab that remembers every name it was asked about."""

    def __init__(self, zones: LabZones) -> None:
        super().__init__(zones)
        self.asked: list[str] = []

    def respond(self, request: dns.message.Message) -> dns.message.Message | None:
        self.asked.append(request.question[0].name.to_text(omit_final_dot=True).lower())
        return super().respond(request)


async def test_nxdomain_at_domainkey_saves_the_list_and_an_empty_non_terminal_does_not() -> None:
    rsa2048 = rsa_p(2048)
    zones = f"""
zones:
  bare.test:
    records:
      "@": {{MX: 10 aspmx.l.google.com.}}
  ent.test:
    records:
      "@": {{MX: 10 mx.ent.test.}}
      mx: {{A: 192.0.2.30}}
      mxvault._domainkey: {{TXT: "v=DKIM1; k=rsa; p={rsa2048}"}}
"""
    lab = CountingLab(zones_from_yaml(zones))
    async with lab:
        reports = await scan_domains(["bare.test", "ent.test"], lab_network(lab.nameserver), DKIM_CHECKS)
    per_domain = {
        d: [n for n in lab.asked if n == d or n.endswith("." + d)] for d in ("bare.test", "ent.test")
    }
    # bare.test: MX, TXT, _domainkey (NXDOMAIN), then only Google's selector, hinted by the MX.
    assert sorted(per_domain["bare.test"]) == sorted(
        ["bare.test", "bare.test", "_domainkey.bare.test", "google._domainkey.bare.test"]
    )
    bare = reports[0].observations["dkim"]
    assert isinstance(bare, DkimObservation) and bare.nothing_below and bare.tried == ("google",)
    selectors = next(f for f in reports[0].findings if f.check_id == "email.dkim.selectors")
    assert selectors.grade is Grade.UNKNOWN
    assert "no names exist under _domainkey.bare.test (NXDOMAIN, RFC 8020)" in selectors.summary.en
    # ent.test: _domainkey exists only as the parent of a selector, so the lab says NODATA and every
    # built-in selector is asked; the key at mxvault is found.
    ent = reports[1].observations["dkim"]
    assert isinstance(ent, DkimObservation) and not ent.nothing_below and ent.skipped == ()
    assert ent.domainkey is not None and ent.domainkey.outcome == "NODATA"
    assert len(per_domain["ent.test"]) == 3 + len(candidate_selectors((), ()))
    assert [lookup.selector for lookup in ent.found] == ["mxvault"]
    assert {f.check_id: f.grade for f in reports[1].findings}["email.dkim.selectors"] is Grade.A
    for report in reports:
        snapshot = from_json(Snapshot, to_json(report.snapshot))
        assert evaluate_snapshot(snapshot, DKIM_CHECKS).findings == report.findings

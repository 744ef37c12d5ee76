"""DKIM end to end: real RSA and Ed25519 keys served by the lab DNS → observation → findings → replay."""

from __future__ import annotations

from mimawari.checks import ALL_CHECKS
from mimawari.lab import DnsLab, zones_from_yaml
from mimawari.lookup import Snapshot
from mimawari.model import Grade, Status, Target
from mimawari.observations.dkim import DkimObservation
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
    flaky = reports[2].observations["dkim"]
    assert flaky.status is Status.TIMEOUT
    assert [lookup.selector for lookup in flaky.failed] == ["google"]

    for report in reports:
        snapshot = from_json(Snapshot, to_json(report.snapshot))
        assert evaluate_snapshot(snapshot, DKIM_CHECKS).findings == report.findings

"""DMARC aggregate reports (RFC 7489 appendix C; some in the RFC 9990 namespace) as the big receivers
write them: who reports (``REPORTERS``, shaped after real ones: their org names, file names, containers
and XML habits), on which domains (``DOMAINS``), and the report XML itself, from a seeded generator.
Addresses are documentation prefixes (RFC 5737, RFC 3849). ``bench/dmarc_corpus.py`` writes the files.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

RECORDS_PER_REPORT = 87.5
"""Mean records per report: 2000 reports hold 175 000 records."""
FIRST_DAY = 1709251200  # 2024-03-01T00:00:00Z
DAY = 86400


@dataclass(frozen=True)
class Reporter:
    org_name: str
    email: str
    file_prefix: str
    """What the reporter puts first in its file names: ``PREFIX!domain!begin!end``."""
    container: str
    """How it sends its reports: ``zip``, ``gz`` or ``xml``."""
    style: str
    """Its XML habits: ``google``, ``microsoft``, ``yahoo``, ``plain`` or ``rfc9990``."""
    share: float
    extra_contact_info: str = ""


REPORTERS = (
    Reporter(
        "google.com", "noreply-dmarc-support@google.com", "google.com", "zip", "google", 0.40,
        "https://support.google.com/a/answer/2466580",
    ),
    Reporter("Enterprise Outlook", "dmarcreport@microsoft.com", "enterprise.protection.outlook.com", "gz", "microsoft", 0.17),
    Reporter("Outlook.com", "dmarcreport@microsoft.com", "protection.outlook.com", "gz", "microsoft", 0.08),
    Reporter("Yahoo", "dmarchelp@yahooinc.com", "yahoo.com", "gz", "yahoo", 0.14),
    Reporter("Mail.Ru", "dmarc_support@corp.mail.ru", "mail.ru", "xml", "plain", 0.06),
    Reporter("Fastmail Pty Ltd", "dmarc-reports@fastmail.com", "fastmail.com", "zip", "plain", 0.08),
    Reporter("mx.example-isp.net", "dmarc@example-isp.net", "example-isp.net", "xml", "rfc9990", 0.07),
)  # fmt: skip
# The domains reported on and the DMARC record each publishes (policy_published).
DOMAINS = (
    ("example.com", {"p": "reject", "sp": "reject", "pct": "100"}),
    ("example.net", {"p": "quarantine", "sp": "none", "pct": "50"}),
    ("example.org", {"p": "none", "sp": "none", "pct": "100"}),
    ("sakura-trading.example", {"p": "none", "sp": "quarantine", "pct": "100"}),
)


def record_counts(rng: random.Random, size: int) -> list[int]:
    """Records per report: a long tail of small reports and ~2 % large ones that bring the total to
    ``size × RECORDS_PER_REPORT`` exactly (when the small ones leave room)."""
    counts = [min(400, max(1, round(rng.lognormvariate(0.6, 1.4)))) for _ in range(size)]
    large = rng.sample(range(size), max(1, round(size * 0.02)))
    rest = round(size * RECORDS_PER_REPORT) - sum(counts) + sum(counts[i] for i in large)
    weights = [min(12.0, rng.paretovariate(1.2)) for _ in large]
    for position, index in enumerate(large):
        share = round(rest * weights[position] / sum(weights[position:]))
        counts[index] = max(1, share)
        rest -= share
    return counts


def _address(rng: random.Random, kind: str) -> str:
    if kind == "own":
        return f"192.0.2.{rng.randrange(1, 32)}"
    if kind == "esp":
        return f"198.51.100.{rng.randrange(1, 255)}"
    if rng.random() < 0.25:
        return f"2001:db8:{rng.randrange(1, 0xFFFF):x}::{rng.randrange(1, 0xFFFF):x}"
    return f"203.0.113.{rng.randrange(1, 255)}"


def _record(rng: random.Random, domain: str, policy: dict[str, str], style: str) -> tuple[str, int]:
    """One ``<record>`` and its count: own servers, an ESP, forwarders, mailing lists or spoofers."""
    sender = rng.choices(("own", "esp", "forwarder", "list", "spoof"), (45, 25, 12, 6, 12))[0]
    count = 1 if rng.random() < 0.55 else min(20000, int(rng.paretovariate(1.3)) + 1)
    dkim = [(domain, "pass", "s1")] if sender == "own" else []
    spf = (domain, "pass")
    reason = ""
    if sender == "esp":
        dkim = [(domain, "pass", "esp1"), ("esp-mail.example", "pass", "es")]
        spf = ("bounces.esp-mail.example", "pass")
    elif sender == "forwarder":
        dkim = [(domain, rng.choice(("pass", "fail")), "s1")]
        spf = ("forwarder.example", rng.choice(("fail", "softfail", "none")))
        reason = "forwarded" if rng.random() < 0.3 else ""
    elif sender == "list":
        dkim = [(domain, "fail", "s1"), ("lists.example", "pass", "ml")]
        spf = ("lists.example", "pass")
        reason = "mailing_list" if rng.random() < 0.5 else ""
    elif sender == "spoof":
        dkim = [] if rng.random() < 0.7 else [(domain, "fail", "s1")]
        spf = (domain, rng.choice(("fail", "softfail", "none", "neutral")))
    aligned_dkim = "pass" if any(d == domain and r == "pass" for d, r, _ in dkim) else "fail"
    aligned_spf = "pass" if spf == (domain, "pass") else "fail"
    disposition = "none"
    if aligned_dkim == aligned_spf == "fail" and not reason:
        disposition = policy["p"]
        if policy["pct"] != "100" and rng.random() < 0.5:
            disposition, reason = "none", "sampled_out"
    lines = [
        "  <record>",
        "    <row>",
        f"      <source_ip>{_address(rng, sender)}</source_ip>",
        f"      <count>{count}</count>",
        "      <policy_evaluated>",
        f"        <disposition>{disposition}</disposition>",
        f"        <dkim>{aligned_dkim}</dkim>",
        f"        <spf>{aligned_spf}</spf>",
    ]
    if reason:
        lines.append(f"        <reason>\n          <type>{reason}</type>\n        </reason>")
    lines += ["      </policy_evaluated>", "    </row>", "    <identifiers>"]
    if style in ("microsoft", "rfc9990"):
        lines.append(
            f"      <envelope_to>{rng.choice(('example.jp', 'hotmail.example', 'corp.example'))}</envelope_to>"
        )
    if style in ("microsoft", "yahoo", "rfc9990"):
        lines.append(f"      <envelope_from>{spf[0]}</envelope_from>")
    lines += [f"      <header_from>{domain}</header_from>", "    </identifiers>", "    <auth_results>"]
    for d, result, selector in dkim:
        lines.append(
            f"      <dkim>\n        <domain>{d}</domain>\n        <selector>{selector}</selector>\n"
            f"        <result>{result}</result>\n      </dkim>"
        )
    scope = "" if style == "rfc9990" else "\n        <scope>mfrom</scope>"  # RFC 9990 dropped scope
    lines.append(
        f"      <spf>\n        <domain>{spf[0]}</domain>{scope}\n        <result>{spf[1]}</result>\n      </spf>"
    )
    lines += ["    </auth_results>", "  </record>"]
    return "\n".join(lines), count


def report_xml(
    rng: random.Random, reporter: Reporter, report_id: str, domain: str, period: tuple[int, int], records: int
) -> tuple[str, int]:
    """A whole aggregate report in the reporter's style, and the sum of its records' counts."""
    policy = dict(DOMAINS)[domain]
    begin, end = period
    head = {
        "google": '<?xml version="1.0" encoding="UTF-8" ?>\n<feedback>',
        "microsoft": '<?xml version="1.0"?>\n<feedback xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n  <version>1.0</version>',
        "yahoo": '<?xml version="1.0"?>\n<feedback>',
        "plain": '<?xml version="1.0" encoding="UTF-8"?>\n<feedback>\n  <version>1.0</version>',
        "rfc9990": '<?xml version="1.0" encoding="UTF-8"?>\n<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">'
        "\n  <version>1.0</version>",
    }[reporter.style]
    extra = f"\n    <extra_contact_info>{reporter.extra_contact_info}</extra_contact_info>"
    generator = "\n    <generator>example-isp dmarc 2.1</generator>" if reporter.style == "rfc9990" else ""
    published = [f"    <domain>{domain}</domain>", "    <adkim>r</adkim>", "    <aspf>r</aspf>"]
    published += [f"    <p>{policy['p']}</p>", f"    <sp>{policy['sp']}</sp>"]
    if reporter.style == "rfc9990":  # RFC 9990: np, testing and discovery_method instead of pct
        published += [
            "    <np>reject</np>",
            "    <testing>n</testing>",
            "    <discovery_method>treewalk</discovery_method>",
        ]
    else:
        published.append(f"    <pct>{policy['pct']}</pct>")
    if reporter.style == "microsoft":
        published.append("    <fo>0</fo>")
    parts = [
        head,
        "  <report_metadata>",
        f"    <org_name>{reporter.org_name}</org_name>",
        f"    <email>{reporter.email}</email>{extra if reporter.extra_contact_info else ''}",
        f"    <report_id>{report_id}</report_id>",
        f"    <date_range>\n      <begin>{begin}</begin>\n      <end>{end}</end>\n    </date_range>{generator}",
        "  </report_metadata>",
        "  <policy_published>",
        *published,
        "  </policy_published>",
    ]
    messages = 0
    for _ in range(records):
        text, count = _record(rng, domain, policy, reporter.style)
        parts.append(text)
        messages += count
    parts.append("</feedback>\n")
    return "\n".join(parts), messages


def report_id_for(rng: random.Random, reporter: Reporter, begin: int) -> str:
    if reporter.style == "google":
        return str(rng.randrange(10**18, 10**19))
    if reporter.style == "microsoft":
        return f"{rng.getrandbits(128):032x}"
    if reporter.style == "yahoo":
        return f"{begin + rng.randrange(DAY)}.{rng.randrange(10**5, 10**6)}"
    return f"{reporter.file_prefix}-{begin}-{rng.getrandbits(40):010x}"

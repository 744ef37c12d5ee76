"""TLS verdicts shared by the MTA and Mailbox categories; their modules wrap them in ``Check``s.

Each endpoint (an MX on port 25, an IMAP, POP3 or submission server) is graded on its own by the NCSC-NL
profile of ``parse.tls_profile``; the verdict takes the worst endpoint's grade and lists every endpoint in
its evidence. An endpoint that could not be examined (no answer in time, handshake or scan missing) is not
graded — if none could be, the verdict is unknown, never "not offered". An endpoint without TLS at all
(STARTTLS not offered) is left to the STARTTLS check; if no endpoint has TLS, the verdict is N/A.
The rules are written out for users in ``docs/tls.md``.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from mimawari.checks.email.tls_texts import (
    CERTIFICATE_TEXTS,
    CIPHER_TEXTS,
    FURTHER,
    KEX_TEXTS,
    KEY_TEXTS,
    NO_TLS,
    PARTLY,
    TIMED_OUT,
    UNEXAMINED,
    VERSION_TEXTS,
    FixScope,
    Texts,
    certificate_fix,
    cipher_fix,
    kex_fix,
    key_fix,
    version_fix,
)
from mimawari.model import AfterFix, Evidence, Fix, Grade, Status, Text, Verdict
from mimawari.parse.tls_profile import (
    Level,
    group_level,
    key_level,
    level_grade,
    normalize_version,
    signature_level,
    suite_kex,
    suite_level,
    version_level,
    worst,
)
from mimawari.parse.x509 import CertificateFacts, describe_certificate, name_matches, utc
from mimawari.probes import MailProtocol, TlsEndpoint, TlsHandshake, TlsScan

URGENT_DAYS = 14
"""Fewer days of validity left than this (or a sixth of the lifetime, if less): D — renewal has failed."""
RENEW_DAYS = 30
"""Fewer days left than this (or a third of the lifetime, if less): B — renewal is due. A third is when
ACME clients renew short-lived certificates, so a healthy 6- or 45-day certificate is not flagged."""


@dataclass(frozen=True)
class EndpointGrade:
    """One endpoint's grade: A–E; UNKNOWN (``reason`` "timeout" or "failed") when it could not be
    examined; NA when it has no TLS. ``seen`` is the evidence; ``facts`` fill the summary's {facts};
    ``also`` names the endpoint's lesser problems (reasons), which its fix must cover too."""

    endpoint: TlsEndpoint
    grade: Grade
    seen: str
    reason: str = ""
    facts: tuple[str, ...] = ()
    also: tuple[str, ...] = ()


def _rank(grade: Grade) -> int:
    return -1 if grade.rank is None else grade.rank


def _worse(first: Grade, second: Grade) -> Grade:
    return first if _rank(first) >= _rank(second) else second


def _join(first: Text, second: Text) -> Text:
    return Text(f"{first.en} {second.en}", first.ja + second.ja)


def _names(items: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(items))


def _facts_line(**lists: list[str]) -> str:
    """``accepted: TLSv1.3 (good), TLSv1.2 (sufficient); refused: SSLv3`` — empty lists left out."""
    return "; ".join(f"{name}: {', '.join(items)}" for name, items in lists.items() if items)


# --- what could not be graded ------------------------------------------------------------------------


def _unknown(endpoint: TlsEndpoint, reason: str, seen: str) -> EndpointGrade:
    return EndpointGrade(endpoint, Grade.UNKNOWN, seen, reason, (seen,))


def _handshake_of(endpoint: TlsEndpoint) -> TlsHandshake | EndpointGrade:
    """The endpoint's completed handshake, or why it has none (unknown, or N/A without TLS)."""
    session = endpoint.session
    if session.status is Status.TIMEOUT:
        return _unknown(endpoint, "timeout", f"no answer within the timeout {session.detail}".strip())
    if session.status is not Status.PRESENT:
        return _unknown(endpoint, "failed", f"no session ({session.describe()})")
    tls = session.tls
    if tls is None:
        if not session.request.implicit_tls and session.starttls_offered is False:
            return EndpointGrade(endpoint, Grade.NA, "STARTTLS not offered (graded by the STARTTLS check)")
        if session.starttls is not None and not session.starttls.positive:
            return EndpointGrade(endpoint, Grade.NA, f"STARTTLS refused: {session.starttls.describe()}")
        return _unknown(endpoint, "failed", "the session ended before TLS started")
    if tls.status is Status.TIMEOUT:
        return _unknown(endpoint, "timeout", "no TLS handshake within the timeout")
    if tls.status is not Status.PRESENT:
        return _unknown(endpoint, "failed", f"TLS handshake failed ({tls.detail or tls.status.value})")
    return tls


def _scan_of(endpoint: TlsEndpoint) -> TlsScan | EndpointGrade:
    """The endpoint's completed scan (whatever became of the handshake), or why it has none."""
    scan = endpoint.scan
    if scan is not None and scan.status is Status.PRESENT:
        return scan
    handshake = _handshake_of(endpoint)
    if isinstance(handshake, EndpointGrade):
        return handshake
    if scan is None:
        return _unknown(endpoint, "failed", "the TLS configuration was not scanned")
    if scan.status is Status.TIMEOUT:
        return _unknown(endpoint, "timeout", "the TLS scan got no answer within the timeout")
    return _unknown(endpoint, "failed", f"the TLS scan failed ({scan.detail or scan.status.value})")


def _conclude(graded: Sequence[EndpointGrade], texts: Texts, fix_for: Callable[[FixScope], Fix]) -> Verdict:
    """The worst endpoint's grade and summary, every endpoint in the evidence, the fix for those below A."""
    evidence = tuple(Evidence(g.endpoint.label, g.seen) for g in graded)
    scored = [g for g in graded if g.grade.rank is not None]
    unknown = [g for g in graded if g.grade is Grade.UNKNOWN]
    if not scored:
        if not unknown:
            return Verdict(Grade.NA, NO_TLS, evidence)
        timed_out = [g for g in unknown if g.reason == "timeout"]
        text = TIMED_OUT if timed_out else UNEXAMINED
        shown = timed_out or unknown
        hosts, facts = _names(g.endpoint.label for g in shown), _names(f for g in shown for f in g.facts)
        return Verdict(Grade.UNKNOWN, text.format(hosts=hosts, facts=facts), evidence)
    grade = max((g.grade for g in scored), key=_rank)
    worst_ones = [g for g in scored if g.grade is grade]
    reason = worst_ones[0].reason
    shown = [g for g in worst_ones if g.reason == reason]
    summary = texts[reason].format(
        hosts=_names(g.endpoint.label for g in shown),
        facts=_names(f for g in shown for f in g.facts),
        count=len(scored),
    )
    if any(g.also for g in shown):
        summary = _join(summary, FURTHER)
    if unknown:
        summary = _join(summary, PARTLY.format(hosts=_names(g.endpoint.label for g in unknown)))
    if grade is Grade.A:
        return Verdict(grade, summary, evidence)
    below = [g for g in scored if g.grade is not Grade.A]
    smtp = [g.endpoint.host for g in below if g.endpoint.session.request.protocol is MailProtocol.SMTP]
    mailbox = [g.endpoint.host for g in below if g.endpoint.session.request.protocol is not MailProtocol.SMTP]
    scope = FixScope(
        frozenset(r for g in below for r in (g.reason, *g.also)),
        tuple(dict.fromkeys(smtp)),
        tuple(dict.fromkeys(mailbox)),
    )
    fix = fix_for(scope)
    return Verdict(grade, summary, evidence, fix, AfterFix(Grade.A, texts["effect"]))


def _label(level: Level | None) -> str:
    return "unclassified" if level is None else level.label  # Level.GOOD is 0: never test it for truth


def _by_level(level: Level) -> str:
    return {Level.PHASE_OUT: "phase_out", Level.INSUFFICIENT: "insufficient"}.get(level, "good")


# --- protocol versions -------------------------------------------------------------------------------


def _versions(endpoint: TlsEndpoint) -> EndpointGrade:
    scan = _scan_of(endpoint)
    if isinstance(scan, EndpointGrade):
        return scan
    accepted = [normalize_version(v.version) for v in scan.accepted()]
    tls = endpoint.session.tls
    if tls is not None and tls.status is Status.PRESENT and tls.version:
        accepted.append(normalize_version(tls.version))  # the real handshake proves this one too
    accepted = list(dict.fromkeys(accepted))
    refused = [v.version for v in scan.versions if v.status is Status.ABSENT]
    unsure = [f"{v.version} ({v.status.value})" for v in scan.versions if not v.status.answered]
    levels = {version: version_level(version) for version in accepted}
    level = worst(list(levels.values()))
    if level is None:
        return _unknown(endpoint, "failed", f"no accepted version could be confirmed ({', '.join(unsure)})")
    seen = _facts_line(
        accepted=[f"{v} ({_label(lv)})" for v, lv in levels.items()],
        refused=refused,
        **{"not determined": unsure},
    )
    weak = tuple(v for v, lv in levels.items() if lv is level)
    if level >= Level.PHASE_OUT:
        return EndpointGrade(endpoint, level_grade(level), seen, _by_level(level), weak)
    if Level.GOOD not in levels.values():
        return EndpointGrade(endpoint, Grade.B, seen, "no_tls13", tuple(levels))
    return EndpointGrade(endpoint, Grade.A, seen, "good", tuple(levels))


def versions_verdict(endpoints: Sequence[TlsEndpoint]) -> Verdict:
    """TLS 1.3 good, 1.2 sufficient (A; B when TLS 1.3 is missing), 1.1/1.0 phase out (C), SSL (E)."""
    return _conclude([_versions(e) for e in endpoints], VERSION_TEXTS, version_fix)


# --- cipher suites -----------------------------------------------------------------------------------


def _order_problem(scan: TlsScan) -> bool:
    """NCSC-NL v2.1 B2-5: a server that accepts suites of different levels must choose by its own order,
    better levels first. Within one version only: the version is agreed before the suite."""
    for version in scan.accepted():
        levels = [lv for lv in (suite_level(c) for c in version.ciphers) if lv is not None]
        if len(set(levels)) < 2 or version.server_order is None:
            continue
        if version.server_order is False or levels != sorted(levels):
            return True
    return False


def _ciphers(endpoint: TlsEndpoint) -> EndpointGrade:
    scan = _scan_of(endpoint)
    if isinstance(scan, EndpointGrade):
        return scan
    names = [c for v in scan.accepted() for c in v.ciphers]
    tls = endpoint.session.tls
    if tls is not None and tls.status is Status.PRESENT and tls.cipher:
        names.append(tls.cipher)
    suites = {name: suite_level(name) for name in dict.fromkeys(names)}
    level = worst(list(suites.values()))
    if level is None:
        why = "no accepted cipher suite was listed" if not suites else f"unclassified: {', '.join(suites)}"
        return _unknown(endpoint, "failed", why)
    parts = []
    for shown in (Level.INSUFFICIENT, Level.PHASE_OUT, Level.SUFFICIENT, Level.GOOD, None):
        members = [name for name, lv in suites.items() if lv is shown]
        label = shown.label if shown is not None else "unclassified"
        if members and (shown is None or shown >= Level.PHASE_OUT):
            parts.append(f"{label}: {', '.join(members)}")
        elif members:
            parts.append(f"{label}: {len(members)} suite(s)")
    orders = [
        f"{v.version} {'server' if v.server_order else 'client'}"
        for v in scan.accepted()
        if v.server_order is not None
    ]
    if orders:
        parts.append(f"order: {', '.join(orders)}")
    seen = "; ".join(parts)
    weak = tuple(name for name, lv in suites.items() if lv is level)
    grade, reason = level_grade(level), _by_level(level)
    if _order_problem(scan) and grade is not Grade.E:
        grade, reason = grade.lowered(), ("order" if reason == "good" else "phase_out_unordered")
    return EndpointGrade(endpoint, grade, seen, reason, weak if level >= Level.PHASE_OUT else ())


def ciphers_verdict(endpoints: Sequence[TlsEndpoint]) -> Verdict:
    """The worst accepted suite's level (phase out C, insufficient E); one grade lower when suites of
    different levels are accepted and the server lets the client choose among them."""
    return _conclude([_ciphers(e) for e in endpoints], CIPHER_TEXTS, cipher_fix)


# --- key exchange ------------------------------------------------------------------------------------


def _key_exchange(endpoint: TlsEndpoint) -> EndpointGrade:
    scan = _scan_of(endpoint)
    if isinstance(scan, EndpointGrade):
        return scan
    groups = {g.group: group_level(g.group) for g in scan.groups if g.status is Status.PRESENT}
    unsure = [g.group for g in scan.groups if not g.status.answered]
    suites = [c for v in scan.accepted() for c in v.ciphers]
    kexes = {suite_kex(c) or "unknown" for c in suites}
    if any(normalize_version(v.version) == "TLSv1.3" for v in scan.accepted()):
        kexes.add("TLS13")
    seen = _facts_line(
        groups=[f"{g} ({_label(lv)})" for g, lv in groups.items()] or ["none accepted"],
        **{"not determined": unsure, "key exchange in suites": sorted(kexes) or ["none"]},
    )
    level = worst(list(groups.values()))
    if level is not None:
        weak = tuple(g for g, lv in groups.items() if lv is level)
        return EndpointGrade(endpoint, level_grade(level), seen, _by_level(level), weak)
    if groups:
        return _unknown(endpoint, "failed", f"no accepted group could be classified ({seen})")
    if unsure or kexes & {"ECDHE", "TLS13"}:
        return _unknown(endpoint, "failed", f"the key exchange groups could not be determined ({seen})")
    if kexes & {"DHE", "EDH"}:
        return EndpointGrade(endpoint, Grade.B, seen, "dhe_unseen")
    if kexes & {"RSA"}:
        return EndpointGrade(endpoint, level_grade(Level.PHASE_OUT), seen, "no_fs")
    return _unknown(endpoint, "failed", f"no key exchange could be classified ({seen})")


def key_exchange_verdict(endpoints: Sequence[TlsEndpoint]) -> Verdict:
    """The worst accepted group (ffdhe2048 C, smaller E); DHE only with the group unseen B; no forward
    secrecy at all (RSA key transport only) C."""
    return _conclude([_key_exchange(e) for e in endpoints], KEX_TEXTS, kex_fix)


# --- certificates ------------------------------------------------------------------------------------


def _leaf(endpoint: TlsEndpoint) -> tuple[TlsHandshake, CertificateFacts | str] | EndpointGrade:
    tls = _handshake_of(endpoint)
    if isinstance(tls, EndpointGrade):
        return tls
    if not tls.chain:
        return tls, "no certificate was sent"
    try:
        return tls, describe_certificate(tls.chain_der[0])
    except (binascii.Error, ValueError):
        return tls, "the certificate was not recorded as base64 DER"


def _describe(leaf: CertificateFacts) -> str:
    names = ", ".join(leaf.names) or "no name"
    return f"{names}; issuer {leaf.issuer}; valid {utc(leaf.not_before)} – {utc(leaf.not_after)}"


def _certificate(endpoint: TlsEndpoint, moment: int, untrusted: Grade) -> EndpointGrade:
    found = _leaf(endpoint)
    if isinstance(found, EndpointGrade):
        return found
    tls, leaf = found
    if isinstance(leaf, str):
        return EndpointGrade(endpoint, untrusted, leaf, "unreadable", (leaf,))
    problems: list[tuple[Grade, str, str]] = []
    days = leaf.days_left(moment)
    lifetime = leaf.lifetime_days()
    # Facts in the summaries are language-neutral (dates, names); the texts around them say what they mean.
    if moment < leaf.not_before:
        problems.append((_worse(untrusted, Grade.D), "not_yet_valid", utc(leaf.not_before)))
    elif days <= 0:
        problems.append((_worse(untrusted, Grade.D), "expired", utc(leaf.not_after)))
    elif days < min(URGENT_DAYS, lifetime / 6):
        problems.append((Grade.D, "expiring", utc(leaf.not_after)))
    elif days < min(RENEW_DAYS, lifetime / 3):
        problems.append((Grade.B, "renew", utc(leaf.not_after)))
    if not name_matches(endpoint.host, leaf):
        problems.append((untrusted, "name", ", ".join(leaf.names) or "-"))
    detail = tls.trust_detail or "not trusted"
    dated = any(p[1] in ("expired", "not_yet_valid") for p in problems)
    if tls.trusted is False and not (dated and ("expired" in detail or "not valid yet" in detail)):
        problems.append((untrusted, "self_signed" if leaf.self_signed else "chain", detail))
    trust = {True: "trusted", False: f"not trusted ({detail})", None: f"trust not judged ({detail})"}
    seen = f"{_describe(leaf)}; {trust[tls.trusted]}"
    if not problems:
        if tls.trusted is None:
            return _unknown(endpoint, "failed", f"the chain's trust could not be judged ({detail})")
        return EndpointGrade(endpoint, Grade.A, seen, "good")
    grade = max((p[0] for p in problems), key=_rank)
    first = next(p for p in problems if p[0] is grade)
    also = tuple(p[1] for p in problems if p is not first)
    return EndpointGrade(endpoint, grade, seen, first[1], (first[2],), also)


def certificate_verdict(endpoints: Sequence[TlsEndpoint], moment: int, *, untrusted: Grade) -> Verdict:
    """Chain trusted, host named, in date at ``moment`` (the scan time). A chain or name failure gets
    ``untrusted`` (MTA: C, most senders use opportunistic TLS; mailbox: E, clients refuse); expired or
    not yet valid: ``untrusted`` but at least D; expiring within 14 days: D; within 30 days: B."""
    graded = [_certificate(e, moment, untrusted) for e in endpoints]
    return _conclude(graded, CERTIFICATE_TEXTS, certificate_fix)


def _certificate_key(endpoint: TlsEndpoint) -> EndpointGrade:
    found = _leaf(endpoint)
    if isinstance(found, EndpointGrade):
        return found
    leaf = found[1]
    if isinstance(leaf, str):
        return _unknown(endpoint, "failed", leaf)
    key = key_level(leaf.key_type, leaf.key_bits)
    signature = signature_level(leaf.signature_hash or leaf.signature_algorithm)
    signed = leaf.signature_hash or leaf.signature_algorithm
    seen = f"key {leaf.key_description} ({_label(key)}); signature {signed} ({_label(signature)})"
    level = worst([key, signature])
    if level is None:
        return _unknown(endpoint, "failed", f"neither key nor signature could be classified ({seen})")
    facts = tuple(t for t, lv in ((leaf.key_description, key), (signed, signature)) if lv is level)
    return EndpointGrade(endpoint, level_grade(level), seen, _by_level(level), facts)


def certificate_key_verdict(endpoints: Sequence[TlsEndpoint]) -> Verdict:
    """The leaf's key (RSA ≥ 2048, EC ≥ P-256, EdDSA) and signature hash (SHA-256 or better) by the
    profile: phase out C, insufficient E."""
    return _conclude([_certificate_key(e) for e in endpoints], KEY_TEXTS, key_fix)

"""email.mta.dane — does the certificate each server presents match its DNSSEC-secure TLSA records?

For an MX host whose address and TLSA records are DNSSEC-secure and include a usable DANE record
(``MxTlsa.secure``, ``.usable``; RFC 7672 §2.2, §3.1.3), DANE senders require STARTTLS and a chain the
records authenticate: DANE-EE(3) matches the leaf, DANE-TA(2) a certificate above it — and then the
leaf must also name the MX host (or the domain; RFC 7672 §3.2.2, checked on the SAN, CN only without
SAN). Any failure makes every DANE sender defer all mail to that server: E, critical. The fix gives
the TLSA record of the key the server presents now. N/A when no host has secure, usable TLSA records
(those are graded by email.dane.tlsa and email.dane.usable).
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mimawari.check import Check
from mimawari.checks.email.mta.base import RFC7672, Outcome, Rule, fold, judge, mta_not_graded
from mimawari.model import Category, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.dane import MxTlsa, TlsaRecord, dane_authenticates, tlsa_name
from mimawari.observations.mta import MTA, MtaObservation, MtaServer
from mimawari.parse.x509 import describe_certificate, name_matches

TITLE = Text("DANE: certificates match the TLSA records", "DANE: 証明書と TLSA レコードの一致")

MATCHES = Text(
    "The certificates of every server with DANE records match them: {servers}.",
    "DANE レコードを持つすべてのサーバーの証明書がレコードと一致しています: {servers}。",
)
FAILS = Text(
    "These servers fail DANE authentication: {servers}. Senders that use DANE defer all mail to them until "
    "it is fixed, and eventually bounce it.",
    "次のサーバーは DANE の認証に失敗します: {servers}。DANE を使う送信側は修正されるまでこれらへのメールを"
    "すべて保留し、最終的には返送します。",
)
NOT_APPLICABLE = Text(
    "No MX host has DNSSEC-secure, usable TLSA records, so senders do not use DANE for this domain.",
    "DNSSEC で保護された利用可能な TLSA レコードを持つ MX ホストがないため、送信側はこのドメインに DANE を"
    "使いません。",
)
FIX = Text(
    "Publish a TLSA record for the key the server presents now (keep the old record until its TTL has "
    "passed after a key change), or put back the certificate the records describe:",
    "サーバーが現在提示している鍵の TLSA レコードを公開してください（鍵の変更後は TTL が経過するまで古い"
    "レコードも残します）。または、レコードが示す証明書に戻してください:",
)
EFFECT = Text(
    "DANE senders authenticate the servers and deliver mail to them again.",
    "DANE を使う送信側がサーバーを認証でき、再びメールを配送できるようになります。",
)


def spki_sha256(der: bytes) -> str | None:
    """The SHA-256 of the certificate's SubjectPublicKeyInfo: the data of a ``3 1 1`` record."""
    try:
        key = x509.load_der_x509_certificate(der).public_key()
    except ValueError:
        return None
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def _names_host(der: bytes, host: str, domain: str) -> tuple[bool, str]:
    facts = describe_certificate(der)
    if isinstance(facts, str):
        return False, facts
    names = ", ".join(facts.names) or "no names"
    return name_matches(host, facts) or name_matches(domain, facts), names


def _judge_with(tlsa: dict[str, MxTlsa], domain: str) -> Rule:
    def rule(server: MtaServer) -> tuple[Grade, str]:
        entry = tlsa.get(server.host)
        if entry is None:
            return Grade.NA, "no secure, usable TLSA records"
        session = server.session
        records = " | ".join(r.text for r in entry.usable)
        if session.starttls_offered is None:
            return Grade.UNKNOWN, f"no EHLO reply seen ({session.describe()})"
        if not session.starttls_offered:
            return Grade.E, f"STARTTLS not offered; TLSA {records}"
        if session.starttls is not None and session.starttls.code != 220:
            return Grade.E, f"STARTTLS refused: {session.starttls.describe()}; TLSA {records}"
        handshake = session.tls
        if handshake is None or handshake.status is Status.TIMEOUT:
            return Grade.UNKNOWN, f"no handshake result ({session.detail or 'not reached'})"
        if handshake.status is not Status.PRESENT:
            return Grade.E, f"handshake failed: {handshake.detail}; TLSA {records}"
        chain = handshake.chain_der
        if not chain:
            return Grade.E, f"no certificate presented; TLSA {records}"
        presented = f"presented key 3 1 1 {spki_sha256(chain[0]) or '(unreadable)'}"
        if dane_authenticates(_usage(entry.usable, 3), chain):
            return Grade.A, f"DANE-EE match; {presented}"
        if dane_authenticates(_usage(entry.usable, 2), chain):
            named, names = _names_host(chain[0], server.host, domain)
            if named:
                return Grade.A, f"DANE-TA match, certificate names {names}"
            return Grade.E, f"DANE-TA match, but the certificate names {names}, not {server.host}"
        return Grade.E, f"no TLSA record matches: {presented}; TLSA {records}"

    return rule


def _usage(records: tuple[TlsaRecord, ...], usage: int) -> tuple[TlsaRecord, ...]:
    return tuple(r for r in records if r.usage == usage)


def _snippet(failing: list[MtaServer]) -> str | None:
    lines = []
    for server in failing:
        handshake = server.session.tls
        chain = handshake.chain_der if handshake is not None else ()
        digest = spki_sha256(chain[0]) if chain else None
        if digest is not None:
            lines.append(f"{tlsa_name(server.host)}. IN TLSA 3 1 1 {digest}")
    return "\n".join(dict.fromkeys(lines)) or None


def evaluate(observation: MtaObservation) -> Verdict:
    early = mta_not_graded(observation)
    if early is not None:
        return early
    dane = observation.dane
    secure = {h.host: h for h in (dane.hosts if dane else ()) if h.secure and h.usable}
    if not secure:
        return Verdict(Grade.NA, NOT_APPLICABLE, (observation.mx.mx_evidence(),))
    judged = judge(observation, _judge_with(secure, observation.domain))
    failing = [j.server for j in judged if j.grade is Grade.E]
    summaries = {Grade.A: MATCHES, Grade.E: FAILS, Grade.NA: NOT_APPLICABLE}
    fix = Fix(FIX, _snippet(failing))
    return fold(judged, Outcome(summaries, fix, EFFECT, {Grade.E: Severity.CRITICAL}))


CHECK = Check(
    id="email.mta.dane",
    category=Category.EMAIL_MTA,
    severity=Severity.HIGH,
    title=TITLE,
    references=(RFC7672,),
    observer=MTA,
    evaluate=evaluate,
)

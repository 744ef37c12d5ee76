"""A sample message the domain sent, analysed the way a receiving mailbox provider does.

The message itself travels in the target (``Target.sample_message``, from ``scan --message`` or
``message check``); the plan reads it with the pure parser (``parse.message``) and asks DNS for what a
receiver would: the DKIM key of every signature (``<s>._domainkey.<d>`` TXT; the client follows CNAMEs,
so a key delegated to a provider is found where it lives), the DMARC policy of the From domain (the
DMARC observation's own plan, with its organisational-domain fallback), SPF ``check_host()`` for the
sending IP and envelope sender (the SPF evaluation plan), and the reverse DNS of the sending IP with its
forward confirmation (the MX observation's plan). Then DKIM is verified with dkimpy over the recorded key
answers (``message_auth``) and DMARC is evaluated (RFC 7489 §4.2, §6.6): pass when SPF or DKIM passes for
a domain aligned with the From domain.

When the user gave no sending IP, envelope sender or HELO name, they are taken from the message — the
IP and HELO from the last external ``Received`` hop, the envelope sender from ``Return-Path`` — and each
says where it came from, so the evidence never passes a guess off as a fact. Every DNS failure stays a
value: a key lookup that timed out is ``temperror``, never "no key" or "fail".
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field

from mimawari.lookup import DnsAnswer, Plan, Query, ask
from mimawari.model import Evidence, Status, Target
from mimawari.observations import Observer
from mimawari.observations.dmarc import DmarcObservation, dmarc_plan
from mimawari.observations.message_auth import (
    ALGORITHMS,
    AuthResult,
    KeyFacts,
    aligned,
    verify_signature,
)
from mimawari.observations.mx import ReverseDns, reverse_dns
from mimawari.observations.spf_eval import (
    InvalidSpfInputError,
    SpfEvaluation,
    SpfResult,
    parse_client_ip,
    parse_sender,
    spf_plan,
)
from mimawari.parse.dkim_signature import DkimSignature, ReplayRisk
from mimawari.parse.message import ParsedMessage, parse_message
from mimawari.parse.message_received import ReceivedHop
from mimawari.parse.names import organizational_domain

_DNS_NAME = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9_-]{1,63}$")


@dataclass(frozen=True)
class SignatureCheck:
    """One DKIM signature of the message: its tags, its replay facts, its key and its result."""

    signature: DkimSignature
    replay: ReplayRisk
    result: AuthResult
    detail: str
    """Why the result is what it is, for evidence."""
    key: KeyFacts = field(default_factory=KeyFacts)
    key_answer: DnsAnswer | None = None
    """The ``<s>._domainkey.<d>`` TXT lookup; None when the signature was too malformed to ask."""
    aligned: bool = False
    """``d=`` is aligned with the From domain under the DMARC record's ``adkim`` (relaxed by default)."""
    covers_unsubscribe: bool = False
    """``h=`` lists both List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 §4)."""

    @property
    def passed(self) -> bool:
        return self.result is AuthResult.PASS

    def evidence(self) -> Evidence:
        sig = self.signature
        bits = f", {self.key.key_type or 'rsa'} {self.key.bits} bits" if self.key.bits else ""
        where = f"DKIM-Signature #{sig.index + 1} d={sig.domain or '?'} s={sig.selector or '?'}"
        return Evidence(where, f"{self.result.value}: {self.detail}{bits}")


@dataclass(frozen=True)
class SpfCheck:
    """SPF for the sending IP and envelope sender. ``status`` is PRESENT when it was evaluated, and
    NOT_APPLICABLE when it could not be (``detail`` says what it needs)."""

    status: Status
    detail: str = ""
    identity: str = ""
    """``mailfrom`` or ``helo`` (RFC 7208 §2.3–§2.4)."""
    evaluation: SpfEvaluation | None = None
    aligned: bool = False
    """SPF passed for a domain aligned with the From domain under ``aspf``."""

    @property
    def result(self) -> SpfResult | None:
        return self.evaluation.result if self.evaluation else None

    def evidence(self) -> Evidence:
        if self.evaluation is None:
            return Evidence("SPF", f"not evaluated: {self.detail}")
        source = f"SPF ({self.identity} {self.evaluation.domain})"
        return Evidence(source, f"{self.evaluation.result.value}: {self.evaluation.summary()}")


@dataclass(frozen=True)
class DmarcOutcome:
    """The DMARC evaluation of the message (RFC 7489 §4.2, §6.6)."""

    result: AuthResult
    """pass, fail, none (no policy), temperror (a lookup or an aligned check failed temporarily),
    permerror (the From field has not exactly one domain), neutral (undecided: DKIM does not pass
    aligned and SPF could not be evaluated — it needs the sending IP or the envelope sender)."""
    detail: str
    policy: str = ""
    """The policy receivers apply to a failing message (p, or sp for a subdomain); empty without one."""
    policy_domain: str = ""
    dkim_mode: str = "r"
    spf_mode: str = "r"
    dkim_domains: tuple[str, ...] = ()
    """``d=`` of the passing, aligned signatures."""
    spf_aligned: bool = False

    def evidence(self) -> Evidence:
        return Evidence("DMARC", f"{self.result.value}: {self.detail}")


@dataclass(frozen=True)
class MessageObservation:
    """A sample message and what receivers would conclude from it.

    ``status`` is NOT_APPLICABLE when the scan was given no sample message, ERROR when the sample could
    not be read at all, PRESENT otherwise (however broken the message: ``message.problems`` says how).
    """

    domain: str
    status: Status
    source: str = ""
    detail: str = ""
    message: ParsedMessage | None = None
    from_domain: str = ""
    sending_ip: str = ""
    sending_ip_source: str = ""
    """``given`` (``--sending-ip``), ``guessed from Received #N`` or empty (no IP)."""
    envelope_from: str | None = None
    """The MAIL FROM used for SPF (``""``: a bounce, SPF checks HELO); None when unknown."""
    envelope_source: str = ""
    helo: str = ""
    helo_source: str = ""
    signatures: tuple[SignatureCheck, ...] = ()
    spf: SpfCheck = field(default_factory=lambda: SpfCheck(Status.NOT_APPLICABLE, "no sample message"))
    dmarc: DmarcObservation | None = None
    dmarc_outcome: DmarcOutcome | None = None
    reverse: ReverseDns | None = None
    """PTR and forward confirmation of the sending IP; None without an IP."""

    @property
    def has_sample(self) -> bool:
        return self.status is Status.PRESENT and self.message is not None

    @property
    def last_hop(self) -> ReceivedHop | None:
        return self.message.last_hop if self.message else None

    @property
    def passing_signatures(self) -> tuple[SignatureCheck, ...]:
        return tuple(s for s in self.signatures if s.passed)

    @property
    def aligned_passing(self) -> tuple[SignatureCheck, ...]:
        return tuple(s for s in self.signatures if s.passed and s.aligned)

    @property
    def unsubscribe_signed(self) -> bool:
        """A passing signature covers both unsubscribe fields (RFC 8058 §4)."""
        return any(s.passed and s.covers_unsubscribe for s in self.signatures)

    @property
    def from_in_domain(self) -> bool:
        """The From domain is in the scanned domain's organisational domain."""
        return bool(self.from_domain) and (
            organizational_domain(self.from_domain) == organizational_domain(self.domain)
        )

    def sample_evidence(self) -> tuple[Evidence, ...]:
        """Which message, and where its sending IP, envelope sender and HELO came from."""
        found = [Evidence("sample message", f"{self.source} (From domain {self.from_domain or 'none'})")]
        ip = f"{self.sending_ip} ({self.sending_ip_source})" if self.sending_ip else "not known"
        found.append(Evidence("sending IP", ip))
        if self.envelope_from is not None:
            shown = self.envelope_from or "<> (a bounce)"
            found.append(Evidence("envelope sender", f"{shown} ({self.envelope_source})"))
        if self.helo:
            found.append(Evidence("HELO name", f"{self.helo} ({self.helo_source})"))
        return tuple(found)


def _sending_ip(target: Target, hop: ReceivedHop | None) -> tuple[str, str]:
    given = target.sample_message.sending_ip.strip() if target.sample_message else ""
    if given:
        return given, "given"
    if hop is not None and hop.from_ip:
        return hop.from_ip, f"guessed from Received #{hop.index + 1}"
    return "", ""


def _envelope(target: Target, message: ParsedMessage) -> tuple[str | None, str]:
    given = target.sample_message.envelope_from.strip() if target.sample_message else ""
    if given:
        return given.strip("<>"), "given"
    if message.return_path is not None:
        return message.return_path, "from Return-Path"
    return None, ""


def _helo(target: Target, hop: ReceivedHop | None) -> tuple[str, str]:
    given = target.sample_message.helo.strip() if target.sample_message else ""
    if given:
        return given, "given"
    if hop is not None and hop.from_name:
        return hop.from_name, f"guessed from Received #{hop.index + 1}"
    return "", ""


def _askable(signature: DkimSignature) -> bool:
    return (
        signature.well_formed
        and signature.algorithm in ALGORITHMS
        and bool(_DNS_NAME.match(signature.key_name))
    )


def message_plan(target: Target) -> Plan[MessageObservation]:
    sample = target.sample_message
    if sample is None:
        yield from ()
        return MessageObservation(target.domain, Status.NOT_APPLICABLE, detail="no sample message")
    try:
        raw = sample.raw()
    except (binascii.Error, ValueError) as error:
        return MessageObservation(target.domain, Status.ERROR, sample.source, f"not base64: {error}")
    message = parse_message(raw)
    hop = message.last_hop
    ip, ip_source = _sending_ip(target, hop)
    envelope, envelope_source = _envelope(target, message)
    helo, helo_source = _helo(target, hop)
    from_domain = message.from_domain

    queries = tuple(
        dict.fromkeys(
            Query.of(f.signature.key_name, "TXT") for f in message.signatures if _askable(f.signature)
        )
    )
    keys = dict(zip(queries, (yield from ask(*queries)), strict=True)) if queries else {}

    dmarc = (yield from dmarc_plan(Target(from_domain))) if from_domain else None
    record = dmarc.record if dmarc is not None and dmarc.status is Status.PRESENT else None
    dkim_mode = record.alignment("adkim") if record else "r"
    spf_mode = record.alignment("aspf") if record else "r"

    checks = []
    for facts in message.signatures:
        signature = facts.signature
        answer = keys.get(Query.of(signature.key_name, "TXT")) if _askable(signature) else None
        if message.truncated:
            result, detail, key = AuthResult.NEUTRAL, "not verified: the message is too large", KeyFacts()
        else:
            result, detail, key = verify_signature(raw, signature, answer)
        covers = signature.signs("list-unsubscribe") > 0 and signature.signs("list-unsubscribe-post") > 0
        checks.append(
            SignatureCheck(
                signature,
                facts.replay,
                result,
                detail,
                key,
                answer,
                aligned(signature.domain, from_domain, dkim_mode),
                covers,
            )
        )
    spf = yield from _spf(ip, envelope, helo, from_domain, spf_mode, target.moment())
    reverse = None
    if ip and ip_source:
        found = yield from reverse_dns([ip])
        reverse = found[0] if found else None
    outcome = _dmarc_outcome(from_domain, dmarc, tuple(checks), spf, dkim_mode, spf_mode)
    return MessageObservation(
        target.domain, Status.PRESENT, sample.source, "", message, from_domain,
        ip, ip_source, envelope, envelope_source, helo, helo_source,
        tuple(checks), spf, dmarc, outcome, reverse,
    )  # fmt: skip


def _spf(
    ip: str, envelope: str | None, helo: str, from_domain: str, mode: str, moment: int
) -> Plan[SpfCheck]:
    if not ip:
        yield from ()
        return SpfCheck(
            Status.NOT_APPLICABLE, "needs the sending IP (--sending-ip, or a Received field with it)"
        )
    try:
        client = str(parse_client_ip(ip))
        sender = parse_sender(envelope) if envelope is not None else None
    except InvalidSpfInputError as error:
        return SpfCheck(Status.NOT_APPLICABLE, str(error))
    if sender is None:
        return SpfCheck(
            Status.NOT_APPLICABLE, "needs the envelope sender (--envelope-from, or a Return-Path field)"
        )
    if not sender and not helo:
        return SpfCheck(
            Status.NOT_APPLICABLE, "a bounce (MAIL FROM <>) is checked by its HELO name: give --helo"
        )
    evaluation = yield from spf_plan(client, sender, helo, timestamp=moment)
    passed = evaluation.result is SpfResult.PASS
    return SpfCheck(
        Status.PRESENT,
        "",
        "mailfrom" if sender else "helo",
        evaluation,
        passed and aligned(evaluation.domain.lower(), from_domain, mode),
    )


def _dmarc_outcome(
    from_domain: str,
    dmarc: DmarcObservation | None,
    signatures: tuple[SignatureCheck, ...],
    spf: SpfCheck,
    dkim_mode: str,
    spf_mode: str,
) -> DmarcOutcome:
    if not from_domain or dmarc is None:
        return DmarcOutcome(AuthResult.PERMERROR, "the From field has not exactly one address with a domain")
    dkim_domains = tuple(dict.fromkeys(s.signature.domain for s in signatures if s.passed and s.aligned))
    record = dmarc.record if dmarc.status is Status.PRESENT else None
    policy_domain = dmarc.policy_domain or "" if record is not None else ""
    applied = record.effective_policy(subdomain=policy_domain != from_domain) if record is not None else None
    policy = applied.value if applied is not None else ""

    def outcome(result: AuthResult, detail: str) -> DmarcOutcome:
        return DmarcOutcome(
            result, detail, policy, policy_domain, dkim_mode, spf_mode, dkim_domains, spf.aligned
        )

    passes = [f"DKIM d={d}" for d in dkim_domains]
    if spf.aligned and spf.evaluation is not None:
        passes.append(f"SPF {spf.evaluation.domain}")
    if not dmarc.status.answered:
        return outcome(
            AuthResult.TEMPERROR,
            f"the DMARC policy of {from_domain} could not be looked up ({dmarc.status.value})",
        )
    if record is None:
        why = "no DMARC record" if dmarc.status is Status.ABSENT else "more than one DMARC record"
        aligned_by = f"aligned: {', '.join(passes)}" if passes else "nothing aligned passes"
        return outcome(AuthResult.NONE, f"{why} for {from_domain}; {aligned_by}")
    if passes:
        return outcome(
            AuthResult.PASS,
            f"aligned with {from_domain} by {', '.join(passes)} (policy p={policy or 'none'} at {policy_domain})",
        )
    temporary = [
        f"DKIM d={s.signature.domain} temperror"
        for s in signatures
        if s.result is AuthResult.TEMPERROR and aligned(s.signature.domain, from_domain, dkim_mode)
    ]
    if spf.result is SpfResult.TEMPERROR:
        temporary.append("SPF temperror")
    if not temporary and spf.evaluation is None:
        return outcome(
            AuthResult.NEUTRAL,
            f"undecided: no DKIM signature passes aligned with {from_domain}, and SPF was not evaluated "
            f"({spf.detail})",
        )
    if temporary:
        # RFC 7489 §6.6.2: a temporary failure of a check that could have aligned is no DMARC fail.
        return outcome(
            AuthResult.TEMPERROR, f"nothing aligned passes, but {', '.join(temporary)}: try again later"
        )
    return outcome(
        AuthResult.FAIL,
        f"neither SPF nor DKIM passes for a domain aligned with {from_domain} "
        f"(adkim={dkim_mode}, aspf={spf_mode}); receivers apply p={policy or 'none'}",
    )


MESSAGE = Observer("message", message_plan)

"""What the gateway does with a message, given what the detector found and who sent it to whom. Pure.

    policy = load_policy("policy.yaml")
    decision = decide(policy, envelope, inspection)              # or outcome=Failure("over 64 MiB")
    decision.action, decision.reply, decision.exemption

The verdict picks an action from ``actions``; an approved exception that has not expired replaces it.
A sender exception matches the envelope sender's address or domain. A recipient exception applies only
when it covers *every* recipient: the milter acts on the message, not on each copy, and one message to
an excepted and a non-excepted recipient must not carry the encrypted archive to the second. Expired
exceptions are skipped (``gateway policy check`` lists them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from mimawari.gateway.policy_config import Action, Exemption, PolicyFile, ReplyConfig
from mimawari.gateway.verdict import Inspection, Verdict

ERROR = "error"


@dataclass(frozen=True)
class Envelope:
    """The SMTP envelope and connection of one message, as the MTA told the milter."""

    sender: str = ""
    recipients: tuple[str, ...] = ()
    queue_id: str = ""
    client_address: str = ""
    client_name: str = ""
    message_id: str = ""


@dataclass(frozen=True)
class Failure:
    """The message could not be inspected: over the size cap, the detector failed or took too long."""

    reason: str


@dataclass(frozen=True)
class Reply:
    code: int
    status: str
    lines: tuple[str, ...]

    def first_line(self) -> str:
        """The reply as the audit log records it: code, status and the first text."""
        return f"{self.code} {self.status} {self.lines[0] if self.lines else ''}".rstrip()


@dataclass(frozen=True)
class Decision:
    verdict: str
    """``encrypted``, ``clean``, ``undecidable`` or ``error``."""
    action: Action
    reply: Reply | None = None
    """For ``reject`` and ``tempfail``: what the MTA answers the end of data with."""
    exemption: Exemption | None = None
    strip_sections: tuple[str, ...] = field(default=())
    """For ``strip``: the MIME sections to remove."""
    reason: str = ""
    """For ``error``: why the message could not be inspected."""


def verdict_of(outcome: Inspection | Failure) -> str:
    return ERROR if isinstance(outcome, Failure) else str(outcome.verdict)


def decide(
    policy: PolicyFile, envelope: Envelope, outcome: Inspection | Failure, today: date | None = None
) -> Decision:
    """The action for one message; ``today`` (the gateway's local date) decides which exceptions expired."""
    verdict = verdict_of(outcome)
    if verdict == Verdict.CLEAN:
        return Decision(verdict, Action.ACCEPT)
    action = {
        Verdict.ENCRYPTED: policy.actions.encrypted,
        Verdict.UNDECIDABLE: policy.actions.undecidable,
    }.get(verdict, policy.actions.error)  # type: ignore[call-overload]
    exemption = matching_exemption(policy.exceptions, envelope, verdict, today or date.today())
    if exemption is not None:
        action = exemption.action
    reason = outcome.reason if isinstance(outcome, Failure) else ""
    sections: tuple[str, ...] = ()
    if action is Action.STRIP and isinstance(outcome, Inspection):
        found = [p.section for p in outcome.encrypted] + [p.section for p in outcome.undecided]
        sections = tuple(dict.fromkeys(found))
    reply = None
    if action is Action.REJECT:
        reply = reply_of(policy.reject, policy.reply_languages)
    elif action is Action.TEMPFAIL:
        reply = reply_of(policy.tempfail, policy.reply_languages)
    return Decision(verdict, action, reply, exemption, sections, reason)


def reply_of(config: ReplyConfig, languages: Sequence[str]) -> Reply:
    texts = {"en": config.text.en, "ja": config.text.ja}
    return Reply(config.code, config.status, tuple(texts[lang] for lang in languages))


def matching_exemption(
    exemptions: Sequence[Exemption], envelope: Envelope, verdict: str, today: date
) -> Exemption | None:
    """The first exception that has not expired, covers ``verdict`` and matches the envelope."""
    for exemption in exemptions:
        if exemption.expired(today) or verdict not in exemption.verdicts:
            continue
        if exemption.sender is not None and address_matches(exemption.sender, envelope.sender):
            return exemption
        if exemption.recipient is not None and envelope.recipients:
            rule = exemption.recipient
            if all(address_matches(rule, r) for r in envelope.recipients):
                return exemption
    return None


def address_matches(rule: str, address: str) -> bool:
    """``rule`` is an address (``user@domain``, the whole address must match) or a domain (the address's
    domain must equal it; subdomains are other domains). Case-insensitive."""
    address = address.strip().lower()
    if "@" in rule:
        return address == rule
    return "@" in address and address.rpartition("@")[2].rstrip(".") == rule.rstrip(".")


def expired_exemptions(policy: PolicyFile, today: date | None = None) -> list[Exemption]:
    when = today or date.today()
    return [e for e in policy.exceptions if e.expired(when)]


def notice_text(policy: PolicyFile, inspection: Inspection, sections: Sequence[str]) -> str:
    """The notice part's text: English, then Japanese, each with the removed parts listed."""
    wanted = set(sections)
    rows = [f"  - {p.part} ({p.kind})" for p in inspection.encrypted if p.section in wanted]
    rows += [f"  - {p.part} ({p.reason})" for p in inspection.undecided if p.section in wanted]
    listing = "\n".join(rows) or "  -"
    text = policy.notice.text().format(parts=listing)
    return f"{text.en}\n\n{text.ja}\n"


def tag_value(decision: Decision, outcome: Inspection | Failure) -> str:
    """The tag header's value: the verdict, then the parts (``encrypted; 2/a.zip zip-aes``)."""
    if isinstance(outcome, Failure):
        details = [outcome.reason]
    else:
        details = [f"{p.part} {p.kind}" for p in outcome.encrypted]
        details += [f"{p.part} undecidable" for p in outcome.undecided]
    value = "; ".join([decision.verdict, *details])
    # One ASCII line whatever the part names hold: a header is no place for raw UTF-8 or line breaks.
    value = " ".join(value.split()).encode("ascii", "backslashreplace").decode("ascii")
    return value if len(value) <= 900 else value[:897] + "..."

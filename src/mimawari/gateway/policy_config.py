"""The gateway's policy file: what to do with each verdict, the texts, the exceptions, the budgets.

A YAML mapping, every key optional (an empty file is the default policy: reject what is encrypted,
tempfail what cannot be decided or could not be read)::

    actions:
      encrypted: reject        # reject | tempfail | strip | quarantine | tag | accept
      undecidable: tempfail
      error: tempfail          # the message could not be inspected (over the size cap, the detector failed)
    reject:   {code: 550, status: 5.7.1, text: {en: "...", ja: "..."}}
    tempfail: {code: 451, status: 4.7.1, text: {en: "...", ja: "..."}}
    reply_languages: [en]      # the reply's lines, in this order; ja is UTF-8 (RFC 6531), see docs/gateway.md
    notice: {en: "...", ja: "..."}   # strip: the part added in place of what was removed ({parts})
    tag_header: X-Mimawari-Encrypted
    budgets: {max_message_bytes: 52428800, max_depth: 5, max_seconds: 30}   # ``Budgets``' fields
    milter: {workers: 4, max_connections: 256, idle_timeout: 600}
    quarantine: {directory: /var/lib/mimawari/quarantine, relay: "127.0.0.1:10025"}
    audit_log: /var/log/mimawari/gateway.jsonl
    exceptions:
      - sender: partner.example          # a domain, or an address (user@domain)
        approved_by: Sato (CISO)
        reason: drawings under NDA, sent as AES ZIP until the portal is ready
        expires: 2026-03-31              # the last day it applies
        action: tag                      # default accept
        verdicts: [encrypted]            # default [encrypted, undecidable]

A file that cannot be used stops the command with one line naming the file and the key at fault, as
``mimawari.config`` does for the main configuration.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mimawari.gateway.budgets import Budgets
from mimawari.model import Text
from mimawari.yaml_documents import parse_document, read_limited

_STATUS = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")
_HEADER_NAME = re.compile(r"[!-9;-~]+")


class Action(StrEnum):
    REJECT = "reject"
    """``550 5.7.1`` at end of data: the sender's server tells the sender."""
    TEMPFAIL = "tempfail"
    """``451 4.7.1``: the sender's server retries, and bounces after its queue lifetime."""
    STRIP = "strip"
    """Remove the MIME parts holding encrypted (or undecidable) content, add a notice part, deliver."""
    QUARANTINE = "quarantine"
    """Store the message in the quarantine directory and discard it: the sender sees it accepted, an
    operator releases it or deletes it. Not rejected: a release after a rejection delivers it twice."""
    TAG = "tag"
    """Deliver with a header naming the verdict and the parts."""
    ACCEPT = "accept"


ERROR_ACTIONS = frozenset([Action.TEMPFAIL, Action.REJECT, Action.TAG, Action.ACCEPT])
"""A message that could not be read (or not whole) cannot be stripped or kept."""
ExceptedVerdict = Literal["encrypted", "undecidable", "error"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class Texts(_Strict):
    en: str = Field(min_length=1)
    ja: str = Field(min_length=1)

    @field_validator("en", "ja")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(ord(c) < 0x20 and c not in "\n" for c in value):
            raise ValueError("control characters are not allowed")
        return value

    def text(self) -> Text:
        return Text(en=self.en, ja=self.ja)


class Actions(_Strict):
    encrypted: Action = Action.REJECT
    undecidable: Action = Action.TEMPFAIL
    error: Action = Action.TEMPFAIL

    @field_validator("error")
    @classmethod
    def _readable(cls, value: Action) -> Action:
        if value not in ERROR_ACTIONS:
            allowed = ", ".join(sorted(ERROR_ACTIONS))
            raise ValueError(f"{value} needs the whole message, which an error leaves unread: use {allowed}")
        return value


class ReplyConfig(_Strict):
    code: int
    status: str
    text: Texts

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not 400 <= self.code <= 599:
            raise ValueError(f"code {self.code} is not a 4xx or 5xx SMTP reply code")
        if not _STATUS.fullmatch(self.status):
            raise ValueError(f"status {self.status!r} is not an RFC 3463 enhanced status code (5.7.1)")
        if self.status[0] != str(self.code)[0]:
            raise ValueError(f"status {self.status} and code {self.code} are of different classes")
        for line in (self.text.en, self.text.ja):
            if "\n" in line:
                raise ValueError("a reply text is one line")
        return self


DEFAULT_REJECT = ReplyConfig(
    code=550,
    status="5.7.1",
    text=Texts(
        en="Encrypted attachments are not accepted here; please send the file another way.",
        ja="暗号化された添付ファイルは受け付けていません。別の方法でお送りください。",
    ),
)
DEFAULT_TEMPFAIL = ReplyConfig(
    code=451,
    status="4.7.1",
    text=Texts(
        en="The message could not be checked for encrypted attachments; try again later.",
        ja="暗号化添付ファイルの検査ができませんでした。しばらくしてから再送してください。",
    ),
)
DEFAULT_NOTICE = Texts(
    en="Attachments that were encrypted or could not be checked were removed by the mail gateway:\n{parts}",
    ja="暗号化された、または検査できなかった添付ファイルをメールゲートウェイが削除しました:\n{parts}",
)


class Exemption(_Strict):
    """An approved exception to the policy: who approved it, why, and until when."""

    sender: str | None = None
    recipient: str | None = None
    approved_by: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    expires: date
    """The last day the exception applies."""
    action: Action = Action.ACCEPT
    verdicts: tuple[ExceptedVerdict, ...] = ("encrypted", "undecidable")

    @field_validator("sender", "recipient")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower()
        local, at, domain = value.rpartition("@")
        if (
            not domain
            or "." not in domain.strip(".")
            or (at and not local)
            or any(c.isspace() for c in value)
        ):
            raise ValueError(f"{value!r} is neither a domain nor an address (user@domain)")
        return value

    @model_validator(mode="after")
    def _one_side(self) -> Self:
        if (self.sender is None) == (self.recipient is None):
            raise ValueError("an exception names either a sender or a recipient")
        if "error" in self.verdicts and self.action not in ERROR_ACTIONS:
            raise ValueError(f"action {self.action} cannot apply to errors")
        return self

    def expired(self, today: date) -> bool:
        return today > self.expires

    def describe(self) -> str:
        who = f"sender {self.sender}" if self.sender else f"recipient {self.recipient}"
        return f"{who} until {self.expires.isoformat()} (approved by {self.approved_by})"


class MilterLimits(_Strict):
    workers: int = Field(default=4, ge=1, le=64)
    """Messages inspected at once (threads)."""
    max_connections: int = Field(default=256, ge=1, le=10000)
    idle_timeout: float = Field(default=600.0, gt=0)
    """A connection that sends nothing for this long is closed (Postfix waits at most 300 s per step)."""


class QuarantineConfig(_Strict):
    directory: str | None = None
    relay: str | None = None
    """``host:port`` of the MTA that ``release`` hands messages to (a Postfix listener that skips the milter)."""

    @field_validator("relay")
    @classmethod
    def _relay(cls, value: str | None) -> str | None:
        if value is not None:
            split_host_port(value)
        return value


class PolicyFile(_Strict):
    actions: Actions = Actions()
    reject: ReplyConfig = DEFAULT_REJECT
    tempfail: ReplyConfig = DEFAULT_TEMPFAIL
    reply_languages: tuple[Literal["en", "ja"], ...] = Field(default=("en",), min_length=1)
    notice: Texts = DEFAULT_NOTICE
    tag_header: str = "X-Mimawari-Encrypted"
    budgets: dict[str, int | float] = {}
    milter: MilterLimits = MilterLimits()
    quarantine: QuarantineConfig = QuarantineConfig()
    audit_log: str | None = None
    exceptions: tuple[Exemption, ...] = ()

    @field_validator("reject")
    @classmethod
    def _permanent(cls, value: ReplyConfig) -> ReplyConfig:
        if value.code < 500:
            raise ValueError(f"code {value.code}: a rejection is a 5xx reply")
        return value

    @field_validator("tempfail")
    @classmethod
    def _temporary(cls, value: ReplyConfig) -> ReplyConfig:
        if value.code >= 500:
            raise ValueError(f"code {value.code}: a temporary failure is a 4xx reply")
        return value

    @field_validator("tag_header")
    @classmethod
    def _header(cls, value: str) -> str:
        if not _HEADER_NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a header field name")
        return value

    @field_validator("budgets")
    @classmethod
    def _budgets(cls, value: dict[str, int | float]) -> dict[str, int | float]:
        budgets_of(value)
        return value

    @model_validator(mode="after")
    def _quarantine_has_a_place(self) -> Self:
        wanted = [a for a in (self.actions.encrypted, self.actions.undecidable) if a is Action.QUARANTINE]
        wanted += [e.action for e in self.exceptions if e.action is Action.QUARANTINE]
        if wanted and not self.quarantine.directory:
            raise ValueError("quarantine is an action but quarantine.directory is not set")
        return self

    def budgets_value(self) -> Budgets:
        return budgets_of(self.budgets)


def budgets_of(values: dict[str, int | float]) -> Budgets:
    """The detector's ``Budgets`` with the given fields replaced; unknown names and values below 1 refused."""
    known = {f.name: f for f in dataclasses.fields(Budgets)}
    defaults = Budgets()
    for name, number in values.items():
        if name not in known:
            raise ValueError(f"unknown budget {name!r} (known: {', '.join(sorted(known))})")
        if isinstance(number, bool) or number <= 0:
            raise ValueError(f"budget {name} must be a positive number")
        if isinstance(getattr(defaults, name), int) and not isinstance(number, int):
            raise ValueError(f"budget {name} must be a whole number")
    return dataclasses.replace(defaults, **values)  # type: ignore[arg-type]  # checked just above


def split_host_port(value: str, *, any_port: bool = False) -> tuple[str, int]:
    """``127.0.0.1:10025`` or ``[::1]:10025`` → host and port (port 0, "any free port", only with
    ``any_port``); ValueError in one line otherwise."""
    host, colon, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    lowest = 0 if any_port else 1
    if not colon or not host or not port.isdigit() or not lowest <= int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port")
    return host, int(port)


def parse_policy(raw: bytes, source: str) -> PolicyFile:
    """The policy in ``raw``; ``InputError`` naming ``source`` and the key when it cannot be used."""
    return parse_document(PolicyFile, raw, f"the policy {source}", "actions, exceptions, ...")


def load_policy(path: str | Path) -> PolicyFile:
    found = Path(path)
    return parse_policy(read_limited(found, "the policy"), str(found))

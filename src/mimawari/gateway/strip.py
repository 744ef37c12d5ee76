"""Strip: remove MIME parts from a message and add a notice part in their place. Pure.

Sections are IMAP's (RFC 3501 §6.4.5), as the detector reports them: the children of a multipart are
``1``, ``2``, …; a non-multipart message's body is ``1``; inside an attached ``message/rfc822`` at ``2``,
its multipart's children are ``2.1``, ``2.2``, and a single-part body is ``2.1``. Removing that lone body
removes the attached message with it, and a multipart left empty goes too.

When the message is ``multipart/mixed`` the notice is appended as its last part and only the body
changes. Otherwise (a single part, ``multipart/alternative``, …) the message becomes ``multipart/mixed``
holding what is left of the original and the notice, so ``Content-Type`` changes and
``Content-Transfer-Encoding`` goes (a multipart is 7bit or 8bit by its parts). Parts that are not
touched are written back as they came (compat32: no refolding of their headers, no re-encoding).
"""

from __future__ import annotations

import email
import email.policy
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.message import Message
from email.mime.text import MIMEText
from io import BytesIO

_POLICY = email.policy.compat32.clone(linesep="\r\n")
_CONTENT_HEADERS = (
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "Content-Description",
    "Content-ID",
)


@dataclass(frozen=True)
class HeaderEdit:
    name: str
    value: str | None
    """The header's new value (its first occurrence changed, or added); None deletes every occurrence."""


@dataclass(frozen=True)
class Stripped:
    body: bytes
    """The new body, CRLF line endings."""
    header_edits: tuple[HeaderEdit, ...]
    removed: tuple[str, ...]
    """The sections actually removed (unknown sections are ignored)."""


def parse(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def walk_sections(message: Message) -> Iterator[tuple[str, Message, Message | None]]:
    """Every MIME entity below the top with its section and its parent entity (multipart or rfc822)."""
    yield from _children(message, "")


def _children(entity: Message, prefix: str) -> Iterator[tuple[str, Message, Message | None]]:
    payload = entity.get_payload()
    if entity.is_multipart() and entity.get_content_maintype() == "multipart":
        for number, child in enumerate(payload if isinstance(payload, list) else [], start=1):
            section = f"{prefix}{number}"
            yield section, child, entity
            yield from _inside(child, section)
    elif not prefix:
        yield "1", entity, None
        yield from _inside(entity, "1")


def _inside(entity: Message, section: str) -> Iterator[tuple[str, Message, Message | None]]:
    if entity.get_content_maintype() == "multipart":
        yield from _children(entity, f"{section}.")
    elif entity.get_content_type() == "message/rfc822" and entity.is_multipart():
        inner = entity.get_payload(0)
        assert isinstance(inner, Message)
        if inner.get_content_maintype() == "multipart":
            yield from _children(inner, f"{section}.")
        else:
            yield f"{section}.1", inner, entity
            yield from _inside(inner, f"{section}.1")


def strip_sections(raw: bytes, sections: Sequence[str], notice: str) -> Stripped:
    message = parse(raw)
    found = {section: (part, parent) for section, part, parent in walk_sections(message)}
    removed: list[str] = []
    top_removed = False
    for section in sections:
        if section not in found:
            continue
        part, parent = found[section]
        removed.append(section)
        while parent is not None and parent.get_content_type() == "message/rfc822":
            # The lone body of an attached message: the attached message goes with it.
            part, parent = _entity_holding(found, parent)
        if parent is None:
            top_removed = True
        else:
            _detach(parent, part)
    top_removed = top_removed or _prune_empty(message)
    notice_part = MIMEText(notice, "plain", "utf-8")
    notice_part["Content-Description"] = "mimawari gateway notice"
    if not top_removed and message.get_content_type() == "multipart/mixed":
        message.attach(notice_part)
        return Stripped(_body(message), (), tuple(removed))
    boundary = f"=_mimawari_{secrets.token_hex(12)}"
    wrapper = Message(policy=email.policy.compat32)
    wrapper["Content-Type"] = f'multipart/mixed; boundary="{boundary}"'
    wrapper.set_payload([_as_part(message), notice_part] if not top_removed else [notice_part])
    edits = [
        HeaderEdit("Content-Type", wrapper["Content-Type"]),
        HeaderEdit("Content-Transfer-Encoding", None),
    ]
    if message.get("MIME-Version") is None:
        edits.append(HeaderEdit("MIME-Version", "1.0"))
    return Stripped(_body(wrapper), tuple(edits), tuple(removed))


def _entity_holding(
    found: dict[str, tuple[Message, Message | None]], entity: Message
) -> tuple[Message, Message | None]:
    for part, parent in found.values():
        if part is entity:
            return part, parent
    return entity, None


def _detach(parent: Message, part: Message) -> None:
    payload = parent.get_payload()
    if isinstance(payload, list):
        parent.set_payload([child for child in payload if child is not part])


def _prune_empty(entity: Message) -> bool:
    """Drop multiparts left without parts, bottom up; True when ``entity`` itself is left empty."""
    if entity.get_content_maintype() != "multipart":
        return False
    payload = entity.get_payload()
    children = payload if isinstance(payload, list) else []
    kept: list[Message | str] = [c for c in children if isinstance(c, Message) and not _prune_empty(c)]
    if len(kept) != len(children):
        entity.set_payload(kept)
    return not kept


def _as_part(message: Message) -> Message:
    """The original message's content as a part: its content headers and its body, nothing else."""
    part = Message(policy=email.policy.compat32)
    for name in _CONTENT_HEADERS:
        for value in message.get_all(name, []):
            part[name] = value
    part.set_payload(message.get_payload())
    if message.preamble is not None:
        part.preamble = message.preamble
    if message.epilogue is not None:
        part.epilogue = message.epilogue
    return part


def _body(message: Message) -> bytes:
    buffer = BytesIO()
    BytesGenerator(buffer, mangle_from_=False, policy=_POLICY).flatten(message)
    text = buffer.getvalue()
    _, separator, body = text.partition(b"\r\n\r\n")
    return body if separator else b""

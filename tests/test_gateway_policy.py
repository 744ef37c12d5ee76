"""The gateway's policy file, its decisions and exceptions, strip, the audit log and the quarantine."""

from __future__ import annotations

import base64
import contextlib
import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest

from mimawari.errors import InputError
from mimawari.gateway.audit import AuditLog
from mimawari.gateway.budgets import Budgets
from mimawari.gateway.detect import inspect_message
from mimawari.gateway.enforce import Gateway
from mimawari.gateway.policy import Envelope, Failure, address_matches, decide, expired_exemptions
from mimawari.gateway.policy_config import Action, load_policy, parse_policy
from mimawari.gateway.quarantine import Quarantine, QuarantineError
from mimawari.gateway.strip import HeaderEdit, strip_sections
from mimawari.gateway.verdict import EncryptedPart, Inspection, Kind, Verdict
from tests.gateway_rig import aes_zip, mail, plain_zip

TODAY = date(2025, 6, 1)
ENCRYPTED = Inspection(Verdict.ENCRYPTED, (EncryptedPart("2/a.zip", "2", Kind.ZIP_AES, 0),), parts=2)
ENVELOPE = Envelope(sender="alice@partner.example", recipients=("bob@ours.example",))


def _policy(text: str) -> object:
    return parse_policy(text.encode(), "policy.yaml")


def test_an_empty_file_is_the_default_policy() -> None:
    policy = parse_policy(b"", "policy.yaml")
    assert (policy.actions.encrypted, policy.actions.undecidable, policy.actions.error) == (
        Action.REJECT,
        Action.TEMPFAIL,
        Action.TEMPFAIL,
    )
    assert policy.budgets_value() == Budgets()
    decision = decide(policy, ENVELOPE, ENCRYPTED, TODAY)
    assert decision.action is Action.REJECT and decision.reply is not None
    assert (decision.reply.code, decision.reply.status) == (550, "5.7.1") and len(decision.reply.lines) == 1
    assert decide(policy, ENVELOPE, Failure("too big"), TODAY).reply.code == 451  # type: ignore[union-attr]
    assert decide(policy, ENVELOPE, Inspection(Verdict.CLEAN), TODAY).action is Action.ACCEPT


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("actions: {encrypted: burn}", "policy.yaml: actions.encrypted: Input should be 'reject'"),
        ("actions: {error: strip}", "policy.yaml: actions.error: strip needs the whole message"),
        ("reject: {code: 450, status: 4.7.1, text: {en: a, ja: b}}", "policy.yaml: reject: code 450"),
        ("tempfail: {code: 451, status: 5.7.1, text: {en: a, ja: b}}", "of different classes"),
        ("reject: {code: 550, status: '5.71', text: {en: a, ja: b}}", "not an RFC 3463 enhanced status code"),
        ("budgets: {max_dept: 3}", "policy.yaml: budgets: unknown budget 'max_dept'"),
        ("budgets: {max_depth: 0}", "budget max_depth must be a positive number"),
        ("actions: {encrypted: quarantine}", "quarantine.directory is not set"),
        ("tag_header: 'X Bad'", "policy.yaml: tag_header: 'X Bad' is not a header field name"),
        ("colour: blue", "policy.yaml: colour: Extra inputs are not permitted"),
        ("actions: [reject", "policy.yaml is not YAML: expected ',' or ']'"),
        ("- a list", "policy.yaml must be a mapping"),
        (
            "exceptions: [{sender: x.example, approved_by: me, reason: r}]",
            "policy.yaml: exceptions.0.expires: Field required",
        ),
        (
            "exceptions: [{sender: x.example, recipient: y.example, approved_by: a, reason: r, expires: 2030-01-01}]",
            "either a sender or a recipient",
        ),
        (
            "exceptions: [{sender: 'not a domain', approved_by: a, reason: r, expires: 2030-01-01}]",
            "is neither a domain nor an address",
        ),
        ("quarantine: {relay: 'localhost'}", "quarantine.relay: 'localhost' is not host:port"),
    ],
)
def test_a_broken_policy_is_one_line_naming_the_file_and_the_key(text: str, message: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_policy(text.encode(), "policy.yaml")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_missing_policy_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot read the policy .*nothing.yaml: No such file"):
        load_policy(tmp_path / "nothing.yaml")


EXCEPTIONS = """
exceptions:
  - sender: partner.example
    approved_by: Sato
    reason: NDA drawings
    expires: 2025-06-01
    action: tag
    verdicts: [encrypted]
  - recipient: legal@ours.example
    approved_by: Suzuki
    reason: e-discovery
    expires: 2025-12-31
  - sender: old@partner.example
    approved_by: Tanaka
    reason: ended
    expires: 2025-05-31
"""


def test_exceptions_match_by_domain_or_address_until_they_expire() -> None:
    policy = parse_policy(EXCEPTIONS.encode(), "p.yaml")
    decision = decide(policy, ENVELOPE, ENCRYPTED, TODAY)  # the last day it applies
    assert decision.action is Action.TAG and decision.exemption is not None
    assert decision.exemption.approved_by == "Sato"
    assert decide(policy, ENVELOPE, ENCRYPTED, date(2025, 6, 2)).action is Action.REJECT
    # Only the verdicts it names.
    undecidable = Inspection(Verdict.UNDECIDABLE)
    assert decide(policy, ENVELOPE, undecidable, TODAY).action is Action.TEMPFAIL
    # A subdomain is another domain.
    other = Envelope(sender="x@mail.partner.example", recipients=("bob@ours.example",))
    assert decide(policy, other, ENCRYPTED, TODAY).exemption is None
    assert [e.approved_by for e in expired_exemptions(policy, TODAY)] == ["Tanaka"]


def test_a_recipient_exception_needs_every_recipient() -> None:
    policy = parse_policy(EXCEPTIONS.encode(), "p.yaml")
    alone = Envelope(sender="x@else.example", recipients=("Legal@Ours.example",))
    assert decide(policy, alone, ENCRYPTED, TODAY).action is Action.ACCEPT
    shared = Envelope(sender="x@else.example", recipients=("legal@ours.example", "bob@ours.example"))
    assert decide(policy, shared, ENCRYPTED, TODAY).action is Action.REJECT


def test_address_matching() -> None:
    assert address_matches("partner.example", "A@Partner.Example")
    assert not address_matches("partner.example", "a@notpartner.example")
    assert address_matches("a@partner.example", "A@partner.example")
    assert not address_matches("a@partner.example", "b@partner.example")
    assert not address_matches("partner.example", "")


def _parsed(headers: bytes, body: bytes) -> EmailMessage:
    message = email.message_from_bytes(headers + b"\r\n" + body, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _head(raw: bytes, edits: tuple[HeaderEdit, ...]) -> bytes:
    """The message's headers with the edits applied, as the MTA would."""
    head = email.message_from_bytes(raw.partition(b"\r\n\r\n")[0] + b"\r\n\r\n", policy=email.policy.compat32)
    for edit in edits:
        del head[edit.name]
        if edit.value is not None:
            head[edit.name] = edit.value
    return head.as_bytes().partition(b"\n\n")[0].replace(b"\n", b"\r\n") + b"\r\n"


def test_strip_removes_the_encrypted_part_and_appends_the_notice() -> None:
    archive = aes_zip()
    raw = mail("s", archive)
    inspection = inspect_message(raw)
    assert inspection.verdict is Verdict.ENCRYPTED
    stripped = strip_sections(raw, [p.section for p in inspection.encrypted], "removed: 2/invoice.zip")
    assert stripped.header_edits == () and stripped.removed == ("2",)
    message = _parsed(_head(raw, ()), stripped.body)
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/plain"]
    first, notice = (part.get_content().strip() for part in message.iter_parts())
    assert (first, notice) == ("Hello, the figures are attached. s", "removed: 2/invoice.zip")
    assert inspect_message(_head(raw, ()) + b"\r\n" + stripped.body).verdict is Verdict.CLEAN


def test_strip_of_a_lone_archive_or_inside_an_attached_message_rewraps_the_message() -> None:
    archive = aes_zip()
    lone = (
        b"From: a@x.example\r\nSubject: zip only\r\nMIME-Version: 1.0\r\nContent-Type: application/zip\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(archive).replace(b"\n", b"\r\n")
    )
    stripped = strip_sections(lone, ["1"], "notice")
    assert [e.name for e in stripped.header_edits] == ["Content-Type", "Content-Transfer-Encoding"]
    message = _parsed(_head(lone, stripped.header_edits), stripped.body)
    assert message.get_content_type() == "multipart/mixed"
    assert [p.get_content() for p in message.iter_parts()] == ["notice"]
    # An encrypted archive inside a forwarded message: the forwarded message's part goes, the rest stays.
    inner = email.message_from_bytes(mail("inner", archive), policy=email.policy.default)
    outer = EmailMessage()
    outer["Subject"] = "fwd"
    outer.set_content("see attached")
    outer.add_attachment(inner)
    raw = outer.as_bytes(policy=outer.policy.clone(linesep="\r\n"))
    sections = [p.section for p in inspect_message(raw).encrypted]
    assert sections == ["2.2"]
    stripped = strip_sections(raw, sections, "notice")
    result = _parsed(_head(raw, stripped.header_edits), stripped.body)
    assert (
        inspect_message(_head(raw, stripped.header_edits) + b"\r\n" + stripped.body).verdict is Verdict.CLEAN
    )
    assert "the figures are attached. inner" in result.as_string()


def test_enforcing_a_broken_audit_log_tempfails(tmp_path: Path) -> None:
    policy = parse_policy(f"audit_log: {tmp_path / 'missing' / 'audit.jsonl'}".encode(), "p.yaml")
    gateway = Gateway(policy)
    raw = mail("a", plain_zip())
    result = gateway.enforce(ENVELOPE, [], raw, gateway.inspect(raw))
    assert result.reply is not None and result.reply.code == 451
    assert result.decision.reason == "the audit log cannot be written"


def test_the_audit_log_keeps_one_whole_line_per_message_from_many_threads(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")

    def write(number: int) -> None:
        for index in range(20):
            log.write({"writer": number, "index": index, "padding": "x" * 5000})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert sorted((r["writer"], r["index"]) for r in records) == [(w, i) for w in range(5) for i in range(20)]


def test_the_quarantine_keeps_lists_shows_and_deletes(tmp_path: Path) -> None:
    store = Quarantine(tmp_path / "q")
    assert list(store.entries()) == []
    first = store.put(
        b"Subject: one\r\n\r\nbody\r\n", {"sender": "a@x.example", "recipients": ["b@y.example"]}
    )
    second = store.put(b"Subject: two\r\n\r\n", {"sender": "", "recipients": ["c@y.example"]})
    assert [e.id for e in store.entries()] == sorted([first, second])
    entry, raw = store.show(first)
    assert raw == b"Subject: one\r\n\r\nbody\r\n" and entry.size == len(raw)
    assert entry.sender == "a@x.example" and entry.recipients == ("b@y.example",)
    assert not list((tmp_path / "q").glob(".*.tmp"))
    store.delete(first)
    with pytest.raises(InputError, match="no quarantined message"):
        store.show(first)
    with pytest.raises(InputError, match="is not a quarantine id"):
        store.show("../../etc/passwd")


def test_release_to_an_unreachable_relay_keeps_the_message(tmp_path: Path) -> None:
    store = Quarantine(tmp_path / "q")
    entry_id = store.put(
        b"Subject: one\r\n\r\nbody\r\n", {"sender": "a@x.example", "recipients": ["b@y.example"]}
    )
    with refusing_port() as port, pytest.raises(QuarantineError, match="cannot hand the message"):
        store.release(entry_id, ("127.0.0.1", port))
    assert [e.id for e in store.entries()] == [entry_id]


@contextlib.contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port nothing listens on (bound, never listening, so connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])

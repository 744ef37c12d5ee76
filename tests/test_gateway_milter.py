"""The milter at the protocol level: our own client (``tests/milter_client.py``) plays the MTA.

Messages go through the real detector; a stand-in detector appears only where the detector's own
behaviour is not the point (one that hangs, one that crashes).
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from mimawari.gateway import milter_protocol as wire
from mimawari.gateway.budgets import Budgets
from mimawari.gateway.enforce import Gateway
from mimawari.gateway.milter import MilterServer
from mimawari.gateway.policy_config import parse_policy
from mimawari.gateway.quarantine import Quarantine
from mimawari.gateway.verdict import Inspection
from tests.gateway_rig import aes_zip, mail, plain_zip
from tests.milter_client import MilterClient, session


class Milter:
    """A milter on a free port, its audit log, and how to start another with a different policy."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.audit = directory / "audit.jsonl"
        self.servers: list[MilterServer] = []

    async def start(
        self, policy: str = "", detector: Callable[[bytes, Budgets], Inspection] | None = None
    ) -> int:
        text = f"audit_log: {self.audit}\nquarantine: {{directory: {self.directory / 'kept'}}}\n{policy}"
        server = MilterServer(Gateway(parse_policy(text.encode(), "test.yaml"), detector=detector))
        self.servers.append(server)
        return (await server.start("127.0.0.1", 0))[1]

    def records(self) -> list[dict[str, object]]:
        if not self.audit.exists():
            return []
        return [json.loads(line) for line in self.audit.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
async def milter(tmp_path: Path) -> AsyncIterator[Milter]:
    harness = Milter(tmp_path)
    yield harness
    for server in harness.servers:
        await server.close()


async def test_negotiation_asks_for_what_it_needs_of_what_is_offered(milter: Milter) -> None:
    port = await milter.start()
    client = await MilterClient.connect("127.0.0.1", port)
    await client.negotiate()
    assert (
        client.actions
        == wire.Action.ADDHDRS | wire.Action.CHGHDRS | wire.Action.CHGBODY | wire.Action.QUARANTINE
    )
    assert client.steps == wire.WANTED_STEPS
    await client.close()
    # An MTA that offers little gets nothing it did not offer.
    client = await MilterClient.connect("127.0.0.1", port)
    await client.negotiate(actions=int(wire.Action.ADDHDRS), steps=int(wire.Step.NOHELO | wire.Step.NR_CONN))
    assert (client.actions, client.steps) == (wire.Action.ADDHDRS, wire.Step.NOHELO)
    await client.close()


async def test_an_encrypted_zip_is_rejected_with_both_languages(milter: Milter) -> None:
    port = await milter.start("reply_languages: [en, ja]")
    client = await session("127.0.0.1", port)
    result = await client.message(mail("m1", aes_zip()))
    assert result.final == wire.REPLYCODE
    first, second = result.reply.split("\r\n")
    assert first.startswith("550-5.7.1 Encrypted attachments are not accepted")
    assert second.startswith("550 5.7.1 暗号化された添付ファイル")
    (record,) = milter.records()
    assert record["verdict"] == "encrypted" and record["action"] == "reject"
    assert record["queue_id"] == "4ABCDEF" and record["client_address"] == "192.0.2.7"
    assert record["sender"] == "alice@sender.example" and record["message_id"] == "<m1@sender.example>"
    await client.close()


async def test_one_connection_carries_messages_aborts_and_smtp_sessions(milter: Milter) -> None:
    port = await milter.start()  # the default reply: English only, US-ASCII (RFC 5321 §4.2)
    client = await session("127.0.0.1", port)
    assert (await client.message(mail("clean-1", plain_zip()))).final == wire.ACCEPT
    # A message abandoned after its headers (RSET, or the client gave up): forgotten, never logged.
    await client.envelope("carol@sender.example", ["dave@rcpt.example"])
    await client.step(wire.HEADER, b"Subject\0 half\0")
    await client.send(wire.ABORT)
    encrypted = await client.message(mail("enc-1", aes_zip()))
    assert encrypted.final == wire.REPLYCODE and encrypted.reply.startswith("550 5.7.1 ")
    assert "\r\n" not in encrypted.reply and encrypted.reply.isascii()
    # QUIT_NC: the MTA hands the connection to its next SMTP client.
    await client.send(wire.QUIT_NC)
    assert await client.connect_step("other.example", "198.51.100.9") in (wire.CONTINUE, None)
    assert (await client.message(mail("clean-2"), sender="erin@other.example")).final == wire.ACCEPT
    await client.send(wire.QUIT)
    assert await client.closed_by_server()
    await client.close()
    records = milter.records()
    assert [(r["message_id"], r["action"]) for r in records] == [
        ("<clean-1@sender.example>", "accept"),
        ("<enc-1@sender.example>", "reject"),
        ("<clean-2@sender.example>", "accept"),
    ]
    assert records[2]["client_address"] == "198.51.100.9" and records[2]["sender"] == "erin@other.example"


async def test_strip_replaces_the_body_and_tag_adds_a_header(milter: Milter) -> None:
    port = await milter.start("actions: {encrypted: strip}")
    client = await session("127.0.0.1", port)
    result = await client.message(mail("s1", aes_zip()))
    assert result.final == wire.ACCEPT and result.body is not None
    assert b"application/zip" not in result.body and b"mimawari gateway notice" in result.body
    assert [name for name, _ in result.added] == ["X-Mimawari-Encrypted"]
    await client.close()
    port = await milter.start("actions: {encrypted: tag}")
    client = await session("127.0.0.1", port)
    result = await client.message(mail("t1", aes_zip(), extra_headers={"X-Mimawari-Encrypted": "no"}))
    # The forged header is the one changed: there is one, and it now says what we found.
    assert result.changed == [(1, "X-Mimawari-Encrypted", " encrypted; 2/invoice.zip/invoice.docx zip-aes")]
    assert result.added == [] and result.body is None
    await client.close()


async def test_quarantine_keeps_the_message_and_discards_it(milter: Milter) -> None:
    port = await milter.start("actions: {encrypted: quarantine}")
    client = await session("127.0.0.1", port)
    raw = mail("q1", aes_zip())
    assert (await client.message(raw)).final == wire.DISCARD
    (entry,) = list(Quarantine(milter.directory / "kept").entries())
    _, kept = Quarantine(milter.directory / "kept").show(entry.id)
    assert kept == raw
    assert milter.records()[0]["quarantine_id"] == entry.id
    await client.close()


async def test_a_client_gone_mid_body_is_forgotten_quietly(
    milter: Milter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "mimawari.gateway")
    port = await milter.start()
    client = await session("127.0.0.1", port)
    await client.envelope("alice@sender.example", ["bob@rcpt.example"], queue_id="GONE1")
    await client.step(wire.HEADER, b"Subject\0 going\0")
    await client.step(wire.EOH)
    await client.send(wire.BODY, b"x" * 1000)
    client.writer.transport.abort()  # no QUIT, mid-message
    # The server is still there for the next connection, which sees a normal session.
    other = await session("127.0.0.1", port)
    assert (await other.message(mail("after-gone"))).final == wire.ACCEPT
    await other.close()
    lost = [r for r in caplog.records if "connection lost mid-message (queue id GONE1)" in r.getMessage()]
    assert len(lost) == 1 and lost[0].exc_info is None
    assert all(r.exc_info is None for r in caplog.records)
    assert [r["message_id"] for r in milter.records()] == ["<after-gone@sender.example>"]


async def test_fifty_concurrent_sessions_each_get_their_own_answer(milter: Milter) -> None:
    port = await milter.start("milter: {workers: 4}")
    archive = aes_zip()

    async def one(number: int) -> tuple[str, bytes]:
        client = await session("127.0.0.1", port)
        token = f"c{number}"
        result = await client.message(mail(token, archive if number % 2 else plain_zip()))
        await client.send(wire.QUIT)
        await client.close()
        return token, result.final

    results = await asyncio.gather(*(one(n) for n in range(50)))
    assert [final for _, final in results] == [wire.REPLYCODE if n % 2 else wire.ACCEPT for n in range(50)]
    records = {r["message_id"]: r["action"] for r in milter.records()}
    assert len(records) == 50
    assert records["<c7@sender.example>"] == "reject" and records["<c8@sender.example>"] == "accept"


@pytest.mark.parametrize("skip_offered", [True, False])
async def test_an_oversized_message_stops_being_buffered_and_gets_the_error_action(
    milter: Milter, skip_offered: bool
) -> None:
    port = await milter.start("budgets: {max_message_bytes: 100000}")
    client = await MilterClient.connect("127.0.0.1", port)
    steps = wire.WANTED_STEPS if skip_offered else wire.WANTED_STEPS & ~wire.Step.SKIP
    await client.negotiate(steps=int(steps))
    await client.connect_step()
    await client.envelope("alice@sender.example", ["bob@rcpt.example"])
    replies = await client.headers_and_body(mail("big", b"\x00" * 400_000))
    # 64 KiB chunks: the second one crosses 100,000 bytes; the MTA is told to skip the rest if it can.
    assert replies[0] == wire.CONTINUE
    assert replies[-1] == (wire.SKIP if skip_offered else wire.CONTINUE)
    assert len(replies) == (2 if skip_offered else 9)
    result = await client.end_of_message()
    assert result.final == wire.REPLYCODE and result.reply.startswith("451 4.7.1 ")
    (record,) = milter.records()
    assert record["verdict"] == "error" and record["action"] == "tempfail"
    assert "larger than 100000 bytes" in str(record["reason"])
    await client.close()


@pytest.mark.parametrize(
    ("packet", "logged"),
    [
        (struct.pack(">I", wire.MAX_PACKET + 1) + b"B", "more than the limit"),
        (struct.pack(">I", 0), "length 0"),
        (struct.pack(">I", 3) + b"Zab", "unknown command b'Z'"),
        (struct.pack(">I", 4) + b"O\0\0\0", "option negotiation of 3 bytes"),
    ],
)
async def test_a_malformed_packet_closes_that_connection_with_a_log_line(
    milter: Milter, caplog: pytest.LogCaptureFixture, packet: bytes, logged: str
) -> None:
    caplog.set_level(logging.INFO, "mimawari.gateway")
    port = await milter.start()
    bystander = await session("127.0.0.1", port)
    client = await MilterClient.connect("127.0.0.1", port)
    client.writer.write(packet)
    assert await client.closed_by_server()
    (line,) = [r for r in caplog.records if "closing" in r.getMessage()]
    assert logged in line.getMessage() and line.levelno == logging.WARNING and line.exc_info is None
    assert (await bystander.message(mail("bystander"))).final == wire.ACCEPT
    await bystander.close()
    await client.close()


async def test_connections_over_the_limit_are_closed(milter: Milter) -> None:
    port = await milter.start("milter: {max_connections: 2}")
    first, second = await session("127.0.0.1", port), await session("127.0.0.1", port)
    third = await MilterClient.connect("127.0.0.1", port)
    assert await third.closed_by_server()
    assert (await first.message(mail("within-limit"))).final == wire.ACCEPT
    for client in (first, second, third):
        await client.close()


async def test_a_detector_that_hangs_or_crashes_means_tempfail(milter: Milter) -> None:
    release = threading.Event()

    def hanging(raw: bytes, budgets: Budgets) -> Inspection:
        release.wait(30)
        raise RuntimeError("released")

    def crashing(raw: bytes, budgets: Budgets) -> Inspection:
        raise ValueError("a reader's bug")

    try:
        for detector, reason in (
            (hanging, "not inspected within 1.02 s"),
            (crashing, "the detector failed (ValueError)"),
        ):
            port = await milter.start("budgets: {max_seconds: 0.01}", detector=detector)
            client = await session("127.0.0.1", port)
            result = await client.message(mail("hang"))
            assert result.final == wire.REPLYCODE and result.reply.startswith("451 4.7.1")
            assert milter.records()[-1]["reason"] == reason
            await client.close()
    finally:
        release.set()


async def test_an_approved_sender_exception_lets_it_through_and_is_logged(milter: Milter) -> None:
    policy = """
exceptions:
  - sender: sender.example
    approved_by: Sato (CISO)
    reason: drawings under NDA
    expires: 2999-12-31
  - sender: alice@sender.example
    approved_by: nobody
    reason: expired long ago
    expires: 2000-01-01
"""
    port = await milter.start(policy)
    client = await session("127.0.0.1", port)
    assert (await client.message(mail("x1", aes_zip()))).final == wire.ACCEPT
    (record,) = milter.records()
    assert record["action"] == "accept" and record["verdict"] == "encrypted"
    assert record["exception"] == {
        "sender": "sender.example",
        "approved_by": "Sato (CISO)",
        "reason": "drawings under NDA",
        "expires": "2999-12-31",
    }
    await client.close()

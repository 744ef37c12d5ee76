"""The gateway against Debian's real Postfix (issue 9): Postfix on loopback with ``smtpd_milters`` pointing
at our milter, messages submitted over SMTP, deliveries read at a sink that Postfix relays to.

Postfix (``tests/realmail.py``) relays ``sink.example`` to an SMTP sink on 127.0.0.1 and runs a second
listener without the milter, the one ``quarantine release`` hands messages back to. The detector is the
real one. Skips, with the reason, where Postfix cannot run.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import smtplib
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from mimawari.gateway.enforce import Gateway
from mimawari.gateway.policy_config import parse_policy
from mimawari.gateway.quarantine import Quarantine
from mimawari.lab.ca import LabCa
from tests import realmail
from tests.cli_runner import run
from tests.gateway_rig import Rig, aes_zip, mail, plain_zip
from tests.realmail import RealPostfix

TIMEOUT = 30.0
SINK_DOMAIN = "sink.example"
RECIPIENT = f"bob@{SINK_DOMAIN}"


@dataclass(frozen=True)
class Site:
    postfix: RealPostfix
    rig: Rig
    release_port: int
    directory: Path

    def use(self, action: str, **extra: str) -> Path:
        """Send the next messages through a policy with ``action`` for encrypted content; its audit log."""
        audit = self.directory / f"audit-{action}.jsonl"
        lines = [
            f"actions: {{encrypted: {action}}}",
            f"audit_log: {audit}",
            f"quarantine: {{directory: {self.directory / 'quarantine'}, relay: '{realmail.SERVER_ADDRESS}:{self.release_port}'}}",
            *(f"{key}: {value}" for key, value in extra.items()),
        ]
        policy = parse_policy("\n".join(lines).encode(), "test-policy.yaml")
        self.rig.use(Gateway(policy))
        return audit

    def submit(self, raw: bytes, sender: str = "alice@sender.example") -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP(self.postfix.address, self.postfix.smtp_port, "client.example", TIMEOUT) as client:
            return client.sendmail(sender, [RECIPIENT], raw)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((realmail.SERVER_ADDRESS, 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def site(real_ca: LabCa, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if reason := realmail.postfix_skip_reason():
        pytest.skip(reason)
    directory = tmp_path_factory.mktemp("gateway")
    rig = Rig(Gateway(parse_policy(b"", "empty.yaml")))
    release_port = _free_port()
    extra = {
        "smtpd_milters": f"inet:127.0.0.1:{rig.milter_port}",
        "milter_default_action": "tempfail",
        "milter_protocol": "6",
        "relay_domains": SINK_DOMAIN,
        "transport_maps": f"inline:{{ {SINK_DOMAIN}=smtp:[127.0.0.1]:{rig.sink_port} }}",
    }
    services = [
        "smtp unix - - n - - smtp",
        # Where released messages come back in: the same smtpd without the milter.
        f"{realmail.SERVER_ADDRESS}:{release_port} inet n - n - - smtpd\n"
        "  -o syslog_name=postfix/release\n  -o smtpd_milters=",
    ]
    try:
        with realmail.running_postfix(real_ca, extra=extra, services=services) as postfix:
            yield Site(postfix, rig, release_port, directory)
    finally:
        rig.close()


def _parsed(content: bytes) -> EmailMessage:
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _audit(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_an_encrypted_zip_is_rejected_with_550_at_end_of_data(site: Site) -> None:
    audit = site.use("reject", reply_languages="[en, ja]")
    with pytest.raises(smtplib.SMTPDataError) as refused:
        site.submit(mail("reject-1", aes_zip()))
    assert refused.value.smtp_code == 550
    error = refused.value.smtp_error
    reply = error.decode("utf-8") if isinstance(error, bytes) else error
    assert reply.startswith("5.7.1 Encrypted attachments are not accepted")
    assert "暗号化された添付ファイル" in reply  # the second line of the reply
    (record,) = _audit(audit)
    assert record["verdict"] == "encrypted" and record["action"] == "reject"
    assert record["sender"] == "alice@sender.example" and record["recipients"] == [RECIPIENT]
    assert record["message_id"] == "<reject-1@sender.example>"
    assert record["queue_id"] and record["client_address"] == "127.0.0.1"
    assert [p["kind"] for p in record["parts"]] == ["zip-aes"]  # type: ignore[attr-defined]


def test_a_clean_message_is_delivered_whole_and_a_forged_tag_removed(site: Site) -> None:
    audit = site.use("reject")
    archive = plain_zip()
    forged = {"X-Mimawari-Encrypted": "clean; trust me"}
    assert site.submit(mail("clean-1", archive, filename="report.zip", extra_headers=forged)) == {}
    (delivered,) = site.rig.sink.wait_for(b"clean-1")
    assert delivered.recipients == (RECIPIENT,)
    message = _parsed(delivered.content)
    assert message["X-Mimawari-Encrypted"] is None
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["report.zip"]
    assert attachments[0].get_content() == archive
    assert _audit(audit)[-1]["verdict"] == "clean"


def test_strip_delivers_the_body_without_the_archive_and_with_a_notice(site: Site) -> None:
    site.use("strip")
    assert site.submit(mail("strip-1", aes_zip())) == {}
    (delivered,) = site.rig.sink.wait_for(b"strip-1")
    message = _parsed(delivered.content)
    types = [part.get_content_type() for part in message.walk()]
    assert "application/zip" not in types
    body = message.get_body(("plain",))
    assert body is not None and "the figures are attached. strip-1" in body.get_content()
    notices = [p for p in message.walk() if p["Content-Description"] == "mimawari gateway notice"]
    assert len(notices) == 1
    notice = notices[0].get_content()
    assert "invoice.zip" in notice and "zip-aes" in notice and "削除しました" in notice
    assert message["X-Mimawari-Encrypted"].startswith("encrypted; 2/invoice.zip")


def test_tag_delivers_the_message_with_a_header_naming_the_part(site: Site) -> None:
    site.use("tag")
    archive = aes_zip()
    assert site.submit(mail("tag-1", archive)) == {}
    (delivered,) = site.rig.sink.wait_for(b"tag-1")
    message = _parsed(delivered.content)
    assert message["X-Mimawari-Encrypted"] == "encrypted; 2/invoice.zip/invoice.docx zip-aes"
    assert [a.get_content() for a in message.iter_attachments()] == [archive]


def test_quarantine_keeps_the_message_and_release_delivers_it_once(site: Site) -> None:
    audit = site.use("quarantine")
    original = mail("kept-q1", aes_zip())
    assert site.submit(original) == {}  # accepted for the sender: it is kept, not bounced
    store = Quarantine(site.directory / "quarantine")
    (entry,) = list(store.entries())
    assert entry.sender == "alice@sender.example" and entry.recipients == (RECIPIENT,)
    assert _audit(audit)[-1]["quarantine_id"] == entry.id
    # A later message arrives while the kept one does not: it was discarded, not queued.
    site.use("reject")
    assert site.submit(mail("later-1")) == {}
    site.rig.sink.wait_for(b"later-1")
    assert site.rig.sink.holding(b"kept-q1@") == []

    relay = f"{realmail.SERVER_ADDRESS}:{site.release_port}"
    release = (
        "gateway",
        "quarantine",
        "release",
        entry.id,
        "--quarantine",
        str(store.directory),
        "--relay",
        relay,
    )
    code, stdout, stderr = asyncio.run(run(*release))
    assert code == 0, stderr
    assert entry.id in stdout
    (delivered,) = site.rig.sink.wait_for(b"kept-q1@")
    assert _parsed(delivered.content)["Message-ID"] == "<kept-q1@sender.example>"
    assert delivered.content.endswith(original.partition(b"\r\n\r\n")[2])
    assert list(store.entries()) == []

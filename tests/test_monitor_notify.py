"""Notifiers, over real protocols on loopback: email to the lab's SMTP servers, webhooks and Slack-style
posts to a recording HTTP receiver, and the configuration they are read from."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from mimawari.config import AlertsConfig
from mimawari.errors import MimawariError
from mimawari.lab.ca import LabCa, ServerTls, server_context
from mimawari.lab.mail import MailLab, mail_from_document
from mimawari.model import Severity, Text
from mimawari.monitor.alert import Alert, AlertKind
from mimawari.monitor.notify import (
    EmailNotifierConfig,
    NotifierConfig,
    NotifyError,
    SlackNotifierConfig,
    WebhookNotifierConfig,
    mrkdwn_escape,
    send,
    slack_payload,
    webhook_payload,
)
from tests.http_receiver import HttpReceiver

ALERT = Alert(
    organisation="Kuroneko Trading",
    rule="score-floor",
    kind=AlertKind.SCORE_BELOW,
    key="score_below:kuroneko.example",
    severity=Severity.HIGH,
    domain="kuroneko.example",
    scan_id=42,
    raised_at=datetime(2025, 4, 1, 9, 30, tzinfo=UTC),
    title=Text(
        en="Kuroneko Trading: kuroneko.example scored 58 (below 70)",
        ja="黒猫商事: kuroneko.example のスコアが 58 (基準 70 未満)",
    ),
    changed=Text(en="Score 74 -> 58 & grade B -> D", ja="スコア 74 → 58、評価 B → D"),
    action=Text(
        en="Publish <_dmarc.kuroneko.example> TXT v=DMARC1; p=reject",
        ja="_dmarc.kuroneko.example に TXT「v=DMARC1; p=reject」を公開してください",
    ),
)
MAIL_YAML = """
mail:
  servers:
    - host: localhost                      # so that a client connecting to "localhost" can verify it
      addresses: [203.0.113.25]
      smtp: {local_domains: [example.org], users: [soc, noc]}
      submission: {local_domains: [example.org], users: [soc]}
      submissions: {local_domains: [example.org], users: [soc]}
    - host: plain.lab.example
      addresses: [203.0.113.26]
      smtp: {starttls: false, local_domains: [example.org], users: [soc]}
    - host: tarpit.lab.example
      addresses: [203.0.113.27]
      smtp: {stall: true}
"""
SECRET = "s3cret-Passw0rd"
TOKEN = "tok-9f8e7d6c5b4a"


def notifier(**fields: Any) -> NotifierConfig:
    return AlertsConfig.model_validate({"notifiers": [fields]}).notifiers[0]


def assert_one_line(error: pytest.ExceptionInfo[NotifyError], name: str) -> str:
    message = str(error.value)
    assert message.startswith(f"notifier {name!r}")
    assert "\n" not in message
    assert isinstance(error.value, MimawariError)
    return message


# --- configuration ----------------------------------------------------------------------------------------


def test_configuration_from_yaml_with_defaults() -> None:
    document = yaml.safe_load(
        """
        alerts:
          notifiers:
            - {kind: email, name: soc-mail, host: smtp.example.org, sender: mimawari@example.org,
               recipients: [soc@example.org]}
            - kind: webhook
              name: siem
              url: https://siem.example.org/hooks/mimawari
              headers: {Authorization: "Bearer ${SIEM_TOKEN}"}
              lang: ja
            - {kind: slack, name: ops, url: "https://hooks.slack.com/services/T0/B0/XXXX", timeout: 5}
        """
    )
    mail, hook, slack = AlertsConfig.model_validate(document["alerts"]).notifiers
    assert isinstance(mail, EmailNotifierConfig)
    assert (mail.port, mail.security, mail.timeout, mail.lang) == (25, "starttls", 30.0, "en")
    assert mail.recipients == ("soc@example.org",) and mail.greeting_name == "example.org"
    assert isinstance(hook, WebhookNotifierConfig) and hook.lang == "ja"
    assert hook.headers == {"Authorization": "Bearer ${SIEM_TOKEN}"}
    assert isinstance(slack, SlackNotifierConfig) and slack.timeout == 5.0
    assert slack.origin == "https://hooks.slack.com"
    # The URL's token and the headers stay out of logs that print a configuration.
    assert "XXXX" not in repr(slack) and "SIEM_TOKEN" not in repr(hook)
    assert AlertsConfig().notifiers == ()


EMAIL = {"kind": "email", "name": "m", "host": "smtp.example.org", "sender": "a@example.org"}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"kind": "sms", "name": "m"},
            "does not match any of the expected tags: 'email', 'webhook', 'slack'",
        ),
        ({"name": "m", "url": "https://x.example"}, "Unable to extract tag using discriminator 'kind'"),
        (
            {**EMAIL, "recipients": ["b@example.org"], "relay": True},
            "relay\n  Extra inputs are not permitted",
        ),
        (EMAIL, "recipients\n  Field required"),
        ({**EMAIL, "recipients": []}, "recipients\n  Tuple should have at least 1 item"),
        ({**EMAIL, "recipients": ["not an address"]}, "recipients.0\n  String should match pattern"),
        ({**EMAIL, "recipients": ["b@example.org"], "security": "ssl"}, "security\n  Input should be 'none'"),
        (
            {**EMAIL, "recipients": ["b@example.org"], "username": "u", "password": SECRET},
            "put it in an environment variable and name that variable in 'password_env'",
        ),
        (
            {
                **EMAIL,
                "recipients": ["b@example.org"],
                "username": "u",
                "password_env": "P",
                "security": "none",
            },
            "AUTH is only done inside TLS",
        ),
        (
            {**EMAIL, "recipients": ["b@example.org"], "username": "u"},
            "'username' and 'password_env' go together",
        ),
        (
            {**EMAIL, "recipients": ["b@example.org"], "password_env": SECRET},
            "password_env\n  String should match",
        ),
        (
            {"kind": "webhook", "name": "w", "url": "ftp://x.example/"},
            "URL scheme should be 'http' or 'https'",
        ),
        (
            {
                "kind": "webhook",
                "name": "w",
                "url": "https://x.example",
                "headers": {"X-Token": f"{SECRET}\r\nX: y"},
            },
            "String should match pattern",
        ),
        (
            {"kind": "slack", "name": "s", "url": "https://x.example", "lang": "fr"},
            "Input should be 'en' or 'ja'",
        ),
    ],
)
def test_configuration_errors(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        AlertsConfig.model_validate({"notifiers": [entry]})
    assert message in str(raised.value)
    assert SECRET not in str(raised.value)  # inputs are hidden: a misplaced password is not echoed


def test_notifier_names_are_unique() -> None:
    slack = {"kind": "slack", "name": "ops", "url": "https://x.example/a"}
    with pytest.raises(ValidationError, match="two notifiers are named 'ops'"):
        AlertsConfig.model_validate({"notifiers": [slack, {**slack, "kind": "webhook"}]})


# --- payloads ---------------------------------------------------------------------------------------------


def test_webhook_payload_carries_every_field_and_both_languages() -> None:
    payload = webhook_payload(ALERT, "ja")
    assert payload == {
        "schema": "mimawari.alert/1",
        "organisation": "Kuroneko Trading",
        "rule": "score-floor",
        "kind": "score_below",
        "key": "score_below:kuroneko.example",
        "severity": "high",
        "domain": "kuroneko.example",
        "scan_id": 42,
        "raised_at": "2025-04-01T09:30:00Z",
        "lang": "ja",
        "title": ALERT.title.ja,
        "changed": ALERT.changed.ja,
        "action": ALERT.action.ja,
        "texts": {
            "en": {"title": ALERT.title.en, "changed": ALERT.changed.en, "action": ALERT.action.en},
            "ja": {"title": ALERT.title.ja, "changed": ALERT.changed.ja, "action": ALERT.action.ja},
        },
    }


def blocks(payload: dict[str, object]) -> list[dict[str, Any]]:
    found = payload["blocks"]
    assert isinstance(found, list)
    return found


def test_slack_payload_escapes_mrkdwn_and_fits_slack_limits() -> None:
    assert mrkdwn_escape("a & <b> c") == "a &amp; &lt;b&gt; c"
    payload = slack_payload(ALERT, "en")
    assert payload["text"] == "[high] " + ALERT.title.en
    header, changed, action, context = blocks(payload)
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": ALERT.title.en, "emoji": False},
    }
    assert changed["text"] == {
        "type": "mrkdwn",
        "text": "*What changed*\nScore 74 -&gt; 58 &amp; grade B -&gt; D",
    }
    assert action["text"]["text"] == (
        "*What to do*\nPublish &lt;_dmarc.kuroneko.example&gt; TXT v=DMARC1; p=reject"
    )
    assert context["elements"][0]["text"] == (
        "Kuroneko Trading · kuroneko.example · Rule: score-floor · Severity: high · Scan #42 · "
        "2025-04-01T09:30:00Z"
    )
    long = Alert(
        **{**ALERT.__dict__, "title": Text(en="T" * 400, ja="題" * 400), "action": Text("<" * 2000, "x")}
    )
    header, _changed, action, _context = blocks(slack_payload(long, "ja"))
    assert header["text"]["text"] == "題" * 149 + "…"
    long_action = blocks(slack_payload(long, "en"))[2]["text"]["text"]
    assert 3000 - 4 < len(long_action) <= 3000 and long_action.endswith("&lt;…")  # cut between entities


# --- email ------------------------------------------------------------------------------------------------


@pytest.fixture
async def mail() -> AsyncIterator[MailLab]:
    async with MailLab(mail_from_document(yaml.safe_load(MAIL_YAML))) as lab:
        yield lab


def email_notifier(lab: MailLab, address: str, port: int, **fields: Any) -> NotifierConfig:
    host, real_port = lab.endpoint(address, port)
    settings = {
        "kind": "email",
        "name": "soc-mail",
        "host": host,
        "port": real_port,
        "sender": "mimawari@example.org",
        "recipients": ["soc@example.org"],
        "timeout": 5,
        **fields,
    }
    return notifier(**settings)


def received(lab: MailLab) -> EmailMessage:
    (message,) = lab.messages
    parsed = email.message_from_bytes(message.content, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def body_of(message: EmailMessage) -> str:
    body = message.get_content()
    assert isinstance(body, str)
    return body.replace("\r\n", "\n")  # the SMTP line ends, as the recipient's mail program shows them


async def test_email_in_english_over_a_trusted_network(mail: MailLab) -> None:
    await send(email_notifier(mail, "203.0.113.26", 25, security="none"), ALERT)
    (envelope,) = mail.messages
    assert (envelope.host, envelope.mail_from, envelope.rcpt_tos) == (
        "plain.lab.example",
        "mimawari@example.org",
        ("soc@example.org",),
    )
    message = received(mail)
    assert message["Subject"] == "[mimawari] Kuroneko Trading: kuroneko.example scored 58 (below 70)"
    assert message["From"] == "mimawari <mimawari@example.org>"
    assert message["To"] == "soc@example.org"
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message["Message-ID"].endswith("@example.org>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"
    body = body_of(message)
    for line in (
        ALERT.title.en,
        "What changed:\nScore 74 -> 58 & grade B -> D\n",
        "What to do:\nPublish <_dmarc.kuroneko.example> TXT v=DMARC1; p=reject\n",
        "Organisation: Kuroneko Trading\n",
        "Domain: kuroneko.example\n",
        "Rule: score-floor (score_below)\n",
        "Severity: high\n",
        "Scan: #42\n",
        "Raised at: 2025-04-01T09:30:00Z\n",
    ):
        assert line in body


async def test_email_in_japanese_with_starttls_and_a_private_ca(mail: MailLab) -> None:
    config = email_notifier(mail, "203.0.113.25", 25, host="localhost", ca_file=mail.ca_file, lang="ja")
    await send(config, ALERT)
    (envelope,) = mail.messages
    assert envelope.content.isascii()  # encoded words and base64: no server needs SMTPUTF8 or 8BITMIME
    message = received(mail)
    assert message["Subject"] == "[mimawari] " + ALERT.title.ja
    assert message["Content-Language"] == "ja"
    body = body_of(message)
    assert f"変化した点:\n{ALERT.changed.ja}\n" in body
    assert f"対応:\n{ALERT.action.ja}\n" in body
    assert "組織: Kuroneko Trading\n" in body and "発生日時: 2025-04-01T09:30:00Z\n" in body


async def test_email_with_implicit_tls(mail: MailLab) -> None:
    await send(
        email_notifier(mail, "203.0.113.25", 465, host="localhost", security="tls", ca_file=mail.ca_file),
        ALERT,
    )
    assert received(mail)["Subject"].startswith("[mimawari] ")


async def test_email_refuses_a_certificate_it_cannot_verify(mail: MailLab) -> None:
    with pytest.raises(NotifyError) as raised:
        await send(email_notifier(mail, "203.0.113.25", 25, host="localhost"), ALERT)
    message = assert_one_line(raised, "soc-mail")
    assert "TLS certificate not accepted: unable to get local issuer certificate" in message
    assert "(a private CA? set ca_file)" in message
    with pytest.raises(NotifyError, match="certificate not accepted: IP address mismatch"):
        await send(email_notifier(mail, "203.0.113.25", 25, ca_file=mail.ca_file), ALERT)  # 127.0.0.1
    assert mail.messages == []


async def test_email_never_falls_back_to_clear_text(mail: MailLab) -> None:
    with pytest.raises(NotifyError) as raised:
        await send(email_notifier(mail, "203.0.113.26", 25), ALERT)
    assert "the server does not offer STARTTLS; not sending in clear text" in assert_one_line(
        raised, "soc-mail"
    )
    assert mail.messages == []


async def test_email_authentication(mail: MailLab, monkeypatch: pytest.MonkeyPatch) -> None:
    auth = {"host": "localhost", "ca_file": mail.ca_file, "username": "mimawari", "password_env": "NOTIFY_PW"}
    config = email_notifier(mail, "203.0.113.25", 587, **auth)
    with pytest.raises(
        NotifyError, match=r"environment variable NOTIFY_PW \(the SMTP password\) is not set or empty"
    ):
        await send(config, ALERT)
    monkeypatch.setenv("NOTIFY_PW", SECRET)
    with pytest.raises(NotifyError) as raised:  # the lab's AUTH never succeeds
        await send(config, ALERT)
    message = assert_one_line(raised, "soc-mail")
    assert "authentication failed: 535" in message and SECRET not in message
    with pytest.raises(NotifyError, match="the server does not offer AUTH, but a username is configured"):
        await send(email_notifier(mail, "203.0.113.25", 25, **auth), ALERT)
    assert mail.messages == []


async def test_email_reports_refused_recipients(mail: MailLab) -> None:
    recipients = ["soc@example.org", "nobody@example.org"]
    with pytest.raises(NotifyError) as raised:
        await send(email_notifier(mail, "203.0.113.26", 25, security="none", recipients=recipients), ALERT)
    message = assert_one_line(raised, "soc-mail")
    assert "recipients refused: nobody@example.org (550 5.1.1" in message
    assert message.endswith("(the other recipients got the alert)")
    assert mail.messages[0].rcpt_tos == ("soc@example.org",)
    with pytest.raises(NotifyError, match=r"recipients refused: x@elsewhere\.example \(554 5\.7\.1"):
        await send(
            email_notifier(mail, "203.0.113.26", 25, security="none", recipients=["x@elsewhere.example"]),
            ALERT,
        )
    assert len(mail.messages) == 1


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound on loopback but not listening: connecting is refused, and nobody else can take it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_email_refused_connection_and_silent_server(mail: MailLab, closed_port: int) -> None:
    refused = notifier(**{**EMAIL, "host": "127.0.0.1", "port": closed_port, "recipients": ["b@example.org"]})
    with pytest.raises(NotifyError) as raised:
        await send(refused, ALERT)
    assert (
        assert_one_line(raised, "m")
        == f"notifier 'm' (email via 127.0.0.1:{closed_port}): connection refused"
    )
    with pytest.raises(NotifyError, match=r"\): no answer within 0\.3 s$"):
        await send(email_notifier(mail, "203.0.113.27", 25, timeout=0.3), ALERT)


async def test_email_with_an_unreadable_ca_file(mail: MailLab, tmp_path: Any) -> None:
    config = email_notifier(mail, "203.0.113.25", 25, ca_file=str(tmp_path / "missing.pem"))
    with pytest.raises(NotifyError, match=r"cannot read ca_file .*missing\.pem: No such file"):
        await send(config, ALERT)


# --- webhook and Slack ------------------------------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[HttpReceiver]:
    async with HttpReceiver() as server:
        yield server


def webhook(url: str, **fields: Any) -> NotifierConfig:
    return notifier(kind="webhook", name="siem", url=url, **fields)


async def test_webhook_posts_the_alert_with_a_token_from_the_environment(
    receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = {
        "Authorization": "Bearer ${SIEM_TOKEN}",
        "X-Source": "mimawari-${SITE}",
        "content-type": "application/json; charset=utf-8",
    }
    config = webhook(receiver.url("/hooks/alerts?team=soc"), headers=headers, lang="ja")
    with pytest.raises(
        NotifyError, match=r"^notifier 'siem': environment variable SIEM_TOKEN .* is not set$"
    ):
        await send(config, ALERT)
    assert receiver.requests == []
    monkeypatch.setenv("SIEM_TOKEN", TOKEN)
    monkeypatch.setenv("SITE", "東京\nX-Injected: 1")
    with pytest.raises(NotifyError, match="header X-Source must be one line of ASCII") as raised:
        await send(config, ALERT)
    assert TOKEN not in str(raised.value) and "東京" not in str(raised.value)
    monkeypatch.setenv("SITE", "tokyo")
    await send(config, ALERT)
    (request,) = receiver.requests
    assert (request.method, request.path) == ("POST", "/hooks/alerts?team=soc")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["x-source"] == "mimawari-tokyo"
    assert request.headers["content-type"] == "application/json; charset=utf-8"  # the operator's wins
    assert request.json() == webhook_payload(ALERT, "ja")


async def test_webhook_error_answers(receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIEM_TOKEN", TOKEN)
    config = webhook(receiver.url("/hooks/secret-path"), headers={"X-Token": "${SIEM_TOKEN}"})
    receiver.status, receiver.answer_body = (
        500,
        f"boom: token {TOKEN} at /hooks/secret-path\nline two".encode(),
    )
    with pytest.raises(NotifyError) as raised:
        await send(config, ALERT)
    message = assert_one_line(raised, "siem")
    assert message.startswith(f"notifier 'siem' (webhook to http://127.0.0.1:{receiver.port}): ")
    assert message.endswith("answered HTTP 500 Internal Server Error: boom: token *** at *** line two")
    assert TOKEN not in message and "secret-path" not in message
    receiver.status, receiver.answer_headers = 302, {"Location": receiver.url("/elsewhere")}
    with pytest.raises(NotifyError, match="answered HTTP 302, a redirect, which is not followed"):
        await send(config, ALERT)
    assert [request.path for request in receiver.requests] == ["/hooks/secret-path"] * 2


async def test_webhook_that_never_answers_times_out(receiver: HttpReceiver) -> None:
    receiver.hang = True
    with pytest.raises(NotifyError) as raised:
        await send(webhook(receiver.url("/"), timeout=0.3), ALERT)
    assert assert_one_line(raised, "siem").endswith(": no answer within 0.3 s")
    assert receiver.received.is_set()  # the request arrived: the notifier waited for the answer


async def test_webhook_refused_connection(closed_port: int) -> None:
    with pytest.raises(NotifyError) as raised:
        await send(webhook(f"http://127.0.0.1:{closed_port}/x"), ALERT)
    assert (
        str(raised.value)
        == f"notifier 'siem' (webhook to http://127.0.0.1:{closed_port}): connection refused"
    )


async def test_webhook_over_https_with_a_private_ca() -> None:
    with LabCa() as ca:
        tls = server_context(ServerTls(), ca.issue("localhost"))
        async with HttpReceiver(tls=tls) as receiver:
            with pytest.raises(NotifyError, match="TLS certificate not accepted: unable to get local issuer"):
                await send(webhook(receiver.url("/hook")), ALERT)
            await send(webhook(receiver.url("/hook"), ca_file=ca.ca_file), ALERT)
            assert [request.path for request in receiver.requests] == ["/hook"]


async def test_slack_posts_blocks(receiver: HttpReceiver) -> None:
    config = notifier(kind="slack", name="ops", url=receiver.url("/services/T0/B0/XXXX"), lang="ja")
    await send(config, ALERT)
    (request,) = receiver.requests
    assert request.headers["content-type"] == "application/json"
    assert request.json() == slack_payload(ALERT, "ja")
    receiver.status, receiver.answer_body = 404, b"no_service"
    with pytest.raises(NotifyError) as raised:
        await send(config, ALERT)
    message = assert_one_line(raised, "ops")
    assert (
        message
        == f"notifier 'ops' (slack to http://127.0.0.1:{receiver.port}): answered HTTP 404 Not Found: no_service"
    )

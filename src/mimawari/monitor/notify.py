"""Notifiers: hand an alert to an email address, a webhook or a Slack-compatible chat channel.

    notifier = load_config().alerts.notifiers[0]     # the configuration file's ``alerts: notifiers:``
    await send(notifier, alert)                       # NotifyError, one line

The configuration is described in ``notify_config``, the email side in ``notify_email``. Over HTTP the
alert is one JSON POST, redirects are not followed (a moved endpoint is a configuration to fix, and
following one would carry the headers' tokens elsewhere), a 2xx answer means delivered, and the
environment's proxies are ignored, as everywhere in mimawari. Errors name the notifier and the URL's
origin, never its path (Slack-style URLs hold their token there), header values or passwords.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from typing import assert_never

import httpx

from mimawari.model import LANGS, Lang
from mimawari.monitor.alert import Alert
from mimawari.monitor.notify_config import (
    EmailNotifierConfig,
    NotifierConfig,
    NotifyError,
    SlackNotifierConfig,
    WebhookNotifierConfig,
)
from mimawari.monitor.notify_email import (
    LABELS,
    email_message,
    iso_utc,
    one_line,
    send_email,
    transport_reason,
)

__all__ = [
    "SCHEMA",
    "EmailNotifierConfig",
    "NotifierConfig",
    "NotifyError",
    "SlackNotifierConfig",
    "WebhookNotifierConfig",
    "email_message",
    "mrkdwn_escape",
    "send",
    "slack_payload",
    "webhook_payload",
]

log = logging.getLogger(__name__)

SCHEMA = "mimawari.alert/1"
"""The ``schema`` of the webhook payload; a change that breaks receivers gets a new number."""
SNIPPET = 160
"""Characters of an error answer's body quoted in the error (Slack explains a 400 there)."""
# Slack's limits (api.slack.com/reference/block-kit/blocks): longer texts make the whole post fail.
HEADER_LIMIT = 150
SECTION_LIMIT = 3000


def webhook_payload(alert: Alert, lang: Lang) -> dict[str, object]:
    """The JSON a webhook receives: the alert's fields, its texts in ``lang`` and in every language."""
    return {
        "schema": SCHEMA,
        "organisation": alert.organisation,
        "rule": alert.rule,
        "kind": alert.kind.value,
        "key": alert.key,
        "severity": alert.severity.value,
        "domain": alert.domain,
        "scan_id": alert.scan_id,
        "raised_at": iso_utc(alert.raised_at),
        "lang": lang,
        "title": alert.title.get(lang),
        "changed": alert.changed.get(lang),
        "action": alert.action.get(lang),
        "texts": {
            each: {
                "title": alert.title.get(each),
                "changed": alert.changed.get(each),
                "action": alert.action.get(each),
            }
            for each in LANGS
        },
    }


def mrkdwn_escape(text: str) -> str:
    """Slack's three control characters as entities (api.slack.com "Formatting text": escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str, limit: int) -> str:
    """``text`` escaped, cut with "…" to fit ``limit`` characters without splitting an entity."""
    escaped = mrkdwn_escape(text)
    if len(escaped) <= limit:
        return escaped
    pieces: list[str] = []
    size = 0
    for char in text:
        piece = mrkdwn_escape(char)
        if size + len(piece) > limit - 1:
            break
        pieces.append(piece)
        size += len(piece)
    return "".join(pieces) + "…"


def slack_payload(alert: Alert, lang: Lang) -> dict[str, object]:
    """A Slack incoming-webhook message: a one-line ``text`` (what notifications and chats that
    ignore blocks show) and blocks with what changed and what to do."""
    title = one_line(alert.title.get(lang))
    facts = " · ".join(
        [
            alert.organisation,
            alert.domain,
            f"{LABELS['rule'].get(lang)}: {alert.rule}",
            f"{LABELS['severity'].get(lang)}: {alert.severity.value}",
            f"{LABELS['scan'].get(lang)} #{alert.scan_id}",
            iso_utc(alert.raised_at),
        ]
    )
    header = title if len(title) <= HEADER_LIMIT else title[: HEADER_LIMIT - 1] + "…"

    def section(label: str, text: str) -> dict[str, object]:
        heading = f"*{LABELS[label].get(lang)}*\n"
        return {
            "type": "section",
            "text": {"type": "mrkdwn", "text": heading + _mrkdwn(text, SECTION_LIMIT - len(heading))},
        }

    return {
        "text": _mrkdwn(f"[{alert.severity.value}] {title}", SECTION_LIMIT),
        "blocks": [
            # plain_text is shown as given: no mrkdwn, so nothing to escape.
            {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": False}},
            section("changed", alert.changed.get(lang)),
            section("action", alert.action.get(lang)),
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _mrkdwn(facts, SECTION_LIMIT)}]},
        ],
    }


async def send(config: NotifierConfig, alert: Alert) -> None:
    """Deliver ``alert`` through one notifier; ``NotifyError`` (one line, no secrets) when it fails."""
    if isinstance(config, EmailNotifierConfig):
        await send_email(config, alert)
    elif isinstance(config, WebhookNotifierConfig):
        await _post(config, webhook_payload(alert, config.lang), config.header_values())
    elif isinstance(config, SlackNotifierConfig):
        await _post(config, slack_payload(alert, config.lang), {})
    else:
        assert_never(config)
    log.info("alert %s sent through notifier %r", alert.key, config.name)


async def _post(
    config: WebhookNotifierConfig | SlackNotifierConfig, payload: dict[str, object], extra: dict[str, str]
) -> None:
    where = f"notifier {config.name!r} ({config.kind} to {config.origin})"
    # Values too short to be a token would only garble the message if masked.
    secrets = [str(config.url), *(value for value in extra.values() if len(value) >= 4)]
    if config.url.path and config.url.path != "/":
        secrets.append(config.url.path)
    try:
        context = ssl.create_default_context(cafile=config.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise NotifyError(
            f"{where}: cannot read ca_file {config.ca_file}: {transport_reason(exc, config.timeout)}"
        ) from None
    headers = httpx.Headers({"User-Agent": "mimawari", "Content-Type": "application/json"})
    for name, value in extra.items():
        headers[name] = value  # replaces a default of the same name, whatever its case
    body = json.dumps(payload, ensure_ascii=False).encode()
    try:
        # The overall deadline also stops a server that answers a byte at a time.
        async with (
            asyncio.timeout(config.timeout),
            httpx.AsyncClient(
                verify=context, timeout=config.timeout, follow_redirects=False, trust_env=False
            ) as client,
        ):
            response = await client.post(str(config.url), content=body, headers=headers)
    except (TimeoutError, httpx.TimeoutException):
        raise NotifyError(f"{where}: no answer within {config.timeout:g} s") from None
    except httpx.HTTPError as exc:
        reason = transport_reason(exc, config.timeout, private_ca_hint=config.ca_file is None)
        raise NotifyError(f"{where}: {_mask(reason, secrets)}") from None
    status = response.status_code
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        raise NotifyError(
            f"{where}: answered HTTP {status}, a redirect, which is not followed: configure the final URL"
        )
    snippet = _mask(one_line(response.text), secrets)[:SNIPPET]
    reason = f"answered HTTP {status} {response.reason_phrase}".rstrip()
    raise NotifyError(f"{where}: {reason}" + (f": {snippet}" if snippet else ""))


def _mask(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text

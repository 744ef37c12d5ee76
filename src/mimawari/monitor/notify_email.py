"""Alerts by email: an RFC 5322 message, sent with the standard library's SMTP client in a thread.

The message is plain text in UTF-8 (base64 when it is not ASCII, so no server needs 8BITMIME) with an
RFC 2047 encoded subject, so Japanese survives every hop. ``security: starttls`` insists on STARTTLS
(RFC 3207): a server that does not offer it gets nothing, rather than the alert in clear text; AUTH is
only ever sent inside TLS (RFC 8314 §3). ``timeout`` bounds each step: the connection, the TLS
handshake, each SMTP reply.
"""

from __future__ import annotations

import asyncio
import email.policy
import os
import smtplib
import socket
import ssl
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from mimawari.model import Lang, Text
from mimawari.monitor.alert import Alert
from mimawari.monitor.notify_config import EmailNotifierConfig, NotifyError

SUBJECT_PREFIX = "[mimawari] "
_POLICY = email.policy.SMTP.clone(cte_type="7bit")
"""CRLF line ends; a body that is not ASCII is base64-encoded instead of sent as 8-bit data."""

LABELS = {
    "changed": Text(en="What changed", ja="変化した点"),
    "action": Text(en="What to do", ja="対応"),
    "organisation": Text(en="Organisation", ja="組織"),
    "domain": Text(en="Domain", ja="ドメイン"),
    "rule": Text(en="Rule", ja="ルール"),
    "severity": Text(en="Severity", ja="重大度"),
    "scan": Text(en="Scan", ja="スキャン"),
    "raised_at": Text(en="Raised at", ja="発生日時"),
    "key": Text(en="Alert key", ja="アラートキー"),
}


def iso_utc(moment: datetime) -> str:
    """``2025-04-01T09:30:00Z``; a naive time is taken to be UTC already."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def one_line(text: str) -> str:
    return " ".join(text.split())


def email_body(alert: Alert, lang: Lang) -> str:
    def label(key: str) -> str:
        return LABELS[key].get(lang)

    facts = [
        (label("organisation"), alert.organisation),
        (label("domain"), alert.domain),
        (label("rule"), f"{alert.rule} ({alert.kind.value})"),
        (label("severity"), alert.severity.value),
        (label("scan"), f"#{alert.scan_id}"),
        (label("raised_at"), iso_utc(alert.raised_at)),
        (label("key"), alert.key),
    ]
    lines = [
        alert.title.get(lang),
        "",
        f"{label('changed')}:",
        alert.changed.get(lang),
        "",
        f"{label('action')}:",
        alert.action.get(lang),
        "",
        *(f"{name}: {value}" for name, value in facts),
        "",
        "-- ",
        "mimawari",
    ]
    return "\n".join(lines) + "\n"


def email_message(config: EmailNotifierConfig, alert: Alert, now: datetime | None = None) -> EmailMessage:
    """The alert as the notifier sends it, in the notifier's language."""
    message = EmailMessage(policy=_POLICY)
    message["Subject"] = SUBJECT_PREFIX + one_line(alert.title.get(config.lang))
    message["From"] = Address(display_name="mimawari", addr_spec=config.sender)
    message["To"] = ", ".join(config.recipients)
    message["Date"] = format_datetime(now or datetime.now(UTC))
    # A domain for the Message-ID, or the library asks DNS for this host's name (socket.getfqdn).
    message["Message-ID"] = make_msgid("mimawari", domain=config.sender.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834 §5: no vacation replies to a monitor
    message.set_content(email_body(alert, config.lang), charset="utf-8")
    message["Content-Language"] = config.lang  # after set_content, which clears Content-* headers
    return message


async def send_email(config: EmailNotifierConfig, alert: Alert) -> None:
    """Deliver ``alert`` to the configured recipients; ``NotifyError`` with one line when it fails."""
    password = None
    if config.password_env is not None:
        password = os.environ.get(config.password_env)
        if not password:
            raise NotifyError(
                f"notifier {config.name!r}: environment variable {config.password_env} "
                "(the SMTP password) is not set or empty"
            )
    context = None
    if config.security != "none":
        try:
            context = ssl.create_default_context(cafile=config.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise NotifyError(
                f"notifier {config.name!r}: cannot read ca_file {config.ca_file}: {_reason(exc, config)}"
            ) from None
    message = email_message(config, alert)
    try:
        await asyncio.to_thread(_deliver, config, message, password, context)
    except (_Refusal, OSError, smtplib.SMTPException) as exc:
        reason = _reason(exc, config)
        if password:
            reason = reason.replace(password, "***")
        raise NotifyError(
            f"notifier {config.name!r} (email via {config.host}:{config.port}): {reason}"
        ) from None


class _Refusal(Exception):
    """A step the notifier refuses to take; its text is the reason."""


def _deliver(
    config: EmailNotifierConfig, message: EmailMessage, password: str | None, context: ssl.SSLContext | None
) -> None:
    session: smtplib.SMTP
    if config.security == "tls":
        session = smtplib.SMTP_SSL(
            config.host,
            config.port,
            local_hostname=config.greeting_name,
            timeout=config.timeout,
            context=context,
        )
    else:
        session = smtplib.SMTP(
            config.host, config.port, local_hostname=config.greeting_name, timeout=config.timeout
        )
    with session:
        session.ehlo()
        if config.security == "starttls":
            if not session.has_extn("starttls"):
                raise _Refusal(
                    "the server does not offer STARTTLS; not sending in clear text "
                    "(set security: none only for a server on a trusted network)"
                )
            session.starttls(context=context)
            session.ehlo()
        if config.username is not None and password is not None:
            if not session.has_extn("auth"):
                raise _Refusal("the server does not offer AUTH, but a username is configured")
            session.login(config.username, password)
        refused = session.send_message(message, from_addr=config.sender, to_addrs=list(config.recipients))
        if refused:
            raise _Refusal(_refused_text(refused) + " (the other recipients got the alert)")


def _refused_text(refused: dict[str, tuple[int, bytes]]) -> str:
    return "recipients refused: " + "; ".join(
        f"{address} ({code} {_decode(reply)})" for address, (code, reply) in sorted(refused.items())
    )


def _decode(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return one_line(text)


def _reason(exc: BaseException, config: EmailNotifierConfig) -> str:
    """What went wrong, in one line a mail administrator recognises."""
    if isinstance(exc, _Refusal):
        return str(exc)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        # smtplib turns a read that timed out into "connection unexpectedly closed".
        if isinstance(exc.__context__, TimeoutError):
            return f"no answer within {config.timeout:g} s"
        return "the server closed the connection"
    if isinstance(exc, smtplib.SMTPException):
        return _smtp_reason(exc)
    return transport_reason(exc, config.timeout, private_ca_hint=config.ca_file is None)


def _smtp_reason(exc: smtplib.SMTPException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _refused_text(exc.recipients)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"authentication failed: {exc.smtp_code} {_decode(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"sender {exc.sender} refused: {exc.smtp_code} {_decode(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server answered {exc.smtp_code} {_decode(exc.smtp_error)}"
    return one_line(str(exc)) or type(exc).__name__


def transport_reason(exc: BaseException, timeout: float, *, private_ca_hint: bool = False) -> str:
    """The innermost cause a client library wraps: the certificate, the refused connection, the name."""
    causes: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in causes:
        causes.append(current)
        current = current.__cause__ or current.__context__
    for cause in causes:  # a failed verification is an SSLError too: the more precise reason first
        if isinstance(cause, ssl.SSLCertVerificationError):
            hint = " (a private CA? set ca_file)" if private_ca_hint else ""
            return f"TLS certificate not accepted: {cause.verify_message}{hint}"
    for cause in causes:
        if isinstance(cause, ssl.SSLError):
            return f"TLS failed: {cause.reason or one_line(str(cause))}"
        if isinstance(cause, TimeoutError):
            return f"no answer within {timeout:g} s"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return f"cannot resolve the host name: {cause.strerror}"
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
    return one_line(str(exc)) or type(exc).__name__

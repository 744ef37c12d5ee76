"""The lab's mail servers (SMTP, IMAP, POP3) as a scanner meets them, through the endpoint map.

Every test talks over loopback to listeners the lab started; each ends with the lab stopped, no session
task left and nothing logged at WARNING or above (a client hanging up is not the server's error).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import ssl
import time
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mimawari.errors import ZoneError
from mimawari.lab.mail import MailLab, MailServers, mail_from_document
from mimawari.lab.world import LabConnection, load_lab_files, read_lab_connection
from mimawari.serial import to_json

MAIL_YAML = """
mail:
  servers:
    - host: mx1.lab.example
      addresses: [203.0.113.25, "2001:db8::25"]
      smtp: {banner: "mx1.lab.example ESMTP Postfix (Debian/GNU)", users: [info], vrfy: true, expn: true}
      submission: {}
      submissions: {}
    - host: mx2.lab.example
      addresses: [203.0.113.26]
      smtp: {cert: expired, tls: [TLSv1.0, TLSv1.1, TLSv1.2], open_relay: true, accept_unknown: true,
             auth: before-tls, smuggling: true}
    - host: mx3.lab.example
      addresses: [203.0.113.27]
      smtp: {cert: wrong-name, key: rsa1024}
      submission: {starttls: false, auth: before-tls}
    - host: mx4.lab.example
      addresses: [203.0.113.28]
      smtp: {cert: self-signed, tls: TLSv1.2, ciphers: ECDHE-ECDSA-AES128-SHA256}
    - host: slow.lab.example
      addresses: [203.0.113.29]
      smtp: {stall: true}
      submission: {slow: 0.3}
      imap: {stall: true}
    - host: imap.lab.example
      addresses: [203.0.113.30]
      imap: {banner: Dovecot ready., capabilities: [ID, IDLE]}
      imaps: {}
      pop3: {capabilities: [IMPLEMENTATION Dovecot]}
      pop3s: {}
    - host: old.lab.example
      addresses: [203.0.113.31]
      imap: {login_before_tls: true}
      pop3: {user_before_tls: true}
      submission: {starttls: false, auth: after-tls}
"""
ZONES_YAML = """
zones:
  lab.example:
    records:
      mx1: {A: 203.0.113.25, AAAA: "2001:db8::25"}
"""
WAIT = 5.0
"""Seconds any expected answer may take; a test waiting this long has failed."""


@pytest.fixture
async def mail(caplog: pytest.LogCaptureFixture) -> AsyncIterator[MailLab]:
    loop = asyncio.get_running_loop()
    loop_errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: loop_errors.append(context))
    caplog.set_level(logging.WARNING)
    before = asyncio.all_tasks()
    async with MailLab(mail_from_document(yaml.safe_load(MAIL_YAML))) as lab:
        yield lab
    gc.collect()  # a task whose exception nobody retrieved is reported when it is collected
    assert asyncio.all_tasks() - before - {asyncio.current_task()} == set()
    assert loop_errors == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


class Client:
    """A scanner's side of a mail session, raw: lines out, lines in, TLS when asked."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(
        cls, lab: MailLab, address: str, port: int, tls: ssl.SSLContext | None = None, name: str = ""
    ) -> Client:
        host, real_port = lab.endpoint(address, port)
        reader, writer = await asyncio.open_connection(
            host, real_port, ssl=tls, server_hostname=(name or None) if tls else None
        )
        return cls(reader, writer)

    async def line(self) -> str:
        async with asyncio.timeout(WAIT):
            return (await self.reader.readline()).decode().rstrip("\r\n")

    async def send(self, data: str | bytes) -> None:
        self.writer.write(data if isinstance(data, bytes) else f"{data}\r\n".encode())
        await self.writer.drain()

    async def reply(self) -> tuple[int, list[str]]:
        """One SMTP reply: its code and the text of each line."""
        lines = [await self.line()]
        while lines[-1][3:4] == "-":
            lines.append(await self.line())
        return int(lines[0][:3]), [line[4:] for line in lines]

    async def command(self, command: str) -> tuple[int, list[str]]:
        await self.send(command)
        return await self.reply()

    async def until(self, tag: str) -> list[str]:
        """IMAP: every line up to and including the tagged one."""
        lines = [await self.line()]
        while not lines[-1].startswith(f"{tag} "):
            lines.append(await self.line())
        return lines

    async def command_lines(self, line: str, tag: str = "") -> list[str]:
        await self.send(line)
        return await self.until(tag or line.split(" ", maxsplit=1)[0])

    async def pop_list(self) -> list[str]:
        """POP3: a multi-line answer, status line first, without the final dot."""
        lines = [await self.line()]
        while lines[0].startswith("+OK") and lines[-1] != ".":
            lines.append(await self.line())
        return lines[:-1] if lines[-1] == "." else lines

    async def start_tls(self, context: ssl.SSLContext, name: str) -> None:
        async with asyncio.timeout(WAIT):
            await self.writer.start_tls(context, server_hostname=name)

    @property
    def ssl_object(self) -> ssl.SSLObject:
        ssl_object = self.writer.get_extra_info("ssl_object")
        assert isinstance(ssl_object, ssl.SSLObject)
        return ssl_object

    async def close(self) -> None:
        self.writer.close()


def insecure(minimum: str = "", maximum: str = "", ciphers: str = "") -> ssl.SSLContext:
    """A client that checks nothing and speaks only the versions given (``TLSv1``, ``TLSv1_3``…)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0 on purpose
        if minimum:
            context.minimum_version = ssl.TLSVersion[minimum]
        if maximum:
            context.maximum_version = ssl.TLSVersion[maximum]
    if ciphers or minimum in ("TLSv1", "TLSv1_1"):
        context.set_ciphers(ciphers or "DEFAULT:@SECLEVEL=0")
    return context


async def smtp_tls(lab: MailLab, address: str, context: ssl.SSLContext, name: str) -> Client:
    client = await Client.open(lab, address, 25)
    assert (await client.reply())[0] == 220
    assert "STARTTLS" in (await client.command("EHLO scanner.invalid"))[1]
    assert (await client.command("STARTTLS"))[0] == 220
    await client.start_tls(context, name)
    return client


# --- YAML ---------------------------------------------------------------------------------------------


def load(servers: str) -> MailServers:
    return mail_from_document(yaml.safe_load(f"mail:\n  servers:\n{servers}"))


SERVER = "    - host: mx.lab.example\n      addresses: [203.0.113.25]\n"


@pytest.mark.parametrize(
    ("servers", "message"),
    [
        (SERVER + "      smtp: {relay: true}\n", "mail server mx.lab.example smtp: unknown keys ['relay']"),
        (SERVER + "      smtps: {}\n", "mail server mx.lab.example: unknown keys ['smtps']"),
        (SERVER + "      submissions: {starttls: true}\n", "submissions: unknown keys ['starttls']"),
        (SERVER + "      imaps: {login_before_tls: true}\n", "imaps: unknown keys ['login_before_tls']"),
        (SERVER + "      pop3: {starttls: true}\n", "pop3: unknown keys ['starttls']"),
        (SERVER + "      smtp: {cert: bogus}\n", "smtp: 'cert' must be one of valid, expired, wrong-name"),
        (SERVER + "      smtp: {key: rsa512}\n", "smtp: 'key' must be one of ec, rsa1024"),
        (SERVER + "      smtp: {auth: always}\n", "smtp: 'auth' must be one of before-tls, after-tls, none"),
        (SERVER + "      smtp: {tls: [SSLv3]}\n", "smtp: 'tls' must be a list of TLSv1.0"),
        (SERVER + "      smtp: {tls: [TLSv1.0, TLSv1.3]}\n", "smtp: 'tls' must be a contiguous range"),
        (
            SERVER + "      smtp: {ciphers: NOPE-NOTHING}\n",
            "smtp: 'ciphers' must be an OpenSSL cipher string",
        ),
        (SERVER + "      smtp: {port: 70000}\n", "smtp: 'port' must be a port number"),
        (SERVER + "      smtp: {vrfy: 'yes'}\n", "smtp: 'vrfy' must be true or false"),
        (SERVER + "      smtp: {slow: -1}\n", "smtp: 'slow' must be a number of seconds"),
        (SERVER + '      smtp: {banner: "a\\r\\nb"}\n', "smtp: 'banner' must be one line of ASCII text"),
        (SERVER + "      smtp: {users: info}\n      imap: [143]\n", "imap must be a mapping of settings"),
        (SERVER + "      imap: {capabilities: [1]}\n", "imap: 'capabilities' must be a list of strings"),
        (SERVER, "mail server mx.lab.example serves nothing"),
        ("    - host: mx.lab.example\n      smtp: {}\n", "mail server mx.lab.example: 'addresses' must be"),
        (
            "    - host: mx.lab.example\n      addresses: [mx1]\n      smtp: {}\n",
            "'addresses' must be a list of IPv4",
        ),
        (
            "    - host: 'bad name'\n      addresses: [203.0.113.1]\n",
            "mail server #1: 'host' must be a host name",
        ),
        ("    - [mx.lab.example]\n", "mail server #1 must be a mapping"),
        (SERVER + "      smtp: {}\n      submission: {port: 25}\n", "mail 203.0.113.25:25 is served twice"),
        (SERVER + "      smtp: {}\n" + SERVER + "      smtp: {}\n", "mail 203.0.113.25:25 is served twice"),
    ],
)
def test_yaml_errors_name_the_key(servers: str, message: str) -> None:
    with pytest.raises(ZoneError, match=r"^lab YAML: ") as raised:
        load(servers)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"mail": []}, "'mail' must be a mapping with one key, 'servers'"),
        ({"mail": {"servers": [], "relay": 1}}, "'mail' must be a mapping with one key, 'servers'"),
        ({"mail": {"servers": {"mx": {}}}}, "'mail: servers' must be a list"),
    ],
)
def test_yaml_section_errors(document: dict[str, Any], message: str) -> None:
    with pytest.raises(ZoneError, match=message):
        mail_from_document(document)


def test_yaml_defaults() -> None:
    servers = load(SERVER + "      smtp:\n      submission: {}\n      pop3s: {}\n")
    smtp, submission, pop3s = servers.servers[0].services
    assert (smtp.port, submission.port, pop3s.port) == (25, 587, 995)
    assert smtp.options.greeting == "mx.lab.example ESMTP"  # type: ignore[union-attr]
    assert smtp.options.local_domains == ("lab.example", "mx.lab.example")  # type: ignore[union-attr]
    assert (smtp.options.auth.value, submission.options.auth.value) == ("none", "after-tls")  # type: ignore[union-attr]
    assert pop3s.options.implicit_tls and not pop3s.options.stls  # type: ignore[union-attr]
    assert (smtp.tls.minimum, smtp.tls.maximum) == (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
    assert mail_from_document({}) == MailServers()


# --- endpoints and the whole lab -------------------------------------------------------------------------


async def test_every_address_and_port_has_its_own_listener(mail: MailLab) -> None:
    endpoints = mail.endpoints
    assert {"203.0.113.25:25", "[2001:db8::25]:25", "203.0.113.25:587", "203.0.113.25:465"} <= set(endpoints)
    assert {"203.0.113.30:143", "203.0.113.30:993", "203.0.113.30:110", "203.0.113.30:995"} <= set(endpoints)
    assert len(set(endpoints.values())) == len(endpoints) == 20
    assert all(value.startswith("127.0.0.1:") for value in endpoints.values())
    assert mail.endpoint("2001:0db8:0::25", 25) == (
        "127.0.0.1",
        int(endpoints["[2001:db8::25]:25"].split(":")[1]),
    )
    client = await Client.open(mail, "2001:db8::25", 25)
    assert await client.reply() == (220, ["mx1.lab.example ESMTP Postfix (Debian/GNU)"])
    await client.close()


async def test_lab_serves_mail_with_its_one_ca(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("zones:\n  other.example:\n    records: {mx: {A: 198.51.100.25}}\n", encoding="utf-8")
    servers = tmp_path / "mail.yaml"
    servers.write_text(ZONES_YAML + MAIL_YAML, encoding="utf-8")
    async with load_lab_files([str(other), str(servers)]) as lab:
        connection = lab.connection()
        assert connection.mail_endpoints == lab.mail.endpoints
        assert connection.mail_endpoints["[2001:db8::25]:25"].startswith("127.0.0.1:")
        file = tmp_path / "lab.json"
        file.write_text(to_json(connection), encoding="utf-8")
        assert read_lab_connection(str(file)) == connection
        client = await smtp_tls(
            lab.mail, "203.0.113.25", ssl.create_default_context(cafile=lab.ca_file), "mx1.lab.example"
        )
        await client.close()
    assert LabConnection("127.0.0.1:53", 443, "ca.pem", {}).mail_endpoints == {}


def test_mail_servers_twice_in_lab_files(tmp_path: Path) -> None:
    paths = []
    for name in ("a.yaml", "b.yaml"):
        path = tmp_path / name
        path.write_text(ZONES_YAML + MAIL_YAML, encoding="utf-8")
        paths.append(str(path))
    with pytest.raises(ZoneError, match=r"mail 203\.0\.113\.25:25 is served twice"):
        load_lab_files(paths)


# --- SMTP: certificates and TLS ---------------------------------------------------------------------------


async def test_starttls_with_a_valid_certificate_verifies(mail: MailLab) -> None:
    client = await smtp_tls(
        mail, "203.0.113.25", ssl.create_default_context(cafile=mail.ca_file), "mx1.lab.example"
    )
    assert client.ssl_object.version() in ("TLSv1.2", "TLSv1.3")
    code, lines = await client.command("EHLO scanner.invalid")
    assert code == 250 and "STARTTLS" not in lines
    assert (await client.command("STARTTLS"))[0] == 554  # TLS already active
    await client.close()


@pytest.mark.parametrize(
    ("address", "name", "reason"),
    [
        ("203.0.113.26", "mx2.lab.example", "certificate has expired"),
        (
            "203.0.113.27",
            "mx3.lab.example",
            "Hostname mismatch, certificate is not valid for 'mx3.lab.example'",
        ),
        ("203.0.113.28", "mx4.lab.example", "self-signed certificate"),
    ],
)
async def test_bad_certificates_fail_for_the_right_reason(
    mail: MailLab, address: str, name: str, reason: str
) -> None:
    context = ssl.create_default_context(cafile=mail.ca_file)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # mx3's 1024-bit key would fail first at the default level
    with pytest.raises(ssl.SSLCertVerificationError) as failed:
        await smtp_tls(mail, address, context, name)
    assert reason in str(failed.value.verify_message)
    # The server shrugs off the failed handshake and serves the next client.
    client = await smtp_tls(mail, address, insecure(ciphers="DEFAULT:@SECLEVEL=0"), name)
    await client.close()


@pytest.mark.parametrize(
    ("address", "key_type", "bits"),
    [("203.0.113.25", ec.EllipticCurvePublicKey, 256), ("203.0.113.27", rsa.RSAPublicKey, 1024)],
)
async def test_key_type_and_size(mail: MailLab, address: str, key_type: type[Any], bits: int) -> None:
    client = await smtp_tls(mail, address, insecure(ciphers="DEFAULT:@SECLEVEL=0"), "mx.lab.example")
    der = client.ssl_object.getpeercert(binary_form=True)
    assert der is not None
    key = x509.load_der_x509_certificate(der).public_key()
    assert isinstance(key, key_type) and key.key_size == bits
    await client.close()


async def test_tls_versions_are_enforced(mail: MailLab) -> None:
    # Refused: asyncio's TLS ends a failed handshake by closing, without an alert, so the client may
    # see the connection reset rather than a protocol_version alert.
    with pytest.raises((ssl.SSLError, ConnectionError)):  # mx1 accepts TLS 1.2 and 1.3 only
        await smtp_tls(mail, "203.0.113.25", insecure("TLSv1", "TLSv1"), "mx1.lab.example")
    client = await smtp_tls(mail, "203.0.113.26", insecure("TLSv1", "TLSv1"), "mx2.lab.example")
    assert client.ssl_object.version() == "TLSv1"
    await client.close()
    with pytest.raises((ssl.SSLError, ConnectionError)):  # mx2 stops at TLS 1.2
        await smtp_tls(mail, "203.0.113.26", insecure("TLSv1_3", "TLSv1_3"), "mx2.lab.example")


async def test_cipher_string_is_applied(mail: MailLab) -> None:
    client = await smtp_tls(mail, "203.0.113.28", insecure(), "mx4.lab.example")
    cipher = client.ssl_object.cipher()
    assert cipher is not None
    assert (client.ssl_object.version(), cipher[0]) == ("TLSv1.2", "ECDHE-ECDSA-AES128-SHA256")
    await client.close()


async def test_implicit_tls_submission(mail: MailLab) -> None:
    context = ssl.create_default_context(cafile=mail.ca_file)
    client = await Client.open(mail, "203.0.113.25", 465, tls=context, name="mx1.lab.example")
    assert (await client.reply())[0] == 220
    _code, lines = await client.command("EHLO scanner.invalid")
    assert "AUTH PLAIN LOGIN" in lines and "STARTTLS" not in lines
    assert (await client.command("AUTH PLAIN AGxhYgBsYWI="))[0] == 535
    await client.close()


async def test_no_starttls(mail: MailLab) -> None:
    client = await Client.open(mail, "203.0.113.27", 587)
    await client.reply()
    _code, lines = await client.command("EHLO scanner.invalid")
    assert "STARTTLS" not in lines and "AUTH PLAIN LOGIN" in lines
    assert (await client.command("STARTTLS"))[0] == 502
    await client.close()


# --- SMTP: relay, recipients, VRFY, AUTH, DATA ------------------------------------------------------------------


async def session(mail: MailLab, address: str, port: int = 25) -> Client:
    client = await Client.open(mail, address, port)
    assert (await client.reply())[0] == 220
    assert (await client.command("EHLO scanner.invalid"))[0] == 250
    return client


async def test_relay_and_recipients(mail: MailLab) -> None:
    closed = await session(mail, "203.0.113.25")
    assert (await closed.command("MAIL FROM:<probe@outside.example>"))[0] == 250
    code, lines = await closed.command("RCPT TO:<victim@elsewhere.example>")
    assert (code, lines) == (554, ["5.7.1 <victim@elsewhere.example>: Relay access denied"])
    assert (await closed.command("RCPT TO:<nobody-x7@lab.example>"))[0] == 550
    assert (await closed.command("RCPT TO:<INFO@lab.example>"))[0] == 250
    assert (await closed.command("RCPT TO:<postmaster>"))[0] == 250
    assert (await closed.command("RSET"))[0] == 250
    await closed.close()
    open_relay = await session(mail, "203.0.113.26")
    await open_relay.command("MAIL FROM:<probe@outside.example>")
    assert (await open_relay.command("RCPT TO:<victim@elsewhere.example>"))[0] == 250
    assert (await open_relay.command("RCPT TO:<nobody-x7@lab.example>"))[0] == 250  # accept-then-bounce
    await open_relay.close()


async def test_vrfy_and_expn(mail: MailLab) -> None:
    enabled = await session(mail, "203.0.113.25")
    assert "VRFY" in (await enabled.command("EHLO again.invalid"))[1]
    assert await enabled.command("VRFY postmaster") == (252, ["2.0.0 postmaster"])
    assert (await enabled.command("VRFY nobody-x7@lab.example"))[0] == 550
    assert await enabled.command("EXPN info@lab.example") == (250, ["2.1.5 <info@lab.example>"])
    await enabled.close()
    disabled = await session(mail, "203.0.113.26")
    assert await disabled.command("VRFY postmaster") == (502, ["5.5.1 VRFY command is disabled"])
    assert (await disabled.command("EXPN postmaster"))[0] == 502
    await disabled.close()


@pytest.mark.parametrize(
    ("address", "port", "before", "after", "refusal"),
    [
        ("203.0.113.26", 25, True, True, 535),  # before-tls: offered in clear text
        ("203.0.113.25", 587, False, True, 503),  # after-tls: only inside TLS
        ("203.0.113.25", 25, False, False, 502),  # none
    ],
)
async def test_auth_placement(
    mail: MailLab, address: str, port: int, before: bool, after: bool, refusal: int
) -> None:
    client = await Client.open(mail, address, port)
    await client.reply()
    assert ("AUTH PLAIN LOGIN" in (await client.command("EHLO scanner.invalid"))[1]) is before
    assert (await client.command("AUTH PLAIN AGxhYgBsYWI="))[0] == refusal
    assert (await client.command("STARTTLS"))[0] == 220
    await client.start_tls(insecure(ciphers="DEFAULT:@SECLEVEL=0"), "mx.lab.example")
    assert ("AUTH PLAIN LOGIN" in (await client.command("EHLO scanner.invalid"))[1]) is after
    await client.close()


async def test_data_is_kept_and_ends_only_at_crlf_dot_crlf(mail: MailLab) -> None:
    client = await session(mail, "203.0.113.25")
    await client.command("MAIL FROM:<a@outside.example>")
    await client.command("RCPT TO:<info@lab.example>")
    assert (await client.command("DATA"))[0] == 354
    await client.send(b"Subject: one\r\n\r\nbare\n.\nstill data\n.\r\n..dotted\r\n.\r\n")
    code, lines = await client.reply()
    assert code == 250 and lines[0].startswith("2.0.0 Ok: queued as")
    assert (await client.command("QUIT"))[0] == 221
    await client.close()
    [message] = mail.messages
    assert (message.address, message.port, message.mail_from) == ("203.0.113.25", 25, "a@outside.example")
    assert message.content == b"Subject: one\r\n\r\nbare\n.\nstill data\n.\r\n.dotted\r\n"


@pytest.mark.parametrize("end", [b"\n.\n", b"\n.\r\n", b"\r\n.\r\n"])
async def test_smuggling_server_ends_data_at_a_bare_lf_dot(mail: MailLab, end: bytes) -> None:
    client = await session(mail, "203.0.113.26")
    await client.command("MAIL FROM:<a@outside.example>")
    await client.command("RCPT TO:<postmaster@lab.example>")
    assert (await client.command("DATA"))[0] == 354
    await client.send(b"Subject: one\r\n\r\nfirst" + end + b"MAIL FROM:<smuggled@outside.example>\r\n")
    assert (await client.reply())[0] == 250  # the message ended at the bare sequence ...
    assert await client.reply() == (250, ["2.1.0 Ok"])  # ... and the rest was read as a command
    await client.close()
    assert mail.messages[0].content == b"Subject: one\r\n\r\nfirst" + end[: end.index(b".")]


# --- SMTP: banner, tarpit, slow greeting, limits -----------------------------------------------------------


async def test_stall_accepts_and_never_greets(mail: MailLab) -> None:
    for port in (25, 143):
        client = await Client.open(mail, "203.0.113.29", port)
        await client.send("EHLO scanner.invalid")
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await client.reader.read(1)
        await client.close()


async def test_slow_greeting(mail: MailLab) -> None:
    started = time.monotonic()
    client = await Client.open(mail, "203.0.113.29", 587)
    assert (await client.reply())[0] == 220
    assert time.monotonic() - started >= 0.3
    await client.close()


async def test_overlong_command_line(mail: MailLab) -> None:
    client = await session(mail, "203.0.113.25")
    assert (await client.command("NOOP " + "x" * 2000))[0] == 500
    assert (await client.command("NOOP"))[0] == 250
    await client.close()


# --- IMAP --------------------------------------------------------------------------------------------------------


async def test_imap_logindisabled_until_starttls(mail: MailLab) -> None:
    client = await Client.open(mail, "203.0.113.30", 143)
    greeting = await client.line()
    assert greeting == "* OK [CAPABILITY IMAP4rev1 ID IDLE STARTTLS LOGINDISABLED] Dovecot ready."
    assert await client.command_lines("a1 CAPABILITY") == [
        "* CAPABILITY IMAP4rev1 ID IDLE STARTTLS LOGINDISABLED",
        "a1 OK Capability completed.",
    ]
    assert (await client.command_lines('a2 LOGIN "u" "p"'))[-1].startswith("a2 NO [PRIVACYREQUIRED]")
    assert (await client.command_lines("a3 FETCH 1 BODY[]"))[-1].startswith("a3 BAD")
    assert await client.command_lines("a4 STARTTLS") == ["a4 OK Begin TLS negotiation now."]
    await client.start_tls(ssl.create_default_context(cafile=mail.ca_file), "imap.lab.example")
    assert (await client.command_lines("a5 CAPABILITY"))[0] == "* CAPABILITY IMAP4rev1 ID IDLE AUTH=PLAIN"
    assert (await client.command_lines('a6 LOGIN "u" "p"'))[-1].startswith("a6 NO [AUTHENTICATIONFAILED]")
    assert (await client.command_lines("a7 STARTTLS"))[-1].startswith("a7 BAD")
    assert await client.command_lines("a8 LOGOUT") == ["* BYE Logging out", "a8 OK Logout completed."]
    assert await client.reader.read() == b""
    await client.close()


async def test_imap_login_before_tls_and_implicit_tls(mail: MailLab) -> None:
    cleartext = await Client.open(mail, "203.0.113.31", 143)
    assert await cleartext.line() == "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] IMAP server ready."
    await cleartext.send("t AUTHENTICATE PLAIN")
    assert await cleartext.line() == "+ "
    assert await cleartext.command_lines("AGxhYgBsYWI=", tag="t") == [
        "t NO [AUTHENTICATIONFAILED] Authentication failed."
    ]
    await cleartext.close()
    implicit = await Client.open(
        mail,
        "203.0.113.30",
        993,
        tls=ssl.create_default_context(cafile=mail.ca_file),
        name="imap.lab.example",
    )
    assert await implicit.line() == "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] IMAP server ready."
    await implicit.close()


async def test_imap_overlong_line_and_garbage(mail: MailLab) -> None:
    client = await Client.open(mail, "203.0.113.30", 143)
    await client.line()
    await client.send("\x00")
    assert (await client.line()).startswith("* BAD")
    await client.send("a1 NOOP " + "x" * 10000)
    async with asyncio.timeout(WAIT):
        assert await client.reader.read() == b""  # the server hung up
    await client.close()


# --- POP3 --------------------------------------------------------------------------------------------------------


async def test_pop3_user_only_after_stls(mail: MailLab) -> None:
    client = await Client.open(mail, "203.0.113.30", 110)
    assert await client.line() == "+OK POP3 server ready."
    await client.send("CAPA")
    capabilities = (await client.pop_list())[1:]
    assert "STLS" in capabilities and "USER" not in capabilities and "IMPLEMENTATION Dovecot" in capabilities
    await client.send("USER someone")
    assert (await client.line()).startswith("-ERR [AUTH] Plaintext authentication disallowed")
    await client.send("RETR 1")
    assert await client.line() == "-ERR Unknown command."
    await client.send("STLS")
    assert (await client.line()).startswith("+OK")
    await client.start_tls(ssl.create_default_context(cafile=mail.ca_file), "imap.lab.example")
    await client.send("CAPA")
    capabilities = (await client.pop_list())[1:]
    assert "STLS" not in capabilities and "USER" in capabilities
    for command, answer in [("USER someone", "+OK"), ("PASS secret", "-ERR [AUTH] Authentication failed.")]:
        await client.send(command)
        assert await client.line() == answer
    await client.send("QUIT")
    assert await client.line() == "+OK Logging out."
    await client.close()


async def test_pop3_user_before_tls_and_implicit_tls(mail: MailLab) -> None:
    cleartext = await Client.open(mail, "203.0.113.31", 110)
    await cleartext.line()
    await cleartext.send("CAPA")
    assert {"STLS", "USER", "SASL PLAIN"} <= set(await cleartext.pop_list())
    await cleartext.send("USER someone")
    assert await cleartext.line() == "+OK"
    await cleartext.close()
    context = ssl.create_default_context(cafile=mail.ca_file)
    implicit = await Client.open(mail, "203.0.113.30", 995, tls=context, name="imap.lab.example")
    await implicit.line()
    await implicit.send("CAPA")
    capabilities = await implicit.pop_list()
    assert "USER" in capabilities and "STLS" not in capabilities
    await implicit.send("STLS")
    assert await implicit.line() == "-ERR Command not permitted when TLS active"
    await implicit.close()


# --- hanging up and stopping --------------------------------------------------------------------------------


async def test_clients_hanging_up_anywhere_leave_no_trace(mail: MailLab) -> None:
    # Mid-DATA, in TLS handshakes, in an AUTH exchange, before a slow greeting, in a tarpit.
    data = await session(mail, "203.0.113.25")
    await data.command("MAIL FROM:<a@outside.example>")
    await data.command("RCPT TO:<info@lab.example>")
    await data.command("DATA")
    await data.send(b"half a message")
    lf_data = await session(mail, "203.0.113.26")  # the smuggling server reads DATA its own way
    await lf_data.command("MAIL FROM:<a@outside.example>")
    await lf_data.command("RCPT TO:<info@lab.example>")
    await lf_data.command("DATA")
    await lf_data.send(b"half\na message")
    handshake = await session(mail, "203.0.113.26")
    await handshake.command("STARTTLS")
    await handshake.send(b"\x16\x03\x01\x00\xff not really a ClientHello")
    auth = await session(mail, "203.0.113.26")
    await auth.send("AUTH LOGIN")
    assert (await auth.reply())[0] == 334
    imap = await Client.open(mail, "203.0.113.30", 143)
    await imap.line()
    await imap.command_lines("a STARTTLS")
    pop3 = await Client.open(mail, "203.0.113.30", 110)
    await pop3.line()
    await pop3.send("STLS")
    await pop3.line()
    slow = await Client.open(mail, "203.0.113.29", 587)
    tarpit = await Client.open(mail, "203.0.113.29", 25)
    implicit = await Client.open(mail, "203.0.113.25", 465)
    await implicit.send(b"\x16\x03\x01\x00\x05hello")
    clients = (data, lf_data, handshake, auth, imap, pop3, slow, tarpit, implicit)
    assert mail.open_sessions >= len(clients) - 1  # the tarpit may not have seen its client yet
    for client in clients:
        client.writer.transport.abort()
    async with asyncio.timeout(WAIT):  # every session ends by itself, without stop()
        while mail.open_sessions:
            await asyncio.sleep(0.01)
    # The servers still serve.
    for address, port in (
        ("203.0.113.25", 25),
        ("203.0.113.26", 25),
        ("203.0.113.30", 143),
        ("203.0.113.30", 110),
    ):
        client = await Client.open(mail, address, port)
        assert await client.line()
        await client.close()


async def test_stop_closes_open_sessions() -> None:
    lab = MailLab(mail_from_document(yaml.safe_load(MAIL_YAML)))
    await lab.start()
    clients = []
    for address, port in (
        ("203.0.113.25", 25),
        ("203.0.113.25", 465),
        ("203.0.113.30", 143),
        ("203.0.113.30", 995),
        ("203.0.113.29", 25),
        ("203.0.113.29", 587),
    ):
        tls = insecure() if port in (465, 995) else None
        clients.append(await Client.open(lab, address, port, tls=tls, name="x.lab.example"))
    await clients[0].reply()
    tls_session = await smtp_tls(lab, "203.0.113.25", insecure(), "mx1.lab.example")
    await lab.stop()
    for client in [*clients, tls_session]:
        async with asyncio.timeout(WAIT):
            try:
                while await client.reader.read(4096):
                    pass
            except (ConnectionError, ssl.SSLError):
                pass
        await client.close()
    assert lab.endpoints == {}

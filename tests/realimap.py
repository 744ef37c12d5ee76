"""Debian's Dovecot holding DMARC report e-mails, for the IMAP source's tests (tests/test_dmarc_imap.py).

It is started the way tests/realmail.py starts its Dovecot (whose helpers it uses): own configuration in a
temporary directory, certificates from the lab CA, loopback only, as root dropping to its own users. What
differs: each test puts its messages straight into the user's Maildir, in a folder of its own, so one
server serves a whole test module; and a second address, ``LEGACY_ADDRESS``, serves the same mailbox as a
server that offers no MOVE (RFC 6851), so that the COPY + UID EXPUNGE fallback meets a real server too.
"""

from __future__ import annotations

import contextlib
import gzip
import imaplib
import os
import pwd
import random
import re
import secrets
import shutil
import ssl
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from mimawari.lab.ca import LabCa
from tests import realmail

# The helpers tests/realmail.py uses for its own Dovecot; their behaviour is what this module needs too.
from tests.realmail import (
    _binary,
    _end_group,
    _environment,
    _free_ports,
    _install_leaf,
    _server_directory,
    _wait_until_ready,
    _write,
)

SERVER_ADDRESS = realmail.SERVER_ADDRESS
LEGACY_ADDRESS = "127.0.0.3"
"""Where the same Dovecot answers without MOVE: a ``local`` block of its configuration applies to it."""
HOST_NAME = realmail.MAILBOX_HOST
LEGACY_HOST_NAME = f"legacy.{realmail.DOMAIN}"
USER = "reports"
LEGACY_CAPABILITY = "IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE UIDPLUS NAMESPACE"
"""What the legacy address announces after login: UIDPLUS (RFC 4315) for UID EXPUNGE, but no MOVE."""
_TIMEOUT = 10.0


def address_of(host: str) -> str | None:
    """The loopback address a test name stands for, or None for names that are not this module's."""
    return {HOST_NAME: SERVER_ADDRESS, LEGACY_HOST_NAME: LEGACY_ADDRESS}.get(host.lower().rstrip("."))


@dataclass(frozen=True)
class RealImap:
    """A running Dovecot: IMAP with STARTTLS on ``imap_port`` and IMAPS on ``imaps_port``, on both
    ``host_name`` and ``legacy_host_name``, for one user whose Maildir is ``maildir``."""

    host_name: str
    legacy_host_name: str
    imap_port: int
    imaps_port: int
    ca_file: str
    user: str
    password: str
    maildir: Path
    config_file: Path
    log_file: Path
    mail_uid: int
    mail_gid: int

    def add_folder(self, name: str, messages: Sequence[bytes] = ()) -> str:
        """Make folder ``name`` (as sent on the wire: ASCII, modified UTF-7 for other characters) holding
        ``messages`` in this order, oldest first, as an MDA would have delivered and a client seen them."""
        folder = self.maildir / f".{name}"
        for part in ("", "cur", "new", "tmp"):
            (folder / part).mkdir(mode=0o700, exist_ok=True)
            os.chown(folder / part, self.mail_uid, self.mail_gid)
        start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
        for index, message in enumerate(messages):
            # Dovecot gives new files their UIDs in the order of the time their names start with.
            path = folder / "cur" / f"{start + index}.M{index}P{os.getpid()}.{self.host_name}:2,"
            path.write_bytes(message)
            path.chmod(0o600)
            os.chown(path, self.mail_uid, self.mail_gid)
        return name

    def session(self, host_name: str | None = None) -> imaplib.IMAP4_SSL:
        """A logged-in stdlib client of the test's own, to look at the mailbox independently of mimawari."""
        context = ssl.create_default_context(cafile=self.ca_file)
        client = imaplib.IMAP4_SSL(
            host_name or self.host_name, self.imaps_port, ssl_context=context, timeout=_TIMEOUT
        )
        client.login(self.user, self.password)
        return client

    def capabilities(self, host_name: str) -> set[str]:
        """What the server announces to a logged-in client on ``host_name``."""
        client = self.session(host_name)
        try:
            return set(client.capability()[1][-1].decode().split())
        finally:
            client.logout()

    def flags(self, folder: str) -> dict[str, frozenset[str]]:
        """The flags of every message in ``folder`` by Message-ID (without the session's ``\\Recent``)."""
        client = self.session()
        try:
            typ, exists = client.select(f'"{folder}"', readonly=True)
            assert typ == "OK", f"cannot select {folder}"
            if exists[-1] == b"0":
                return {}
            typ, data = client.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        finally:
            client.logout()
        found: dict[str, frozenset[str]] = {}
        for item in data:
            if isinstance(item, tuple):
                flags = re.search(rb"FLAGS \(([^)]*)\)", item[0])
                message_id = re.search(rb"<([^>]+)>", item[1])
                if flags and message_id:
                    found[message_id[1].decode()] = frozenset(flags[1].decode().split()) - {"\\Recent"}
        return found

    def kick(self) -> None:
        """Disconnect every session of the user, as an administrator would (``doveadm kick``)."""
        done = subprocess.run(
            [_binary("doveadm") or "doveadm", "-c", str(self.config_file), "kick", self.user],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env=_environment(),
        )
        assert done.returncode == 0, f"doveadm kick failed: {done.stderr.strip()}"


_NO_PENALTY = "service anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}\n"
"""No growing delay for the next logins from 127.0.0.1 after the wrong-password test's failure."""


def _legacy_block(version: str, cert: Path, key: Path) -> str:
    """A ``local`` block: the legacy address shows its own certificate and a CAPABILITY without MOVE."""
    if version.split(".")[:2] >= ["2", "4"]:
        tls = f"  ssl_server_cert_file = {cert}\n  ssl_server_key_file = {key}\n"
    else:
        tls = f"  ssl_cert = <{cert}\n  ssl_key = <{key}\n"
    return (
        f"local {LEGACY_ADDRESS} {{\n{tls}"
        f"  protocol imap {{\n    imap_capability = {LEGACY_CAPABILITY}\n  }}\n}}\n"
    )


@contextlib.contextmanager
def running_imap(ca: LabCa) -> Iterator[RealImap]:
    """Start Dovecot in the foreground with a Maildir user; stop it (and every process it started) on exit."""
    directory = _server_directory("mimawari-imap-")
    log, output = directory / "dovecot.log", directory / "output"
    imap, imaps, pop3, pop3s = _free_ports(4)
    password, version = secrets.token_urlsafe(12), realmail.dovecot_version()
    process: subprocess.Popen[bytes] | None = None
    try:
        cert, key = _install_leaf(ca, HOST_NAME, directory)
        legacy = directory / "legacy"
        legacy.mkdir(mode=0o755)
        legacy_cert, legacy_key = _install_leaf(ca, LEGACY_HOST_NAME, legacy)
        nobody = pwd.getpwnam("nobody")
        home = directory / "home" / USER
        maildir = home / "Maildir"
        for path in (home, maildir, maildir / "cur", maildir / "new", maildir / "tmp"):
            path.mkdir(parents=True, mode=0o700)
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        users = directory / "users"
        _write(users, f"{USER}:{{PLAIN}}{password}:{nobody.pw_uid}:{nobody.pw_gid}::{home}::\n")
        text = realmail.dovecot_config(
            directory,
            version=version,
            address=f"{SERVER_ADDRESS}, {LEGACY_ADDRESS}",
            ports={"imap": imap, "imaps": imaps, "pop3": pop3, "pop3s": pop3s},
            cert=cert,
            key=key,
            users=users,
            mail_uid=nobody.pw_uid,
        )
        config = directory / "dovecot.conf"
        _write(config, text + _legacy_block(version, legacy_cert, legacy_key) + _NO_PENALTY)
        with output.open("wb") as sink:
            process = subprocess.Popen(
                [_binary("dovecot") or "dovecot", "-F", "-c", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
                start_new_session=True,
                env=_environment(),
            )
        started = process
        _wait_until_ready("Dovecot", {imap: b"* OK"}, lambda: started.poll() is None, (log, output))
        yield RealImap(
            host_name=HOST_NAME,
            legacy_host_name=LEGACY_HOST_NAME,
            imap_port=imap,
            imaps_port=imaps,
            ca_file=ca.ca_file,
            user=USER,
            password=password,
            maildir=maildir,
            config_file=config,
            log_file=log,
            mail_uid=nobody.pw_uid,
            mail_gid=nobody.pw_gid,
        )
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(realmail.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            _end_group(process.pid)
        shutil.rmtree(directory, ignore_errors=True)


def imap_fixture(ca: LabCa) -> Iterator[RealImap]:
    """A pytest fixture's body (``yield from imap_fixture(ca)``): skips, with the reason, where it cannot run."""
    if reason := realmail.dovecot_skip_reason():
        pytest.skip(reason)
    with running_imap(ca) as server:
        yield server


def report_email(
    number: int, *, reporter: str = "google.com", domain: str = "example.com", padding: int = 0
) -> bytes:
    """An aggregate report as reporters mail it (RFC 7489 section 7.2.1.1): a gzipped XML attachment named
    ``reporter!domain!begin!end.xml.gz``. ``padding`` adds that many incompressible bytes (a big message)."""
    begin = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=number)
    end = begin + timedelta(days=1) - timedelta(seconds=1)
    report_id = f"{reporter}-{number}"
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feedback>\n  <report_metadata>\n'
        f"    <org_name>{reporter}</org_name>\n    <email>noreply-dmarc@{reporter}</email>\n"
        f"    <report_id>{report_id}</report_id>\n"
        f"    <date_range><begin>{int(begin.timestamp())}</begin><end>{int(end.timestamp())}</end></date_range>\n"
        f"  </report_metadata>\n  <policy_published><domain>{domain}</domain><p>none</p></policy_published>\n"
        "  <record>\n    <row><source_ip>192.0.2.1</source_ip><count>3</count>\n"
        "      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated>\n"
        f"    </row>\n    <identifiers><header_from>{domain}</header_from></identifiers>\n"
        f"    <auth_results><spf><domain>{domain}</domain><result>pass</result></spf></auth_results>\n"
        "  </record>\n</feedback>\n"
    )
    message = EmailMessage()
    message["From"] = f"noreply-dmarc@{reporter}"
    message["To"] = f"dmarc@{domain}"
    message["Subject"] = f"Report domain: {domain} Submitter: {reporter} Report-ID: {report_id}"
    message["Date"] = format_datetime(end + timedelta(hours=2))
    message["Message-ID"] = f"<{report_id}@{reporter}>"
    message.set_content(f"DMARC aggregate report {report_id}.\n")
    attachment = gzip.compress(xml.encode(), mtime=0)
    filename = f"{reporter}!{domain}!{int(begin.timestamp())}!{int(end.timestamp())}.xml.gz"
    message.add_attachment(attachment, maintype="application", subtype="gzip", filename=filename)
    if padding:
        noise = random.Random(number).randbytes(padding)
        message.add_attachment(noise, maintype="application", subtype="octet-stream", filename="padding.bin")
    return message.as_bytes()

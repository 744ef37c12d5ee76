"""Smoke tests of the real Postfix and Dovecot that tests/realmail.py starts (issue 4: "test once against a
real Postfix and Dovecot"). They pin down what the servers show a scanner, so that the scanner's own tests
against them fail for the scanner's reasons, not the set-up's."""

from __future__ import annotations

import imaplib
import os
import poplib
import smtplib
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest

from mimawari.lab.ca import LabCa
from tests import realmail
from tests.realmail import RealDovecot, RealPostfix

CLIENT_NAME = "scanner.client.example"
TIMEOUT = 10.0


@pytest.fixture(autouse=True)
def real_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stdlib clients connect by host name, so that TLS checks the name the certificate was issued for;
    the test domain's names resolve to the servers' loopback address here and nowhere else."""
    original = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(f".{realmail.DOMAIN}"):
            host = realmail.SERVER_ADDRESS
        return original(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _tls(ca_file: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file)


def _smtp(server: RealPostfix, port: int | None = None) -> smtplib.SMTP:
    port = server.smtp_port if port is None else port
    return smtplib.SMTP(server.host_name, port, local_hostname=CLIENT_NAME, timeout=TIMEOUT)


def test_postfix_greets_and_offers_starttls(real_postfix: RealPostfix) -> None:
    with _smtp(real_postfix) as client:
        code, extensions = client.ehlo()
        assert code == 250
        assert b"STARTTLS" in extensions.splitlines()
        assert client.does_esmtp
    assert real_postfix.version.split(".")[0].isdigit()


def test_postfix_starttls_verifies_against_the_lab_ca(real_postfix: RealPostfix) -> None:
    with _smtp(real_postfix) as client:
        client.ehlo()
        code, _ = client.starttls(context=_tls(real_postfix.ca_file))
        assert code == 220
        assert isinstance(client.sock, ssl.SSLSocket)
        assert client.sock.version() in {"TLSv1.2", "TLSv1.3"}
        code, extensions = client.ehlo()
        assert code == 250
        assert b"STARTTLS" not in extensions.splitlines()


def test_postfix_vrfy_is_disabled(real_postfix: RealPostfix) -> None:
    with _smtp(real_postfix) as client:
        client.ehlo()
        code, message = client.verify(real_postfix.local_user)
        assert code == 502
        assert b"disabled" in message


def test_postfix_is_not_an_open_relay(real_postfix: RealPostfix) -> None:
    with _smtp(real_postfix) as client:
        client.ehlo()
        assert client.mail("probe@outside.example")[0] == 250
        code, message = client.rcpt("victim@elsewhere.example")
        # Postfix's default relay restriction ends in defer_unauth_destination: a 4xx, never DATA.
        assert code == 454
        assert b"Relay access denied" in message
        assert client.rset()[0] == 250


def test_postfix_rejects_unknown_local_users_at_rcpt(real_postfix: RealPostfix) -> None:
    with _smtp(real_postfix) as client:
        client.ehlo()
        assert client.mail("probe@outside.example")[0] == 250
        code, message = client.rcpt(f"no-such-user-7f3a@{real_postfix.domain}")
        assert code == 550
        assert b"User unknown" in message
        assert client.rcpt(f"{real_postfix.local_user}@{real_postfix.domain}")[0] == 250
        assert client.rset()[0] == 250


def test_postfix_submission_requires_starttls(real_postfix: RealPostfix) -> None:
    with _smtp(real_postfix, real_postfix.submission_port) as client:
        _, extensions = client.ehlo()
        assert b"STARTTLS" in extensions.splitlines()
        code, _ = client.mail("user@real.example")
        assert code == 530


def test_postfix_submissions_is_implicit_tls(real_postfix: RealPostfix) -> None:
    context = _tls(real_postfix.ca_file)
    with smtplib.SMTP_SSL(
        real_postfix.host_name,
        real_postfix.submissions_port,
        local_hostname=CLIENT_NAME,
        timeout=TIMEOUT,
        context=context,
    ) as client:
        assert client.ehlo()[0] == 250


def test_dovecot_imap_disables_login_before_starttls(real_dovecot: RealDovecot) -> None:
    with imaplib.IMAP4(real_dovecot.host_name, real_dovecot.imap_port, timeout=TIMEOUT) as client:
        assert b"Dovecot" in client.welcome
        assert {"STARTTLS", "LOGINDISABLED"} <= set(client.capabilities)
        assert not any(capability.startswith("AUTH=") for capability in client.capabilities)
        client.starttls(_tls(real_dovecot.ca_file))
        assert "LOGINDISABLED" not in client.capabilities
        assert client.login(real_dovecot.user, real_dovecot.password)[0] == "OK"
    assert real_dovecot.version.split(".")[0].isdigit()


def test_dovecot_imaps(real_dovecot: RealDovecot) -> None:
    context = _tls(real_dovecot.ca_file)
    with imaplib.IMAP4_SSL(
        real_dovecot.host_name, real_dovecot.imaps_port, ssl_context=context, timeout=TIMEOUT
    ) as client:
        assert isinstance(client.sock, ssl.SSLSocket)
        assert "AUTH=PLAIN" in client.capabilities


def test_dovecot_pop3_stls(real_dovecot: RealDovecot) -> None:
    client = poplib.POP3(real_dovecot.host_name, real_dovecot.pop3_port, timeout=TIMEOUT)
    try:
        assert client.getwelcome().startswith(b"+OK")
        before = client.capa()
        assert "STLS" in before
        assert "USER" not in before  # no cleartext USER/PASS before TLS (disable_plaintext_auth)
        client.stls(_tls(real_dovecot.ca_file))
        assert "USER" in client.capa()
        client.user(real_dovecot.user)
        assert client.pass_(real_dovecot.password).startswith(b"+OK")
    finally:
        client.quit()


def test_dovecot_pop3s(real_dovecot: RealDovecot) -> None:
    context = _tls(real_dovecot.ca_file)
    client = poplib.POP3_SSL(
        real_dovecot.host_name, real_dovecot.pop3s_port, context=context, timeout=TIMEOUT
    )
    try:
        assert client.getwelcome().startswith(b"+OK")
        assert "USER" in client.capa()
    finally:
        client.quit()


def test_dovecot_config_follows_the_installed_version(tmp_path: Path) -> None:
    """Dovecot 2.4 (Debian 13) rejects 2.3 settings, so the configuration is written per version."""
    arguments: dict[str, Any] = {
        "address": realmail.SERVER_ADDRESS,
        "ports": {"imap": 1, "imaps": 2, "pop3": 3, "pop3s": 4},
        "cert": tmp_path / "cert.pem",
        "key": tmp_path / "key.pem",
        "users": tmp_path / "users",
        "mail_uid": 65534,
    }
    old = realmail.dovecot_config(tmp_path, version="2.3.19.1", **arguments)
    new = realmail.dovecot_config(tmp_path, version="2.4.1", **arguments)
    assert "disable_plaintext_auth = yes" in old
    assert "dovecot_config_version" not in old
    assert new.startswith("dovecot_config_version = ")
    assert "auth_allow_cleartext = no" in new
    assert "disable_plaintext_auth" not in new


def test_skip_reason_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "root" in (realmail.skip_reason() or "")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(realmail, "_SEARCH_PATH", "/nonexistent")
    reason = realmail.skip_reason() or ""
    assert "not installed" in reason
    assert "apt-get" in reason


def test_stopping_leaves_no_process_behind(real_ca: LabCa) -> None:
    if reason := realmail.skip_reason():
        pytest.skip(reason)
    with realmail.running_postfix(real_ca) as postfix, realmail.running_dovecot(real_ca) as dovecot:
        masters = (postfix.master_pid, dovecot.master_pid)
        assert all(realmail.group_members(master) for master in masters)
        log_files = (Path(postfix.log_file), Path(dovecot.log_file))
    assert not any(realmail.group_members(master) for master in masters)
    assert not any(path.parent.exists() for path in log_files)

"""The IMAP source of DMARC reports: URLs and folder names, and reading, flagging and moving report e-mails
on Debian's Dovecot (tests/realimap.py), with the failures a user meets (wrong password, untrusted
certificate, missing folder, no STARTTLS, a server that goes away)."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import pytest

from mimawari.dmarc.imap import (
    INGESTED,
    PASSWORD_ENV,
    REJECTED,
    ImapError,
    ImapFolderError,
    ImapLocation,
    ImapLoginError,
    ImapMessage,
    ImapSource,
    ImapTlsError,
    decode_folder_name,
    encode_folder_name,
    password_from_environment,
)
from mimawari.dmarc.ingest import from_mailbox
from mimawari.dmarc.model import Outcome
from mimawari.errors import InputError, OperationalError
from mimawari.lab.ca import LabCa
from mimawari.store import open_store
from tests import realimap
from tests.realimap import RealImap, report_email

TIMEOUT = 10.0
DONE = frozenset({"\\Seen", INGESTED})


@pytest.fixture(scope="module")
def imap(real_ca: LabCa) -> Iterator[RealImap]:
    yield from realimap.imap_fixture(real_ca)


@pytest.fixture(autouse=True)
def resolve_test_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """The source connects by host name, so that TLS checks the name the certificate was issued for; the
    test names resolve to the server's loopback addresses here and nowhere else."""
    original = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and (address := realimap.address_of(host)):
            host = address
        return original(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def folder(request: pytest.FixtureRequest) -> str:
    """A folder name of the test's own, so that the tests sharing one server do not see each other's mail."""
    return "T-" + re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")


def _source(
    imap: RealImap, folder: str, *, host: str | None = None, password: str | None = None, **options: Any
) -> ImapSource:
    location = ImapLocation(host or imap.host_name, imap.imaps_port, imap.user, folder, "imaps")
    options = {"ca_file": imap.ca_file, "timeout": TIMEOUT, **options}
    return ImapSource(location, imap.password if password is None else password, **options)


def _ids(messages: list[ImapMessage]) -> list[str]:
    return [BytesHeaderParser().parsebytes(message.data)["Message-ID"].strip("<>") for message in messages]


def _id(number: int) -> str:
    return f"google.com-{number}@google.com"


def _one_line(error: pytest.ExceptionInfo[Exception], *absent: str) -> str:
    text = str(error.value)
    assert "\n" not in text
    for secret in absent:
        assert secret not in text
    return text


# --- URLs, folder names, settings ------------------------------------------------------------------------


def test_url_gives_host_port_user_and_percent_decoded_folder() -> None:
    location = ImapLocation.parse("imaps://dmarc%40example.com@Mail.Example.COM:1993/INBOX/DMARC%20Reports")
    assert location == ImapLocation(
        "mail.example.com", 1993, "dmarc@example.com", "INBOX/DMARC Reports", "imaps"
    )
    assert location.url == "imaps://dmarc%40example.com@mail.example.com:1993/INBOX/DMARC%20Reports"


def test_url_defaults_and_imap_means_starttls() -> None:
    assert ImapLocation.parse("imaps://u@h.example") == ImapLocation("h.example", 993, "u", "INBOX", "imaps")
    assert ImapLocation.parse("IMAP://u@h.example/R") == ImapLocation("h.example", 143, "u", "R", "starttls")
    assert ImapLocation.parse("imaps://u@[2001:db8::1]/R").url == "imaps://u@[2001:db8::1]:993/R"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("pop3s://u@h.example/INBOX", "not an IMAP URL"),
        ("h.example/INBOX", "not an IMAP URL"),
        ("imaps://h.example/INBOX", "no user"),
        ("imaps://u@/INBOX", "no host"),
        ("imaps://u@h.example:99999/INBOX", "port"),
        ("imaps://u@h.example:x/INBOX", "port"),
        ("imaps://u@h.example:0/INBOX", "port 0"),
        ("imaps://u@h.example/%FF", "malformed"),
        ("imaps://u@[2001:db8::1/INBOX", "not an IMAP URL"),
        ("imaps://u@h.example/INBOX?x=1", "query"),
        ("imaps://u@h.example/IN%0ABOX", "control characters"),
    ],
)
def test_unusable_url_is_a_one_line_input_error(url: str, says: str) -> None:
    with pytest.raises(InputError) as error:
        ImapLocation.parse(url)
    assert says in _one_line(error)


def test_password_in_the_url_is_refused_without_repeating_it() -> None:
    with pytest.raises(InputError) as error:
        ImapLocation.parse("imaps://reports:Hunter2-secret@mail.example.com:bad/INBOX")
    assert PASSWORD_ENV in _one_line(error, "Hunter2-secret")


def test_password_comes_from_the_environment() -> None:
    location = ImapLocation.parse("imaps://reports@mail.example.com/INBOX")
    assert password_from_environment(location, {PASSWORD_ENV: "s3cret"}) == "s3cret"
    with pytest.raises(InputError) as error:
        password_from_environment(location, {PASSWORD_ENV: ""})
    assert PASSWORD_ENV in _one_line(error)


def test_folder_names_in_modified_utf7() -> None:
    # RFC 3501 section 5.1.3's own example.
    assert encode_folder_name("~peter/mail/台北/日本語") == "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
    assert decode_folder_name("~peter/mail/&U,BTFw-/&ZeVnLIqe-") == "~peter/mail/台北/日本語"
    assert encode_folder_name("R&D 報告") == "R&-D &WDFUSg-"
    assert decode_folder_name(encode_folder_name("R&D 報告")) == "R&D 報告"
    assert decode_folder_name("&broken") == "&broken"


@pytest.mark.parametrize(
    "options",
    [
        {"after": "move"},
        {"after": "flag", "move_to": "Done"},
        {"after": "move", "move_to": "INBOX"},
        {"batch": 0},
        {"max_message_bytes": 0},
    ],
)
def test_contradictory_settings_are_input_errors(options: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        ImapSource(ImapLocation("h.example", 993, "u"), "p", **options)


# --- against Dovecot --------------------------------------------------------------------------------------


def test_reads_every_report_oldest_first_and_marks_them_only_when_done(imap: RealImap, folder: str) -> None:
    mails = [report_email(number) for number in range(5)]
    imap.add_folder(folder, mails)
    with _source(imap, folder, batch=2) as source:
        messages = list(source.messages())
        assert [message.data for message in messages] == [mail.replace(b"\n", b"\r\n") for mail in mails]
        assert [message.uid for message in messages] == sorted(message.uid for message in messages)
        # Reading marks nothing, not even \Seen: a crash before the commit loses no report.
        assert set(imap.flags(folder).values()) == {frozenset()}
        for message in messages:
            source.done(message.uid)
    assert imap.flags(folder) == {_id(number): DONE for number in range(5)}
    with _source(imap, folder) as again:
        assert list(again.messages()) == []


def test_a_message_not_done_is_read_again(imap: RealImap, folder: str) -> None:
    imap.add_folder(folder, [report_email(number) for number in range(3)])
    with _source(imap, folder) as source:
        first, *_ = source.messages()
        source.done(first.uid)  # then the run stops, before the others were committed
    with _source(imap, folder) as again:
        assert _ids(list(again.messages())) == [_id(1), _id(2)]


def test_move_mode_moves_processed_reports(imap: RealImap, folder: str) -> None:
    assert "MOVE" in imap.capabilities(imap.host_name)
    imap.add_folder(folder, [report_email(number) for number in range(3)])
    processed = imap.add_folder(f"{folder}-done")
    with _source(imap, folder, after="move", move_to=processed) as source:
        for message in source.messages():
            source.done(message.uid)
    assert imap.flags(folder) == {}
    assert imap.flags(processed) == {_id(number): DONE for number in range(3)}


def test_move_without_move_capability_copies_and_expunges(imap: RealImap, folder: str) -> None:
    capabilities = imap.capabilities(imap.legacy_host_name)
    assert "MOVE" not in capabilities
    assert "UIDPLUS" in capabilities
    imap.add_folder(folder, [report_email(number) for number in range(2)])
    processed = imap.add_folder(f"{folder}-done")
    with _source(imap, folder, host=imap.legacy_host_name, after="move", move_to=processed) as source:
        for message in source.messages():
            source.done(message.uid)
    assert imap.flags(folder) == {}
    assert imap.flags(processed) == {_id(number): DONE for number in range(2)}


def test_folder_to_move_to_must_exist(imap: RealImap, folder: str) -> None:
    imap.add_folder(folder, [report_email(0)])
    with pytest.raises(ImapFolderError) as error:
        _source(imap, folder, after="move", move_to="No-Such-Folder").open()
    text = _one_line(error)
    assert "'No-Such-Folder'" in text
    assert folder in text  # in the URL and in the list of folders the server has


def test_oversized_message_is_rejected_without_downloading_it(imap: RealImap, folder: str) -> None:
    limit = 256 << 10
    imap.add_folder(folder, [report_email(0), report_email(1, padding=2 * limit), report_email(2)])
    with _source(imap, folder, max_message_bytes=limit) as source:
        assert _ids(list(source.messages())) == [_id(0), _id(2)]
        assert source.received_bytes < limit // 4
        (rejection,) = source.rejections
        assert "over the limit of 262144 bytes" in rejection.reason
    flags = imap.flags(folder)
    assert flags[_id(1)] == {REJECTED}  # not \Seen: left for a person to look at
    assert flags[_id(0)] == flags[_id(2)] == frozenset()
    with _source(imap, folder, max_message_bytes=limit) as again:
        assert _ids(list(again.messages())) == [_id(0), _id(2)]
        assert again.rejections == ()


def test_rejected_message_is_not_read_again(imap: RealImap, folder: str) -> None:
    imap.add_folder(folder, [report_email(0), report_email(1)])
    with _source(imap, folder) as source:
        first, _ = source.messages()
        source.rejected(first.uid, "no DMARC report in it")
        assert [(item.uid, item.reason) for item in source.rejections] == [
            (first.uid, "no DMARC report in it")
        ]
    with _source(imap, folder) as again:
        assert _ids(list(again.messages())) == [_id(1)]


def test_starttls_url_reads_reports(imap: RealImap, folder: str) -> None:
    imap.add_folder(folder, [report_email(0)])
    location = ImapLocation.parse(f"imap://{imap.user}@{imap.host_name}:{imap.imap_port}/{folder}")
    with ImapSource(location, imap.password, ca_file=imap.ca_file, timeout=TIMEOUT) as source:
        assert _ids(list(source.messages())) == [_id(0)]


def test_folder_with_a_japanese_name(imap: RealImap) -> None:
    imap.add_folder("DMARC&MOww3TD8MMg-", [report_email(0)])  # DMARCレポート, as Dovecot stores it
    url = f"imaps://{imap.user}@{imap.host_name}:{imap.imaps_port}/DMARC%E3%83%AC%E3%83%9D%E3%83%BC%E3%83%88"
    location = ImapLocation.parse(url)
    assert location.folder == "DMARCレポート"
    with ImapSource(location, imap.password, ca_file=imap.ca_file, timeout=TIMEOUT) as source:
        assert _ids(list(source.messages())) == [_id(0)]


def test_wrong_password_is_a_one_line_error_without_the_password(imap: RealImap, folder: str) -> None:
    imap.add_folder(folder)
    with pytest.raises(ImapLoginError) as error:
        _source(imap, folder, password="Wrong-Password-42").open()
    text = _one_line(error, "Wrong-Password-42", imap.password)
    assert imap.host_name in text
    assert folder in text
    assert PASSWORD_ENV in text
    assert error.value.exit_code == 2


def test_certificate_from_another_ca_is_a_tls_error(imap: RealImap, folder: str) -> None:
    imap.add_folder(folder)
    with LabCa("some other CA") as other, pytest.raises(ImapTlsError) as error:
        _source(imap, folder, ca_file=other.ca_file).open()
    assert "not trusted" in _one_line(error, imap.password)
    with pytest.raises(ImapTlsError) as error:
        _source(imap, folder, ca_file=None).open()  # the system's CAs do not know the lab CA
    assert imap.host_name in _one_line(error)
    assert isinstance(error.value, OperationalError)


def test_missing_folder_names_the_folders_there_are(imap: RealImap, folder: str) -> None:
    imap.add_folder(folder)
    with pytest.raises(ImapFolderError) as error:
        _source(imap, f"{folder}/Sub").open()
    text = _one_line(error)
    assert f"'{folder}/Sub'" in text
    assert re.search(rf"the server has .*\b{folder}\b", text)


def test_server_ending_the_session_mid_fetch(imap: RealImap, folder: str) -> None:
    imap.add_folder(folder, [report_email(number) for number in range(3)])
    with _source(imap, folder, batch=1) as source:
        messages = source.messages()
        first = next(messages)
        imap.kick()
        with pytest.raises(ImapError) as error:
            next(messages)
        assert imap.host_name in _one_line(error, imap.password)
        with pytest.raises(ImapError, match="closed"):
            source.done(first.uid)
    with _source(imap, folder) as again:
        assert len(list(again.messages())) == 3


# --- servers that are not Dovecot -------------------------------------------------------------------------


class _PlainImapServer:
    """An IMAP server on loopback without STARTTLS that records what it is sent."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(TIMEOUT)
        connection, _ = self.listener.accept()
        with connection, connection.makefile("rb") as lines:
            connection.settimeout(TIMEOUT)
            connection.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] plain server ready\r\n")
            for line in lines:
                self.received.append(line)
                tag, _, command = line.partition(b" ")
                if command.upper().startswith(b"CAPABILITY"):
                    connection.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
                elif command.upper().startswith(b"LOGOUT"):
                    connection.sendall(b"* BYE bye\r\n" + tag + b" OK done\r\n")
                    return
                else:
                    connection.sendall(tag + b" BAD not here\r\n")

    def close(self) -> None:
        self.thread.join(TIMEOUT)
        self.listener.close()


def test_imap_url_never_logs_in_without_starttls() -> None:
    server = _PlainImapServer()
    try:
        location = ImapLocation("127.0.0.1", server.port, "reports", "INBOX", "starttls")
        with pytest.raises(ImapTlsError) as error:
            ImapSource(location, "Cleartext-Secret", timeout=TIMEOUT).open()
        assert "STARTTLS" in _one_line(error, "Cleartext-Secret")
    finally:
        server.close()
    assert not server.thread.is_alive()
    assert server.received  # it was asked for its capabilities, and nothing more
    assert all(line.split()[1].upper() == b"CAPABILITY" for line in server.received)


def test_refused_connection_is_an_operational_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with pytest.raises(ImapError) as error:
        ImapSource(ImapLocation("127.0.0.1", port, "reports"), "p", timeout=TIMEOUT).open()
    assert f"127.0.0.1:{port}/INBOX" in _one_line(error)
    assert error.value.exit_code == 3


def test_server_that_never_greets_times_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, never accepts, never speaks
        location = ImapLocation("127.0.0.1", silent.getsockname()[1], "reports")
        with pytest.raises(ImapError) as error:
            ImapSource(location, "p", timeout=0.5).open()
    assert "no answer within 0.5 s" in _one_line(error)


# --- ingest: reports committed, then the message flagged ------------------------------------------------


def test_ingest_stores_the_reports_then_flags_each_message_once(
    imap: RealImap, folder: str, tmp_path: Path
) -> None:
    imap.add_folder(
        folder,
        [
            report_email(1),
            b"Message-ID: <junk@example.com>\r\nSubject: hello\r\n\r\nnot a report\r\n",
            report_email(2),
        ],
    )
    with open_store(f"sqlite:///{tmp_path / 'd.db'}") as store:
        with _source(imap, folder) as source:
            results = list(from_mailbox(source, store))
        assert [(r.ok, r.stored) for r in results] == [
            (True, Outcome.STORED),
            (False, None),
            (True, Outcome.STORED),
        ]
        assert store.dmarc.counts()["aggregate"] == 2
        flags = sorted(imap.flags(folder).values(), key=len)
        assert [INGESTED in f for f in flags].count(True) == 2
        assert [REJECTED in f for f in flags].count(True) == 1
        with _source(imap, folder) as again:
            assert list(from_mailbox(again, store)) == []  # nothing is read twice

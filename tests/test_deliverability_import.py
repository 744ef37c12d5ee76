"""Spam-complaint imports from fixture files: the Postmaster Tools API (two pages through a MockTransport,
never Google), its saved responses, SNDS CSV exports (IPs and bands combined per day), ARF complaints
(files, mbox, Maildir, duplicates, other domains) with the sent volume; every malformed input is one
line, and the token never appears in one."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import httpx
import pytest

from mimawari.deliverability import arf, postmaster, snds
from mimawari.dmarc.model import ReportError
from mimawari.errors import InputError, MimawariError, OperationalError
from mimawari.model import SpamRateDay

FIXTURES = Path(__file__).parent / "fixtures" / "deliverability"
ARF = FIXTURES / "arf"
TOKEN = "ya29.secret-token-0123456789"
START, END = date(2026, 11, 28), date(2026, 12, 2)


def one_line(error: pytest.ExceptionInfo[MimawariError], *fragments: str) -> str:
    text = str(error.value)
    assert "\n" not in text and TOKEN not in text, text
    for fragment in fragments:
        assert fragment in text, text
    return text


# --- Postmaster Tools API ----------------------------------------------------------------------------------


def api(pages: dict[str, httpx.Response], seen: list[httpx.Request]) -> httpx.MockTransport:
    """Answers each request by its pageToken ("" for the first page), recording the requests."""

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return pages[request.url.params.get("pageToken", "")]

    return httpx.MockTransport(answer)


def page(name: str) -> httpx.Response:
    return httpx.Response(200, content=(FIXTURES / name).read_bytes())


def test_the_api_is_read_page_after_page_with_the_bearer_token() -> None:
    seen: list[httpx.Request] = []
    transport = api({"": page("postmaster-page1.json"), "page-2-token": page("postmaster-page2.json")}, seen)
    days = postmaster.fetch("Example.COM.", START, END, TOKEN, transport=transport)
    assert days == (
        SpamRateDay("2026-11-28", "google-postmaster", 0.0005),
        SpamRateDay("2026-11-29", "google-postmaster", 0.0015),
        SpamRateDay("2026-11-30", "google-postmaster", None),  # too little traffic: Gmail gives no rate
        SpamRateDay("2026-12-01", "google-postmaster", 0.0031),
    )
    first, second = seen
    assert first.url.path == "/v1/domains/example.com/trafficStats"
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    params = dict(first.url.params)
    assert params["startDate.year"] == "2026" and params["startDate.month"] == "11"
    assert (
        params["startDate.day"] == "28" and params["endDate.month"] == "12" and params["endDate.day"] == "2"
    )
    assert "pageToken" not in params and int(params["pageSize"]) > 0
    assert second.url.params["pageToken"] == "page-2-token"


@pytest.mark.parametrize(
    ("status", "body", "kind", "fragments"),
    [
        (401, {"error": {"code": 401, "status": "UNAUTHENTICATED", "message": f"bad {TOKEN}"}}, InputError,
         ("HTTP 401", "MIMAWARI_POSTMASTER_TOKEN", "<token>")),
        (403, {"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "no"}}, InputError,
         ("no access to example.com", "PERMISSION_DENIED")),
        (400, {"error": {"status": "INVALID_ARGUMENT", "message": "endDate\nbefore startDate"}}, InputError,
         ("HTTP 400", "endDate before startDate")),
        (503, "<html>\n<h1>Service Unavailable</h1>\n</html>", OperationalError, ("HTTP 503", "try again later")),
        (429, {}, OperationalError, ("HTTP 429",)),
    ],
)  # fmt: skip
def test_refusals_are_one_line_without_the_token(
    status: int, body: object, kind: type[MimawariError], fragments: tuple[str, ...]
) -> None:
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    transport = httpx.MockTransport(lambda _request: httpx.Response(status, content=content))
    with pytest.raises(kind) as raised:
        postmaster.fetch("example.com", START, END, TOKEN, transport=transport)
    one_line(raised, *fragments)


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (httpx.Response(200, content=b"{not json"), "not JSON"),
        (httpx.Response(200, content=b"[1, 2]"), "not a JSON object"),
        (httpx.Response(200, json={"trafficStats": {"name": "x"}}), "not a list"),
        (httpx.Response(200, json={"trafficStats": [], "nextPageToken": "again"}), "page token repeats"),
    ],
)
def test_malformed_answers_are_one_line(answer: httpx.Response, fragment: str) -> None:
    transport = httpx.MockTransport(lambda _request: answer)
    with pytest.raises(OperationalError) as raised:
        postmaster.fetch("example.com", START, END, TOKEN, transport=transport)
    one_line(raised, fragment)


def test_a_timeout_and_an_unreachable_server_are_one_line() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"connection refused ({TOKEN})", request=request)

    with pytest.raises(OperationalError) as raised:
        postmaster.fetch("example.com", START, END, TOKEN, transport=httpx.MockTransport(slow))
    one_line(raised, "did not answer within 30 s")
    with pytest.raises(OperationalError) as raised:
        postmaster.fetch("example.com", START, END, TOKEN, transport=httpx.MockTransport(refused))
    one_line(raised, "cannot reach the Postmaster Tools API", "<token>")


def test_the_token_comes_from_the_environment_or_the_error_says_how() -> None:
    assert postmaster.token_from_environment({"MIMAWARI_POSTMASTER_TOKEN": f" {TOKEN}\n"}) == TOKEN
    with pytest.raises(InputError) as raised:
        postmaster.token_from_environment({})
    one_line(raised, "MIMAWARI_POSTMASTER_TOKEN", "--file")


def test_a_saved_response_and_a_list_of_objects_are_imported(tmp_path: Path) -> None:
    saved = postmaster.read_file(FIXTURES / "postmaster-page1.json", "example.com")
    assert [(d.day, d.rate) for d in saved] == [("2026-11-28", 0.0005), ("2026-11-29", 0.0015)]
    listed = postmaster.read_file(FIXTURES / "postmaster-list.json", "example.com")
    assert [(d.day, d.rate) for d in listed] == [("2026-12-02", 0.0008), ("2026-12-03", 0.0)]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{", "not JSON"),
        ('{"domains": []}', "expected a Postmaster Tools API response"),
        ('["x"]', "trafficStats[0] is not an object"),
        ('[{"name": "domains/other.example/trafficStats/20261201"}]', "for other.example, not example.com"),
        ('[{"name": "trafficStats/20261201"}]', "is not domains/<domain>/trafficStats/<yyyymmdd>"),
        ('[{"name": "domains/example.com/trafficStats/20261332"}]', "is not a day"),
        ('[{"name": "domains/example.com/trafficStats/20261201", "userReportedSpamRatio": "high"}]',
         "(2026-12-01): userReportedSpamRatio 'high' is not a number"),
        ('[{"name": "domains/example.com/trafficStats/20261201", "userReportedSpamRatio": 1.5}]',
         "not a ratio between 0 and 1"),
    ],
)  # fmt: skip
def test_malformed_files_are_one_line(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "postmaster.json"
    path.write_text(content)
    with pytest.raises(InputError) as raised:
        postmaster.read_file(path, "example.com")
    one_line(raised, fragment)


def test_a_missing_file_and_a_bad_domain_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        postmaster.read_file(tmp_path / "absent.json", "example.com")
    one_line(raised, "cannot read")
    with pytest.raises(InputError) as raised:
        postmaster.read_file(FIXTURES / "postmaster-list.json", "not a domain")
    one_line(raised, "is not a domain name")


# --- SNDS --------------------------------------------------------------------------------------------------


def test_snds_ips_combine_per_day_weighted_by_recipients() -> None:
    assert snds.read_file(FIXTURES / "snds.csv") == (
        # < 0.1% over 9,000 and 0.3% over 1,000: at most 0.12 %, still only an upper bound
        SpamRateDay("2026-11-30", "microsoft-snds", 0.0012, None, 10_000, upper_bound=True),
        # both < 0.1%: stays < 0.1%; the IPv6 row without a rate adds its recipients only
        SpamRateDay("2026-12-01", "microsoft-snds", 0.001, None, 8_100, upper_bound=True),
        SpamRateDay("2026-12-02", "microsoft-snds", 0.015, None, 2_000),
    )


def test_snds_export_without_a_header_and_exact_bands(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(
        "192.0.2.1,12/1/2026 8:00 AM,12/1/2026 9:00 PM,10,10,300,GREEN,0.3%,,,0,,,\r\n"
        "192.0.2.2,12/1/2026 8:00 AM,12/1/2026 9:00 PM,10,10,700,GREEN,0.3%,,,0,,,\r\n"
    )
    (day,) = snds.read_file(path)
    assert day == SpamRateDay("2026-12-01", "microsoft-snds", 0.003, None, 1000)  # exactly the threshold


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ("192.0.2.1,12/1/2026 8:00 AM,12/1/2026 9:00 PM", "line 1: 3 columns, expected 14"),
        ("mail.example.com,a,12/1/2026 9:00 PM,1,1,1,GREEN,0.1%", "'mail.example.com' is not an IP address"),
        ("192.0.2.1,a,yesterday,1,1,1,GREEN,0.1%", "Activity end 'yesterday' is not a time"),
        ("192.0.2.1,a,12/1/2026 9:00 PM,1,1,many,GREEN,0.1%", "Message recipients 'many' is not a count"),
        ("192.0.2.1,a,12/1/2026 9:00 PM,1,1,1,GREEN,low", "Complaint rate 'low' is not a percentage"),
        ("192.0.2.1,a,12/1/2026 9:00 PM,1,1,1,GREEN,150%", "over 100%"),
    ],
)
def test_snds_malformed_rows_are_one_line(tmp_path: Path, row: str, fragment: str) -> None:
    path = tmp_path / "snds.csv"
    path.write_text(row + "\n")
    with pytest.raises(InputError) as raised:
        snds.read_file(path)
    one_line(raised, str(path), fragment)


def test_snds_empty_and_binary_files_are_one_line(tmp_path: Path) -> None:
    empty, binary = tmp_path / "empty.csv", tmp_path / "binary.csv"
    empty.write_text("IP Address,Activity Start\n\n")
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(InputError) as raised:
        snds.read_file(empty)
    one_line(raised, "no SNDS rows")
    with pytest.raises(InputError) as raised:
        snds.read_file(binary)
    one_line(raised, "not a text (UTF-8) CSV file")


# --- ARF complaints ----------------------------------------------------------------------------------------


def test_complaints_are_found_in_files_and_mbox_and_counted_per_day(tmp_path: Path) -> None:
    found = list(arf.complaints([ARF, FIXTURES.parent / "dmarc" / "failure" / "opendmarc-headers.eml"]))
    complaints = [c for c in found if isinstance(c, arf.Complaint)]
    assert [(Path(c.origin).name, c.day, c.domains) for c in complaints] == [
        ("complaints.mbox#1", "2026-12-01", ("example.com",)),  # no Arrival-Date: the report's Date
        ("complaints.mbox#2", "2026-12-01", ("other.example.net",)),
        ("yahoo-cfl-1.eml", "2026-11-30", ("news.example.com",)),  # Arrival-Date, not the report's Date
        ("yahoo-cfl-2.eml", "2026-12-01", ("example.com",)),  # the historic Received-Date
    ]
    (skipped,) = [s for s in found if isinstance(s, arf.Skipped)]
    assert "auth-failure" in skipped.reason and "not a spam complaint" in skipped.reason
    days = arf.daily(complaints, "example.com", {"2026-11-30": 1000, "2026-12-01": 2000, "2026-12-02": 1500})
    assert days == (
        SpamRateDay("2026-11-30", "yahoo-arf", 0.001, 1, 1000),  # news.example.com is example.com's
        SpamRateDay("2026-12-01", "yahoo-arf", 0.001, 2, 2000),  # other.example.net's is not counted
        SpamRateDay("2026-12-02", "yahoo-arf", 0.0, 0, 1500),
    )


def test_a_complaint_found_twice_counts_once_and_maildirs_are_read(tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    for folder in ("cur", "new", "tmp"):
        (maildir / folder).mkdir(parents=True)
    shutil.copy(ARF / "yahoo-cfl-1.eml", maildir / "cur" / "1764493331.M1P1.mx:2,S")
    shutil.copy(ARF / "yahoo-cfl-1.eml", maildir / "new" / "1764493332.M2P1.mx")
    found = [c for c in arf.complaints([maildir, ARF / "yahoo-cfl-1.eml"]) if isinstance(c, arf.Complaint)]
    assert len(found) == 3
    assert arf.daily(found, "example.com", 500) == (SpamRateDay("2026-11-30", "yahoo-arf", 0.002, 1, 500),)


def test_a_fixed_sent_volume_spans_the_days_from_the_first_to_the_last_complaint() -> None:
    complaints = [
        arf.Complaint("a", "1", "2026-11-29", ("example.com",)),
        arf.Complaint("b", "2", "2026-12-01", ("example.com",)),
        arf.Complaint("c", "3", "2026-12-01", ("mail.example.com",)),
    ]
    assert [(d.day, d.complaints, d.rate) for d in arf.daily(complaints, "example.com", 1000)] == [
        ("2026-11-29", 1, 0.001),
        ("2026-11-30", 0, 0.0),
        ("2026-12-01", 2, 0.002),
    ]
    assert arf.daily(complaints, "example.org", 1000) == ()


def test_sent_volumes_that_do_not_fit_are_one_line(tmp_path: Path) -> None:
    complaints = [arf.Complaint("a", str(n), "2026-12-01", ("example.com",)) for n in range(3)]
    with pytest.raises(InputError) as raised:
        arf.daily(complaints, "example.com", {"2026-11-30": 100})
    one_line(raised, "complaints on 2026-12-01 (3) but no sent volume", "--sent-file")
    with pytest.raises(InputError) as raised:
        arf.daily(complaints, "example.com", 2)
    one_line(raised, "3 complaints but only 2 messages sent")
    with pytest.raises(InputError) as raised:
        arf.daily(complaints, "example.com", 0)
    one_line(raised, "positive count")


def test_the_sent_file(tmp_path: Path) -> None:
    assert arf.read_sent_file(FIXTURES / "sent.csv") == {
        "2026-11-30": 1000,
        "2026-12-01": 2000,
        "2026-12-02": 1500,
    }
    for content, fragment in [
        ("2026-12-01;1000\n", "expected two columns"),
        ("Dec 1,1000\n", "'Dec 1' is not a day"),
        ("2026-12-01,-5\n", "'-5' is not a positive count"),
        ("2026-12-01,0\n", "'0' is not a positive count"),
        ("2026-12-01,10\n2026-12-01,20\n", "line 2: 2026-12-01 is listed twice"),
        ("day,sent\n", "no day,sent rows"),
    ]:
        path = tmp_path / "sent.csv"
        path.write_text(content)
        with pytest.raises(InputError) as raised:
            arf.read_sent_file(path)
        one_line(raised, fragment)


@pytest.mark.parametrize(
    ("message", "fragment"),
    [
        (b"From: a@example.com\nSubject: hi\n\nhello\n", "no single message/feedback-report part"),
        (
            (ARF / "yahoo-cfl-2.eml").read_bytes().replace(b"Feedback-Type: abuse", b"Feedback-Type: fraud"),
            "Feedback-Type is 'fraud', not a spam complaint",
        ),
        (
            (ARF / "yahoo-cfl-2.eml")
            .read_bytes()
            .replace(b"Received-Date: Tue, 01 Dec 2026 11:30:00 +0000\n", b"")
            .replace(b"Date: Tue, 01 Dec 2026 20:40:00 +0000\n", b""),
            "the day of the complaint is unknown",
        ),
        (
            (ARF / "yahoo-cfl-2.eml").read_bytes().split(b"------=_Part_2_CFL\nContent-Type: text/rfc822")[0]
            + b"------=_Part_2_CFL--\n",
            "whose mail it was is unknown",
        ),
        (b"--x\n" * 2000, "MIME boundary lines"),
    ],
)
def test_messages_that_are_not_complaints_say_why(message: bytes, fragment: str) -> None:
    with pytest.raises(ReportError) as raised:
        arf.parse_complaint(message, "test.eml")
    assert "\n" not in str(raised.value) and fragment in str(raised.value), raised.value

"""``mimawari deliverability`` as a user runs it: imports from SNDS, ARF and Postmaster Tools (a saved
response, and the API on a loopback server), ``show`` in text and JSON, and one-line errors with exit
code 2 that never show the token."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli_runner import assert_one_line_error, run
from tests.http_receiver import HttpReceiver

FIXTURES = Path(__file__).parent / "fixtures" / "deliverability"
TOKEN = "ya29.cli-secret-token"


@pytest.fixture
def db(tmp_path: Path) -> tuple[str, str]:
    return ("--database", f"sqlite:///{tmp_path / 'store.db'}")


def recent(days_ago: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days_ago)


async def test_snds_is_imported_once_and_shown_with_its_grade(tmp_path: Path, db: tuple[str, str]) -> None:
    export = tmp_path / "snds.csv"
    rows = [
        (2, "192.0.2.10", "9000", "< 0.1%"),
        (2, "192.0.2.11", "1000", "0.3%"),
        (1, "192.0.2.10", "5000", "< 0.1%"),
    ]
    export.write_text(
        "".join(
            f"{ip},{recent(ago):%m/%d/%Y} 12:00 AM,{recent(ago):%m/%d/%Y} 11:00 PM,1,1,{n},GREEN,{rate},,,0,,,\n"
            for ago, ip, n, rate in rows
        )
    )
    command = ("deliverability", "import", "snds", str(export), "--domain", "Example.com", *db)
    code, out, err = await run(*command)
    assert (code, err) == (0, "")
    assert (
        out.startswith("microsoft-snds: 2 day(s) for Example.com")
        and "(2 new, 0 updated, 0 unchanged)" in out
    )
    code, out, _ = await run(*command)
    assert code == 0 and "(0 new, 0 updated, 2 unchanged)" in out
    code, out, err = await run("deliverability", "show", "example.com", *db)
    assert (code, err) == (0, "")
    assert "example.com: spam-complaint rate, last 30 days: grade C" in out  # < 0.12 %: maybe over 0.1 %
    assert f"< 0.12 % on {recent(2):%Y-%m-%d} (microsoft-snds)" in out
    assert "< 0.1 %" in out and "10,000" in out
    code, out, _ = await run("deliverability", "show", "example.com", "--format", "json", "--days", "2", *db)
    document = json.loads(out)
    assert (code, document["grade"], document["days"]) == (0, "A", 2)  # today and yesterday: < 0.1 %
    assert document["series"] == [
        {
            "day": f"{recent(1):%Y-%m-%d}",
            "source": "microsoft-snds",
            "rate": 0.001,
            "upper_bound": True,
            "complaints": None,
            "volume": 5000,
        }
    ]


async def test_arf_complaints_with_the_sent_file(tmp_path: Path, db: tuple[str, str]) -> None:
    arf = FIXTURES / "arf"
    sent = FIXTURES / "sent.csv"
    code, out, err = await run(
        "deliverability", "import", "arf", str(arf), "--domain", "example.com", "--sent-file", str(sent), *db
    )
    assert code == 0, err
    assert err == "1 complaint(s) about other domains ignored\n"
    assert "yahoo-arf: 3 day(s) for example.com, 2026-11-30 to 2026-12-02 (3 new" in out
    code, out, _ = await run("deliverability", "show", "example.com", "--days", "3650", "-f", "json", *db)
    series = json.loads(out)["series"]
    assert [(d["day"], d["complaints"], d["volume"], d["rate"]) for d in series] == [
        ("2026-11-30", 1, 1000, 0.001),
        ("2026-12-01", 2, 2000, 0.001),
        ("2026-12-02", 0, 1500, 0.0),
    ]
    # An auth-failure report among them is skipped, said so on stderr, and the exit code says it.
    failure = FIXTURES.parent / "dmarc" / "failure" / "opendmarc-headers.eml"
    code, out, err = await run(
        "deliverability",
        "import",
        "arf",
        str(arf / "yahoo-cfl-1.eml"),
        str(failure),
        "--domain",
        "example.com",
        "--sent",
        "500",
        *db,
    )
    assert code == 1 and "(0 new, 1 updated, 0 unchanged)" in out
    assert f"skipped {failure}: Feedback-Type is 'auth-failure', not a spam complaint (abuse)" in err


async def test_postmaster_from_a_saved_response_and_from_the_api(
    monkeypatch: pytest.MonkeyPatch, db: tuple[str, str]
) -> None:
    saved = FIXTURES / "postmaster-list.json"
    code, out, _ = await run(
        "deliverability", "import", "postmaster", "--domain", "example.com", "--file", str(saved), *db
    )
    assert code == 0 and "google-postmaster: 2 day(s) for example.com, 2026-12-02 to 2026-12-03" in out
    day = recent(1)
    answer = {
        "trafficStats": [
            {"name": f"domains/example.com/trafficStats/{day:%Y%m%d}", "userReportedSpamRatio": 0.0042}
        ]
    }
    async with HttpReceiver() as api:
        api.answer_body = json.dumps(answer).encode()
        monkeypatch.setenv("MIMAWARI_POSTMASTER_API", api.url("/v1"))
        monkeypatch.setenv("MIMAWARI_POSTMASTER_TOKEN", TOKEN)
        code, out, err = await run(
            "deliverability", "import", "postmaster", "--domain", "example.com", "--days", "7", *db
        )
        assert (code, err) == (0, "") and "(1 new" in out
        (request,) = api.requests
        assert request.path.startswith("/v1/domains/example.com/trafficStats?")
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        api.status, api.answer_body = 401, b'{"error": {"status": "UNAUTHENTICATED"}}'
        code, _, err = await run("deliverability", "import", "postmaster", "--domain", "example.com", *db)
        assert code == 2 and TOKEN not in err
        assert_one_line_error(
            err, "refused the token in MIMAWARI_POSTMASTER_TOKEN (HTTP 401 (UNAUTHENTICATED))"
        )
    code, out, _ = await run("deliverability", "show", "example.com", *db)
    assert code == 0 and "grade E" in out and f"0.42 % on {day:%Y-%m-%d} (google-postmaster)" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("import", "postmaster", "--domain", "example.com"), "set MIMAWARI_POSTMASTER_TOKEN"),
        (("import", "snds", str(FIXTURES / "sent.csv"), "--domain", "example.com"), "line 1: 2 columns, expected 14"),
        (("import", "arf", str(FIXTURES / "arf"), "--domain", "example.com"), "give the sent volume"),
        (("import", "arf", "absent.eml", "--domain", "example.com", "--sent", "10"), "no such file or directory"),
        (("import", "postmaster", "--domain", "example..com", "--file", str(FIXTURES / "postmaster-list.json")), "example..com"),
        (("show", "not a domain"), "not a domain"),
    ],
)  # fmt: skip
async def test_errors_are_one_line_with_exit_code_2(
    args: tuple[str, ...], fragment: str, db: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MIMAWARI_POSTMASTER_TOKEN", raising=False)
    code, out, err = await run("deliverability", *args, *db)
    assert (code, out) == (2, "")
    assert_one_line_error(err, fragment)

"""Mail server software from banners and capabilities, versions compared as numbers, the issues table."""

from __future__ import annotations

import datetime
import re

import pytest

from mimawari.parse.mail_software import (
    KNOWN_ISSUES,
    Exposure,
    IssueKind,
    Software,
    identify_imap,
    identify_pop3,
    identify_smtp,
    issues_of,
    known_issues,
    parse_version,
)


@pytest.mark.parametrize(
    ("banner", "name", "version"),
    [
        ("mx.example.com ESMTP Postfix (Debian/GNU)", "Postfix", None),
        ("mx.example.com ESMTP Postfix 3.8.3", "Postfix", "3.8.3"),
        ("mx.example.com ESMTP Exim 4.96 Thu, 01 Jan 2026 00:00:00 +0000", "Exim", "4.96"),
        ("mail.example.com ESMTP Sendmail 8.17.1/8.17.1; Thu, 1 Jan 2026", "Sendmail", "8.17.1"),
        ("mx Microsoft ESMTP MAIL Service ready at Thu, 1 Jan 2026", "Microsoft ESMTP MAIL Service", None),
        (
            "mx Microsoft ESMTP MAIL Service, Version: 10.0.17763.1697 ready at",
            "Microsoft ESMTP MAIL Service",
            "10.0.17763.1697",
        ),
        ("mx.example.com ESMTP OpenSMTPD", "OpenSMTPD", None),
        ("mx.example.com ESMTP Haraka/3.0.3 ready", "Haraka", "3.0.3"),
        ("lab.example Python SMTP 1.4.6", "aiosmtpd", "1.4.6"),
        ("mx.example.com ESMTP MDaemon 23.5.2; Thu, 01 Jan 2026", "MDaemon", "23.5.2"),
        ("mx.example.com ESMTP hMailServer 5.6.8", "hMailServer", "5.6.8"),
        ("mx.example.com ESMTP Service (Lotus Domino Release 8.5.3FP6) ready", "HCL Domino", "8.5.3"),
        ("mx.google.com ESMTP a1b2c3 - gsmtp", "Google (gsmtp)", None),
        ("mail.example.com ESMTP qmail", "qmail", None),
    ],
)
def test_identify_smtp(banner: str, name: str, version: str | None) -> None:
    software = identify_smtp(banner)
    assert software is not None
    assert (software.name, software.version) == (name, version)
    assert software.evidence_text in banner


def test_the_host_name_is_not_the_software() -> None:
    # RFC 5321 §4.3.1: the greeting starts with the server's name, which may be anything.
    assert identify_smtp("postfix.example.com ESMTP") is None
    assert identify_smtp("mx.exim.example ESMTP ready") is None
    assert identify_imap("* OK dovecot.example.net IMAP4rev1 ready") is None
    assert identify_smtp("") is None


def test_exchange_is_told_apart_by_its_ehlo_keywords() -> None:
    exchange = identify_smtp("mx Microsoft ESMTP MAIL Service ready at Thu", ["STARTTLS", "XEXCH50"])
    assert exchange is not None and exchange.name == "Microsoft Exchange" and exchange.version is None
    hidden = identify_smtp("mx.example.com ESMTP ready", ["X-ANONYMOUSTLS", "STARTTLS"])
    assert (
        hidden is not None
        and hidden.name == "Microsoft Exchange"
        and hidden.evidence_text == "X-ANONYMOUSTLS"
    )
    # A product that names itself wins over a keyword another product also announces.
    assert identify_smtp("mx ESMTP Exim 4.97", ["XRDST"]) == Software("Exim", "4.97", "ESMTP Exim 4.97")


@pytest.mark.parametrize(
    ("greeting", "capabilities", "name", "version"),
    [
        ("* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR] Dovecot (Debian) ready.", (), "Dovecot", None),
        (
            "* OK [CAPABILITY IMAP4rev1] mail Cyrus IMAP v2.4.17-Debian-2.4.17 server ready",
            (),
            "Cyrus",
            "2.4.17",
        ),
        ("* OK The Microsoft Exchange IMAP4 service is ready.", (), "Microsoft Exchange", None),
        (
            "* OK Microsoft Exchange Server 2003 IMAP4rev1 server version 6.5.7638.1 (mail) ready.",
            (),
            "Microsoft Exchange",
            "6.5.7638.1",
        ),
        ("* OK [CAPABILITY IMAP4rev1] Courier-IMAP ready. Copyright 1998-2018.", (), "Courier", None),
        ("* OK mail.example.com Zimbra IMAP4rev1 server ready", (), "Zimbra", None),
        ("* OK IMAP4rev1 server ready", ("IMAP4REV1", "XCOURIEROUTBOX=INBOX.OUTBOX"), "Courier", None),
    ],
)
def test_identify_imap(greeting: str, capabilities: tuple[str, ...], name: str, version: str | None) -> None:
    software = identify_imap(greeting, capabilities)
    assert software is not None and (software.name, software.version) == (name, version)


def test_identify_pop3() -> None:
    assert identify_pop3("+OK Dovecot ready.") == Software("Dovecot", None, "+OK Dovecot ready.")
    assert identify_pop3("+OK Hello there.") == Software("Courier", None, "+OK Hello there.")
    cyrus = identify_pop3("+OK server ready <1.2@mail>", ["TOP", "IMPLEMENTATION Cyrus POP3 server v2.4.17"])
    assert cyrus is not None and (cyrus.name, cyrus.version) == ("Cyrus", "2.4.17")
    assert identify_pop3("+OK POP3 ready") is None


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("4.96.1", (4, 96, 1)),
        ("v2.4.17", (2, 4, 17)),
        ("6.6.2p1", (6, 6, 2)),
        ("8.18.0", (8, 18)),
        ("x", None),
    ],
)
def test_parse_version(text: str, version: tuple[int, ...] | None) -> None:
    assert parse_version(text) == version


def test_versions_compare_as_numbers_not_strings() -> None:
    assert (parse_version("4.10") or ()) > (parse_version("4.9") or ())
    assert parse_version("8.18") == parse_version("8.18.0")
    assert Software("Exim", "4.100", "").version_tuple == (4, 100)


@pytest.mark.parametrize(
    ("version", "exposure"),
    [
        ("3.4.14", Exposure.AFFECTED),  # a branch older than every fixed one never got the fix
        ("3.5.22", Exposure.AFFECTED),
        ("3.5.23", Exposure.NEEDS_SETTING),
        ("3.7.8", Exposure.AFFECTED),
        ("3.7.9", Exposure.NEEDS_SETTING),
        ("3.8.4", Exposure.NEEDS_SETTING),
        ("3.9.0", Exposure.NONE),  # smtpd_forbid_bare_newline = normalize by default
        ("3.10.1", Exposure.NONE),
    ],
)
def test_postfix_smuggling_by_branch(version: str, exposure: Exposure) -> None:
    (smuggling,) = issues_of("Postfix", IssueKind.SMTP_SMUGGLING)
    assert smuggling.cves == ("CVE-2023-51764",)
    assert smuggling.exposure(parse_version(version) or ()) is exposure


@pytest.mark.parametrize(
    ("version", "titles"),
    [
        ("4.86", {"SMTP smuggling", "AUTH out-of-bounds write (ZDI)", "21Nails"}),
        ("4.91", {"SMTP smuggling", "AUTH out-of-bounds write (ZDI)", "21Nails", "Return of the WIZard"}),
        ("4.94.2", {"SMTP smuggling", "AUTH out-of-bounds write (ZDI)"}),
        ("4.96", {"SMTP smuggling", "AUTH out-of-bounds write (ZDI)"}),
        ("4.96.1", {"SMTP smuggling"}),
        ("4.97.1", set()),
        ("4.98", set()),
    ],
)
def test_exim_issues_by_version(version: str, titles: set[str]) -> None:
    assert {i.title for i in known_issues(Software("Exim", version, ""))} == titles


def test_other_products_and_no_version() -> None:
    assert [i.cves for i in known_issues(Software("Sendmail", "8.17.2", ""))] == [("CVE-2023-51765",)]
    assert known_issues(Software("Sendmail", "8.18.1", "")) == ()
    assert [i.cves for i in known_issues(Software("OpenSMTPD", "6.6.1p1", ""))] == [("CVE-2020-7247",)]
    assert known_issues(Software("OpenSMTPD", "6.6.2p1", "")) == ()
    assert known_issues(Software("OpenSMTPD", "6.0.3", "")) == ()  # older than the flaw
    dovecot = known_issues(Software("Dovecot", "2.3.21", ""))
    assert [i.cves for i in dovecot] == [("CVE-2024-23184", "CVE-2024-23185")]
    assert known_issues(Software("Dovecot", "2.3.21.1", "")) == ()
    assert known_issues(Software("Dovecot", "2.4.1", "")) == ()
    assert known_issues(Software("Postfix", None, "ESMTP Postfix")) == ()  # nothing to match


def test_the_table_is_well_formed() -> None:
    for entry in KNOWN_ISSUES:
        assert entry.cves and all(re.fullmatch(r"CVE-\d{4}-\d{4,}", c) for c in entry.cves), entry.title
        assert all(parse_version(f) is not None for f in entry.fixed), entry.title
        assert entry.source.startswith("https://"), entry.title
        datetime.date.fromisoformat(entry.published)
        assert entry.summary.en and entry.summary.ja, entry.title
    smuggling = {c for i in KNOWN_ISSUES if i.kind is IssueKind.SMTP_SMUGGLING for c in i.cves}
    assert smuggling == {"CVE-2023-51764", "CVE-2023-51765", "CVE-2023-51766"}
    nails = next(i for i in KNOWN_ISSUES if i.title == "21Nails")
    assert len(nails.cves) == 21 and nails.cve_text(limit=2) == "CVE-2020-28007, CVE-2020-28008 … (21 CVEs)"

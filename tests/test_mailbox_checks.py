"""The email.mailbox.* checks on recorded snapshots: every grade, its evidence, fix and after-fix."""

from __future__ import annotations

import pytest

from mimawari.lab.ca import CertMode
from mimawari.lookup import Snapshot
from mimawari.model import Finding, Grade, Severity, Status
from mimawari.observations.mailbox import MailService
from mimawari.probes import ServiceSession
from tests.mailbox_samples import (
    CHECKS,
    DOMAIN,
    IMAP_HOST,
    OLD_VERSIONS,
    answers,
    certificate_chain,
    check,
    every_port,
    greeted,
    handshake_failed,
    host,
    scanned,
    snapshot,
    timed_out,
)

IMAP, IMAPS = MailService.IMAP, MailService.IMAPS
POP3, POP3S = MailService.POP3, MailService.POP3S
SUBMISSION, SUBMISSIONS = MailService.SUBMISSION, MailService.SUBMISSIONS
ADVERTISED_IMAPS = {f"_imaps._tcp.{DOMAIN} SRV": [f"0 1 993 {IMAP_HOST}."]}


def guessed(**sessions: ServiceSession) -> Snapshot:
    """imap.example.test, found by its name, with the given sessions and the other ports refused."""
    return snapshot(answers(host()), *every_port(**sessions))


def fix_of(result: Finding) -> tuple[str, Grade]:
    assert result.fix is not None and result.fix.snippet is not None and result.after_fix is not None
    return result.fix.snippet, result.after_fix.grade


def test_every_check_is_in_the_mailbox_category() -> None:
    assert len(CHECKS) == 10
    assert all(
        c.id.startswith("email.mailbox.") and c.category.value == "email-mailbox" for c in CHECKS.values()
    )


def test_nothing_found_is_not_applicable_everywhere() -> None:
    nothing = snapshot(answers())
    for check_id in CHECKS:
        result = check(check_id.removeprefix("email.mailbox."), nothing)
        assert result.grade is Grade.NA, check_id
    assert "No mailbox or submission server" in check("discovered", nothing).summary.en


def test_advertised_services_that_refuse_are_named() -> None:
    snap = snapshot(answers({**ADVERTISED_IMAPS, **host()}), *every_port())
    result = check("discovered", snap)
    assert result.grade is Grade.NA
    assert "the advertised ones (imap.example.test 203.0.113.10:993 (imaps)) refused" in result.summary.en


def test_failed_discovery_is_unknown_everywhere() -> None:
    lost = snapshot(answers({f"_submissions._tcp.{DOMAIN} SRV": "timeout"}))
    for check_id in CHECKS:
        assert check(check_id.removeprefix("email.mailbox."), lost).grade is Grade.UNKNOWN, check_id
    assert "_submissions._tcp.example.test SRV: timeout" in check("discovered", lost).summary.en
    silent = snapshot(answers(host()))  # every guessed port timed out: nothing can be said
    assert check("discovered", silent).grade is Grade.UNKNOWN


def test_a_well_run_server_is_a_everywhere() -> None:
    chain = certificate_chain(IMAP_HOST)
    imap, imaps = greeted(IMAP, chain=chain), greeted(IMAPS, chain=chain)
    submission = greeted(SUBMISSION, chain=chain)
    snap = guessed(
        imap=imap, imaps=imaps, submission=submission, submissions=greeted(SUBMISSIONS, chain=chain)
    )
    snap = snap.patched(*(scanned(s) for s in (imap, imaps, submission)))
    snap = snap.patched(scanned(greeted(SUBMISSIONS, chain=chain)))
    for check_id in CHECKS:
        result = check(check_id.removeprefix("email.mailbox."), snap)
        assert result.grade is Grade.A, (check_id, result.summary.en)
        assert result.fix is None and result.severity is Severity.INFO


def test_discovered_lists_services_and_advertised_ones_down() -> None:
    snap = snapshot(
        answers({**ADVERTISED_IMAPS, **host()}), *every_port(imap=greeted(IMAP), imaps=timed_out(IMAPS))
    )
    result = check("discovered", snap)
    assert result.grade is Grade.A
    assert "imap imap.example.test:143" in result.summary.en
    assert "Advertised but not answering: imap.example.test 203.0.113.10:993 (imaps)" in result.summary.en
    sources = [e.source for e in result.evidence]
    assert "imap.example.test 203.0.113.10:143 (imap)" in sources
    assert "_imaps._tcp.example.test SRV" in sources


def test_tls_offered_grades() -> None:
    no_tls = guessed(imap=greeted(IMAP, capabilities=("IMAP4REV1", "LOGINDISABLED")))
    result = check("tls_offered", no_tls)
    assert (result.grade, result.severity) == (Grade.E, Severity.CRITICAL)
    assert "offer no TLS at all" in result.summary.en
    snippet, after = fix_of(result)
    assert "ssl = required" in snippet and "smtpd_tls_security_level=encrypt" in snippet
    assert after is Grade.A
    refused = guessed(pop3=greeted(POP3, starttls_refused=True))
    assert check("tls_offered", refused).grade is Grade.D
    failed = guessed(submission=greeted(SUBMISSION, tls=Status.ERROR))
    assert check("tls_offered", failed).grade is Grade.D
    broken_implicit = guessed(imaps=handshake_failed(IMAPS))
    result = check("tls_offered", broken_implicit)
    assert result.grade is Grade.D
    assert "wrong version number" in result.evidence[0].value


def test_tls_offered_unknown_paths() -> None:
    ended = ServiceSession(greeted(IMAP).request, Status.PRESENT, "the session ended early", connect_ms=5.0)
    assert check("tls_offered", guessed(imap=ended)).grade is Grade.UNKNOWN
    stalled = guessed(imap=greeted(IMAP, tls=Status.TIMEOUT))
    assert check("tls_offered", stalled).grade is Grade.UNKNOWN
    # The answering service passes, but an advertised one never answered: no pass for it.
    waiting = snapshot(
        answers({**ADVERTISED_IMAPS, **host()}), *every_port(imap=greeted(IMAP), imaps=timed_out(IMAPS))
    )
    result = check("tls_offered", waiting)
    assert result.grade is Grade.UNKNOWN
    assert "did not answer in time" in result.summary.en
    # A failure is certain whatever the undecided service would have shown.
    bare = greeted(IMAP, capabilities=("IMAP4REV1",))
    undecided_and_bare = snapshot(
        answers({**ADVERTISED_IMAPS, **host()}), *every_port(imap=bare, imaps=timed_out(IMAPS))
    )
    assert check("tls_offered", undecided_and_bare).grade is Grade.E


def test_cleartext_login_imap() -> None:
    locked = guessed(imap=greeted(IMAP))
    assert check("cleartext_login", locked).grade is Grade.A
    open_login = guessed(
        imap=greeted(IMAP, capabilities=("IMAP4REV1", "STARTTLS", "AUTH=PLAIN", "AUTH=LOGIN"))
    )
    result = check("cleartext_login", open_login)
    assert (result.grade, result.severity) == (Grade.D, Severity.HIGH)
    assert "(LOGIN, AUTH=PLAIN, AUTH=LOGIN)" in result.summary.en
    snippet, after = fix_of(result)
    assert "disable_plaintext_auth = yes" in snippet and "auth_allow_cleartext = no" in snippet
    assert "smtpd_tls_auth_only" not in snippet
    assert after is Grade.A
    # LOGINDISABLED, yet a password mechanism before STARTTLS.
    sasl = guessed(imap=greeted(IMAP, capabilities=("IMAP4REV1", "STARTTLS", "LOGINDISABLED", "AUTH=PLAIN")))
    assert check("cleartext_login", sasl).grade is Grade.D
    no_tls = guessed(imap=greeted(IMAP, capabilities=("IMAP4REV1",)))
    result = check("cleartext_login", no_tls)
    assert (result.grade, result.severity) == (Grade.E, Severity.CRITICAL)
    assert "every password is sent in clear text" in result.summary.en


def test_cleartext_login_pop3_and_submission() -> None:
    user = guessed(pop3=greeted(POP3, capabilities=("TOP", "USER", "STLS")))
    assert "USER/PASS" in check("cleartext_login", user).summary.en
    sasl = guessed(pop3=greeted(POP3, capabilities=("TOP", "SASL PLAIN CRAM-MD5", "STLS")))
    assert "SASL PLAIN" in check("cleartext_login", sasl).summary.en
    auth = guessed(
        submission=greeted(SUBMISSION, capabilities=("PIPELINING", "AUTH=LOGIN PLAIN", "STARTTLS"))
    )
    result = check("cleartext_login", auth)
    assert result.grade is Grade.D
    assert "AUTH LOGIN, AUTH PLAIN" in result.summary.en
    snippet, after = fix_of(result)
    assert snippet == "# Postfix (main.cf)\nsmtpd_tls_auth_only = yes"
    assert after is Grade.A
    challenge = guessed(
        submission=greeted(SUBMISSION, capabilities=("AUTH CRAM-MD5 SCRAM-SHA-256", "STARTTLS"))
    )
    assert check("cleartext_login", challenge).grade is Grade.A


def test_cleartext_login_other_paths() -> None:
    implicit_only = guessed(imaps=greeted(IMAPS), pop3s=greeted(POP3S))
    result = check("cleartext_login", implicit_only)
    assert result.grade is Grade.A and "implicit TLS" in result.summary.en
    no_capabilities = guessed(pop3=greeted(POP3, capabilities=()))
    assert check("cleartext_login", no_capabilities).grade is Grade.UNKNOWN
    waiting = snapshot(
        answers({**ADVERTISED_IMAPS, **host()}), *every_port(imap=greeted(IMAP), imaps=timed_out(IMAPS))
    )
    assert check("cleartext_login", waiting).grade is Grade.UNKNOWN


def test_implicit_tls_grades() -> None:
    both = guessed(imap=greeted(IMAP), imaps=greeted(IMAPS))
    result = check("implicit_tls", both)
    assert result.grade is Grade.A
    assert "STARTTLS ports imap.example.test:143 are open too" in result.summary.en
    only_implicit = guessed(imaps=greeted(IMAPS), submissions=greeted(SUBMISSIONS))
    result = check("implicit_tls", only_implicit)
    assert result.grade is Grade.A and "open too" not in result.summary.en
    starttls_only = guessed(
        imap=greeted(IMAP), submission=greeted(SUBMISSION), submissions=greeted(SUBMISSIONS)
    )
    result = check("implicit_tls", starttls_only)
    assert result.grade is Grade.B
    assert "IMAP on imap.example.test" in result.summary.en and "submission" not in result.summary.en
    snippet, after = fix_of(result)
    assert "inet_listener imaps" in snippet
    assert "_imaps._tcp.example.test. IN SRV 0 1 993 imap.example.test." in snippet
    assert after is Grade.A
    # The implicit port was advertised but timed out: it may well be there.
    waiting = snapshot(
        answers({**ADVERTISED_IMAPS, **host()}), *every_port(imap=greeted(IMAP), imaps=timed_out(IMAPS))
    )
    assert check("implicit_tls", waiting).grade is Grade.UNKNOWN


def test_implicit_tls_failed_handshake_still_counts_as_offered() -> None:
    snap = guessed(pop3=greeted(POP3), pop3s=handshake_failed(POP3S))
    assert check("implicit_tls", snap).grade is Grade.A
    assert check("tls_offered", snap).grade is Grade.D


@pytest.mark.parametrize(
    ("service", "greeting", "grade", "words"),
    [
        (IMAP, None, Grade.A, "no software version (Dovecot)"),
        (IMAP, "* OK Dovecot 2.3.21.1 ready.", Grade.B, "disclose their software version (Dovecot 2.3.21.1)"),
        (IMAP, "* OK Dovecot 2.3.16 ready.", Grade.D, "CVE-2024-23184"),
        (SUBMISSION, "mail.example.test ESMTP Exim 4.94 Mon, 01 Jan 2024", Grade.E, "21Nails"),
        (SUBMISSION, "mail.example.test ESMTP Exim 4.97 Mon, 01 Jan 2024", Grade.D, "CVE-2023-51766"),
        (SUBMISSION, "mail.example.test ESMTP Postfix 3.8.4", Grade.C, "off by default"),
        (POP3, "+OK Hello there.", Grade.A, "(Courier)"),
        (IMAP, "* OK ready.", Grade.A, "software not identified"),
    ],
)
def test_software_grades(service: MailService, greeting: str | None, grade: Grade, words: str) -> None:
    result = check("software", guessed(**{service.value: greeted(service, greeting=greeting)}))
    assert result.grade is grade, result.summary.en
    assert words in result.summary.en
    if grade is not Grade.A:
        snippet, after = fix_of(result)
        assert after is Grade.A
        assert snippet


def test_software_fix_hides_the_version_and_names_the_fixed_release() -> None:
    result = check("software", guessed(imap=greeted(IMAP, greeting="* OK Dovecot 2.3.16 ready.")))
    assert result.fix is not None and "2.3.21.1" in result.fix.action.en
    snippet, _after = fix_of(result)
    assert "login_greeting = Dovecot ready." in snippet
    assert any("CVE-2024-23184" in e.source and "2024-08-14" in e.value for e in result.evidence)
    disclosed = check("software", guessed(imap=greeted(IMAP, greeting="* OK Cyrus IMAP v3.8.1 server ready")))
    assert disclosed.grade is Grade.B
    assert fix_of(disclosed)[0] == "# Cyrus (imapd.conf)\nserverinfo: off"


def test_software_unknown_only_when_nothing_is_disclosed() -> None:
    quiet = snapshot(
        answers({**ADVERTISED_IMAPS, **host()}), *every_port(imap=greeted(IMAP), imaps=timed_out(IMAPS))
    )
    assert check("software", quiet).grade is Grade.UNKNOWN
    loud = snapshot(
        answers({**ADVERTISED_IMAPS, **host()}),
        *every_port(imap=greeted(IMAP, greeting="* OK Dovecot 2.3.16 ready."), imaps=timed_out(IMAPS)),
    )
    assert check("software", loud).grade is Grade.D


def test_tls_wrappers_grade_the_endpoints() -> None:
    imap = greeted(IMAP, chain=certificate_chain(IMAP_HOST))
    old = guessed(imap=imap).patched(scanned(imap, OLD_VERSIONS))
    assert check("tls_versions", old).grade is Grade.C
    assert "TLSv1.0" in check("tls_versions", old).summary.en
    not_scanned = guessed(imap=imap)
    assert check("tls_versions", not_scanned).grade is Grade.UNKNOWN
    no_tls = guessed(imap=greeted(IMAP, capabilities=("IMAP4REV1", "LOGINDISABLED")))
    for check_id in ("tls_versions", "tls_ciphers", "tls_key_exchange", "certificate", "certificate_key"):
        assert check(check_id, no_tls).grade is Grade.NA, check_id


@pytest.mark.parametrize("mode", [CertMode.SELF_SIGNED, CertMode.WRONG_NAME, CertMode.EXPIRED])
def test_untrusted_certificates_are_e_for_mail_clients(mode: CertMode) -> None:
    trusted = mode is CertMode.WRONG_NAME  # a lab-CA chain for another name is trusted, the name is wrong
    detail_chain = certificate_chain(
        IMAP_HOST if mode is not CertMode.WRONG_NAME else "other.example.test", mode
    )
    imap = greeted(IMAP, chain=detail_chain, trusted=trusted)
    result = check("certificate", guessed(imap=imap).patched(scanned(imap)))
    assert result.grade is Grade.E, result.summary.en


def test_texts_are_complete_in_both_languages() -> None:
    scenarios = [
        snapshot(answers()),
        snapshot(answers({f"_imap._tcp.{DOMAIN} SRV": "timeout"})),
        guessed(imap=greeted(IMAP, greeting="* OK Dovecot 2.3.16 ready.", capabilities=("IMAP4REV1",))),
        guessed(pop3=greeted(POP3, capabilities=("USER", "STLS"), starttls_refused=True)),
        snapshot(
            answers({**ADVERTISED_IMAPS, **host()}), *every_port(imap=greeted(IMAP), imaps=timed_out(IMAPS))
        ),
    ]
    for snap in scenarios:
        for check_id in CHECKS:
            result = check(check_id.removeprefix("email.mailbox."), snap)
            for text in (
                result.title,
                result.summary,
                *(t for t in (result.fix and result.fix.action,) if t),
            ):
                assert text.en and text.ja, check_id
                assert "{" not in text.en + text.ja, (check_id, text.en)

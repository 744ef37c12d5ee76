"""The shared TLS verdicts of the MTA and Mailbox categories, from hand-built endpoints."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Mapping, Sequence
from functools import cache

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from mimawari.checks.email.tls_grading import (
    certificate_key_verdict,
    certificate_verdict,
    ciphers_verdict,
    key_exchange_verdict,
    versions_verdict,
)
from mimawari.model import Grade, Status, Verdict
from mimawari.probes import (
    GroupSupport,
    MailProtocol,
    Reply,
    ServiceRequest,
    ServiceSession,
    StartTls,
    TlsEndpoint,
    TlsHandshake,
    TlsScan,
    TlsScanRequest,
    VersionSupport,
)
from tests.test_x509_facts import sha1_signed

MOMENT = 1_750_000_000
"""The scan time every certificate is judged at (2025-06-15)."""
DAY = 86_400
TLS13 = ("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256")
TLS12 = ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
MODERN: Mapping[str, Sequence[str]] = {"TLSv1.3": TLS13, "TLSv1.2": TLS12}
PORTS = {MailProtocol.SMTP: 25, MailProtocol.IMAP: 993, MailProtocol.POP3: 995}


@cache
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@cache
def rsa_key(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def leaf(
    host: str = "mx1.example.test",
    *,
    valid: tuple[int, int] = (-30, 60),
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = None,
    sha1: bool = False,
    self_signed: bool = False,
) -> str:
    """A base64 DER leaf naming ``host``, valid from/to these days around MOMENT, signed by a test CA
    (or by itself)."""
    start = datetime.datetime.fromtimestamp(MOMENT, datetime.UTC)
    own = key or ec_key()
    signer = own if self_signed else rsa_key(2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host if self_signed else "Test CA")]))
        .public_key(own.public_key())
        .serial_number(1)
        .not_valid_before(start + datetime.timedelta(days=valid[0]))
        .not_valid_after(start + datetime.timedelta(days=valid[1]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(signer, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    if sha1:
        assert isinstance(signer, rsa.RSAPrivateKey)
        der = sha1_signed(der, signer)
    return base64.b64encode(der).decode("ascii")


def endpoint(
    host: str = "mx1.example.test",
    *,
    protocol: MailProtocol = MailProtocol.SMTP,
    versions: Mapping[str, Sequence[str]] = MODERN,
    server_order: bool | None = True,
    groups: Sequence[str] = ("x25519", "secp256r1"),
    chain: tuple[str, ...] | None = None,
    trusted: bool | None = True,
    trust_detail: str = "",
    session: Status = Status.PRESENT,
    handshake: Status | None = Status.PRESENT,
    scan: Status | None = Status.PRESENT,
    starttls_offered: bool | None = True,
) -> TlsEndpoint:
    port = PORTS[protocol]
    request = ServiceRequest(
        protocol, host, "192.0.2.25", port, implicit_tls=protocol is not MailProtocol.SMTP
    )
    tls = None
    if handshake is not None:
        tls = TlsHandshake(
            handshake,
            version="TLSv1.3" if handshake is Status.PRESENT else "",
            chain=(leaf(host),) if chain is None else chain,
            trusted=trusted,
            trust_detail=trust_detail,
        )
    offered = starttls_offered if protocol is MailProtocol.SMTP else None
    service = ServiceSession(request, session, starttls_offered=offered, tls=tls)
    probed = [
        VersionSupport(
            v, Status.PRESENT if v in versions else Status.ABSENT, tuple(versions.get(v, ())), server_order
        )
        for v in ("SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
    ]
    found = None
    if scan is not None:
        found = TlsScan(
            TlsScanRequest(
                host, "192.0.2.25", port, StartTls.SMTP if protocol is MailProtocol.SMTP else StartTls.NONE
            ),
            scan,
            tuple(probed) if scan is Status.PRESENT else (),
            (*(GroupSupport(g, Status.PRESENT) for g in groups), GroupSupport("secp224r1", Status.ABSENT)),
        )
    return TlsEndpoint(host, service, found)


def assert_texts(verdict: Verdict) -> None:
    """Every user-facing text exists in English and Japanese, with its placeholders filled."""
    texts = [verdict.summary]
    if verdict.fix is not None:
        texts.append(verdict.fix.action)
    if verdict.after_fix is not None:
        texts.append(verdict.after_fix.effect)
    for text in texts:
        assert text.en and text.ja and text.en != text.ja
        assert "{" not in text.en and "{" not in text.ja


def graded(verdict: Verdict, grade: Grade) -> Verdict:
    assert verdict.grade is grade, verdict.summary.en
    assert_texts(verdict)
    if grade not in (Grade.A, Grade.NA, Grade.UNKNOWN):
        assert verdict.fix is not None and verdict.fix.snippet
        assert verdict.after_fix is not None and verdict.after_fix.grade is Grade.A
    else:
        assert verdict.fix is None
    return verdict


# --- versions ----------------------------------------------------------------------------------------


def test_modern_versions_grade_a() -> None:
    verdict = graded(versions_verdict([endpoint()]), Grade.A)
    assert verdict.evidence[0].source == "mx1.example.test 192.0.2.25:25"
    assert "accepted: TLSv1.2 (sufficient), TLSv1.3 (good)" in verdict.evidence[0].value
    assert "refused: SSLv3, TLSv1.0, TLSv1.1" in verdict.evidence[0].value


def test_versions_each_grade_path() -> None:
    only12 = endpoint(versions={"TLSv1.2": TLS12})
    only12 = TlsEndpoint(only12.host, ServiceSession(only12.session.request, Status.PRESENT), only12.scan)
    verdict = graded(versions_verdict([only12]), Grade.B)
    assert "TLS 1.3" in verdict.summary.en
    assert verdict.fix is not None and "Enable TLS 1.3" in verdict.fix.action.en
    verdict = graded(versions_verdict([endpoint(versions={**MODERN, "TLSv1.0": TLS12})]), Grade.C)
    assert "TLSv1.0" in verdict.summary.en
    assert verdict.fix is not None and verdict.fix.snippet is not None
    assert "smtpd_tls_protocols = >=TLSv1.2" in verdict.fix.snippet
    assert "ssl_min_protocol" not in verdict.fix.snippet
    verdict = graded(versions_verdict([endpoint(versions={**MODERN, "SSLv3": TLS12})]), Grade.E)
    assert "SSLv3" in verdict.summary.en and "SSLv3" in verdict.summary.ja


def test_the_handshake_version_counts_as_accepted() -> None:
    # The scan missed TLS 1.3, the real handshake used it: no "TLS 1.3 missing".
    assert versions_verdict([endpoint(versions={"TLSv1.2": TLS12})]).grade is Grade.A


def test_worst_endpoint_decides_and_every_endpoint_is_evidence() -> None:
    good = endpoint("mx1.example.test")
    old = endpoint("mx2.example.test", versions={**MODERN, "TLSv1.1": TLS12})
    verdict = graded(versions_verdict([good, old]), Grade.C)
    assert [e.source for e in verdict.evidence] == [
        "mx1.example.test 192.0.2.25:25",
        "mx2.example.test 192.0.2.25:25",
    ]
    assert "mx2.example.test" in verdict.summary.en and "mx1.example.test" not in verdict.summary.en


def test_fix_fits_the_software_of_the_failing_endpoints() -> None:
    imap = endpoint("imap.example.test", protocol=MailProtocol.IMAP, versions={**MODERN, "TLSv1.0": TLS12})
    verdict = graded(versions_verdict([endpoint(), imap]), Grade.C)
    assert verdict.fix is not None and verdict.fix.snippet is not None
    assert "ssl_min_protocol = TLSv1.2" in verdict.fix.snippet
    assert "postfix" not in verdict.fix.snippet  # the SMTP server is fine
    smtp = endpoint(versions={**MODERN, "TLSv1.0": TLS12})
    both = versions_verdict([smtp, imap])
    assert both.fix is not None and both.fix.snippet is not None
    assert "smtpd_tls_protocols" in both.fix.snippet and "ssl_min_protocol" in both.fix.snippet


def test_timeouts_are_unknown_never_not_offered() -> None:
    silent = endpoint(session=Status.TIMEOUT, handshake=None, scan=None)
    for verdict_of in (versions_verdict, ciphers_verdict, key_exchange_verdict, certificate_key_verdict):
        verdict = graded(verdict_of([silent]), Grade.UNKNOWN)
        assert "timeout" in verdict.summary.en and "not mean" in verdict.summary.en
    assert graded(certificate_verdict([silent], MOMENT, untrusted=Grade.C), Grade.UNKNOWN)
    stalled_scan = endpoint(scan=Status.TIMEOUT)
    assert "timeout" in versions_verdict([stalled_scan]).summary.en
    stalled_handshake = endpoint(handshake=Status.TIMEOUT, scan=None)
    assert versions_verdict([stalled_handshake]).grade is Grade.UNKNOWN
    assert certificate_verdict([stalled_handshake], MOMENT, untrusted=Grade.E).grade is Grade.UNKNOWN


def test_missing_scan_or_failed_handshake_cannot_be_graded() -> None:
    unscanned = graded(ciphers_verdict([endpoint(scan=None)]), Grade.UNKNOWN)
    assert "not scanned" in unscanned.summary.en
    failed = endpoint(handshake=Status.ERROR, scan=None)
    assert "handshake failed" in versions_verdict([failed]).summary.en
    # A scan that worked is graded even when the real handshake failed.
    assert versions_verdict([endpoint(handshake=Status.ERROR)]).grade is Grade.A


def test_some_endpoints_unknown_the_rest_graded() -> None:
    silent = endpoint("mx2.example.test", session=Status.TIMEOUT, handshake=None, scan=None)
    verdict = graded(versions_verdict([endpoint(), silent]), Grade.A)
    assert "mx2.example.test" in verdict.summary.en and "mx2.example.test" in verdict.summary.ja
    assert len(verdict.evidence) == 2


def test_no_tls_anywhere_is_not_applicable() -> None:
    plain = endpoint(handshake=None, scan=None, starttls_offered=False)
    for verdict_of in (versions_verdict, ciphers_verdict, key_exchange_verdict, certificate_key_verdict):
        verdict = graded(verdict_of([plain]), Grade.NA)
        assert "STARTTLS" in verdict.summary.en
        assert "STARTTLS not offered" in verdict.evidence[0].value
    # One endpoint without STARTTLS does not pull the others down: it is left to the STARTTLS check.
    assert versions_verdict([endpoint(), plain]).grade is Grade.A
    refused = endpoint(handshake=None, scan=None)
    refused = TlsEndpoint(
        refused.host,
        ServiceSession(
            refused.session.request,
            Status.PRESENT,
            starttls_offered=True,
            starttls=Reply(454, ("TLS not available",)),
        ),
    )
    assert versions_verdict([refused]).grade is Grade.NA


# --- cipher suites -----------------------------------------------------------------------------------


def test_ciphers_each_grade_path() -> None:
    graded(ciphers_verdict([endpoint()]), Grade.A)
    rsa_kex = {**MODERN, "TLSv1.2": (*TLS12, "TLS_RSA_WITH_AES_128_GCM_SHA256")}
    verdict = graded(ciphers_verdict([endpoint(versions=rsa_kex)]), Grade.C)
    assert "TLS_RSA_WITH_AES_128_GCM_SHA256" in verdict.summary.en
    assert verdict.fix is not None and verdict.fix.snippet is not None
    assert "tls_high_cipherlist = ECDHE-ECDSA-AES128-GCM-SHA256" in verdict.fix.snippet
    assert "tls_preempt_cipherlist = yes" in verdict.fix.snippet
    rc4 = {**MODERN, "TLSv1.2": (*TLS12, "TLS_RSA_WITH_RC4_128_SHA")}
    verdict = graded(ciphers_verdict([endpoint(versions=rc4)]), Grade.E)
    assert "TLS_RSA_WITH_RC4_128_SHA" in verdict.summary.en


def test_client_order_over_mixed_levels_costs_a_grade() -> None:
    rsa_kex = {**MODERN, "TLSv1.2": (*TLS12, "TLS_RSA_WITH_AES_128_GCM_SHA256")}
    verdict = graded(ciphers_verdict([endpoint(versions=rsa_kex, server_order=False)]), Grade.D)
    assert "client" in verdict.summary.en
    # Server order, but the phase-out suite first: the order itself breaks B2-5.
    first = {**MODERN, "TLSv1.2": ("TLS_RSA_WITH_AES_128_GCM_SHA256", *TLS12)}
    assert ciphers_verdict([endpoint(versions=first)]).grade is Grade.D
    # Mixed good and sufficient (TLS 1.3 CCM) under client order: B.
    ccm = {"TLSv1.3": (*TLS13, "TLS_AES_128_CCM_SHA256")}
    assert graded(ciphers_verdict([endpoint(versions=ccm, server_order=False)]), Grade.B)
    # One level only: the client may choose; order unknown: no penalty.
    assert ciphers_verdict([endpoint(server_order=False)]).grade is Grade.A
    assert ciphers_verdict([endpoint(versions=rsa_kex, server_order=None)]).grade is Grade.C


def test_dovecot_cipher_fix() -> None:
    rsa_kex = {**MODERN, "TLSv1.2": (*TLS12, "TLS_RSA_WITH_AES_256_CBC_SHA")}
    verdict = ciphers_verdict([endpoint("imap.example.test", protocol=MailProtocol.IMAP, versions=rsa_kex)])
    assert verdict.fix is not None and verdict.fix.snippet is not None
    assert "ssl_cipher_list = ECDHE-ECDSA-AES128-GCM-SHA256" in verdict.fix.snippet
    assert "ssl_prefer_server_ciphers = yes" in verdict.fix.snippet


def test_unclassified_suites_are_not_graded() -> None:
    odd = endpoint(versions={"TLSv1.2": ("TLS_FALLBACK_SCSV",)})
    odd = TlsEndpoint(odd.host, ServiceSession(odd.session.request, Status.PRESENT), odd.scan)
    verdict = graded(ciphers_verdict([odd]), Grade.UNKNOWN)
    assert "unclassified" in verdict.summary.en


# --- key exchange ------------------------------------------------------------------------------------


def test_key_exchange_each_grade_path() -> None:
    graded(key_exchange_verdict([endpoint()]), Grade.A)
    graded(key_exchange_verdict([endpoint(groups=("x25519", "ffdhe3072"))]), Grade.A)
    verdict = graded(key_exchange_verdict([endpoint(groups=("x25519", "ffdhe2048"))]), Grade.C)
    assert "ffdhe2048" in verdict.summary.en
    assert verdict.fix is not None and verdict.fix.snippet is not None
    assert "smtpd_tls_eecdh_grade = auto" in verdict.fix.snippet
    graded(key_exchange_verdict([endpoint(groups=("secp192r1",))]), Grade.E)


def test_dhe_only_and_no_forward_secrecy() -> None:
    dhe = {"TLSv1.2": ("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",)}
    verdict = graded(key_exchange_verdict([endpoint(versions=dhe, groups=())]), Grade.B)
    assert "DHE" in verdict.summary.en
    weak = graded(key_exchange_verdict([endpoint(versions=dhe, groups=("ffdhe2048",))]), Grade.C)
    assert "ffdhe2048" in weak.summary.en
    rsa_only = {"TLSv1.2": ("TLS_RSA_WITH_AES_128_GCM_SHA256",)}
    verdict = graded(key_exchange_verdict([endpoint(versions=rsa_only, groups=())]), Grade.C)
    assert "forward secrecy" in verdict.summary.en
    assert verdict.fix is not None and verdict.fix.snippet is not None
    assert "tls_high_cipherlist" in verdict.fix.snippet
    imap = endpoint("imap.example.test", protocol=MailProtocol.IMAP, groups=("secp224r1",))
    fix = key_exchange_verdict([imap]).fix
    assert fix is not None and fix.snippet is not None and "ssl_curve_list = X25519" in fix.snippet


def test_ecdhe_without_group_data_is_unknown() -> None:
    assert key_exchange_verdict([endpoint(groups=())]).grade is Grade.UNKNOWN


# --- certificates ------------------------------------------------------------------------------------


def test_good_certificate() -> None:
    verdict = graded(certificate_verdict([endpoint()], MOMENT, untrusted=Grade.C), Grade.A)
    assert "mx1.example.test; issuer CN=Test CA; valid 2025-05-16" in verdict.evidence[0].value
    assert verdict.evidence[0].value.endswith("trusted")


def test_untrusted_grade_is_the_callers() -> None:
    wrong = endpoint(chain=(leaf("other.example.test"),))
    mta = graded(certificate_verdict([wrong], MOMENT, untrusted=Grade.C), Grade.C)
    assert "does not name the host, only: other.example.test." in mta.summary.en
    mailbox = graded(certificate_verdict([wrong], MOMENT, untrusted=Grade.E), Grade.E)
    assert mailbox.fix is not None and mailbox.fix.snippet is not None
    assert 'certbot certonly --standalone -d mx1.example.test --deploy-hook "systemctl reload postfix"' in (
        mailbox.fix.snippet
    )
    assert "smtpd_tls_chain_files = /etc/letsencrypt/live/mx1.example.test/privkey.pem" in mailbox.fix.snippet


def test_chain_and_self_signed_failures() -> None:
    chain = endpoint(trusted=False, trust_detail="unable to get local issuer certificate")
    verdict = graded(certificate_verdict([chain], MOMENT, untrusted=Grade.C), Grade.C)
    assert "intermediate" in verdict.summary.en and "unable to get local issuer" in verdict.summary.en
    self_signed = endpoint(
        chain=(leaf(self_signed=True),), trusted=False, trust_detail="self-signed certificate"
    )
    verdict = graded(certificate_verdict([self_signed], MOMENT, untrusted=Grade.E), Grade.E)
    assert verdict.summary.en.startswith("At mx1.example.test 192.0.2.25:25, the certificate is self-signed")
    unreadable = endpoint(chain=(base64.b64encode(b"garbage").decode(),))
    assert certificate_verdict([unreadable], MOMENT, untrusted=Grade.E).grade is Grade.E
    assert certificate_verdict([endpoint(chain=())], MOMENT, untrusted=Grade.C).grade is Grade.C


def test_expired_and_not_yet_valid() -> None:
    expired = endpoint(
        chain=(leaf(valid=(-120, -30)),), trusted=False, trust_detail="certificate has expired"
    )
    mta = graded(certificate_verdict([expired], MOMENT, untrusted=Grade.C), Grade.D)
    assert "expired on 2025-05-16 15:06 UTC." in mta.summary.en
    assert "further" not in mta.summary.en  # the trust detail says the same as the dates: one problem
    graded(certificate_verdict([expired], MOMENT, untrusted=Grade.E), Grade.E)
    early = endpoint(chain=(leaf(valid=(2, 92)),), trusted=False, trust_detail="certificate is not valid yet")
    assert "not valid until 2025-06-17" in certificate_verdict([early], MOMENT, untrusted=Grade.C).summary.en


def test_every_problem_of_the_worst_endpoint_is_fixed() -> None:
    both = endpoint(chain=(leaf("other.example.test", valid=(-80, 10)),))
    verdict = graded(certificate_verdict([both], MOMENT, untrusted=Grade.C), Grade.D)
    assert "about to expire (2025-06-25 15:06 UTC)" in verdict.summary.en
    assert "further problems" in verdict.summary.en and "ほかにも問題" in verdict.summary.ja
    # Renewal alone would keep the wrong name: the fix is a new certificate for the host.
    assert verdict.fix is not None and verdict.fix.snippet is not None
    assert verdict.fix.snippet.startswith("certbot certonly --standalone -d mx1.example.test")


@pytest.mark.parametrize(
    ("valid", "grade"),
    [
        ((-80, 31), Grade.A),
        ((-80, 29), Grade.B),
        ((-80, 15), Grade.B),
        ((-80, 13), Grade.D),
        ((-89, 1), Grade.D),
    ],
)
def test_expiry_thresholds(valid: tuple[int, int], grade: Grade) -> None:
    soon = endpoint(chain=(leaf(valid=valid),))
    verdict = graded(certificate_verdict([soon], MOMENT, untrusted=Grade.C), grade)
    if grade is not Grade.A:
        assert verdict.fix is not None and verdict.fix.snippet is not None
        assert verdict.fix.snippet.startswith("certbot renew --cert-name mx1.example.test")


def test_short_lived_certificates_are_judged_by_their_lifetime() -> None:
    six_days = endpoint(chain=(leaf(valid=(-3, 3)),))
    assert certificate_verdict([six_days], MOMENT, untrusted=Grade.C).grade is Grade.A
    nearly_out = endpoint(chain=(leaf(valid=(-5, 1)),))
    assert certificate_verdict([nearly_out], MOMENT, untrusted=Grade.C).grade is Grade.B


def test_trust_not_judged_is_unknown_unless_something_else_fails() -> None:
    unjudged = endpoint(trusted=None, trust_detail="no trust store could be read")
    assert certificate_verdict([unjudged], MOMENT, untrusted=Grade.E).grade is Grade.UNKNOWN
    wrong = endpoint(chain=(leaf("other.example.test"),), trusted=None)
    assert certificate_verdict([wrong], MOMENT, untrusted=Grade.E).grade is Grade.E


def test_dovecot_certificate_fix() -> None:
    imap = endpoint("imap.example.test", protocol=MailProtocol.IMAP, chain=(leaf("mx1.example.test"),))
    verdict = certificate_verdict([imap], MOMENT, untrusted=Grade.E)
    assert verdict.fix is not None and verdict.fix.snippet is not None
    assert "ssl_cert = </etc/letsencrypt/live/imap.example.test/fullchain.pem" in verdict.fix.snippet
    assert 'systemctl reload dovecot"' in verdict.fix.snippet


# --- certificate keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bits", "sha1", "grade"), [(2048, False, Grade.A), (1024, False, Grade.E), (2048, True, Grade.E)]
)
def test_certificate_key_and_signature(bits: int, sha1: bool, grade: Grade) -> None:
    chain = (leaf(key=rsa_key(bits), sha1=sha1),)
    verdict = graded(certificate_key_verdict([endpoint(chain=chain)]), grade)
    assert f"key RSA {bits}" in verdict.evidence[0].value
    assert ("signature sha1 (insufficient)" in verdict.evidence[0].value) is sha1
    if grade is Grade.E:
        assert verdict.fix is not None and verdict.fix.snippet is not None
        assert "--key-type ecdsa --elliptic-curve secp256r1" in verdict.fix.snippet


def test_ec_certificate_key_is_good() -> None:
    verdict = graded(certificate_key_verdict([endpoint()]), Grade.A)
    assert verdict.evidence[0].value == "key EC secp256r1 (good); signature sha256 (good)"


def test_the_worked_example_of_docs_tls_md() -> None:
    suites = {
        "TLSv1.3": TLS13,
        "TLSv1.2": ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA"),
    }
    mx = endpoint(
        versions=suites,
        server_order=False,
        groups=("x25519", "ffdhe2048"),
        chain=(leaf(valid=(-70, 20), key=rsa_key(2048)),),
    )
    assert versions_verdict([mx]).grade is Grade.A
    assert ciphers_verdict([mx]).grade is Grade.D
    assert key_exchange_verdict([mx]).grade is Grade.C
    assert certificate_key_verdict([mx]).grade is Grade.A
    assert certificate_verdict([mx], MOMENT, untrusted=Grade.C).grade is Grade.B

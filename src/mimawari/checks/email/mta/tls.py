"""email.mta.tls_versions, .tls_ciphers, .tls_key_exchange, .certificate, .certificate_key — the MX
servers' TLS after STARTTLS, graded by the verdicts shared with the mailbox category (``tls_checks``).

An untrusted chain or a certificate that does not name the MX host gets C here: most senders use
opportunistic TLS and deliver anyway, but MTA-STS senders (and DANE senders with PKIX usages) need a
valid certificate and refuse to deliver. Dates are judged at the scan's moment, so a replayed snapshot
gets the same grade. A domain without mail servers is N/A and one whose MX lookup failed is unknown
before any TLS verdict.
"""

from __future__ import annotations

from mimawari.checks.email.mta.base import RFC8461_VALIDATION, mta_not_graded
from mimawari.checks.email.tls_checks import TlsCheck, tls_checks
from mimawari.model import Category, Grade, Severity, Text
from mimawari.observations.mta import MTA

CHECKS = tls_checks(
    "email.mta",
    Category.EMAIL_MTA,
    MTA,
    mta_not_graded,
    Grade.C,
    (
        TlsCheck(
            "certificate",
            Text("Certificate (MTA servers)", "証明書（MTA サーバー）"),
            Severity.MEDIUM,
            (RFC8461_VALIDATION,),
        ),
        TlsCheck(
            "certificate_key",
            Text("Certificate key and signature (MTA servers)", "証明書の鍵と署名（MTA サーバー）"),
            Severity.MEDIUM,
        ),
        TlsCheck(
            "tls_versions",
            Text("TLS protocol versions (MTA servers)", "TLS のプロトコルバージョン（MTA サーバー）"),
            Severity.MEDIUM,
        ),
        TlsCheck(
            "tls_ciphers",
            Text("TLS cipher suites (MTA servers)", "TLS の暗号スイート（MTA サーバー）"),
            Severity.MEDIUM,
        ),
        TlsCheck(
            "tls_key_exchange",
            Text("TLS key exchange (MTA servers)", "TLS の鍵交換（MTA サーバー）"),
            Severity.MEDIUM,
        ),
    ),
)

"""email.mailbox.tls_versions, .tls_ciphers, .tls_key_exchange, .certificate, .certificate_key — the
IMAP, POP3 and submission services' TLS, graded by the verdicts shared with the MTA category
(``tls_checks``).

A certificate that does not chain to a trusted root or does not name the host gets E here, not the MTA
category's C: a mail client refuses the connection (or teaches its user to click the warning away),
where a sending MTA mostly falls back to unauthenticated TLS. N/A without mailbox services, unknown
when they could not be found.
"""

from __future__ import annotations

from mimawari.checks.email.mailbox.base import RFC8314_CERTIFICATE, RFC8996, not_graded
from mimawari.checks.email.tls_checks import NCSC_TLS, TlsCheck, tls_checks
from mimawari.model import Category, Grade, Severity, Text
from mimawari.observations.mailbox import MAILBOX

CHECKS = tls_checks(
    "email.mailbox",
    Category.EMAIL_MAILBOX,
    MAILBOX,
    not_graded,
    Grade.E,
    (
        TlsCheck(
            "tls_versions",
            Text(
                "TLS protocol versions (mailbox servers)",
                "TLS プロトコルのバージョン（メールボックスサーバー）",
            ),
            Severity.HIGH,
            (NCSC_TLS, RFC8996),
        ),
        TlsCheck(
            "tls_ciphers",
            Text("TLS cipher suites (mailbox servers)", "TLS 暗号スイート（メールボックスサーバー）"),
            Severity.MEDIUM,
        ),
        TlsCheck(
            "tls_key_exchange",
            Text("TLS key exchange groups (mailbox servers)", "TLS 鍵交換グループ（メールボックスサーバー）"),
            Severity.MEDIUM,
        ),
        TlsCheck(
            "certificate",
            Text("Certificate (mailbox servers)", "証明書（メールボックスサーバー）"),
            Severity.HIGH,
            (RFC8314_CERTIFICATE,),
        ),
        TlsCheck(
            "certificate_key",
            Text(
                "Certificate key and signature (mailbox servers)",
                "証明書の鍵と署名（メールボックスサーバー）",
            ),
            Severity.MEDIUM,
        ),
    ),
)

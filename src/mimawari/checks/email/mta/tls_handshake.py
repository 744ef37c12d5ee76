"""email.mta.tls_handshake — does the STARTTLS handshake succeed on every server that offers it?

A server that offers STARTTLS and then refuses it (454) or fails the handshake (no certificate loaded,
no cipher in common, a broken key file) makes opportunistic senders retry in clear text at best, and
MTA-STS or DANE senders defer the mail: D. The handshake is made as such a sender makes it — any
version, any cipher, no certificate check — so this is only "does TLS work at all"; the certificate and
the TLS configuration are graded by their own checks. N/A where STARTTLS is not offered (see
email.mta.starttls).
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mta.base import RFC3207, Outcome, fold, judge, mta_not_graded
from mimawari.model import Category, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.mta import MTA, MtaObservation, MtaServer

TITLE = Text("STARTTLS handshake", "STARTTLS のハンドシェイク")

WORKS = Text(
    "The STARTTLS handshake succeeds on every server that offers it: {servers}.",
    "STARTTLS を提供するすべてのサーバーでハンドシェイクが成功します: {servers}。",
)
FAILS = Text(
    "These servers offer STARTTLS but the TLS session cannot be established: {servers}. Senders that "
    "require TLS (MTA-STS, DANE) defer mail to them; others fall back to clear text.",
    "次のサーバーは STARTTLS を提供していますが、TLS セッションを確立できません: {servers}。TLS を必須とする"
    "送信側（MTA-STS、DANE）はこれらへのメールを保留し、それ以外の送信側は平文に切り替えます。",
)
NOT_OFFERED = Text(
    "No server offers STARTTLS, so there is no handshake to test (see the STARTTLS check).",
    "STARTTLS を提供するサーバーがないため、テストするハンドシェイクがありません（STARTTLS のチェックを参照）。",
)
FIX = Text(
    "Check that the certificate and key files are readable and belong together, and read the server's "
    "TLS errors in its log (Postfix shown); then test the handshake yourself:",
    "証明書と鍵のファイルが読み取り可能で対応していることを確認し、サーバーのログの TLS エラーを確認して"
    "ください（Postfix の例）。その後、ハンドシェイクを自分で確認してください:",
)
SNIPPET = """# which files Postfix uses, and whether the key matches the certificate
postconf smtpd_tls_cert_file smtpd_tls_key_file smtpd_tls_chain_files
openssl x509 -noout -pubkey -in /etc/letsencrypt/live/{host}/fullchain.pem | sha256sum
openssl pkey -pubout -in /etc/letsencrypt/live/{host}/privkey.pem | sha256sum
grep -i 'TLS library problem\\|cannot load' /var/log/mail.log
# test as a sender does
openssl s_client -starttls smtp -connect {host}:25 -servername {host} </dev/null"""
EFFECT = Text(
    "TLS sessions with the servers work, so senders can encrypt mail to them.",
    "サーバーとの TLS セッションが確立でき、送信側がメールを暗号化できるようになります。",
)


def _judge(server: MtaServer) -> tuple[Grade, str]:
    session = server.session
    if session.starttls_offered is None:
        return Grade.UNKNOWN, f"no EHLO reply seen ({session.describe()})"
    if not session.starttls_offered:
        return Grade.NA, "STARTTLS not offered"
    if session.starttls is None:
        return Grade.UNKNOWN, f"the session ended before STARTTLS ({session.detail or 'no reply'})"
    if session.starttls.code != 220:
        return Grade.D, f"STARTTLS refused: {session.starttls.describe()}"
    handshake = session.tls
    if handshake is None or handshake.status is Status.TIMEOUT:
        detail = handshake.detail if handshake is not None else session.detail
        return Grade.UNKNOWN, f"no handshake result ({detail or 'not reached'})"
    if handshake.status is not Status.PRESENT:
        return Grade.D, f"handshake failed: {handshake.detail or handshake.status.value}"
    return Grade.A, f"{handshake.version} {handshake.cipher}".strip()


def evaluate(observation: MtaObservation) -> Verdict:
    early = mta_not_graded(observation)
    if early is not None:
        return early
    judged = judge(observation, _judge)
    failing = next((j.server.host for j in judged if j.grade is Grade.D), observation.domain)
    summaries = {Grade.A: WORKS, Grade.D: FAILS, Grade.NA: NOT_OFFERED}
    return fold(judged, Outcome(summaries, Fix(FIX, SNIPPET.format(host=failing)), EFFECT))


CHECK = Check(
    id="email.mta.tls_handshake",
    category=Category.EMAIL_MTA,
    severity=Severity.HIGH,
    title=TITLE,
    references=(RFC3207,),
    observer=MTA,
    evaluate=evaluate,
)

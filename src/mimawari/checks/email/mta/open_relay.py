"""email.mta.open_relay — does an MX server accept mail from outside for an outside recipient?

The probe (in clear text, before STARTTLS, as a spammer would): ``MAIL FROM:<relay-test@mimawari-probe
.example>`` (``MAIL FROM:<>`` when that sender is refused), ``RCPT TO:<relay-test@relay-target.example>``,
``RSET`` — never DATA, so nothing is ever sent. Both domains are RFC 2606 ``.example`` names that cannot
receive mail. A 2xx reply to that RCPT means the server would relay anyone's mail: E, critical — open
relays are found and abused within hours and land the domain on every blocklist. A 5xx refusal: A.

Two outcomes cannot show either way and give no verdict for that server (documented in docs/mta.md):
MAIL FROM refused even for the null sender — the transaction ended before RCPT, often because the
scanner's address is blocklisted, which says nothing about what the server does for others; and a 4xx
reply to RCPT — a temporary refusal (greylisting, a deferred policy check) that a retry might turn into
acceptance — unless its text says relaying is denied: Postfix's default ``defer_unauth_destination``
answers ``454 4.7.1 Relay access denied`` on purpose, and a retry gets the same answer, so that is a
refusal (A).
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mta.base import Outcome, fold, judge, mta_not_graded
from mimawari.model import Category, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.mta import MTA, MtaObservation, MtaServer

RFC2505 = Reference("RFC 2505 §2 (no relaying)", "https://www.rfc-editor.org/rfc/rfc2505#section-2")
RFC5321_RELAY = Reference("RFC 5321 §3.6.1", "https://www.rfc-editor.org/rfc/rfc5321#section-3.6.1")

TITLE = Text("Open relay", "オープンリレー")

CLOSED = Text(
    "Every server refused to relay mail from an outside sender to an outside recipient: {servers}.",
    "すべてのサーバーが、外部の送信者から外部の宛先へのメールの中継を拒否しました: {servers}。",
)
OPEN = Text(
    "OPEN RELAY: these servers accepted a recipient outside the domain from an outside sender: {servers}. "
    "Anyone can send spam and phishing through them; the domain's servers will be blocklisted.",
    "オープンリレー: 次のサーバーが、外部の送信者からの外部宛先を受け付けました: {servers}。誰でもこれらを"
    "経由してスパムやフィッシングを送信でき、ドメインのサーバーはブロックリストに登録されます。",
)
FIX = Text(
    "Relay only for your own networks and authenticated users; reject other recipients outside your "
    "domains (Postfix shown; Exim and Exchange below):",
    "自組織のネットワークと認証済みユーザーにだけ中継を許可し、それ以外の自ドメイン外宛先は拒否してください"
    "（Postfix の例。Exim と Exchange も記載）:",
)
SNIPPET = """# /etc/postfix/main.cf
mynetworks = 127.0.0.0/8 [::1]/128
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
# then: postfix reload

# Exim: keep the default RCPT ACL rule
#   require message = relay not permitted
#           domains = +local_domains : +relay_to_domains
# and hostlist relay_from_hosts = localhost

# Exchange: find and remove anonymous relay permission
Get-ReceiveConnector | Get-ADPermission -User 'NT AUTHORITY\\ANONYMOUS LOGON' |
  Where-Object { $_.ExtendedRights -like 'ms-Exch-SMTP-Accept-Any-Recipient' }"""
UNTESTABLE = Text(
    "Could not be determined: {servers} refused the test transaction before RCPT, or answered it with a "
    "temporary error, so relaying could be shown neither way (see the evidence). This is not a finding.",
    "判定できませんでした（{servers} がテスト用のトランザクションを RCPT の前に拒否したか、一時エラーを返した"
    "ため、中継の可否を確認できませんでした。証拠を参照）。問題が見つかったという意味ではありません。",
)
EFFECT = Text(
    "The servers accept mail only for the domain's own recipients; no one can relay through them.",
    "サーバーは自ドメイン宛のメールだけを受け付け、誰も中継に利用できなくなります。",
)


def _judge(server: MtaServer) -> tuple[Grade, str]:
    session = server.session
    request = session.request
    mail, rcpt = session.relay_mail, session.relay_rcpt
    sender = f"MAIL FROM:{session.relay_sender or '<' + request.relay_from + '>'}"
    if mail is None:
        return Grade.UNKNOWN, f"the session ended before the relay test ({session.detail or 'no reply'})"
    if not mail.positive:
        return Grade.UNKNOWN, f"{sender} → {mail.describe()}: refused before RCPT, relaying not testable"
    conversation = f"{sender} → {mail.describe()}; RCPT TO:<{request.relay_to}> → "
    if rcpt is None:
        return Grade.UNKNOWN, conversation + f"no reply ({session.detail or 'session ended'})"
    conversation += f"{rcpt.describe()}; RSET"
    if rcpt.positive:
        return Grade.E, conversation
    if 400 <= rcpt.code < 500 and not _relay_denied(rcpt.text):
        return Grade.UNKNOWN, conversation + " (temporary refusal: relaying not shown either way)"
    return Grade.A, conversation


def _relay_denied(text: str) -> bool:
    words = text.lower()
    return "relay" in words and any(w in words for w in ("denied", "not permitted", "not allowed"))


def evaluate(observation: MtaObservation) -> Verdict:
    early = mta_not_graded(observation)
    if early is not None:
        return early
    outcome = Outcome(
        {Grade.A: CLOSED, Grade.E: OPEN},
        Fix(FIX, SNIPPET),
        EFFECT,
        {Grade.E: Severity.CRITICAL},
        unknown=UNTESTABLE,
    )
    return fold(judge(observation, _judge), outcome)


CHECK = Check(
    id="email.mta.open_relay",
    category=Category.EMAIL_MTA,
    severity=Severity.CRITICAL,
    title=TITLE,
    references=(RFC2505, RFC5321_RELAY),
    observer=MTA,
    evaluate=evaluate,
)

"""Texts and fixes of the shared TLS verdicts (``tls_grading``), in English and Japanese.

Summaries are keyed by the reason an endpoint got its grade (``good``, ``phase_out``, ``name`` …) and take
{hosts}, {facts} and {count}; ``effect`` is the after-fix text. Fixes are the settings to copy, for the
software the failing endpoints run: Postfix for SMTP (port 25 and submission), Dovecot for IMAP and POP3.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mimawari.model import Fix, Text

Texts = Mapping[str, Text]


@dataclass(frozen=True)
class FixScope:
    """What a fix is for: the reasons of the endpoints below A, and their hosts by software."""

    reasons: frozenset[str]
    smtp_hosts: tuple[str, ...] = ()
    mailbox_hosts: tuple[str, ...] = ()


NO_TLS = Text(
    "No server offers TLS (STARTTLS is not offered), so there is nothing to grade here; the STARTTLS check "
    "grades that.",
    "どのサーバーも TLS を提供していない（STARTTLS が提供されていない）ため、ここでの評価対象はありません。"
    "STARTTLS の有無は STARTTLS のチェックで評価します。",
)
TIMED_OUT = Text(
    "Could not be graded: {hosts} gave no answer within the timeout. This does not mean that TLS is "
    "missing; scan again.",
    "評価できませんでした: {hosts} からタイムアウト時間内に応答がありませんでした。TLS が提供されていないという"
    "意味ではありません。再度スキャンしてください。",
)
UNEXAMINED = Text(
    "Could not be graded: the TLS of {hosts} could not be examined ({facts}). Scan again.",
    "評価できませんでした: {hosts} の TLS を調べられませんでした（{facts}）。再度スキャンしてください。",
)
FURTHER = Text(
    "There are further problems: see the evidence.",
    "ほかにも問題があります（証拠を参照してください）。",
)
PARTLY = Text(
    "Not graded, for want of a usable answer: {hosts}.",
    "有効な応答がなく評価できなかったサーバー: {hosts}。",
)

VERSION_TEXTS: Texts = {
    "good": Text(
        "All {count} server(s) accept only TLS versions NCSC-NL rates good or sufficient ({facts}).",
        "{count} 台すべてのサーバーが、NCSC-NL が「良好」または「十分」とする TLS バージョン（{facts}）のみを"
        "受け付けています。",
    ),
    "no_tls13": Text(
        "At {hosts}, TLS 1.3, the only version NCSC-NL rates good, is not offered; TLS 1.2 alone is "
        "sufficient but less future-proof.",
        "{hosts} は NCSC-NL が唯一「良好」とする TLS 1.3 に対応していません。TLS 1.2 のみでも「十分」ですが、"
        "将来性に劣ります。",
    ),
    "phase_out": Text(
        "At {hosts}, versions NCSC-NL rates phase-out are still accepted: {facts}. They are fragile; switch "
        "them off.",
        "{hosts} は NCSC-NL が「段階的廃止」とする {facts} をまだ受け付けています。無効にすべき脆弱なバージョン"
        "です。",
    ),
    "insufficient": Text(
        "At {hosts}, broken versions (POODLE, DROWN) that NCSC-NL rates insufficient are accepted: {facts}.",
        "{hosts} は、破られている（POODLE、DROWN）ため NCSC-NL が「不十分」とする {facts} を受け付けています。",
    ),
    "effect": Text(
        "Only TLS 1.2 and 1.3 are negotiated: no downgrade to broken or fragile versions.",
        "TLS 1.2 と 1.3 だけが使われ、脆弱なバージョンへのダウングレードができなくなります。",
    ),
}
CIPHER_TEXTS: Texts = {
    "good": Text(
        "All {count} server(s) accept only cipher suites NCSC-NL rates good or sufficient.",
        "{count} 台すべてのサーバーが、NCSC-NL が「良好」または「十分」とする暗号スイートのみを受け付けています。",
    ),
    "order": Text(
        "At {hosts}, cipher suites of different NCSC-NL levels are accepted and the client chooses among "
        "them; the server should prefer the better ones (guideline B2-5).",
        "{hosts} は NCSC-NL の評価が異なる暗号スイートを受け付け、その選択をクライアントに任せています。サーバー"
        "側で良い方を優先すべきです（ガイドライン B2-5）。",
    ),
    "phase_out": Text(
        "At {hosts}, cipher suites NCSC-NL rates phase-out are accepted: {facts}.",
        "{hosts} は NCSC-NL が「段階的廃止」とする暗号スイートを受け付けています: {facts}。",
    ),
    "phase_out_unordered": Text(
        "At {hosts}, cipher suites NCSC-NL rates phase-out are accepted ({facts}), and the client may pick "
        "them over better ones.",
        "{hosts} は NCSC-NL が「段階的廃止」とする暗号スイート（{facts}）を受け付け、より良いスイートより優先して"
        "選ぶことをクライアントに許しています。",
    ),
    "insufficient": Text(
        "At {hosts}, cipher suites NCSC-NL rates insufficient (broken, or without authentication) are "
        "accepted: {facts}.",
        "{hosts} は NCSC-NL が「不十分」とする（破られている、または認証のない）暗号スイートを受け付けています: "
        "{facts}。",
    ),
    "effect": Text(
        "Only suites with forward secrecy and authenticated encryption are negotiated, in the server's order.",
        "前方秘匿性と認証付き暗号を備えたスイートだけが、サーバーの優先順で使われます。",
    ),
}
KEX_TEXTS: Texts = {
    "good": Text(
        "All {count} server(s) agree keys with groups NCSC-NL rates good or sufficient.",
        "{count} 台すべてのサーバーが、NCSC-NL が「良好」または「十分」とするグループで鍵を共有しています。",
    ),
    "phase_out": Text(
        "At {hosts}, key exchange groups NCSC-NL rates phase-out are accepted: {facts}.",
        "{hosts} は NCSC-NL が「段階的廃止」とする鍵交換グループを受け付けています: {facts}。",
    ),
    "insufficient": Text(
        "At {hosts}, key exchange groups NCSC-NL rates insufficient are accepted: {facts}.",
        "{hosts} は NCSC-NL が「不十分」とする鍵交換グループを受け付けています: {facts}。",
    ),
    "dhe_unseen": Text(
        "At {hosts}, keys are agreed only with finite-field Diffie-Hellman (DHE), not ECDHE, and the size of "
        "the DH group could not be seen (NCSC-NL: sufficient from 3072 bits).",
        "{hosts} は ECDHE を使わず有限体 Diffie-Hellman（DHE）のみで鍵を共有しており、DH グループの大きさを確認"
        "できませんでした（NCSC-NL では 3072 ビット以上で「十分」）。",
    ),
    "no_fs": Text(
        "At {hosts}, there is no forward secrecy: session keys travel encrypted with the server's RSA key, so "
        "whoever obtains that key later can decrypt recorded mail.",
        "{hosts} は前方秘匿性を提供していません。セッション鍵がサーバーの RSA 鍵で暗号化されて送られるため、後で"
        "その鍵を入手した者は記録されたメールを復号できます。",
    ),
    "effect": Text(
        "Keys are agreed with ECDHE over X25519 or the NIST curves: forward secrecy with good groups.",
        "X25519 や NIST 曲線による ECDHE で鍵が共有され、良好なグループで前方秘匿性が得られます。",
    ),
}
_REFUSED = " Clients that verify certificates refuse the connection."
_REFUSED_JA = "証明書を検証するクライアントは接続を拒否します。"
CERTIFICATE_TEXTS: Texts = {
    "good": Text(
        "The certificates of all {count} server(s) are trusted, name their host and are in date.",
        "{count} 台すべてのサーバーの証明書が信頼でき、ホスト名が一致し、有効期間内です。",
    ),
    "renew": Text(
        "The certificate of {hosts} expires soon ({facts}): renew it now.",
        "{hosts} の証明書はまもなく期限切れになります（{facts}）。今すぐ更新してください。",
    ),
    "expiring": Text(
        "The certificate of {hosts} is about to expire ({facts}): its renewal has evidently failed.",
        "{hosts} の証明書は期限切れ直前です（{facts}）。更新が失敗しているとみられます。",
    ),
    "expired": Text(
        "The certificate of {hosts} expired on {facts}." + _REFUSED,
        "{hosts} の証明書は {facts} に期限切れになっています。" + _REFUSED_JA,
    ),
    "not_yet_valid": Text(
        "The certificate of {hosts} is not valid until {facts}." + _REFUSED,
        "{hosts} の証明書は {facts} まで有効になりません。" + _REFUSED_JA,
    ),
    "name": Text(
        "The certificate of {hosts} does not name the host, only: {facts}." + _REFUSED,
        "{hosts} の証明書にはホスト名が含まれず、次の名前のみです: {facts}。" + _REFUSED_JA,
    ),
    "self_signed": Text(
        "At {hosts}, the certificate is self-signed ({facts})." + _REFUSED,
        "{hosts} は自己署名証明書を提示しています（{facts}）。" + _REFUSED_JA,
    ),
    "chain": Text(
        "The certificate chain of {hosts} does not lead to a trusted root ({facts}); a missing intermediate "
        "certificate is the usual cause." + _REFUSED,
        "{hosts} の証明書チェーンが信頼されたルートにつながりません（{facts}）。中間証明書の欠落がよくある原因"
        "です。" + _REFUSED_JA,
    ),
    "unreadable": Text(
        "The certificate of {hosts} cannot be used ({facts})." + _REFUSED,
        "{hosts} の証明書を利用できません（{facts}）。" + _REFUSED_JA,
    ),
    "effect": Text(
        "Senders that verify (MTA-STS, DANE) and mail clients accept the certificate, and it renews itself.",
        "検証を行う送信側（MTA-STS、DANE）とメールクライアントが証明書を受け入れ、更新も自動で行われます。",
    ),
}
KEY_TEXTS: Texts = {
    "good": Text(
        "The certificate keys and signatures of all {count} server(s) are rated good or sufficient by NCSC-NL.",
        "{count} 台すべてのサーバーの証明書の鍵と署名は、NCSC-NL で「良好」または「十分」です。",
    ),
    "phase_out": Text(
        "The certificate of {hosts} has a key or signature NCSC-NL rates phase-out: {facts}.",
        "{hosts} の証明書の鍵または署名は NCSC-NL で「段階的廃止」です: {facts}。",
    ),
    "insufficient": Text(
        "The certificate of {hosts} has a key or signature NCSC-NL rates insufficient, open to forgery: "
        "{facts}.",
        "{hosts} の証明書の鍵または署名は NCSC-NL で「不十分」で、偽造されるおそれがあります: {facts}。",
    ),
    "effect": Text(
        "The certificate's key and signature stay strong for years to come.",
        "証明書の鍵と署名が今後も長く十分な強度を保ちます。",
    ),
}

MOZILLA_INTERMEDIATE = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
)
"""Mozilla's "intermediate" TLS 1.2 list: every suite in it is Sufficient for NCSC-NL."""
POSTFIX = "# /etc/postfix/main.cf (then: postfix reload)"
DOVECOT = "# /etc/dovecot/conf.d/10-ssl.conf (then: doveadm reload)"
POSTFIX_CIPHERS = f"smtpd_tls_ciphers = high\nsmtpd_tls_mandatory_ciphers = high\ntls_high_cipherlist = {MOZILLA_INTERMEDIATE}"
DOVECOT_CIPHERS = f"ssl_cipher_list = {MOZILLA_INTERMEDIATE}"

Snippet = Callable[[tuple[str, ...]], str]
"""The settings for one kind of server, given the host names concerned."""


def _fix(action: Text, scope: FixScope, postfix: Snippet, dovecot: Snippet) -> Fix:
    parts = []
    if scope.smtp_hosts:
        parts.append(postfix(scope.smtp_hosts))
    if scope.mailbox_hosts:
        parts.append(dovecot(scope.mailbox_hosts))
    return Fix(action, "\n\n".join(parts))


def version_fix(scope: FixScope) -> Fix:
    action = Text(
        "Enable TLS 1.3: run Postfix ≥ 3.4 or Dovecot ≥ 2.3 with OpenSSL ≥ 1.1.1, with no setting that caps "
        "the version:",
        "TLS 1.3 を有効にしてください。OpenSSL 1.1.1 以降で動く Postfix 3.4 以降または Dovecot 2.3 以降を使い、"
        "バージョンの上限を設定しないでください:",
    )
    if scope.reasons & {"phase_out", "insufficient"}:
        action = Text("Accept TLS 1.2 and 1.3 only:", "TLS 1.2 と 1.3 のみを受け付けるよう設定してください:")
    postfix = (
        f"{POSTFIX}\nsmtpd_tls_protocols = >=TLSv1.2\nsmtpd_tls_mandatory_protocols = >=TLSv1.2\n"
        "# Postfix before 3.6: smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1"
    )
    return _fix(action, scope, lambda _: postfix, lambda _: f"{DOVECOT}\nssl_min_protocol = TLSv1.2")


def cipher_fix(scope: FixScope) -> Fix:
    action = Text(
        "Accept only suites with ECDHE or DHE and AES-GCM or ChaCha20-Poly1305 (TLS 1.3 suites stay as "
        "OpenSSL sets them), chosen in the server's order:",
        "ECDHE または DHE と AES-GCM または ChaCha20-Poly1305 を使うスイートのみを受け付け（TLS 1.3 のスイートは"
        "OpenSSL の既定のまま）、サーバーの優先順で選ぶよう設定してください:",
    )
    postfix = f"{POSTFIX}\n{POSTFIX_CIPHERS}\ntls_preempt_cipherlist = yes"
    dovecot = f"{DOVECOT}\n{DOVECOT_CIPHERS}\nssl_prefer_server_ciphers = yes"
    return _fix(action, scope, lambda _: postfix, lambda _: dovecot)


def kex_fix(scope: FixScope) -> Fix:
    action = Text(
        "Offer ECDHE with X25519 and the NIST curves, and DHE only with groups of 3072 bits or more:",
        "X25519 と NIST 曲線による ECDHE を提供し、DHE は 3072 ビット以上のグループのみにしてください:",
    )
    postfix = [
        POSTFIX,
        "smtpd_tls_eecdh_grade = auto",
        "tls_eecdh_auto_curves = X25519 X448 prime256v1 secp384r1 secp521r1",
        "# Postfix 3.8 and later:",
        "tls_ffdhe_auto_groups = ffdhe3072 ffdhe4096",
    ]
    dovecot = [
        DOVECOT,
        "ssl_curve_list = X25519:X448:P-256:P-384:P-521",
        "# openssl dhparam -out /etc/dovecot/dh.pem 3072",
        "ssl_dh = </etc/dovecot/dh.pem",
    ]
    if scope.reasons & {"no_fs", "dhe_unseen"}:
        # Without ECDHE suites there is no curve to choose: the suites come first.
        postfix.append(POSTFIX_CIPHERS)
        dovecot.append(DOVECOT_CIPHERS)
    return _fix(action, scope, lambda _: "\n".join(postfix), lambda _: "\n".join(dovecot))


def _certbot(hosts: tuple[str, ...], service: str, extra: str = "") -> str:
    names = " ".join(f"-d {host}" for host in hosts)
    return f'certbot certonly --standalone{extra} {names} --deploy-hook "systemctl reload {service}"'


def certificate_fix(scope: FixScope) -> Fix:
    if scope.reasons <= {"renew", "expiring"}:
        action = Text(
            "Renew the certificate now and check that renewal runs by itself (systemctl list-timers certbot):",
            "証明書を今すぐ更新し、自動更新が動いていることを確認してください（systemctl list-timers certbot）:",
        )
        renew = 'certbot renew --cert-name {} --deploy-hook "systemctl reload {}"'
        return _fix(
            action, scope, lambda h: renew.format(h[0], "postfix"), lambda h: renew.format(h[0], "dovecot")
        )
    action = Text(
        "Get a certificate from a public CA that names each host, serve it with its full chain, and let "
        "certbot renew it and reload the server (--standalone answers on port 80; use --webroot or a DNS "
        "plugin if a web server runs there):",
        "各ホスト名を含む公的認証局の証明書を取得してチェーン全体とともに設定し、certbot に更新とサーバーの"
        "再読み込みを任せてください（--standalone はポート 80 で応答します。Web サーバーがある場合は --webroot "
        "か DNS プラグインを使ってください）:",
    )

    def postfix(hosts: tuple[str, ...]) -> str:
        live = f"/etc/letsencrypt/live/{hosts[0]}"
        chain = f"smtpd_tls_chain_files = {live}/privkey.pem, {live}/fullchain.pem"
        return f"{_certbot(hosts, 'postfix')}\n{POSTFIX}\n{chain}"

    def dovecot(hosts: tuple[str, ...]) -> str:
        live = f"/etc/letsencrypt/live/{hosts[0]}"
        files = f"ssl_cert = <{live}/fullchain.pem\nssl_key = <{live}/privkey.pem"
        return f"{_certbot(hosts, 'dovecot')}\n{DOVECOT}\n{files}"

    return _fix(action, scope, postfix, dovecot)


def key_fix(scope: FixScope) -> Fix:
    action = Text(
        "Get a new certificate with an ECDSA P-256 key (or RSA of 3072 bits or more) signed with SHA-256; if "
        "you publish TLSA records (DANE), publish the new key's record first:",
        "ECDSA P-256 鍵（または 3072 ビット以上の RSA 鍵）で SHA-256 署名の新しい証明書を取得してください。TLSA "
        "レコード（DANE）を公開している場合は、先に新しい鍵のレコードを公開してください:",
    )
    # certbot asks for --cert-name with --key-type to confirm a key type change of an existing lineage.
    extra = " --key-type ecdsa --elliptic-curve secp256r1 --force-renewal --cert-name {}"
    return _fix(
        action,
        scope,
        lambda hosts: _certbot(hosts, "postfix", extra.format(hosts[0])),
        lambda hosts: _certbot(hosts, "dovecot", extra.format(hosts[0])),
    )

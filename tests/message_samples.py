"""Sample messages for the message checks and the sender-requirement matrix: real RSA keys, real DKIM
signatures (dkimpy's own signing code, so ``x=`` and oversigning can be chosen), and a lab world that
publishes the keys, SPF, DMARC and reverse DNS.

The world (``world_yaml``):

* ``shop.test`` — the sender: key ``s2026._domainkey``, SPF ``ip4:203.0.113.25 -all``, DMARC
  ``p=reject``; ``203.0.113.25`` has the PTR ``mail.shop.test``, which leads back to it (FCrDNS);
* ``esp.test`` — a third-party sender: key ``esp._domainkey``, SPF ``ip4:198.51.100.7``; that address's
  PTR ``out.esp.test`` leads elsewhere (not forward-confirmed);
* ``203.0.113.99`` — no PTR at all; ``slow._domainkey.shop.test`` — never answered (a timeout).
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass
from functools import cache

import dkim  # type: ignore[import-untyped]
import dkim.crypto  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mimawari.model import SampleMessage, Target

SHOP = "shop.test"
SELECTOR = "s2026"
ESP = "esp.test"
ESP_SELECTOR = "esp"
SHOP_IP = "203.0.113.25"
ESP_IP = "198.51.100.7"
NO_PTR_IP = "203.0.113.99"
SLOW_SELECTOR = "slow"
"""Its key name is dropped by the lab: the key lookup times out."""
SIGNED_AT = 1_775_000_000
UNSUBSCRIBE_URL = "https://shop.test/u/8f2a"
EXPIRES = SIGNED_AT + 365 * 86400
DEFAULT_HEADERS = ("from", "to", "subject", "date", "message-id", "mime-version", "content-type")


@dataclass(frozen=True)
class SigningKey:
    private_pem: bytes
    public_p: str
    """The base64 SubjectPublicKeyInfo to publish as ``p=``."""
    bits: int

    @property
    def record(self) -> str:
        return f"v=DKIM1; k=rsa; p={self.public_p}"


@cache
def signing_key(bits: int = 2048, label: str = "") -> SigningKey:
    """An RSA key (made once per size and label in a test run)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return SigningKey(pem, base64.b64encode(spki).decode(), bits)


def message(
    *,
    from_addr: str = f"Shop <news@{SHOP}>",
    to: str = "user@example.test",
    subject: str = "Spring sale",
    unsubscribe: bool = True,
    one_click: bool = True,
    visible_link: bool = True,
    extra_headers: tuple[str, ...] = (),
) -> bytes:
    """An unsigned newsletter (multipart text + HTML, CRLF line endings)."""
    lines = [
        f"From: {from_addr}",
        f"To: {to}",
        f"Subject: {subject}",
        "Date: Tue, 31 Mar 2026 09:00:00 +0900",
        f"Message-ID: <20260331090000.1@{SHOP}>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/alternative; boundary="b1"',
    ]
    if unsubscribe:
        lines.append(f"List-Unsubscribe: <{UNSUBSCRIBE_URL}>, <mailto:unsub@{SHOP}?subject=u8f2a>")
        if one_click:
            lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    lines.extend(extra_headers)
    footer_text = f"To stop these mails: {UNSUBSCRIBE_URL}" if visible_link else "Thank you for reading."
    footer_html = f'<a href="{UNSUBSCRIBE_URL}">配信停止</a>' if visible_link else "<p>Thank you.</p>"
    body = [
        "",
        "--b1",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "New arrivals this week.",
        footer_text,
        "--b1",
        "Content-Type: text/html; charset=utf-8",
        "",
        f"<html><body><p>New arrivals this week.</p>{footer_html}</body></html>",
        "--b1--",
        "",
    ]
    return "\r\n".join(lines + body).encode()


def sign(
    raw: bytes,
    key: SigningKey,
    domain: str,
    selector: str,
    *,
    length: bool = False,
    expires: int | None = None,
    oversign: bool = False,
    headers: tuple[str, ...] | None = None,
) -> bytes:
    """``raw`` with a DKIM-Signature on top (rsa-sha256, relaxed/relaxed).

    ``headers`` default: the usual fields plus the unsubscribe pair when present; ``oversign`` lists
    each once more than it occurs (RFC 6376 §8.15); ``length`` adds ``l=``; ``expires`` adds ``x=``.
    """
    signer = dkim.DKIM(raw)
    signer.signature_algorithm = b"rsa-sha256"
    signer.hasher = hashlib.sha256
    present = [name.decode().lower() for name, _value in signer.headers]
    names = list(headers or DEFAULT_HEADERS)
    if headers is None:
        names += [n for n in ("list-unsubscribe", "list-unsubscribe-post") if n in present]
    include: list[str] = []
    for name in names:
        include += [name] * max(present.count(name) + (1 if oversign else 0), 1)
    canon = dkim.CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
    body = canon.canonicalize_body(signer.body)
    fields = [
        (b"v", b"1"),
        (b"a", b"rsa-sha256"),
        (b"c", b"relaxed/relaxed"),
        (b"d", domain.encode()),
        (b"s", selector.encode()),
        (b"t", str(SIGNED_AT).encode()),
    ]
    if expires is not None:
        fields.append((b"x", str(expires).encode()))
    if length:
        fields.append((b"l", str(len(body)).encode()))
    fields += [
        (b"h", b" : ".join(n.encode() for n in include)),
        (b"bh", base64.b64encode(hashlib.sha256(body).digest())),
        (b"b", b"0" * 60),
    ]
    private = dkim.crypto.parse_pem_private_key(key.private_pem)
    encoded = [n.encode() for n in include]
    value: bytes = signer.gen_header(fields, encoded, canon, b"DKIM-Signature", private)
    return b"DKIM-Signature: " + value + raw


def received(raw: bytes, ip: str, helo: str = f"mail.{SHOP}", *, tls: bool = True) -> bytes:
    """``raw`` with the Received field the receiving MX adds on top."""
    protocol = "ESMTPS id 4ZqK1 (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384)" if tls else "ESMTP id 4ZqK1"
    line = (
        f"Received: from {helo} ({helo} [{ip}])\r\n        by mx.example.test with {protocol};\r\n"
        "        Tue, 31 Mar 2026 00:00:01 +0000\r\n"
    )
    return line.encode() + raw


def signed_message(
    key: SigningKey | None = None,
    domain: str = SHOP,
    selector: str = SELECTOR,
    *,
    l: bool = False,  # noqa: E741 — the DKIM tag's name
    x: int | None = EXPIRES,
    oversign: bool = True,
    headers: tuple[str, ...] | None = None,
    ip: str | None = SHOP_IP,
    helo: str = f"mail.{SHOP}",
    tls: bool = True,
    return_path: str | None = f"bounce@{SHOP}",
    **options: object,
) -> bytes:
    """A newsletter signed by ``domain``/``selector`` (``x=`` one year after signing; None: no ``x=``),
    with Return-Path and the receiving MX's Received field (none when ``ip`` is None). ``options`` go to
    ``message``."""
    raw = message(**options)  # type: ignore[arg-type]
    signed = sign(
        raw,
        key or signing_key(),
        domain,
        selector,
        length=l,
        expires=x,
        oversign=oversign,
        headers=headers,
    )
    if return_path is not None:
        signed = f"Return-Path: <{return_path}>\r\n".encode() + signed
    return received(signed, ip, helo, tls=tls) if ip is not None else signed


def sample_target(raw: bytes, domain: str = SHOP, **given: str) -> Target:
    """A scan target carrying ``raw`` as its sample message (``sending_ip=…``, ``envelope_from=…``)."""
    return Target(
        domain, sample_message=SampleMessage.of("sample.eml", raw, **given), observed_at=int(time.time())
    )


def world_yaml(
    shop_key: SigningKey | None = None, esp_key: SigningKey | None = None, *, extra: str = ""
) -> str:
    """The lab world of the module docstring; ``extra`` is appended under ``zones:``'s siblings' level
    (more zones, indented by two spaces)."""
    shop, esp = shop_key or signing_key(), esp_key or signing_key(2048, "esp")
    return f"""
zones:
  {SHOP}:
    records:
      "@":
        TXT: v=spf1 ip4:{SHOP_IP} -all
        MX: 10 mx.{SHOP}.
      mx: {{A: {SHOP_IP}}}
      mail: {{A: {SHOP_IP}}}
      _dmarc: {{TXT: "v=DMARC1; p=reject; rua=mailto:dmarc@{SHOP}"}}
      {SELECTOR}._domainkey: {{TXT: "{shop.record}"}}
      {SLOW_SELECTOR}._domainkey: {{TXT: "{shop.record}"}}
  {ESP}:
    records:
      "@": {{TXT: v=spf1 ip4:{ESP_IP} -all}}
      bounce: {{TXT: v=spf1 ip4:{ESP_IP} -all}}
      out: {{A: 192.0.2.200}}
      {ESP_SELECTOR}._domainkey: {{TXT: "{esp.record}"}}
  113.0.203.in-addr.arpa:
    records:
      "25": {{PTR: mail.{SHOP}.}}
  100.51.198.in-addr.arpa:
    records:
      "7": {{PTR: out.{ESP}.}}
{extra}
behaviour:
  {SLOW_SELECTOR}._domainkey.{SHOP}: drop
"""

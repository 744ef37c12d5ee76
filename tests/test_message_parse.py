"""The pure message parser: structure problems, identities, unsubscribe fields, DKIM tags, Received hops —
and that no input, however broken, makes it raise."""

from __future__ import annotations

import random

import pytest

from mimawari.parse import message as message_module
from mimawari.parse.dkim_signature import parse_dkim_signature, replay_risk
from mimawari.parse.message import ParsedMessage, parse_message
from mimawari.parse.message_body import parse_list_unsubscribe
from mimawari.parse.message_received import last_external_hop, parse_received
from tests.message_samples import SHOP, SHOP_IP, UNSUBSCRIBE_URL, message, signed_message


def problems(parsed: ParsedMessage) -> list[str]:
    return [p.text for p in parsed.problems]


def serious(parsed: ParsedMessage) -> list[str]:
    return [p.text for p in parsed.problems if p.serious]


def test_a_signed_newsletter_is_read_completely() -> None:
    parsed = parse_message(signed_message())
    assert problems(parsed) == [] and parsed.notes == ()
    assert parsed.from_addresses == (f"news@{SHOP}",) and parsed.from_domain == SHOP
    assert parsed.date == "2026-03-31T09:00:00+09:00"
    assert parsed.message_id == f"<20260331090000.1@{SHOP}>"
    assert parsed.return_path == f"bounce@{SHOP}"
    assert parsed.unsubscribe.https == (UNSUBSCRIBE_URL,)
    assert parsed.unsubscribe.mailto == (f"mailto:unsub@{SHOP}?subject=u8f2a",)
    assert parsed.unsubscribe.one_click_fields
    assert parsed.visible_unsubscribe == (
        f"text/plain: the List-Unsubscribe URL {UNSUBSCRIBE_URL}",
        f"text/html: the List-Unsubscribe URL {UNSUBSCRIBE_URL}",
    )
    (facts,) = parsed.signatures
    signature = facts.signature
    assert (signature.domain, signature.selector, signature.algorithm) == (SHOP, "s2026", "rsa-sha256")
    assert (
        signature.canonicalization == "relaxed/relaxed" and signature.key_name == f"s2026._domainkey.{SHOP}"
    )
    assert signature.timestamp == 1_775_000_000 and signature.expires is not None
    assert signature.signs("from") == 2 and signature.signs("list-unsubscribe-post") == 2
    assert not facts.replay.risky
    hop = parsed.last_hop
    assert hop is not None and hop.tls and hop.from_ip == SHOP_IP and hop.from_name == f"mail.{SHOP}"
    assert hop.tls_detail == "with ESMTPS (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384)"
    assert not parsed.arc.present


def test_replay_facts_of_a_weak_signature() -> None:
    parsed = parse_message(signed_message(l=True, x=None, oversign=False))
    replay = parsed.signatures[0].replay
    assert replay.body_length is not None and replay.body_length > 100
    assert replay.expires is None
    assert replay.not_oversigned == (
        "from",
        "to",
        "subject",
        "date",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "content-type",
    )
    assert replay.unsigned == ()
    fewer = parse_message(signed_message(headers=("from", "date"), oversign=False))
    assert fewer.signatures[0].replay.unsigned == (
        "to", "subject", "list-unsubscribe", "list-unsubscribe-post", "content-type",
    )  # fmt: skip


def test_malformed_signatures_say_why() -> None:
    missing = parse_dkim_signature(0, "v=1; a=rsa-sha256; d=shop.test; h=from")
    assert "no b= tag (RFC 6376 §3.5)" in missing.problems and "no s= tag (RFC 6376 §3.5)" in missing.problems
    twice = parse_dkim_signature(0, "v=1; a=rsa-sha256; d=a.test; d=b.test; s=x; h=from; bh=AA==; b=AA==")
    assert any("d= appears twice" in p for p in twice.problems)
    elsewhere = parse_dkim_signature(
        0, "v=1; a=rsa-sha256; d=a.test; i=@b.test; s=x; h=from; bh=AA==; b=AA=="
    )
    assert elsewhere.problems == ("i=@b.test: not in d=a.test or a subdomain (RFC 6376 §3.5)",)
    no_from = parse_dkim_signature(0, "v=1; a=rsa-sha256; d=a.test; s=x; h=to:subject; bh=AA==; b=AA==; l=x1")
    assert "h= does not list From, which must be signed (RFC 6376 §5.4)" in no_from.problems
    assert "l=x1 is not a decimal number (RFC 6376 §3.5)" in no_from.problems
    good = parse_dkim_signature(0, "v=1; a=rsa-sha256; d=A.Test; s=Sel; h=From : To; bh=AA==; b=AA==; l=10")
    assert good.well_formed and good.domain == "a.test" and good.selector == "sel"
    assert replay_risk(good, {"from": 1, "to": 1}).body_length == 10


BROKEN_CASES = [
    (b"From: a@shop.test\r\nFrom: b@shop.test\r\n", "2 From fields: exactly one is required (RFC 5322 §3.6)"),
    (b"From: a@shop.test, b@shop.test\r\n", "From holds 2 addresses"),
    (b"From: nobody\r\n", "From address 'nobody' has no valid domain"),
    (b"From: <>\r\n", "From holds 0 addresses"),
    (b"From: a@shop\r\n", "From address 'a@shop' has no valid domain"),
    (b"Subject: x\r\n", "0 From fields"),
    (b"From: a@shop.test\r\nthis line has no colon\r\n", "line 2 is not a header field (no colon)"),
    (b" folded first\r\nFrom: a@shop.test\r\n", "line 1 continues a header field"),
    (b"From: a@shop.test\r\nSubject: caf\xe9\r\n", "8-bit bytes that are not UTF-8"),
    (b"From: a@shop.test\r\nSubject: a\rb\r\n", "1 lines hold a bare CR"),
]


@pytest.mark.parametrize(("header", "expected"), BROKEN_CASES)
def test_serious_structure_problems(header: bytes, expected: str) -> None:
    base = b"Date: Tue, 31 Mar 2026 09:00:00 +0900\r\nMessage-ID: <1@shop.test>\r\n"
    parsed = parse_message(header + base + b"\r\nbody\r\n")
    assert any(expected in text for text in serious(parsed)), problems(parsed)


def test_lesser_structure_problems() -> None:
    raw = (
        b"From: a@shop.test\r\nDate: yesterday\r\nSubject: one\r\nSubject: two\r\nMessage-ID: no-brackets\r\n"
        b"X-Long: " + b"x" * 1000 + b"\r\n\r\nbody\nmore\r\n"
    )
    parsed = parse_message(raw)
    assert serious(parsed) == ["Date 'yesterday' is not an RFC 5322 §3.3 date"]
    minor = [p.text for p in parsed.problems if not p.serious]
    assert minor == [
        "1 lines end in a bare LF among CRLF lines: CR and LF must come as a pair (RFC 5322 §2.2)",
        "1 lines are longer than 998 characters (first: line 6; RFC 5322 §2.1.1) — servers may break them",
        "2 Subject fields: at most one is allowed",
        "Message-ID 'no-brackets' is not <left@right> (RFC 5322 §3.6.4)",
    ]
    no_id = parse_message(b"From: a@shop.test\nDate: Tue, 31 Mar 2026 09:00:00 +0900\n\nbody\n")
    assert [p.text for p in no_id.problems] == [
        "no Message-ID field (RFC 5322 §3.6.4 SHOULD; Gmail requires it of bulk senders)"
    ]
    assert no_id.notes == ("lines end in LF, not CRLF: usual for a saved file, read as CRLF",)


def test_utf8_headers_are_a_note_and_an_idn_from_domain_is_converted() -> None:
    raw = "From: 店 <news@例え.jp>\r\nDate: Tue, 31 Mar 2026 09:00:00 +0900\r\nMessage-ID: <1@x.jp>\r\n\r\nb\r\n"
    parsed = parse_message(raw.encode())
    assert problems(parsed) == [] and parsed.utf8_headers
    assert parsed.from_domain == "xn--r8jz45g.jp"


def test_truncated_and_empty_and_garbage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(message_module, "MAX_MESSAGE_BYTES", 500)
    parsed = parse_message(signed_message())
    assert parsed.truncated and "only that much was read" in problems(parsed)[0]
    assert serious(parse_message(b"")) == [
        "the message is empty",
        "0 From fields: exactly one is required (RFC 5322 §3.6)",
        "0 Date fields: exactly one is required (RFC 5322 §3.6)",
    ]
    garbage = parse_message(bytes(range(256)) * 40)
    assert garbage.from_domain == "" and serious(garbage)


def test_random_damage_never_raises() -> None:
    rng = random.Random(8058)
    original = signed_message()
    for _ in range(300):
        damaged = bytearray(original)
        for _ in range(rng.randint(1, 20)):
            position = rng.randrange(len(damaged))
            action = rng.random()
            if action < 0.4:
                damaged[position] = rng.randrange(256)
            elif action < 0.7:
                del damaged[position : position + rng.randint(1, 40)]
            else:
                damaged[position:position] = rng.choice(
                    [b":", b"\r", b"\n", b"=?utf-8?b?", b"<", b"\x00", b" "]
                )
        parse_message(bytes(damaged))


def test_received_variants() -> None:
    postfix = parse_received(
        0,
        "from mail.shop.test (mail.shop.test [203.0.113.25]) (using TLSv1.3 with cipher "
        "TLS_AES_256_GCM_SHA384 (256/256 bits)) by mx.example.test (Postfix) with ESMTPS id 4Zq; "
        "Tue, 31 Mar 2026 00:00:01 +0000",
    )
    assert postfix.tls and postfix.tls_detail == "with ESMTPS (version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384)"
    assert (postfix.from_ip, postfix.by_name, postfix.protocol) == (SHOP_IP, "mx.example.test", "ESMTPS")
    microsoft = parse_received(
        0,
        "from EX1.shop.test (2001:db8::25) by EX2.example.test (2001:db8::1) with Microsoft SMTP Server "
        "(version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20; Tue, 31 Mar 2026",
    )
    assert microsoft.tls and microsoft.from_ip == "2001:db8::25" and microsoft.from_name == "ex1.shop.test"
    assert microsoft.tls_detail == "version=TLS1_2 cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
    plain = parse_received(0, "from relay.shop.test ([IPv6:2001:db8::9]) by mx.example.test with ESMTP; Tue")
    assert not plain.tls and plain.protocol_known and plain.from_ip == "2001:db8::9"
    unsaid = parse_received(0, "by localhost (mailbox); Tue, 31 Mar 2026")
    assert not unsaid.tls and not unsaid.protocol_known and unsaid.from_ip == ""
    internal = parse_received(0, "from mx.example.test ([10.0.0.5]) by store.example.test with LMTP; Tue")
    assert last_external_hop((internal, postfix)) == postfix
    assert last_external_hop((internal,)) == internal
    assert last_external_hop(()) is None


def test_list_unsubscribe_variants() -> None:
    http_only = parse_list_unsubscribe(("<http://shop.test/u>",), ("List-Unsubscribe=One-Click",))
    assert http_only.other == ("http://shop.test/u",) and not http_only.one_click_fields
    assert http_only.problems == (
        "List-Unsubscribe-Post needs an https URI in List-Unsubscribe (RFC 8058 §3.1)",
    )
    wrong_post = parse_list_unsubscribe(("<https://shop.test/u>",), ("One-Click",))
    assert not wrong_post.post_valid and "not exactly List-Unsubscribe=One-Click" in wrong_post.problems[0]
    orphan = parse_list_unsubscribe((), ("List-Unsubscribe=One-Click",))
    assert not orphan.present and orphan.problems == (
        "List-Unsubscribe-Post without List-Unsubscribe (RFC 8058 §3.1)",
    )
    no_uri = parse_list_unsubscribe(("unsubscribe@shop.test",), ())
    assert no_uri.problems == ("List-Unsubscribe 'unsubscribe@shop.test' holds no <URI> (RFC 2369 §2)",)


def test_visible_unsubscribe_in_japanese_and_in_escaped_html() -> None:
    body = "配信停止はこちら".encode("iso-2022-jp")
    raw = (
        b"From: a@shop.test\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n"
        b"Content-Transfer-Encoding: 7bit\r\n\r\n" + body + b"\r\n"
    )
    assert parse_message(raw).visible_unsubscribe == ("text/plain: the word '配信停止'",)
    url = "https://shop.test/u?a=1&b=2"
    html = f'<a href="{url.replace("&", "&amp;")}">here</a>'.encode()
    raw = f"From: a@shop.test\r\nList-Unsubscribe: <{url}>\r\nContent-Type: text/html\r\n\r\n".encode() + html
    assert parse_message(raw).visible_unsubscribe == (f"text/html: the List-Unsubscribe URL {url}",)
    assert parse_message(message(visible_link=False)).visible_unsubscribe == ()


def test_arc_sets_are_counted() -> None:
    arc = (
        b"ARC-Seal: i=2; a=rsa-sha256; cv=pass; d=list.test; s=a; b=AA==\r\n"
        b"ARC-Message-Signature: i=2; a=rsa-sha256; d=list.test; s=a; h=from; bh=AA==; b=AA==\r\n"
        b"ARC-Authentication-Results: i=2; list.test; dkim=pass\r\n"
        b"ARC-Seal: i=1; a=rsa-sha256; cv=none; d=fwd.test; s=a; b=AA==\r\n"
        b"ARC-Message-Signature: i=1; a=rsa-sha256; d=fwd.test; s=a; h=from; bh=AA==; b=AA==\r\n"
        b"ARC-Authentication-Results: i=1; fwd.test; spf=pass\r\n"
    )
    parsed = parse_message(arc + message())
    assert parsed.arc.instances == (1, 2) and parsed.arc.complete
    assert parsed.arc.chain_validation == ("pass", "none")
    half = parse_message(arc.split(b"ARC-Seal: i=1")[0] + message())
    assert half.arc.present and half.arc.instances == (2,) and not half.arc.complete

"""Unsubscribing: the ``List-Unsubscribe`` header pair and a visible link in the body.

Gmail and Yahoo require of bulk senders both a one-click unsubscribe and a clearly visible way to
unsubscribe in the message itself:

* RFC 2369 §3.2: ``List-Unsubscribe`` holds ``<URI>`` entries, separated by commas; ``mailto:`` and
  ``https:`` are what receivers act on.
* RFC 8058 §3.1: one-click needs ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` *and* an HTTPS
  URI in ``List-Unsubscribe`` (the receiver POSTs to it); §4: a valid DKIM signature must cover both
  fields — which only the message observation can tell, with the verified signatures.
* the visible link: the body's text or HTML parts show the unsubscribe URL, or an unsubscribe word
  (English or Japanese) near a link.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import html
import re
from dataclasses import dataclass

ONE_CLICK = "List-Unsubscribe=One-Click"
"""RFC 8058 §3.1: the only value of List-Unsubscribe-Post."""
MAX_PARTS = 50
MAX_TEXT = 2 * 1024 * 1024
"""Characters of each text part searched for an unsubscribe link."""
UNSUBSCRIBE_WORDS = (
    "unsubscribe",
    "opt out",
    "opt-out",
    "manage preferences",
    "email preferences",
    "配信停止",
    "配信解除",
    "購読解除",
    "購読停止",
    "登録解除",
    "配信を停止",
    "受信停止",
)
_URI = re.compile(r"<([^<>]*)>")


@dataclass(frozen=True)
class ListUnsubscribe:
    """The ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` fields (the first of each)."""

    value: str | None = None
    """The List-Unsubscribe value; None when the field is absent."""
    https: tuple[str, ...] = ()
    mailto: tuple[str, ...] = ()
    other: tuple[str, ...] = ()
    """URIs of other schemes (``http:`` among them, which RFC 8058 does not accept for one-click)."""
    post: str | None = None
    """The List-Unsubscribe-Post value; None when absent."""
    problems: tuple[str, ...] = ()

    @property
    def present(self) -> bool:
        return self.value is not None

    @property
    def post_valid(self) -> bool:
        return self.post is not None and self.post.strip() == ONE_CLICK

    @property
    def one_click_fields(self) -> bool:
        """Both fields as RFC 8058 §3.1 wants them (the DKIM coverage of §4 is checked elsewhere)."""
        return self.post_valid and bool(self.https)


def parse_list_unsubscribe(values: tuple[str, ...], posts: tuple[str, ...]) -> ListUnsubscribe:
    if not values:
        orphan = ("List-Unsubscribe-Post without List-Unsubscribe (RFC 8058 §3.1)",) if posts else ()
        return ListUnsubscribe(post=posts[0] if posts else None, problems=orphan)
    value = values[0]
    uris = tuple(uri.strip() for uri in _URI.findall(value) if uri.strip())
    problems: list[str] = []
    if not uris:
        problems.append(f"List-Unsubscribe {value[:80]!r} holds no <URI> (RFC 2369 §2)")
    https = tuple(u for u in uris if u.lower().startswith("https://") and len(u) > len("https://"))
    mailto = tuple(u for u in uris if u.lower().startswith("mailto:") and "@" in u)
    other = tuple(u for u in uris if u not in https and u not in mailto)
    post = posts[0] if posts else None
    if post is not None and post.strip() != ONE_CLICK:
        problems.append(f"List-Unsubscribe-Post is {post[:60]!r}, not exactly {ONE_CLICK} (RFC 8058 §3.1)")
    if post is not None and not https:
        problems.append("List-Unsubscribe-Post needs an https URI in List-Unsubscribe (RFC 8058 §3.1)")
    return ListUnsubscribe(value, https, mailto, other, post, tuple(problems))


def visible_unsubscribe(data: bytes, unsubscribe: ListUnsubscribe) -> tuple[str, ...]:
    """Where the text and HTML parts show a way to unsubscribe: the header's URL, or a word."""
    found: list[str] = []
    for content_type, text in _text_parts(data):
        lowered = (html.unescape(text) if content_type == "text/html" else text).lower()
        url = next((u for u in (*unsubscribe.https, *unsubscribe.other) if u.lower() in lowered), None)
        if url is not None:
            found.append(f"{content_type}: the List-Unsubscribe URL {url[:100]}")
            continue
        word = next((w for w in UNSUBSCRIBE_WORDS if w in lowered), None)
        if word is not None:
            found.append(f"{content_type}: the word {word!r}")
    return tuple(dict.fromkeys(found))


def _text_parts(data: bytes) -> list[tuple[str, str]]:
    try:
        message = email.message_from_bytes(data, policy=email.policy.compat32)
        parts = [part for _, part in zip(range(MAX_PARTS), message.walk(), strict=False)]
    except Exception:  # the email package must not take the analysis down
        return []
    texts = []
    for part in parts:
        try:
            content_type = part.get_content_type()
            if content_type not in ("text/plain", "text/html"):
                continue
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                continue
            texts.append((content_type, _decoded(payload[: MAX_TEXT * 4], part.get_content_charset())))
        except Exception:  # one broken part does not hide the others
            continue
    return texts


def _decoded(payload: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8"):
        if candidate:
            try:
                return payload.decode(candidate, "replace")[:MAX_TEXT]
            except (LookupError, ValueError):
                continue
    return payload.decode("utf-8", "replace")[:MAX_TEXT]

"""The map of known senders: mail providers, ESPs, SaaS and forwarders that send in other domains' names.

The map is data (``data/known_senders.yaml``, with its sources and date at the top): a sender's name,
kind, the domains it signs with, sends from and names its servers under, and the documented way to make
its mail align with the customer's domain, in English and Japanese. ``load_senders`` reads another map
in the same form (a site's own list) and says in one line what is wrong with a malformed one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache, cached_property
from importlib.resources import files
from typing import Any

import yaml

from mimawari.errors import InputError
from mimawari.model import Text

BUNDLED = "data/known_senders.yaml"

# The fixes for senders the map does not know ({domain} is the domain whose mail fails).
GENERIC_FIX = Text(
    en="Have this sender sign with DKIM for {domain} (a key you publish under {domain}) and/or send with a "
    "return path (MAIL FROM) under {domain} that your SPF record authorises.",
    ja="この送信元に {domain} の DKIM 鍵（{domain} 配下に公開した鍵）で署名させるか、SPF で許可した {domain} 配下の"
    "アドレスを Return-Path（MAIL FROM）にして送信させてください。",
)
STRICT_FIX = Text(
    en="It authenticates for a subdomain of {domain}, which strict alignment (adkim=s / aspf=s) does not "
    "accept: sign and send with exactly {domain}, or use relaxed alignment.",
    ja="{domain} のサブドメインで認証していますが、厳格なアラインメント（adkim=s / aspf=s）では認められません。"
    "{domain} そのもので署名・送信するか、緩和モードのアラインメントにしてください。",
)
FORWARDER_FIX = Text(
    en="Forwarded mail passes DMARC only while your DKIM signature survives: sign all mail with DKIM for "
    "{domain}, and ask the list or forwarder not to change messages (or to add ARC).",
    ja="転送メールが DMARC に合格するのは DKIM 署名が転送後も有効な場合だけです。すべてのメールに {domain} の DKIM 署名を"
    "付け、メーリングリストや転送サービスにはメールを改変しない（または ARC を付ける）よう依頼してください。",
)


class SenderKind(StrEnum):
    MAILBOX_PROVIDER = "mailbox-provider"
    ESP = "esp"
    SAAS = "saas"
    FORWARDER = "forwarder"


@dataclass(frozen=True)
class KnownSender:
    name: str
    kind: SenderKind
    domains: tuple[str, ...]
    """Lower-case, no trailing dot; a name matches when it is one of these or ends in "." + one."""
    fix: Text
    """How a customer makes this sender's mail align with their domain (custom DKIM, return path)."""
    docs: str = ""
    """The provider's page the fix comes from."""


@dataclass(frozen=True)
class SenderMap:
    senders: tuple[KnownSender, ...]

    @cached_property
    def _by_domain(self) -> dict[str, KnownSender]:
        index: dict[str, KnownSender] = {}
        for sender in self.senders:
            for domain in sender.domains:
                index.setdefault(domain, sender)  # the first entry listing a domain keeps it
        return index

    def match(self, name: str) -> KnownSender | None:
        """The sender whose domain ``name`` is or lies under; the longest such domain wins, so a map may
        list a provider's subdomain apart from its parent."""
        labels = name.strip().rstrip(".").lower().split(".")
        for start in range(len(labels)):
            found = self._by_domain.get(".".join(labels[start:]))
            if found is not None:
                return found
        return None


def _text(value: Any, where: str) -> Text:
    if not isinstance(value, dict) or not all(isinstance(value.get(lang), str) for lang in ("en", "ja")):
        raise InputError(f"known senders: {where}: fix must have en and ja texts")
    # English may be wrapped (folded YAML); Japanese is written on one line, as folding would put spaces
    # between Japanese words where none belong.
    return Text(en=" ".join(value["en"].split()), ja=value["ja"].strip())


def _sender(entry: Any, index: int) -> KnownSender:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
        raise InputError(f"known senders: entry {index + 1} has no name")
    name = entry["name"].strip()
    try:
        kind = SenderKind(str(entry.get("kind")))
    except ValueError:
        choices = ", ".join(k.value for k in SenderKind)
        raise InputError(f"known senders: {name}: kind must be one of {choices}") from None
    domains = entry.get("domains")
    if not isinstance(domains, list) or not domains or not all(isinstance(d, str) and d for d in domains):
        raise InputError(f"known senders: {name}: domains must be a non-empty list of names")
    docs = entry.get("docs", "")
    return KnownSender(
        name=name,
        kind=kind,
        domains=tuple(d.strip().rstrip(".").lower() for d in domains),
        fix=_text(entry.get("fix"), name),
        docs=docs if isinstance(docs, str) else "",
    )


def load_senders(text: str) -> SenderMap:
    """A sender map from YAML text (the bundled file's form: a top-level ``senders`` list)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InputError(f"known senders: not valid YAML ({str(error).splitlines()[0]})") from None
    entries = document.get("senders") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise InputError("known senders: expected a top-level 'senders' list")
    return SenderMap(tuple(_sender(entry, index) for index, entry in enumerate(entries)))


@cache
def known_senders() -> SenderMap:
    """The map shipped with mimawari."""
    return load_senders(files("mimawari").joinpath(BUNDLED).read_text(encoding="utf-8"))

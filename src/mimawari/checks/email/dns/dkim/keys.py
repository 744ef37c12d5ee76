"""What the DKIM checks share: the verdict when there is no key to judge, evidence, and fixed records.

The key checks (syntax, type, size, testing, revoked, hash algorithms, CNAMEs) judge the keys discovery
found. When it found none they give N/A — nothing to judge — or unknown when a selector lookup failed,
because the key might be behind the failed lookup. Whether DKIM is published at all is graded once, by
``email.dkim.selectors``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from mimawari.model import Evidence, Grade, Reference, Text, Verdict
from mimawari.observations.dkim import DkimObservation, SelectorLookup
from mimawari.parse.dkim import DkimKeyRecord, DkimPublicKey

RFC6376 = Reference("RFC 6376 §3.6.1", "https://www.rfc-editor.org/rfc/rfc6376#section-3.6.1")
RFC8301 = Reference("RFC 8301 §3", "https://www.rfc-editor.org/rfc/rfc8301#section-3")
RFC8463 = Reference("RFC 8463 §3–4", "https://www.rfc-editor.org/rfc/rfc8463#section-4")

NO_KEY = Text(
    "No DKIM key was found, so there is no key to check (see the DKIM selector discovery finding).",
    "DKIM 鍵が見つからなかったため、確認対象の鍵がありません（DKIM セレクター探索の結果を参照してください）。",
)
FAILED = Text(
    "No DKIM key was found, but {count} selector lookup(s) failed ({outcomes}); a key may exist behind "
    "them. Scan again.",
    "DKIM 鍵は見つかりませんでしたが、{count} 件のセレクター問い合わせが失敗しました（{outcomes}）。"
    "その先に鍵が存在する可能性があります。再度スキャンしてください。",
)


def failure_evidence(observation: DkimObservation) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(str(lookup.answer.query), lookup.answer.describe()) for lookup in observation.failed
    )


def nothing_to_judge(observation: DkimObservation) -> Verdict | None:
    """N/A when no key was found, unknown when a failed lookup may hide one; None when keys were found."""
    if observation.found:
        return None
    failed = observation.failed
    if failed:
        outcomes = ", ".join(sorted({lookup.answer.outcome for lookup in failed}))
        summary = FAILED.format(count=len(failed), outcomes=outcomes)
        return Verdict(Grade.UNKNOWN, summary, failure_evidence(observation))
    return Verdict(Grade.NA, NO_KEY)


def describe(key: DkimKeyRecord) -> str:
    """A key in a few words for summaries: ``rsa 2048-bit``, ``ed25519``, ``revoked``, ``unusable``."""
    if key.revoked:
        return "revoked"
    if key.key is None:
        return "unusable"
    if key.key.algorithm == "rsa":
        return f"rsa {key.key.bits}-bit"
    return key.key.algorithm


def record_evidence(lookup: SelectorLookup, key: DkimKeyRecord) -> tuple[Evidence, ...]:
    """The record verbatim, and where its CNAME chain led when the selector is delegated."""
    evidence = [Evidence(f"{lookup.name} TXT", key.text)]
    if lookup.answer.cname_chain:
        evidence.append(
            Evidence(f"{lookup.name} CNAME", " → ".join((lookup.name, *lookup.answer.cname_chain)))
        )
    return tuple(evidence)


def rebuild(key: DkimKeyRecord, **changes: str | None) -> str:
    """A clean record: ``v=DKIM1`` first, the other tags in their order, ``changes`` applied (None drops)."""
    tags = {name: value for name, value in key.tags if name != "v"}
    for name, value in changes.items():
        if value is None:
            tags.pop(name, None)
        else:
            tags[name] = value
    return "; ".join(["v=DKIM1", *(f"{name}={value}" for name, value in tags.items())])


def zone_txt(owner: str, record: str) -> str:
    """``owner. IN TXT "…"``, split in strings of at most 255 characters (RFC 1035 §3.3.14)."""
    chunks = [record[i : i + 255] for i in range(0, len(record), 255)] or [""]
    return f"{owner}. IN TXT " + " ".join(f'"{chunk}"' for chunk in chunks)


def with_fixed_keys(
    observation: DkimObservation, fix: Callable[[SelectorLookup, DkimKeyRecord], DkimKeyRecord | None]
) -> DkimObservation:
    """The observation with every found key replaced by ``fix(lookup, key)`` (None: left as it is)."""
    selectors = tuple(
        replace(lookup, keys=tuple(fix(lookup, key) or key for key in lookup.keys))
        for lookup in observation.selectors
    )
    return replace(observation, selectors=selectors)


def owned_by_provider(lookup: SelectorLookup) -> bool:
    """A CNAME'd selector: its key lives at the provider, so the fix is made there, not in this zone."""
    return lookup.delegated_to is not None


def example_key(bits: int = 2048) -> DkimKeyRecord:
    """A stand-in for the key the owner will generate: what an after-fix evaluation sees after the fix."""
    tags = (("v", "DKIM1"), ("k", "rsa"), ("p", f"<{bits}-bit public key>"))
    text = "; ".join(f"{name}={value}" for name, value in tags)
    return DkimKeyRecord(text, tags, key=DkimPublicKey("rsa", bits, "SubjectPublicKeyInfo"))


def join(*texts: Text) -> Text:
    """Sentences in both languages, one after the other."""
    return Text(" ".join(t.en for t in texts if t.en), "".join(t.ja for t in texts if t.ja))


def publish(lookup: SelectorLookup, record: str) -> str:
    """The zone line that fixes ``lookup``'s record, at the name where the record really lives."""
    line = zone_txt(lookup.delegated_to or lookup.name, record)
    if lookup.delegated_to:
        return f"; {lookup.name} is a CNAME to {lookup.delegated_to}: change the record there (the provider)\n{line}"
    return line


DELEGATED = Text(
    "{selectors} point(s) by CNAME to the provider's DNS: make the change in the provider's settings.",
    "{selectors} は CNAME でプロバイダーの DNS を参照しているため、プロバイダー側の設定で変更してください。",
)


def delegation_note(lookups: list[SelectorLookup]) -> Text:
    """A sentence to add to a fix when some of the records to change are served by a provider."""
    delegated = [lookup.selector for lookup in lookups if lookup.delegated_to]
    return DELEGATED.format(selectors=", ".join(delegated)) if delegated else Text("", "")

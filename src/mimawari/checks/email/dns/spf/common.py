"""What the SPF checks share: evidence from the tree, the unknown and not-applicable verdicts, and
rebuilding a record with terms removed or its ``all`` changed (for copyable fixes)."""

from __future__ import annotations

from collections.abc import Callable

from mimawari.model import Evidence, Grade, Reference, Status, Text, Verdict
from mimawari.observations.spf import SpfNode, SpfNodeStatus, SpfObservation
from mimawari.parse.spf import Mechanism, Modifier, Term, parse_spf

RFC7208 = "https://www.rfc-editor.org/rfc/rfc7208"


def reference(section: str) -> Reference:
    return Reference(f"RFC 7208 §{section}", f"{RFC7208}#section-{section}")


def zone_line(owner: str, record: str) -> str:
    return f'{owner}. IN TXT "{record}"'


def root_evidence(observation: SpfObservation) -> tuple[Evidence, ...]:
    root = observation.root
    if root is None or root.txt_lookup is None:
        return ()
    return (Evidence(str(root.txt_lookup.query), root.txt_lookup.describe()),)


def node_source(node: SpfNode) -> str:
    return f"{node.domain} ({node.via})" if node.via else node.domain


UNKNOWN_ROOT = Text(
    "The SPF record of {domain} could not be read: the TXT lookup ended in {outcome}. This does not "
    "mean SPF is missing; scan again.",
    "{domain} の SPF レコードを読み取れませんでした（TXT の問い合わせ結果: {outcome}）。"
    "SPF が未設定という意味ではありません。再度スキャンしてください。",
)
UNKNOWN_TREE = Text(
    "Part of the SPF include tree could not be read ({failed}), so this cannot be judged. This does not "
    "mean anything is missing; scan again.",
    "SPF の include ツリーの一部を読み取れなかったため（{failed}）、判定できません。"
    "何かが欠けているという意味ではありません。再度スキャンしてください。",
)
NO_RECORD = Text(
    "{domain} publishes no SPF record, so there is nothing to grade here (see email.spf.present).",
    "{domain} には SPF レコードがないため、この項目は評価対象外です（email.spf.present を参照）。",
)


def precondition(observation: SpfObservation) -> Verdict | None:
    """The verdict when the domain's own record is unknown (timeout) or absent, else None."""
    root = observation.root
    if observation.status in (Status.TIMEOUT, Status.ERROR) and root is not None and root.txt_lookup:
        summary = UNKNOWN_ROOT.format(domain=observation.domain, outcome=root.txt_lookup.outcome)
        return Verdict(Grade.UNKNOWN, summary, root_evidence(observation))
    if observation.status is not Status.PRESENT or root is None:
        return Verdict(Grade.NA, NO_RECORD.format(domain=observation.domain), root_evidence(observation))
    return None


def failed_lookups(observation: SpfObservation) -> list[str]:
    """Every lookup in the tree that timed out or failed, as ``query: outcome``."""
    failed = []
    for node in observation.tree:
        if node.status.failed and node.txt_lookup is not None:
            failed.append(f"{node.txt_lookup.query}: {node.txt_lookup.outcome}")
        failed += node.failed_lookups
    return failed


def unknown_tree(observation: SpfObservation, evidence: tuple[Evidence, ...]) -> Verdict:
    failed = failed_lookups(observation)
    return Verdict(
        Grade.UNKNOWN,
        UNKNOWN_TREE.format(failed="; ".join(failed)),
        evidence + tuple(Evidence("failed lookup", f) for f in failed),
    )


def rebuild(
    record: str, keep: Callable[[Term], bool] = lambda _: True, all_qualifier: str | None = None
) -> str:
    """The record's valid terms that ``keep`` accepts, in order; ``all_qualifier`` sets the ``all``
    (added at the end when missing, unless a redirect stands in for it)."""
    parsed = parse_spf(record)
    words = []
    has_all = False
    modifiers: set[str] = set()
    for term in parsed.terms:
        if not keep(term):
            continue
        if isinstance(term, Modifier) and term.name in ("redirect", "exp"):
            if term.name in modifiers:
                continue  # a second redirect or exp is a syntax error (§6)
            modifiers.add(term.name)
        if isinstance(term, Mechanism) and term.name == "all":
            if has_all:
                continue
            has_all = True
            words.append(f"{all_qualifier}all" if all_qualifier else term.text)
            continue
        words.append(term.text)
    if all_qualifier and not has_all:
        words = [w for w in words if not w.lower().startswith("redirect=")] + [f"{all_qualifier}all"]
    return " ".join(["v=spf1", *words])


def followed(observation: SpfObservation, start: int = 0) -> tuple[int, SpfNode]:
    """Follow ``redirect=`` from node ``start`` to the record that decides when nothing matches."""
    index, node = start, observation.tree[start]
    seen = {start}
    while node.status is SpfNodeStatus.VALID:
        redirect = parse_spf(node.record).redirect
        if redirect is None:
            break
        child = next(
            ((i, n) for i, n in observation.children(index) if n.via == redirect.text and i not in seen), None
        )
        if child is None:
            break
        index, node = child
        seen.add(index)
    return index, node

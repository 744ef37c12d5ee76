"""email.dkim.testing — is a key still flagged as being tested (``t=y``)?

RFC 6376 §3.6.1: verifiers MUST NOT treat mail from a signer in testing mode differently from unsigned
mail, so a key left at ``t=y`` gives none of DKIM's protection: C. The flag is meant for the first days of
a new key. The fix is the record without ``y`` (``t=s`` is kept).
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.dns.dkim.keys import (
    RFC6376,
    delegation_note,
    join,
    nothing_to_judge,
    publish,
    rebuild,
    record_evidence,
    with_fixed_keys,
)
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.dkim import DKIM, DkimObservation
from mimawari.parse.dkim import DkimKeyRecord, parse_dkim_key

TITLE = Text("DKIM testing mode", "DKIM テストモード")

PRODUCTION = Text("No DKIM key is in testing mode (t=y).", "テストモード（t=y）の DKIM 鍵はありません。")
TESTING = Text(
    "DKIM key(s) in testing mode (t=y): {selectors}. Receivers treat mail signed with them like unsigned "
    "mail (RFC 6376 §3.6.1).",
    "テストモード（t=y）の DKIM 鍵があります: {selectors}。受信側はこれらの鍵で署名されたメールを"
    "署名なしのメールと同じように扱います（RFC 6376 3.6.1 節）。",
)
FIX = Text(
    "Once signatures verify, remove y from the t= tag (the corrected records are below).",
    "署名の検証に問題がないことを確認したら、t= タグから y を削除してください（修正後のレコードは下記のとおりです）。",
)
EFFECT = Text(
    "Receivers give your DKIM signatures full weight, and DMARC can rely on them.",
    "受信側が DKIM 署名を通常どおり評価し、DMARC でも利用できるようになります。",
)


def _without_testing(key: DkimKeyRecord) -> str:
    flags = [flag for flag in key.flags if flag != "y"]
    return rebuild(key, t=":".join(flags) if flags else None)


def evaluate(observation: DkimObservation) -> Verdict:
    nothing = nothing_to_judge(observation)
    if nothing is not None:
        return nothing
    testing = [(lookup, key) for lookup, key in observation.keys if key.testing and not key.revoked]
    if not testing:
        return Verdict(Grade.A, PRODUCTION)
    evidence = tuple(e for lookup, key in testing for e in record_evidence(lookup, key))
    snippet = "\n".join(publish(lookup, _without_testing(key)) for lookup, key in testing)
    fixed = with_fixed_keys(
        observation, lambda _, key: parse_dkim_key(_without_testing(key)) if key.testing else None
    )
    summary = TESTING.format(selectors=", ".join(lookup.selector for lookup, _ in testing))
    action = join(FIX, delegation_note([lookup for lookup, _ in testing]))
    return Verdict(
        Grade.C,
        summary,
        evidence,
        Fix(action, snippet),
        AfterFix(evaluate(fixed).grade, EFFECT),
        Severity.MEDIUM,
    )


CHECK = Check(
    id="email.dkim.testing",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC6376,),
    observer=DKIM,
    evaluate=evaluate,
)

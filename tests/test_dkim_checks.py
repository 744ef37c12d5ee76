"""The email.dkim.* checks on recorded snapshots: grade, evidence, fix and after-fix for each grade."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pytest

from mimawari.checks import ALL_CHECKS
from mimawari.lookup import DnsAnswer, Query, Snapshot, not_recorded, replay
from mimawari.model import Evidence, Finding, Grade, Severity, Status, Target
from mimawari.observations.dkim import DkimObservation, candidate_selectors, dkim_plan
from mimawari.serial import from_json, to_json
from tests.helpers import OUTCOMES, finding
from tests.test_dkim_parse import ed25519_p, rsa_p

DOMAIN = "example.test"
DKIM_CHECKS = [check_id for check_id in ALL_CHECKS if check_id.startswith("email.dkim.")]


@dataclass(frozen=True)
class Cname:
    """A selector CNAME'd to ``target``, where ``records`` (or nothing) are found."""

    target: str
    records: Sequence[str] = ()


Answer = str | Sequence[str] | Cname


def _txt(value: str) -> str:
    chunks = [value[i : i + 255] for i in range(0, len(value), 255)] or [""]
    return " ".join(f'"{chunk}"' for chunk in chunks)


def snapshot(
    keys: Mapping[str, Answer],
    *,
    given: tuple[str, ...] = (),
    mx: Sequence[str] = (),
    spf: str | None = None,
    domainkey: str | DnsAnswer = "NODATA",
) -> Snapshot:
    """Every candidate selector answered (NXDOMAIN unless ``keys`` says otherwise), plus MX and TXT, and
    ``_domainkey.<domain>``: NODATA (an empty non-terminal, as when keys exist) unless told otherwise."""
    if isinstance(domainkey, str):
        status, rcode = OUTCOMES[domainkey]
        domainkey = DnsAnswer(Query.of(f"_domainkey.{DOMAIN}", "TXT"), status, rcode)
    answers = [
        domainkey,
        DnsAnswer(Query.of(DOMAIN, "MX"), Status.PRESENT, "NOERROR", tuple(mx))
        if mx
        else DnsAnswer(Query.of(DOMAIN, "MX"), Status.ABSENT, "NOERROR"),
        DnsAnswer(Query.of(DOMAIN, "TXT"), Status.PRESENT, "NOERROR", (_txt(spf),))
        if spf
        else DnsAnswer(Query.of(DOMAIN, "TXT"), Status.ABSENT, "NOERROR"),
    ]
    for selector in candidate_selectors(given, ()):
        query = Query.of(f"{selector}._domainkey.{DOMAIN}", "TXT")
        value = keys.get(selector, "NXDOMAIN")
        if isinstance(value, Cname):
            status = Status.PRESENT if value.records else Status.ABSENT
            records = tuple(map(_txt, value.records))
            answers.append(DnsAnswer(query, status, "NOERROR", records, 300, (value.target,)))
        elif value == "NXDOMAIN":
            answers.append(DnsAnswer(query, Status.ABSENT, "NXDOMAIN"))
        elif value == "timeout":
            answers.append(DnsAnswer(query, Status.TIMEOUT, detail="no answer within 1 s"))
        elif value == "SERVFAIL":
            answers.append(DnsAnswer(query, Status.ERROR, "SERVFAIL"))
        else:
            assert not isinstance(value, str)
            answers.append(DnsAnswer(query, Status.PRESENT, "NOERROR", tuple(map(_txt, value)), 300))
    return Snapshot.of(Target(DOMAIN, given), answers)


def check(check_id: str, keys: Mapping[str, Answer], **kwargs: object) -> Finding:
    return finding(snapshot(keys, **kwargs), check_id)  # type: ignore[arg-type]


def rsa(bits: int, extra: str = "") -> str:
    return f"v=DKIM1; k=rsa; {extra}p={rsa_p(bits)}"


def ed(extra: str = "") -> str:
    return f"v=DKIM1; k=ed25519; {extra}p={ed25519_p()}"


def snippet(result: Finding) -> str:
    assert result.fix is not None and result.fix.snippet is not None
    return result.fix.snippet


def after(result: Finding) -> Grade:
    assert result.after_fix is not None
    return result.after_fix.grade


# --- discovery -------------------------------------------------------------------------------------


def test_a_key_found_grades_a_with_the_record_as_evidence() -> None:
    result = check("email.dkim.selectors", {"selector1": [rsa(2048)]})
    assert result.grade is Grade.A and result.fix is None
    assert "selector1 (rsa 2048-bit)" in result.summary.en
    assert result.evidence[0] == next(e for e in result.evidence if e.source.startswith("selector1."))
    assert rsa_p(2048) in result.evidence[0].value


def test_nothing_found_is_unknown_never_a_false_alarm() -> None:
    result = check("email.dkim.selectors", {})
    assert result.grade is Grade.UNKNOWN and result.severity is Severity.LOW
    tried = len(candidate_selectors((), ()))
    assert f"among the {tried} selectors tried" in result.summary.en
    assert "does not prove" in result.summary.en
    assert snippet(result) == f"mimawari scan {DOMAIN} --dkim-selector SELECTOR"
    assert result.after_fix is None
    assert result.evidence[0].source == "selectors tried"


def test_a_failed_lookup_without_any_key_is_unknown_with_the_failure_as_evidence() -> None:
    result = check("email.dkim.selectors", {"google": "timeout", "s1": "SERVFAIL"})
    assert result.grade is Grade.UNKNOWN and result.fix is None
    assert "does not mean DKIM is missing" in result.summary.en
    assert {e.source for e in result.evidence} == {
        f"google._domainkey.{DOMAIN} TXT",
        f"s1._domainkey.{DOMAIN} TXT",
    }


def test_a_failed_lookup_does_not_hide_a_key_found_elsewhere() -> None:
    assert check("email.dkim.selectors", {"google": "timeout", "k1": [rsa(2048)]}).grade is Grade.A


def test_microsoft_365_mx_explains_the_missing_selectors_and_how_to_enable_them() -> None:
    result = check("email.dkim.selectors", {}, mx=["0 example-test.mail.protection.outlook.com."])
    assert result.grade is Grade.UNKNOWN and result.severity is Severity.MEDIUM
    assert "Microsoft 365 (MX example-test.mail.protection.outlook.com) signs with selector1/selector2" in (
        result.summary.en
    )
    assert "Microsoft 365" in result.summary.ja
    assert snippet(result).splitlines()[0] == (
        "selector1._domainkey.example.test. IN CNAME selector1-example-test._domainkey.TENANT.onmicrosoft.com."
    )
    assert after(result) is Grade.A


def test_hints_put_the_provider_selectors_first() -> None:
    spf = "v=spf1 include:_spf.google.com include:sendgrid.net -all"
    observation = replay(dkim_plan(Target(DOMAIN, ("custom",))), snapshot({}, given=("custom",), spf=spf))
    assert observation.tried[:5] == ("custom", "google", "s1", "s2", "smtpapi")
    assert [hint.provider for hint in observation.hints] == ["Google Workspace", "SendGrid"]


def test_unguessable_provider_selectors_are_said_to_be_so() -> None:
    result = check("email.dkim.selectors", {}, spf="v=spf1 include:amazonses.com -all")
    assert "Amazon SES (SPF amazonses.com) signs with per-domain selectors that cannot be guessed" in (
        result.summary.en
    )
    assert result.grade is Grade.UNKNOWN


def test_a_selector_the_user_named_without_a_key_grades_d() -> None:
    result = check("email.dkim.selectors", {}, given=("mailer2024",))
    assert result.grade is Grade.D
    assert "mailer2024" in result.summary.en
    assert snippet(result).startswith('mailer2024._domainkey.example.test. IN TXT "v=DKIM1; k=rsa; p=<')
    assert after(result) is Grade.A
    fixed = check("email.dkim.selectors", {"mailer2024": [rsa(2048)]}, given=("mailer2024",))
    assert fixed.grade is Grade.A


def test_a_named_selector_missing_next_to_found_keys_grades_c() -> None:
    result = check("email.dkim.selectors", {"google": [rsa(2048)]}, given=("old",))
    assert result.grade is Grade.C and after(result) is Grade.A


def test_a_named_selector_that_timed_out_is_not_called_missing() -> None:
    result = check("email.dkim.selectors", {"mailer": "timeout"}, given=("mailer",))
    assert result.grade is Grade.UNKNOWN


def test_wildcard_txt_that_is_not_a_key_is_not_found() -> None:
    spf = ["v=spf1 -all"]
    result = check("email.dkim.selectors", dict.fromkeys(candidate_selectors((), ()), spf))
    assert result.grade is Grade.UNKNOWN


# --- RFC 8020: NXDOMAIN at _domainkey.<domain> means no selector exists --------------------------------

MICROSOFT_MX = ["0 example-test.mail.protection.outlook.com."]
GOOGLE_SPF = "v=spf1 include:_spf.google.com -all"


def rounds(snap: Snapshot) -> tuple[DkimObservation, list[tuple[Query, ...]]]:
    """The observation the DKIM plan makes from ``snap``, and the queries it asked, round by round."""
    plan = dkim_plan(snap.target)
    asked: list[tuple[Query, ...]] = []
    try:
        need = next(plan)
        while True:
            asked.append(tuple(r for r in need if isinstance(r, Query)))
            need = plan.send(tuple(snap.response(r) or not_recorded(r) for r in need))
    except StopIteration as done:
        return done.value, asked


def selector_names(*selectors: str) -> set[str]:
    return {f"{selector}._domainkey.{DOMAIN}" for selector in selectors}


def test_nxdomain_at_domainkey_skips_the_list_but_asks_named_and_hinted_selectors() -> None:
    snap = snapshot({}, given=("custom",), mx=MICROSOFT_MX, spf=GOOGLE_SPF, domainkey="NXDOMAIN")
    observation, asked = rounds(snap)
    first, second = ({q.name for q in queries} for queries in asked)
    assert first == {DOMAIN, f"_domainkey.{DOMAIN}", *selector_names("custom")}
    assert second == selector_names("selector1", "selector2", "google")
    assert sum(map(len, asked)) == 7
    assert observation.nothing_below
    assert observation.tried == ("custom", "selector1", "selector2", "google")
    assert "default" in observation.skipped and "custom" not in observation.skipped
    assert len(observation.skipped) + len(observation.tried) == len(candidate_selectors(("custom",), ()))
    # The named selector has no key either: still D, with the NXDOMAIN as evidence.
    result = finding(snap, "email.dkim.selectors")
    assert result.grade is Grade.D
    assert result.evidence[0].source == f"_domainkey.{DOMAIN} TXT"


def test_the_shortcut_is_said_in_the_summary_and_the_grade_stays_unknown() -> None:
    snap = snapshot({}, domainkey="NXDOMAIN")
    observation, asked = rounds(snap)
    assert len(asked) == 1 and len(asked[0]) == 3  # MX, TXT and _domainkey: nothing else to ask
    result = finding(snap, "email.dkim.selectors")
    assert result.grade is Grade.UNKNOWN and result.severity is Severity.LOW
    assert f"no names exist under _domainkey.{DOMAIN} (NXDOMAIN, RFC 8020)" in result.summary.en
    assert f"_domainkey.{DOMAIN}" in result.summary.ja and "RFC 8020" in result.summary.ja
    assert f"the {len(observation.skipped)} built-in selectors were not asked" in result.summary.en
    assert "asked anyway" not in result.summary.en
    assert result.evidence[0] == Evidence(
        f"_domainkey.{DOMAIN} TXT", "NXDOMAIN (RFC 8020 §2: no names below)"
    )
    assert Evidence("selectors tried", "none") in result.evidence
    assert snippet(result) == f"mimawari scan {DOMAIN} --dkim-selector SELECTOR"
    for check_id in DKIM_CHECKS[1:]:
        assert finding(snap, check_id).grade is Grade.NA, check_id


def test_the_shortcut_keeps_the_provider_explanation_and_fix() -> None:
    result = check("email.dkim.selectors", {}, mx=MICROSOFT_MX, domainkey="NXDOMAIN")
    assert result.grade is Grade.UNKNOWN
    assert "(NXDOMAIN, RFC 8020)" in result.summary.en
    assert "The 2 selector(s) you named or your providers use were asked anyway" in result.summary.en
    assert "signs with selector1/selector2" in result.summary.en
    assert snippet(result).startswith("selector1._domainkey.example.test. IN CNAME ")
    assert after(result) is Grade.A


def test_a_server_that_wrongly_says_nxdomain_still_shows_named_and_hinted_keys() -> None:
    keys: dict[str, Answer] = {"custom": [rsa(2048)], "selector1": [rsa(2048)], "default": [rsa(2048)]}
    snap = snapshot(keys, given=("custom",), mx=MICROSOFT_MX, domainkey="NXDOMAIN")
    observation, _ = rounds(snap)
    assert [lookup.selector for lookup in observation.found] == ["custom", "selector1"]
    assert "default" in observation.skipped  # not asked: the server said nothing is there
    assert finding(snap, "email.dkim.selectors").grade is Grade.A


@pytest.mark.parametrize(
    "domainkey",
    [
        "NODATA",  # an empty non-terminal: the usual answer where keys exist
        "timeout",  # a timeout is never "nothing below"
        "SERVFAIL",
        DnsAnswer(Query.of(f"_domainkey.{DOMAIN}", "TXT"), Status.PRESENT, "NOERROR", ('"v=spf1 -all"',)),
        # NXDOMAIN at the end of a CNAME chain is about the target, not about _domainkey.<domain>
        DnsAnswer(
            Query.of(f"_domainkey.{DOMAIN}", "TXT"), Status.ABSENT, "NXDOMAIN", (), None, ("gone.test",)
        ),
    ],
    ids=["NODATA", "timeout", "SERVFAIL", "records", "CNAME-to-NXDOMAIN"],
)
def test_anything_but_nxdomain_at_domainkey_asks_the_whole_list(domainkey: str | DnsAnswer) -> None:
    snap = snapshot({"mxvault": [rsa(2048)]}, given=("custom",), domainkey=domainkey)
    observation, asked = rounds(snap)
    everything = candidate_selectors(("custom",), ())
    assert len(asked) == 2 and sum(map(len, asked)) == 3 + len(everything)
    assert not observation.nothing_below and observation.skipped == ()
    assert set(observation.tried) == set(everything)
    assert [lookup.selector for lookup in observation.found] == ["mxvault"]
    nothing = snapshot({}, domainkey=domainkey)
    result = finding(nothing, "email.dkim.selectors")
    # A failed _domainkey lookup only costs queries: it is not a failed selector lookup.
    assert result.grade is Grade.UNKNOWN and "among the" in result.summary.en
    assert "RFC 8020" not in result.summary.en


def test_the_shortcut_round_trips_through_json() -> None:
    snap = snapshot({}, mx=MICROSOFT_MX, domainkey="NXDOMAIN")
    observation = replay(dkim_plan(snap.target), snap)
    assert observation.domainkey is not None and observation.domainkey.nxdomain
    assert from_json(DkimObservation, to_json(observation)) == observation


# --- syntax ----------------------------------------------------------------------------------------


def test_well_formed_records_grade_a() -> None:
    assert check("email.dkim.syntax", {"s1": [rsa(2048)], "s2": ["v=DKIM1; p="]}).grade is Grade.A


def test_no_key_found_is_not_applicable_and_a_timeout_unknown() -> None:
    for check_id in DKIM_CHECKS[1:]:
        assert check(check_id, {}).grade is Grade.NA, check_id
        assert check(check_id, {"default": "timeout"}).grade is Grade.UNKNOWN, check_id


def test_the_only_key_unusable_grades_e_with_a_placeholder_and_real_after_fix() -> None:
    result = check("email.dkim.syntax", {"mail": ["v=DKIM1; k=rsa; p=MIGf!!"]})
    assert result.grade is Grade.E and result.severity is Severity.HIGH
    assert "not valid base64" in result.summary.en
    assert snippet(result) == (
        'mail._domainkey.example.test. IN TXT "v=DKIM1; k=rsa; p=<base64 public key of the signing key>"'
    )
    assert after(result) is Grade.A


def test_one_unusable_key_of_two_grades_d() -> None:
    result = check("email.dkim.syntax", {"mail": ["v=DKIM1; k=rsa"], "google": [rsa(2048)]})
    assert result.grade is Grade.D


def test_tolerated_problems_grade_c_and_the_corrected_record_grades_a() -> None:
    record = f"k=rsa; v=DKIM1; p={rsa_p(2048)}"
    result = check("email.dkim.syntax", {"dkim": [record]})
    assert result.grade is Grade.C
    corrected = f"v=DKIM1; k=rsa; p={rsa_p(2048)}"
    assert snippet(result) == f"dkim._domainkey.example.test. IN TXT {_txt(corrected)}"
    assert after(result) is Grade.A
    assert check("email.dkim.syntax", {"dkim": [corrected]}).grade is Grade.A


def test_two_key_records_at_one_selector_grade_c() -> None:
    result = check("email.dkim.syntax", {"dkim": [rsa(2048), rsa(1024)]})
    assert result.grade is Grade.C and "2 key records at one selector" in result.summary.en
    assert after(result) is Grade.A


# --- key type --------------------------------------------------------------------------------------


def test_rsa_and_ed25519_together_grade_a() -> None:
    assert check("email.dkim.key_type", {"s1": [rsa(2048)], "s2": [ed()]}).grade is Grade.A


def test_ed25519_alone_grades_b_and_adding_rsa_grades_a() -> None:
    result = check("email.dkim.key_type", {"s1": [ed()]})
    assert result.grade is Grade.B and after(result) is Grade.A
    assert snippet(result).startswith("s1-rsa._domainkey.example.test. IN TXT")


def test_ed25519_published_as_spki_is_unusable_and_the_fix_gives_the_raw_key() -> None:
    spki = f"v=DKIM1; k=ed25519; p={ed25519_p('spki')}"
    result = check("email.dkim.key_type", {"s1": [spki]})
    assert result.grade is Grade.E
    assert snippet(result) == f's1._domainkey.example.test. IN TXT "v=DKIM1; k=ed25519; p={ed25519_p()}"'
    assert after(result) is Grade.B  # still Ed25519 only: the after-fix grade is the real one


def test_k_that_does_not_match_the_key_grades_d_next_to_a_good_key() -> None:
    wrong = f"v=DKIM1; k=rsa; p={ed25519_p('spki')}"
    result = check("email.dkim.key_type", {"s1": [wrong], "s2": [rsa(2048)]})
    assert result.grade is Grade.D and "holds an ed25519 key" in result.summary.en
    assert after(result) is Grade.A


def test_unknown_key_type_grades_e() -> None:
    result = check("email.dkim.key_type", {"s1": [f"v=DKIM1; k=dsa; p={rsa_p(2048)}"]})
    assert result.grade is Grade.E and "k=dsa" in result.summary.en
    assert "k=rsa" in snippet(result) and after(result) is Grade.A


# --- key size --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bits", "grade"), [(512, Grade.E), (1024, Grade.C), (2048, Grade.A), (4096, Grade.A), (8192, Grade.C)]
)
def test_rsa_key_size_grades(bits: int, grade: Grade) -> None:
    result = check("email.dkim.key_size", {"default": [rsa(bits)]})
    assert result.grade is grade
    if grade is not Grade.A:
        assert after(result) is Grade.A and f"{bits}-bit" in result.summary.en


def test_1024_bit_key_fix_is_a_rotation_to_2048_bits() -> None:
    result = check("email.dkim.key_size", {"default": [rsa(1024)], "google": [rsa(2048)]})
    assert result.grade is Grade.C and result.severity is Severity.MEDIUM
    lines = snippet(result).splitlines()
    assert "openssl genrsa -out default-2048.pem 2048" in lines
    assert (
        'default-2048._domainkey.example.test. IN TXT "v=DKIM1; k=rsa; " "p=<base64 printed by step 1>"'
        in lines
    )
    assert 'default._domainkey.example.test. IN TXT "v=DKIM1; k=rsa; p="' in lines
    assert result.evidence[0].source == "default._domainkey.example.test TXT"
    assert "RFC 8301" in result.summary.en and "RFC 8301" in result.summary.ja


def test_the_weakest_key_decides() -> None:
    assert check("email.dkim.key_size", {"k1": [rsa(2048)], "k2": [rsa(512)]}).grade is Grade.E


def test_a_weak_key_at_microsoft_365_is_rotated_there() -> None:
    target = "selector1-example-test._domainkey.contoso.onmicrosoft.com"
    result = check("email.dkim.key_size", {"selector1": Cname(target, [rsa(1024)])})
    assert result.grade is Grade.C
    assert "Rotate-DkimSigningConfig -Identity example.test -KeySize 2048" in snippet(result)
    assert any(e.value.endswith(target) for e in result.evidence)


def test_ed25519_only_has_no_rsa_size_to_grade() -> None:
    assert check("email.dkim.key_size", {"s1": [ed()]}).grade is Grade.NA


# --- testing, revoked, hash algorithms -------------------------------------------------------------


def test_testing_mode_grades_c_and_the_fix_keeps_the_s_flag() -> None:
    result = check("email.dkim.testing", {"mail": [rsa(2048, "t=y:s; ")]})
    assert result.grade is Grade.C
    assert snippet(result) == f"mail._domainkey.example.test. IN TXT {_txt(rsa(2048, 't=s; '))}"
    assert after(result) is Grade.A
    assert check("email.dkim.testing", {"mail": [rsa(2048, "t=s; ")]}).grade is Grade.A


def test_a_revoked_key_next_to_live_ones_is_fine() -> None:
    result = check("email.dkim.revoked", {"old": "NXDOMAIN", "s1": ["v=DKIM1; p="], "s2": [rsa(2048)]})
    assert result.grade is Grade.A and "s1" in result.summary.en and "s2" in result.summary.en


def test_only_revoked_keys_grade_c() -> None:
    result = check("email.dkim.revoked", {"s1": ["v=DKIM1; k=rsa; p="]})
    assert result.grade is Grade.C and after(result) is Grade.A
    assert check("email.dkim.revoked", {"s1": [rsa(2048)]}).grade is Grade.NA


@pytest.mark.parametrize(
    ("h", "grade"),
    [("h=sha1; ", Grade.E), ("h=sha1:sha256; ", Grade.B), ("h=sha256; ", Grade.A), ("", Grade.A)],
)
def test_hash_algorithms(h: str, grade: Grade) -> None:
    result = check("email.dkim.hash_algorithms", {"mail": [rsa(2048, h)]})
    assert result.grade is grade
    if grade is not Grade.A:
        assert snippet(result) == f"mail._domainkey.example.test. IN TXT {_txt(rsa(2048, 'h=sha256; '))}"
        assert after(result) is Grade.A


def test_sha1_only_on_one_key_of_two_grades_d() -> None:
    keys: dict[str, Answer] = {"k1": [rsa(2048, "h=sha1; ")], "k2": [rsa(2048)]}
    assert check("email.dkim.hash_algorithms", keys).grade is Grade.D


# --- CNAME'd selectors -----------------------------------------------------------------------------


def test_a_cnamed_selector_shows_where_the_key_lives() -> None:
    target = "s1.domainkey.u123.wl.sendgrid.net"
    result = check("email.dkim.cname", {"s1": Cname(target, [rsa(2048)])})
    assert result.grade is Grade.A
    assert "s1 → s1.domainkey.u123.wl.sendgrid.net (SendGrid)" in result.summary.en
    assert result.evidence[0].value == f"s1._domainkey.example.test → {target}"


def test_a_cname_to_nothing_grades_c() -> None:
    target = "selector1-example-test._domainkey.contoso.onmicrosoft.com"
    result = check("email.dkim.cname", {"selector1": Cname(target), "google": [rsa(2048)]})
    assert result.grade is Grade.C and "(Microsoft 365)" in result.summary.en
    assert snippet(result) == f"; delete if unused: selector1._domainkey.example.test. IN CNAME {target}."
    assert after(result) is Grade.NA  # the only CNAME gone: nothing left to judge
    assert check("email.dkim.cname", {"google": [rsa(2048)]}).grade is Grade.NA


def test_a_dangling_cname_makes_discovery_say_so_without_claiming_a_key() -> None:
    target = "selector1-example-test._domainkey.contoso.onmicrosoft.com"
    assert check("email.dkim.selectors", {"selector1": Cname(target)}).grade is Grade.UNKNOWN


# --- every check ---------------------------------------------------------------------------------


@pytest.mark.parametrize("check_id", DKIM_CHECKS)
def test_texts_exist_in_japanese_and_grade_a_has_no_fix(check_id: str) -> None:
    bad: dict[str, Answer] = {
        "s1": [rsa(1024, "t=y; h=sha1:sha256; ")],
        "s2": ["k=rsa; v=DKIM1; p="],
        "s3": Cname("gone.example.net"),
    }
    for keys in (bad, {"s1": [rsa(2048)], "s2": [ed()]}):
        result = check(check_id, keys)
        texts = [result.title, result.summary]
        if result.fix is not None:
            texts.append(result.fix.action)
        if result.after_fix is not None:
            texts.append(result.after_fix.effect)
        for text in texts:
            assert text.ja and text.ja != text.en, (check_id, text)
        if result.grade is Grade.A:
            assert result.fix is None and result.after_fix is None


def test_observation_round_trips_through_json() -> None:
    snap = snapshot(
        {"s1": [rsa(2048, "t=y; ")], "s2": [ed()], "s3": "timeout", "selector1": Cname("x.onmicrosoft.com")},
        mx=["10 example-test.mail.protection.outlook.com."],
    )
    observation = replay(dkim_plan(snap.target), snap)
    assert from_json(DkimObservation, to_json(observation)) == observation
    assert [lookup.selector for lookup in observation.found] == ["s1", "s2"]
    assert observation.found[0].keys[0].key is not None and observation.found[0].keys[0].key.bits == 2048
    assert observation.tried[:2] == ("selector1", "selector2")


def test_failed_hint_lookups_only_lose_the_hints() -> None:
    mx_timeout = DnsAnswer(Query.of(DOMAIN, "MX"), Status.TIMEOUT, detail="no answer within 1 s")
    txt_error = DnsAnswer(Query.of(DOMAIN, "TXT"), Status.ERROR, "SERVFAIL")
    found = snapshot({"google": [rsa(2048)]}).patched(mx_timeout, txt_error)
    assert finding(found, "email.dkim.selectors").grade is Grade.A
    nothing = finding(snapshot({}).patched(mx_timeout, txt_error), "email.dkim.selectors")
    assert nothing.grade is Grade.UNKNOWN
    assert any(e.source == "example.test MX" and e.value.startswith("timeout") for e in nothing.evidence)

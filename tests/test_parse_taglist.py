from __future__ import annotations

import re

import pytest

from mimawari.parse.taglist import (
    TagList,
    TagPart,
    TagProblem,
    Whitespace,
    is_extension_field,
    split_tag_list,
)

LETTERS = re.compile(r"[a-z]+")


def test_pairs_in_record_order_with_whitespace_dropped() -> None:
    tag_list = split_tag_list(" v = DKIM1 ;\tk=rsa;p=MIGf MA0G ; ")
    assert tag_list.tags == (("v", "DKIM1"), ("k", "rsa"), ("p", "MIGf MA0G"))
    assert all(part.problem is None for part in tag_list.parts)


def test_value_keeps_everything_after_the_first_equals_sign() -> None:
    assert split_tag_list("a=b=c; d=").tags == (("a", "b=c"), ("d", ""))


@pytest.mark.parametrize("text", ["", " ", "\t\r\n", "v=1;", "v=1; ", "v=1;\t"])
def test_an_empty_last_part_is_not_reported(text: str) -> None:
    assert all(part.problem is None for part in split_tag_list(text).parts)


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (";v=1", [TagProblem.EMPTY, None]),
        ("v=1;;k=2", [None, TagProblem.EMPTY, None]),
        ("v=1; ;k=2;", [None, TagProblem.EMPTY, None]),
        ("v=1;;;", [None, TagProblem.EMPTY, TagProblem.EMPTY]),
    ],
)
def test_empty_parts_before_the_last_are_reported(text: str, problems: list[TagProblem | None]) -> None:
    assert [part.problem for part in split_tag_list(text).parts] == problems


@pytest.mark.parametrize("part", ["junk", "=value", " = value", "v DMARC1"])
def test_a_part_without_a_name_or_equals_sign_is_not_a_pair(part: str) -> None:
    tag_list = split_tag_list(f"v=1; {part} ;k=2")
    assert tag_list.parts[1].problem is TagProblem.NOT_A_PAIR
    assert tag_list.parts[1].text == part.strip()
    assert tag_list.tags == (("v", "1"), ("k", "2"))


def test_the_tag_name_pattern_must_match_the_whole_name() -> None:
    tag_list = split_tag_list("v=1; rua2=x; r-a=y; ok=z", tag_name=LETTERS)
    assert [part.problem for part in tag_list.parts] == [
        None,
        TagProblem.NOT_A_PAIR,
        TagProblem.NOT_A_PAIR,
        None,
    ]
    assert split_tag_list("rua2=x; r-a=y").tags == (("rua2", "x"), ("r-a", "y"))


def test_duplicates_are_reported_and_the_first_value_kept() -> None:
    tag_list = split_tag_list("p=none; k=rsa; p=reject")
    assert tag_list.tags == (("p", "none"), ("k", "rsa"))
    assert tag_list.parts[2] == TagPart("p=reject", "p", "reject", TagProblem.DUPLICATE)


def test_names_are_case_sensitive_unless_folded() -> None:
    assert split_tag_list("P=reject; p=none").tags == (("P", "reject"), ("p", "none"))
    folded = split_tag_list("P=Reject; p=none", fold_case=True)
    assert folded.tags == (("p", "Reject"),)
    assert folded.parts[1].problem is TagProblem.DUPLICATE


def test_folding_happens_before_the_name_pattern() -> None:
    assert split_tag_list("RUA=x", tag_name=LETTERS, fold_case=True).tags == (("rua", "x"),)
    assert split_tag_list("RUA=x", tag_name=LETTERS).parts[0].problem is TagProblem.NOT_A_PAIR


def test_field_delim_strips_only_spaces_and_tabs_around_semicolons() -> None:
    tag_list = split_tag_list("v=STSv1 ;\tid = abc;\next=1\n", whitespace=Whitespace.FIELD_DELIM)
    # RFC 8461 §3.1 allows no whitespace around "=": it stays for the protocol's checks to reject.
    assert tag_list.tags == (("v", "STSv1"), ("id ", " abc"), ("\next", "1\n"))


def test_fws_strips_any_whitespace() -> None:
    assert split_tag_list("\r\n v\xa0=\u3000DMARC1\n").tags == (("v", "DMARC1"),)


@pytest.mark.parametrize(
    "text",
    ["\x00;=;==;;;", "=" * 50, ";" * 50, "\ud800=\U0001f600", "a=b;" * 500, "v\n=\n;\n=\n"],
)
@pytest.mark.parametrize("whitespace", list(Whitespace))
def test_hostile_input_never_raises(text: str, whitespace: Whitespace) -> None:
    tag_list = split_tag_list(text, whitespace=whitespace, fold_case=True, tag_name=LETTERS)
    assert isinstance(tag_list, TagList)
    assert len({name for name, _ in tag_list.tags}) == len(tag_list.tags)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ext", "value", True),
        ("1a_b.c-d", "!~", True),
        ("a" * 32, "x", True),
        ("a" * 33, "x", False),
        ("_ext", "x", False),
        ("ext", "", False),
        ("ext", "a b", False),
        ("ext", "a=b", False),  # RFC 8460 §3 ext-value excludes "=" (%x3D) and ";" (%x3B)
        ("ext", "é", False),
    ],
)
def test_extension_fields(name: str, value: str, expected: bool) -> None:
    assert is_extension_field(name, value) is expected

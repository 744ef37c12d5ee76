"""SPF record and macro parsing (RFC 7208 §4.5, §4.6.1, §5, §7, §12): valid, malformed and hostile input."""

from __future__ import annotations

import pytest

from mimawari.parse.spf import Mechanism, Modifier, Qualifier, is_spf_record, parse_spf
from mimawari.parse.spf_macro import (
    Macro,
    MacroString,
    MacroValues,
    expand,
    parse_domain_spec,
    parse_macro_string,
    target_name,
)


@pytest.mark.parametrize(
    ("text", "selected"),
    [
        ("v=spf1", True),
        ("v=spf1 -all", True),
        ("V=SPF1 -all", True),
        ("v=spf10 -all", False),
        ("v=spf1-all", False),
        (" v=spf1 -all", False),
        ("spf1 -all", False),
        ("", False),
    ],
)
def test_record_selection(text: str, selected: bool) -> None:
    assert is_spf_record(text) is selected


def test_terms_are_parsed_in_order() -> None:
    record = parse_spf(
        "v=spf1 +a -mx:mail.example.test/24//64 ~ip4:192.0.2.1/24 ?ip6:2001:db8::/32 "
        "include:_spf.example.test exists:%{ir}.bl.example.test ptr redirect=other.example.test "
        "exp=why.example.test x-note=hello -all"
    )
    assert record.valid, record.problems
    a, mx, ip4, ip6, include, exists, ptr, all_ = record.mechanisms
    assert (a.qualifier, a.name, a.domain_spec) == (Qualifier.PASS, "a", None)
    assert (mx.qualifier, mx.target_text, mx.cidr4, mx.cidr6) == (Qualifier.FAIL, "mail.example.test", 24, 64)
    assert (ip4.network, ip4.qualifier) == ("192.0.2.0/24", Qualifier.SOFTFAIL)
    assert (ip6.network, ip6.qualifier) == ("2001:db8::/32", Qualifier.NEUTRAL)
    assert include.target_text == "_spf.example.test"
    assert exists.domain_spec is not None and exists.domain_spec.letters == {"i"}
    assert ptr.name == "ptr" and all_.name == "all"
    assert record.modifier("x-note") == Modifier("x-note=hello", "x-note", MacroString("hello", ("hello",)))
    # redirect is ignored when there is an all (§5.1, §6.1); lookup terms stop at the all
    assert record.redirect is None
    assert record.lookup_terms == 5


def test_redirect_counts_only_without_all() -> None:
    record = parse_spf("v=spf1 a redirect=_spf.example.test")
    assert record.redirect is not None and record.lookup_terms == 2


def test_mechanisms_after_all_are_not_counted() -> None:
    assert parse_spf("v=spf1 -all include:a.example.test include:b.example.test").lookup_terms == 0


def test_names_are_case_insensitive() -> None:
    record = parse_spf("v=spf1 A MX:Example.Test IP4:192.0.2.1 Redirect=x.example.test")
    assert record.valid
    assert [m.name for m in record.mechanisms] == ["a", "mx", "ip4"]
    assert record.modifier("redirect") is not None


@pytest.mark.parametrize(
    "record",
    [
        "v=spf1 ip4:192.0.2.256",
        "v=spf1 ip4:192.0.2.01",
        "v=spf1 ip4:192.0.2.1/33",
        "v=spf1 ip4:192.0.2.1/",
        "v=spf1 ip4:192.0.2",
        "v=spf1 ip4",
        "v=spf1 ip6:2001:db8::/129",
        "v=spf1 ip6:2001:db8::1%eth0",
        "v=spf1 ip6:192.0.2.1",
        "v=spf1 a/33",
        "v=spf1 a//129",
        "v=spf1 a/024",
        "v=spf1 a:",
        "v=spf1 a:localhost",
        "v=spf1 a:foo-bar",
        "v=spf1 a:example.123",
        "v=spf1 mx/",
        "v=spf1 include",
        "v=spf1 include:",
        "v=spf1 exists",
        "v=spf1 all:example.test",
        "v=spf1 -all/24",
        "v=spf1 frobnicate",
        "v=spf1 redirect:example.test",
        "v=spf1 redirect=",
        "v=spf1 redirect=a.example.test redirect=b.example.test",
        "v=spf1 exp=a.example.test exp=b.example.test",
        "v=spf1 moo.cow/far_out=man:dog/cat",
        "v=spf1 exists:%{x}.example.test",
        "v=spf1 exists:%{c}.example.test",
        "v=spf1 exists:%{l0}.example.test",
        "v=spf1 exists:%(ir).example.test",
        "v=spf1 exists:foo%.example.test",
        "v=spf1 a:example.test\rptr",
        "v=spf1 a:exämple.test",
        "v=spf1 \x96all",
        "v=spf1 x=%",
    ],
)
def test_syntax_errors_are_reported_never_raised(record: str) -> None:
    parsed = parse_spf(record)
    assert not parsed.valid
    assert all(isinstance(problem, str) and problem for problem in parsed.problems)


@pytest.mark.parametrize(
    "record",
    [
        "v=spf1",
        "v=spf1   -all   ",
        "v=spf1 a:example.test.",
        "v=spf1 a:%{d}",
        "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d}",
        "v=spf1 a:macro%%percent%_%_space%-url-space.example.test",
        "v=spf1 ip4:0.0.0.0/0 ip6:::/0",
        "v=spf1 a:example.1-2",
        "v=spf1 moo.cow-far_out=man:dog/cat",
        "v=spf1 x=",
    ],
)
def test_valid_records(record: str) -> None:
    assert parse_spf(record).valid, parse_spf(record).problems


def test_hostile_input_never_raises() -> None:
    for text in [
        "v=spf1 " + "a " * 5000,
        "v=spf1 " + "%{" * 100,
        "v=spf1 " + "\x00" * 10,
        "v=spf1 ip4:" + "9" * 400,
    ]:
        assert isinstance(parse_spf(text).problems, tuple)


def test_domain_spec_end() -> None:
    assert isinstance(parse_domain_spec("%{d}"), MacroString)
    assert isinstance(parse_domain_spec("foo.%{d}%%"), MacroString)
    assert isinstance(parse_domain_spec("foo.com."), MacroString)
    assert isinstance(parse_domain_spec("%{d}.com"), MacroString)
    assert isinstance(parse_domain_spec("foo"), str)
    assert isinstance(parse_domain_spec("%{d}x"), str)
    assert isinstance(parse_domain_spec(""), str)


def test_explanation_strings_allow_spaces_and_crt() -> None:
    parsed = parse_macro_string("%{c} at %{t} via %{r}", explanation=True)
    assert isinstance(parsed, MacroString) and parsed.letters == {"c", "t", "r"}
    assert isinstance(parse_macro_string("a b"), str)


VALUES = MacroValues(
    sender="strong-bad@email.example.com",
    domain="email.example.com",
    ip="192.0.2.3",
    helo="mx.example.org",
    receiver="receiver.example.net",
    timestamp=1700000000,
)


@pytest.mark.parametrize(
    ("macro", "expanded"),
    [
        # RFC 7208 §7.4 examples
        ("%{s}", "strong-bad@email.example.com"),
        ("%{o}", "email.example.com"),
        ("%{d}", "email.example.com"),
        ("%{d4}", "email.example.com"),
        ("%{d3}", "email.example.com"),
        ("%{d2}", "example.com"),
        ("%{d1}", "com"),
        ("%{dr}", "com.example.email"),
        ("%{d2r}", "example.email"),
        ("%{l}", "strong-bad"),
        ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"),
        ("%{lr-}", "bad.strong"),
        ("%{l1r-}", "strong"),
        ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
        ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
        ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
        ("%{h}", "mx.example.org"),
        ("%{p}", "unknown"),
        ("%%%_%-", "% %20"),
        ("%{L}", "strong-bad"),
    ],
)
def test_expansion(macro: str, expanded: str) -> None:
    parsed = parse_macro_string(macro)
    assert isinstance(parsed, MacroString)
    assert expand(parsed, VALUES) == expanded


def test_exp_only_letters_and_url_escaping() -> None:
    parsed = parse_macro_string("%{c} %{r} %{t} %{S}", explanation=True)
    assert isinstance(parsed, MacroString)
    assert (
        expand(parsed, VALUES) == "192.0.2.3 receiver.example.net 1700000000 strong-bad%40email.example.com"
    )


def test_ipv6_macros() -> None:
    values = MacroValues("a@example.test", "example.test", "2001:db8::cb01", "h")
    parsed = parse_macro_string("%{ir}.%{v}._spf.%{d2}")
    assert isinstance(parsed, MacroString)
    assert expand(parsed, values) == (
        "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.test"
    )
    exp = parse_macro_string("%{c}", explanation=True)
    assert isinstance(exp, MacroString) and expand(exp, values) == "2001:db8::cb01"


def test_macro_parts() -> None:
    parsed = parse_macro_string("x.%{l2r-+}")
    assert isinstance(parsed, MacroString)
    assert parsed.parts == ("x.", Macro("l", 2, True, "-+"))


def test_long_target_names_are_cut_label_by_label() -> None:
    name = ".".join(["a" * 60] * 5) + ".example.test."
    cut = target_name(name)
    assert len(cut) <= 253 and cut.endswith(".example.test") and not cut.startswith(".")


def test_mechanism_text_is_kept_verbatim() -> None:
    (mechanism,) = parse_spf("v=spf1 ~IP4:192.0.2.7").mechanisms
    assert isinstance(mechanism, Mechanism) and mechanism.text == "~IP4:192.0.2.7"

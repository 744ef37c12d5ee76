from __future__ import annotations

import pytest

from mimawari.errors import InvalidDomainError
from mimawari.parse.names import normalize_domain, organizational_domain


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Example.COM.", "example.com"),
        (" example.co.jp ", "example.co.jp"),
        ("例え.jp", "xn--r8jz45g.jp"),
        ("a-b.example", "a-b.example"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize_domain(text) == expected


@pytest.mark.parametrize(
    "text", ["", "localhost", "bad..name", "-x.example", "x_y.example", "1.2.3.4", "a" * 64 + ".com"]
)
def test_normalize_rejects(text: str) -> None:
    with pytest.raises(InvalidDomainError):
        normalize_domain(text)


@pytest.mark.parametrize(
    ("name", "org"),
    [
        ("mail.example.com", "example.com"),
        ("a.b.example.co.jp", "example.co.jp"),
        ("news.kuroneko.example", "kuroneko.example"),
        ("example.com", "example.com"),
        ("co.jp", "co.jp"),
    ],
)
def test_organizational_domain_from_bundled_psl(name: str, org: str) -> None:
    assert organizational_domain(name) == org

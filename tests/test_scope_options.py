from __future__ import annotations

import re
from pathlib import Path

import pytest

from mimawari.errors import InputError
from mimawari.observe import Scope
from mimawari.options import parse_port_map, read_trust_anchors


@pytest.mark.parametrize(
    ("address", "scope", "allowed"),
    [
        ("8.8.8.8", Scope(), True),
        ("2001:4860:4860::8888", Scope(), True),
        ("127.0.0.1", Scope(), False),
        ("127.0.0.1", Scope(allow_loopback=True), True),
        ("::1", Scope(allow_loopback=True), True),
        ("10.1.2.3", Scope(), False),
        ("10.1.2.3", Scope(allow_private=True), True),
        ("fd00::1", Scope(), False),
        ("169.254.169.254", Scope(allow_private=True), False),  # cloud metadata: never
        ("0.0.0.0", Scope(allow_private=True, allow_loopback=True), False),
        ("224.0.0.1", Scope(allow_private=True), False),
        ("not-an-ip", Scope(allow_private=True), False),
    ],
)
def test_scope(address: str, scope: Scope, allowed: bool) -> None:
    assert (scope.refusal(address) is None) is allowed


def test_port_map() -> None:
    assert parse_port_map(["443=8443", "25=2525"]) == {443: 8443, 25: 2525}
    for bad in ("443", "a=b", "0=1", "443=70000"):
        with pytest.raises(InputError, match="PORT=PORT"):
            parse_port_map([bad])


def test_trust_anchor_file(tmp_path: Path) -> None:
    path = tmp_path / "anchors"
    ds = ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"
    path.write_text(f"; root KSK-2017\n\n{ds} ; comment\n")
    assert read_trust_anchors(str(path)) == (ds,)
    path.write_text(f"{ds}\nlab. IN DS 1 13 2 ABCD\n")  # a digest of the wrong length
    with pytest.raises(InputError, match=re.escape("not a DS or DNSKEY record: 'lab. IN DS 1 13 2 ABCD'")):
        read_trust_anchors(str(path))
    path.write_text("; nothing\n")
    with pytest.raises(InputError, match="holds no"):
        read_trust_anchors(str(path))
    with pytest.raises(InputError, match="cannot read"):
        read_trust_anchors(str(tmp_path / "missing"))

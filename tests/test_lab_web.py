"""The lab's CA and HTTPS server, and ``Lab`` (DNS + HTTPS from one YAML document)."""

from __future__ import annotations

import asyncio
import os
import ssl

import pytest
from cryptography import x509

from mimawari.errors import LabError, ZoneError
from mimawari.lab.ca import WRONG_NAME, CertMode, LabCa
from mimawari.lab.web import HttpsPath, HttpsSite, HttpsSites, WebLab, sites_from_yaml
from mimawari.lab.world import Lab, LabScope
from mimawari.lookup import HttpRequest, Query
from mimawari.model import Status

LAB_YAML = """
zones:
  shop.test:
    records:
      mta-sts: {A: 203.0.113.10, AAAA: "2001:db8::10"}
      inside: {A: 10.1.2.3}
https:
  sites:
    mta-sts.shop.test:
      paths:
        /.well-known/mta-sts.txt:
          body: "version: STSv1\\n"
"""


def _load(path: str) -> x509.Certificate:
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def test_ca_issues_the_four_certificate_modes() -> None:
    with LabCa() as ca:
        chain = {mode: _load(ca.issue("a.test", mode).cert_file) for mode in CertMode}
        assert os.path.exists(ca.ca_file)
        assert chain[CertMode.VALID].issuer == ca.certificate.subject
        assert chain[CertMode.EXPIRED].not_valid_after_utc < ca.certificate.not_valid_before_utc
        names = chain[CertMode.WRONG_NAME].extensions.get_extension_for_class(x509.SubjectAlternativeName)
        assert names.value.get_values_for_type(x509.DNSName) == [WRONG_NAME]
        assert chain[CertMode.SELF_SIGNED].issuer == chain[CertMode.SELF_SIGNED].subject
        directory = ca.directory
    assert not os.path.exists(directory)


def test_sites_from_yaml() -> None:
    sites = sites_from_yaml(
        """
https:
  sites:
    Mta-Sts.Shop.Test.:
      cert: expired
      paths:
        /a: {body: hello}
        /b: {redirect: "https://elsewhere.test/"}
        /c: {status: 500, content_type: text/html, stall: true}
"""
    )
    site = sites.site("mta-sts.shop.test")
    assert site is not None and site.cert is CertMode.EXPIRED
    assert site.paths["/a"] == HttpsPath(body="hello")
    assert site.paths["/b"] == HttpsPath(status=301, redirect="https://elsewhere.test/")
    assert site.paths["/c"] == HttpsPath(status=500, content_type="text/html", stall=True)
    assert sites_from_yaml("zones: {}") == HttpsSites()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("https: {sites: {a.test: {cert: bogus}}}", "cert must be one of"),
        ("https: {sites: {a.test: {paths: {/: {status: 999}}}}}", "status must be an HTTP status"),
        ("https: {sites: {a.test: {paths: {/: {colour: red}}}}}", "unknown keys"),
        ("https: {sites: [a.test]}", "'sites' mapping"),
        ("https: {sites: {a.test: {paths: [/]}}}", "'paths' mapping"),
        ("https: [", "lab YAML"),
    ],
)
def test_bad_site_yaml_is_a_zone_error(text: str, message: str) -> None:
    with pytest.raises(ZoneError, match=message):
        sites_from_yaml(text)


def test_the_lab_listens_on_loopback_only() -> None:
    with pytest.raises(LabError):
        WebLab(HttpsSites(), host="192.0.2.1")


async def test_server_chooses_certificate_by_sni_and_answer_by_host() -> None:
    sites = HttpsSites(
        (
            HttpsSite("one.test", paths={"/": HttpsPath(body="one")}),
            HttpsSite("two.test", paths={"/": HttpsPath(body="two")}),
        )
    )
    async with WebLab(sites) as web:
        context = ssl.create_default_context(cafile=web.ca_file)
        for host in ("one.test", "two.test"):
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", web.port, ssl=context, server_hostname=host
            )
            writer.write(f"GET /?q=1 HTTP/1.1\r\nHost: {host}:{web.port}\r\n\r\n".encode())
            reply = await reader.read()
            writer.close()
            assert reply.startswith(b"HTTP/1.1 200 OK\r\n") and reply.endswith(host[:3].encode())
        assert web.requests == [("one.test", "/"), ("two.test", "/")]


def test_lab_scope_admits_documentation_prefixes_and_loopback_only() -> None:
    scope = LabScope()
    for address in ("203.0.113.10", "198.51.100.1", "192.0.2.7", "2001:db8::1", "127.0.0.1", "::1"):
        assert scope.refusal(address) is None, address
    for address in ("10.1.2.3", "192.168.0.1", "169.254.1.1", "not-an-ip"):
        assert scope.refusal(address) is not None, address


async def test_lab_resolves_and_serves_from_one_yaml_document() -> None:
    async with Lab.from_yaml(LAB_YAML) as lab:
        assert os.path.exists(lab.ca_file)
        assert lab.address_map() == dict.fromkeys(("203.0.113.10", "2001:db8::10", "10.1.2.3"), "127.0.0.1")
        network = lab.network()
        answer = await network.dns.query(Query.of("mta-sts.shop.test", "A"))
        assert answer.records == ("203.0.113.10",)
        for address in ("203.0.113.10", "2001:db8::10"):
            url = "https://mta-sts.shop.test/.well-known/mta-sts.txt"
            response = await network.http.fetch(HttpRequest(url, address))
            assert (response.status, response.http_status, response.body) == (
                Status.PRESENT,
                200,
                "version: STSv1\n",
            )
        refused = await network.http.fetch(HttpRequest("https://inside.shop.test/", "10.1.2.3"))
        assert refused.status is Status.ERROR and "private address" in refused.detail
        ca_file = lab.ca_file
    assert not os.path.exists(ca_file)


def test_lab_yaml_must_be_a_mapping() -> None:
    with pytest.raises(ZoneError):
        Lab.from_yaml("- a\n- b\n")

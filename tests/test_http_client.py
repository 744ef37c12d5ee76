"""``HttpClient`` against the lab HTTPS server: every way a fetch can end is a value, never an exception."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mimawari.lab.web import HttpsPath, HttpsSite, HttpsSites, WebLab
from mimawari.lab.world import Lab, LabScope
from mimawari.lookup import HttpRequest
from mimawari.model import Status
from mimawari.observe import HttpClient, Scope

ADDRESS = "203.0.113.10"
LAB_YAML = """
zones:
  web.test:
    records:
      www: {A: 203.0.113.10}
https:
  sites:
    www.web.test:
      paths:
        /ok: {body: "hello\\n"}
        /svg: {content_type: image/svg+xml, body: "<svg/>"}
        /moved: {redirect: "https://other.web.test/ok"}
        /slow: {stall: true}
        /big: {body: "0123456789abcdef"}
    expired.web.test: {cert: expired, paths: {/ok: {body: x}}}
    wrong.web.test: {cert: wrong-name, paths: {/ok: {body: x}}}
    self.web.test: {cert: self-signed, paths: {/ok: {body: x}}}
"""


@pytest.fixture
async def lab() -> AsyncIterator[Lab]:
    async with Lab.from_yaml(LAB_YAML) as running:
        yield running


def client(lab: Lab, **options: object) -> HttpClient:
    return HttpClient(
        scope=LabScope(),
        ca_file=lab.ca_file,
        port_map={443: lab.https_port},
        address_map={ADDRESS: "127.0.0.1"},
        **options,  # type: ignore[arg-type]
    )


def get(path: str, host: str = "www.web.test", address: str = ADDRESS) -> HttpRequest:
    return HttpRequest(f"https://{host}{path}", address)


async def test_success(lab: Lab) -> None:
    response = await client(lab).fetch(get("/ok"))
    assert response.status is Status.PRESENT
    assert (response.http_status, response.content_type, response.body) == (200, "text/plain", "hello\n")
    assert response.request.address == ADDRESS  # the snapshot keeps the address the plan chose
    assert response.describe() == "HTTP 200, text/plain, 6 characters"
    svg = await client(lab).fetch(get("/svg"))
    assert svg.content_type == "image/svg+xml"


async def test_not_found_is_an_answer(lab: Lab) -> None:
    response = await client(lab).fetch(get("/nothing"))
    assert (response.status, response.http_status) == (Status.PRESENT, 404)
    unknown_site = await client(lab).fetch(get("/ok", host="www.web.test.nope"))
    assert unknown_site.status is Status.ERROR  # the default certificate is for no lab site


@pytest.mark.parametrize(
    ("host", "detail"),
    [
        ("expired.web.test", "certificate verify failed: certificate has expired"),
        ("wrong.web.test", "certificate verify failed: Hostname mismatch, certificate is not valid for"),
        ("self.web.test", "certificate verify failed: self-signed certificate"),
    ],
)
async def test_certificate_failures_are_errors_with_a_clear_detail(lab: Lab, host: str, detail: str) -> None:
    response = await client(lab).fetch(get("/ok", host=host))
    assert response.status is Status.ERROR
    assert response.detail.startswith(detail), response.detail
    assert "_ssl.c" not in response.detail and "\n" not in response.detail


async def test_untrusted_lab_ca_fails_verification(lab: Lab) -> None:
    plain = HttpClient(scope=LabScope(), port_map={443: lab.https_port}, address_map={ADDRESS: "127.0.0.1"})
    response = await plain.fetch(get("/ok"))
    assert response.status is Status.ERROR and "certificate verify failed" in response.detail


async def test_timeout(lab: Lab) -> None:
    response = await client(lab, timeout=0.3).fetch(get("/slow"))
    assert response.status is Status.TIMEOUT
    assert response.detail == "no answer within 0.3 s"


async def test_body_size_cap(lab: Lab) -> None:
    response = await client(lab, max_body=10).fetch(get("/big"))
    assert response.status is Status.ERROR
    assert response.detail == "body larger than 10 bytes"
    assert (await client(lab, max_body=16).fetch(get("/big"))).status is Status.PRESENT


async def test_redirect_is_reported_not_followed(lab: Lab) -> None:
    response = await client(lab).fetch(get("/moved"))
    assert (response.status, response.http_status) == (Status.PRESENT, 301)
    assert response.redirect == "https://other.web.test/ok"
    assert lab.web.requests == [("www.web.test", "/moved")]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.2.3", "private address"),
        ("127.0.0.1", "loopback address"),
        ("169.254.0.1", "not a unicast address"),
        ("www.web.test", "is not an IP address"),
    ],
)
async def test_scope_is_checked_on_the_planned_address_before_mapping(
    lab: Lab, address: str, reason: str
) -> None:
    strict = HttpClient(
        scope=Scope(),
        ca_file=lab.ca_file,
        port_map={443: lab.https_port},
        address_map={address: "127.0.0.1"},
    )
    response = await strict.fetch(get("/ok", address=address))
    assert response.status is Status.ERROR and reason in response.detail
    assert lab.web.requests == []


async def test_documentation_address_is_out_of_scope_outside_the_lab(lab: Lab) -> None:
    outside = HttpClient(ca_file=lab.ca_file, address_map={ADDRESS: "127.0.0.1"})
    response = await outside.fetch(get("/ok"))
    assert response.status is Status.ERROR and "out of scope" in response.detail


async def test_not_an_https_url(lab: Lab) -> None:
    response = await client(lab).fetch(HttpRequest("ftp://www.web.test/ok", ADDRESS))
    assert response.status is Status.ERROR and "not an http(s) URL" in response.detail


async def test_connection_refused_is_an_error(lab: Lab) -> None:
    closed = HttpClient(
        scope=LabScope(), ca_file=lab.ca_file, port_map={443: 9}, address_map={ADDRESS: "127.0.0.1"}
    )
    response = await closed.fetch(get("/ok"))
    assert response.status is Status.ERROR and response.detail


async def test_same_request_is_fetched_once(lab: Lab) -> None:
    http = client(lab)
    first, second = await http.fetch(get("/ok")), await http.fetch(get("/ok"))
    assert first == second
    assert lab.web.requests == [("www.web.test", "/ok")]


async def test_ipv6_loopback() -> None:
    sites = HttpsSites((HttpsSite("v6.web.test", paths={"/": HttpsPath(body="six")}),))
    async with WebLab(sites, host="::1") as web:
        http = HttpClient(scope=Scope(allow_loopback=True), ca_file=web.ca_file, port_map={443: web.port})
        response = await http.fetch(HttpRequest("https://v6.web.test/", "::1"))
        mapped = HttpClient(
            scope=LabScope(),
            ca_file=web.ca_file,
            port_map={443: web.port},
            address_map={"2001:db8::6": "::1"},
        )
        via_map = await mapped.fetch(HttpRequest("https://v6.web.test/", "2001:db8::6"))
    assert (response.status, response.body) == (Status.PRESENT, "six")
    assert (via_map.status, via_map.body) == (Status.PRESENT, "six")

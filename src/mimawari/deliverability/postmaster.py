"""Google Postmaster Tools: the daily user-reported spam rate Gmail measures for a domain.

Read from the Postmaster Tools API v1 (``domains.trafficStats.list``: ``startDate`` inclusive, ``endDate``
exclusive, paged with ``pageToken``) with an OAuth access token for the ``postmaster.readonly`` scope in
``$MIMAWARI_POSTMASTER_TOKEN`` (``gcloud auth print-access-token`` or any OAuth client makes one), or from
a file holding what the API returned: a saved response (``{"trafficStats": [...]}``) or a list of
``TrafficStats`` objects.

``userReportedSpamRatio`` is the share of DKIM-authenticated mail delivered to the inbox that users marked
as spam; Gmail leaves it out on days with too little traffic, and the day is then kept without a rate.
The client takes an ``httpx`` transport, so tests hand it a ``MockTransport`` and never call Google. Every
failure is one line: the token never appears in it, a 4xx is the user's to fix (``InputError``), a
timeout or a 5xx is Google's (``OperationalError``).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from mimawari.deliverability.exports import read_export
from mimawari.errors import InputError, InvalidDomainError, OperationalError
from mimawari.model import SpamRateDay
from mimawari.parse.names import normalize_domain

SOURCE = "google-postmaster"
API = "https://gmailpostmastertools.googleapis.com/v1"
TOKEN_ENV = "MIMAWARI_POSTMASTER_TOKEN"
PAGE_SIZE = 100
MAX_PAGES = 100
"""A server that keeps handing out page tokens is stopped here (a year of days is four pages)."""
MAX_RESPONSE_BYTES = 8 << 20
TIMEOUT_SECONDS = 30.0


def token_from_environment(environ: Mapping[str, str] | None = None) -> str:
    token = (os.environ if environ is None else environ).get(TOKEN_ENV, "").strip()
    if not token:
        raise InputError(
            f"set {TOKEN_ENV} to an OAuth access token for the postmaster.readonly scope "
            "(or import a saved API response with --file)"
        )
    return token


def _one_line(text: str, secret: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    if secret:
        line = line.replace(secret, "<token>")
    return line[:limit]


class PostmasterClient:
    """``with PostmasterClient(token) as client: client.traffic_stats("example.com", start, end)``."""

    def __init__(
        self,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        base_url: str = API,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._token = token
        self._timeout = timeout
        self._base = base_url.rstrip("/")
        self._http = httpx.Client(
            transport=transport,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PostmasterClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def traffic_stats(self, domain: str, start: date, end: date) -> Iterator[Any]:
        """Every ``TrafficStats`` object of ``domain`` for the days from ``start`` up to (not including)
        ``end``, page after page."""
        url = f"{self._base}/domains/{domain}/trafficStats"
        params: dict[str, str | int] = {"pageSize": PAGE_SIZE}
        for prefix, day in (("startDate", start), ("endDate", end)):
            params |= {f"{prefix}.year": day.year, f"{prefix}.month": day.month, f"{prefix}.day": day.day}
        seen: set[str] = set()
        for _page in range(MAX_PAGES):
            body = self._get(url, params, domain)
            stats = body.get("trafficStats", [])
            if not isinstance(stats, list):
                raise OperationalError("Postmaster Tools API: trafficStats in the response is not a list")
            yield from stats
            token = body.get("nextPageToken") or ""
            if not token:
                return
            if not isinstance(token, str) or token in seen:
                raise OperationalError("Postmaster Tools API: the pages do not end (a page token repeats)")
            seen.add(token)
            params["pageToken"] = token
        raise OperationalError(f"Postmaster Tools API: more than {MAX_PAGES} pages; ask for fewer days")

    def _get(self, url: str, params: Mapping[str, str | int], domain: str) -> dict[str, Any]:
        try:
            with self._http.stream("GET", url, params=params) as response:
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > MAX_RESPONSE_BYTES:
                        raise OperationalError(
                            f"Postmaster Tools API: response larger than {MAX_RESPONSE_BYTES >> 20} MiB"
                        )
                status = response.status_code
        except httpx.TimeoutException:
            raise OperationalError(
                f"Postmaster Tools API did not answer within {self._timeout:g} s; try again later"
            ) from None
        except httpx.HTTPError as error:
            reason = _one_line(str(error) or type(error).__name__, self._token)
            raise OperationalError(f"cannot reach the Postmaster Tools API: {reason}") from None
        if status >= 400:
            raise self._refused(status, bytes(data), domain)
        try:
            body = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise OperationalError(f"Postmaster Tools API: the answer (HTTP {status}) is not JSON") from None
        if not isinstance(body, dict):
            raise OperationalError("Postmaster Tools API: the answer is not a JSON object")
        return body

    def _refused(self, status: int, data: bytes, domain: str) -> InputError | OperationalError:
        detail = ""
        try:
            error = json.loads(data).get("error", {})
            detail = f"{error.get('status', '')}: {error.get('message', '')}".strip(": ")
        except (ValueError, UnicodeDecodeError, AttributeError):
            pass
        detail = f" ({_one_line(detail, self._token)})" if detail else ""
        if status == 401:
            return InputError(
                f"Postmaster Tools API refused the token in {TOKEN_ENV} (HTTP 401{detail}): it has expired "
                "or lacks the postmaster.readonly scope"
            )
        if status in (403, 404):
            return InputError(
                f"Postmaster Tools API: no access to {domain} (HTTP {status}{detail}); verify the domain "
                "in Postmaster Tools with the account the token belongs to"
            )
        if status < 500 and status != 429:
            return InputError(f"Postmaster Tools API refused the request (HTTP {status}{detail})")
        return OperationalError(f"Postmaster Tools API failed (HTTP {status}{detail}); try again later")


def fetch(
    domain: str,
    start: date,
    end: date,
    token: str,
    *,
    transport: httpx.BaseTransport | None = None,
    base_url: str = API,
) -> tuple[SpamRateDay, ...]:
    """The days from ``start`` to ``end`` (exclusive) as the API gives them for ``domain``."""
    name = _domain(domain)
    with PostmasterClient(token, transport=transport, base_url=base_url) as client:
        return days_of(client.traffic_stats(name, start, end), name, "Postmaster Tools API")


def read_file(path: Path, domain: str) -> tuple[SpamRateDay, ...]:
    """The days in a saved API response (or a list of ``TrafficStats`` objects) for ``domain``."""
    name = _domain(domain)
    data = read_export(path)
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not JSON ({_one_line(str(error), '', 80)})") from None
    if isinstance(document, dict) and "trafficStats" in document:
        document = document["trafficStats"]
    if not isinstance(document, list):
        raise InputError(
            f'{path}: expected a Postmaster Tools API response ({{"trafficStats": [...]}}) '
            "or a list of trafficStats objects"
        )
    return days_of(document, name, str(path))


def _domain(domain: str) -> str:
    try:
        return normalize_domain(domain)
    except InvalidDomainError as error:
        raise InputError(str(error)) from None


def days_of(stats: Iterable[Any], domain: str, origin: str) -> tuple[SpamRateDay, ...]:
    """Each ``TrafficStats`` object as a day of ``domain``, oldest first; one bad object stops the import
    with a line naming it (a partial import would leave holes that look like clean days)."""
    days: dict[str, SpamRateDay] = {}
    for index, item in enumerate(stats):
        where = f"{origin}: trafficStats[{index}]"
        if not isinstance(item, dict):
            raise InputError(f"{where} is not an object")
        day = _day(item.get("name"), domain, where)
        days[day] = SpamRateDay(day, SOURCE, _ratio(item.get("userReportedSpamRatio"), f"{where} ({day})"))
    return tuple(days[day] for day in sorted(days))


def _day(name: object, domain: str, where: str) -> str:
    """``domains/example.com/trafficStats/20261201`` → ``2026-12-01``."""
    parts = name.split("/") if isinstance(name, str) else []
    if len(parts) != 4 or parts[0] != "domains" or parts[2] != "trafficStats":
        raise InputError(f"{where}: name {str(name)[:100]!r} is not domains/<domain>/trafficStats/<yyyymmdd>")
    if parts[1].lower().rstrip(".") != domain:
        raise InputError(f"{where}: the figures are for {parts[1][:100]}, not {domain}")
    stamp = parts[3]
    try:
        if len(stamp) != 8 or not stamp.isdigit():
            raise ValueError(stamp)
        return date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:])).isoformat()
    except ValueError:
        raise InputError(f"{where}: {stamp[:20]!r} in the name is not a day (yyyymmdd)") from None


def _ratio(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{where}: userReportedSpamRatio {str(value)[:40]!r} is not a number")
    if not 0 <= value <= 1:
        raise InputError(f"{where}: userReportedSpamRatio {value} is not a ratio between 0 and 1")
    return float(value)

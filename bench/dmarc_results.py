"""What each tool of the DMARC parse benchmark found, read from its output and held against the truth of
the generated corpus (``bench/dmarc_corpus.py``).

- mimawari: ``mimawari dmarc parse DIR --format json`` prints one JSON object a line per report found
  (``file``, ``kind``, ``ok``, ``error``, ``report_id``, ``org_name``, ``domain``, ``begin``, ``end``,
  ``records``, ``messages``), and ``ok: false`` lines for what it rejected.
- parsedmarc: ``OUT/aggregate.csv`` has one row per record (with ``report_id``, ``domain``, ``count``);
  what it rejected it logs on stderr as ``Failed to parse PATH - why``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.dmarc_corpus import Corpus, ReportTruth


@dataclass(frozen=True)
class Found:
    """One report a tool says it parsed. Fields the tool does not give (or changes on purpose, such as
    parsedmarc's org names) are None and not compared."""

    report_id: str
    file: str
    """The corpus file it came from, relative to the corpus folder; ``""`` when the tool does not say."""
    records: int
    messages: int
    kind: str = "aggregate"
    org_name: str | None = None
    domain: str | None = None
    begin: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class Verdict:
    reports: int
    """Valid reports of the corpus found (each counted once)."""
    records: int
    """Their records, as the tool counted them."""
    messages: int
    rejected: tuple[str, ...]
    """The broken files the tool rejected."""
    missing: tuple[str, ...] = ()
    wrong: tuple[str, ...] = ()
    """Reports found with other records, messages or fields than the corpus has."""
    duplicated: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    """Reports (or rejections) of things the corpus does not have."""
    broken_accepted: tuple[str, ...] = ()
    """Broken files the tool did not reject: what it made of them."""
    valid_rejected: tuple[str, ...] = ()

    def problems(self) -> dict[str, tuple[str, ...]]:
        return {
            "valid reports not found": self.missing,
            "reports with other counts or fields": self.wrong,
            "reports found twice": self.duplicated,
            "not in the corpus": self.unexpected,
            "broken files not rejected": self.broken_accepted,
            "valid files rejected": self.valid_rejected,
        }

    @property
    def exact(self) -> bool:
        return not any(self.problems().values())


def corpus_file(path: str, corpus: Corpus) -> str:
    """The corpus file ``path`` names: relative to the corpus folder, and possibly followed by a member
    (``x.zip/a.xml``, ``x.zip!a.xml``) or more text (``x.xml - why``): the longest file name it starts
    with. A path of no corpus file comes back as given."""
    return _file_in(path, corpus, _names(corpus))


def _file_in(path: str, corpus: Corpus, names: set[str]) -> str:
    for prefix in (f"{corpus.directory.resolve()}/", f"{corpus.directory}/"):
        if path.startswith(prefix):
            path = path.removeprefix(prefix)
            break
    if path in names:
        return path
    return max((name for name in names if path.startswith(name)), key=len, default=path)


def _names(corpus: Corpus) -> set[str]:
    return {r.file for r in corpus.reports} | {b.file for b in corpus.broken}


def _epoch(value: object) -> int | None:
    """A report period bound as seconds since the epoch: an integer, its text, or ISO 8601 (UTC when
    no offset is given)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    moment = datetime.fromisoformat(text)
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def read_mimawari(lines: Iterable[str], corpus: Corpus) -> tuple[list[Found], list[str]]:
    """The reports of ``dmarc parse --format json`` output and the corpus files it rejected."""
    found: list[Found] = []
    failed: list[str] = []
    names = _names(corpus)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise TypeError("not an object")
            file = _file_in(str(item.get("file") or ""), corpus, names)
            if not item.get("ok"):
                failed.append(file)
                continue
            found.append(
                Found(
                    str(item.get("report_id") or ""),
                    file,
                    int(item["records"]),
                    int(item["messages"]),
                    str(item.get("kind") or ""),
                    item.get("org_name"),
                    item.get("domain"),
                    _epoch(item.get("begin")),
                    _epoch(item.get("end")),
                )
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"line {number}: {exc.__class__.__name__}: {exc}") from None
    return found, failed


def read_parsedmarc(
    rows: Iterable[Mapping[str, str]], log: Iterable[str], corpus: Corpus
) -> tuple[list[Found], list[str]]:
    """The reports of parsedmarc's ``aggregate.csv`` (rows of one report in a run, as it writes them)
    and the corpus files its log says it failed to parse. It does not say which file a report came from."""
    records: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    domains: dict[str, str] = {}
    for row in rows:
        report_id = row["report_id"]
        records[report_id] += 1
        messages[report_id] += int(row["count"])
        domains[report_id] = row["domain"]
    found = [Found(i, "", records[i], messages[i], domain=domains[i]) for i in records]
    marker, names = "Failed to parse ", _names(corpus)
    failed = [
        _file_in(line.split(marker, 1)[1].rstrip("\n"), corpus, names) for line in log if marker in line
    ]
    return found, failed


def _differences(found: Found, truth: ReportTruth) -> list[str]:
    expected: dict[str, object] = {
        "records": truth.records,
        "messages": truth.messages,
        "kind": "aggregate",
        "org_name": truth.org_name,
        "domain": truth.domain,
        "begin": truth.begin,
        "end": truth.end,
        "file": truth.file,
    }
    return [
        f"{field} {getattr(found, field)!r} (corpus: {value!r})"
        for field, value in expected.items()
        if getattr(found, field) not in (None, "") and getattr(found, field) != value
    ]


def check(corpus: Corpus, found: Sequence[Found], failed: Iterable[str]) -> Verdict:
    """Every valid report found once with its exact records and messages, and every broken file
    rejected (and nothing else rejected)?"""
    valid = {r.report_id: r for r in corpus.reports}
    broken_by_file = {b.file: b for b in corpus.broken}
    broken_by_id = {b.report_id: b for b in corpus.broken if b.report_id}
    seen: Counter[str] = Counter()
    reports = records = messages = 0
    wrong, duplicated, unexpected = [], [], []
    accepted: dict[str, str] = {}
    for f in found:
        flawed = broken_by_file.get(f.file) or (
            None if f.report_id in valid else broken_by_id.get(f.report_id)
        )
        if flawed is not None:
            accepted[flawed.file] = (
                f"{flawed.file} ({flawed.flaw}): taken as report {f.report_id!r}, {f.records} records"
            )
        elif f.report_id in valid:
            seen[f.report_id] += 1
            if seen[f.report_id] > 1:
                duplicated.append(f"{f.report_id} ({f.file or '?'})")
                continue
            reports, records, messages = reports + 1, records + f.records, messages + f.messages
            if differences := _differences(f, valid[f.report_id]):
                wrong.append(f"{f.report_id}: {', '.join(differences)}")
        else:
            unexpected.append(f"{f.kind or '?'} report {f.report_id!r} ({f.file or '?'})")
    rejected_files = set(failed)
    for b in corpus.broken:
        if b.file not in rejected_files and b.file not in accepted:
            accepted[b.file] = f"{b.file} ({b.flaw}): no result at all"
    known = _names(corpus)
    unexpected += [f"rejected {name!r}" for name in sorted(rejected_files - known)]
    valid_files = {r.file for r in corpus.reports}
    return Verdict(
        reports,
        records,
        messages,
        tuple(b.file for b in corpus.broken if b.file in rejected_files and b.file not in accepted),
        tuple(f"{r.report_id} ({r.file})" for r in corpus.reports if not seen[r.report_id]),
        tuple(wrong),
        tuple(duplicated),
        tuple(unexpected),
        tuple(accepted.values()),
        tuple(sorted(rejected_files & valid_files)),
    )

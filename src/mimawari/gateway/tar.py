"""tar (usually out of a gzip): a container without encryption of its own, read for what it holds.

The stdlib ``tarfile`` walks the headers; only regular files are examined, each by its first bytes.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator

from mimawari.gateway.budgets import Meter
from mimawari.gateway.magic import HEAD
from mimawari.gateway.members import Contents, Entry, Want
from mimawari.gateway.verdict import Undecidable


def read_tar(data: memoryview, meter: Meter, want: Want) -> Iterator[Entry]:
    count = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for member in archive:
                count += 1
                meter.check_members(count)
                meter.check_time()
                if not member.isreg() or member.size == 0:
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                head = handle.read(HEAD)
                yield Contents(member.name, head + handle.read() if want(head) else None)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise Undecidable(f"tar archive damaged or truncated ({type(exc).__name__})") from None

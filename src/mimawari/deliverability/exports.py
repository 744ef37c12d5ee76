"""Reading a provider's export file (a saved Postmaster Tools response, an SNDS CSV): whole, but bounded."""

from __future__ import annotations

from pathlib import Path

from mimawari.errors import InputError

MAX_FILE_BYTES = 64 << 20
"""Far beyond years of daily figures; a file this big is not an export."""


def read_export(path: Path) -> bytes:
    """The file's bytes; ``InputError`` in one line when it cannot be read or is too big."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from None
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{path}: larger than {MAX_FILE_BYTES >> 20} MiB")
    return data

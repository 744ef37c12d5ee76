"""The consoles, the one-line error handling and the list formats every command shares. Kept free of heavy
imports: ``mimawari dmarc parse`` starts from here without loading the scanner or the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from mimawari.errors import MimawariError

out = Console(highlight=False, emoji=False)
err = Console(stderr=True, highlight=False, emoji=False)


class ListFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


ListFormatOption = Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.")]


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn mimawari's errors into one line on stderr and the documented exit code."""
    try:
        yield
    except MimawariError as exc:
        err.print(f"mimawari: error: {exc}", markup=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("mimawari: interrupted", markup=False)
        raise typer.Exit(130) from None

"""The consoles, the one-line error handling and the list formats every command shares. Kept free of heavy
imports: ``mimawari dmarc parse`` starts from here without loading the scanner or the store."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from mimawari.errors import InputError, MimawariError

T = TypeVar("T")
R = TypeVar("R")

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


JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs", "-j", min=1, max=64, metavar="N", help="Files read at once. Default: one per CPU."
    ),
]


def existing_paths(paths: list[str]) -> list[Path]:
    """``paths`` as paths, or ``InputError`` naming every one that does not exist."""
    found = [Path(p) for p in paths]
    missing = [str(p) for p in found if not p.exists()]
    if missing:
        raise InputError(f"no such file or directory: {', '.join(missing)}")
    return found


def _quiet_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to report, once


def in_processes(work: Callable[[T], R], items: list[T], jobs: int, chunksize: int) -> Iterator[R]:
    """``map(work, items)``, in order, over ``jobs`` processes when there is more than one item: the
    commands that read many files are CPU-bound, and threads would share one core."""
    if jobs == 1 or len(items) < 2:
        yield from map(work, items)
        return
    with ProcessPoolExecutor(min(jobs, len(items)), initializer=_quiet_worker) as pool:
        yield from pool.map(work, items, chunksize=chunksize)


async def until_terminated(work: Awaitable[object]) -> None:
    """Await ``work`` until it ends or SIGTERM arrives, which ends the command normally (exit 0). Ctrl-C
    cancels it too, and ``asyncio.run`` turns that into KeyboardInterrupt (``user_errors``: exit 130).
    Either way ``work`` is cancelled, so what it holds is released."""
    main = asyncio.current_task()
    assert main is not None
    terminated = asyncio.Event()

    def terminate() -> None:
        terminated.set()
        main.cancel()

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, terminate)
    try:
        await work
    except asyncio.CancelledError:
        if not terminated.is_set():
            raise

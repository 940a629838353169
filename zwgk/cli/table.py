"""Tables for the administrator's terminal, aligned for Chinese text (rich measures each
character's display width; ``f"{s:<12}"`` counts a Chinese character as one column)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

PIPE_WIDTH = 240  # output to a file or a pipe: wide enough that rows never wrap


def console() -> Console:
    tty = sys.stdout.isatty()
    return Console(
        file=sys.stdout,
        width=None if tty else PIPE_WIDTH,
        highlight=False,
        markup=False,
        emoji=False,
        color_system="auto" if tty else None,
        soft_wrap=False,
    )


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print ``rows`` under ``headers``, columns aligned by display width."""
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    for h in headers:
        table.add_column(h, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console().print(table)

"""Tables printed by the commands (`runs`, `health`, `search`), drawn by rich."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Sequence
from typing import Literal

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

Justify = Literal["left", "right"]

# Off a terminal (a pipe, a file) rows are never wrapped: each stays one line for grep and cut.
_UNBOUNDED_WIDTH = 100_000


def print_table(columns: Sequence[tuple[str, Justify]], rows: Iterable[Sequence[object]]) -> None:
    """Print `rows` under the headers of `columns` (title, justification) on standard output;
    cell text is printed as it is (no rich markup)."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for title, justify in columns:
        table.add_column(title, justify=justify, no_wrap=justify == "right")
    for row in rows:
        table.add_row(*(Text(str(cell)) for cell in row))
    terminal = sys.stdout.isatty()
    buffer = io.StringIO()
    console = Console(file=buffer, width=None if terminal else _UNBOUNDED_WIDTH, highlight=False, color_system=None)
    console.print(table)
    for line in buffer.getvalue().splitlines():
        click.echo(line.rstrip())

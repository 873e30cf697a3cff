"""The documentation keeps up with the code: every command and setting is documented."""

from __future__ import annotations

import re

import click

from sahel_crawler import settings
from sahel_crawler.cli import main
from tests.conftest import REPO

DOCS = "\n".join(p.read_text(encoding="utf-8") for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))])


def _commands(group: click.Group, prefix: str = "sahel") -> list[str]:
    names = []
    for name, command in group.commands.items():
        names.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            names += _commands(command, f"{prefix} {name}")
    return names


def test_every_command_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in _commands(main):
        words = name.split()
        # "sahel schedule run|list" documents several subcommands at once
        pattern = r"\b" + r"\s+".join(re.escape(w) for w in words[:-1]) + rf"\b[^\n]*\b{re.escape(words[-1])}\b"
        assert re.search(pattern, readme), f"`{name}` is not documented in README.md"


def test_every_command_has_help_with_an_example() -> None:
    def walk(group: click.Group, path: str) -> None:
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                walk(command, f"{path} {name}")
            else:
                assert command.help and "Example" in command.help, f"`{path} {name}` help lacks an example"

    walk(main, "sahel")


def test_every_environment_variable_is_documented() -> None:
    source = (REPO / "sahel_crawler" / "settings.py").read_text(encoding="utf-8")
    for variable in re.findall(r'os\.environ\.get\("([A-Z_]+)"', source):
        assert variable in DOCS, f"environment variable {variable} is not documented"


def test_every_sahel_setting_is_documented() -> None:
    undocumented = [n for n in dir(settings) if n.startswith("SAHEL_") and n not in DOCS]
    assert not undocumented, f"settings missing from README.md and docs/: {undocumented}"

"""The rooms' import rules of docs/architecture.md, read from the source (an AST walk)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

# room -> (what its modules may import: top-level packages or dotted prefixes)
ALLOWED = {
    "storage": {"sqlalchemy", "alembic", "storage"},
    "schedules": {
        "apscheduler", "pydantic", "sqlalchemy", "storage", "schedules",
        "sahel_crawler.configfile", "sahel_crawler.config_errors",
    },
}  # fmt: skip
# room -> what its modules must never import
FORBIDDEN = {"sahel_crawler/spiders": {"storage", "sqlalchemy", "pipelines"}}


def imported_modules(path: Path) -> set[str]:
    """Every absolute module a file imports (at its top or inside a function)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _within(module: str, names: set[str]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in names)


def _room_imports(room: str) -> list[tuple[str, str]]:
    return [
        (str(path.relative_to(REPO)), module)
        for path in sorted((REPO / room).rglob("*.py"))
        for module in sorted(imported_modules(path))
    ]


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_room_imports_only_what_it_may(room: str) -> None:
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    strays = [
        f"{where} imports {module}"
        for where, module in _room_imports(room)
        if module.split(".")[0] not in stdlib and not _within(module, ALLOWED[room])
    ]
    assert strays == []


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_room_never_imports_what_it_must_not(room: str) -> None:
    strays = [f"{where} imports {module}" for where, module in _room_imports(room) if _within(module, FORBIDDEN[room])]
    assert strays == []


def test_a_stray_import_is_found(tmp_path: Path) -> None:
    stray = tmp_path / "stray.py"
    stray.write_text("def later():\n    from scrapy.http import Response\n", encoding="utf-8")
    assert imported_modules(stray) == {"scrapy.http"}
    assert not _within("scrapy.http", ALLOWED["storage"])

"""Every SAHEL_* default has one home, sahel_crawler/settings.py: its type is what `-s` checks,
and no other module carries a default of its own for it."""

from __future__ import annotations

import ast
import types
from pathlib import Path

import pytest

from sahel_crawler import settings as project_settings
from sahel_crawler.setting_types import SettingType, setting_types
from tests.conftest import REPO, run_sahel

# A value of the wrong type for each type a `-s NAME=VALUE` can get wrong, and how the error
# names the type; any text is a valid str or comma-separated list.
WRONG_VALUES = {"int": ("many", "an integer"), "float": ("many", "a number"), "bool": ("maybe", "true or false")}
SOURCE_ROOTS = ("sahel_crawler", "pipelines", "storage", "schedules", "bench")
SETTING_READS = {"get", "getint", "getfloat", "getbool", "getlist", "getdict", "setdefault"}


def _declared_type(name: str) -> str:
    """The type of a setting as written in the settings module: its annotation, else its default's."""
    annotation = project_settings.__annotations__.get(name)
    if annotation is not None:
        return str(annotation).replace(" | None", "").split("[")[0]
    return type(getattr(project_settings, name)).__name__


def _typed_settings() -> list[str]:
    names = [name for name in vars(project_settings) if name.startswith("SAHEL_")]
    return sorted(name for name in names if _declared_type(name) in WRONG_VALUES)


@pytest.mark.parametrize("name", _typed_settings())
def test_a_wrong_typed_setting_is_refused_naming_it(tmp_path: Path, name: str) -> None:
    value, described = WRONG_VALUES[_declared_type(name)]
    result = run_sahel("crawl", "--db", f"sqlite:///{tmp_path}/x.db", "-s", f"{name}={value}")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == f"sahel: error: {name}: {value!r} is not {described}"


def test_every_setting_has_a_type_the_crawl_checks() -> None:
    names = sorted(name for name in vars(project_settings) if name.startswith("SAHEL_"))
    found = setting_types()
    assert sorted(found) == names
    assert found["SAHEL_EXTRACT_WORKERS"] == SettingType(int, optional=True)
    assert found["SAHEL_DEDUP_THRESHOLD"] == SettingType(float, optional=False)
    assert found["SAHEL_OUTLETS"] == SettingType(list, optional=False)


def test_a_new_setting_is_typed_from_its_default_or_its_annotation() -> None:
    module = types.ModuleType("extra_settings")
    module.SAHEL_NEW_LIMIT = 3
    module.SAHEL_NEW_PATH = None
    module.__annotations__ = {"SAHEL_NEW_PATH": "str | None"}
    assert setting_types(module) == {
        "SAHEL_NEW_LIMIT": SettingType(int, optional=False),
        "SAHEL_NEW_PATH": SettingType(str, optional=True),
    }
    module.__annotations__ = {}
    with pytest.raises(TypeError, match="SAHEL_NEW_PATH"):
        setting_types(module)


def _defaulted_reads(path: Path) -> list[str]:
    """`X.get("SAHEL_...", default)`-style reads in one file, as "path:line name"."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in SETTING_READS or not node.args:
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and str(first.value).startswith("SAHEL_")):
            continue
        if len(node.args) > 1 or any(k.arg == "default" for k in node.keywords):
            found.append(f"{path.relative_to(REPO)}:{node.lineno} {first.value}")
    return found


def test_no_module_but_the_settings_gives_a_setting_a_default() -> None:
    home = REPO / "sahel_crawler" / "settings.py"
    files = [p for root in SOURCE_ROOTS for p in sorted((REPO / root).rglob("*.py")) if p != home]
    assert len(files) > 50
    assert [read for path in files for read in _defaulted_reads(path)] == []

"""Every third-party distribution the package imports is declared, so any pip installs it."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, requires

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import REPO

PACKAGES = ("sahel_crawler", "pipelines", "storage", "schedules")


def _declared() -> set[str]:
    """Distributions in requirements.txt and the optional extras of pyproject.toml."""
    names = set()
    for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(canonicalize_name(Requirement(line).name))
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    for extra in pyproject["project"].get("optional-dependencies", {}).values():
        names |= {canonicalize_name(Requirement(spec).name) for spec in extra}
    return names


def _imported_top_level_modules() -> dict[str, str]:
    """Top-level module -> a file importing it, for every absolute import in the packages."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    found.setdefault(module.split(".")[0], str(path.relative_to(REPO)))
    return found


def test_every_imported_distribution_is_a_declared_requirement() -> None:
    declared = _declared()
    distributions = packages_distributions()
    missing = []
    for module, where in _imported_top_level_modules().items():
        if module in sys.stdlib_module_names or module in PACKAGES:
            continue
        assert module in distributions, f"{module} (imported in {where}) is not installed"
        if not {canonicalize_name(d) for d in distributions[module]} & declared:
            missing.append(f"{distributions[module][0]} (import {module} in {where})")
    assert not missing, f"not in requirements.txt: {missing}"


def _extra_requirements(distribution: str, extra: str) -> list[str]:
    """The distributions `distribution[extra]` adds."""
    try:
        specs = requires(distribution) or []
    except PackageNotFoundError:
        return []
    added = []
    for spec in specs:
        requirement = Requirement(spec)
        marker = requirement.marker
        if marker is not None and "extra" in str(marker) and marker.evaluate({"extra": canonicalize_name(extra)}):
            added.append(requirement.name)
    return added


def test_extras_that_requirements_ask_of_others_are_declared_too() -> None:
    # lxml_html_clean comes only through justext's `lxml[html_clean]`: an old pip leaves such an
    # extra out, and `sahel` then fails at import.
    declared = _declared()
    missing = []
    for name in sorted(declared):
        try:
            specs = requires(name) or []
        except PackageNotFoundError:
            continue  # an optional extra that is not installed here
        queue = [Requirement(spec) for spec in specs]
        seen: set[tuple[str, frozenset[str]]] = set()
        while queue:
            requirement = queue.pop()
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
            if key in seen:
                continue
            seen.add(key)
            for extra in requirement.extras:
                missing += [
                    d for d in _extra_requirements(requirement.name, extra) if canonicalize_name(d) not in declared
                ]
            try:
                queue += [Requirement(spec) for spec in requires(requirement.name) or []]
            except PackageNotFoundError:
                continue
    assert not missing, f"needed through another requirement's extra, not in requirements.txt: {sorted(set(missing))}"

"""The type of each SAHEL_* setting, read from its default in sahel_crawler.settings, and the
check that refuses a `-s NAME=VALUE` of the wrong type before a crawl starts."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scrapy.settings import Settings

from sahel_crawler import settings as project_settings


@dataclass(frozen=True)
class SettingType:
    """One SAHEL_* setting's type: its Python type and whether None (unset) is allowed."""

    kind: type
    optional: bool


# How a value given as text is read as each type, and how the type is named in an error.
_READERS: dict[type, tuple[str, Callable[[Settings, str], Any]]] = {
    bool: ("true or false", Settings.getbool),
    int: ("an integer", Settings.getint),
    float: ("a number", Settings.getfloat),
}


def _annotated_type(annotation: Any) -> SettingType:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        (kind,) = (a for a in args if a is not type(None))
        return SettingType(typing.get_origin(kind) or kind, optional=True)
    return SettingType(typing.get_origin(annotation) or annotation, optional=False)


def setting_types(module: types.ModuleType = project_settings) -> dict[str, SettingType]:
    """Each SAHEL_* setting of `module` with its type: its annotation's, else its default's.

    TypeError names a setting whose default is None and that has no annotation to say its type.
    """
    hints = typing.get_type_hints(module)
    found: dict[str, SettingType] = {}
    for name in sorted(vars(module)):
        if not name.startswith("SAHEL_"):
            continue
        if name in hints:
            found[name] = _annotated_type(hints[name])
        elif getattr(module, name) is None:
            raise TypeError(f"{name} defaults to None: annotate its type in {module.__name__}")
        else:
            found[name] = SettingType(type(getattr(module, name)), optional=False)
    return found


def check_setting_types(settings: Settings) -> None:
    """ValueError naming the first SAHEL_* setting whose value is not of its type."""
    for name, setting in setting_types().items():
        if setting.kind not in _READERS:  # any text is a valid str or comma-separated list
            continue
        if setting.optional and settings.get(name) in (None, ""):
            continue
        description, read = _READERS[setting.kind]
        try:
            read(settings, name)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: {settings.get(name)!r} is not {description}") from None
    threshold = settings.getfloat("SAHEL_DEDUP_THRESHOLD")
    if not 0 < threshold <= 1:
        raise ValueError(f"SAHEL_DEDUP_THRESHOLD: {threshold} is not in (0, 1]")

"""One-line messages for configuration files checked by pydantic models (sources registry,
lexicon, schedule): the file, the entry (outlet, concept or job) and the key of the first
problem, as a user can fix it at once.

Imports pydantic and the YAML reader only: the scheduler uses it without importing the crawler.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sahel_crawler.configfile import clipped, shown

M = TypeVar("M", bound=BaseModel)

# What pydantic's type errors mean in the words of the files' documentation.
_TYPE_PROBLEMS = {
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "too_short": "must not be empty",
}


def validated(
    model: type[M], raw: Any, file: str | Path, *, error: type[Exception], container: str, entry: str, shape: str
) -> M:
    """`raw` (a loaded file) checked by `model`; `error` with the first problem in one line (see
    `first_error_line` for the other arguments)."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(first_error_line(exc, file, container=container, entry=entry, raw=raw, shape=shape)) from None


def first_error_line(
    exc: ValidationError, file: str | Path, *, container: str, entry: str, raw: Any, shape: str
) -> str:
    """The first error of `exc` (an unknown key before others) as "FILE: ENTRY 'ID': key 'KEY': PROBLEM".

    `container` is the top-level key holding the entries (outlets, concepts, jobs), `entry` the
    word for one of them, `raw` the loaded document (to name a list entry by its id) and `shape`
    the sentence for a document whose top level is not what the file needs.
    """
    errors = exc.errors(include_url=False)
    # An unknown key first: a misspelt key is also why the key it was meant to be seems missing.
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc: tuple[Any, ...] = tuple(error["loc"])
    kind = error["type"]
    if not loc or (loc == (container,) and kind in (*_TYPE_PROBLEMS, "missing")):
        return f"{file}: {shape}"
    if loc[0] == container and len(loc) > 1:
        where = f"{file}: {_entry_name(entry, loc[1], raw, container, loc[2:])}"
        keys = loc[2:]
    else:
        where, keys = str(file), loc
    key_parts = [str(k) for k in keys if not isinstance(k, int)]
    if kind == "extra_forbidden":
        return f"{where}: unknown key {shown(key_parts[-1])}"
    if key_parts and key_parts[-1] == "[key]":  # the key of a mapping entry itself is wrong
        key_parts = key_parts[:-1]
    key = f"key {shown('.'.join(key_parts))} " if key_parts else ""
    if kind == "missing":
        return f"{where}: {key}is required"
    if kind in _TYPE_PROBLEMS:
        return f"{where}: {key}{_TYPE_PROBLEMS[kind]} (got {shown(error['input'])})"
    return f"{where}: {key.rstrip()}{': ' if key else ''}{_problem(error)}"


def _entry_name(entry: str, ident: Any, raw: Any, container: str, keys: Sequence[Any]) -> str:
    """`entry 'id'`; a list entry is named by its `id` when it has a usable one, else by number."""
    if not isinstance(ident, int):
        return f"{entry} {shown(ident)}"
    item = raw.get(container)[ident] if isinstance(raw, Mapping) else None
    own_id = item.get("id") if isinstance(item, Mapping) else None
    if isinstance(own_id, str) and own_id and tuple(keys[:1]) != ("id",):
        return f"{entry} {shown(own_id)}"
    return f"{entry} #{ident + 1}"


def _problem(error: Any) -> str:
    """pydantic's message, or the validator's own reason without pydantic's prefix."""
    reason = error.get("ctx", {}).get("error")
    if error["type"] in ("value_error", "assertion_error") and reason is not None:
        return clipped(reason)
    return clipped(error["msg"])

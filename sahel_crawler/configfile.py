"""Reading the YAML files users edit (sources registry, lexicon) with errors they can act on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class ConfigFileError(ValueError):
    """A configuration file that cannot be read or parsed; the message names the file (and line)."""


def read_yaml(path: Path, what: str) -> Any:
    """The parsed YAML document at `path`; `what` names the file's role in messages ("sources file")."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigFileError(f"{path}: {what} not found") from None
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read {what}: {exc}") from None
    return parse_yaml(data, path, what)


def parse_yaml(data: bytes, path: Path, what: str) -> Any:
    """The parsed YAML document of `data`, read from `path`; errors as `read_yaml` words them."""
    try:
        return yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"{path}: cannot read {what}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark else ""
        raise ConfigFileError(f"{path}: malformed YAML{line}: {getattr(exc, 'problem', exc)}") from None

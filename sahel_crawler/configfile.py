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
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigFileError(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"{path}: cannot read {what}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark else ""
        raise ConfigFileError(f"{path}: malformed YAML{line}: {getattr(exc, 'problem', exc)}") from None

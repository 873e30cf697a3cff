"""Reading the YAML files users edit (sources registry, lexicon) with errors they can act on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class ConfigFileError(ValueError):
    """A configuration file that cannot be read or parsed; the message names the file (and line)."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping: PyYAML would keep the
    last silently, and a second `feeds:` or outlet of the same id would hide the first."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: the base class reports it
                break
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} given twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


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
        return yaml.load(data.decode("utf-8"), Loader=_UniqueKeyLoader)  # a SafeLoader
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"{path}: cannot read {what}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark else ""
        raise ConfigFileError(f"{path}: malformed YAML{line}: {getattr(exc, 'problem', exc)}") from None

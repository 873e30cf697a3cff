"""Reading the YAML files users edit (sources registry, lexicon, schedule) with errors they can act on.

Every file loads in bounded time and memory: nesting depth and the size aliases and merge keys
(`<<:`) expand a document to are capped while it is composed, before anything is built from it.
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any

import yaml

# Deeper nesting than any configuration needs; far below Python's recursion limit.
MAX_DEPTH = 50
# Nodes of the document with every alias and merge key expanded: the bundled files hold a few
# thousand, an alias or merge-key bomb billions.
MAX_EXPANDED_NODES = 200_000
# Characters of a loaded value shown in an error message.
MAX_SHOWN_CHARS = 80

_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel, _SHORT_REPR.maxlist, _SHORT_REPR.maxdict, _SHORT_REPR.maxtuple = 3, 4, 4, 4
_SHORT_REPR.maxstring, _SHORT_REPR.maxother = MAX_SHOWN_CHARS, MAX_SHOWN_CHARS


class ConfigFileError(ValueError):
    """A configuration file that cannot be read or parsed; the message names the file (and line)."""


class _TooLarge(yaml.YAMLError):
    """A document nested too deeply, or expanding beyond MAX_EXPANDED_NODES."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


def shown(value: object) -> str:
    """`value` as it may appear in an error message: its repr, short and on one line, whatever
    its size (a loaded value can be an alias bomb whose full repr is gigabytes)."""
    text = _SHORT_REPR.repr(value)
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 3] + "..."


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping (PyYAML would keep the
    last silently, and a second `feeds:` or outlet of the same id would hide the first), and a
    document nested deeper than MAX_DEPTH or expanding to more than MAX_EXPANDED_NODES."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._expanded: dict[int, int] = {}  # id(node) -> its size with aliases expanded

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self._depth >= MAX_DEPTH:
            raise _TooLarge(f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if id(node) not in self._expanded:  # an alias gives a node already sized
            self._expanded[id(node)] = self._size(node)
        return node

    def _size(self, node: yaml.Node) -> int:
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            return 1
        size = 1 + sum(self._expanded.get(id(child), 1) for child in children)
        if size > MAX_EXPANDED_NODES:
            raise _TooLarge(f"aliases and merge keys expand it beyond {MAX_EXPANDED_NODES} nodes", node.start_mark)
        return size

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
                    None, None, f"key {shown(key)} given twice in one mapping", key_node.start_mark
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
        return yaml.load(data.decode("utf-8"), Loader=_BoundedLoader)  # a SafeLoader
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"{path}: cannot read {what}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark else ""
        label = "refused" if isinstance(exc, _TooLarge) else "malformed YAML"
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())[:200]
        raise ConfigFileError(f"{path}: {label}{line}: {problem}") from None


def clipped(message: object) -> str:
    """An exception's or other message's text on one line, cut to a bounded length."""
    text = " ".join(str(message).split())
    return text if len(text) <= 3 * MAX_SHOWN_CHARS else text[: 3 * MAX_SHOWN_CHARS - 3] + "..."

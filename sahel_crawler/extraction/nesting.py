"""Bounds on how deeply a page nests, applied before the extractor walks it.

A real article can sit under hundreds of wrapper elements or next to a JSON-LD block nested a
thousand levels deep; the HTML parser's depth limit (256 elements) then cut the article off, and
the JSON decoder's recursion limit failed the whole page. Both are flattened to a fixed depth.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement, HTMLParser, fromstring
from trafilatura.utils import is_dubious_html, repair_faulty_html

# Deeper elements are unwrapped (their text and children kept): trafilatura's cost grows with the
# square of the depth.
MAX_ELEMENT_DEPTH = 100
# Elements kept wherever they stand: they carry the article's paragraphs and structure.
_BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "pre", "br", "table", "tr", "td", "th"})
# Deeper JSON arrays and objects become null; schema.org articles nest a handful of levels.
MAX_JSON_DEPTH = 32

# trafilatura's own parser, with libxml2's limits raised (depth 256 -> 2048): the page is already
# cut to SAHEL_EXTRACT_MAX_CHARS, which bounds what the raised size limits could let through.
_PARSER = HTMLParser(
    collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True
)
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def parse_html(html: str) -> HtmlElement | None:
    """The page's tree as trafilatura's `load_html` builds it, nested at most MAX_ELEMENT_DEPTH
    levels (deeper wrappers unwrapped); None when it is not HTML."""
    beginning = html[:50].lower()
    try:
        tree = fromstring(repair_faulty_html(html, beginning).encode("utf-8", "surrogatepass"), parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None
    if tree is None or (is_dubious_html(beginning) and len(tree) < 2):
        return None
    _unwrap_deep_elements(tree)
    return tree


def _unwrap_deep_elements(tree: HtmlElement) -> None:
    """Bring the tree within MAX_ELEMENT_DEPTH: first unwrap bare wrappers (no attributes, no
    text, one child: the classes and ids the extractor reads stay), then whatever is still too deep."""
    if not _deeper_than(tree, MAX_ELEMENT_DEPTH):
        return
    for element in [e for e in tree.iter() if _bare_wrapper(e)]:
        element.drop_tag()
    for element in _deeper_than(tree, MAX_ELEMENT_DEPTH):
        element.drop_tag()


def _bare_wrapper(element: HtmlElement) -> bool:
    return (
        isinstance(element.tag, str)
        and element.tag not in _BLOCKS
        and element.tag not in ("html", "head", "body")
        and not element.attrib
        and len(element) == 1
        and not (element.text or "").strip()
        and not (element[0].tail or "").strip()
    )


def _deeper_than(tree: HtmlElement, limit: int) -> list[HtmlElement]:
    """The elements (other than blocks) nested more than `limit` levels deep."""
    deep = []
    depth = 0
    for event, element in etree.iterwalk(tree, events=("start", "end")):
        if event == "end":
            depth -= 1
            continue
        depth += 1
        if depth > limit and isinstance(element.tag, str) and element.tag not in _BLOCKS:
            deep.append(element)
    return deep


def flatten_json(raw: str, limit: int = MAX_JSON_DEPTH) -> str:
    """`raw` JSON with every array or object nested deeper than `limit` replaced by null."""
    if raw.count("[") + raw.count("{") <= limit:
        return raw
    # strings blanked to the same length, so that brackets inside them are not counted
    masked = _JSON_STRING.sub(lambda m: '"' + " " * (len(m[0]) - 2) + '"', raw)
    pieces: list[str] = []
    kept_to = 0
    cut_from: int | None = None
    depth = 0
    for bracket in _JSON_BRACKET.finditer(masked):
        if bracket[0] in "[{":
            depth += 1
            if depth == limit + 1:
                cut_from = bracket.start()
            continue
        if depth == limit + 1 and cut_from is not None:
            pieces += [raw[kept_to:cut_from], "null"]
            kept_to, cut_from = bracket.end(), None
        depth -= 1
    if not pieces:
        return raw
    return "".join([*pieces, raw[kept_to:]])

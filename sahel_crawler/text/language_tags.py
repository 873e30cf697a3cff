"""Language tags as feeds, sitemaps and pages declare them, reduced to their primary subtag."""

from __future__ import annotations

import re

_PRIMARY = re.compile(r"[a-z]{2,3}")
_SUBTAG_OR_LIST = re.compile(r"[-_,]")


def normalise_language(value: str | None) -> str | None:
    """The primary subtag of a declared language tag ("fr-FR", "ar_AR", "EN", "fr, en"), or None."""
    if not value:
        return None
    primary = _SUBTAG_OR_LIST.split(value.strip().lower(), maxsplit=1)[0].strip()
    return primary if _PRIMARY.fullmatch(primary) else None

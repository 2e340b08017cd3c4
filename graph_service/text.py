"""What text the service takes: no control characters. One rule for bodies, queries and paths.

A C0 control character (U+0000–U+001F) or DEL (U+007F) in a name, an alias, a quote or a query
is never what a planner meant: NUL and BEL come from broken encoders, copy-paste from terminals
and fuzzers. Stored, they break what reads the graph later: GraphML and GEXF exports are XML
1.0, which cannot hold them; terminals act on them; search never matches them. So every string
a request carries is refused (422, naming the field) when it holds one.

Tab, line feed and carriage return are kept in long free text only, where articles have them
(the seed's quotes keep the article's line breaks): quotes (``sources[].quote``,
``figures[].quote``), a judgement's ``note`` and attributes declared free text (a link's
``outcome``, in the source's words). Names, aliases, ids, codes, documents, query and path
parameters are one line.

:mod:`graph_service.models` applies the rule to every string of a body (each is annotated
:data:`~graph_service.models.ONE_LINE` or :data:`~graph_service.models.FREE_TEXT`, which also
writes it into the OpenAPI document as the string's pattern);
:func:`graph_service.api.query.refuse_control_characters` to every query and path parameter.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "FREE_TEXT_PATTERN",
    "LINE_PATTERN",
    "first_control_character",
    "refusal",
]

#: A line of text: no C0 control character and no DEL (a JSON Schema pattern, also documented
#: in the OpenAPI document).
LINE_PATTERN: Final[str] = r"^[^\x00-\x1f\x7f]*$"
#: Free text: the same, but tab, line feed and carriage return are allowed.
FREE_TEXT_PATTERN: Final[str] = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

_LINE: Final[re.Pattern[str]] = re.compile(r"[\x00-\x1f\x7f]")
_FREE_TEXT: Final[re.Pattern[str]] = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def first_control_character(text: str, *, free_text: bool = False) -> str | None:
    """The first character of ``text`` the rule refuses, or ``None``."""
    found = (_FREE_TEXT if free_text else _LINE).search(text)
    return found.group() if found else None


def refusal(character: str, *, free_text: bool = False) -> str:
    """Why text holding ``character`` is refused, for a problem's message."""
    allowed = (
        "tab and line breaks are the only ones allowed"
        if free_text
        else "line breaks and tabs only in quotes and notes"
    )
    return f"holds the control character U+{ord(character):04X}; {allowed}"

"""Query parameters a route does not take are refused, not ignored.

A misspelt or misremembered parameter (``limit`` where the route ranks ``top`` rows,
``scope`` where it wants ``region``) used to be dropped silently and the caller got an
answer to a question they did not ask. :func:`refuse_unknown_query` runs before every
route (an app-wide dependency, so a new route is covered without doing anything): it reads
the query parameters the route declares from FastAPI's dependant, the route's own and its
dependencies', under the names a caller sends (aliases such as ``from``), and answers any
other with a 422 problem naming each unknown parameter and the route's closest own name
for it (the vocabulary of :mod:`graph_service.parameters` first, then spelling).

:func:`refuse_control_characters`, app-wide too, answers a query or path parameter holding a
control character with a 422 naming it (the rule of :mod:`graph_service.text`: parameters are
one line).

A route that takes an open set of parameters says so with :func:`open_query`: the
liveness and readiness probes (monitors add cache-busting parameters) and the pages and
static files of the explorer and the API documentation (a browser, an OAuth2 provider or
a cache-buster may add any).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Final, TypeVar

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from rapidfuzz import fuzz, process

from graph_service import text
from graph_service.errors import InvalidInputError
from graph_service.parameters import PARAMETERS

__all__ = [
    "closest",
    "declared_query",
    "is_open",
    "open_query",
    "refuse_control_characters",
    "refuse_unknown_query",
]

#: How alike (rapidfuzz's ratio, 0-100) a misspelling must be to a name to suggest it.
SPELLING_CUTOFF: Final[float] = 75.0

_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Any])
_OPEN: set[Callable[..., Any]] = set()


def open_query(endpoint: _Endpoint) -> _Endpoint:
    """Mark a route's endpoint as taking any query parameter (under ``@router.get``)."""
    _OPEN.add(endpoint)
    return endpoint


def is_open(route: APIRoute) -> bool:
    """Whether ``route`` takes any query parameter (:func:`open_query`)."""
    return route.endpoint in _OPEN


# Not cached: a route is unhashable, and the walk over a few dozen fields costs microseconds.
def _query_fields(dependant: Dependant) -> list[Any]:
    fields: list[Any] = list(dependant.query_params)
    for dependency in dependant.dependencies:
        fields += _query_fields(dependency)
    return fields


def declared_query(route: APIRoute) -> tuple[str, ...]:
    """The query parameters ``route`` takes, by the name a caller sends, in order."""
    return tuple(dict.fromkeys(field.alias for field in _query_fields(route.dependant)))


def _current_query(route: APIRoute) -> tuple[str, ...]:
    """The route's query parameters less those kept only as deprecated aliases."""
    deprecated = {
        field.alias
        for field in _query_fields(route.dependant)
        if getattr(field.field_info, "deprecated", None)
    }
    return tuple(name for name in declared_query(route) if name not in deprecated)


def closest(name: str, known: Collection[str]) -> str | None:
    """The parameter among ``known`` that someone who wrote ``name`` most likely meant.

    The vocabulary first: ``limit`` means ``top`` on a ranking, ``date`` means ``as_of``,
    ``region_code`` is the former ``region``. Then spelling, against the route's names and
    their former ones only (short everyday words would match anything): ``tagret`` is
    ``target``. ``None`` when nothing is close.
    """
    word = name.strip().lower().replace("-", "_")
    spelt = {k: k for k in known}
    meant = dict(spelt)
    for parameter in PARAMETERS:
        if parameter.name in known:
            for former in parameter.formerly:
                spelt.setdefault(former, parameter.name)
            for other in (*parameter.formerly, *parameter.instead):
                meant.setdefault(other, parameter.name)
    if word in meant:
        return meant[word]
    match = process.extractOne(word, list(spelt), scorer=fuzz.ratio, score_cutoff=SPELLING_CUTOFF)
    return spelt[match[0]] if match else None


async def refuse_unknown_query(request: Request) -> None:
    """422 for query parameters the matched route does not declare (app-wide dependency)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or is_open(route):
        return
    known = declared_query(route)
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in known]
    if not unknown:
        return
    current = _current_query(route)
    suggestions = {name: closest(name, current) for name in unknown}
    errors = [
        {
            "field": name,
            "message": "unknown query parameter"
            + (f"; did you mean {suggestions[name]}?" if suggestions[name] else ""),
        }
        for name in unknown
    ]
    said = ", ".join(
        f"{name} (did you mean {suggestions[name]}?)" if suggestions[name] else name
        for name in unknown
    )
    takes = ", ".join(current) if current else "no query parameter"
    plural = "s" if len(unknown) > 1 else ""
    raise InvalidInputError(
        f"unknown query parameter{plural} {said}; this route takes {takes}",
        field=unknown[0],
        errors=errors,
        details={
            "unknown": unknown,
            "suggestions": {name: s for name, s in suggestions.items() if s},
            "known": list(current),
        },
    )


async def refuse_control_characters(request: Request) -> None:
    """422 for a path or query parameter holding a control character (app-wide dependency).

    Parameters of routes that take any (:func:`open_query`) are not read, so not checked.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    given = list(request.path_params.items())
    if not is_open(route):
        given += request.query_params.multi_items()
    errors = []
    for name, value in given:
        found = text.first_control_character(value)
        if found is not None:
            errors.append({"field": name, "message": f"{name} {text.refusal(found)}"})
    if errors:
        raise InvalidInputError(
            "; ".join(e["message"] for e in errors), field=errors[0]["field"], errors=errors
        )

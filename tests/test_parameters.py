"""Query parameters: one vocabulary, and a parameter a route does not take is refused.

The operations are read from the app's own OpenAPI document, so a route added later is sent
a made-up parameter here without editing this file. The vocabulary
(``graph_service.parameters``) is held against the routes, the CLI and the README's table.
The refusal comes before the store is read, so an empty embedded store serves every case.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from conftest import ROOT, make_settings
from fastapi.testclient import TestClient
from test_openapi import ROUTES

from graph_service.api.app import create_app
from graph_service.api.query import closest, is_open
from graph_service.cli import app as cli_app
from graph_service.parameters import PARAMETERS, by_name

PROBLEM = "application/problem+json"
METHODS = ("get", "put", "post", "delete", "patch")
MADE_UP = "made_up_zz"
#: The operations of the document that take any query parameter (api/query.py open_query).
OPEN_OPERATIONS = {("get", "/healthz"), ("get", "/readyz")}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings("embedded", tmp_path_factory.mktemp("params") / "data")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def document(api: TestClient) -> dict[str, Any]:
    spec: dict[str, Any] = api.app.openapi()  # type: ignore[attr-defined]
    return spec


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in sorted(document["paths"].items())
        for method, operation in item.items()
        if method in METHODS
    ]


def unknown(response: Any) -> list[str]:
    """The parameters a 422 problem names as unknown."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == "invalid_input"
    names = [e["field"] for e in body["errors"]]
    assert body["field"] == names[0]
    assert body["details"]["unknown"] == names
    for name in names:
        assert name in body["detail"]
    return names


# ------------------------------------------------------------------------------ refusal


def test_every_operation_refuses_a_made_up_parameter(
    api: TestClient, document: dict[str, Any]
) -> None:
    """Each operation of the document, sent one made-up parameter (and nothing else: the
    refusal comes before validation, authentication and the store)."""
    wrong = []
    for method, path, _ in operations(document):
        url = re.sub(r"\{[^}]+\}", "x", path)
        response = api.request(method.upper(), url, params={MADE_UP: "1"})
        if (method, path) in OPEN_OPERATIONS:
            if response.status_code == 422:
                wrong.append(f"{method} {path}: open, but refused")
            continue
        body = response.json() if response.status_code == 422 else {}
        if response.status_code != 422 or body.get("field") != MADE_UP:
            wrong.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
    assert wrong == []
    assert len(operations(document)) >= 30


def test_only_the_probes_of_the_document_take_any_parameter() -> None:
    # test_openapi's ROUTES are the document's operations (it checks that they are).
    assert {operation for operation, route in ROUTES.items() if is_open(route)} == OPEN_OPERATIONS


def test_every_refusing_operation_documents_its_422(document: dict[str, Any]) -> None:
    missing = [
        f"{method} {path}"
        for method, path, operation in operations(document)
        if (method, path) not in OPEN_OPERATIONS and "422" not in operation["responses"]
    ]
    assert missing == []


def test_pages_and_their_files_are_not_refused(api: TestClient) -> None:
    """The explorer, its files and the documentation pages: a browser, a cache-buster or an
    OAuth2 provider may add anything."""
    for url in (
        "/explorer?node=village:370302112206",
        "/explorer/?v=2",
        "/explorer/config.json?_=1",
        "/explorer/static/explorer/explorer.js?v=3",
        "/docs?x=1",
        "/redoc?x=1",
        "/docs/oauth2-redirect?code=abc&state=xyz",
        "/healthz?_=1",
        "/readyz?_=1",
    ):
        assert api.get(url).status_code == 200, url


def test_limit_on_partners_suggests_top(api: TestClient) -> None:
    response = api.get("/v1/recommendations/partners", params={"target": "village:1", "limit": 3})
    assert unknown(response) == ["limit"]
    body = response.json()
    assert "did you mean top?" in body["detail"]
    assert body["errors"] == [
        {"field": "limit", "message": "unknown query parameter; did you mean top?"}
    ]
    assert body["details"]["suggestions"] == {"limit": "top"}
    assert "top" in body["details"]["known"]


def test_every_unknown_parameter_is_listed_with_its_suggestion(api: TestClient) -> None:
    params = {"target": "village:1", "limit": 3, "tagret": "x", "colour": "red"}
    response = api.get("/v1/recommendations/partners", params=params)
    assert unknown(response) == ["limit", "tagret", "colour"]
    assert response.json()["details"]["suggestions"] == {"limit": "top", "tagret": "target"}


@pytest.mark.parametrize(
    ("path", "params", "suggested"),
    [
        # The README once said scope where the coverage route wants region.
        ("/v1/analysis/coverage", {"scope": "region:371426"}, {"scope": "region"}),
        ("/v1/analysis/centrality", {"region": "371426"}, {"region": "scope"}),
        ("/v1/analysis/brokers", {"limit": 5}, {"limit": "top"}),
        ("/v1/search", {"query": "台头"}, {"query": "q"}),
        ("/v1/search", {"q": "台头", "top": 3}, {"top": "limit"}),
        ("/v1/nodes", {"date": "2021-01-01"}, {"date": "as_of"}),
        ("/v1/nodes", {"as-of": "2021-01-01"}, {"as-of": "as_of"}),
        ("/v1/nodes", {"page": 2}, {"page": "cursor"}),
        (
            "/v1/paths",
            {"source": "a", "target": "b", "link_types": "X"},
            {"link_types": "link_type"},
        ),
        ("/v1/analysis/change", {"since": "2020-01-01"}, {"since": "from"}),
        ("/v1/recommendations/judgements", {"by": "王"}, {"by": "decided_by"}),
        ("/v1/stats", {"verbose": 1}, {"verbose": None}),
    ],
)
def test_suggestions_follow_the_vocabulary(
    api: TestClient, path: str, params: dict[str, Any], suggested: dict[str, str | None]
) -> None:
    response = api.get(path, params=params)
    assert unknown(response) == list(suggested)
    expected = {name: known for name, known in suggested.items() if known}
    assert response.json()["details"]["suggestions"] == expected


def test_aliases_a_route_declares_are_taken(api: TestClient) -> None:
    """``from`` and ``to`` (declared under other Python names) are the change route's own."""
    params = {"scope": "all", "from": "2020-01-01", "to": "2021-01-01"}
    assert api.get("/v1/analysis/change", params=params).status_code == 200


def test_closest_by_spelling_and_nothing_when_nothing_is_close() -> None:
    known = ["target", "top", "as_of", "link_type"]
    assert closest("tagret", known) == "target"
    assert closest("linktype", known) == "link_type"
    assert closest("AS_OF", known) == "as_of"
    assert closest("colour", known) is None
    # Everyday words are matched exactly, never by spelling (area ~ tagret).
    assert closest("tagret", ["scope"]) is None


# ------------------------------------------------------------------ retired names


def test_retired_list_filters_are_deprecated_aliases(api: TestClient) -> None:
    batch = {
        "nodes": [
            {
                "id": "region:370302",
                "label": "Region",
                "kind": "县",
                "name": "甲区",
                "region_code": "370302",
            },
            {
                "id": "region:371426",
                "label": "Region",
                "kind": "县",
                "name": "乙县",
                "region_code": "371426",
            },
        ],
        "links": [],
    }
    key = {"X-API-Key": "test-key-dangjian"}
    assert api.post("/v1/batch", json=batch, headers=key).status_code == 200

    def ids(path: str, **params: Any) -> list[str]:
        response = api.get(path, params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids("/v1/nodes", region="3703") == ["region:370302"]
    assert ids("/v1/nodes", region_code="3703") == ["region:370302"]
    refused = api.get("/v1/nodes", params={"region": "3703", "region_code": "3714"})
    assert refused.status_code == 422
    assert refused.json()["field"] == "region_code"
    assert ids("/v1/links", link_type="MEMBER_OF") == ids("/v1/links", type="MEMBER_OF") == []


def test_no_route_takes_a_retired_name_but_as_a_deprecated_alias(
    document: dict[str, Any],
) -> None:
    vocabulary = by_name()
    former = {f: p.name for p in PARAMETERS for f in p.formerly}
    wrong = []
    for method, path, operation in operations(document):
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        for parameter in operation.get("parameters", []):
            name = parameter["name"]
            if parameter.get("deprecated"):
                if name not in former or former[name] not in names:
                    wrong.append(f"{method} {path}: deprecated {name} retires nothing it takes")
            elif name in former:
                wrong.append(f"{method} {path}: {name} (say {former[name]})")
    assert wrong == []
    assert set(former.values()) <= set(vocabulary)


def _cli_options() -> Iterator[tuple[str, list[str]]]:
    """(command, the option's spellings) for every option of every command."""

    # Typer ships its own click: its classes are told apart by what they have.
    def walk(command: Any, path: str) -> Iterator[tuple[str, list[str]]]:
        for param in command.params:
            if param.param_type_name == "option":
                yield path, list(param.opts)
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, f"{path} {name}".strip())

    yield from walk(typer.main.get_command(cli_app), "")


def test_cli_options_use_the_vocabulary() -> None:
    """A command's option for an idea of the vocabulary is spelt as the vocabulary says;
    a retired name is at most a second spelling of the new one."""
    former = {f"--{f.replace('_', '-')}": p for p in PARAMETERS for f in p.formerly}
    spelt = {p.cli: p for p in PARAMETERS if p.cli}
    wrong = []
    seen = set()
    for command, opts in _cli_options():
        names = [n for n in opts if n.startswith("--")]
        if not names:
            continue
        primary = names[0]
        seen.add(primary)
        if primary in former:
            wrong.append(f"{command}: {primary} (say {former[primary].cli})")
        for other in names[1:]:
            if other in former and former[other].cli != primary:
                wrong.append(f"{command}: {other} is a former name of {former[other].cli}")
    assert wrong == []
    # Each CLI spelling of the vocabulary is one some command takes.
    assert set(spelt) <= seen


# --------------------------------------------------------------------------- the README


def _readme_vocabulary() -> dict[str, tuple[str, str]]:
    """name → (meaning, CLI option) from the README's parameter table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Parameters: one vocabulary", 1)[1].split("\n#", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        rows[cells[0].strip("`")] = (cells[1], cells[3].strip("`"))
    return rows


def test_the_readme_documents_the_vocabulary_once() -> None:
    rows = _readme_vocabulary()
    assert set(rows) == {p.name for p in PARAMETERS}
    for parameter in PARAMETERS:
        meaning, cli = rows[parameter.name]
        assert meaning == parameter.meaning, parameter.name
        assert cli.startswith(parameter.cli or "–"), parameter.name


def test_the_docs_name_only_parameters_the_routes_take(document: dict[str, Any]) -> None:
    """Every ``?name=`` and ``&name=`` of a URL in the README, BENCHMARKS.md and docs/ is a
    parameter of its route (of any of its methods: ``DELETE …?detach=true``)."""
    pages = [ROOT / "README.md", ROOT / "BENCHMARKS.md", *sorted((ROOT / "docs").glob("*.md"))]
    text = "\n".join(page.read_text(encoding="utf-8") for page in pages)
    taken = {
        path: {p["name"] for operation in item.values() for p in operation.get("parameters", [])}
        for path, item in document["paths"].items()
    }
    wrong = []
    for url in re.findall(r"(/v1/[A-Za-z0-9_/{}:.-]+)\?([^'\"` )]+)", text):
        path, query = url
        template = next(
            (t for t in taken if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", t), path)),
            None,
        )
        if template is None:
            continue
        for pair in query.split("&"):
            name = pair.split("=", 1)[0]
            if name and name not in taken[template]:
                wrong.append(f"{path}?{name}")
    assert wrong == []

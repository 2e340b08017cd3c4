"""Lists say their total and whether they were cut; node ids come with names.

The generic tests walk the seed answers of every JSON route (GET routes from the app's own
OpenAPI document with the parameter values of ``tests/test_visibility.py``, plus the POST
analyses) and fail on

- a list of node ids, or a node id as a key or a row's field, that the answer does not name
  (a reference ``{"id", "name", …}``, a row's ``name`` beside its one id, or ``<key>_name``);
- a listing (``{"items", "total", "truncated", "more"}``) whose flags disagree with its
  counts, or whose ``more`` names a parameter the route does not take, or the wrong maximum;
- a list that a smaller ``top`` / ``limit`` shortens without saying so: the same call with
  every such parameter at its least must cut only listings, pages (``next_cursor``) and
  answers that say ``truncated``.

Then specific tests: 平原县's 427 uncovered (and weak) villages at the default limits, and
names that come from the caller's view, never past the visibility policy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graph_service.domain import MAX_LISTED, MAX_LISTED_UNCOVERED
from graph_service.services.view import GraphViews
from graph_service.settings import Settings
from graph_service.visibility import Caller
from tests.conftest import AUTH, open_store
from tests.test_visibility import PERSON, VALUES
from tests.test_visibility import VILLAGE as BODY_VILLAGE

COUNTY = "371426"  # 平原县: 436 villages, 9 in a joint body
SEED_VILLAGE, SEED_HELPER = "village:370302112206", "ent:longquan-donghua-shuini"
#: Parameters that cut a list; the "small" call sets each to its least value (at least 1).
CUTTING = ("top", "limit")
#: Subtrees that echo the request rather than answer it.
ECHOES = ("scope", "parameters", "asked")
#: POST routes that answer with analyses: (path, body, the body field that cuts).
POSTS: list[tuple[str, dict[str, Any], str | None]] = [
    ("/v1/recommendations/assignment", {"region": "370302", "top_candidates": 5}, None),
    (
        "/v1/recommendations/what-if",
        {"proposed": [{"helper": SEED_HELPER, "village": SEED_VILLAGE}]},
        "top",
    ),
]


def _cuts(name: str) -> bool:
    return name in CUTTING or name.endswith("_limit")


# ---------------------------------------------------------------------------------------
# Walking an answer
# ---------------------------------------------------------------------------------------


def _walk(value: Any, path: str = "$") -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")


def _named(body: Any, node_ids: set[str]) -> set[str]:
    """Node ids the answer names somewhere: a reference or a row with one id and a name, or
    a field ``<key>`` with ``<key>_name`` beside it."""
    named: set[str] = set()
    for _, value in _walk(body):
        if not isinstance(value, dict):
            continue
        keyed = [k for k, v in value.items() if isinstance(v, str) and v in node_ids]
        named.update(value[k] for k in keyed if value.get(f"{k}_name"))
        if len(keyed) == 1 and value.get("name"):
            named.add(value[keyed[0]])
    return named


def unnamed_ids(body: Any, node_ids: set[str], rows_too: bool) -> list[str]:
    """Where the answer shows a node id without its name: in a list, as a key, or (with
    ``rows_too``, for analyses) as any field outside the echo of the request."""
    named = _named(body, node_ids)
    found = []
    for path, value in _walk(body):
        if any(f"$.{echo}" == path or path.startswith(f"$.{echo}.") for echo in ECHOES):
            continue
        if isinstance(value, list):
            found += [f"{path}: {v}" for v in value if isinstance(v, str) and v in node_ids - named]
        elif isinstance(value, dict):
            found += [f"{path} key {k}" for k in value if k in node_ids - named]
            if rows_too:
                found += [
                    f"{path}.{k}: {v}"
                    for k, v in value.items()
                    if isinstance(v, str) and v in node_ids - named
                ]
    return sorted(set(found))


def is_listing(value: Any) -> bool:
    return isinstance(value, dict) and {"items", "total", "truncated", "more"} <= set(value)


def listing_problems(body: Any, maxima: dict[str, int]) -> list[str]:
    """Listings whose flags disagree with their counts, or whose ``more`` is wrong."""
    wrong = []
    for path, value in _walk(body):
        if not is_listing(value):
            continue
        shown, total, truncated, more = (
            len(value["items"]),
            value["total"],
            value["truncated"],
            value["more"],
        )
        if shown > total or truncated != (shown < total):
            wrong.append(f"{path}: {shown} shown of {total}, truncated={truncated}")
        if (more is None) == truncated:
            wrong.append(f"{path}: truncated={truncated} but more={more}")
        if more is not None and maxima.get(more["parameter"]) != more["maximum"]:
            wrong.append(f"{path}: more={more}, the route takes {maxima}")
    return wrong


def silent_cuts(full: Any, cut: Any) -> list[str]:
    """Lists shorter in ``cut`` than in ``full`` (same path) that are neither a listing's
    items nor beside a ``truncated`` flag or a ``next_cursor``."""
    lengths: dict[str, int] = {p: len(v) for p, v in _walk(full) if isinstance(v, list)}
    parents: dict[str, Any] = {}
    for path, value in _walk(cut):
        if isinstance(value, dict):
            for key in value:
                parents[f"{path}.{key}"] = value
    found = []
    for path, value in _walk(cut):
        if not isinstance(value, list) or len(value) >= lengths.get(path, 0):
            continue
        parent = parents.get(path, {})
        if is_listing(parent) or "truncated" in parent or "next_cursor" in parent:
            continue
        found.append(f"{path}: {len(value)} of {lengths[path]}, no flag")
    return found


# ---------------------------------------------------------------------------------------
# The calls
# ---------------------------------------------------------------------------------------


def _maximum(schema: dict[str, Any]) -> int | None:
    for part in (schema, *schema.get("anyOf", [])):
        if "maximum" in part:
            return int(part["maximum"])
    return None


def _minimum(schema: dict[str, Any]) -> int:
    for part in (schema, *schema.get("anyOf", [])):
        if "minimum" in part:
            return max(1, int(part["minimum"]))
    return 1


def get_calls(
    document: dict[str, Any],
) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any], dict[str, int]]]:
    """``(template, url, query, small query, maxima of the cutting parameters)`` of each GET
    route: the values of ``test_visibility.VALUES``, cutting parameters at their least."""
    for template, item in sorted(document["paths"].items()):
        if "get" not in item:
            continue
        url, query, small, maxima = template, {}, {}, {}
        for param in item["get"].get("parameters", []):
            name, schema = param["name"], param.get("schema", {})
            if param["in"] == "path":
                url = url.replace("{" + name + "}", str(VALUES[name]))
            elif _cuts(name) and _maximum(schema) is not None:
                small[name] = _minimum(schema)
                maxima[name] = _maximum(schema)
            elif name in VALUES and param["in"] == "query":
                query[name] = VALUES[name]
        yield template, url, query, {**query, **small}, maxima


@pytest.fixture
def node_ids(seed_client: TestClient) -> set[str]:
    ids: set[str] = set()
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = seed_client.get("/v1/nodes", params=params, headers=AUTH).json()
        ids.update(n["id"] for n in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def _json(response: Any) -> Any:
    if not response.headers["content-type"].startswith("application/json"):
        return None
    return response.json()


# ---------------------------------------------------------------------------------------
# Generic
# ---------------------------------------------------------------------------------------


def test_helpers_catch_what_they_are_for() -> None:
    ids = {"village:1", "village:2", "org:b"}
    assert unnamed_ids({"without": ["village:1"]}, ids, False) == ["$.without: village:1"]
    named = {"rows": [{"id": "village:1", "name": "甲村"}], "cut_off": {"org:b": []}}
    assert unnamed_ids(named, ids, False) == ["$.cut_off key org:b"]
    pair = {"source": "village:1", "target": "village:2", "source_name": "甲村"}
    assert unnamed_ids(pair, ids, True) == ["$.target: village:2"]
    assert unnamed_ids(pair, ids, False) == []
    cut = {"items": [1], "total": 3, "truncated": False, "more": None}
    assert listing_problems({"x": cut}, {"limit": 10}) == ["$.x: 1 shown of 3, truncated=False"]
    cut |= {"truncated": True, "more": {"parameter": "limit", "maximum": 10}}
    assert listing_problems({"x": cut}, {"limit": 10}) == []
    assert listing_problems({"x": cut}, {"top": 10})
    assert silent_cuts({"a": [1, 2, 3]}, {"a": [1]}) == ["$.a: 1 of 3, no flag"]
    assert silent_cuts({"a": [1, 2, 3], "truncated": True}, {"a": [1], "truncated": True}) == []


@pytest.mark.parametrize("headers", [AUTH, {}], ids=["key holder", "anonymous"])
def test_every_json_answer_names_its_ids_and_flags_its_cuts(
    seed_client: TestClient, node_ids: set[str], headers: dict[str, str]
) -> None:
    document = seed_client.app.openapi()  # type: ignore[attr-defined]
    unnamed: dict[str, list[str]] = {}
    inconsistent: dict[str, list[str]] = {}
    silent: dict[str, list[str]] = {}
    checked = 0
    for template, url, query, small, maxima in get_calls(document):
        full = _json(seed_client.get(url, params=query, headers=headers))
        if full is None:
            continue
        checked += 1
        rows_too = template.startswith(("/v1/analysis/", "/v1/recommendations/"))
        if found := unnamed_ids(full, node_ids, rows_too):
            unnamed[url] = found[:5]
        if found := listing_problems(full, maxima):
            inconsistent[url] = found[:5]
        if small != query:
            response = seed_client.get(url, params=small, headers=headers)
            assert response.status_code == 200, (url, small, response.text[:300])
            cut = response.json()
            if found := silent_cuts(full, cut) + listing_problems(cut, maxima):
                silent[f"{url} {small}"] = found[:5]
    for path, body, cutting in POSTS:
        schema = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        name = schema["schema"]["$ref"].rsplit("/", 1)[1]
        fields = document["components"]["schemas"][name]["properties"]
        maxima = {k: m for k, f in fields.items() if _cuts(k) and (m := _maximum(f)) is not None}
        full = seed_client.post(path, json=body, headers=headers).json()
        checked += 1
        if found := unnamed_ids(full, node_ids, True):
            unnamed[path] = found[:5]
        if found := listing_problems(full, maxima):
            inconsistent[path] = found[:5]
        if cutting is not None:
            cut = seed_client.post(path, json={**body, cutting: 0}, headers=headers).json()
            if found := silent_cuts(full, cut) + listing_problems(cut, maxima):
                silent[f"{path} {cutting}=0"] = found[:5]
    assert checked >= 25
    assert not unnamed, unnamed
    assert not inconsistent, inconsistent
    assert not silent, silent


def test_a_small_limit_cuts_coverage_lists_and_says_so(seed_client: TestClient) -> None:
    params = {"region": COUNTY, "limit": 3, "details": "true"}
    report = seed_client.get("/v1/analysis/coverage", params=params).json()
    more = {"parameter": "limit", "maximum": MAX_LISTED}
    for row in (report["total"], *report["children"]):
        for key in ("without_joint_body", "without_any"):
            listed = row[key]
            assert len(listed["items"]) == min(3, listed["total"])
            assert listed["truncated"] is (listed["total"] > 3)
            assert listed["more"] == (more if listed["truncated"] else None)
    assert report["total"]["without_any"]["total"] == report["total"]["neither"]
    assert sum(c["without_any"]["total"] for c in report["children"]) == 427
    # Every village's row is asked for: returned whole, a plain array.
    assert len(report["villages"]) == 436


def test_search_says_when_more_match(seed_client: TestClient) -> None:
    cut = seed_client.get("/v1/search", params={"q": "村", "limit": 3}).json()
    assert (len(cut["items"]), cut["truncated"]) == (3, True)
    exact = seed_client.get("/v1/search", params={"q": "台头村", "limit": 200}).json()
    assert exact["truncated"] is False


# ---------------------------------------------------------------------------------------
# 平原县
# ---------------------------------------------------------------------------------------


def _towns(client: TestClient) -> dict[str, str]:
    county = client.get(f"/v1/regions/{COUNTY}").json()
    return {c["region_code"]: c["name"] for c in county["children"]}


def test_pingyuan_uncovered_villages_are_counted_flagged_and_named(
    seed_client: TestClient,
) -> None:
    towns = _towns(seed_client)
    body = seed_client.get(f"/v1/regions/{COUNTY}/coverage").json()
    listed = body["total"]["uncovered_villages"]
    assert (body["total"]["uncovered"], listed["total"], len(listed["items"])) == (427, 427, 100)
    assert listed["truncated"] is True
    assert listed["more"] == {"parameter": "uncovered_limit", "maximum": MAX_LISTED_UNCOVERED}
    for village in listed["items"]:
        assert village["label"] == "Village"
        assert village["name"]
        assert not village["name"].startswith("village:")
        assert village["region_code"] == village["id"].removeprefix("village:")
        assert village["region_name"] == towns[village["region_code"][:9]]
    for child in body["children"]:
        assert child["uncovered_villages"]["total"] == child["uncovered"]
        assert {v["region_name"] for v in child["uncovered_villages"]["items"]} <= {child["name"]}
    everything = seed_client.get(
        f"/v1/regions/{COUNTY}/coverage", params={"uncovered_limit": 500}
    ).json()["total"]["uncovered_villages"]
    assert (everything["total"], len(everything["items"])) == (427, 427)
    assert (everything["truncated"], everything["more"]) == (False, None)
    assert everything["items"][:100] == listed["items"]


def test_pingyuan_weak_villages_are_counted_flagged_and_named(seed_client: TestClient) -> None:
    towns = _towns(seed_client)
    report = seed_client.get("/v1/analysis/coverage", params={"region": COUNTY}).json()
    weak = report["weak_villages"]
    assert (weak["total"], len(weak["items"]), weak["truncated"]) == (427, 200, True)
    assert weak["more"] == {"parameter": "limit", "maximum": MAX_LISTED}
    for village in weak["items"]:
        assert village["region_name"] == towns[village["region_code"][:9]]
    without = report["total"]["without_joint_body"]
    assert (without["total"], len(without["items"]), without["truncated"]) == (427, 200, True)
    assert {v["region_name"] for v in without["items"]} <= set(towns.values())
    whole = seed_client.get("/v1/analysis/coverage", params={"region": COUNTY, "limit": 1000})
    weak_whole = whole.json()["weak_villages"]
    assert (weak_whole["total"], len(weak_whole["items"]), weak_whole["truncated"]) == (
        427,
        427,
        False,
    )


# ---------------------------------------------------------------------------------------
# Names come from the caller's view
# ---------------------------------------------------------------------------------------


def test_references_pass_through_the_visibility_policy(seed_settings: Settings) -> None:
    async def refs(caller: Caller) -> dict[str, dict[str, Any]]:
        store = open_store(seed_settings)
        await store.open()
        try:
            return await GraphViews(store).view(caller).refs([PERSON, BODY_VILLAGE, "nope"])
        finally:
            await store.close()

    public = asyncio.run(refs(Caller()))
    assert set(public) == {BODY_VILLAGE}
    assert public[BODY_VILLAGE]["region_name"]
    operator = asyncio.run(refs(Caller(authenticated=True, name="operator")))
    assert set(operator) == {PERSON, BODY_VILLAGE}
    assert operator[PERSON]["name"]


def test_a_community_lists_its_members_up_to_limit(seed_client: TestClient) -> None:
    scope = {"scope": "region:370302", "seed": 3}
    report = seed_client.get("/v1/analysis/communities", params={**scope, "limit": 2}).json()
    for community in report["communities"]:
        members = community["members"]
        assert members["total"] == community["size"]
        assert len(members["items"]) == min(2, community["size"])
        assert all(m["name"] for m in members["items"])
    assert any(c["members"]["truncated"] for c in report["communities"])
    names = {b["body"]: b["name"] for b in report["joint_bodies"]["bodies"]}
    assert names
    assert all(names.values())

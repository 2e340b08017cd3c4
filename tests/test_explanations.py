"""Every explanation a planner reads is in Chinese, says what its numbers mean, and never
prints a missing value as ``None``: a walk over the seed responses of the routes that explain
(link strength, rule checks, coverage, recommendations, assignment, what-if).

The shape (``graph_service.analysis.wording``): a text a person reads sits under its plain
name (``explanation``, ``evidence``, ``summary``) in Chinese, and in English beside it under
the same name with ``_en``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import AUTH
from fastapi.testclient import TestClient

from graph_service.analysis.wording import rank_share

#: Fields holding a text for people, in Chinese; each has its English beside it (``_en``).
TEXT_FIELDS = ("explanation", "evidence", "summary")
#: Other fields people read as words.
NAME_FIELDS = ("name", "target_name", "partner_name", "description_zh")
#: A missing or broken value printed into a text.
PRINTED_MISSING = re.compile(r"(?<![A-Za-z])(None|nan|NaN|null|inf|undefined)(?![A-Za-z])")
CJK = re.compile(r"[\u4e00-\u9fff]")

VILLAGE, HELPER = "village:370302112206", "ent:longquan-donghua-shuini"
OTHER_VILLAGE = "village:370302112201"
BODY_PAIR = {"source": "org:wanggaopu-tianshangtian", "target": "ent:yihai-jiali"}
LINKED_PAIR = {"source": "org:longquan-hongse-xigu", "target": "org:longquan-longyi-dangzhibu"}

GETS: list[tuple[str, dict[str, Any]]] = [
    ("/v1/analysis/link-strength", BODY_PAIR),
    ("/v1/analysis/link-strength", LINKED_PAIR),
    ("/v1/analysis/links/strongest", {"scope": "region:370302", "top": 10}),
    ("/v1/analysis/links/weakest", {"scope": "region:371426", "top": 10}),
    ("/v1/analysis/rules", {"scope": "region:371426"}),
    ("/v1/analysis/coverage", {"region": "370302112", "details": "true"}),
    ("/v1/analysis/coverage", {"region": "371426"}),
    ("/v1/analysis/brokers", {"scope": "region:370302"}),
    ("/v1/analysis/fragility", {"scope": "region:370302"}),
    ("/v1/recommendations/partners", {"target": VILLAGE}),
    ("/v1/recommendations/partners", {"target": "village:371426105287", "top": 20}),
    ("/v1/recommendations/partners", {"target": HELPER}),
    ("/v1/recommendations/partners", {"target": HELPER, "relation": "co_building"}),
]
POSTS: list[tuple[str, dict[str, Any]]] = [
    ("/v1/recommendations/assignment", {"region": "371426", "k": 1, "m": 1}),
    (
        "/v1/recommendations/assignment",
        {"region": "370302", "villages": [VILLAGE, OTHER_VILLAGE], "helpers": [HELPER], "k": 1},
    ),
    ("/v1/recommendations/what-if", {"proposed": [{"helper": HELPER, "village": VILLAGE}]}),
]


def walk(value: Any, path: str = "") -> Iterator[tuple[str, str, Any, dict[str, Any] | None]]:
    """Every value with its path, its key and the object holding it."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", key, item, value
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from walk(item, f"{path}[{i}]")


def problems_of(body: Any) -> list[str]:
    """What is wrong with the texts of one response body."""
    found = []
    for path, key, value, holder in walk(body):
        if not isinstance(value, str):
            continue
        if re.search(r"(?<![A-Za-z])None(?![A-Za-z])", value):
            found.append(f"{path}: None printed: {value!r}")
        base = key.removesuffix("_en")
        if (base in TEXT_FIELDS or key in NAME_FIELDS) and PRINTED_MISSING.search(value):
            found.append(f"{path}: missing value printed: {value!r}")
        if key in TEXT_FIELDS:
            if not CJK.search(value):
                found.append(f"{path}: not in Chinese: {value!r}")
            english = (holder or {}).get(f"{key}_en")
            if not isinstance(english, str) or not english:
                found.append(f"{path}: no English beside it ({key}_en)")
    return found


def responses(client: TestClient) -> Iterator[tuple[str, Any]]:
    for url, params in GETS:
        response = client.get(url, params=params, headers=AUTH)
        assert response.status_code == 200, (url, params, response.text)
        yield f"GET {url} {params}", response.json()
    for url, body in POSTS:
        response = client.post(url, json=body, headers=AUTH)
        assert response.status_code == 200, (url, body, response.text)
        yield f"POST {url} {body}", response.json()


def test_seed_explanations_are_chinese_and_print_no_missing_value(
    seed_client: TestClient,
) -> None:
    problems = []
    explained = set()
    for request, body in responses(seed_client):
        problems += [f"{request}: {p}" for p in problems_of(body)]
        explained |= {key for _, key, _, _ in walk(body) if key in TEXT_FIELDS}
    assert problems == []
    # The walk reached every kind of text (else it proves nothing).
    assert explained == set(TEXT_FIELDS)


def test_the_walk_catches_english_and_printed_none() -> None:
    english = {"components": [{"explanation": "no link between them", "explanation_en": "x"}]}
    assert problems_of(english) == [
        ".components[0].explanation: not in Chinese: 'no link between them'"
    ]
    none = {"reasons": [{"explanation": "需求 资金 ↔ None", "explanation_en": "need ↔ None"}]}
    assert len(problems_of(none)) == 4
    alone = {"evidence": "未记录章程"}
    assert problems_of(alone) == [".evidence: no English beside it (evidence_en)"]
    nan = {"summary": "成效 nan 分", "summary_en": "outcomes nan"}
    assert len(problems_of(nan)) == 2
    assert problems_of({"partner_id": "ent:tiannan", "kind": None}) == []


def test_link_strength_of_a_seed_pair_by_hand(seed_client: TestClient) -> None:
    """甜上甜党建联合体 ↔ 益海嘉里 (平原, document 000): one SUPPLIES link, nothing recorded on it,
    and 益海嘉里 has no division code."""
    result = seed_client.get("/v1/analysis/link-strength", params=BODY_PAIR).json()
    said = {c["name"]: c["explanation"] for c in result["components"]}
    assert said["duration"] == "联系上未记录起始日期 (valid_from), 无法计算持续时间"
    assert said["multiplexity"] == (
        "两者之间有 1 种联系: 供销/订单 (SUPPLIES); "
        "联系多样性得分 0.340 (0–1 分, 1 为最高), 1 种 0.34, 2 种 0.67, 3 种及以上 1"
    )
    assert said["administrative"] == "益海嘉里未记录区划代码, 无法判断行政邻近度"
    assert said["outcomes"] == "联系上未记录投资额、增收额、带动就业或涉及土地"


def test_recommendation_strength_says_scale_and_make_up(seed_client: TestClient) -> None:
    """The joint body proposed first to 甜南村 (平原县): its members, where that ranks, what
    成效 is, and the mix that makes the strength.

    By hand from the seed: 平原县 has 9 joint bodies with 0, 0, 0, 1, 1, 2, 2, 3 and 3
    member units. 恩城镇啤酒产业链联合党委 has 3: 7 below, 2 equal → mid-rank percentile
    (7 + 2/2) / 9 = 0.89, the top 12% (100 · (1 − 0.889) = 11.1, rounded up).
    """
    body = seed_client.get(
        "/v1/recommendations/partners", params={"target": "village:371426105287"}, headers=AUTH
    ).json()
    first = body["candidates"]["items"][0]
    assert first["name"] == "恩城镇啤酒产业链联合党委"
    strength = next(r for r in first["reasons"] if r["name"] == "strength")
    text = strength["explanation"]
    assert text.startswith(
        "规模: 联建组织有成员单位 3 个, 在本区域的联建组织中居前 12%; "
        "影响力: 网络 PageRank 在本区域候选中居前 "
    )
    assert "联建成效 0 分 (其联建联系未记录投资、增收、就业或土地)" in text
    formula = re.search(
        r"实力得分 = 0.6×规模百分位 \+ 0.2×影响力百分位 \+ 0.2×成效 = "
        r"0.6×(0.89) \+ 0.2×(0.\d\d) \+ 0.2×(0.00) = (0.\d\d)$",
        text,
    )
    assert formula is not None, text
    size, pagerank, outcome, total = (float(x) for x in formula.groups())
    assert total == pytest.approx(strength["value"], abs=0.005)
    assert total == pytest.approx(0.6 * size + 0.2 * pagerank + 0.2 * outcome, abs=0.01)
    assert "同类前" not in text  # the old unexplained form


@pytest.mark.parametrize(
    ("percentile", "zh"),
    [(0.98, "前 2%"), (0.5, "居中"), (0.16, "后 16%"), (0.999, "前 1%"), (0.001, "后 1%")],
)
def test_rank_shares_read_from_the_right_end(percentile: float, zh: str) -> None:
    assert rank_share(percentile).zh == zh

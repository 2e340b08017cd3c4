"""The situation page's Excel report (services/report.py): sheets, rows, layout, determinism.

The answers are hand-written after docs/dashboard.md; the last test reads the report of the
seed graph through ``GET /v1/dashboard/report.xlsx`` and compares it with the rows of
``GET /v1/dashboard``.
"""

from __future__ import annotations

import copy
import io
import random
import re
import zipfile
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from graph_service.services.report import (
    CREATOR,
    MAX_WIDTH,
    REPORT_SHEETS,
    dashboard_workbook,
    display_width,
    report_rows,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

LONG_EVIDENCE = (
    "红链兴农区域党建联合体的 4 个成员中没有企业：平原县龙门街道金河源社区党支部、"
    "平原县王凤楼镇前曹村党支部、平原县农业农村局机关党支部、平原县供销合作社党组，"
    "规则要求每个联合体至少对接 1 家企业（《平原县党建联建工作指引》第三条）。"
)


def answer() -> dict[str, Any]:
    """A dashboard answer of 平原县 with a year of change, as the contract shapes it."""
    body = "org:371426-hlxn"
    return {
        "region": {
            "code": "371426",
            "name": "平原县",
            "level": "县",
            "path": [
                {"code": "37", "name": "山东省", "level": "省"},
                {"code": "3714", "name": "德州市", "level": "市"},
            ],
            "children": [
                {"code": "371426001", "name": "龙门街道", "level": "乡镇"},
                {"code": "371426103", "name": "王凤楼镇", "level": "乡镇"},
            ],
        },
        "as_of": "2026-12-03",
        "since": "2025-12-03",
        "cards": [
            {"key": "villages", "label": "行政村", "unit": "个", "value": 436, "previous": 436}
            | {"change": 0},
            {"key": "joint_bodies", "label": "联建组织", "unit": "个", "value": 9, "previous": 7}
            | {"change": 2},
            {"key": "coverage", "label": "联建覆盖率", "unit": "%", "value": 2.1, "previous": 1.8}
            | {"change": 0.3},
            {"key": "weak_villages", "label": "薄弱村", "unit": "个", "value": 431}
            | {"previous": 433, "change": -2},
            {"key": "rule_breaches", "label": "规则违反", "unit": "项", "value": 3}
            | {"previous": 3, "change": 0},
        ],
        "coverage_by_town": [
            {"code": "371426001", "name": "龙门街道", "villages": 20, "covered": 2, "rate": 10.0},
            {"code": "371426103", "name": "王凤楼镇", "villages": 48, "covered": 1, "rate": 2.1},
        ],
        "links_by_year": {
            "years": [2024, 2025, 2026],
            "series": [
                {"type": "PAIRS_WITH", "label": "结对帮扶", "counts": [4, 6, 6]},
                {"type": "CO_BUILDS", "label": "联建共建", "counts": [5, 8, 9]},
            ],
        },
        "strength_histogram": {
            "bins": [
                {"from": 0.0, "to": 0.1, "count": 3},
                {"from": 0.1, "to": 0.2, "count": 11},
                {"from": 0.9, "to": 1.0, "count": 2},
            ],
            "links": 16,
            "median": 0.42,
        },
        "centrality": {
            "measure": "pagerank",
            "label": "PageRank",
            "rows": [
                {"rank": 1, "node": body, "name": "红链兴农区域党建联合体"}
                | {"label": "PartyOrganization", "score": 0.031},
                {"rank": 2, "node": "ent:371426-sljp", "name": "森力啤酒饮料有限公司"}
                | {"label": "Enterprise", "score": 0.0125},
            ],
        },
        "communities": {
            "method": "louvain",
            "modularity": 0.706,
            "count": 446,
            "sankey": {
                "nodes": [
                    {"id": body, "name": "红链兴农区域党建联合体", "kind": "body"},
                    {"id": "community:4", "name": "社区 4", "kind": "community"}
                    | {"members": {"items": [], "total": 0, "truncated": False, "more": None}},
                    {
                        "id": "community:7",
                        "name": "社区 7",
                        "kind": "community",
                        "members": {"items": [], "total": 0, "truncated": False, "more": None},
                    },
                ],
                "links": [
                    {"source": body, "target": "community:4", "value": 2},
                    {"source": body, "target": "community:7", "value": 1},
                ],
            },
        },
        "unpartnered_weak": {
            "items": [
                {"id": "village:371426001007", "name": "金河源社区", "region_name": "龙门街道"}
                | {"reasons": ["few_links"], "explanation": "联建联系 0 条，低于全县中位数 2 条"},
                {"id": "village:371426103012", "name": "前曹村", "region_name": "王凤楼镇"}
                | {"reasons": ["low_income"], "explanation": "村集体收入 3.2 万元，不足 5 万元"},
            ],
            "total": 427,
            "truncated": True,
            "more": {"parameter": "limit", "maximum": 100000},
        },
        "pairings": [
            {
                "village": {"id": "village:371426001007", "name": "金河源社区"}
                | {"label": "Village", "kind": "行政村"},
                "partner": {"id": body, "name": "红链兴农区域党建联合体"}
                | {"label": "PartyOrganization", "kind": "党建联合体"},
                "score": 0.466,
                "reasons": [
                    {"name": "proximity", "value": 1.0, "weight": 1.0, "contribution": 0.22}
                    | {"explanation": "同属龙门街道"},
                    {"name": "need", "value": 0.8, "weight": 1.0, "contribution": 0.246}
                    | {"explanation": "联建联系 0 条，帮扶需求得分 0.80"},
                ],
            },
            {
                "village": {"id": "village:371426103012", "name": "前曹村", "label": "Village"},
                "partner": {"id": "inst:371426-nyj", "name": "平原县农业农村局"}
                | {"label": "Institution", "kind": None},
                "score": 0.3,
                "reasons": [],
            },
        ],
        "breaches": [
            {
                "body": {"id": body, "name": "红链兴农区域党建联合体", "kind": "党建联合体"},
                "rule_id": "000-enterprise",
                "description": "每个联合体至少对接1家企业",
                "severity": "error",
                "evidence": LONG_EVIDENCE,
                "members": [
                    {"id": "village:371426001007", "name": "金河源社区"},
                    {"id": "village:371426103012", "name": "前曹村"},
                ],
            },
            {
                "body": {"id": "org:371426-wfl", "name": "王凤楼镇党建联盟", "kind": "党建联盟"},
                "rule_id": "010-members",
                "description": "联合体成员不少于3个",
                "severity": "warning",
                "evidence": "成员 2 个",
                "members": [],
            },
        ],
    }


def empty_answer() -> dict[str, Any]:
    """A town with nothing to list: every table's list is empty."""
    return {
        "region": {"code": "371426001", "name": "龙门街道", "level": "乡镇", "path": []}
        | {"children": []},
        "as_of": "2026-12-03",
        "since": None,
        "cards": [
            {"key": key, "label": label, "unit": unit, "value": 0, "previous": None}
            | {"change": None}
            for key, label, unit in (
                ("villages", "行政村", "个"),
                ("joint_bodies", "联建组织", "个"),
                ("coverage", "联建覆盖率", "%"),
                ("weak_villages", "薄弱村", "个"),
                ("rule_breaches", "规则违反", "项"),
            )
        ],
        "coverage_by_town": [],
        "links_by_year": {"years": [], "series": []},
        "strength_histogram": {"bins": [], "links": 0, "median": None},
        "centrality": {"measure": "pagerank", "label": "PageRank", "rows": []},
        "communities": {"method": "louvain", "modularity": 0.0, "count": 0}
        | {"sankey": {"nodes": [], "links": []}},
        "unpartnered_weak": {"items": [], "total": 0, "truncated": False, "more": None},
        "pairings": [],
        "breaches": [],
    }


def read(book_bytes: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(book_bytes))


def sheet_rows(book: openpyxl.Workbook) -> dict[str, list[list[Any]]]:
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book}


def column_of(ws: Any, header: str) -> str:
    """The letter of the column whose header is ``header``."""
    (cell,) = (c for c in ws[1] if c.value == header)
    return str(cell.column_letter)


# ---------------------------------------------------------------------------------------
# Sheets and rows
# ---------------------------------------------------------------------------------------


def test_sheets_are_named_and_ordered_as_the_page_tables() -> None:
    book = read(dashboard_workbook(answer()))
    assert book.sheetnames == list(REPORT_SHEETS)
    assert REPORT_SHEETS == (
        "概况",
        "各镇覆盖",
        "联系逐年",
        "联系强度分布",
        "中心度",
        "社区",
        "待结对薄弱村",
        "推荐结对",
        "规则违反",
    )
    assert list(report_rows(answer())) == list(REPORT_SHEETS)


def test_headers_are_chinese_and_name_the_measure() -> None:
    headers = {name: rows[0] for name, rows in report_rows(answer()).items()}
    assert headers == {
        "概况": ["指标", "数值", "单位", "对比日期数值", "变化"],
        "各镇覆盖": ["乡镇代码", "乡镇", "行政村数", "已覆盖", "覆盖率(%)"],
        "联系逐年": ["年份", "结对帮扶", "联建共建"],
        "联系强度分布": ["区间", "联系数"],
        "中心度": ["排名", "名称", "类型", "得分（PageRank）", "节点ID"],
        "社区": ["联建组织", "社区", "成员数"],
        "待结对薄弱村": ["村", "所属乡镇", "原因说明", "节点ID"],
        "推荐结对": ["村", "推荐伙伴", "伙伴类型", "得分", "理由", "村ID", "伙伴ID"],
        "规则违反": ["联建组织", "规则", "严重程度", "证据", "涉及成员"],
    }


def test_rows_carry_the_answer() -> None:
    rows = report_rows(answer())
    assert rows["概况"][1:] == [
        ["地区", "平原县", None, None, None],
        ["区划代码", "371426", None, None, None],
        ["层级", "县", None, None, None],
        ["上级区划", "山东省 / 德州市", None, None, None],
        ["日期", "2026-12-03", None, None, None],
        ["对比日期", "2025-12-03", None, None, None],
        ["行政村", 436, "个", 436, 0],
        ["联建组织", 9, "个", 7, 2],
        ["联建覆盖率", 2.1, "%", 1.8, 0.3],
        ["薄弱村", 431, "个", 433, -2],
        ["规则违反", 3, "项", 3, 0],
        ["未结对薄弱村", 427, "个", None, None],
        ["其中列于“待结对薄弱村”表", 2, "个", None, None],
        ["联系强度中位数", 0.42, None, None, None],
        ["社区数", 446, "个", None, None],
        ["社区划分模块度", 0.706, None, None, None],
    ]
    assert rows["各镇覆盖"][1:] == [
        ["371426001", "龙门街道", 20, 2, 10.0],
        ["371426103", "王凤楼镇", 48, 1, 2.1],
    ]
    assert rows["联系逐年"][1:] == [[2024, 4, 5], [2025, 6, 8], [2026, 6, 9]]
    assert rows["联系强度分布"][1:] == [["0.0–0.1", 3], ["0.1–0.2", 11], ["0.9–1.0", 2]]
    assert rows["中心度"][1:] == [
        [1, "红链兴农区域党建联合体", "党组织", 0.031, "org:371426-hlxn"],
        [2, "森力啤酒饮料有限公司", "企业/合作社", 0.0125, "ent:371426-sljp"],
    ]
    assert rows["社区"][1:] == [
        ["红链兴农区域党建联合体", "社区 4", 2],
        ["红链兴农区域党建联合体", "社区 7", 1],
    ]
    assert rows["待结对薄弱村"][1:] == [
        ["金河源社区", "龙门街道", "联建联系 0 条，低于全县中位数 2 条", "village:371426001007"],
        ["前曹村", "王凤楼镇", "村集体收入 3.2 万元，不足 5 万元", "village:371426103012"],
    ]
    assert rows["推荐结对"][1:] == [
        [
            "金河源社区",
            "红链兴农区域党建联合体",
            "党建联合体",
            0.466,
            "· 同属龙门街道（贡献 0.220）\n· 联建联系 0 条，帮扶需求得分 0.80（贡献 0.246）",
            "village:371426001007",
            "org:371426-hlxn",
        ],
        # No kind: the label's Chinese; no reasons: an empty cell.
        [
            "前曹村",
            "平原县农业农村局",
            "机构",
            0.3,
            None,
            "village:371426103012",
            "inst:371426-nyj",
        ],
    ]
    assert rows["规则违反"][1:] == [
        [
            "红链兴农区域党建联合体",
            "每个联合体至少对接1家企业",
            "错误",
            LONG_EVIDENCE,
            "金河源社区、前曹村",
        ],
        ["王凤楼镇党建联盟", "联合体成员不少于3个", "警告", "成员 2 个", None],
    ]


def test_every_cell_reads_back_as_report_rows_gives_it() -> None:
    data = answer()
    assert sheet_rows(read(dashboard_workbook(data))) == report_rows(data)


def test_a_truncated_list_and_a_missing_since_show_in_the_overview() -> None:
    data = answer()
    data["since"] = None
    for card in data["cards"]:
        card["previous"] = card["change"] = None
    overview = report_rows(data)["概况"]
    assert ["对比日期", None, None, None, None] in overview
    assert ["联建覆盖率", 2.1, "%", None, None] in overview
    assert ["其中列于“待结对薄弱村”表", 2, "个", None, None] in overview
    assert sheet_rows(read(dashboard_workbook(data)))["概况"] == overview
    data["unpartnered_weak"]["truncated"] = False
    assert not any(row[0].startswith("其中") for row in report_rows(data)["概况"])


def test_any_float_reads_back_as_listed() -> None:
    # openpyxl writes 16 significant digits: the rows hold the values the file gives back.
    generator = random.Random(17)
    data = answer()
    data["centrality"]["rows"] = [
        {"rank": i + 1, "node": f"org:{i}", "name": f"组织{i}", "label": "PartyOrganization"}
        | {"score": generator.random() * 10 ** generator.randint(-12, 3)}
        for i in range(500)
    ]
    data["centrality"]["rows"][0]["score"] = 0.017835334665120745  # lost its last digit once
    rows = report_rows(data)["中心度"]
    assert sheet_rows(read(dashboard_workbook(data)))["中心度"] == rows
    assert rows[1][3] == pytest.approx(0.017835334665120745, rel=1e-14)


def test_text_that_looks_like_a_formula_stays_text() -> None:
    data = answer()
    data["coverage_by_town"][0]["name"] = '=HYPERLINK("http://example.com","点我")'
    data["breaches"][1]["evidence"] = "成员\x07 2 个"  # a control character openpyxl refuses
    book = read(dashboard_workbook(data))
    cell = book["各镇覆盖"]["B2"]
    assert cell.value == '=HYPERLINK("http://example.com","点我")'
    assert cell.data_type == "s"
    assert book["规则违反"]["D3"].value == "成员 2 个"
    assert sheet_rows(book) == report_rows(data)


# ---------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------


def test_header_row_is_bold_frozen_filtered_and_printed_on_every_page() -> None:
    data = answer()
    book = read(dashboard_workbook(data))
    for ws in book:
        rows = report_rows(data)[ws.title]
        assert ws.freeze_panes == "A2", ws.title
        assert all(c.font.b for c in ws[1]), ws.title
        assert not any(c.font.b for c in ws[2]), ws.title
        last = openpyxl.utils.get_column_letter(len(rows[0]))
        assert ws.auto_filter.ref == f"A1:{last}{len(rows)}", ws.title
        assert ws.print_title_rows == "$1:$1", ws.title


def test_display_width_counts_cjk_and_full_width_characters_double() -> None:
    assert display_width("abc") == 3
    assert display_width("龙门街道") == 8
    assert display_width("社区 4") == 6
    assert display_width("（贡献）") == 8  # full-width brackets
    assert display_width("短\n长一点的行") == 10  # of several lines, the widest


def test_columns_fit_their_text_cjk_counting_double() -> None:
    data = answer()
    ws = read(dashboard_workbook(data))["待结对薄弱村"]
    # 金河源社区: five CJK characters are ten columns; the ids are ASCII.
    village = ws.column_dimensions[column_of(ws, "村")].width
    ids = ws.column_dimensions[column_of(ws, "节点ID")].width
    assert village == display_width("金河源社区") + 2
    assert ids == len("village:371426001007") + 2
    # Ten CJK characters are wider than ten ASCII ones.
    data["unpartnered_weak"]["items"][0]["name"] = "金河源社区金河源社区"
    data["unpartnered_weak"]["items"][0]["id"] = "village:1"
    ws = read(dashboard_workbook(data))["待结对薄弱村"]
    assert ws.column_dimensions[column_of(ws, "村")].width == 22
    # A short column is as wide as its header and its filter button.
    assert ws.column_dimensions[column_of(ws, "所属乡镇")].width >= display_width("所属乡镇") + 3


def test_long_text_wraps_in_a_capped_column() -> None:
    assert display_width(LONG_EVIDENCE) > MAX_WIDTH
    book = read(dashboard_workbook(answer()))
    ws = book["规则违反"]
    evidence = column_of(ws, "证据")
    assert ws.column_dimensions[evidence].width == MAX_WIDTH
    assert ws[f"{evidence}2"].alignment.wrap_text
    # A column of short text neither reaches the cap nor wraps.
    severity = column_of(ws, "严重程度")
    assert ws.column_dimensions[severity].width < MAX_WIDTH
    assert not ws[f"{severity}2"].alignment.wrap_text
    # The reasons of a pairing, one a line, wrap too when they are long.
    reasons = book["推荐结对"]["E2"]
    assert "\n" in reasons.value


def test_numbers_are_numbers_with_formats() -> None:
    book = read(dashboard_workbook(answer()))
    town = book["各镇覆盖"]
    assert town["C2"].value == 20
    assert isinstance(town["C2"].value, int)
    assert isinstance(town["E3"].value, float)
    assert town["E3"].number_format == "0.0"
    assert town["A2"].data_type == "s"  # a division code is text, not a number
    overview = book["概况"]
    coverage = next(r for r in overview.iter_rows(min_row=2) if r[0].value == "联建覆盖率")
    assert [c.value for c in coverage[1:]] == [2.1, "%", 1.8, 0.3]
    assert coverage[1].number_format == "0.0"
    assert coverage[4].number_format == "+0.0;-0.0;0.0"
    weak = next(r for r in overview.iter_rows(min_row=2) if r[0].value == "薄弱村")
    assert weak[4].value == -2
    assert weak[4].number_format == "+0;-0;0"
    assert book["推荐结对"]["D2"].number_format == "0.000"
    assert book["中心度"]["D3"].value == pytest.approx(0.0125)
    # Only division codes are digits written as text.
    codes = {"371426", "371426001", "371426103"}
    for ws in book:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    looks_numeric = re.fullmatch(r"-?\d+(\.\d+)?", cell.value)
                    assert not looks_numeric or cell.value in codes, (ws.title, cell.value)


def test_empty_lists_give_sheets_of_headers_only() -> None:
    data = empty_answer()
    rows = report_rows(data)
    book = read(dashboard_workbook(data))
    assert sheet_rows(book) == rows
    for name in REPORT_SHEETS[1:]:
        ws = book[name]
        assert ws.max_row == 1, name
        assert rows[name] == [rows[name][0]]
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref.endswith("1")
    assert rows["联系逐年"] == [["年份"]]
    assert ["上级区划", None, None, None, None] in rows["概况"]
    assert ["联建覆盖率", 0, "%", None, None] in rows["概况"]


# ---------------------------------------------------------------------------------------
# Properties and determinism
# ---------------------------------------------------------------------------------------


def test_workbook_properties_name_the_report_and_its_date() -> None:
    properties = read(dashboard_workbook(answer())).properties
    assert properties.creator == CREATOR == "graph-service"
    assert properties.title == "平原县党建联建态势 2026-12-03"
    assert properties.created.isoformat() == "2026-12-03T00:00:00"
    assert properties.modified.isoformat() == "2026-12-03T00:00:00"


def test_the_same_answer_gives_the_same_bytes() -> None:
    data = answer()
    first = dashboard_workbook(data)
    assert dashboard_workbook(copy.deepcopy(data)) == first
    # Nothing in the file comes from the clock: every entry is stamped with as_of.
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2026, 12, 3, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert core.count("2026-12-03T00:00:00Z") == 2
    # Another date is another file.
    data["as_of"] = "2026-12-04"
    assert dashboard_workbook(data) != first


# ---------------------------------------------------------------------------------------
# The route, on the seed graph
# ---------------------------------------------------------------------------------------


def test_report_route_gives_the_rows_of_the_dashboard(seed_client: TestClient) -> None:
    answered = seed_client.get("/v1/dashboard?region=371426")
    assert answered.status_code == 200, answered.text
    got = seed_client.get("/v1/dashboard/report.xlsx?region=371426")
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == XLSX
    disposition = got.headers["content-disposition"]
    assert "attachment" in disposition
    assert re.search(r"filename\*?=", disposition)
    assert ".xlsx" in disposition
    book = read(got.content)
    assert book.sheetnames == list(REPORT_SHEETS)
    assert sheet_rows(book) == report_rows(answered.json())

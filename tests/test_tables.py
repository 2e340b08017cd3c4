"""Reading planners' 台账 (``graph_service.tables``): encodings, workbooks (title rows, merged
cells, formulas without cached values, empty rows), header mapping and overrides, value
parsers and per-row problems, and the shipped example ledgers. Every expected value is checked
by hand."""

from __future__ import annotations

import codecs
import datetime as dt
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import openpyxl
import pytest

from graph_service.errors import InvalidInputError, PayloadTooLargeError
from graph_service.tables import (
    FIELD_NAMES,
    ColumnMapping,
    FieldProblem,
    MappedRow,
    Table,
    apply_overrides,
    guess_mapping,
    mapping_from_json,
    mapping_to_json,
    normalise_header,
    parse_bool,
    parse_date,
    parse_date_precision,
    parse_number,
    read_rows,
    read_table,
    table_kind,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "seed" / "examples"
LEDGER = (
    "村名,所属乡镇,结对单位,联建类型,签约时间\n"
    "林庄村,王杲铺镇,森力啤酒饮料有限公司,村企共建,2021年3月\n"
)


def workbook_bytes(tmp_path: Path, build: Any, name: str = "book.xlsx") -> bytes:
    book = openpyxl.Workbook()
    build(book)
    path = tmp_path / name
    book.save(path)
    return path.read_bytes()


def rows_of(table: Table, overrides: dict[str, str | None] | None = None) -> list[MappedRow]:
    mapping = guess_mapping(table.headers)
    if overrides:
        mapping = apply_overrides(mapping, overrides)
    return list(read_rows(table, mapping))


def messages(row: MappedRow) -> list[str]:
    return [e.message for e in row.errors]


# --------------------------------------------------------------------------------------------
# Text files and their encodings
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (LEDGER.encode("utf-8"), "UTF-8"),
        (codecs.BOM_UTF8 + LEDGER.encode("utf-8"), "UTF-8 with BOM"),
        (LEDGER.encode("gb18030"), "GB18030"),
        (LEDGER.replace(",", "\t").encode("utf-16"), "UTF-16"),
    ],
)
def test_text_encodings(data: bytes, encoding: str) -> None:
    table = read_table(data, "台账.csv")
    assert table.sheet is None
    assert table.sheets == []
    assert table.headers == ["村名", "所属乡镇", "结对单位", "联建类型", "签约时间"]
    assert table.header_row == 1
    assert [r.cells for r in table.rows] == [
        ["林庄村", "王杲铺镇", "森力啤酒饮料有限公司", "村企共建", "2021年3月"]
    ]
    assert table.rows[0].number == 2
    assert f"decoded as {encoding}" in table.notes


def test_tab_separated_txt() -> None:
    table = read_table(LEDGER.replace(",", "\t").encode("gb18030"), "台账.txt")
    assert table.headers[:2] == ["村名", "所属乡镇"]
    assert "columns separated by '\\t'" in table.notes


@pytest.mark.parametrize(
    "data",
    [
        # é followed by a comma: no GB18030 character either.
        "Name,Town\nCafé,Zürich\n".encode("latin-1"),
        # Decodes as GB18030 (ü+l, ß+e, ä+r are GBK pairs: M黮ler, Gie遝n, B鋜bel) but into
        # rare characters: refused.
        "Name,Town\nMüller,Gießen,Bärbel\n".encode("latin-1"),
        bytes(range(128, 256)) * 4,
    ],
)
def test_wrong_encoding_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInputError) as caught:
        read_table(data, "ledger.csv")
    assert caught.value.code == "wrong_encoding"
    assert caught.value.field == "file"
    assert caught.value.details["tried"] == ["utf-8", "gb18030"]


def test_csv_rows_are_numbered_by_the_line_they_start_on() -> None:
    text = '村名,备注\n林庄村,"两行\n备注"\n\n郭庄村,x\n'
    table = read_table(text.encode(), "a.csv")
    assert [(r.number, r.cells) for r in table.rows] == [
        (2, ["林庄村", "两行\n备注"]),
        (5, ["郭庄村", "x"]),
    ]
    assert table.skipped_empty == 1


@pytest.mark.parametrize("filename", ["ledger.pdf", "ledger", "ledger.docx", "ledger.ods"])
def test_unknown_format_is_unreadable(filename: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        read_table(b"whatever", filename)
    assert (caught.value.code, caught.value.field) == ("unreadable_file", "file")


def test_corrupt_workbook_is_unreadable() -> None:
    with pytest.raises(InvalidInputError) as caught:
        read_table(b"PK\x03\x04 not really a zip", "ledger.xlsx")
    assert (caught.value.code, caught.value.field) == ("unreadable_file", "file")


def test_too_big_file() -> None:
    with pytest.raises(PayloadTooLargeError) as caught:
        read_table(LEDGER.encode(), "a.csv", max_bytes=50)
    assert caught.value.field == "file"
    assert caught.value.code == "payload_too_large"
    assert caught.value.details == {"bytes": len(LEDGER.encode()), "max_bytes": 50}


def test_too_many_rows() -> None:
    data = ("村名,乡镇\n" + "林庄村,王杲铺镇\n" * 11).encode()
    assert len(read_table(data, "a.csv", max_rows=11).rows) == 11
    with pytest.raises(PayloadTooLargeError) as caught:
        read_table(data, "a.csv", max_rows=10)
    assert (caught.value.code, caught.value.field) == ("too_many_rows", "file")


def test_csv_has_no_sheets() -> None:
    with pytest.raises(InvalidInputError) as caught:
        read_table(LEDGER.encode(), "a.csv", sheet="Sheet1")
    assert caught.value.field == "sheet"


def test_empty_file() -> None:
    with pytest.raises(InvalidInputError) as caught:
        read_table(b"\n\n", "a.csv")
    assert caught.value.code == "empty_file"


# --------------------------------------------------------------------------------------------
# Workbooks
# --------------------------------------------------------------------------------------------


def ledger_book(book: openpyxl.Workbook) -> None:
    sheet = book.active
    sheet.title = "台账"
    sheet["A1"] = "平原县党建联建结对台账（2023年）"
    sheet.merge_cells("A1:H1")
    sheet.append(
        ["序号", "村名", "所属乡镇", "结对单位", "联建类型", "签约时间", "年会议次数", "备注"]
    )
    sheet.append(
        [
            1,
            " 林庄村 ",
            "王杲铺镇",
            "森力啤酒饮料有限公司",
            "村企共建型",
            dt.date(2021, 3, 15),
            4,
            None,
        ]
    )
    sheet.append([2, "郭庄村", None, "平原县农村商业银行", "金融结对", "2021年3月", 2.5, True])
    sheet.append([])
    sheet.append(["=ROW()-2", "刘庄村", None, "县农业农村局", "结对帮扶", 44270, "很多", None])
    sheet.merge_cells("C3:C6")
    sheet.append([None, "小张村", "前曹镇", "县工信局", "包村", "=TODAY()", 3, None])
    sheet.append([])
    sheet.append([])
    sheet.append(
        [7, "大张村", "前曹镇", "县住建局", "第一书记", dt.datetime(2022, 5, 1, 9, 30), 1, "x"]
    )


def test_workbook_title_row_merged_cells_formulas_and_empty_rows(tmp_path: Path) -> None:
    table = read_table(workbook_bytes(tmp_path, ledger_book), "台账.xlsx")
    assert table.sheet == "台账"
    assert table.sheets == ["台账"]
    assert table.header_row == 2
    assert table.headers[:3] == ["序号", "村名", "所属乡镇"]
    assert (
        table.notes[0] == "row(s) 1 above the header were skipped: 平原县党建联建结对台账（2023年）"
    )
    assert table.skipped_empty == 3
    assert [r.number for r in table.rows] == [3, 4, 6, 7, 10]
    first, second, third, fourth, fifth = table.rows
    # Types are kept: int, stripped str, date, whole float as int, float, bool, datetime.
    assert first.cells == [
        1,
        "林庄村",
        "王杲铺镇",
        "森力啤酒饮料有限公司",
        "村企共建型",
        dt.date(2021, 3, 15),
        4,
        None,
    ]
    assert second.cells[6:] == [2.5, True]
    assert fifth.cells[5] == dt.datetime(2022, 5, 1, 9, 30)
    # The merged 所属乡镇 C3:C6 applies to rows 4 and 6 (row 5 is empty and skipped).
    assert second.cells[2] == third.cells[2] == "王杲铺镇"
    assert second.notes == ["所属乡镇 filled from merged cell C3:C6"]
    assert third.notes == ["所属乡镇 filled from merged cell C3:C6"]
    assert first.notes == []
    assert fourth.notes == []
    # Formulas without a cached value: the cell reads None and is a problem of the row.
    assert third.cells[0] is None
    assert set(third.problems) == {"序号"}
    assert "formula without a cached value" in third.problems["序号"]
    assert fourth.cells[5] is None
    assert set(fourth.problems) == {"签约时间"}


def test_workbook_rows_mapped(tmp_path: Path) -> None:
    table = read_table(workbook_bytes(tmp_path, ledger_book), "台账.xlsx")
    rows = rows_of(table)
    assert [r.number for r in rows] == [3, 4, 6, 7, 10]
    assert rows[0].values == {
        "name": "林庄村",
        "town": "王杲铺镇",
        "partner": "森力啤酒饮料有限公司",
        "link_type": "CO_BUILDS",
        "valid_from": dt.date(2021, 3, 15),
        "meetings_per_year": 4,
    }
    assert rows[0].errors == []
    assert rows[1].values["valid_from"] == dt.date(2021, 3, 1)
    assert rows[1].values["link_type"] == "FINANCES"
    assert rows[1].values["note"] == "是"  # a bool cell in a text column
    assert "签约时间: '2021年3月' gives only the month: read as 2021-03-01" in rows[1].notes
    # A serial number in a plain numeric cell is a date; garbage in a number column is an
    # error of that field only; the ignored 序号 formula is a note.
    third = rows[2]
    assert third.values["valid_from"] == dt.date(2021, 3, 15)
    assert third.values["link_type"] == "PAIRS_WITH"
    assert third.errors == [
        FieldProblem("meetings_per_year", "年会议次数", "年会议次数: '很多' is not a number")
    ]
    assert any(
        n.startswith("序号 (ignored): a formula without a cached value") for n in third.notes
    )
    # The mapped formula cell is an error of valid_from.
    fourth = rows[3]
    assert [(e.field, e.header) for e in fourth.errors] == [("valid_from", "签约时间")]
    assert "formula without a cached value" in fourth.errors[0].message
    assert fourth.values["name"] == "小张村"
    assert rows[4].values["valid_from"] == dt.date(2022, 5, 1)
    assert rows[4].values["link_type"] == "DISPATCHES"


def test_error_values_are_row_problems(tmp_path: Path) -> None:
    def build(book: openpyxl.Workbook) -> None:
        sheet = book.active
        sheet.append(["村名", "年会议次数"])
        sheet.append(["林庄村", "#N/A"])
        sheet.append(["郭庄村", 3])

    table = read_table(workbook_bytes(tmp_path, build), "a.xlsx")
    assert table.rows[0].problems == {"年会议次数": "the cell holds the error value #N/A"}
    rows = rows_of(table)
    assert messages(rows[0]) == ["年会议次数: the cell holds the error value #N/A"]
    assert rows[1].values == {"name": "郭庄村", "meetings_per_year": 3}


def two_sheets(book: openpyxl.Workbook) -> None:
    book.active.title = "说明"  # empty
    data = book.create_sheet("2023年")
    data.append(["村名", "所属乡镇"])
    data.append(["林庄村", "王杲铺镇"])
    other = book.create_sheet("汇总")
    other.append(["乡镇", "结对数"])
    other.append(["王杲铺镇", 12])


def test_default_sheet_is_the_first_non_empty(tmp_path: Path) -> None:
    table = read_table(workbook_bytes(tmp_path, two_sheets), "a.xlsx")
    assert table.sheet == "2023年"
    assert table.sheets == ["说明", "2023年", "汇总"]
    assert table.rows[0].cells == ["林庄村", "王杲铺镇"]


def test_named_sheet_and_a_sheet_without_names(tmp_path: Path) -> None:
    table = read_table(workbook_bytes(tmp_path, two_sheets), "a.xlsx", sheet="汇总")
    assert table.headers == ["乡镇", "结对数"]
    mapping = guess_mapping(table.headers)
    assert mapping.columns == {"乡镇": "town", "结对数": None}
    with pytest.raises(InvalidInputError) as caught:
        table_kind(mapping)
    assert (caught.value.code, caught.value.field) == ("no_name_column", "mapping")
    assert "村名" in caught.value.message
    assert "单位名称" in caught.value.message
    with pytest.raises(InvalidInputError) as caught:
        list(read_rows(table, mapping))
    assert caught.value.code == "no_name_column"


def test_unknown_sheet(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        read_table(workbook_bytes(tmp_path, two_sheets), "a.xlsx", sheet="2024年")
    assert caught.value.field == "sheet"
    assert caught.value.details == {"sheets": ["说明", "2023年", "汇总"]}


def test_header_found_below_a_title_and_a_subtitle(tmp_path: Path) -> None:
    def build(book: openpyxl.Workbook) -> None:
        sheet = book.active
        sheet["B2"] = "平原县党建联建结对台账"
        sheet["B3"] = "填报单位：县委组织部"
        sheet["B5"], sheet["C5"], sheet["D5"] = "村名", "结对单位", None
        sheet["B6"], sheet["C6"], sheet["D6"] = "林庄村", "县工信局", "stray"

    table = read_table(workbook_bytes(tmp_path, build), "a.xlsx")
    assert table.header_row == 5
    assert table.headers == ["村名", "结对单位"]
    assert table.rows[0].number == 6
    assert table.rows[0].cells == ["林庄村", "县工信局"]
    assert table.notes == [
        "row(s) 2, 3 above the header were skipped: 平原县党建联建结对台账; 填报单位：县委组织部",
        "column D has no header; its values in 1 row(s) were ignored",
    ]


def test_duplicate_headers_are_made_unique() -> None:
    table = read_table("村名,备注,备注\n林庄村,a,b\n".encode(), "a.csv")
    assert table.headers == ["村名", "备注", "备注 (2)"]
    mapping = guess_mapping(table.headers)
    assert mapping.columns == {"村名": "name", "备注": "note", "备注 (2)": "note"}
    assert rows_of(table)[0].values == {"name": "林庄村", "note": "a；b"}


# --------------------------------------------------------------------------------------------
# Header mapping
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("村名", "name"),
        ("村（社区）", "name"),
        ("村(社区)", "name"),
        ("社区名称", "name"),
        ("单位名称", "name"),
        ("类别", "label"),
        ("细类", "kind"),
        ("乡镇（街道）", "town"),
        ("镇街", "town"),
        ("县（市、区）", "county"),
        ("统计用区划代码", "region_code"),
        ("帮扶企业", "partner"),
        ("结对单位类型", "partner_label"),
        ("合作方式", "link_type"),
        ("成立时间", "valid_from"),
        ("到期时间", "valid_to"),
        ("村党支部书记", "contact_person"),
        ("手机号", "contact_phone"),
        ("统一社会信用代码", "credit_code"),
        ("曾用名", "aliases"),
        ("联席会议次数", "meetings_per_year"),
        ("是否签订协议", "agreement_signed"),
        ("说明", "note"),
        ("甲方", "source_name"),
        ("受帮扶方", "target_name"),
        ("主体B", "target_name"),
        # Normalised: spaces, full width, a required-marker star, a trailing colon.
        ("＊村　名：", "name"),
        (" 联系电话 ", "contact_phone"),
    ],
)
def test_header_variants(header: str, field: str) -> None:
    mapping = guess_mapping([header])
    assert mapping.columns == {header: field}
    assert mapping.confidence == {header: 1.0}
    assert mapping.unmapped == []


@pytest.mark.parametrize(
    ("header", "field", "low", "high"),
    [
        ("所属乡镇名称", "town", 0.85, 0.95),
        ("乡镇名称", "town", 0.8, 0.9),
        ("统一信用代码", "credit_code", 0.8, 0.9),
        ("联系电话（手机）", "contact_phone", 0.95, 0.95),
        ("帮扶责任人", "contact_person", 0.8, 0.9),
    ],
)
def test_fuzzy_headers(header: str, field: str, low: float, high: float) -> None:
    mapping = guess_mapping([header])
    assert mapping.columns[header] == field
    assert low <= mapping.confidence[header] <= high
    assert mapping.notes == [
        f"{header!r} read as {field} (score {mapping.confidence[header] * 100:.0f})"
    ]


@pytest.mark.parametrize("header", ["序号", "地址", "合计", "填报人"])
def test_unknown_or_ignored_headers(header: str) -> None:
    mapping = guess_mapping([header])
    assert mapping.columns == {header: None}
    assert mapping.unmapped == [header]
    assert mapping.confidence[header] == (
        1.0 if header == "序号" else pytest.approx(mapping.confidence[header])
    )
    assert header == "序号" or mapping.confidence[header] < 0.75


def test_normalise_header() -> None:
    assert normalise_header("＊联系电话：") == "联系电话"
    assert normalise_header(" 乡镇（街道） ") == "乡镇(街道)"
    assert normalise_header("No.") == "no."


def test_one_field_one_column_the_more_confident_wins() -> None:
    mapping = guess_mapping(["村庄名称", "村名", "乡镇名称", "所属乡镇"])
    assert mapping.columns == {
        "村庄名称": "name",
        "村名": None,
        "乡镇名称": None,
        "所属乡镇": "town",
    }
    assert mapping.unmapped == ["村名", "乡镇名称"]


def test_type_column_right_of_the_partner_describes_the_partner() -> None:
    pairing = guess_mapping(["村名", "结对单位", "单位类型"])
    assert pairing.columns["单位类型"] == "partner_label"
    subject = guess_mapping(["单位名称", "单位类型", "结对单位"])
    assert subject.columns["单位类型"] == "label"
    plain = guess_mapping(["单位名称", "单位类型"])
    assert plain.columns["单位类型"] == "label"


def test_overrides() -> None:
    mapping = guess_mapping(["村名", "结对单位", "单位类型", "地址", "简称", "别名"])
    assert mapping.columns["简称"] == mapping.columns["别名"] == "aliases"  # aliases repeat
    corrected = apply_overrides(mapping, {"地址": "note", "单位类型": None})
    assert corrected.columns["地址"] == "note"
    assert corrected.columns["单位类型"] is None
    assert corrected.confidence["地址"] == 1.0
    assert corrected.unmapped == ["单位类型"]
    assert mapping.columns["地址"] is None  # the original is left alone


def test_override_of_an_unknown_header() -> None:
    mapping = guess_mapping(["村名"])
    with pytest.raises(InvalidInputError) as caught:
        apply_overrides(mapping, {"村庄": "name"})
    assert caught.value.field == "mapping.村庄"
    assert caught.value.code == "unknown_header"
    assert caught.value.details == {"headers": ["村名"]}


def test_override_to_an_unknown_field() -> None:
    mapping = guess_mapping(["村名", "地址"])
    with pytest.raises(InvalidInputError) as caught:
        apply_overrides(mapping, {"地址": "address"})
    assert caught.value.field == "mapping.地址"
    assert caught.value.code == "unknown_field"
    assert caught.value.details == {"fields": list(FIELD_NAMES)}
    assert "contact_phone" in caught.value.message


def test_override_mapping_a_field_twice() -> None:
    mapping = guess_mapping(["村名", "单位名称", "备注"])
    assert mapping.columns["单位名称"] is None  # 村名 kept name
    with pytest.raises(InvalidInputError) as caught:
        apply_overrides(mapping, {"单位名称": "name"})
    assert caught.value.code == "duplicate_field"
    assert caught.value.field == "mapping.单位名称"
    assert caught.value.details == {"field": "name", "headers": ["村名", "单位名称"]}
    swapped = apply_overrides(mapping, {"单位名称": "name", "村名": None})
    assert swapped.columns == {"村名": None, "单位名称": "name", "备注": "note"}
    assert apply_overrides(mapping, {"村名": "note"}).columns["村名"] == "note"  # note repeats


def test_mapping_json_round_trip() -> None:
    mapping = apply_overrides(guess_mapping(["村名", "所属乡镇名称", "地址"]), {"地址": "note"})
    saved = mapping_to_json(mapping)
    assert saved == {
        "columns": {"村名": "name", "所属乡镇名称": "town", "地址": "note"},
        "confidence": {
            "村名": 1.0,
            "所属乡镇名称": mapping.confidence["所属乡镇名称"],
            "地址": 1.0,
        },
    }
    loaded = mapping_from_json(saved)
    assert (loaded.columns, loaded.confidence, loaded.unmapped) == (
        mapping.columns,
        mapping.confidence,
        [],
    )
    bare = mapping_from_json({"村名": "name", "序号": None})
    assert bare.columns == {"村名": "name", "序号": None}
    assert bare.unmapped == ["序号"]
    with pytest.raises(InvalidInputError) as caught:
        mapping_from_json({"村名": "village"})
    assert caught.value.code == "unknown_field"
    with pytest.raises(InvalidInputError) as caught:
        mapping_from_json({"a": "name", "b": "name"})
    assert caught.value.code == "duplicate_field"
    with pytest.raises(InvalidInputError) as caught:
        mapping_from_json({"columns": ["村名"]})
    assert caught.value.code == "invalid_mapping"


@pytest.mark.parametrize(
    ("columns", "kind"),
    [
        ({"村名": "name"}, "nodes"),
        ({"村名": "name", "结对单位": "partner"}, "links"),
        ({"甲方": "source_name", "乙方": "target_name"}, "links"),
        ({"村名": "name", "乙方": "target_name"}, "links"),
    ],
)
def test_table_kind(columns: dict[str, str | None], kind: str) -> None:
    mapping = ColumnMapping(columns, dict.fromkeys(columns, 1.0), [])
    assert table_kind(mapping) == kind


@pytest.mark.parametrize("columns", [{"乙方": "target_name"}, {"甲方": "source_name"}, {"x": None}])
def test_table_kind_without_names(columns: dict[str, str | None]) -> None:
    with pytest.raises(InvalidInputError) as caught:
        table_kind(ColumnMapping(columns, dict.fromkeys(columns, 1.0), []))
    assert caught.value.code == "no_name_column"


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

MARCH_15 = dt.date(2021, 3, 15)
MARCH_1 = dt.date(2021, 3, 1)


@pytest.mark.parametrize(
    ("value", "expected", "precision"),
    [
        (MARCH_15, MARCH_15, "day"),
        (dt.datetime(2021, 3, 15, 23, 59), MARCH_15, "day"),
        ("2021-03-15", MARCH_15, "day"),
        ("2021/3/15", MARCH_15, "day"),
        ("2021.03.15", MARCH_15, "day"),
        ("2021年3月15日", MARCH_15, "day"),
        ("2021年3月15号", MARCH_15, "day"),
        ("20210315", MARCH_15, "day"),
        ("2021-03-15 00:00:00", MARCH_15, "day"),
        ("２０２１年３月１５日", MARCH_15, "day"),
        ("２０２１－０３－１５", MARCH_15, "day"),
        ("二〇二一年三月十五日", MARCH_15, "day"),
        (" 2021 年 3 月 15 日 ", MARCH_15, "day"),
        ("2021.3", MARCH_1, "month"),
        ("2021.10", dt.date(2021, 10, 1), "month"),
        ("2021-3", MARCH_1, "month"),
        ("2021年3月", MARCH_1, "month"),
        ("2021年3月份", MARCH_1, "month"),
        ("2021年3月左右", MARCH_1, "month"),
        ("2021年3月前后", MARCH_1, "month"),
        ("202103", MARCH_1, "month"),
        ("二〇二一年三月", MARCH_1, "month"),
        ("二○二一年十二月", dt.date(2021, 12, 1), "month"),
        ("2021年元月", dt.date(2021, 1, 1), "month"),
        ("2021年", dt.date(2021, 1, 1), "year"),
        ("2021", dt.date(2021, 1, 1), "year"),
        ("2021年左右", dt.date(2021, 1, 1), "year"),
        # Numbers: an Excel serial (1900 system), a year typed as a number, year.month.
        (44270, MARCH_15, "day"),
        (44270.75, MARCH_15, "day"),
        (2021, dt.date(2021, 1, 1), "year"),
        (2021.3, MARCH_1, "month"),
        (2021.12, dt.date(2021, 12, 1), "month"),
    ],
)
def test_dates(value: Any, expected: dt.date, precision: str) -> None:
    assert parse_date_precision(value) == (expected, precision)
    assert parse_date(value) == expected


def test_serials_in_the_1904_system() -> None:
    assert parse_date(44270 - 1462, datemode_1904=True) == MARCH_15


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("待定", "'待定' is not a date"),
        ("", "empty"),
        ("2021-13-01", "month 13 is out of range"),
        ("2021-02-29", "2021-02-29 is not a calendar day"),
        ("1949年10月", "outside 1950–2100"),
        ("2101-01-01", "outside 1950–2100"),
        (dt.date(1900, 1, 5), "outside 1950–2100"),
        # The 1900 system's serials around Excel's invented 1900-02-29.
        (59, "serial 59 is 1900-02-28"),
        (60, "1900-02-29, a day Excel invents"),
        (61, "serial 61 is 1900-03-01"),
        (18263, "serial 18263 is 1949-12-31"),
        (73416, "serial 73416 is 2101-01-01"),
        (0, "not an Excel date serial number"),
        (-5, "not an Excel date serial number"),
        (3_000_000, "not an Excel date serial number"),
        (float("nan"), "is not a date"),
        (2021.1, "ambiguous (January or October?)"),
        (True, "True is not a date"),
        (None, "None is not a date"),
        ("44270", "looks like an Excel serial number saved as text (2021-03-15?)"),
        ("2021年13月", "month 13 is out of range"),
        ("3月15日", "is not a date"),
    ],
)
def test_dates_refused(value: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_date(value)


def test_serials_at_the_edges_of_the_domain() -> None:
    assert parse_date(18264) == dt.date(1950, 1, 1)
    assert parse_date(73415) == dt.date(2100, 12, 31)


# --------------------------------------------------------------------------------------------
# Booleans and numbers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("是", True),
        ("否", False),
        ("有", True),
        ("无", False),
        ("已签订", True),
        ("未签订", False),
        ("已签订协议", True),
        ("√", True),
        ("×", False),
        ("1", True),
        ("0", False),
        ("true", True),
        ("FALSE", False),
        (" 是 ", True),
        (True, True),
        (0, False),
        (1.0, True),
    ],
)
def test_bools(value: Any, expected: bool) -> None:
    assert parse_bool(value) is expected


@pytest.mark.parametrize("value", ["也许", "2", 2, "", None, "签了一半"])
def test_bools_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="not yes or no"):
        parse_bool(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12),
        ("12次", 12),
        ("12次/年", 12),
        ("约5次", 5),
        ("3,000", 3000),
        ("1.5万", 15000),
        ("2亿", 200_000_000),
        ("１２次", 12),
        ("十二次", 12),
        ("2.5", 2.5),
        (7, 7),
        (7.0, 7),
        (2.5, 2.5),
    ],
)
def test_numbers(value: Any, expected: float) -> None:
    parsed = parse_number(value)
    assert parsed == expected
    assert type(parsed) is type(expected)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("很多", "is not a number"),
        ("3-5次", "is a range"),
        ("", "is not a number"),
        (True, "is not a number"),
        (float("inf"), "is not a number"),
        ("12次3", "is not a number"),
    ],
)
def test_numbers_refused(value: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_number(value)


# --------------------------------------------------------------------------------------------
# Rows of fields
# --------------------------------------------------------------------------------------------


def mapped(text: str) -> list[MappedRow]:
    return rows_of(read_table(text.encode(), "a.csv"))


@pytest.mark.parametrize(
    ("phrase", "link_type"),
    [
        ("结对帮扶", "PAIRS_WITH"),
        ("村企共建型", "CO_BUILDS"),
        ("党建联建", "CO_BUILDS"),
        ("百企帮百村", "PAIRS_WITH"),
        ("金融结对", "FINANCES"),
        ("订单农业", "SUPPLIES"),
        ("选派驻村干部", "DISPATCHES"),
        ("PAIRS_WITH", "PAIRS_WITH"),
        ("co_builds", "CO_BUILDS"),
    ],
)
def test_link_type_phrases(phrase: str, link_type: str) -> None:
    (row,) = mapped(f"村名,结对单位,联建类型\n林庄村,县工信局,{phrase}\n")
    assert row.values["link_type"] == link_type
    assert row.errors == []


def test_unknown_link_type_phrase() -> None:
    (row,) = mapped("村名,结对单位,联建类型\n林庄村,县工信局,友好往来\n")
    assert [(e.field, e.header) for e in row.errors] == [("link_type", "联建类型")]
    assert "unknown link type '友好往来'" in row.errors[0].message
    assert row.values == {"name": "林庄村", "partner": "县工信局"}


@pytest.mark.parametrize(
    ("word", "label", "note"),
    [
        ("企业", "Enterprise", False),
        ("村（社区）", "Village", False),
        ("事业单位", "Institution", False),
        ("Enterprise", "Enterprise", False),
        ("县直机关", "Institution", False),
        ("市直机关", "Institution", True),
        ("省属国有企业", "Enterprise", True),
    ],
)
def test_labels(word: str, label: str, note: bool) -> None:
    (row,) = mapped(f"名称,类型\n林庄村,{word}\n")
    assert row.values["label"] == label
    assert any("read as" in n for n in row.notes) is note


def test_unknown_label() -> None:
    (row,) = mapped("名称,类型\n林庄村,外星机构x\n")
    assert row.errors[0].field == "label"
    assert "unknown type '外星机构x'" in row.errors[0].message


def test_a_garbage_column_gives_errors_on_its_rows_only() -> None:
    rows = mapped(
        "村名,年会议次数,是否签订协议,签约时间\n"
        "林庄村,4,是,2021-03-15\n"
        "郭庄村,经常,否,2021.3\n"
        "刘庄村,2次,也许,不详\n"
    )
    assert rows[0].errors == []
    assert rows[0].values == {
        "name": "林庄村",
        "meetings_per_year": 4,
        "agreement_signed": True,
        "valid_from": MARCH_15,
    }
    assert [e.field for e in rows[1].errors] == ["meetings_per_year"]
    assert rows[1].values == {"name": "郭庄村", "agreement_signed": False, "valid_from": MARCH_1}
    assert [e.field for e in rows[2].errors] == ["agreement_signed", "valid_from"]
    assert rows[2].values == {"name": "刘庄村", "meetings_per_year": 2}


def test_empty_name_and_empty_partner() -> None:
    rows = mapped("村名,结对单位,乡镇\n,县工信局,前曹镇\n林庄村,,前曹镇\n")
    assert [(e.field, e.header, e.message) for e in rows[0].errors] == [
        ("name", "村名", "name is empty")
    ]
    assert rows[0].values == {"partner": "县工信局", "town": "前曹镇"}
    assert [(e.field, e.message) for e in rows[1].errors] == [("partner", "partner is empty")]
    source_target = mapped("甲方,乙方\n,县工信局\n")
    assert [(e.field, e.message) for e in source_target[0].errors] == [
        ("source_name", "name is empty")
    ]


def test_text_values() -> None:
    long_name = "林" * 201
    rows = mapped(
        "村名,负责人,联系电话,别名,简称,备注,统一社会信用代码,区划代码,县区\n"
        '林庄村,张某某,138 0000 1234,"林庄、林家庄",林庄,"第一行\n第二行",'
        "9144030071526726XG,371426001268,平原县\n"
        f"{long_name},李某,无,,,,9144030071526726XA,37142,平原县\n"
        "郭庄\x07村,王某,13800001234.0,,,,,,\n"
    )
    assert rows[0].values == {
        "name": "林庄村",
        "contact_person": "张某某",
        "contact_phone": "138 0000 1234",
        "aliases": ["林庄", "林家庄"],
        "note": "第一行\n第二行",
        "credit_code": "9144030071526726XG",
        "region_code": "371426001268",
        "county": "平原县",
    }
    assert rows[0].errors == []
    assert {e.field: e.message for e in rows[1].errors} == {
        "name": "村名: is 201 characters long; at most 200",
        "contact_phone": "联系电话: '无' is not a phone number",
        "credit_code": "统一社会信用代码: '9144030071526726XA': the check character should be G",
        "region_code": "区划代码: '37142' is not a division code (2, 4, 6, 9 or 12 digits)",
    }
    assert [e.field for e in rows[2].errors] == ["name"]
    assert "U+0007" in rows[2].errors[0].message
    assert rows[2].values == {"contact_person": "王某", "contact_phone": "13800001234"}


def test_numeric_phone_cell_and_ended_links(tmp_path: Path) -> None:
    def build(book: openpyxl.Workbook) -> None:
        sheet = book.active
        sheet.append(["村名", "联系电话", "开始时间", "结束时间"])
        sheet.append(["林庄村", 13800001234, dt.date(2022, 1, 1), dt.date(2021, 1, 1)])

    (row,) = rows_of(read_table(workbook_bytes(tmp_path, build), "a.xlsx"))
    assert row.values == {
        "name": "林庄村",
        "contact_phone": "13800001234",
        "valid_from": dt.date(2022, 1, 1),
    }
    assert [(e.field, e.message) for e in row.errors] == [
        ("valid_to", "ends (2021-01-01) before it begins (2022-01-01)")
    ]


def test_negative_meetings_are_refused() -> None:
    (row,) = mapped("村名,年会议次数\n林庄村,-3\n")
    assert messages(row) == ["年会议次数: -3 is negative"]


# --------------------------------------------------------------------------------------------
# The shipped examples
# --------------------------------------------------------------------------------------------

EXAMPLE_MAPPING = {
    "序号": None,
    "村名": "name",
    "所属乡镇": "town",
    "结对单位": "partner",
    "单位类型": "partner_label",
    "联建类型": "link_type",
    "签约时间": "valid_from",
    "负责人": "contact_person",
    "联系电话": "contact_phone",
    "备注": "note",
}


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_ledger", ROOT / "scripts" / "make_ledger.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_ledger"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["平原县党建结对台账.xlsx", "平原县党建结对台账.csv"])
def test_shipped_examples(name: str) -> None:
    table = read_table((EXAMPLES / name).read_bytes(), name)
    assert table.header_row == 2
    assert list(EXAMPLE_MAPPING) == table.headers
    assert len(table.rows) == 299
    assert table.skipped_empty == 1
    assert (
        table.notes[-1]
        == "row(s) 1 above the header were skipped: 平原县党建联建结对台账（2023年）"
    )
    mapping = guess_mapping(table.headers)
    assert mapping.columns == EXAMPLE_MAPPING
    assert table_kind(mapping) == "links"
    rows = list(read_rows(table, mapping))
    errors = [(r.number, e.field, e.message) for r in rows for e in r.errors]
    pending = [(n, f) for n, f, m in errors if "'待定'" in m]
    assert pending == [(63, "valid_from"), (153, "valid_from"), (243, "valid_from")]
    assert [(n, f, m) for n, f, m in errors if f == "name"] == [(103, "name", "name is empty")]
    filled = [r.number for r in rows if any("merged cell C3:C22" in n for n in r.notes)]
    if name.endswith(".xlsx"):
        assert table.sheet == "结对台账"
        assert len(errors) == 4
        assert filled == list(range(4, 23))
        assert sum("town" in r.values for r in rows) == 299
    else:
        assert "decoded as GB18030" in table.notes
        # Excel's CSV leaves a merged block's cells blank, and raw serial numbers become text.
        assert filled == []
        assert sum("town" in r.values for r in rows) == 280
        serials = [m for _n, _f, m in errors if "serial number saved as text" in m]
        assert len(errors) == 4 + len(serials)
    assert {r.values.get("link_type") for r in rows} == {
        "CO_BUILDS",
        "PAIRS_WITH",
        "SUPPLIES",
        "FINANCES",
        "DISPATCHES",
    }
    assert {r.values.get("partner_label") for r in rows} == {"Enterprise", "Institution"}
    assert all(
        r.values["contact_phone"].replace(" ", "").replace("-", "")[:7] in ("1380000", "0534000")
        for r in rows
    )


def test_examples_agree_with_each_other() -> None:
    xlsx = read_table((EXAMPLES / "平原县党建结对台账.xlsx").read_bytes(), "a.xlsx")
    text = read_table((EXAMPLES / "平原县党建结对台账.csv").read_bytes(), "a.csv")
    assert [r.number for r in xlsx.rows] == [r.number for r in text.rows]
    assert [r.cells[1] for r in xlsx.rows] == [r.cells[1] for r in text.rows]
    assert [r.cells[3] for r in xlsx.rows] == [r.cells[3] for r in text.rows]


def test_examples_are_what_the_generator_makes(tmp_path: Path) -> None:
    generator = load_generator()
    out = tmp_path / "ledger.csv"
    assert (
        generator.main(
            [
                "--rows",
                "300",
                "--title",
                "--format",
                "csv",
                "--encoding",
                "gb18030",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert out.read_bytes() == (EXAMPLES / "平原县党建结对台账.csv").read_bytes()
    book = tmp_path / "ledger.xlsx"
    assert generator.main(["--rows", "300", "--title", "--out", str(book)]) == 0
    fresh = read_table(book.read_bytes(), "a.xlsx")
    shipped = read_table((EXAMPLES / "平原县党建结对台账.xlsx").read_bytes(), "a.xlsx")
    assert [r.cells for r in fresh.rows] == [r.cells for r in shipped.rows]


def test_example_variants() -> None:
    """The example holds the variants it promises."""
    table = read_table((EXAMPLES / "平原县党建结对台账.xlsx").read_bytes(), "a.xlsx")
    names = [r.cells[1] for r in table.rows if r.cells[1]]
    towns = {r.cells[2] for r in table.rows}
    partners = {r.cells[3] for r in table.rows}
    dates = [r.cells[6] for r in table.rows]
    assert any(n.endswith("村民委员会") for n in names)
    assert any(n.endswith("村") and "社区" not in n for n in names)
    assert any(any(c in n for c in "臺頭莊張劉東馬") for n in names)
    assert {"森力啤酒饮料有限公司", "森力啤酒饮料公司", "平原县森力啤酒饮料有限公司"} <= partners
    assert "平原县农村商业银行" in partners
    assert any(t.endswith("镇") for t in towns)
    assert any(not t.endswith(("镇", "街道", "乡")) for t in towns)
    assert any(isinstance(d, dt.date) for d in dates)
    assert any(isinstance(d, int) for d in dates)  # raw serial numbers
    assert any(isinstance(d, str) and "年" in d for d in dates)
    assert any(isinstance(d, str) and "." in d for d in dates)
    assert any(isinstance(d, str) and "/" in d for d in dates)

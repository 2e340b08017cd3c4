"""Reading planners' spreadsheets (台账): bytes in, rows of typed values out.

County planners keep their joint party-building ledgers in Excel or CSV, one row a village or
a pairing, with columns such as 村名, 所属乡镇, 结对单位, 联建类型, 签约时间, 负责人, 联系电话 and
备注. This module is the pure reading layer of the import: it never touches the store and
knows nothing of HTTP.

The steps, each a function:

1. :func:`read_table` decodes a workbook (``.xlsx``/``.xlsm``/``.xls`` through python-calamine)
   or a text file (``.csv``/``.txt``, UTF-8 with or without BOM, else GB18030) into a
   :class:`Table`: it finds the header row below any title rows, skips empty rows, fills merged
   cells down and right, and marks formula cells without a cached value.
2. :func:`guess_mapping` maps each header to an import field (:data:`IMPORT_FIELDS`) by its
   known Chinese variants, then by a fuzzy score; :func:`apply_overrides` applies a planner's
   corrections; :func:`mapping_to_json` / :func:`mapping_from_json` save a mapping by name.
3. :func:`table_kind` says whether the sheet lists nodes or links.
4. :func:`read_rows` converts each mapped cell with its field's parser (:func:`parse_date`,
   :func:`parse_number`, :func:`parse_bool`, the vocabulary of :mod:`graph_service.vocabulary`)
   into a :class:`MappedRow`; a bad value is a problem of its row and field only.

Resolving names against the graph and writing are the caller's business.

Formula cells without a cached value and error cells (``#N/A``) both read as empty through
calamine; for ``.xlsx``/``.xlsm`` the sheet's XML is scanned to tell them apart (a per-row
problem). Legacy ``.xls`` files are not scanned: Excel always stores a formula's cached value
there. Merged ranges come from calamine (``merged_cell_ranges``, xlsx and xls).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import html
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Final, Literal

from python_calamine import CalamineError, CalamineWorkbook
from rapidfuzz import fuzz

from graph_service.domain import DIVISION_CODE_LENGTHS
from graph_service.errors import InvalidInputError, PayloadTooLargeError
from graph_service.text import first_control_character, refusal
from graph_service.vocabulary import LABEL_WORDS, LINK_PHRASES, link_type_of_phrase

__all__ = [
    "FIELD_NAMES",
    "HEADER_SCAN_ROWS",
    "IGNORED_HEADERS",
    "IMPORT_FIELDS",
    "MAPPING_THRESHOLD",
    "ColumnMapping",
    "FieldProblem",
    "ImportField",
    "MappedRow",
    "Table",
    "TableRow",
    "apply_overrides",
    "guess_mapping",
    "mapping_from_json",
    "mapping_to_json",
    "normalise_header",
    "parse_bool",
    "parse_date",
    "parse_date_precision",
    "parse_number",
    "read_rows",
    "read_table",
    "table_kind",
]

# --------------------------------------------------------------------------------------------
# The import fields
# --------------------------------------------------------------------------------------------

FieldKind = Literal[
    "name",
    "text",
    "free_text",
    "label",
    "link_type",
    "date",
    "number",
    "bool",
    "phone",
    "credit_code",
    "region_code",
    "list",
]


@dataclass(frozen=True, slots=True)
class ImportField:
    """One field a ledger column can be mapped to.

    Attributes
    ----------
    name : str
        The field's identifier (``name``, ``town``, ``valid_from`` …).
    kind : str
        How a cell is converted: ``name`` / ``text`` (one line, stripped), ``free_text``
        (line breaks kept), ``label``, ``link_type``, ``date``, ``number``, ``bool``,
        ``phone``, ``credit_code``, ``region_code`` or ``list`` (aliases, split on 、 , ;).
    headers : tuple of str
        The Chinese headers ledgers write for it, as written (matched after
        :func:`normalise_header`).
    description : str
        What the field holds, in English.
    max_length : int
        The longest string accepted.
    repeatable : bool
        Whether several columns may map to it (their values are joined).
    """

    name: str
    kind: FieldKind
    headers: tuple[str, ...]
    description: str
    max_length: int = 200
    repeatable: bool = False


#: Every import field, by name. The headers are the variants county ledgers use.
IMPORT_FIELDS: Final[dict[str, ImportField]] = {
    f.name: f
    for f in (
        ImportField(
            "name",
            "name",
            (
                "名称",
                "单位名称",
                "组织名称",
                "企业名称",
                "村名",
                "村庄名称",
                "村名称",
                "行政村",
                "行政村名称",
                "村（社区）",
                "村（社区）名称",
                "社区名称",
                "村居名称",
                "党组织名称",
                "主体名称",
            ),
            "The row's own organisation or village.",
        ),
        ImportField(
            "label",
            "label",
            ("类型", "单位类型", "类别", "主体类型", "单位类别", "组织类别"),
            "What the named thing is (村, 企业, 机关 …: graph_service.vocabulary.LABEL_WORDS).",
            max_length=50,
        ),
        ImportField(
            "kind",
            "text",
            ("性质", "组织类型", "细类", "单位性质", "组织性质"),
            "The kind within the label (党支部, 合作社 …), in the ledger's words.",
            max_length=50,
        ),
        ImportField(
            "town",
            "name",
            (
                "乡镇",
                "所属乡镇",
                "镇街",
                "所属镇街",
                "乡镇（街道）",
                "镇（街道）",
                "所属乡镇（街道）",
                "街道",
                "乡镇街道",
                "所在乡镇",
            ),
            "The town (乡镇/街道) the row's village or organisation is in.",
        ),
        ImportField(
            "county",
            "name",
            ("县区", "所属县区", "县（市、区）", "县（市区）", "所属县", "县市区", "区县"),
            "The county (县/区).",
        ),
        ImportField(
            "region_code",
            "region_code",
            ("区划代码", "行政区划代码", "统计用区划代码", "村代码", "行政代码"),
            "The statistical division code (6, 9 or 12 digits).",
            max_length=12,
        ),
        ImportField(
            "partner",
            "name",
            (
                "结对单位",
                "帮扶单位",
                "联建单位",
                "共建单位",
                "结对企业",
                "帮扶企业",
                "结对共建单位",
                "联建共建单位",
                "结对单位名称",
                "帮扶单位名称",
            ),
            "The organisation the row's subject is paired with.",
        ),
        ImportField(
            "partner_label",
            "label",
            ("结对单位类型", "帮扶单位类型", "联建单位类型", "共建单位类型", "结对单位性质"),
            "What the partner is (企业, 机关 …).",
            max_length=50,
        ),
        ImportField(
            "link_type",
            "link_type",
            (
                "联建类型",
                "结对类型",
                "帮扶方式",
                "联建方式",
                "合作方式",
                "关系类型",
                "共建类型",
                "联建模式",
                "结对方式",
            ),
            "The kind of link (结对帮扶, 村企共建 …: graph_service.vocabulary.LINK_PHRASES).",
            max_length=50,
        ),
        ImportField(
            "valid_from",
            "date",
            (
                "签约时间",
                "结对时间",
                "联建时间",
                "开始时间",
                "建立时间",
                "成立时间",
                "签约日期",
                "结对日期",
                "签订时间",
                "起始时间",
            ),
            "When the link (or the organisation) began.",
        ),
        ImportField(
            "valid_to",
            "date",
            ("结束时间", "截止时间", "到期时间", "终止时间", "结束日期", "截止日期"),
            "When the link ended or ends.",
        ),
        ImportField(
            "contact_person",
            "text",
            (
                "负责人",
                "联系人",
                "村党支部书记",
                "村党组织书记",
                "支部书记",
                "书记",
                "责任人",
                "负责人姓名",
            ),
            "A named contact: personal data.",
            max_length=100,
        ),
        ImportField(
            "contact_phone",
            "phone",
            ("联系电话", "电话", "手机", "手机号", "手机号码", "联系方式", "电话号码"),
            "The contact's phone number: personal data.",
            max_length=50,
        ),
        ImportField(
            "credit_code",
            "credit_code",
            ("统一社会信用代码", "信用代码", "社会信用代码"),
            "The 18-character unified social credit code (GB 32100-2015).",
            max_length=18,
        ),
        ImportField(
            "aliases",
            "list",
            ("别名", "曾用名", "简称", "又名"),
            "Other names, split on 、 , ; /.",
            repeatable=True,
        ),
        ImportField(
            "meetings_per_year",
            "number",
            ("年会议次数", "联席会议次数", "年联席会议次数", "会议次数"),
            "Joint meetings a year (≥ 0).",
        ),
        ImportField(
            "agreement_signed",
            "bool",
            ("是否签订协议", "签订协议", "是否签约", "协议签订情况", "签订协议情况"),
            "Whether an agreement was signed.",
        ),
        ImportField(
            "note",
            "free_text",
            ("备注", "说明", "情况说明"),
            "Free text; several note columns are joined.",
            max_length=2000,
            repeatable=True,
        ),
        ImportField(
            "source_name",
            "name",
            ("甲方", "甲方单位", "帮扶方", "帮扶主体", "主体A", "主体甲", "发起单位", "源单位"),
            "A link sheet's first party.",
        ),
        ImportField(
            "target_name",
            "name",
            (
                "乙方",
                "乙方单位",
                "受帮扶方",
                "被帮扶方",
                "受帮扶村",
                "被帮扶村",
                "帮扶对象",
                "主体B",
                "主体乙",
                "目标单位",
            ),
            "A link sheet's second party.",
        ),
    )
}

#: The field names, in registry order.
FIELD_NAMES: Final[tuple[str, ...]] = tuple(IMPORT_FIELDS)

#: Headers known to carry nothing to import (row numbers): they count as known when looking
#: for the header row but map to no field.
IGNORED_HEADERS: Final[tuple[str, ...]] = ("序号", "编号", "序", "No.", "No", "行号")

#: The lowest fuzzy score (0–100) at which an unknown header is mapped to a field.
MAPPING_THRESHOLD: Final[float] = 75.0

#: How many rows from the top are searched for the header row.
HEADER_SCAN_ROWS: Final[int] = 10

_WHITESPACE: Final = re.compile(r"\s+")
_BRACKETED: Final = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】|〔[^〕]*〕")


def normalise_header(text: Any) -> str:
    """A header as it is compared: NFKC (full width → half width), no whitespace, no
    leading or trailing ``*`` / ``:``, lower case.

    Parameters
    ----------
    text : Any
        A header cell's value.

    Returns
    -------
    str
        The comparable form (``"＊联系电话："`` → ``"联系电话"``).
    """
    normal = unicodedata.normalize("NFKC", str(text))
    normal = _WHITESPACE.sub("", normal)
    return normal.strip("*:").lower()


def _variant_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for spec in IMPORT_FIELDS.values():
        for header in (spec.name, *spec.headers):
            index.setdefault(normalise_header(header), spec.name)
    return index


_VARIANTS: Final[dict[str, str]] = _variant_index()
_IGNORED: Final[frozenset[str]] = frozenset(normalise_header(h) for h in IGNORED_HEADERS)


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class TableRow:
    """One data row of a sheet.

    Attributes
    ----------
    number : int
        The row's number as the spreadsheet shows it (1-based); for CSV, the line the record
        starts on.
    cells : list
        The row's values aligned with :attr:`Table.headers`: ``str`` (stripped), ``int``,
        ``float``, ``bool``, ``datetime.date`` / ``datetime.datetime`` (calamine may also give
        ``datetime.time`` / ``datetime.timedelta``), ``None`` for an empty cell.
    notes : list of str
        What reading did to the row (values filled from a merged cell).
    problems : dict of str to str
        Header → why the cell's value cannot be trusted (a formula without a cached value, an
        error value such as ``#N/A``). The cell reads as ``None``.
    """

    number: int
    cells: list[Any]
    notes: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Table:
    """A sheet as read: its header and data rows.

    Attributes
    ----------
    sheet : str or None
        The sheet read (``None`` for CSV).
    sheets : list of str
        Every sheet of the workbook, in order (empty for CSV).
    header_row : int
        The header's row number (1-based; for CSV, its line number).
    headers : list of str
        The column headers, stripped and made unique (a second ``备注`` is ``备注 (2)``).
        Columns without a header are left out (a note says so when they hold values).
    rows : list of TableRow
        The non-empty rows below the header.
    skipped_empty : int
        Empty rows below the header that were skipped.
    notes : list of str
        What reading decided for the whole sheet (rows above the header, the encoding,
        ignored columns).
    """

    sheet: str | None
    sheets: list[str]
    header_row: int
    headers: list[str]
    rows: list[TableRow]
    skipped_empty: int
    notes: list[str] = field(default_factory=list)


_EXCEL_SUFFIXES: Final = frozenset({".xlsx", ".xlsm", ".xls"})
_TEXT_SUFFIXES: Final = frozenset({".csv", ".txt"})
_TRIED_ENCODINGS: Final = ["utf-8", "gb18030"]


def read_table(
    data: bytes,
    filename: str,
    *,
    sheet: str | None = None,
    max_bytes: int = 20_000_000,
    max_rows: int = 200_000,
) -> Table:
    """Read one sheet of a workbook or a CSV file.

    Parameters
    ----------
    data : bytes
        The file's content.
    filename : str
        The file's name; its suffix decides the format (``.xlsx``, ``.xlsm``, ``.xls``,
        ``.csv``, ``.txt``).
    sheet : str, optional
        The sheet to read; by default the first sheet holding any value.
    max_bytes : int
        The largest file accepted.
    max_rows : int
        The most rows accepted below the header row (empty rows included).

    Returns
    -------
    Table
        The header and the non-empty rows below it.

    Raises
    ------
    PayloadTooLargeError
        The file is larger than ``max_bytes`` or has more than ``max_rows`` rows
        (``field="file"``).
    InvalidInputError
        ``unreadable_file`` (unknown format, corrupt or protected workbook), ``wrong_encoding``
        (a text file neither UTF-8 nor GB18030), ``empty_file`` (nothing in it),
        ``unknown_sheet`` (``field="sheet"``, ``details={"sheets": [...]}``).
    """
    if len(data) > max_bytes:
        raise PayloadTooLargeError(
            f"the file is {len(data)} bytes; at most {max_bytes} are accepted",
            field="file",
            details={"bytes": len(data), "max_bytes": max_bytes},
        )
    suffix = PurePath(filename).suffix.lower()
    if suffix in _EXCEL_SUFFIXES:
        return _read_workbook(data, suffix, sheet, max_rows)
    if suffix in _TEXT_SUFFIXES:
        if sheet is not None:
            raise InvalidInputError(
                "a CSV or text file has no sheets; leave sheet empty",
                field="sheet",
                code="unknown_sheet",
                details={"sheets": []},
            )
        return _read_text(data, max_rows)
    raise InvalidInputError(
        f"cannot read {filename!r}: upload an Excel workbook (.xlsx, .xlsm, .xls) "
        "or a CSV file (.csv, .txt)",
        field="file",
        code="unreadable_file",
        details={"accepted": sorted(_EXCEL_SUFFIXES | _TEXT_SUFFIXES)},
    )


def _cell(value: Any) -> Any:
    """A cell as a table holds it: stripped text or ``None``; whole floats as ``int``."""
    kind = type(value)
    if kind is str:
        text: str = value.strip()
        return text or None
    if kind is float and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _is_empty(values: Sequence[Any]) -> bool:
    for value in values:
        if value is None:
            continue
        if type(value) is str:
            if value.strip():
                return False
            continue
        return False
    return True


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _header_score(values: Sequence[Any]) -> tuple[int, int]:
    """(cells naming a field, cells naming a field or a known ignored header)."""
    fields = known = 0
    for value in values:
        if value is None or value == "":
            continue
        normal = normalise_header(value)
        if not normal:
            continue
        if normal in _IGNORED:
            known += 1
            continue
        if _match_header(normal)[0] is not None:
            fields += 1
            known += 1
    return fields, known


def _find_header(grid: Sequence[Sequence[Any]]) -> int | None:
    """Index of the header row: the first of the first rows where two cells name fields,
    else the first naming one, else the first non-empty row."""
    scan = [(i, row) for i, row in enumerate(grid[:HEADER_SCAN_ROWS]) if not _is_empty(row)]
    scores = [(i, _header_score(row)) for i, row in scan]
    for i, (fields, known) in scores:
        if fields >= 2 or (fields >= 1 and known >= 2):
            return i
    for i, (fields, _known) in scores:
        if fields >= 1:
            return i
    return scan[0][0] if scan else None


def _build_table(
    grid: list[list[Any]],
    numbers: Callable[[int], int],
    *,
    sheet: str | None,
    sheets: list[str],
    notes: list[str],
    max_rows: int,
    merged: Sequence[tuple[tuple[int, int], tuple[int, int]]] = (),
    bad_cells: Mapping[tuple[int, int], str] | None = None,
    total_rows: int | None = None,
) -> Table:
    """Turn a grid of raw values (row index → cells) into a :class:`Table`."""
    # Why this is long: one pass over the grid finds the header, fills merged ranges, marks
    # unreadable cells and numbers rows as the sheet does; the steps share that position state.
    header_index = _find_header(grid)
    if header_index is None:
        raise InvalidInputError(
            "the sheet holds no values" if sheet is not None else "the file holds no values",
            field="file",
            code="empty_file",
        )
    below = (total_rows if total_rows is not None else len(grid)) - header_index - 1
    if below > max_rows:
        raise PayloadTooLargeError(
            f"the sheet has {below} rows below its header; at most {max_rows} are accepted",
            field="file",
            code="too_many_rows",
            details={"rows": below, "max_rows": max_rows},
        )
    above = [i for i in range(header_index) if not _is_empty(grid[i])]  # title rows, a subtitle …
    if above:
        shown = "; ".join(
            " ".join(str(v).strip() for v in grid[i] if v is not None and str(v).strip())
            for i in above
        )
        rows_text = ", ".join(str(numbers(i)) for i in above)
        notes.append(f"row(s) {rows_text} above the header were skipped: {shown}")

    header_cells = grid[header_index]
    columns: list[int] = []
    headers: list[str] = []
    seen: dict[str, int] = {}
    for col, value in enumerate(header_cells):
        text = "" if value is None else str(value).strip()
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        if not text:
            continue
        seen[text] = seen.get(text, 0) + 1
        if seen[text] > 1:
            text = f"{text} ({seen[text]})"
        columns.append(col)
        headers.append(text)
    if not headers:
        raise InvalidInputError("the header row is empty", field="file", code="empty_file")

    # Merged cells: the value sits in the top-left cell; fill the rest of the range.
    fills: dict[int, list[str]] = {}
    empty_rows = {i for i in range(header_index + 1, len(grid)) if _is_empty(grid[i])}
    for (r0, c0), (r1, c1) in merged:
        if r1 <= header_index or r0 <= header_index or r0 >= len(grid):
            continue  # a title or a header cell
        top = grid[r0]
        value = top[c0] if c0 < len(top) else None
        if value is None or value == "":
            continue
        span = f"{_column_letter(c0)}{numbers(r0)}:{_column_letter(c1)}{numbers(r1)}"
        for r in range(r0, min(r1, len(grid) - 1) + 1):
            line = grid[r]
            filled = False
            for c in range(c0, c1 + 1):
                if (r, c) == (r0, c0) or c >= len(line):
                    continue
                if line[c] is None or line[c] == "":
                    line[c] = value
                    filled = True
            if filled and r != r0:
                names = [headers[columns.index(c)] for c in range(c0, c1 + 1) if c in columns]
                if names:
                    fills.setdefault(r, []).append(
                        f"{'、'.join(names)} filled from merged cell {span}"
                    )

    by_column = dict(zip(columns, headers, strict=True))
    rows: list[TableRow] = []
    skipped = 0
    stray: dict[int, int] = {}
    width = len(header_cells)
    headerless = [c for c in range(max((len(r) for r in grid), default=0)) if c not in by_column]
    for i in range(header_index + 1, len(grid)):
        if i in empty_rows:
            skipped += 1
            continue
        raw = grid[i]
        if len(raw) < width:
            raw = [*raw, *([None] * (width - len(raw)))]
        cells = [_cell(raw[c]) for c in columns]
        row = TableRow(numbers(i), cells, fills.get(i, []))
        for c in headerless:
            if c < len(raw) and _cell(raw[c]) is not None:
                stray[c] = stray.get(c, 0) + 1
        if bad_cells:
            for c in columns:
                problem = bad_cells.get((i, c))
                if problem is not None:
                    row.problems[by_column[c]] = problem
                    row.cells[columns.index(c)] = None
        rows.append(row)
    for c, count in sorted(stray.items()):
        notes.append(
            f"column {_column_letter(c)} has no header; its values in {count} row(s) were ignored"
        )
    return Table(
        sheet=sheet,
        sheets=sheets,
        header_row=numbers(header_index),
        headers=headers,
        rows=rows,
        skipped_empty=skipped,
        notes=notes,
    )


def _unreadable(message: str) -> InvalidInputError:
    return InvalidInputError(message, field="file", code="unreadable_file")


def _read_workbook(data: bytes, suffix: str, sheet: str | None, max_rows: int) -> Table:
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except CalamineError as error:
        kind = type(error).__name__
        reason = "it is password-protected" if kind == "PasswordError" else str(error)
        raise _unreadable(f"cannot read the workbook: {reason}") from error
    except Exception as error:  # calamine raises plain errors for some corrupt files
        raise _unreadable(f"cannot read the workbook: {error}") from error
    with book:
        names = list(book.sheet_names)
        if sheet is not None and sheet not in names:
            raise InvalidInputError(
                f"the workbook has no sheet named {sheet!r}",
                field="sheet",
                code="unknown_sheet",
                details={"sheets": names},
            )
        candidates = [sheet] if sheet is not None else names
        chosen = None
        for name in candidates:
            try:
                found = book.get_sheet_by_name(name)
            except CalamineError as error:
                if sheet is not None:
                    raise _unreadable(f"cannot read sheet {name!r}: {error}") from error
                continue
            if sheet is not None or found.start is not None:
                chosen = found
                break
        if chosen is None or chosen.start is None:
            raise InvalidInputError(
                "the workbook holds no values" if sheet is None else f"sheet {sheet!r} is empty",
                field="file" if sheet is None else "sheet",
                code="empty_file",
                details={"sheets": names},
            )
        end = chosen.end
        total_rows = (end[0] + 1) if end is not None else 0
        cap = max_rows + HEADER_SCAN_ROWS + 1
        try:
            grid: list[list[Any]] = chosen.to_python(skip_empty_area=False, nrows=cap)
        except CalamineError as error:
            raise _unreadable(f"cannot read sheet {chosen.name!r}: {error}") from error
        merged = chosen.merged_cell_ranges or []
    notes: list[str] = []
    bad_cells: dict[tuple[int, int], str] = {}
    if suffix in {".xlsx", ".xlsm"}:
        bad_cells = _unreadable_cells(data, chosen.name)
    return _build_table(
        grid,
        lambda i: i + 1,
        sheet=chosen.name,
        sheets=names,
        notes=notes,
        max_rows=max_rows,
        merged=merged,
        bad_cells=bad_cells,
        total_rows=total_rows,
    )


# Formula cells without a cached value and error cells both read as "" through calamine; the
# sheet's XML says which they are. A cell is ``<c r="B7" …>…</c>`` (or self-closing).
_FORMULA_OR_ERROR: Final = re.compile(rb"<(?:\w+:)?f[\s>/]|\bt=\"e\"")
_CELL: Final = re.compile(
    rb"<(?:\w+:)?c\s([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)",
    re.DOTALL,
)
_REF: Final = re.compile(rb"\br=\"([A-Z]+)(\d+)\"")
_TYPE: Final = re.compile(rb"\bt=\"(\w+)\"")
_VALUE: Final = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_HAS_FORMULA: Final = re.compile(rb"<(?:\w+:)?f[\s>/]")
_SHEET_ENTRY: Final = re.compile(r"<(?:\w+:)?sheet\s([^>]*?)/?>")
_ATTRIBUTE: Final = re.compile(r"([\w:]+)=\"([^\"]*)\"")
_RELATIONSHIP: Final = re.compile(r"<(?:\w+:)?Relationship\s([^>]*?)/?>")


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + (letter - 64)
    return index - 1


def _sheet_path(archive: zipfile.ZipFile, sheet: str) -> str | None:
    try:
        book = archive.read("xl/workbook.xml").decode("utf-8")
        rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return None
    rid = None
    for entry in _SHEET_ENTRY.finditer(book):
        attributes = dict(_ATTRIBUTE.findall(entry.group(1)))
        if html.unescape(attributes.get("name", "")) == sheet:
            rid = next((v for k, v in attributes.items() if k.endswith(":id")), None)
            break
    if rid is None:
        return None
    for entry in _RELATIONSHIP.finditer(rels):
        attributes = dict(_ATTRIBUTE.findall(entry.group(1)))
        if attributes.get("Id") == rid:
            target = attributes.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


def _unreadable_cells(data: bytes, sheet: str) -> dict[tuple[int, int], str]:
    """Cells of an xlsx sheet whose value calamine cannot give: formulas without a cached
    value and error values (``#N/A``, ``#DIV/0!``), by 0-based (row, column).

    The sheet's XML is streamed in chunks; only chunks holding a formula or an error are
    parsed cell by cell.
    """
    found: dict[tuple[int, int], str] = {}
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return found
    with archive:
        path = _sheet_path(archive, sheet)
        if path is None or path not in archive.namelist():
            return found
        with archive.open(path) as stream:
            carry = b""
            while True:
                chunk = stream.read(1 << 22)
                buffer = carry + chunk
                if chunk:
                    cut = buffer.rfind(b"row>")
                    if cut < 0:
                        carry = buffer
                        continue
                    cut += 4
                    part, carry = buffer[:cut], buffer[cut:]
                else:
                    part, carry = buffer, b""
                if _may_hold_bad_cells(part) and _FORMULA_OR_ERROR.search(part):
                    _scan_cells(part, found)
                if not chunk:
                    break
    return found


def _may_hold_bad_cells(part: bytes) -> bool:
    """A fast substring test before the regular expression (most sheets have neither)."""
    return b"<f" in part or b":f" in part or b't="e"' in part


def _scan_cells(part: bytes, found: dict[tuple[int, int], str]) -> None:
    for cell in _CELL.finditer(part):
        attributes, body = cell.group(1), cell.group(2) or b""
        ref = _REF.search(attributes)
        if ref is None:
            continue
        kind = _TYPE.search(attributes)
        cell_type = kind.group(1) if kind else b"n"
        value = _VALUE.search(body)
        cached = value.group(1) if value else b""
        position = (int(ref.group(2)) - 1, _column_index(ref.group(1)))
        if cell_type == b"e":
            text = html.unescape(cached.decode("utf-8", "replace")) or "an error"
            found[position] = f"the cell holds the error value {text}"
        elif _HAS_FORMULA.search(body) and not cached and cell_type != b"str":
            found[position] = (
                "a formula without a cached value (the workbook was not recalculated and "
                "saved in Excel); type the value instead"
            )


def _plausible_gb18030(text: str) -> bool:
    """Whether text decoded as GB18030 looks like Chinese rather than mis-decoded bytes.

    Latin-1 or random bytes often decode as GB18030 too, into rare characters; real ledgers
    are mostly GB2312 characters.
    """
    sample = text[:200_000]
    counts: dict[str, int] = {}
    for char in sample:
        if char >= "\x80":
            counts[char] = counts.get(char, 0) + 1
    total = sum(counts.values())
    if not total:
        return True
    common = 0
    for char, count in counts.items():
        if "\ue000" <= char <= "\uf8ff":
            continue  # private use: never meant
        try:
            char.encode("gb2312")
        except UnicodeEncodeError:
            continue
        common += count
    return common >= 0.6 * total


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "UTF-8 with BOM"
        except UnicodeDecodeError:
            pass
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            pass
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            pass
        else:
            if _plausible_gb18030(text):
                return text, "GB18030"
    raise InvalidInputError(
        "cannot decode the file as UTF-8 or GB18030; save it as CSV UTF-8 or as an Excel workbook",
        field="file",
        code="wrong_encoding",
        details={"tried": list(_TRIED_ENCODINGS)},
    )


def _read_text(data: bytes, max_rows: int) -> Table:
    text, encoding = _decode(data)
    if "\x00" in text:
        raise _unreadable("the file holds NUL bytes: it is not a text file")
    head = text[:65536]
    delimiter = ","
    first_lines = head.splitlines()[:HEADER_SCAN_ROWS]
    counts = {d: sum(line.count(d) for line in first_lines) for d in (",", "\t", ";", "|")}
    if counts and max(counts.values()) > 0:
        delimiter = max(counts, key=lambda d: counts[d])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    grid: list[list[Any]] = []
    lines: list[int] = []
    previous = 0
    try:
        for record in reader:
            lines.append(previous + 1)
            previous = reader.line_num
            grid.append(list(record))
            if len(grid) > max_rows + HEADER_SCAN_ROWS + 1:
                break
    except csv.Error as error:
        raise _unreadable(f"cannot read the CSV file near line {previous + 1}: {error}") from error
    width = max((len(r) for r in grid), default=0)
    for cells in grid:
        if len(cells) < width:
            cells.extend([None] * (width - len(cells)))
    notes = [f"decoded as {encoding}"]
    if delimiter != ",":
        notes.append(f"columns separated by {delimiter!r}")
    return _build_table(
        grid,
        lambda i: lines[i],
        sheet=None,
        sheets=[],
        notes=notes,
        max_rows=max_rows,
    )


# --------------------------------------------------------------------------------------------
# Mapping headers to fields
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class ColumnMapping:
    """Which field each header feeds.

    Attributes
    ----------
    columns : dict of str to (str or None)
        Header → field name, or ``None`` when the column is ignored. Every header of the table,
        in order.
    confidence : dict of str to float
        Header → how sure the mapping is, 0–1 (1 for a known variant or a planner's choice;
        for an ignored column, the best score found).
    unmapped : list of str
        The ignored headers, in order.
    notes : list of str
        Why a header went where it did when that was not a plain match.
    """

    columns: dict[str, str | None]
    confidence: dict[str, float]
    unmapped: list[str]
    notes: list[str] = field(default_factory=list)


def _match_header(normal: str) -> tuple[str | None, float]:
    """The field a normalised header names and the score (0–100)."""
    if not normal:
        return None, 0.0
    exact = _VARIANTS.get(normal)
    if exact is not None:
        return exact, 100.0
    stripped = _BRACKETED.sub("", normal).strip("*:")
    if stripped and stripped != normal:
        exact = _VARIANTS.get(stripped)
        if exact is not None:
            return exact, 95.0
    best: tuple[float, str | None] = (0.0, None)
    for variant, name in _VARIANTS.items():
        score = fuzz.ratio(normal, variant)
        if len(variant) >= 2 and variant in normal:
            contained = 60.0 + 40.0 * len(variant) / len(normal)
            if normal.startswith(variant):
                contained += 5.0
            score = max(score, min(contained, 94.0))
        if score > best[0]:
            best = (score, name)
    if best[0] >= MAPPING_THRESHOLD:
        return best[1], best[0]
    return None, best[0]


def guess_mapping(headers: Sequence[str]) -> ColumnMapping:
    """Map each header to an import field.

    A header matches a field when its normalised form (:func:`normalise_header`) is one of
    the field's variants (confidence 1), or is one once bracketed text is removed
    (``联系电话（手机）``, 0.95), or scores at least :data:`MAPPING_THRESHOLD` against a variant
    (``所属乡镇名称`` → ``town``). When two headers name one field that cannot repeat, the more
    confident (then the first) keeps it. In a pairing sheet (a ``name`` and a ``partner``
    column) a bare ``单位类型`` column to the right of the partner describes the partner.

    Parameters
    ----------
    headers : sequence of str
        The table's headers (:attr:`Table.headers`).

    Returns
    -------
    ColumnMapping
        The guess, to show the planner and correct with :func:`apply_overrides`.
    """
    columns: dict[str, str | None] = {}
    confidence: dict[str, float] = {}
    notes: list[str] = []
    for header in headers:
        normal = normalise_header(header)
        if normal in _IGNORED:
            columns[header], confidence[header] = None, 1.0
            continue
        name, score = _match_header(normal)
        columns[header] = name
        confidence[header] = round(score / 100.0, 3)
        if name is not None and score < 100.0:
            notes.append(f"{header!r} read as {name} (score {score:.0f})")
    # One column per field: the more confident keeps it.
    for name, spec in IMPORT_FIELDS.items():
        if spec.repeatable:
            continue
        holders = [h for h in headers if columns.get(h) == name]
        if len(holders) < 2:
            continue
        keeper = max(holders, key=lambda h: (confidence[h], -headers.index(h)))
        for header in holders:
            if header != keeper:
                columns[header] = None
                notes.append(f"{header!r} also looks like {name}, which {keeper!r} holds: ignored")
    # A pairing sheet's bare 单位类型 to the right of the partner column describes the partner.
    fields = {f: h for h, f in columns.items() if f is not None}
    if {"name", "partner", "label"} <= fields.keys() and "partner_label" not in fields:
        label_header, partner_header = fields["label"], fields["partner"]
        if headers.index(label_header) > headers.index(partner_header):
            columns[label_header] = "partner_label"
            notes.append(
                f"{label_header!r} is to the right of the partner column {partner_header!r}: "
                "read as partner_label"
            )
    unmapped = [h for h in headers if columns[h] is None]
    return ColumnMapping(columns, confidence, unmapped, notes)


def _check_unique(columns: Mapping[str, str | None]) -> None:
    holders: dict[str, str] = {}
    for header, name in columns.items():
        if name is None or IMPORT_FIELDS[name].repeatable:
            continue
        if name in holders:
            raise InvalidInputError(
                f"field {name!r} is mapped from both {holders[name]!r} and {header!r}; "
                f"map one of them to null",
                field=f"mapping.{header}",
                code="duplicate_field",
                details={"field": name, "headers": [holders[name], header]},
            )
        holders[name] = header


def _check_field(header: str, name: Any) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str) or name not in IMPORT_FIELDS:
        raise InvalidInputError(
            f"unknown field {name!r} for {header!r}; allowed: {', '.join(FIELD_NAMES)} "
            "or null to ignore the column",
            field=f"mapping.{header}",
            code="unknown_field",
            details={"fields": list(FIELD_NAMES)},
        )
    return name


def apply_overrides(mapping: ColumnMapping, overrides: Mapping[str, str | None]) -> ColumnMapping:
    """Apply a planner's corrections to a mapping.

    Parameters
    ----------
    mapping : ColumnMapping
        The mapping to correct (left unchanged).
    overrides : mapping of str to (str or None)
        Header → field name, or ``None`` to ignore the column.

    Returns
    -------
    ColumnMapping
        The corrected mapping; overridden headers have confidence 1.

    Raises
    ------
    InvalidInputError
        ``unknown_header`` (``field="mapping.<header>"``, ``details["headers"]``),
        ``unknown_field`` (``details["fields"]`` lists the allowed fields) or
        ``duplicate_field`` when a field other than ``aliases`` / ``note`` ends up mapped
        from two headers.
    """
    columns = dict(mapping.columns)
    confidence = dict(mapping.confidence)
    for header, name in overrides.items():
        if header not in columns:
            raise InvalidInputError(
                f"the table has no column {header!r}",
                field=f"mapping.{header}",
                code="unknown_header",
                details={"headers": list(columns)},
            )
        columns[header] = _check_field(header, name)
        confidence[header] = 1.0
    _check_unique(columns)
    notes = [n for n in mapping.notes if not any(n.startswith(repr(h)) for h in overrides)]
    unmapped = [h for h, f in columns.items() if f is None]
    return ColumnMapping(columns, confidence, unmapped, notes)


def mapping_to_json(mapping: ColumnMapping) -> dict[str, Any]:
    """A mapping as a plain JSON-able dict, to save by name.

    Parameters
    ----------
    mapping : ColumnMapping
        The mapping.

    Returns
    -------
    dict
        ``{"columns": {header: field or None}, "confidence": {header: float}}``.
    """
    return {"columns": dict(mapping.columns), "confidence": dict(mapping.confidence)}


def mapping_from_json(data: Mapping[str, Any]) -> ColumnMapping:
    """A mapping saved by :func:`mapping_to_json` (or a bare ``{header: field}`` dict).

    Parameters
    ----------
    data : mapping
        The saved form.

    Returns
    -------
    ColumnMapping
        The mapping, checked like :func:`apply_overrides` checks overrides.

    Raises
    ------
    InvalidInputError
        A malformed form, an unknown field or a field mapped twice.
    """
    raw = data.get("columns", data) if isinstance(data, Mapping) else None
    if not isinstance(raw, Mapping) or not all(isinstance(h, str) for h in raw):
        raise InvalidInputError(
            "a saved mapping is {header: field or null}",
            field="mapping",
            code="invalid_mapping",
        )
    columns = {h: _check_field(h, name) for h, name in raw.items()}
    _check_unique(columns)
    saved = data.get("confidence") if "columns" in data else None
    confidence: dict[str, float] = {}
    for header in columns:
        value = saved.get(header, 1.0) if isinstance(saved, Mapping) else 1.0
        confidence[header] = float(value) if isinstance(value, int | float) else 1.0
    unmapped = [h for h, f in columns.items() if f is None]
    return ColumnMapping(columns, confidence, unmapped)


def table_kind(mapping: ColumnMapping) -> Literal["nodes", "links"]:
    """Whether a mapped sheet lists links (pairings) or nodes.

    Parameters
    ----------
    mapping : ColumnMapping
        The sheet's mapping.

    Returns
    -------
    {"links", "nodes"}
        ``"links"`` with a name (or ``source_name``) and a partner (or ``target_name``)
        column; ``"nodes"`` with a name column alone.

    Raises
    ------
    InvalidInputError
        ``no_name_column`` (``field="mapping"``) when no column holds names.
    """
    fields = {f for f in mapping.columns.values() if f is not None}
    if fields & {"name", "source_name"} and fields & {"partner", "target_name"}:
        return "links"
    if "name" in fields:
        return "nodes"
    accepted = "、".join(IMPORT_FIELDS["name"].headers)
    raise InvalidInputError(
        f"no column holds names: name a column one of {accepted} (or map one to the field 'name')",
        field="mapping",
        code="no_name_column",
        details={"headers": list(IMPORT_FIELDS["name"].headers)},
    )


# --------------------------------------------------------------------------------------------
# Value parsers
# --------------------------------------------------------------------------------------------

_FIRST_YEAR: Final = 1950
_LAST_YEAR: Final = 2100
_MAX_SERIAL: Final = 2_958_465  # 9999-12-31
_CN_DIGITS: Final = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_NUMBER: Final = re.compile("[〇○零一二两三四五六七八九十]+")
_DATE_TAIL: Final = re.compile(r"(份|前后|左右)+$")
_TIME_TAIL: Final = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_DAY_FORMS: Final = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[日号]?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_MONTH_FORMS: Final = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})月?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
)
_YEAR_FORMS: Final = (re.compile(r"^(\d{4})年?$"),)

Precision = Literal["day", "month", "year"]


def _cn_number(match: re.Match[str]) -> str:
    """Chinese numerals as Arabic digits: 二〇二一 → 2021 (digit by digit), 十二 → 12."""
    text = match.group()
    if "十" not in text:
        return "".join(str(_CN_DIGITS[c]) for c in text)
    tens, _, units = text.partition("十")
    if len(tens) > 1 or len(units) > 1 or "十" in units:
        return text  # not a number this reader writes digits for
    value = (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)
    return str(value)


def _check_window(day: dt.date, shown: str) -> dt.date:
    if not _FIRST_YEAR <= day.year <= _LAST_YEAR:
        raise ValueError(
            f"{shown} is {day.isoformat()}: outside {_FIRST_YEAR}–{_LAST_YEAR}, not plausible"
        )
    return day


def _make_date(year: int, month: int, day: int, shown: str) -> dt.date:
    if not 1 <= month <= 12:
        raise ValueError(f"{shown!r}: month {month} is out of range")
    try:
        made = dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"{shown!r}: {year}-{month:02d}-{day:02d} is not a calendar day") from None
    return _check_window(made, repr(shown))


def _serial_date(serial: float, datemode_1904: bool) -> dt.date:
    if not 1 <= serial <= _MAX_SERIAL:
        raise ValueError(f"{serial:g} is not an Excel date serial number (1–{_MAX_SERIAL})")
    whole = int(serial)
    if datemode_1904:
        day = dt.date(1904, 1, 1) + dt.timedelta(days=whole)
    elif whole == 60:
        raise ValueError("serial 60 is 1900-02-29, a day Excel invents")
    elif whole < 60:
        day = dt.date(1899, 12, 31) + dt.timedelta(days=whole)
    else:
        day = dt.date(1899, 12, 30) + dt.timedelta(days=whole)
    return _check_window(day, f"serial {serial:g}")


def parse_date_precision(value: Any, *, datemode_1904: bool = False) -> tuple[dt.date, Precision]:
    """A ledger's date and how precise it is.

    Parameters
    ----------
    value : Any
        A cell: ``datetime.date`` / ``datetime.datetime``; an Excel serial number (``int`` /
        ``float``, the 1900 system with its invented 1900-02-29, or the 1904 system); a year
        typed as a number (``2021``) or a year and month (``2021.3``); or text:
        ``2021-03-15``, ``2021/3/15``, ``2021.03.15``, ``2021年3月15日``, ``20210315``,
        ``2021.3``, ``2021-3``, ``2021年3月``, ``202103``, ``2021年``, ``2021``, with full-width
        digits, Chinese numerals (``二〇二一年三月``) and a trailing 份 / 前后 / 左右.
    datemode_1904 : bool
        Whether serial numbers count from 1904-01-01 (old Mac workbooks).

    Returns
    -------
    tuple of (datetime.date, {"day", "month", "year"})
        The date (the first of the month or of January when less precise) and its precision.

    Raises
    ------
    ValueError
        With a short English reason: not a date, out of range, or outside 1950–2100 (a
        serial number before 1950 is a number, not a date, in this domain).
    """
    if isinstance(value, dt.datetime):
        return _check_window(value.date(), repr(value.isoformat())), "day"
    if isinstance(value, dt.date):
        return _check_window(value, repr(value.isoformat())), "day"
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{value!r} is not a date")
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{value!r} is not a date")
        if _FIRST_YEAR <= number < _LAST_YEAR + 1:
            if number.is_integer():
                return dt.date(int(number), 1, 1), "year"
            year_text, _, month_text = repr(number).partition(".")
            if len(month_text) == 1 and month_text == "1":
                raise ValueError(
                    f"{number!r} typed as a number is ambiguous (January or October?): "
                    "write the date as text"
                )
            if len(month_text) > 2:
                raise ValueError(f"{number!r} is not a date")
            return _make_date(int(year_text), int(month_text), 1, repr(number)), "month"
        return _serial_date(number, datemode_1904), "day"
    if not isinstance(value, str):
        raise ValueError(f"a {type(value).__name__} is not a date")
    shown = value.strip()
    if not shown:
        raise ValueError("empty")
    text = unicodedata.normalize("NFKC", shown)
    text = _WHITESPACE.sub(" ", text).strip()
    text = _TIME_TAIL.sub("", text).replace(" ", "")
    text = _DATE_TAIL.sub("", text).replace("元月", "1月")
    text = _CN_NUMBER.sub(_cn_number, text)
    for form in _DAY_FORMS:
        found = form.match(text)
        if found:
            year, month, day = (int(g) for g in found.groups())
            return _make_date(year, month, day, shown), "day"
    for form in _MONTH_FORMS:
        found = form.match(text)
        if found:
            year, month = (int(g) for g in found.groups())
            return _make_date(year, month, 1, shown), "month"
    for form in _YEAR_FORMS:
        found = form.match(text)
        if found:
            return _make_date(int(found.group(1)), 1, 1, shown), "year"
    if text.isdigit() and len(text) == 5:
        try:
            serial = _serial_date(float(text), False)
        except ValueError:
            pass
        else:
            raise ValueError(
                f"{shown!r} looks like an Excel serial number saved as text "
                f"({serial.isoformat()}?): write the date as 2021-03-15"
            )
    raise ValueError(f"{shown!r} is not a date (write 2021-03-15, 2021年3月 or 2021)")


def parse_date(value: Any, *, datemode_1904: bool = False) -> dt.date:
    """A ledger's date: :func:`parse_date_precision` without the precision.

    Parameters
    ----------
    value : Any
        A cell (see :func:`parse_date_precision` for the forms read).
    datemode_1904 : bool
        Whether serial numbers count from 1904-01-01.

    Returns
    -------
    datetime.date
        The date; the first of the month (or of January) for a month (or a year).

    Raises
    ------
    ValueError
        With a short English reason.
    """
    return parse_date_precision(value, datemode_1904=datemode_1904)[0]


_TRUE: Final = frozenset(
    {"是", "有", "已签订", "已签", "已签署", "签订", "已", "对", "√", "✓", "✔", "☑", "1"}
    | {"true", "yes", "y", "t"}
)
_FALSE: Final = frozenset(
    {"否", "无", "未签订", "未签", "未签署", "没有", "未", "不是", "×", "✗", "✘", "☐", "0"}
    | {"false", "no", "n", "f"}
)


def parse_bool(value: Any) -> bool:
    """A yes/no cell.

    Parameters
    ----------
    value : Any
        ``bool``; ``1`` / ``0``; or text: 是/否, 有/无, 已签订/未签订 (with or without 协议),
        √/×, 1/0, true/false, yes/no.

    Returns
    -------
    bool

    Raises
    ------
    ValueError
        With a short English reason.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not yes or no")
    text = unicodedata.normalize("NFKC", value)
    text = _WHITESPACE.sub("", text).lower()
    if text.endswith("协议") and len(text) > 2:
        text = text[:-2]
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value.strip()!r} is not yes or no (write 是 or 否)")


_NUMBER: Final = re.compile(r"^(?:约|大约|共|计|合计)?([+-]?\d+(?:\.\d+)?)(万|亿|千)?(.*)$")
_MULTIPLIERS: Final = {"万": 10_000, "亿": 100_000_000, "千": 1_000}
_UNIT: Final = re.compile(r"^[^\d\-~～至到.]*$")


def parse_number(value: Any) -> int | float:
    """A number cell, with the units and shorthands ledgers write.

    Parameters
    ----------
    value : Any
        ``int`` / ``float``, or text such as ``12``, ``12次``, ``12次/年``, ``3,000``,
        ``1.5万`` (15000), ``约5次``, ``十二次``, full-width digits.

    Returns
    -------
    int or float
        An ``int`` when the number is whole.

    Raises
    ------
    ValueError
        With a short English reason (not a number, a range such as ``3-5次``).
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a number")
        return int(value) if value.is_integer() else value
    if not isinstance(value, str):
        raise ValueError(f"a {type(value).__name__} is not a number")
    shown = value.strip()
    text = unicodedata.normalize("NFKC", shown)
    text = _WHITESPACE.sub("", text).replace(",", "")
    text = _CN_NUMBER.sub(_cn_number, text)
    found = _NUMBER.match(text)
    if not found or not _UNIT.match(found.group(3)):
        if re.search(r"\d\s*[-~～至到]\s*\d", text):
            raise ValueError(f"{shown!r} is a range, not one number")
        raise ValueError(f"{shown!r} is not a number")
    number = float(found.group(1)) * _MULTIPLIERS.get(found.group(2) or "", 1)
    return int(number) if number.is_integer() else number


# --------------------------------------------------------------------------------------------
# Rows of fields
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """Why one field of one row cannot be imported.

    Attributes
    ----------
    field : str
        The import field.
    header : str or None
        The column it came from.
    message : str
        The reason, in English.
    """

    field: str
    header: str | None
    message: str


@dataclass(slots=True)
class MappedRow:
    """One row of fields.

    Attributes
    ----------
    number : int
        The row's number in the sheet (:attr:`TableRow.number`).
    values : dict of str to Any
        Field → converted value, for the cells that are not empty and converted: ``str``;
        ``datetime.date`` for dates; ``int`` / ``float`` for numbers; ``bool``; a link type
        (``PAIRS_WITH``) or a label (``Village``); ``list[str]`` for aliases.
    errors : list of FieldProblem
        The fields that could not be read (the row's other fields are still given).
    notes : list of str
        What reading did (a merged cell filled, a month-precise date read as its first day).
    """

    number: int
    values: dict[str, Any]
    errors: list[FieldProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# A converter gives (value, error, note).
_Converted = tuple[Any, str | None, str | None]
_Converter = Callable[[Any], _Converted]


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _text_converter(max_length: int, *, free_text: bool = False) -> _Converter:
    def convert(value: Any) -> _Converted:
        text = _as_text(value)
        bad = first_control_character(text, free_text=free_text)
        if bad is not None:
            return None, refusal(bad, free_text=free_text), None
        if len(text) > max_length:
            return None, f"is {len(text)} characters long; at most {max_length}", None
        return text or None, None, None

    return convert


def _label_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for label, words in LABEL_WORDS.items():
        index[label.lower()] = label
        for word in words:
            index.setdefault(word, label)
            index.setdefault(unicodedata.normalize("NFKC", word), label)
    return index


_LABELS: Final[dict[str, str]] = _label_index()
_LABEL_SUFFIXES: Final = sorted(
    ((w, lb) for w, lb in _LABELS.items() if len(w) >= 2 and not w.isascii()),
    key=lambda pair: -len(pair[0]),
)


def _convert_label(value: Any) -> _Converted:
    text = unicodedata.normalize("NFKC", _as_text(value))
    text = _WHITESPACE.sub("", text)
    label = _LABELS.get(text) or _LABELS.get(text.lower())
    if label is not None:
        return label, None, None
    for word, candidate in _LABEL_SUFFIXES:
        if text.endswith(word):
            return candidate, None, f"{text!r} read as {candidate} (ends with {word})"
    words = "、".join(w for ws in LABEL_WORDS.values() for w in ws[:2])
    return None, f"unknown type {text!r}; write one of {words} …", None


_LINK_NAMES: Final = {name.lower(): name for name in LINK_PHRASES}


def _convert_link_type(value: Any) -> _Converted:
    raw = _as_text(value)
    text = _WHITESPACE.sub("", unicodedata.normalize("NFKC", raw))
    found = _LINK_NAMES.get(text.lower()) or link_type_of_phrase(raw) or link_type_of_phrase(text)
    if found is not None:
        return found, None, None
    examples = "、".join(phrases[0] for phrases in LINK_PHRASES.values())
    return None, f"unknown link type {raw!r}; write a phrase such as {examples}", None


def _convert_date(value: Any) -> _Converted:
    try:
        day, precision = parse_date_precision(value)
    except ValueError as error:
        return None, str(error), None
    if precision == "day":
        return day, None, None
    shown = _as_text(value)
    return day, None, f"{shown!r} gives only the {precision}: read as {day.isoformat()}"


def _convert_number(value: Any) -> _Converted:
    try:
        number = parse_number(value)
    except ValueError as error:
        return None, str(error), None
    if number < 0:
        return None, f"{number} is negative", None
    return number, None, None


def _convert_bool(value: Any) -> _Converted:
    try:
        return parse_bool(value), None, None
    except ValueError as error:
        return None, str(error), None


_FLOAT_ARTEFACT: Final = re.compile(r"^\d{7,}\.0$")
_PHONE_CHARACTERS: Final = re.compile(r"^[\d\s\-+()/、,;转ext.#]*$", re.IGNORECASE)


def _convert_phone(value: Any) -> _Converted:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", _as_text(value)).strip()
    if _FLOAT_ARTEFACT.match(text):  # 13800001234.0: a number cell exported as text
        text = text[:-2]
    if len(text) > 50:
        return None, f"is {len(text)} characters long; at most 50", None
    digits = sum(c.isdigit() for c in text)
    if digits < 7 or not _PHONE_CHARACTERS.match(text):
        return None, f"{_as_text(value)!r} is not a phone number", None
    return text, None, None


_CREDIT_CHARACTERS: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _convert_credit_code(value: Any) -> _Converted:
    text = _WHITESPACE.sub("", unicodedata.normalize("NFKC", _as_text(value))).upper()
    if len(text) != 18 or any(c not in _CREDIT_CHARACTERS for c in text):
        return None, f"{text!r} is not an 18-character unified social credit code", None
    total = sum(
        _CREDIT_CHARACTERS.index(c) * w for c, w in zip(text, _CREDIT_WEIGHTS, strict=False)
    )
    check = _CREDIT_CHARACTERS[(31 - total % 31) % 31]
    if text[17] != check:
        return None, f"{text!r}: the check character should be {check}", None
    return text, None, None


def _convert_region_code(value: Any) -> _Converted:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _WHITESPACE.sub("", unicodedata.normalize("NFKC", _as_text(value)))
    if not text.isdigit() or len(text) not in DIVISION_CODE_LENGTHS:
        return None, f"{text!r} is not a division code (2, 4, 6, 9 or 12 digits)", None
    return text, None, None


_ALIAS_SPLIT: Final = re.compile(r"[、,;/|]")


def _convert_list(value: Any) -> _Converted:
    text = unicodedata.normalize("NFKC", _as_text(value))
    items: list[str] = []
    for part in _ALIAS_SPLIT.split(text):
        item = part.strip()
        if not item or item in items:
            continue
        bad = first_control_character(item)
        if bad is not None:
            return None, refusal(bad), None
        if len(item) > 200:
            return None, f"an alias is {len(item)} characters long; at most 200", None
        items.append(item)
    return items or None, None, None


def _converter(spec: ImportField) -> _Converter:
    if spec.kind in ("name", "text"):
        return _text_converter(spec.max_length)
    if spec.kind == "free_text":
        return _text_converter(spec.max_length, free_text=True)
    simple: dict[str, _Converter] = {
        "label": _convert_label,
        "link_type": _convert_link_type,
        "date": _convert_date,
        "number": _convert_number,
        "bool": _convert_bool,
        "phone": _convert_phone,
        "credit_code": _convert_credit_code,
        "region_code": _convert_region_code,
        "list": _convert_list,
    }
    return simple[spec.kind]


_CACHE_LIMIT: Final = 100_000


def _cached(convert: _Converter) -> _Converter:
    """Memoise a converter: ledgers repeat their towns, types and dates on every row."""
    memo: dict[tuple[type, Any], _Converted] = {}

    def run(value: Any) -> _Converted:
        key = (type(value), value)
        hit = memo.get(key)
        if hit is None:
            hit = convert(value)
            if len(memo) < _CACHE_LIMIT:
                memo[key] = hit
        return hit

    return run


def read_rows(table: Table, mapping: ColumnMapping) -> Iterator[MappedRow]:
    """Convert each row's mapped cells to field values.

    Parameters
    ----------
    table : Table
        The sheet (:func:`read_table`).
    mapping : ColumnMapping
        Header → field (:func:`guess_mapping`, :func:`apply_overrides`); headers the table
        lacks are ignored.

    Yields
    ------
    MappedRow
        One per data row, in order. A value that cannot be read is a :class:`FieldProblem` of
        that row and field; so is an empty name (``"name is empty"``) and, in a links sheet,
        an empty partner, and a ``valid_to`` before ``valid_from``. A cell the reader could not
        trust (a formula without a cached value) is a problem of its field when mapped, a note
        when not.

    Raises
    ------
    InvalidInputError
        ``no_name_column`` when no column holds names (:func:`table_kind`).
    """
    kind = table_kind(mapping)
    plan: list[tuple[int, str, str, _Converter]] = []
    for index, header in enumerate(table.headers):
        name = mapping.columns.get(header)
        if name is None:
            continue
        plan.append((index, header, name, _cached(_converter(IMPORT_FIELDS[name]))))
    header_of = {name: header for _i, header, name, _c in plan}
    subject = "name" if "name" in header_of else "source_name"
    other = "partner" if "partner" in header_of else "target_name"
    for row in table.rows:
        values: dict[str, Any] = {}
        errors: list[FieldProblem] = []
        notes = list(row.notes)
        cells = row.cells
        for index, header, name, convert in plan:
            cell = cells[index]
            if cell is None:
                continue
            value, error, note = convert(cell)
            if error is not None:
                errors.append(FieldProblem(name, header, f"{header}: {error}"))
                continue
            if note is not None:
                notes.append(f"{header}: {note}")
            if value is None:
                continue
            if name in values:  # a repeatable field from a second column
                if name == "aliases":
                    values[name] = [*values[name], *(v for v in value if v not in values[name])]
                else:
                    values[name] = f"{values[name]}；{value}"
            else:
                values[name] = value
        for header, problem in row.problems.items():
            name = mapping.columns.get(header)
            if name is None:
                notes.append(f"{header} (ignored): {problem}")
            else:
                errors.append(FieldProblem(name, header, f"{header}: {problem}"))
        failed = {e.field for e in errors}
        if subject not in values and subject not in failed:
            errors.append(FieldProblem(subject, header_of.get(subject), "name is empty"))
        if kind == "links" and other not in values and other not in failed:
            errors.append(FieldProblem(other, header_of.get(other), "partner is empty"))
        start, end = values.get("valid_from"), values.get("valid_to")
        if start is not None and end is not None and end < start:
            errors.append(
                FieldProblem(
                    "valid_to",
                    header_of.get("valid_to"),
                    f"ends ({end.isoformat()}) before it begins ({start.isoformat()})",
                )
            )
            del values["valid_to"]
        yield MappedRow(row.number, values, errors, notes)

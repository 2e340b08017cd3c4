"""The situation page as an Excel workbook: one dashboard answer in, ``.xlsx`` bytes out.

:func:`report_rows` turns one answer of ``GET /v1/dashboard`` (docs/dashboard.md) into the
rows of each sheet, header first; :func:`dashboard_workbook` writes exactly those rows with
openpyxl, one sheet per table in the order of :data:`REPORT_SHEETS`. Tests and the page's
end-to-end test compare a workbook read back against :func:`report_rows` instead of deriving
the rows again.

Each sheet is one table: the header in row 1 (bold, frozen, repeated on every printed page),
an autofilter over the table, numbers as numbers (rates, scores and changes with a number
format), text wrapped where a column would be wider than :data:`MAX_WIDTH`. Column widths
are fitted to the text, a CJK character counting two columns. Dates stay ISO text
(``2026-12-03``) as the answer gives them. Text starting with ``=`` is written as text,
never as a formula (a node name is not a spreadsheet instruction). Floats are listed rounded
to the 15 significant digits Excel keeps, so the file gives back exactly what the rows say.

The same answer gives the same bytes: the workbook's created/modified times and every zip
entry's timestamp are the answer's ``as_of`` (midnight), not the time of the export.

This module knows nothing of HTTP or of the store: the caller composes the answer.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.writer.excel import ExcelWriter  # type: ignore[import-untyped]

from graph_service.schema import NODE_LABELS

if TYPE_CHECKING:
    from _typeshed import SizedBuffer, StrPath

__all__ = [
    "CREATOR",
    "MAX_WIDTH",
    "REPORT_SHEETS",
    "dashboard_workbook",
    "display_width",
    "report_rows",
]

#: The sheets of the workbook, in order: one per table of the page.
REPORT_SHEETS: Final[tuple[str, ...]] = (
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

#: The workbook's author (core property ``creator``).
CREATOR: Final = "graph-service"

#: Widest column, in Excel's character units (about 30 CJK characters); longer text wraps.
MAX_WIDTH: Final = 60
#: Narrowest column.
MIN_WIDTH: Final = 6
#: Room beside the widest text of a column.
PADDING: Final = 2
#: Room for the autofilter's drop-down button beside a header.
FILTER_BUTTON: Final = 3

#: Rule severities in Chinese (analysis/rules.py SEVERITIES).
SEVERITY_ZH: Final[dict[str, str]] = {"error": "错误", "warning": "警告", "info": "提示"}

_RATE: Final = "0.0"
_COUNT: Final = "0"
_SCORE: Final = "0.000"
_CENTRALITY: Final = "0.000000"
_COUNT_CHANGE: Final = "+0;-0;0"
_RATE_CHANGE: Final = "+0.0;-0.0;0.0"

# Control characters openpyxl refuses to write (XML 1.0 has no place for them): its own rule.
_ILLEGAL: Final = ILLEGAL_CHARACTERS_RE
# The zip format's earliest date; an answer without a readable as_of is stamped with it.
_ZIP_EPOCH: Final = dt.datetime(1980, 1, 1)


@dataclass(frozen=True, slots=True)
class _Table:
    """One sheet: its header, rows and the number format of each cell that has one."""

    name: str
    header: list[str]
    rows: list[list[Any]]
    formats: dict[tuple[int, int], str] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        name: str,
        header: Sequence[str],
        rows: Iterable[Sequence[Any]],
        column_formats: Mapping[int, str] | None = None,
    ) -> _Table:
        """A table whose columns ``column_formats`` (index → format) share one format."""
        body = [[_cell(v) for v in row] for row in rows]
        formats = {
            (r, c): fmt
            for r in range(len(body))
            for c, fmt in (column_formats or {}).items()
            if isinstance(body[r][c], int | float)
        }
        return cls(name, list(header), body, formats)


# ---------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    """A JSON value as a cell holds it: text cleaned of control characters, ``""`` as empty."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        # Excel keeps 15 significant digits; openpyxl writes 16 ("%.16g"). Rounded to 15
        # here, a float reads back from the file as exactly the value listed.
        return float(f"{value:.15g}") if math.isfinite(value) else None
    if isinstance(value, int) or value is None:
        return value
    text = _ILLEGAL.sub("", str(value))
    return text or None


def _items(value: Any) -> list[Mapping[str, Any]]:
    """The mappings of a list in the answer (a missing list is empty)."""
    return [v for v in value or () if isinstance(v, Mapping)]


def _part(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _label_zh(label: Any) -> Any:
    """A node label in Chinese (``PartyOrganization`` → 党组织); unknown labels as given."""
    spec = NODE_LABELS.get(str(label)) if label else None
    return spec.label_zh if spec else label


def _kind(node: Mapping[str, Any]) -> Any:
    """What a node is, in Chinese: its kind (党建联合体) when it has one, else its label's."""
    return node.get("kind") or _label_zh(node.get("label"))


def _reasons_text(reasons: Sequence[Mapping[str, Any]]) -> str | None:
    """A pairing's reasons as one cell: one line each, with its share of the score."""
    lines = []
    for reason in reasons:
        said = reason.get("explanation") or reason.get("name") or ""
        share = reason.get("contribution")
        if isinstance(share, int | float) and not isinstance(share, bool):
            said = f"{said}（贡献 {share:.3f}）"
        lines.append(f"· {said}")
    return "\n".join(lines) or None


# ---------------------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------------------


def _overview(data: Mapping[str, Any]) -> _Table:
    """概况: the region and the dates, the five cards, then the totals behind other sheets."""
    region = _part(data, "region")
    path = " / ".join(str(p.get("name")) for p in _items(region.get("path")) if p.get("name"))
    rows: list[list[Any]] = [
        ["地区", region.get("name"), None, None, None],
        ["区划代码", region.get("code"), None, None, None],
        ["层级", region.get("level"), None, None, None],
        ["上级区划", path, None, None, None],
        ["日期", data.get("as_of"), None, None, None],
        ["对比日期", data.get("since"), None, None, None],
    ]
    formats: dict[int, tuple[str, str]] = {}
    for card in _items(data.get("cards")):
        rate = card.get("unit") == "%"
        formats[len(rows)] = (_RATE, _RATE_CHANGE) if rate else (_COUNT, _COUNT_CHANGE)
        rows.append(
            [
                card.get("label"),
                card.get("value"),
                card.get("unit"),
                card.get("previous"),
                card.get("change"),
            ]
        )
    weak = _part(data, "unpartnered_weak")
    extra: list[tuple[str, Any, str | None, str]] = [
        ("未结对薄弱村", weak.get("total"), "个", _COUNT),
        *(
            # The sheet lists only the first ``limit`` of them: say how many it holds.
            [("其中列于“待结对薄弱村”表", len(_items(weak.get("items"))), "个", _COUNT)]
            if weak.get("truncated")
            else []
        ),
        ("联系强度中位数", _part(data, "strength_histogram").get("median"), None, _SCORE),
        ("社区数", _part(data, "communities").get("count"), "个", _COUNT),
        ("社区划分模块度", _part(data, "communities").get("modularity"), None, _SCORE),
    ]
    for label, value, unit, fmt in extra:
        formats[len(rows)] = (fmt, fmt)
        rows.append([label, value, unit, None, None])
    table = _Table.of("概况", ["指标", "数值", "单位", "对比日期数值", "变化"], rows)
    for r, (fmt, change_fmt) in formats.items():
        for c, f in ((1, fmt), (3, fmt), (4, change_fmt)):
            if isinstance(table.rows[r][c], int | float):
                table.formats[(r, c)] = f
    return table


def _coverage(data: Mapping[str, Any]) -> _Table:
    """各镇覆盖: each child of the region with its villages, covered ones and rate."""
    rows = [
        [t.get("code"), t.get("name"), t.get("villages"), t.get("covered"), t.get("rate")]
        for t in _items(data.get("coverage_by_town"))
    ]
    header = ["乡镇代码", "乡镇", "行政村数", "已覆盖", "覆盖率(%)"]
    return _Table.of("各镇覆盖", header, rows, {2: _COUNT, 3: _COUNT, 4: _RATE})


def _links_by_year(data: Mapping[str, Any]) -> _Table:
    """联系逐年: a row per year, a column per link type (its Chinese label)."""
    part = _part(data, "links_by_year")
    years = list(part.get("years") or ())
    series = _items(part.get("series"))
    header = ["年份", *(str(s.get("label") or s.get("type")) for s in series)]
    rows = []
    for i, year in enumerate(years):
        counts = [s.get("counts") or () for s in series]
        rows.append([year, *(c[i] if i < len(c) else None for c in counts)])
    formats = {c: _COUNT for c in range(1, len(header))}
    return _Table.of("联系逐年", header, rows, formats)


def _strength(data: Mapping[str, Any]) -> _Table:
    """联系强度分布: a row per bin of link strength (0.0–0.1 …)."""
    rows = []
    for b in _items(_part(data, "strength_histogram").get("bins")):
        low, high = b.get("from"), b.get("to")
        span = (
            f"{low:.1f}–{high:.1f}"
            if isinstance(low, int | float) and isinstance(high, int | float)
            else f"{low}–{high}"
        )
        rows.append([span, b.get("count")])
    return _Table.of("联系强度分布", ["区间", "联系数"], rows, {1: _COUNT})


def _centrality(data: Mapping[str, Any]) -> _Table:
    """中心度: the top nodes; the score column names the measure (得分（PageRank）)."""
    part = _part(data, "centrality")
    measure = part.get("label") or part.get("measure")
    score = f"得分（{measure}）" if measure else "得分"
    rows = [
        [r.get("rank"), r.get("name"), _kind(r), r.get("score"), r.get("node")]
        for r in _items(part.get("rows"))
    ]
    header = ["排名", "名称", "类型", score, "节点ID"]
    return _Table.of("中心度", header, rows, {0: _COUNT, 3: _CENTRALITY})


def _communities(data: Mapping[str, Any]) -> _Table:
    """社区: how many members of each joint body fall in each detected community."""
    sankey = _part(_part(data, "communities"), "sankey")
    names = {n.get("id"): n.get("name") or n.get("id") for n in _items(sankey.get("nodes"))}
    rows = [
        [
            names.get(k.get("source"), k.get("source")),
            names.get(k.get("target"), k.get("target")),
            k.get("value"),
        ]
        for k in _items(sankey.get("links"))
    ]
    return _Table.of("社区", ["联建组织", "社区", "成员数"], rows, {2: _COUNT})


def _unpartnered(data: Mapping[str, Any]) -> _Table:
    """待结对薄弱村: weak villages without a partner, with why they count as weak."""
    rows = [
        [v.get("name"), v.get("region_name"), v.get("explanation"), v.get("id")]
        for v in _items(_part(data, "unpartnered_weak").get("items"))
    ]
    return _Table.of("待结对薄弱村", ["村", "所属乡镇", "原因说明", "节点ID"], rows)


def _pairings(data: Mapping[str, Any]) -> _Table:
    """推荐结对: the best partner proposed for each weak village, with its reasons."""
    rows = []
    for p in _items(data.get("pairings")):
        village, partner = _part(p, "village"), _part(p, "partner")
        rows.append(
            [
                village.get("name"),
                partner.get("name"),
                _kind(partner),
                p.get("score"),
                _reasons_text(_items(p.get("reasons"))),
                village.get("id"),
                partner.get("id"),
            ]
        )
    header = ["村", "推荐伙伴", "伙伴类型", "得分", "理由", "村ID", "伙伴ID"]
    return _Table.of("推荐结对", header, rows, {3: _SCORE})


def _breaches(data: Mapping[str, Any]) -> _Table:
    """规则违反: every broken rule of a joint body, with its evidence and members."""
    rows = []
    for b in _items(data.get("breaches")):
        severity = b.get("severity")
        members = "、".join(str(m.get("name") or m.get("id")) for m in _items(b.get("members")))
        rows.append(
            [
                _part(b, "body").get("name"),
                b.get("description") or b.get("rule_id"),
                SEVERITY_ZH.get(str(severity), severity),
                b.get("evidence"),
                members,
            ]
        )
    header = ["联建组织", "规则", "严重程度", "证据", "涉及成员"]
    return _Table.of("规则违反", header, rows)


_BUILDERS: Final[tuple[Callable[[Mapping[str, Any]], _Table], ...]] = (
    _overview,
    _coverage,
    _links_by_year,
    _strength,
    _centrality,
    _communities,
    _unpartnered,
    _pairings,
    _breaches,
)


def _tables(data: Mapping[str, Any]) -> list[_Table]:
    tables = [build(data) for build in _BUILDERS]
    assert tuple(t.name for t in tables) == REPORT_SHEETS
    return tables


def report_rows(data: Mapping[str, Any]) -> dict[str, list[list[Any]]]:
    """The rows of each sheet of the report of one dashboard answer, header row first.

    Parameters
    ----------
    data
        One answer of ``GET /v1/dashboard`` (docs/dashboard.md), as JSON.

    Returns
    -------
    dict
        Sheet name → ``[header, *rows]``, in the order of :data:`REPORT_SHEETS`. Values are
        ``str``, ``int``, ``float`` or ``None`` (an empty cell), exactly what
        :func:`dashboard_workbook` writes and openpyxl reads back.
    """
    return {t.name: [list(t.header), *(list(r) for r in t.rows)] for t in _tables(data)}


# ---------------------------------------------------------------------------------------
# The workbook
# ---------------------------------------------------------------------------------------


def display_width(text: str) -> int:
    """Columns ``text`` takes in a fixed-width view: wide and full-width characters (CJK,
    全角 punctuation) count two, others one; of several lines, the widest."""
    return max(
        sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
        for line in text.split("\n")
    )


def _shown(value: Any, fmt: str | None) -> str:
    """A cell's value roughly as Excel shows it under ``fmt`` (for the column's width)."""
    if value is None:
        return ""
    if isinstance(value, float | int) and fmt:
        decimals = len(fmt.split(";")[0].partition(".")[2])
        return f"{value:{'+' if fmt.startswith('+') else ''}.{decimals}f}"
    return str(value)


def _write_sheet(sheet: Any, table: _Table) -> None:
    """Fill one worksheet: header, rows, formats, widths, wrap, filter, frozen header, print."""
    sheet.title = table.name
    sheet.append(table.header)
    for row in table.rows:
        sheet.append(row)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="F2F2F2")
    for cell in sheet[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(vertical="center")
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    for c, header in enumerate(table.header):
        shown = [_shown(r[c], table.formats.get((i, c))) for i, r in enumerate(table.rows)]
        widest = max((display_width(s) for s in shown if s), default=0)
        wanted = max(display_width(header) + FILTER_BUTTON, widest) + PADDING
        letter = get_column_letter(c + 1)
        sheet.column_dimensions[letter].width = max(MIN_WIDTH, min(wanted, MAX_WIDTH))
        for i in range(len(table.rows)):
            cell = sheet.cell(row=i + 2, column=c + 1)
            if isinstance(cell.value, str):
                # A name such as "=HYPERLINK(…)" stays the text it is, not a formula.
                cell.data_type = "s"
            cell.alignment = wrap if wanted > MAX_WIDTH else top
            if (i, c) in table.formats:
                cell.number_format = table.formats[(i, c)]
    last = get_column_letter(max(len(table.header), 1))
    sheet.auto_filter.ref = f"A1:{last}{len(table.rows) + 1}"
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _stamp(data: Mapping[str, Any]) -> dt.datetime:
    """The export's timestamp: midnight of the answer's ``as_of`` (never the clock's)."""
    try:
        day = dt.date.fromisoformat(str(data.get("as_of")))
    except ValueError:
        return _ZIP_EPOCH
    return max(dt.datetime(day.year, day.month, day.day), _ZIP_EPOCH)


class _StampedZip(zipfile.ZipFile):
    """A zip whose entries all carry one timestamp, so equal content gives equal bytes."""

    def __init__(self, file: io.BytesIO, stamp: dt.datetime) -> None:
        super().__init__(file, "w", zipfile.ZIP_DEFLATED)
        self._date_time = stamp.timetuple()[:6]

    def writestr(
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: SizedBuffer | str,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        if isinstance(zinfo_or_arcname, str):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=self._date_time)
            info.compress_type = self.compression
            info.external_attr = 0o600 << 16  # what ZipFile.writestr gives a name
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(
        self,
        filename: StrPath,
        arcname: StrPath | None = None,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        # openpyxl writes each worksheet to a temporary file and adds that file: its mtime
        # is the clock's, so the file is added as bytes under the archive's timestamp.
        with open(filename, "rb") as source:
            content = source.read()
        self.writestr(str(arcname or filename), content, compress_type, compresslevel)


def dashboard_workbook(data: Mapping[str, Any]) -> bytes:
    """The Excel workbook of one dashboard answer: a sheet per table of the page.

    Parameters
    ----------
    data
        One answer of ``GET /v1/dashboard`` (docs/dashboard.md), as JSON.

    Returns
    -------
    bytes
        An ``.xlsx`` file whose sheets are :data:`REPORT_SHEETS`, in order, each holding the
        rows :func:`report_rows` gives. The same answer gives the same bytes.
    """
    book = Workbook()
    for i, table in enumerate(_tables(data)):
        _write_sheet(book.active if i == 0 else book.create_sheet(), table)
    region = _part(data, "region")
    stamp = _stamp(data)
    book.properties.title = f"{region.get('name') or ''}党建联建态势 {data.get('as_of') or ''}"
    book.properties.subject = "党建联建态势"
    book.properties.creator = CREATOR
    book.properties.lastModifiedBy = CREATOR
    book.properties.created = book.properties.modified = stamp
    buffer = io.BytesIO()
    # ExcelWriter, not Workbook.save: save stamps ``modified`` with the clock.
    with _StampedZip(buffer, stamp) as archive:
        ExcelWriter(book, archive).write_data()
    return buffer.getvalue()

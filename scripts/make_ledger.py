"""Generate a realistic joint party-building ledger (党建结对台账) for 平原县, deterministically.

    python scripts/make_ledger.py --rows 300 --out seed/examples/平原县党建结对台账.xlsx --title
    python scripts/make_ledger.py --rows 300 --format csv --encoding gb18030 --title \\
        --out seed/examples/平原县党建结对台账.csv
    python scripts/make_ledger.py --rows 100000 --out /tmp/big.xlsx     # for timing

The villages and towns come from ``seed/register`` (areaCode 371426). The ledger is written the
way county planners write theirs: village names in three forms (许铺社区林庄村民委员会 / 林庄村 /
林庄), towns with and without 镇 and with typos (王果铺镇 for 王杲铺镇), partners in several
forms (森力啤酒饮料有限公司 / 森力啤酒饮料公司 / 平原县森力啤酒饮料有限公司), some traditional
characters and full-width digits, dates in mixed forms (Excel date cells, 2021年3月, 2021.03.15,
2021/3/15, 二〇二一年三月, raw serial numbers), fake but well-formed phone numbers
(138 0000 xxxx), and a few bad rows (an empty row, 待定 for a date, a row without a village).

Columns: 序号, 村名, 所属乡镇, 结对单位, 单位类型, 联建类型, 签约时间, 负责人, 联系电话, 备注.
With ``--title`` a title row is merged across the top and, in xlsx, the first town's rows
share one merged 所属乡镇 cell. In CSV the merged block's towns are blank below its first row,
as Excel's "Save as CSV" writes them. The same ``--seed`` and ``--rows`` give the same rows in
both formats.

Writing uses openpyxl's write-only mode, so 100 000 rows take seconds.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGISTER = ROOT / "seed" / "register"
COUNTY_CODE = "371426"
COUNTY = "平原县"
TITLE = "平原县党建联建结对台账（2023年）"
HEADERS = (
    "序号",
    "村名",
    "所属乡镇",
    "结对单位",
    "单位类型",
    "联建类型",
    "签约时间",
    "负责人",
    "联系电话",
    "备注",
)
MERGED_BLOCK = 20  # rows sharing one merged 所属乡镇 cell (xlsx with --title)

#: Town spellings seen in ledgers besides the register's: typos and homophones.
TOWN_TYPOS = {
    "王杲铺镇": ("王果铺镇", "王杲铺"),
    "王打卦镇": ("王打褂镇",),
    "恩城镇": ("恩成镇",),
    "腰站镇": ("腰占镇",),
}
#: Simplified → traditional, for the few names a planner typed on a traditional keyboard.
TRADITIONAL = str.maketrans(
    {"台": "臺", "头": "頭", "庄": "莊", "张": "張", "刘": "劉", "东": "東", "马": "馬"}
)
FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass(frozen=True)
class Partner:
    """A partner organisation: its forms as ledgers write them, its 单位类型 and link phrases."""

    forms: tuple[str, ...]
    types: tuple[str, ...]
    links: tuple[str, ...]


def _firm(core: str, suffix: str = "有限公司") -> tuple[str, ...]:
    short = suffix.replace("有限", "")
    return (f"{core}{suffix}", f"{core}{short}", f"{COUNTY}{core}{suffix}")


PARTNERS: tuple[Partner, ...] = (
    Partner(_firm("森力啤酒饮料"), ("企业", "民营企业", "龙头企业"), ("村企共建", "村企共建型")),
    Partner(_firm("雪帝啤酒"), ("企业", "民营企业"), ("村企共建", "结对共建")),
    Partner(_firm("汉德酒业"), ("企业", "民营企业"), ("村企共建", "订单农业")),
    Partner(_firm("恒信纺织"), ("企业", "民营企业"), ("村企共建", "百企帮百村")),
    Partner(_firm("鲁平面粉"), ("企业", "龙头企业"), ("订单农业", "村企共建")),
    Partner(_firm("德润农业科技"), ("企业", "民营企业"), ("订单种植", "村企共建型")),
    Partner(_firm("金穗粮油"), ("企业",), ("长期收购", "村企共建")),
    Partner(
        ("平原县联通公司", "联通平原分公司", "中国联通平原县分公司"),
        ("国有企业", "国企"),
        ("党建联建", "支部共建"),
    ),
    Partner(
        ("平原县农村商业银行", "平原农商银行", "平原县农商行"),
        ("银行", "金融机构"),
        ("金融结对", "授信"),
    ),
    Partner(
        ("中国农业银行平原县支行", "农行平原县支行"),
        ("银行", "金融机构"),
        ("金融结对", "金融支持"),
    ),
    Partner(
        ("平原县农业农村局", "县农业农村局", "农业农村局"),
        ("机关", "机关单位"),
        ("结对帮扶", "选派驻村干部"),
    ),
    Partner(
        ("平原县工信局", "县工信局", "平原县工业和信息化局"),
        ("机关", "部门"),
        ("结对帮扶", "包村"),
    ),
    Partner(
        ("平原县住建局", "县住建局", "平原县住房和城乡建设局"),
        ("机关", "机关单位"),
        ("结对帮扶", "第一书记"),
    ),
    Partner(("平原县交通局", "县交通运输局"), ("机关",), ("结对帮扶", "支部共建")),
    Partner(
        ("平原县人民医院", "县人民医院"),
        ("事业单位",),
        ("支部共建", "结对共建"),
    ),
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
NOTES = (
    "已签订协议",
    "年内召开联席会议4次",
    "续签",
    "2023年新增",
    "村党支部书记兼任",
    "见附件",
)


@dataclass(frozen=True)
class Village:
    name: str
    town: str


def load_register() -> list[Village]:
    """The county's villages with their town's name, in register order."""
    with (REGISTER / "streets.csv").open(encoding="utf-8", newline="") as f:
        towns = {r["code"]: r["name"] for r in csv.DictReader(f) if r["areaCode"] == COUNTY_CODE}
    with (REGISTER / "villages.csv").open(encoding="utf-8", newline="") as f:
        return [
            Village(r["name"], towns[r["streetCode"]])
            for r in csv.DictReader(f)
            if r["areaCode"] == COUNTY_CODE and r["streetCode"] in towns
        ]


def village_forms(name: str) -> tuple[str, ...]:
    """许铺社区林庄村民委员会 → (the register's name, 林庄村, 林庄)."""
    for suffix in ("村民委员会", "村民委员", "村委会"):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            core = base.split("社区", 1)[1] if "社区" in base[:-1] else base
            if core.endswith("村"):  # 军仓新村村民委员会: the village is 军仓新村
                return (name, core, core)
            return (name, f"{core}村", core)
    for suffix in ("社区居民委员会", "社区居委会", "居民委员会", "居委会"):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            return (name, f"{base}社区", f"{base}社区居委会")
    return (name,)


def town_forms(town: str) -> tuple[str, ...]:
    """王杲铺镇 → (王杲铺镇, 王杲铺, and the typos ledgers hold)."""
    bare = town.removesuffix("镇").removesuffix("乡").removesuffix("街道")
    forms = [town, town, town, bare]
    if town.endswith("街道"):
        forms.append(f"{bare}街道办事处")
    forms.extend(TOWN_TYPOS.get(town, ()))
    return tuple(forms)


def excel_serial(day: dt.date) -> int:
    return (day - dt.date(1899, 12, 30)).days


def signed_date(rng: random.Random) -> Any:
    """A 签约时间 cell in one of the forms ledgers mix."""
    day = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(5 * 365))
    form = rng.choices(
        ("date", "ym", "dots", "slashes", "iso", "full_width", "chinese", "serial", "year"),
        weights=(30, 20, 12, 12, 8, 4, 3, 3, 2),
    )[0]
    if form == "date":
        return day
    if form == "ym":
        return f"{day.year}年{day.month}月"
    if form == "dots":
        return f"{day.year}.{day.month:02d}.{day.day:02d}"
    if form == "slashes":
        return f"{day.year}/{day.month}/{day.day}"
    if form == "iso":
        return day.isoformat()
    if form == "full_width":
        return f"{day.year}年{day.month}月".translate(FULL_WIDTH_DIGITS)
    if form == "chinese":
        digits = "〇一二三四五六七八九"
        year = "".join(digits[int(c)] for c in str(day.year))
        month = (
            ("十" + (digits[day.month - 10] if day.month > 10 else ""))
            if day.month >= 10
            else digits[day.month]
        )
        return f"{year}年{month}月"
    if form == "serial":
        return excel_serial(day)
    return f"{day.year}年"


def phone(rng: random.Random) -> Any:
    """A fake but well-formed number: mobile 138 0000 xxxx, or a 0534-000 xxxx landline."""
    tail = rng.randrange(10_000)
    form = rng.choices(
        ("plain", "dashes", "spaces", "number", "landline", "full"), (40, 15, 10, 15, 15, 5)
    )[0]
    if form == "plain":
        return f"1380000{tail:04d}"
    if form == "dashes":
        return f"138-0000-{tail:04d}"
    if form == "spaces":
        return f"138 0000 {tail:04d}"
    if form == "number":
        return 13_800_000_000 + tail
    if form == "landline":
        return f"0534-000{tail:04d}"
    return f"1380000{tail:04d}".translate(FULL_WIDTH_DIGITS)


def person(rng: random.Random) -> str:
    """An anonymised name in the 张某某 convention."""
    return rng.choice(SURNAMES) + rng.choice(("某某", "某", "某某"))


def make_rows(n: int, seed: int) -> list[list[Any]]:
    """``n`` ledger rows (lists aligned with HEADERS, ``[]`` for the empty row), grouped by town
    as ledgers are."""
    rng = random.Random(seed)
    villages = load_register()
    town_order = {v.town: i for i, v in reversed(list(enumerate(villages)))}
    picked = sorted((rng.choice(villages) for _ in range(n)), key=lambda v: town_order[v.town])
    rows: list[list[Any]] = []
    # Bad rows at fixed proportions: an empty row, 待定 dates, a row without a village.
    empty_at = {n // 7} if n >= 10 else set()
    no_village_at = {n // 3} if n >= 10 else set()
    pending_at = {n // 5, n // 2, (4 * n) // 5} if n >= 10 else set()
    number = 0
    for i, village in enumerate(picked):
        if i in empty_at:
            rows.append([])
            continue
        number += 1
        partner = rng.choice(PARTNERS)
        forms = village_forms(village.name)
        name = rng.choices(forms, weights=(2, 5, 3)[: len(forms)])[0]
        if rng.random() < 0.03:
            name = name.translate(TRADITIONAL)
        if rng.random() < 0.02:
            name = f"{name}\u3000"  # a trailing full-width space
        partner_name = rng.choice(partner.forms)
        if rng.random() < 0.02:
            partner_name = partner_name.translate(TRADITIONAL)
        date: Any = "待定" if i in pending_at else signed_date(rng)
        note = rng.choice(NOTES) if rng.random() < 0.15 else None
        rows.append(
            [
                number,
                None if i in no_village_at else name,
                rng.choice(town_forms(village.town)),
                partner_name,
                rng.choice(partner.types),
                rng.choice(partner.links),
                date,
                person(rng),
                phone(rng),
                note,
            ]
        )
    return rows


def merged_block(rows: list[list[Any]]) -> tuple[int, int] | None:
    """The first run of rows (indexes, at most MERGED_BLOCK) sharing one town spelling, to
    merge; the town is set to the run's first spelling."""
    start = next((i for i, r in enumerate(rows) if r and r[1]), None)
    if start is None:
        return None
    end = start
    while end + 1 < len(rows) and end + 1 - start < MERGED_BLOCK and rows[end + 1]:
        end += 1
    if end == start:
        return None
    for i in range(start + 1, end + 1):
        rows[i][2] = rows[start][2]
    return start, end


def write_xlsx(rows: list[list[Any]], out: Path, *, title: bool) -> None:
    from openpyxl import Workbook
    from openpyxl.worksheet.cell_range import CellRange

    book = Workbook(write_only=True)
    sheet = book.create_sheet("结对台账")
    last = chr(ord("A") + len(HEADERS) - 1)
    first_data = 1
    if title:
        sheet.append([TITLE])
        sheet.merged_cells.add(CellRange(f"A1:{last}1"))
        first_data += 1
    sheet.append(list(HEADERS))
    first_data += 1
    block = merged_block(rows) if title else None
    for i, row in enumerate(rows):
        if block and block[0] < i <= block[1]:
            row = [*row[:2], None, *row[3:]]
        sheet.append(row)
    if block:
        top, bottom = first_data + block[0], first_data + block[1]
        sheet.merged_cells.add(CellRange(f"C{top}:C{bottom}"))
    book.save(out)


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return f"{value.year}/{value.month}/{value.day}"  # as Excel shows a date cell
    return str(value)


def write_csv(rows: list[list[Any]], out: Path, *, title: bool, encoding: str) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    if title:
        writer.writerow([TITLE, *([""] * (len(HEADERS) - 1))])
    writer.writerow(HEADERS)
    block = merged_block(rows) if title else None
    for i, row in enumerate(rows):
        if block and block[0] < i <= block[1]:
            row = [*row[:2], None, *row[3:]]
        writer.writerow([csv_cell(v) for v in row] if row else [""] * len(HEADERS))
    out.write_bytes(buffer.getvalue().encode(encoding))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=300, help="ledger rows (default 300)")
    parser.add_argument("--out", type=Path, required=True, help="the file to write")
    parser.add_argument("--format", choices=("xlsx", "csv"), help="default: from --out's suffix")
    parser.add_argument("--encoding", choices=("utf-8", "utf-8-sig", "gb18030"), default="utf-8")
    parser.add_argument("--title", action="store_true", help="a merged title row on top")
    parser.add_argument("--seed", type=int, default=371426, help="random seed (default 371426)")
    args = parser.parse_args(argv)
    kind = args.format or ("csv" if args.out.suffix.lower() in (".csv", ".txt") else "xlsx")
    rows = make_rows(args.rows, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if kind == "xlsx":
        write_xlsx(rows, args.out, title=args.title)
    else:
        write_csv(rows, args.out, title=args.title, encoding=args.encoding)
    print(f"wrote {len(rows)} rows to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A calibrated, deterministic generator of synthetic 党建联建 networks.

Given the Region and Village documents of a scope (as :mod:`graph_service.register` builds
them), :func:`generate_network` yields ``("node", doc)`` and ``("link", doc)`` documents that
populate it with party organizations, enterprises, cooperatives, institutions, joint bodies
(联建组织) and the links between them, at rates taken from the five seed articles.

Model
-----
The unit of generation is the **county** (villages grouped by ``region_code[:6]``, towns by
``[:9]``). Each county draws everything from its own random stream, seeded by a BLAKE2b
digest of ``(GENERATOR_VERSION, seed, county code)``; cities have their own stream for the few
city-level institutions. Generating one county alone therefore yields exactly the documents
that county contributes to a province or national run. Only ``Random.random()`` is used (all
other draws are built on it here), so the output does not depend on the Python version's
implementation of ``choice``/``gauss``/``sample``, nor on ``PYTHONHASHSEED``.

Per county, in order:

1. **Profile.** One of three calibrated county profiles (:data:`PROFILES`, weights
   :data:`PROFILE_WEIGHTS`): ``pingyuan`` (平原县, 000: 党建联合体 covering every village),
   ``pingliang`` (平凉市, 001: small 联建 party organizations, 产业链党委, 百企帮百村) or
   ``kaiyuan`` (开原市, 004: a few large 产业联合党委).
2. **Industries.** 2–4 leading industries from a national list (:data:`INDUSTRIES`, weighted
   by province group: tea and rice in the south, apples in the north-west, hazelnuts in the
   north-east …); each town has a main industry, each village an industry (its town's with
   probability 0.6).
3. **Villages.** Collective income is log-normal around the 平凉 village average
   (村均22.8万元): ``ln income = ln 228000 + 0.2·county + 0.15·town + 0.85·village`` with
   standard normal effects, so neighbouring villages are alike and the national median stays
   at 228,000 元. A village is **weak** (薄弱村) when its income is below 100,000 元 (about
   18% of villages). Population, households, party members and land are drawn around
   typical figures (行政村 median 1,400 people, 社区 4,000).
4. **Party hierarchy.** County committee (党委) → town committees (党委, 街道 党工委) → one
   party organization per village (党支部; 党总支/党委 for villages with many members), with
   ``ORGANIZATION_OF``, ``SUBORDINATE_TO`` and ``IN_REGION``.
5. **Institutions and firms.** County departments (组织部, 农业农村局 …, 政府部门), a rural
   commercial bank (金融机构), companies (公司/集团), village-led cooperatives
   (``LEADS_COOPERATIVE``), family farms, town 强村富民公司; ``SUPPLIES`` (order farming)
   from cooperatives, farms and villages to companies of the same industry; ``FINANCES``
   from the bank.
6. **Joint bodies** of the county's profile (see the calibration table), with
   ``MEMBER_OF`` links carrying role (exactly one ``lead`` per body), dates, agreements,
   meetings, resources and outcomes — each attribute present with a probability, so the
   strength of links varies and some are unknown.
7. **Other 联建 links.** ``CO_BUILDS`` between neighbouring village organizations of a town
   (毗邻协作), community ↔ village (社区共建) and company ↔ village (村企共建);
   ``PAIRS_WITH`` strong village → weak village (以强带弱); ``DISPATCHES`` of 第一书记 and
   驻村干部 to weak villages, and of experts from city institutes.

Pairings (以强带弱 and 百企帮百村) come from a **latent preference**, never from graph
structure (no common neighbours, no Adamic–Adar). The helper of weak village ``w`` is the
candidate ``h`` with the highest ::

    1.0·[same industry] + t·[same town] + s·ln(strength_h / ref) − 0.5·load_h + 0.7·G

where ``G`` is standard Gumbel noise. For 以强带弱 the candidates are the county's villages in
the top income quintile (``strength`` = collective income, ``ref`` = the quintile threshold,
``s`` = 0.6, ``t`` = 1.5, a helper takes at most two villages); for 百企帮百村 they are the
county's companies (``strength`` = annual revenue, ``ref`` = 20,000,000 元, ``s`` = 0.5,
``t`` = 0.8, one village per company, no load term). The same preference (without load)
picks the companies that join a 联合体 and the buyers of ``SUPPLIES``. A recommender
evaluated on held-out pairings is therefore not graded against its own formula.

Calibration
-----------
Each line: the figure, its article, the parameter it sets.

- 62 党建联合体 cover 424 administrative villages, 100% (000):
  ``PINGYUAN_BODIES_PER_VILLAGE`` = 62/424; ``PINGYUAN_UNCOVERED_RATE`` = 1% left out.
- 24 brand 联合体 cover 197 key villages (000): ``PINGYUAN_BRAND_SHARE`` = 24/62, brand
  status going to the larger bodies (≈46% of villages become ``key_village``).
- Rules: ≥1 enterprise, ≥10 returned talents a year, ≥1 college graduate, monthly meetings
  (000): ``PINGYUAN_BREACH_RATE`` = 10% of bodies break one of {no enterprise,
  meetings < 12, a single village}; talents < 10 for 5%, no graduate for 4%.
- 流转土地 5000 亩 over 4 villages; 亩均增收 500 元 (000): land on links log-normal around
  800 亩; ``INCOME_PER_MU_YUAN`` = 500.
- 56 党支部领办合作社 and 42 家庭农场 in 19 villages (000); 顺德村 合作社 流转土地近400亩
  (002); 芳草园合作社 村集体增收80多万元 (003): a cooperative in 40% of villages (land
  median 400 亩, revenue median 800,000 元), a family farm in 12%.
- 社区 红色物业 ↔ 村 合作社 (002); 8 村党组织 + 合作社党支部 form a 党建联盟 (003): community ↔
  village ``CO_BUILDS``; cooperatives as members of 联合体 and 产业链党委.
- 58 联建 party organizations link 197 village party organizations (001; the register has
  1,559 villages in 平凉市): ``PINGLIANG_LIANJIAN_PER_VILLAGE`` = 58/1559, 2–6 (mean ≈3.4)
  neighbouring village organizations each.
- 54 产业链党委, 377 subordinate organizations, 926 enterprises (001):
  ``PINGLIANG_CHAINS_PER_VILLAGE`` = 54/1559, ``PINGLIANG_FIRMS_PER_CHAIN`` = 926/54,
  ``PINGLIANG_PARTY_ORG_SHARE`` = 377/926 of chain firms with a party organization.
- Banks paired with 362 enterprise party organizations (001): ``PINGLIANG_BANK_PAIRING`` =
  362/377.
- 167 enterprises help 167 villages, 350万元 invested (001): ``PINGLIANG_BAIQI_PER_VILLAGE`` =
  167/1559, one village per enterprise, ``BAIQI_INVESTMENT_PER_PAIR_YUAN`` ≈ 21,000 元.
- 联建村集体经济收入村均 22.8万元 (001): ``MEDIAN_COLLECTIVE_INCOME_YUAN`` = 228,000;
  ``WEAK_INCOME_YUAN`` = 100,000 makes ≈18% of villages weak.
- 500 workers, 人均增收 1.5万元; 9.47万 employees in 926 firms (001): ``jobs`` on links
  log-normal around 30; chain firms ≈100 employees on average.
- 甘肃省科学院 sends 8 cadres to 4 villages (001): institute dispatches carry 1–3 people.
- 273 villages surveyed, 5 产业联合党委 (004): ``KAIYUAN_BODIES_PER_VILLAGE`` = 5/273.
- 红星贷: 2.05亿元 to 48 firms, single loans of 800万 and 430万 (004): company loans
  log-normal around 3,000,000 元.

About 8% of memberships end (``valid_to``); in 平原-profile counties a village whose
membership ends moves to another 联合体 of its town the next day, so coverage stays full while
as-of queries see the change.

Output
------
Every generated node id starts with ``gen:`` and every document carries the source
``{"kind": "generated", "document": "generator:v1 seed=<seed>"}``. Link ids are
``"gen:" + derive_link_id(type, source, target)``: stable, unique per (type, ends), and never
equal to the id of a curated link between the same nodes. The one exception to "new nodes
only" is the **enriched village copy**: for each input village a ``("node", doc)`` with the
same id, label, kind, name, aliases, region code and sources (the generated source appended)
and the generated attributes added; attributes already on the input win. Nodes come before
the links that reference them: the national industries and programs first, then per city its
institutions, then per county all its nodes followed by all its links.

References
----------
The seed articles (``seed/documents``, curated in ``seed/curated``):

- 000 大众日报, “平原红” 铺就高质量发展底色 (平原县).
- 001 中国甘肃网/平凉市融媒体中心, 党建联建聚合力 以“联”共赢促发展——平凉市以党建联建助力
  高质量发展 (2023-10-25).
- 002 鲁中晨报, 高青县唐坊镇: 红色引领聚力 绿色发展领航.
- 003 鲁中晨报, “红色硒谷”党建联盟点燃乡村振兴新引擎 (淄川区龙泉镇).
- 004 产业联合党委凝聚合力 推动本土品牌提质增效 (开原市; 红星贷, 沈阳市).
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import itertools
import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from graph_service.models import LinkDoc, NodeDoc
from graph_service.schema import LINK_TYPES

__all__ = [
    "GENERATOR_VERSION",
    "INDUSTRIES",
    "KAIYUAN_BODIES_PER_VILLAGE",
    "MEDIAN_COLLECTIVE_INCOME_YUAN",
    "PINGLIANG_BAIQI_PER_VILLAGE",
    "PINGLIANG_CHAINS_PER_VILLAGE",
    "PINGLIANG_LIANJIAN_PER_VILLAGE",
    "PINGYUAN_BODIES_PER_VILLAGE",
    "PINGYUAN_BRAND_SHARE",
    "PROFILES",
    "PROFILE_WEIGHTS",
    "WEAK_INCOME_YUAN",
    "Industry",
    "county_profile",
    "generate_network",
    "generator_source",
]

GENERATOR_VERSION: Final = "1"

# ---------------------------------------------------------------------------------------
# Calibration (see the module docstring for the sources)
# ---------------------------------------------------------------------------------------

PROFILES: Final[tuple[str, ...]] = ("pingyuan", "pingliang", "kaiyuan")
PROFILE_WEIGHTS: Final[tuple[float, ...]] = (0.35, 0.45, 0.20)

MEDIAN_COLLECTIVE_INCOME_YUAN: Final = 228_000.0
WEAK_INCOME_YUAN: Final = 100_000.0
_SIGMA_COUNTY, _SIGMA_TOWN, _SIGMA_VILLAGE = 0.2, 0.15, 0.85

PINGYUAN_BODIES_PER_VILLAGE: Final = 62 / 424
PINGYUAN_BRAND_SHARE: Final = 24 / 62
PINGYUAN_UNCOVERED_RATE: Final = 0.01
PINGYUAN_BREACH_RATE: Final = 0.10

PINGLIANG_LIANJIAN_PER_VILLAGE: Final = 58 / 1559
PINGLIANG_CHAINS_PER_VILLAGE: Final = 54 / 1559
PINGLIANG_FIRMS_PER_CHAIN: Final = 926 / 54
PINGLIANG_PARTY_ORG_SHARE: Final = 377 / 926
PINGLIANG_BANK_PAIRING: Final = 362 / 377
PINGLIANG_BAIQI_PER_VILLAGE: Final = 167 / 1559
BAIQI_INVESTMENT_PER_PAIR_YUAN: Final = 3_500_000 / 167

KAIYUAN_BODIES_PER_VILLAGE: Final = 5 / 273

#: Chance that an eligible membership ends (leads and sole enterprises never do): ≈8% of all.
MEMBERSHIP_END_RATE: Final = 0.11
INCOME_PER_MU_YUAN: Final = 500.0

#: Dates span the seed articles: bodies founded 2018–2023, nothing after the horizon.
_FIRST_DAY: Final = dt.date(2018, 1, 1).toordinal()
_LAST_FOUNDING: Final = dt.date(2023, 6, 30).toordinal()
_HORIZON: Final = dt.date(2024, 6, 30).toordinal()

# ---------------------------------------------------------------------------------------
# Vocabularies
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Industry:
    """A generated industry: ``gen:ind:<slug>``, its products and naming words."""

    slug: str
    name: str
    aliases: tuple[str, ...]
    products: tuple[str, ...]
    #: Word in company names (丰禾**蔬菜**有限公司).
    word: str
    #: Cooperative business terms (大蒜**种植**专业合作社).
    coop_terms: tuple[str, ...]
    weight: float
    #: Weight multipliers by province group (ne, n, nw, e, c, s, sw).
    regional: tuple[tuple[str, float], ...] = ()


INDUSTRIES: Final[tuple[Industry, ...]] = (
    Industry("liangshi", "粮食", ("粮食产业",), ("小麦", "玉米"), "粮油",
             ("粮食种植", "小麦种植", "玉米种植"), 3.0, (("n", 2.0), ("ne", 2.0), ("c", 1.5))),
    Industry("sheshi-shucai", "设施蔬菜", ("蔬菜", "棚菜"), ("西红柿", "黄瓜", "甘蓝"), "蔬菜",
             ("蔬菜种植", "果蔬种植"), 3.0, (("n", 1.5), ("nw", 1.5))),
    Industry("pingguo", "苹果", ("果品",), ("苹果",), "果业", ("苹果种植",), 1.0,
             (("nw", 4.0), ("n", 1.5), ("s", 0.1), ("sw", 0.4))),
    Industry("shuiguo", "水果", ("梨果",), ("梨", "桃", "葡萄"), "果业",
             ("水果种植", "葡萄种植", "桃种植"), 2.0),
    Industry("xumu", "畜牧", ("畜牧产业",), ("生猪", "肉牛", "肉羊"), "牧业",
             ("生猪养殖", "肉牛养殖", "肉羊养殖"), 2.5, (("nw", 2.0), ("ne", 1.5))),
    Industry("jiaqin", "家禽", ("禽蛋",), ("鸡蛋", "肉鸡"), "禽业", ("蛋鸡养殖", "肉鸡养殖"), 1.5),
    Industry("shiyongjun", "食用菌", ("香菇", "菌菇"), ("香菇", "平菇", "黑木耳"), "菌业",
             ("香菇种植", "食用菌种植"), 1.5, (("ne", 2.0), ("c", 1.5))),
    Industry("zhenzi", "榛子", (), ("榛子",), "林果", ("榛子种植",), 0.3,
             (("ne", 8.0), ("s", 0.1), ("sw", 0.1))),
    Industry("zhongyaocai", "中药材", (), ("黄芪", "党参", "金银花"), "药业",
             ("中药材种植",), 1.5, (("nw", 2.0), ("sw", 2.0))),
    Industry("chaye", "茶叶", (), ("绿茶", "红茶"), "茶业", ("茶叶种植",), 0.5,
             (("e", 5.0), ("s", 5.0), ("sw", 5.0), ("c", 4.0), ("n", 0.1), ("ne", 0.0),
              ("nw", 0.1))),
    Industry("shuidao", "水稻", ("稻米",), ("大米",), "米业", ("水稻种植",), 1.5,
             (("ne", 2.0), ("e", 2.5), ("c", 2.5), ("s", 2.5), ("sw", 2.0), ("nw", 0.2),
              ("n", 0.3))),
    Industry("shuichan", "水产养殖", ("水产",), ("淡水鱼", "小龙虾"), "水产",
             ("水产养殖", "小龙虾养殖"), 1.0, (("e", 2.0), ("c", 2.0), ("s", 2.0))),
    Industry("huahui-miaomu", "花卉苗木", ("鲜切花",), ("鲜切花", "苗木"), "园艺",
             ("花卉种植", "苗木种植"), 1.0),
    Industry("fuxi-nongye", "富硒农业", (), ("富硒茶", "富硒小米"), "生态农业",
             ("富硒种植",), 0.3),
    Industry("xiangcun-lvyou", "乡村旅游", ("文旅",), ("农家乐", "民宿"), "旅游开发",
             ("乡村旅游", "民宿经营"), 2.0),
    Industry("dianshang", "电子商务", ("电商",), ("农产品网销",), "电子商务", ("电商服务",), 1.0),
    Industry("nongchanpin-jiagong", "农产品加工", (), ("面粉", "淀粉", "果汁"), "食品",
             ("农产品加工",), 1.5),
    Industry("linxia-jingji", "林下经济", (), ("林下中药材", "林下散养鸡"), "林业",
             ("林下种植", "林下养殖"), 0.7, (("ne", 2.0), ("sw", 2.0))),
    Industry("mianhua", "棉花", (), ("棉花",), "棉业", ("棉花种植",), 0.3,
             (("nw", 4.0), ("n", 1.5), ("s", 0.1), ("sw", 0.1))),
    Industry("youliao", "油料", ("花生", "油菜"), ("花生", "菜籽油"), "油脂",
             ("花生种植", "油菜种植"), 1.0),
    Industry("shougongyi", "手工艺", ("宫灯",), ("宫灯", "编织品"), "工艺品",
             ("手工编织", "宫灯制作"), 0.4),
)  # fmt: skip

_PROVINCE_GROUP: Final[dict[str, str]] = {
    **dict.fromkeys(("21", "22", "23"), "ne"),
    **dict.fromkeys(("11", "12", "13", "14", "15", "37", "41"), "n"),
    **dict.fromkeys(("61", "62", "63", "64", "65"), "nw"),
    **dict.fromkeys(("31", "32", "33", "34", "35", "36"), "e"),
    **dict.fromkeys(("42", "43"), "c"),
    **dict.fromkeys(("44", "45", "46"), "s"),
    **dict.fromkeys(("50", "51", "52", "53", "54"), "sw"),
}

_PROGRAM_BAIQI: Final = "gen:prog:baiqi-bangbaicun"
_PROGRAM_CREDIT: Final = "gen:prog:dangjian-xindai"

_ZIHAO: Final = "丰禾鑫源裕兴盛华康瑞祥泰润绿金宏福汇德信恒嘉和益安富聚天新诚顺达锦旺百万佳利隆昌"
_COMPANY_FORMS: Final = ("有限公司", "有限责任公司", "科技有限公司", "开发有限公司")
_SLOGANS: Final = (
    "红链兴农", "富美", "红满仓", "甜上甜", "共富", "聚力", "同心", "金穗", "兴农", "红耀",
    "振兴", "丰收", "沃野", "红心", "惠民", "红润", "乡韵", "福满", "红石榴", "连心",
)  # fmt: skip
_DIRECTIONS: Final = ("东部", "西部", "南部", "北部", "中部", "东北", "西南", "东南", "西北")
_ACTIVITIES: Final = (
    "组织生活同开展", "党建资源同分享", "党建经验同交流", "联席会议", "产业共谋", "技术培训",
    "统购统销", "助销行动", "志愿服务", "人才回引", "土地流转", "农机服务", "用工对接",
    "主题党日", "擂台比武",
)  # fmt: skip
_RESOURCES: Final = (
    "土地", "劳动力", "技术指导", "资金", "销售渠道", "冷链仓储", "农机服务", "党员志愿者",
    "品牌", "订单", "党群服务中心", "电商平台", "用工岗位",
)  # fmt: skip
_PROJECTS: Final = (
    "秸秆综合利用项目", "高标准农田建设", "冷库建设", "特色产业园", "电商服务站",
    "乡村振兴示范片", "人居环境整治", "“吨半粮”创建", "农产品交易中心",
)  # fmt: skip
_VILLAGE_NEEDS: Final = ("产业项目", "技术指导", "销售渠道", "资金支持", "人才", "基础设施")
_VILLAGE_RESOURCES: Final = ("土地资源", "劳动力", "合作社", "冷库", "电商平台", "特色产品")
_PINGYUAN_MODELS: Final = (
    "产业驱动型", "以强带弱型", "村企共建型", "样板示范共建型", "资源循环型", "产业抱团型",
    "产业带动型", "村落建设型",
)  # fmt: skip
_PINGLIANG_MODELS: Final = (
    "毗邻协作型", "结对帮促型", "龙头带动型", "产业链接型", "飞地抱团型", "项目牵引型",
)  # fmt: skip
_PINGLIANG_MODEL_CUM: Final = (0.35, 0.50, 0.65, 0.80, 0.90, 1.0)
#: County departments: (id suffix, name after the county, alias after the level, kind, p).
_DEPARTMENTS: Final = (
    ("zzb", "委组织部", "委组织部", "政府部门", 1.0),
    ("nyncj", "农业农村局", "农业农村局", "政府部门", 1.0),
    ("xczxj", "乡村振兴局", "乡村振兴局", "政府部门", 0.6),
    ("gxj", "工业和信息化局", "工信局", "政府部门", 0.5),
    ("swj", "商务局", "商务局", "政府部门", 0.4),
    ("gxs", "供销合作社联合社", "供销社", "事业单位", 0.3),
)

# ---------------------------------------------------------------------------------------
# Random draws built on Random.random() only (stable across Python versions)
# ---------------------------------------------------------------------------------------

Uniform = Callable[[], float]


def _rng(seed: int, *parts: str) -> random.Random:
    key = "\x1f".join(("dangjian-generator", GENERATOR_VERSION, str(seed), *parts))
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _normal(u: Uniform) -> float:
    return math.sqrt(-2.0 * math.log(u() or 1e-300)) * math.cos(math.tau * u())


def _lognormal(u: Uniform, median: float, sigma: float) -> float:
    return median * math.exp(sigma * _normal(u))


def _gumbel(u: Uniform) -> float:
    return -math.log(-math.log(u() or 1e-300) or 1e-300)


def _pick(u: Uniform, seq: Sequence[Any]) -> Any:
    return seq[int(u() * len(seq))]


def _index(u: Uniform, cumulative: Sequence[float]) -> int:
    return bisect.bisect_right(cumulative, u() * cumulative[-1])


def _sample(u: Uniform, seq: Sequence[Any], k: int) -> list[Any]:
    pool = list(seq)
    k = min(k, len(pool))
    for i in range(k):
        j = i + int(u() * (len(pool) - i))
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:k]


_SYMMETRIC: Final = frozenset(t for t, spec in LINK_TYPES.items() if spec.symmetric)
_blake2b = hashlib.blake2b


def _link_id(type_: str, source: str, target: str) -> str:
    """``"gen:" + derive_link_id(type_, source, target)``, inlined for speed."""
    if type_ in _SYMMETRIC and target < source:
        source, target = target, source
    key = f"{type_}\x1f{source}\x1f{target}".encode()
    return f"gen:{type_.lower()}:{_blake2b(key, digest_size=10).hexdigest()}"


def _day(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


def _round_money(value: float) -> float:
    return float(round(value, -2)) if value >= 1000 else float(round(value))


# ---------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------


def _strip(name: str, suffixes: Sequence[str], keep: int = 2) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= keep:
            return name[: -len(suffix)]
    return name


def _short_county(name: str) -> str:
    if "自治" in name and len(name) > 4:
        return name[:2]
    return _strip(
        name, ("经济技术开发区", "高新技术产业开发区", "开发区", "新区", "县", "区", "市", "旗")
    )


def _short_province(name: str) -> str:
    if name.startswith(("内蒙古", "黑龙江")):
        return name[:3]
    return _strip(name, ("省", "市", "自治区", "特别行政区"))[:2]


def _short_town(name: str) -> str:
    return _strip(name, ("街道办事处", "街道", "民族乡", "镇", "乡", "苏木"), keep=1)


def _stem(village_name: str) -> str:
    return _strip(village_name, ("社区", "村"), keep=1)


def _city_base(city: NodeDoc, province: NodeDoc) -> str:
    name = str(city["name"])
    return str(province["name"]) if "直辖" in name or name in ("市辖区", "县") else name


# ---------------------------------------------------------------------------------------
# Records of one county's objects
# ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Town:
    doc: NodeDoc
    code: str
    name: str
    short: str
    committee: str
    industry: int
    effect: float
    villages: list[_Village] = field(default_factory=list)


@dataclass(slots=True)
class _Village:
    doc: NodeDoc
    id: str
    code: str
    town: _Town
    name: str
    community: bool
    industry: int
    income: float
    weak: bool
    org: str
    attributes: dict[str, Any]
    key: bool = False
    coop: str | None = None
    helped: int = 0


@dataclass(slots=True)
class _Firm:
    id: str
    name: str
    kind: str
    industry: int
    town: _Town | None
    revenue: float
    party_org: str | None = None
    used: bool = False


@dataclass(slots=True)
class _Out:
    """The documents of one block (city or county): nodes first when yielded."""

    source: str
    nodes: list[NodeDoc] = field(default_factory=list)
    links: list[LinkDoc] = field(default_factory=list)
    link_ids: set[str] = field(default_factory=set)

    def src(self) -> list[dict[str, Any]]:
        return [{"kind": "generated", "document": self.source}]

    def node(
        self,
        id_: str,
        label: str,
        kind: str | None,
        name: str,
        region_code: str | None,
        attributes: dict[str, Any] | None = None,
        aliases: Sequence[str] = (),
        valid_from: str | None = None,
    ) -> str:
        doc: NodeDoc = {
            "id": id_,
            "label": label,
            "kind": kind,
            "name": name,
            "aliases": list(aliases),
            "attributes": attributes or {},
            "figures": [],
            "sources": self.src(),
        }
        if region_code is not None:
            doc["region_code"] = region_code
        if valid_from is not None:
            doc["valid_from"] = valid_from
        self.nodes.append(doc)
        return id_

    def link(
        self,
        type_: str,
        source: str,
        target: str,
        attributes: dict[str, Any] | None = None,
        valid_from: str | None = None,
        valid_to: str | None = None,
    ) -> bool:
        link_id = _link_id(type_, source, target)
        if link_id in self.link_ids:
            return False
        self.link_ids.add(link_id)
        doc: LinkDoc = {
            "id": link_id,
            "type": type_,
            "source": source,
            "target": target,
            "attributes": attributes or {},
            "sources": self.src(),
        }
        if valid_from is not None:
            doc["valid_from"] = valid_from
        if valid_to is not None:
            doc["valid_to"] = valid_to
        self.links.append(doc)
        return True

    def emit(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for doc in self.nodes:
            yield "node", doc
        for doc in self.links:
            yield "link", doc


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


def generator_source(seed: int) -> dict[str, str]:
    """The source every generated document carries."""
    return {"kind": "generated", "document": f"generator:v{GENERATOR_VERSION} seed={seed}"}


def county_profile(seed: int, county_code: str) -> str:
    """The profile (one of :data:`PROFILES`) county ``county_code`` gets under ``seed``."""
    return PROFILES[_index(_rng(seed, county_code).random, _PROFILE_CUM)]


_PROFILE_CUM: Final = tuple(sum(PROFILE_WEIGHTS[: i + 1]) for i in range(len(PROFILE_WEIGHTS)))


def generate_network(
    regions: Sequence[NodeDoc], villages: Sequence[NodeDoc], seed: int
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``("node", doc)`` and ``("link", doc)`` documents populating the given regions.

    ``regions`` must hold the province, city, county and town of every village (as
    :func:`graph_service.register.read_register` with a scope yields them); ``villages`` are
    the Village documents as stored. Villages are generated county by county in code order,
    each county from its own random stream, so the documents of a county do not depend on
    what else is in scope. Raises ``ValueError`` when a village's ancestor is missing.
    """
    source = generator_source(seed)["document"]
    by_code: dict[str, NodeDoc] = {}
    for region in regions:
        if region.get("label") == "Region" and region.get("region_code"):
            by_code[str(region["region_code"])] = region
    counties: defaultdict[str, list[NodeDoc]] = defaultdict(list)
    for village in villages:
        code = str(village.get("region_code") or "")
        if village.get("label") != "Village" or len(code) != 12:
            raise ValueError(f"not a register village: {village.get('id')!r}")
        for length in (2, 4, 6, 9):
            if code[:length] not in by_code:
                raise ValueError(
                    f"region {code[:length]} (ancestor of village {code}) is not among the regions"
                )
        counties[code[:6]].append(village)
    if not counties:
        return
    yield from _preamble(source).emit()
    city_code = ""
    city_institutions: list[tuple[str, str]] = []
    for county_code in sorted(counties):
        if county_code[:4] != city_code:
            city_code = county_code[:4]
            city_out, city_institutions = _city_block(seed, source, by_code, city_code)
            yield from city_out.emit()
        builder = _County(seed, source, by_code, county_code, counties[county_code])
        yield from builder.build(city_institutions).emit()


def _preamble(source: str) -> _Out:
    out = _Out(source)
    for ind in INDUSTRIES:
        out.node(f"gen:ind:{ind.slug}", "Industry", None, ind.name, None, aliases=ind.aliases)
    out.node(_PROGRAM_BAIQI, "Program", "行动", "百企帮百村", None, aliases=("“百企帮百村”行动",))
    out.node(_PROGRAM_CREDIT, "Program", "金融产品", "党建引领信用贷", None, aliases=("党建贷",))
    return out


def _city_block(
    seed: int, source: str, by_code: dict[str, NodeDoc], city_code: str
) -> tuple[_Out, list[tuple[str, str]]]:
    """City-level institutions that dispatch experts: (id, kind) pairs."""
    out = _Out(source)
    u = _rng(seed, "city", city_code).random
    base = _city_base(by_code[city_code], by_code[city_code[:2]])
    region = f"region:{city_code}"
    found: list[tuple[str, str]] = []
    if u() < 0.55:
        inst = out.node(
            f"gen:inst:{city_code}-nky",
            "Institution",
            "科研院所",
            f"{base}农业科学研究院",
            city_code,
            {"staff": int(_lognormal(u, 120, 0.5))},
            aliases=(f"{_strip(base, ('市', '省', '地区', '盟', '自治州'))}农科院",),
        )
        found.append((inst, "科研院所"))
    if u() < 0.35:
        short = _strip(base, ("市", "省", "地区", "盟", "自治州"))
        name = f"{short}农业职业技术学院" if u() < 0.5 else f"{short}职业技术学院"
        inst = out.node(
            f"gen:inst:{city_code}-gx",
            "Institution",
            "高校",
            name,
            city_code,
            {"staff": int(_lognormal(u, 600, 0.4))},
        )
        found.append((inst, "高校"))
    for inst, _ in found:
        out.link("IN_REGION", inst, region)
    return out, found


# ---------------------------------------------------------------------------------------
# One county
# ---------------------------------------------------------------------------------------

_IND_CUM_BY_GROUP: dict[str, tuple[float, ...]] = {}


def _industry_cum(group: str) -> tuple[float, ...]:
    cum = _IND_CUM_BY_GROUP.get(group)
    if cum is None:
        total, values = 0.0, []
        for ind in INDUSTRIES:
            total += ind.weight * dict(ind.regional).get(group, 1.0)
            values.append(total)
        cum = _IND_CUM_BY_GROUP[group] = tuple(values)
    return cum


class _County:
    """Builds one county's documents from its own random stream."""

    def __init__(
        self,
        seed: int,
        source: str,
        by_code: dict[str, NodeDoc],
        code: str,
        villages: list[NodeDoc],
    ) -> None:
        self.rng = _rng(seed, code)
        self.u: Uniform = self.rng.random
        self.out = _Out(source)
        self.code = code
        self.doc = by_code[code]
        self.region = f"region:{code}"
        self.name = str(self.doc["name"])
        self.short = _short_county(self.name)
        self.level = self.name[-1] if self.name[-1] in "县区市旗" else "县"
        self.province_short = _short_province(str(by_code[code[:2]]["name"]))
        self.group = _PROVINCE_GROUP.get(code[:2], "n")
        self.committee = f"gen:org:{code}"
        self.names: set[str] = set()
        self.villages: list[_Village] = []
        self.towns: list[_Town] = []
        self.firms: list[_Firm] = []
        self.coops: list[_Firm] = []
        self.departments: list[str] = []
        self.bank = ""
        self.banks: list[str] = []
        self.n_firms = 0
        self.profile = ""
        self.industries: list[int] = []
        self.industry_cum: tuple[float, ...] = ()
        ordered = sorted(villages, key=lambda v: str(v["region_code"]))
        town_docs: dict[str, list[NodeDoc]] = {}
        for v in ordered:
            town_docs.setdefault(str(v["region_code"])[:9], []).append(v)
        self._town_input = [(by_code[t], vs) for t, vs in town_docs.items()]

    # -------------------------------------------------------------- helpers

    def unique(self, name: str, *fallbacks: str) -> str:
        for candidate in (name, *fallbacks):
            if candidate not in self.names:
                self.names.add(candidate)
                return candidate
        n = 2
        while f"{name}{n}" in self.names:
            n += 1
        self.names.add(f"{name}{n}")
        return f"{name}{n}"

    def zihao(self) -> str:
        u = self.u
        a = int(u() * len(_ZIHAO))
        b = (a + 1 + int(u() * (len(_ZIHAO) - 1))) % len(_ZIHAO)
        return _ZIHAO[a] + _ZIHAO[b]

    def founding(self, first: int = _FIRST_DAY, last: int = _LAST_FOUNDING) -> int:
        return first + int(self.u() * (last - first + 1))

    def substance(
        self, income: bool = True, median_land: float = 800.0, meetings: float | None = None
    ) -> dict[str, Any]:
        """Link substance: each attribute present with its own probability."""
        u = self.u
        attrs: dict[str, Any] = {}
        r = u()
        if r < 0.75:
            attrs["agreement_signed"] = True
        elif r < 0.85:
            attrs["agreement_signed"] = False
        if meetings is not None and u() < 0.6:
            attrs["meetings_per_year"] = meetings
        if u() < 0.6:
            attrs["activities"] = _sample(u, _ACTIVITIES, 1 + int(u() * 3))
        if u() < 0.4:
            attrs["resources_from_source"] = _sample(u, _RESOURCES, 1 + int(u() * 2))
        if u() < 0.3:
            attrs["resources_from_target"] = _sample(u, _RESOURCES, 1 + int(u() * 2))
        if income:
            land = _lognormal(u, median_land, 0.9) if u() < 0.4 else None
            if land is not None:
                attrs["land_area_mu"] = float(round(land))
            if u() < 0.5:
                base = land * INCOME_PER_MU_YUAN if land else _lognormal(u, 60_000, 0.8)
                attrs["income_increase_yuan"] = _round_money(base * (0.6 + 0.8 * u()))
                if land and u() < 0.4:
                    per_mu = int(attrs["income_increase_yuan"] / land)
                    attrs["outcome"] = f"流转土地{int(land)}亩,亩均增收{per_mu}元"
            if u() < 0.3:
                attrs["jobs"] = int(_lognormal(u, 30, 0.8))
            if u() < 0.25:
                attrs["investment_yuan"] = _round_money(_lognormal(u, 200_000, 0.9))
        return attrs

    def membership(
        self,
        actor: str,
        body: str,
        role: str,
        start: int,
        meetings: float | None,
        end: int | None = None,
        income: bool = True,
    ) -> None:
        attrs = self.substance(income=income, meetings=meetings)
        attrs["role"] = role
        self.out.link(
            "MEMBER_OF",
            actor,
            body,
            attrs,
            _day(start),
            _day(end) if end is not None else None,
        )

    def choose_firm(
        self, firms: Sequence[_Firm], industry: int, town: _Town | None, fresh: bool = False
    ) -> _Firm | None:
        """The firm with the highest latent preference (industry, town, size, noise)."""
        u = self.u
        best: _Firm | None = None
        best_score = -math.inf
        for firm in firms:
            if fresh and firm.used:
                continue
            score = 0.5 * math.log(firm.revenue / 20_000_000) + 0.7 * _gumbel(u)
            if firm.industry == industry:
                score += 1.0
            if town is not None and firm.town is town:
                score += 0.8
            if score > best_score:
                best, best_score = firm, score
        return best

    # -------------------------------------------------------------- build

    def build(self, city_institutions: list[tuple[str, str]]) -> _Out:
        u = self.u
        profile = PROFILES[_index(u, _PROFILE_CUM)]
        self.profile = profile
        self.pick_industries()
        self.make_villages()
        self.make_hierarchy()
        self.make_institutions()
        self.make_firms(max(2, round(len(self.villages) * (0.03 + 0.02 * u()))))
        self.make_cooperatives()
        if profile == "pingyuan":
            self.pingyuan()
        elif profile == "pingliang":
            self.pingliang()
        else:
            self.kaiyuan(city_institutions)
        self.co_builds()
        self.pair_villages()
        self.dispatch(city_institutions)
        self.finance()
        self.enriched_villages()
        return self.out

    def pick_industries(self) -> None:
        u = self.u
        cum = list(_industry_cum(self.group))
        chosen: list[int] = []
        for _ in range(2 + int(u() * 3)):
            i = _index(u, cum)
            chosen.append(i)
            # Without replacement: zero the chosen industry's weight.
            w = cum[i] - (cum[i - 1] if i else 0.0)
            cum = [c - w if j >= i else c for j, c in enumerate(cum)]
        self.industries = chosen
        # The first leading industry counts most.
        self.industry_cum = tuple(
            sum(1.0 / (k + 1) for k in range(j + 1)) for j in range(len(chosen))
        )
        for i in chosen:
            self.out.link("IN_INDUSTRY", self.region, f"gen:ind:{INDUSTRIES[i].slug}")

    def county_industry(self) -> int:
        return self.industries[_index(self.u, self.industry_cum)]

    def make_villages(self) -> None:
        u = self.u
        county_effect = _normal(u)
        names: dict[str, int] = defaultdict(int)
        for _, docs in self._town_input:
            for v in docs:
                names[str(v["name"])] += 1
        for town_doc, docs in self._town_input:
            town_name = str(town_doc["name"])
            town = _Town(
                town_doc,
                str(town_doc["region_code"]),
                town_name,
                _short_town(town_name),
                f"gen:org:{town_doc['region_code']}",
                self.county_industry(),
                _normal(u),
            )
            self.towns.append(town)
            base = _SIGMA_COUNTY * county_effect + _SIGMA_TOWN * town.effect
            for doc in docs:
                name = str(doc["name"])
                if names[name] > 1:
                    name = town.short + name
                community = doc.get("kind") == "社区"
                industry = town.industry if u() < 0.6 else self.county_industry()
                income = _round_money(
                    MEDIAN_COLLECTIVE_INCOME_YUAN * math.exp(base + _SIGMA_VILLAGE * _normal(u))
                )
                population = int(_lognormal(u, 4000 if community else 1400, 0.6)) + 50
                households = int(population / (2.6 + 0.8 * u()))
                members = max(3, int(population * (0.025 + 0.02 * u())))
                land = population * (0.05 + 0.45 * u() if community else 1.0 + 2.5 * u())
                attrs: dict[str, Any] = {
                    "collective_income_yuan": income,
                    "population": population,
                    "households": households,
                    "party_members": members,
                    "land_area_mu": float(round(land)),
                }
                given = doc.get("attributes") or {}
                if isinstance(given.get("collective_income_yuan"), int | float):
                    income = float(given["collective_income_yuan"])
                weak = income < WEAK_INCOME_YUAN
                if isinstance(given.get("weak"), bool):
                    weak = given["weak"]
                if weak and u() < 0.7:
                    attrs["needs"] = _sample(u, _VILLAGE_NEEDS, 1 + int(u() * 3))
                elif not weak and u() < 0.4:
                    attrs["resources"] = _sample(u, _VILLAGE_RESOURCES, 1 + int(u() * 3))
                village = _Village(
                    doc,
                    str(doc["id"]),
                    str(doc["region_code"]),
                    town,
                    name,
                    community,
                    industry,
                    income,
                    weak,
                    f"gen:org:{doc['region_code']}",
                    attrs,
                )
                town.villages.append(village)
                self.villages.append(village)

    def make_hierarchy(self) -> None:
        out, u = self.out, self.u
        name = self.unique(f"中共{self.name}委员会")
        out.node(
            self.committee,
            "PartyOrganization",
            "党委",
            name,
            self.code,
            aliases=(f"{self.name}委", f"{self.short}{self.level}委"),
        )
        out.link("ORGANIZATION_OF", self.committee, self.region)
        out.link("IN_REGION", self.committee, self.region)
        for town in self.towns:
            street = town.name.endswith(("街道", "街道办事处"))
            kind = "党工委" if street else "党委"
            cname = self.unique(f"{town.name}{kind}")
            out.node(
                town.committee,
                "PartyOrganization",
                kind,
                cname,
                town.code,
                {"party_members": sum(v.attributes["party_members"] for v in town.villages)},
                aliases=(f"{self.name}{town.name}{kind}",),
            )
            region = f"region:{town.code}"
            out.link("ORGANIZATION_OF", town.committee, region)
            out.link("SUBORDINATE_TO", town.committee, self.committee)
            out.link("IN_REGION", town.committee, region)
            out.link("IN_INDUSTRY", region, f"gen:ind:{INDUSTRIES[town.industry].slug}")
        for v in self.villages:
            members = v.attributes["party_members"]
            kind = "党支部"
            if members >= 120 and u() < 0.5:
                kind = "党委"
            elif members >= 60 and u() < 0.6:
                kind = "党总支"
            oname = self.unique(f"{v.name}{kind}", f"{v.town.short}{v.name}{kind}")
            out.node(
                v.org,
                "PartyOrganization",
                kind,
                oname,
                v.town.code,
                {"party_members": members},
                aliases=(f"{v.name}党组织",),
            )
            out.link("ORGANIZATION_OF", v.org, v.id)
            out.link("SUBORDINATE_TO", v.org, v.town.committee)
            out.link("IN_REGION", v.org, f"region:{v.town.code}")
            out.link("IN_INDUSTRY", v.id, f"gen:ind:{INDUSTRIES[v.industry].slug}")

    def make_institutions(self) -> None:
        out, u = self.out, self.u
        for suffix, name, alias, kind, p in _DEPARTMENTS:
            if u() < p:
                inst = out.node(
                    f"gen:inst:{self.code}-{suffix}",
                    "Institution",
                    kind,
                    self.unique(f"{self.name}{name}"),
                    self.code,
                    {"staff": int(_lognormal(u, 40, 0.5))},
                    aliases=(f"{self.level}{alias}",),
                )
                self.departments.append(inst)
                out.link("IN_REGION", inst, self.region)
        self.bank = out.node(
            f"gen:inst:{self.code}-nsh",
            "Institution",
            "金融机构",
            self.unique(f"{self.short}农村商业银行", f"{self.name}农村商业银行"),
            self.code,
            {"staff": int(_lognormal(u, 300, 0.5)), "resources": ["信贷资金", "金融服务"]},
            aliases=(f"{self.short}农商行", "农商行"),
        )
        out.link("IN_REGION", self.bank, self.region)
        self.banks = [self.bank]
        if u() < 0.4:
            postal = out.node(
                f"gen:inst:{self.code}-yc",
                "Institution",
                "金融机构",
                self.unique(f"中国邮政储蓄银行{self.name}支行"),
                self.code,
                {"staff": int(_lognormal(u, 60, 0.5))},
                aliases=("邮储银行",),
            )
            out.link("IN_REGION", postal, self.region)
            self.banks.append(postal)

    def new_firm(
        self, industry: int, town: _Town | None, chain_leader: bool = False, kind: str = ""
    ) -> _Firm:
        out, u = self.out, self.u
        ind = INDUSTRIES[industry]
        if not kind:
            r = u()
            kind = "集团" if r < (0.2 if chain_leader else 0.04) else "公司"
        self.n_firms += 1
        firm_id = f"gen:ent:{self.code}-c{self.n_firms:04d}"
        revenue = _lognormal(u, 60_000_000 if chain_leader else 20_000_000, 1.1)
        for _ in range(8):
            zihao = self.zihao()
            r = u()
            place = self.short if r < 0.6 else (self.province_short if r < 0.8 else "")
            word = ind.word if u() < 0.7 else _pick(u, ("农业科技", "农业开发", "生态农业"))
            if kind == "集团":
                name = f"{place}{zihao}{word}集团有限公司"
            else:
                form = _pick(u, _COMPANY_FORMS[: 2 if word.endswith(("开发", "科技")) else 4])
                name = f"{place}{zihao}{word}{form}"
            if name not in self.names:
                break
        name = self.unique(name)
        attrs: dict[str, Any] = {
            "employees": int(_lognormal(u, 150 if chain_leader else 60, 0.9)) + 3,
            "annual_revenue_yuan": _round_money(revenue),
            "total_assets_yuan": _round_money(revenue * (0.8 + 1.7 * u())),
            "chain_leader": chain_leader,
            "products": _sample(u, ind.products, 1 + int(u() * 2)),
        }
        region_code = town.code if town is not None else self.code
        out.node(
            firm_id,
            "Enterprise",
            kind,
            name,
            region_code,
            attrs,
            aliases=(f"{zihao}{'集团' if kind == '集团' else '公司'}",),
        )
        out.link("IN_REGION", firm_id, f"region:{region_code}")
        out.link("IN_INDUSTRY", firm_id, f"gen:ind:{ind.slug}")
        firm = _Firm(firm_id, name, kind, industry, town, revenue)
        self.firms.append(firm)
        return firm

    def firm_party_org(self, firm: _Firm, superior: str) -> str:
        kind = "党总支" if self.u() < 0.15 else "党支部"
        org = f"gen:org:{firm.id.removeprefix('gen:ent:')}"
        region_code = firm.town.code if firm.town is not None else self.code
        self.out.node(
            org,
            "PartyOrganization",
            kind,
            self.unique(f"{firm.name}{kind}"),
            region_code,
            {"party_members": int(_lognormal(self.u, 15, 0.6)) + 3},
        )
        self.out.link("ORGANIZATION_OF", org, firm.id)
        self.out.link("SUBORDINATE_TO", org, superior)
        self.out.link("IN_REGION", org, f"region:{region_code}")
        firm.party_org = org
        return org

    def random_town(self) -> _Town:
        return self.towns[int(self.u() * len(self.towns))]

    def make_firms(self, count: int) -> None:
        u = self.u
        for i in range(count):
            industry = self.county_industry() if u() < 0.8 else _index(u, _industry_cum(self.group))
            # Villages are spread over towns; firms follow them (a random village's town).
            town = self.villages[int(u() * len(self.villages))].town
            firm = self.new_firm(industry, town, chain_leader=i < max(1, count // 6))
            if u() < 0.3:
                self.firm_party_org(firm, town.committee)

    def make_cooperatives(self) -> None:
        out, u = self.out, self.u
        for v in self.villages:
            ind = INDUSTRIES[v.industry]
            if u() < 0.4:
                stem = _stem(v.name)
                for _ in range(4):
                    term = _pick(u, ind.coop_terms)
                    r = u()
                    if r < 0.5:
                        name = f"{stem}{term}专业合作社"
                    elif r < 0.8:
                        name = f"{stem}{self.zihao()}{term}专业合作社"
                    else:
                        name = f"{self.zihao()}园专业合作社"
                    if name not in self.names:
                        break
                name = self.unique(name, f"{v.town.short}{name}")
                coop_id = f"gen:ent:{v.code}-hzs"
                land = float(round(_lognormal(u, 400, 0.8)))
                revenue = _lognormal(u, 800_000, 0.9)
                out.node(
                    coop_id,
                    "Enterprise",
                    "合作社",
                    name,
                    v.town.code,
                    {
                        "members": int(_lognormal(u, 80, 0.8)) + 5,
                        "land_area_mu": land,
                        "annual_revenue_yuan": _round_money(revenue),
                        "products": _sample(u, ind.products, 1 + int(u() * 2)),
                    },
                )
                out.link("IN_REGION", coop_id, f"region:{v.town.code}")
                out.link("IN_INDUSTRY", coop_id, f"gen:ind:{ind.slug}")
                attrs = self.substance(income=False)
                if u() < 0.5:
                    attrs["investment_yuan"] = _round_money(_lognormal(u, 200_000, 0.7))
                attrs["land_area_mu"] = land
                out.link(
                    "LEADS_COOPERATIVE",
                    v.org,
                    coop_id,
                    attrs,
                    _day(self.founding(_FIRST_DAY, _HORIZON - 60)),
                )
                v.coop = coop_id
                coop = _Firm(coop_id, name, "合作社", v.industry, v.town, revenue)
                self.coops.append(coop)
                if u() < 0.5:
                    self.supply(coop_id, v.industry, v.town, land)
            if u() < 0.12:
                farm = f"gen:ent:{v.code}-jtnc"
                land = float(round(_lognormal(u, 150, 0.7)))
                name = self.unique(
                    f"{_stem(v.name)}{self.zihao()}家庭农场",
                    f"{v.town.short}{_stem(v.name)}{self.zihao()}家庭农场",
                )
                out.node(
                    farm,
                    "Enterprise",
                    "家庭农场",
                    name,
                    v.town.code,
                    {
                        "land_area_mu": land,
                        "employees": 2 + int(u() * 8),
                        "products": [_pick(u, ind.products)],
                    },
                )
                out.link("IN_REGION", farm, f"region:{v.town.code}")
                out.link("IN_INDUSTRY", farm, f"gen:ind:{ind.slug}")
                if u() < 0.4:
                    self.supply(farm, v.industry, v.town, land)
            elif u() < 0.05:
                self.supply(v.id, v.industry, v.town, None)
        for town in self.towns:
            if len(town.villages) >= 3 and u() < 0.45:
                company = f"gen:ent:{town.code}-qcfm"
                out.node(
                    company,
                    "Enterprise",
                    "强村富民公司",
                    self.unique(f"{town.short}强村富民有限公司", f"{town.name}强村富民有限公司"),
                    town.code,
                    {"employees": 5 + int(u() * 40)},
                    aliases=(f"{town.name}强村富民公司",),
                )
                out.link("IN_REGION", company, f"region:{town.code}")
                for v in _sample(u, town.villages, 2 + int(u() * 4)):
                    attrs = {"investment_yuan": _round_money(_lognormal(u, 300_000, 0.6))}
                    out.link("LEADS_COOPERATIVE", v.org, company, attrs)

    def supply(self, supplier: str, industry: int, town: _Town, land: float | None) -> None:
        u = self.u
        buyer = self.choose_firm(self.firms, industry, town)
        if buyer is None:
            return
        attrs = self.substance(income=False)
        attrs["products"] = _sample(u, INDUSTRIES[industry].products, 1)
        if u() < 0.85:
            attrs["order_farming"] = u() < 0.7
        if u() < 0.5:
            attrs["contract_value_yuan"] = _round_money(_lognormal(u, 500_000, 1.0))
        if land is not None and u() < 0.6:
            area = float(round(land * (0.3 + 0.7 * u())))
            attrs["land_area_mu"] = area
            increase = area * INCOME_PER_MU_YUAN * (0.6 + 0.8 * u())
            attrs["income_increase_yuan"] = _round_money(increase)
            attrs["outcome"] = f"订单种植{int(area)}亩,亩均增收{int(increase / area)}元"
        self.out.link(
            "SUPPLIES", supplier, buyer.id, attrs, _day(self.founding(_FIRST_DAY, _HORIZON - 30))
        )

    # -------------------------------------------------------------- profiles

    def body(
        self,
        id_: str,
        kind: str,
        name: str,
        region_code: str,
        superior: str,
        industry: int,
        attributes: dict[str, Any],
        founded: int,
        aliases: Sequence[str] = (),
    ) -> str:
        out = self.out
        out.node(
            id_,
            "PartyOrganization",
            kind,
            name,
            region_code,
            attributes,
            aliases=aliases,
            valid_from=_day(founded),
        )
        out.link("SUBORDINATE_TO", id_, superior)
        out.link("IN_REGION", id_, f"region:{region_code}")
        out.link("IN_INDUSTRY", id_, f"gen:ind:{INDUSTRIES[industry].slug}")
        return id_

    def village_members(
        self,
        body: str,
        members: Sequence[_Village],
        founded: int,
        meetings: float,
        lead: _Village | None,
        org_share: float,
        moves: dict[str, list[tuple[str, int]]] | None = None,
        town_bodies: Sequence[str] = (),
    ) -> None:
        """Village (organization) memberships; ~8% end, moving to another body if given."""
        u = self.u
        for v in members:
            actor = v.org if (v is lead or u() < org_share) else v.id
            role = "lead" if v is lead else "member"
            start = founded if u() < 0.85 else self.founding(founded, _HORIZON - 400)
            end: int | None = None
            if v is not lead and u() < MEMBERSHIP_END_RATE:
                others = [b for b in town_bodies if b != body]
                if moves is None or others:
                    end = start + 90 + int(u() * (_HORIZON - start - 120))
                    if moves is not None:
                        moves.setdefault(_pick(u, others), []).append((actor, end + 1))
            self.membership(actor, body, role, start, meetings, end)

    def firm_members(
        self, body: str, firms: Sequence[_Firm], founded: int, meetings: float
    ) -> None:
        u = self.u
        for i, firm in enumerate(firms):
            start = founded if u() < 0.8 else self.founding(founded, _HORIZON - 400)
            end = None
            if i > 0 and u() < MEMBERSHIP_END_RATE:
                end = start + 90 + int(u() * (_HORIZON - start - 120))
            self.membership(firm.id, body, "member", start, meetings, end)

    def pingyuan(self) -> None:
        """党建联合体 covering (almost) every village, a third of them brand bodies."""
        u = self.u
        rate = PINGYUAN_BODIES_PER_VILLAGE * (0.9 + 0.2 * u())
        groups: list[tuple[_Town, list[_Village], str]] = []
        for town in self.towns:
            n = len(town.villages)
            k = max(1, round(n * rate))
            avg = n / k
            cuts = [0]
            for i in range(1, k):
                cut = round(i * avg + (u() - 0.5) * 0.6 * avg)
                cuts.append(min(max(cut, cuts[-1] + 1), n - (k - i)))
            cuts.append(n)
            town_groups = [town.villages[a:b] for a, b in itertools.pairwise(cuts)]
            breaches = []
            for j, group in enumerate(town_groups):
                r = u()
                breach = ""
                if r < PINGYUAN_BREACH_RATE * 0.35:
                    breach = "single"
                elif r < PINGYUAN_BREACH_RATE * 0.7:
                    breach = "no_enterprise"
                elif r < PINGYUAN_BREACH_RATE:
                    breach = "meetings"
                if breach == "single" and len(group) >= 2 and len(town_groups) > 1:
                    # The rest of the group joins the neighbouring body of the town.
                    other = town_groups[j + 1] if j + 1 < len(town_groups) else town_groups[j - 1]
                    other.extend(group[1:])
                    other.sort(key=lambda v: v.code)
                    del group[1:]
                elif breach == "single":
                    breach = "meetings"
                breaches.append(breach)
            for group, breach in zip(town_groups, breaches, strict=True):
                if group:
                    groups.append((town, group, breach))
        scores = sorted(
            ((-len(g) * (0.7 + 0.6 * u()), i) for i, (_, g, _) in enumerate(groups)),
        )
        brand = {i for _, i in scores[: round(len(groups) * PINGYUAN_BRAND_SHARE)]}
        ids = [f"gen:org:{self.code}-lht{i + 1:03d}" for i in range(len(groups))]
        by_town: dict[str, list[str]] = defaultdict(list)
        for (town, _, _), body_id in zip(groups, ids, strict=True):
            by_town[town.code].append(body_id)
        moves: dict[str, list[tuple[str, int]]] = {}
        founded_by_body: dict[str, int] = {}
        meetings_by_body: dict[str, float] = {}
        for i, ((town, group, breach), body_id) in enumerate(zip(groups, ids, strict=True)):
            is_brand = i in brand
            lead = max(group, key=lambda v: v.income)
            industry = lead.industry
            name = self.joint_name(town, group, lead)
            founded = self.founding(dt.date(2019, 1, 1).toordinal())
            meetings = 12.0 if breach != "meetings" else float(_pick(u, (2, 4, 6)))
            attrs: dict[str, Any] = {
                "brand": is_brand,
                "linkage_model": _pick(u, _PINGYUAN_MODELS),
                "meetings_per_year": meetings,
                "charter_signed": is_brand or u() < 0.85,
                "talents_returned_per_year": (
                    10 + int(_lognormal(u, 4, 0.8)) if u() >= 0.05 else 3 + int(u() * 7)
                ),
                "college_graduates": 1 + int(u() * 4) if u() >= 0.04 else 0,
                "party_members": sum(v.attributes["party_members"] for v in group),
                "activities": _sample(u, _ACTIVITIES, 2 + int(u() * 3)),
            }
            if u() < 0.5:
                attrs["projects"] = _sample(u, _PROJECTS, 1 + int(u() * 2))
            self.body(
                body_id,
                "党建联合体",
                name,
                town.code,
                town.committee,
                industry,
                attrs,
                founded,
                aliases=(f"{town.name}{name}",),
            )
            founded_by_body[body_id] = founded
            meetings_by_body[body_id] = meetings
            members = [v for v in group if v is lead or u() >= PINGYUAN_UNCOVERED_RATE]
            for v in group:
                v.key = v.key or is_brand
            self.village_members(
                body_id, members, founded, meetings, lead, 0.8, moves, by_town[town.code]
            )
            if breach != "no_enterprise":
                chosen: list[_Firm] = []
                r = u()
                for _ in range(1 if r < 0.7 else (2 if r < 0.95 else 3)):
                    firm = self.choose_firm(
                        [f for f in self.firms if f not in chosen], industry, town
                    )
                    if firm is not None:
                        chosen.append(firm)
                self.firm_members(body_id, chosen, founded, meetings)
                if chosen and u() < 0.3:
                    self.supply(body_id, industry, town, _lognormal(u, 2000, 0.8))
                led = [v.coop for v in group if v.coop is not None]
                if led and u() < 0.3:
                    self.membership(_pick(u, led), body_id, "member", founded, meetings)
            if u() < 0.15 and self.departments:
                inst = _pick(u, [*self.departments, self.bank])
                self.membership(inst, body_id, "member", founded, meetings, income=False)
        for body_id, moved in moves.items():
            for actor, start in moved:
                begin = max(start, founded_by_body[body_id])
                self.membership(actor, body_id, "member", begin, meetings_by_body[body_id])

    def joint_name(self, town: _Town, group: Sequence[_Village], lead: _Village) -> str:
        u = self.u
        stems = [_stem(v.name) for v in group]
        r = u()
        if r < 0.45 and len(group) >= 3:
            name = "".join(s[0] for s in stems[:3]) + "党建联合体"
        elif r < 0.75:
            name = f"{_stem(lead.name)}区域党建联合体"
        else:
            name = f"{_pick(u, _SLOGANS)}{town.short}党建联合体"
        return self.unique(name, f"{town.short}{name}", f"{town.name}{name}")

    def pingliang(self) -> None:
        """联建 party organizations, 产业链党委 with their firms, 百企帮百村."""
        u = self.u
        n_villages = len(self.villages)
        # 联建 organizations: 2–6 neighbouring village organizations of a town.
        free = {v.id for v in self.villages}
        target = round(n_villages * PINGLIANG_LIANJIAN_PER_VILLAGE * (0.85 + 0.3 * u()))
        made = 0
        for _attempt in range(target * 4):
            if made >= target:
                break
            size = (2, 2, 2, 3, 3, 3, 4, 4, 5, 6)[int(u() * 10)]
            town = self.villages[int(u() * n_villages)].town
            start = int(u() * len(town.villages))
            group = [v for v in town.villages[start:] if v.id in free][:size]
            if len(group) < 2:
                continue
            made += 1
            for v in group:
                free.discard(v.id)
            self.lianjian_body(town, group, made)
        # 产业链党委 with ≈17 firms each, ≈7 of them with a party organization.
        chains = max(1, round(n_villages * PINGLIANG_CHAINS_PER_VILLAGE * (0.85 + 0.3 * u())))
        named: set[int] = set()
        for c in range(chains):
            industry = self.industries[c % len(self.industries)]
            ind = INDUSTRIES[industry]
            body_id = f"gen:org:{self.code}-cyl{c + 1:02d}"
            if industry not in named:
                named.add(industry)
                name = self.unique(f"{self.name}{ind.name}产业链党委")
                region_code, superior = self.code, self.committee
            else:
                town = self.random_town()
                name = self.unique(f"{town.name}{ind.name}产业链联合党委")
                region_code, superior = town.code, self.committee
            founded = self.founding(dt.date(2020, 1, 1).toordinal())
            r = u()
            meetings = 4.0 if r < 0.5 else (12.0 if r < 0.8 else 2.0)
            attrs = {
                "brand": False,
                "linkage_model": "产业链接型" if u() < 0.6 else "龙头带动型",
                "meetings_per_year": meetings,
                "charter_signed": u() < 0.8,
                "activities": _sample(u, _ACTIVITIES, 2 + int(u() * 3)),
            }
            self.body(
                body_id,
                "产业链党委",
                name,
                region_code,
                superior,
                industry,
                attrs,
                founded,
                aliases=(f"{ind.name}产业链党委",),
            )
            n_firms = max(5, round(PINGLIANG_FIRMS_PER_CHAIN * (0.6 + 0.8 * u())))
            firms = [self.new_firm(industry, self.random_town(), chain_leader=True)]
            for _ in range(n_firms - 1):
                firm_industry = industry if u() < 0.85 else _index(u, _industry_cum(self.group))
                firms.append(self.new_firm(firm_industry, self.random_town()))
            self.membership(firms[0].id, body_id, "lead", founded, meetings)
            self.firm_members(body_id, firms[1:], founded, meetings)
            for firm in firms:
                if u() < PINGLIANG_PARTY_ORG_SHARE:
                    org = self.firm_party_org(firm, body_id)
                    if u() < PINGLIANG_BANK_PAIRING:
                        self.out.link(
                            "CO_BUILDS",
                            self.bank,
                            org,
                            {"activities": ["金融结对"], "agreement_signed": True},
                            _day(self.founding(founded, _HORIZON - 30)),
                        )
            for firm in firms[1:]:
                if u() < 0.3:
                    attrs2 = self.substance(income=False)
                    attrs2["products"] = _sample(u, INDUSTRIES[firm.industry].products, 1)
                    self.out.link("SUPPLIES", firm.id, firms[0].id, attrs2)
            same = [c for c in self.coops if c.industry == industry]
            for coop in _sample(u, same, int(u() * 4)):
                self.membership(coop.id, body_id, "member", founded, meetings)
        self.baiqi()

    def lianjian_body(self, town: _Town, group: list[_Village], number: int) -> None:
        u = self.u
        stems = [_stem(v.name) for v in group]
        if len(group) == 2:
            base = "".join(stems)
            kind = ("联合党支部", "联合党总支", "联合党委")[_index(u, (0.3, 0.8, 1.0))]
        else:
            base = "".join(s[0] for s in stems)
            kind = "联合党委" if len(group) >= 4 and u() < 0.6 else "联合党总支"
        name = self.unique(f"{base}{kind}", f"{town.short}{base}{kind}")
        if any(v.community for v in group):
            model = "社区共建型"
        else:
            model = _PINGLIANG_MODELS[_index(u, _PINGLIANG_MODEL_CUM)]
        lead_village = max(group, key=lambda v: v.income)
        r = u()
        meetings = 12.0 if r < 0.6 else (4.0 if r < 0.9 else 2.0)
        founded = self.founding(dt.date(2019, 1, 1).toordinal())
        body_id = f"gen:org:{self.code}-lj{number:03d}"
        attrs = {
            "brand": False,
            "linkage_model": model,
            "meetings_per_year": meetings,
            "charter_signed": u() < 0.8,
            "party_members": sum(v.attributes["party_members"] for v in group),
            "activities": _sample(u, _ACTIVITIES[:4], 2 + int(u() * 3)),
        }
        if u() < 0.4:
            attrs["projects"] = _sample(u, _PROJECTS, 1 + int(u() * 2))
        self.body(
            body_id, kind, name, town.code, town.committee, lead_village.industry, attrs, founded
        )
        firm = None
        if model in ("龙头带动型", "产业链接型") or u() < 0.4:
            firm = self.choose_firm(self.firms, lead_village.industry, town)
        firm_leads = firm is not None and model == "龙头带动型"
        self.village_members(
            body_id, group, founded, meetings, None if firm_leads else lead_village, 0.95
        )
        if firm is not None:
            role = "lead" if firm_leads else "member"
            self.membership(firm.id, body_id, role, founded, meetings)

    def baiqi(self) -> None:
        """百企帮百村: each enterprise helps one weak village (latent preference)."""
        u = self.u
        pairs = round(len(self.villages) * PINGLIANG_BAIQI_PER_VILLAGE * (0.85 + 0.3 * u()))
        weak = sorted(
            (v for v in self.villages if v.weak), key=lambda v: v.income * (0.8 + 0.4 * u())
        )
        if not weak or not pairs:
            return
        self.out.link("PART_OF_PROGRAM", self.region, _PROGRAM_BAIQI)
        companies = [f for f in self.firms if f.kind in ("公司", "集团")]
        for v in weak[:pairs]:
            firm = self.choose_firm(companies, v.industry, v.town, fresh=True)
            if firm is None:
                break
            firm.used = True
            attrs = self.substance(meetings=4.0)
            attrs["program"] = _PROGRAM_BAIQI
            attrs["investment_yuan"] = _round_money(
                _lognormal(u, BAIQI_INVESTMENT_PER_PAIR_YUAN, 0.6)
            )
            start = self.founding(dt.date(2020, 1, 1).toordinal())
            self.out.link("PAIRS_WITH", firm.id, v.id, attrs, _day(start))
            self.out.link("PART_OF_PROGRAM", firm.id, _PROGRAM_BAIQI, None, _day(start))

    def kaiyuan(self, city_institutions: list[tuple[str, str]]) -> None:
        """A few large 产业联合党委, each over neighbouring towns of one industry."""
        u = self.u
        n = max(1, round(len(self.villages) * KAIYUAN_BODIES_PER_VILLAGE * (0.8 + 0.4 * u())))
        n = min(n, len(self.towns))
        per = len(self.towns) / n
        universities = [i for i, kind in city_institutions if kind == "高校"]
        organisation_dept = self.departments[0]
        for b in range(n):
            towns = self.towns[round(b * per) : round((b + 1) * per)]
            counts: dict[int, int] = defaultdict(int)
            for town in towns:
                for v in town.villages:
                    counts[v.industry] += 1
            industry = max(counts, key=lambda i: (counts[i], -i))
            ind = INDUSTRIES[industry]
            if len(towns) == 1:
                name = f"{towns[0].name}{ind.name}产业联合党委"
                region_code, superior = towns[0].code, towns[0].committee
            elif len(towns) == 2:
                name = f"{towns[0].name}和{towns[1].name}{ind.name}产业联合党委"
                region_code, superior = self.code, self.committee
            else:
                name = f"{self.name}{_DIRECTIONS[b % len(_DIRECTIONS)]}片区{ind.name}产业联合党委"
                region_code, superior = self.code, self.committee
            name = self.unique(name)
            body_id = f"gen:org:{self.code}-cylh{b + 1:02d}"
            founded = self.founding(
                dt.date(2021, 6, 1).toordinal(), dt.date(2022, 12, 31).toordinal()
            )
            attrs = {
                "brand": False,
                "linkage_model": "产业抱团型" if u() < 0.5 else "产业带动型",
                "meetings_per_year": 12.0,
                "charter_signed": True,
                "activities": [
                    "联席会议",
                    "协调联动",
                    "调研考察",
                    "跟踪评估",
                    "统购统销",
                    "助销行动",
                ],
            }
            self.body(
                body_id,
                "产业联合党委",
                name,
                region_code,
                superior,
                industry,
                attrs,
                founded,
                aliases=(f"{ind.name}产业联合党委",),
            )
            candidates = [v for town in towns for v in town.villages]
            lead = max(candidates, key=lambda v: v.income)
            members = [v for v in candidates if v is lead or u() < 0.9]
            self.village_members(body_id, members, founded, 12.0, lead, 0.95)
            firms = [f for f in self.firms if f.industry == industry]
            self.firm_members(body_id, _sample(u, firms, 1 + int(u() * 3)), founded, 12.0)
            coops = [c for c in self.coops if c.industry == industry]
            for coop in _sample(u, coops, int(u() * 4)):
                self.membership(coop.id, body_id, "member", founded, 12.0)
            self.out.link(
                "DISPATCHES",
                organisation_dept,
                body_id,
                {
                    "role": "列席联合党委联席会议",
                    "meetings_per_year": 1.0,
                    "activities": ["品种选择", "生产准备", "渠道对接"],
                },
                _day(founded),
            )
            if universities and u() < 0.5:
                attrs2 = self.substance(income=False)
                attrs2.update(role="专家", people=1 + int(u() * 3))
                self.out.link("DISPATCHES", universities[0], body_id, attrs2, _day(founded))

    # -------------------------------------------------------------- other links

    def co_builds(self) -> None:
        out, u = self.out, self.u
        start = dt.date(2019, 1, 1).toordinal()
        for town in self.towns:
            vs = town.villages
            for a, b in itertools.pairwise(vs):
                if u() < 0.12:
                    attrs = self.substance(meetings=4.0)
                    attrs["linkage_model"] = "毗邻协作型"
                    out.link("CO_BUILDS", a.org, b.org, attrs, _day(self.founding(start)))
            rural = [v for v in vs if not v.community]
            for v in vs:
                if v.community and rural and u() < 0.5:
                    other = _pick(u, rural)
                    attrs = self.substance(meetings=4.0)
                    attrs["linkage_model"] = "社区共建型"
                    out.link("CO_BUILDS", v.org, other.org, attrs, _day(self.founding(start)))
        for firm in self.firms:
            if firm.town is not None and u() < 0.2:
                v = _pick(u, firm.town.villages)
                attrs = self.substance(meetings=4.0)
                attrs["linkage_model"] = "村企共建型"
                source = firm.party_org or firm.id
                out.link("CO_BUILDS", source, v.org, attrs, _day(self.founding(start)))

    def pair_villages(self) -> None:
        """以强带弱: strong villages help weak ones, chosen by the latent preference."""
        u = self.u
        incomes = sorted(v.income for v in self.villages)
        threshold = incomes[int(len(incomes) * 0.8)]
        strong = [v for v in self.villages if v.income >= threshold and not v.weak]
        if not strong:
            return
        reference = max(threshold, 1.0)
        for w in self.villages:
            if not w.weak or u() >= 0.5:
                continue
            best: _Village | None = None
            best_score = -math.inf
            for h in strong:
                if h.helped >= 2:
                    continue
                score = 0.6 * math.log(max(h.income, 1.0) / reference) - 0.5 * h.helped
                if h.industry == w.industry:
                    score += 1.0
                if h.town is w.town:
                    score += 1.5
                score += 0.7 * _gumbel(u)
                if score > best_score:
                    best, best_score = h, score
            if best is None:
                break
            best.helped += 1
            attrs = self.substance(meetings=4.0)
            start = self.founding(dt.date(2019, 1, 1).toordinal())
            end = None
            if u() < MEMBERSHIP_END_RATE:
                end = _day(start + 180 + int(u() * (_HORIZON - start - 200)))
            self.out.link("PAIRS_WITH", best.id, w.id, attrs, _day(start), end)

    def dispatch(self, city_institutions: list[tuple[str, str]]) -> None:
        u = self.u
        start = dt.date(2021, 1, 1).toordinal()
        for v in self.villages:
            if not v.weak:
                continue
            if u() < 0.5:
                sender = self.departments[0] if u() < 0.4 else _pick(u, self.departments)
                first_secretary = u() < 0.6
                attrs: dict[str, Any] = {
                    "role": "第一书记" if first_secretary else "驻村干部",
                    "people": 1 if first_secretary else 2 + int(u() * 2),
                }
                if u() < 0.5:
                    attrs["activities"] = _sample(u, _ACTIVITIES, 1 + int(u() * 2))
                began = self.founding(start)
                ended = None
                if u() < MEMBERSHIP_END_RATE:
                    ended = _day(min(began + 730, _HORIZON))
                self.out.link("DISPATCHES", sender, v.id, attrs, _day(began), ended)
            if city_institutions and u() < 0.06:
                inst, _ = _pick(u, city_institutions)
                attrs = self.substance(meetings=4.0)
                attrs["role"] = "专家" if u() < 0.6 else "驻村干部"
                attrs["people"] = 1 + int(u() * 3)
                self.out.link("DISPATCHES", inst, v.id, attrs, _day(self.founding(start)))

    def finance(self) -> None:
        u = self.u
        start = dt.date(2019, 1, 1).toordinal()
        borrowers = [(f.id, 3_000_000.0, 0.35) for f in self.firms]
        borrowers += [(c.id, 300_000.0, 0.15) for c in self.coops]
        borrowers += [(v.id, 500_000.0, 0.04) for v in self.villages]
        for borrower, median, p in borrowers:
            if u() >= p:
                continue
            bank = self.banks[0] if u() < 0.75 else _pick(u, self.banks)
            attrs: dict[str, Any] = {"loan_yuan": _round_money(_lognormal(u, median, 0.9))}
            if u() < 0.4:
                attrs["program"] = _PROGRAM_CREDIT
            if u() < 0.5:
                attrs["agreement_signed"] = True
            self.out.link("FINANCES", bank, borrower, attrs, _day(self.founding(start)))

    def enriched_villages(self) -> None:
        source = self.out.src()[0]
        for v in self.villages:
            doc = dict(v.doc)
            attrs = v.attributes
            attrs["weak"] = v.weak
            attrs["key_village"] = v.key
            given = doc.get("attributes") or {}
            attrs.update(given)
            doc["attributes"] = attrs
            doc["aliases"] = list(doc.get("aliases") or [])
            doc["figures"] = list(doc.get("figures") or [])
            sources = list(doc.get("sources") or [])
            if source not in sources:
                sources.append(source)
            doc["sources"] = sources
            self.out.nodes.append(doc)

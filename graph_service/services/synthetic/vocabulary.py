"""What generated networks are made of: industries, province groups, programs, name words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["INDUSTRIES", "Industry", "industry_cumulative"]


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

#: Province code -> the group industry weights are regional by (see :attr:`Industry.regional`).
PROVINCE_GROUP: Final[dict[str, str]] = {
    **dict.fromkeys(("21", "22", "23"), "ne"),
    **dict.fromkeys(("11", "12", "13", "14", "15", "37", "41"), "n"),
    **dict.fromkeys(("61", "62", "63", "64", "65"), "nw"),
    **dict.fromkeys(("31", "32", "33", "34", "35", "36"), "e"),
    **dict.fromkeys(("42", "43"), "c"),
    **dict.fromkeys(("44", "45", "46"), "s"),
    **dict.fromkeys(("50", "51", "52", "53", "54"), "sw"),
}

#: The national programs every generated network holds.
PROGRAM_BAIQI: Final = "gen:prog:baiqi-bangbaicun"
PROGRAM_CREDIT: Final = "gen:prog:dangjian-xindai"

#: Words names are made of: firm name characters (字号), forms, slogans, activities …
ZIHAO: Final = "丰禾鑫源裕兴盛华康瑞祥泰润绿金宏福汇德信恒嘉和益安富聚天新诚顺达锦旺百万佳利隆昌"
COMPANY_FORMS: Final = ("有限公司", "有限责任公司", "科技有限公司", "开发有限公司")
SLOGANS: Final = (
    "红链兴农", "富美", "红满仓", "甜上甜", "共富", "聚力", "同心", "金穗", "兴农", "红耀",
    "振兴", "丰收", "沃野", "红心", "惠民", "红润", "乡韵", "福满", "红石榴", "连心",
)  # fmt: skip
DIRECTIONS: Final = ("东部", "西部", "南部", "北部", "中部", "东北", "西南", "东南", "西北")
ACTIVITIES: Final = (
    "组织生活同开展", "党建资源同分享", "党建经验同交流", "联席会议", "产业共谋", "技术培训",
    "统购统销", "助销行动", "志愿服务", "人才回引", "土地流转", "农机服务", "用工对接",
    "主题党日", "擂台比武",
)  # fmt: skip
RESOURCES: Final = (
    "土地", "劳动力", "技术指导", "资金", "销售渠道", "冷链仓储", "农机服务", "党员志愿者",
    "品牌", "订单", "党群服务中心", "电商平台", "用工岗位",
)  # fmt: skip
PROJECTS: Final = (
    "秸秆综合利用项目", "高标准农田建设", "冷库建设", "特色产业园", "电商服务站",
    "乡村振兴示范片", "人居环境整治", "“吨半粮”创建", "农产品交易中心",
)  # fmt: skip
VILLAGE_NEEDS: Final = ("产业项目", "技术指导", "销售渠道", "资金支持", "人才", "基础设施")
VILLAGE_RESOURCES: Final = ("土地资源", "劳动力", "合作社", "冷库", "电商平台", "特色产品")
PINGYUAN_MODELS: Final = (
    "产业驱动型", "以强带弱型", "村企共建型", "样板示范共建型", "资源循环型", "产业抱团型",
    "产业带动型", "村落建设型",
)  # fmt: skip
PINGLIANG_MODELS: Final = (
    "毗邻协作型", "结对帮促型", "龙头带动型", "产业链接型", "飞地抱团型", "项目牵引型",
)  # fmt: skip
PINGLIANG_MODEL_CUMULATIVE: Final = (0.35, 0.50, 0.65, 0.80, 0.90, 1.0)
#: County departments: (id suffix, name after the county, alias after the level, kind, p).
DEPARTMENTS: Final = (
    ("zzb", "委组织部", "委组织部", "政府部门", 1.0),
    ("nyncj", "农业农村局", "农业农村局", "政府部门", 1.0),
    ("xczxj", "乡村振兴局", "乡村振兴局", "政府部门", 0.6),
    ("gxj", "工业和信息化局", "工信局", "政府部门", 0.5),
    ("swj", "商务局", "商务局", "政府部门", 0.4),
    ("gxs", "供销合作社联合社", "供销社", "事业单位", 0.3),
)

_INDUSTRY_CUMULATIVE_BY_GROUP: dict[str, tuple[float, ...]] = {}


def industry_cumulative(group: str) -> tuple[float, ...]:
    """Cumulative weights of :data:`INDUSTRIES` in province group ``group`` (cached)."""
    cum = _INDUSTRY_CUMULATIVE_BY_GROUP.get(group)
    if cum is None:
        total, values = 0.0, []
        for ind in INDUSTRIES:
            total += ind.weight * dict(ind.regional).get(group, 1.0)
            values.append(total)
        cum = _INDUSTRY_CUMULATIVE_BY_GROUP[group] = tuple(values)
    return cum

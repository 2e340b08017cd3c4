"""Extraction-specific patterns: how names are cut out of running text.

The domain's vocabulary (organisation suffixes, link phrases) lives in
:mod:`graph_service.vocabulary`; this module only adds what segmenting articles needs:
where a name can begin (boundary words), which stems are generic (各村, 该村, 全县), the
heads that make a quoted phrase a program, the titles that precede a person's name.
"""

from __future__ import annotations

from typing import Final

from graph_service.vocabulary import LINK_PHRASES, ORGANISATION_SUFFIXES, REGION_SUFFIXES

__all__ = [
    "BOUNDARY_WORDS",
    "FUNCTION_CHARS",
    "GENERIC_STEMS",
    "INDUSTRY_MODIFIERS",
    "PRODUCTS",
    "PRODUCT_FRAMES_AFTER",
    "PRODUCT_FRAMES_BEFORE",
    "PROGRAM_HEADS",
    "PROGRAM_VERBS",
    "STOP_TAGS",
    "SUFFIXES",
    "SURNAMES",
    "TITLES",
    "SuffixRule",
]

#: (suffix, label, kind, family) — family as in vocabulary.ORGANISATION_SUFFIXES, plus
#: ``region``.
SuffixRule = tuple[str, str, str | None, str]


def _party_kind(suffix: str) -> str:
    for head, kind in (("党总支", "党总支"), ("党支部", "党支部"), ("党工委", "党工委")):
        if suffix.startswith(head):
            return kind
    return "党组" if suffix == "党组" else "党委"


_JOINT_KINDS: Final[dict[str, str]] = {
    "产业链联合党委": "产业链党委",
    "产业联合党委": "产业联合党委",
    "产业链党委": "产业链党委",
    "联合党总支": "联合党总支",
    "联合党支部": "联合党支部",
    "联合党委": "联合党委",
    "党建联合体": "党建联合体",
    "党建联盟": "党建联盟",
    "联合体": "党建联合体",
}


def _institution_kind(suffix: str) -> str:
    if suffix in ("管理委员会", "管委会"):
        return "园区管委会"
    if suffix in ("科学院", "研究院", "研究所", "农科院"):
        return "科研院所"
    if suffix in ("大学", "学院"):
        return "高校"
    if "银行" in suffix or "信用" in suffix or suffix in ("支行", "分行"):
        return "金融机构"
    if suffix in ("局", "组织部"):
        return "政府部门"
    return "事业单位"


_REGION_KINDS: Final[dict[str, str | None]] = {
    "特别行政区": "省",
    "自治区": "省",
    "省": "省",
    "自治州": "市",
    "市": None,
    "区": None,
    "自治县": "县",
    "县": "县",
    "旗": "县",
    "街道办事处": "乡镇",
    "街道": "乡镇",
    "镇": "乡镇",
    "乡": "乡镇",
}


def _suffix_rules() -> tuple[SuffixRule, ...]:
    rules: list[SuffixRule] = []
    for family, suffixes in ORGANISATION_SUFFIXES.items():
        for suffix in suffixes:
            if family == "village":
                kind = "社区" if ("社区" in suffix or "居" in suffix) else "行政村"
                rules.append((suffix, "Village", kind, family))
            elif family == "company":
                rules.append((suffix, "Enterprise", "集团" if "集团" in suffix else "公司", family))
            elif family == "cooperative":
                kind = "家庭农场" if suffix == "家庭农场" else "合作社"
                rules.append((suffix, "Enterprise", kind, family))
            elif family == "joint_body":
                rules.append((suffix, "PartyOrganization", _JOINT_KINDS.get(suffix), family))
            elif family == "party":
                rules.append((suffix, "PartyOrganization", _party_kind(suffix), family))
            elif family == "institution":
                rules.append((suffix, "Institution", _institution_kind(suffix), family))
    # Extraction-specific forms: a village's or company's 党组织 is its branch; a party
    # committee's 组织部 (县委组织部) is a government department; 农科院 is an institute.
    rules.append(("党组织", "PartyOrganization", "党支部", "party"))
    rules.append(("组织部", "Institution", "政府部门", "institution"))
    rules.append(("农科院", "Institution", "科研院所", "institution"))
    for suffix in REGION_SUFFIXES:
        rules.append((suffix, "Region", _REGION_KINDS.get(suffix), "region"))
    return tuple(sorted(rules, key=lambda rule: -len(rule[0])))


SUFFIXES: Final[tuple[SuffixRule, ...]] = _suffix_rules()

#: Words after which a name begins: verbs and prepositions that introduce an
#: organisation in reports, and every link phrase of the vocabulary.
BOUNDARY_WORDS: Final[frozenset[str]] = frozenset(
    {
        "成立",
        "组建",
        "建立",
        "设立",
        "联系",
        "对接",
        "依托",
        "打造",
        "推动",
        "引导",
        "协调",
        "邀请",
        "列席",
        "出席",
        "参加",
        "带领",
        "组织",
        "开展",
        "实施",
        "推行",
        "发挥",
        "培育",
        "选派",
        "吸纳",
        "引进",
        "支持",
        "服务",
        "建设",
        "扶持",
        "签订",
        "签约",
        "入驻",
        "整合",
        "集结",
        "结合",
        "立足",
        "推进",
        "获得",
        "提供",
        "发放",
        "帮助",
        "带动",
        "牵头",
        "负责",
        "指导",
        "会同",
        "通过",
        "围绕",
        "借助",
        "参与",
        "接受",
        "介绍",
        "表示",
        "告诉",
        "拥有",
        "包括",
        "涉及",
        "覆盖",
        "以及",
        "还有",
        "其中",
        "作为",
        "属于",
        "来自",
        "位于",
        "走进",
        "前往",
        "赴",
        "到",
        "经",
        "由",
        "向",
        "与",
        "和",
        "及",
        "同",
        "跟",
        "把",
        "将",
        "被",
        "让",
        "使",
        "给",
        "为",
        "对",
        "在",
        "从",
        "以",
        "于",
        "是",
        "有",
        "等",
        "了",
        "的",
        "地",
        "得",
        "并",
        "及其",
        "或",
        "也",
        "都",
        "还",
        "共同",
        "积极",
        "主动",
        "先后",
        "分别",
        "直接",
        "全面",
        "充分",
        "大力",
        "持续",
        "共有",
        "下辖",
        "构成",
        "组成",
        "发展",
        "加入",
        "纳入",
        "培树",
        "创建",
        "联合",
        "推出",
        "启动",
        "发布",
        "举办",
        "召开",
        "即",
        "像",
        "如",
        "今年",
        "去年",
        "目前",
        "同时",
        "此外",
        "近年来",
        "截至",
        "记者",
        "通讯员",
        "报道",
        "讯",
        *(phrase for phrases in LINK_PHRASES.values() for phrase in phrases),
    }
)

#: Single characters that cannot start a name when they begin a stem (由久润 → 久润).
FUNCTION_CHARS: Final[frozenset[str]] = frozenset(
    "由和与及以在为对向将把从经被的了是有等并或让使给于赴到即像如"
)

#: Part-of-speech tags that end a name going leftwards.
STOP_TAGS: Final[frozenset[str]] = frozenset(
    {
        "p",
        "c",
        "u",
        "uj",
        "ul",
        "uv",
        "uz",
        "ud",
        "ug",
        "r",
        "rr",
        "rz",
        "d",
        "m",
        "mq",
        "q",
        "y",
        "e",
        "o",
        "ad",
        "x",
        "w",
        "t",
        "f",
        "zg",
    }
)

#: Stems that do not name anything: 各村, 该村, 全县, 重点村, 成员村, 党群服务中心 …
GENERIC_STEMS: Final[frozenset[str]] = frozenset(
    {
        "各",
        "该",
        "本",
        "全",
        "每",
        "此",
        "这",
        "那",
        "其",
        "某",
        "我",
        "你",
        "他",
        "其他",
        "各个",
        "所有",
        "行政",
        "重点",
        "薄弱",
        "中心",
        "成员",
        "联建",
        "示范",
        "先进",
        "脱贫",
        "贫困",
        "试点",
        "相关",
        "有关",
        "周边",
        "当地",
        "邻近",
        "周围",
        "兄弟",
        "结对",
        "帮扶",
        "省级",
        "市级",
        "县级",
        "乡级",
        "镇级",
        "村级",
        "乡镇",
        "基层",
        "农村",
        "城市",
        "城区",
        "社区",
        "村",
        "镇",
        "乡",
        "县",
        "市",
        "区",
        "省",
        "支部",
        "企业",
        "公司",
        "合作社",
        "龙头",
        "链主",
        "专业",
        "物业",
        "建筑",
        "农机",
        "药材",
        "集体",
        "村集体",
        "党群",
        "党群服务",
        "综合服务",
        "便民服务",
        "为民服务",
        "服务",
        "工作",
        "专家工作",
        "人才",
        "人才服务",
        "文化",
        "活动",
        "跨村",
        "联村",
        "全村",
        "全镇",
        "全县",
        "全市",
        "全省",
        "全区",
        "各村",
        "该村",
        "本村",
        "各镇",
        "各乡镇",
        "一",
        "两",
        "三",
        "四",
        "五",
        "六",
        "七",
        "八",
        "九",
        "十",
        "中间",
        "农民",
        "农户",
        "种植",
        "养殖",
        "发展",
        "产业",
        "产业链",
        "行业",
        "区域",
        "片区",
        "园区",
        "小区",
        "住宅",
        "党建",
        "联盟",
        "联合",
        "新",
        "大",
        "小",
        "老",
        "两新",
        "非公",
        "国有",
        "民营",
        "保供",
        "中小微",
        "龙头企业",
        "链主企业",
        "主办",
        "金融",
        "商业",
        "地方",
        "上级",
        "下级",
        "同级",
        "市县",
        "县乡",
        "乡村",
        "城乡",
        "镇村",
        "村居",
        "村组",
        "中心村",
        "居民",
        "业主",
        "销售",
        "交易",
        "技术",
        "研发",
        "创新",
        "电商",
        "信息",
        "经济",
        "农业",
        "农产品",
        "工业",
        "政府",
        "财政",
        "教育",
        "卫生",
        "党委",
        "镇党委",
        "县委",
        "市委",
        "区委",
        "乡党委",
        "村党组织",
        "临时",
        "功能",
        "联合体",
        "品牌",
        "农村区域",
        "区域性",
        "联建村",
        "融媒体",
        "新格局",
        "工作格局",
    }
)

#: Modifiers before 产业 that are not the industry's name (特色优势产业, 重点产业).
INDUSTRY_MODIFIERS: Final[frozenset[str]] = frozenset(
    {
        "特色",
        "优势",
        "重点",
        "主导",
        "支柱",
        "富民",
        "百亿",
        "新兴",
        "关联",
        "上下游",
        "相关",
        "集体",
        "地方",
        "传统",
        "优势特色",
        "特色优势",
        "一大",
        "九大",
        "大",
        "现代",
        "新",
        "首位",
        "这",
        "该",
        "各",
        "全",
        "适度",
        "规模",
        "绿色",
        "乡村振兴",
        "衔接",
        "配套",
        "下游",
        "上游",
        "主要",
        "各类",
        "农业产业化",
    }
)

#: Farm and rural products: the nouns reports on rural industries name an industry by
#: (发展苹果产业, 香菇种植, 收购西瓜). A general lexicon of the sector, not a list of names.
PRODUCTS: Final[frozenset[str]] = frozenset(
    {
        # fruit
        "苹果", "梨", "梨果", "桃", "葡萄", "草莓", "樱桃", "西瓜", "甜瓜", "香瓜", "哈密瓜",
        "猕猴桃", "柑橘", "橙子", "脐橙", "柚子", "荔枝", "龙眼", "芒果", "香蕉", "菠萝",
        "石榴", "柿子", "杏", "李子", "枣", "红枣", "冬枣", "蓝莓", "火龙果", "枸杞", "山楂",
        "核桃", "板栗", "榛子", "花椒", "水果", "鲜果", "果蔬", "鸡心果",
        # vegetables and grain
        "蔬菜", "设施蔬菜", "大棚蔬菜", "西红柿", "番茄", "黄瓜", "辣椒", "茄子", "白菜",
        "大白菜", "甘蓝", "萝卜", "胡萝卜", "土豆", "马铃薯", "红薯", "山药", "大蒜", "大葱",
        "生姜", "韭菜", "芦笋", "莲藕", "食用菌", "香菇", "蘑菇", "平菇", "木耳", "黑木耳",
        "灵芝", "羊肚菌", "粮食", "小麦", "玉米", "糯玉米", "甜玉米", "水果玉米", "水稻",
        "稻米", "大米", "大豆", "谷子", "小米", "高粱", "荞麦", "杂粮", "油菜", "花生",
        "芝麻", "棉花", "茶叶", "茶", "烟叶", "中药材", "药材", "黄芪", "党参", "当归",
        "人参", "金银花", "花卉", "鲜切花", "康乃馨", "玫瑰", "苗木", "林果", "林下经济",
        # animals and aquatic
        "畜牧", "生猪", "肉牛", "黑牛", "奶牛", "牛", "羊", "肉羊", "湖羊", "滩羊", "肉鸡",
        "蛋鸡", "鸡", "鸭", "鹅", "兔", "蜜蜂", "蜂蜜", "水产", "鱼", "虾", "龙虾", "小龙虾",
        "河蟹", "螃蟹", "海参", "蚕桑",
        # processing and services common in rural reports
        "啤酒", "白酒", "葡萄酒", "乳制品", "淀粉", "宫灯", "刺绣", "琉璃", "陶瓷", "家具",
        "乡村旅游", "农家乐", "民宿", "文旅", "文化旅游", "电商", "电子商务", "物流",
        "冷链物流", "光伏", "物业服务",
    }
)  # fmt: skip

#: Words after a product that make it an industry (苹果种植, 香菇大棚, 西瓜基地).
PRODUCT_FRAMES_AFTER: Final[tuple[str, ...]] = (
    "订单种植",
    "特色种植",
    "种植",
    "养殖",
    "育种",
    "栽培",
    "加工",
    "大棚",
    "基地",
    "产业园",
    "园区",
    "果园",
    "销售",
    "产销",
    "经济",
)

#: Words before a product that make it an industry (发展苹果, 收购西瓜, 种植香菇).
PRODUCT_FRAMES_BEFORE: Final[tuple[str, ...]] = (
    "发展",
    "种植",
    "养殖",
    "收购",
    "销售",
    "加工",
    "生产",
    "培育",
    "打造",
    "围绕",
)

#: Heads that make a name a program, brand or financial product.
PROGRAM_HEADS: Final[tuple[str, ...]] = (
    "主题实践活动",
    "专项行动",
    "攻坚行动",
    "党建品牌",
    "新品牌",
    "品牌",
    "行动",
    "活动",
    "工程",
    "项目",
    "基金",
    "创建",
    "招募令",
    "金融服务",
    "比武活动",
    "计划",
    "贷",
    "小院",
    "驿站",
    "工作室",
    "推进年",
    "提升年",
    "示范镇",
    "示范村",
)

#: Verbs that introduce a program right before its quoted name (开展“…”).
PROGRAM_VERBS: Final[tuple[str, ...]] = (
    "开展",
    "实施",
    "推出",
    "推行",
    "启动",
    "发布",
    "设立",
    "举办",
    "培树",
    "参与",
)

#: Titles written before a person's name (书记曹新民, 董事长张西坤).
TITLES: Final[tuple[str, ...]] = (
    "第一书记",
    "副书记",
    "书记",
    "董事长",
    "总经理",
    "理事长",
    "副主任",
    "主任",
    "负责人",
    "委员",
    "村长",
    "经理",
)

#: Common surnames: a person's name after a title begins with one.
SURNAMES: Final[frozenset[str]] = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章"
    "鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉"
    "骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦"
    "戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄"
    "丛仲虞敖巩明佘池查麻苑迟邝储"
)

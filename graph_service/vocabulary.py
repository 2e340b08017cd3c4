"""The domain's words, in one place: organisation suffixes and the phrases that name links.

Name resolution (:mod:`graph_service.names`), spreadsheet import (:mod:`graph_service.tables`)
and extraction from articles (:mod:`graph_service.extraction`) read these tables; none keeps
a list of its own. Everything here is the vocabulary of the source documents and of county
ledgers (台账), in Chinese.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "LABEL_WORDS",
    "LINK_PHRASES",
    "ORGANISATION_SUFFIXES",
    "REGION_SUFFIXES",
    "SUFFIX_LABELS",
    "label_of_name",
    "link_type_of_phrase",
]

#: Suffix families: the forms one kind of organisation is written in, longest first within
#: a family. Two names that differ only by suffixes of one family name the same thing
#: (某某村 / 某某村委会 / 某某村民委员会; 某某公司 / 某某有限公司 / 某某有限责任公司).
ORGANISATION_SUFFIXES: Final[dict[str, tuple[str, ...]]] = {
    "village": (
        "社区居民委员会",
        "村民委员会",
        "居民委员会",
        "社区居委会",
        "村委会",
        "居委会",
        "社区",
        "村",
    ),
    "company": (
        "集团股份有限公司",
        "集团有限责任公司",
        "集团有限公司",
        "股份有限公司",
        "有限责任公司",
        "有限公司",
        "集团公司",
        "分公司",
        "集团",
        "公司",
        "经营部",
        "商行",
        "厂",
    ),
    "cooperative": (
        "专业合作社联合社",
        "农民专业合作社",
        "专业合作社",
        "股份经济合作社",
        "经济合作社",
        "合作社",
        "合作联社",
        "家庭农场",
    ),
    "joint_body": (
        "产业链联合党委",
        "产业联合党委",
        "产业链党委",
        "联合党总支",
        "联合党支部",
        "联合党委",
        "党建联合体",
        "党建联盟",
        "联合体",
    ),
    "party": (
        "党总支部委员会",
        "党支部委员会",
        "党委员会",
        "党总支",
        "党支部",
        "党工委",
        "党委",
        "党组",
    ),
    "institution": (
        "管理委员会",
        "管委会",
        "科学院",
        "研究院",
        "研究所",
        "大学",
        "学院",
        "农村商业银行",
        "农商银行",
        "信用合作联社",
        "信用社",
        "支行",
        "分行",
        "银行",
        "党群服务中心",
        "服务中心",
        "卫生院",
        "医院",
        "小学",
        "中学",
        "学校",
        "协会",
        "商会",
        "中心",
        "局",
        "站",
    ),
}

#: Region suffixes, longest first (a town's name is written with or without 镇/乡/街道).
REGION_SUFFIXES: Final[tuple[str, ...]] = (
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "街道办事处",
    "街道",
    "省",
    "市",
    "区",
    "县",
    "旗",
    "镇",
    "乡",
)

#: The label a suffix family names (a family may fit several labels: the caller's label wins).
SUFFIX_LABELS: Final[dict[str, str]] = {
    "village": "Village",
    "company": "Enterprise",
    "cooperative": "Enterprise",
    "joint_body": "PartyOrganization",
    "party": "PartyOrganization",
    "institution": "Institution",
}

#: Words a ledger's 单位类型 / 类别 column uses for each label.
LABEL_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "Village": ("村", "行政村", "社区", "村庄", "村委会", "村（社区）", "村(社区)"),
    "Enterprise": (
        "企业",
        "公司",
        "民营企业",
        "国有企业",
        "国企",
        "私营企业",
        "龙头企业",
        "村集体",
        "合作社",
        "家庭农场",
    ),
    "Institution": (
        "机关",
        "单位",
        "机关单位",
        "县直机关",
        "县直部门",
        "事业单位",
        "社会组织",
        "医院",
        "部门",
        "机构",
        "学校",
        "高校",
        "银行",
        "金融机构",
        "科研院所",
    ),
    "PartyOrganization": ("党组织", "党支部", "党委", "党总支", "联合党委", "联合体"),
    "Region": ("乡镇", "镇", "乡", "街道", "县", "区"),
    "Program": ("项目", "行动", "品牌", "金融产品"),
    "Industry": ("产业", "产业链"),
}

#: Phrases naming a link type, in ledgers' 联建类型 columns and in articles' sentences.
#: Order matters within this table: a longer phrase is tried before a shorter one it contains.
LINK_PHRASES: Final[dict[str, tuple[str, ...]]] = {
    "PAIRS_WITH": (
        "百企帮百村",
        "结对帮扶",
        "结对帮促",
        "以强带弱",
        "帮扶",
        "帮促",
        "包村",
    ),
    "CO_BUILDS": (
        "党建联建",
        "结对共建",
        "村企共建",
        "联建共建",
        "支部共建",
        "共建",
        "联建",
        "结对",
        "共同组织",
        "签约",
    ),
    "MEMBER_OF": (
        "加入联合体",
        "加入联盟",
        "成员单位",
        "加入",
        "纳入",
        "下辖",
        "组建",
        "涵盖",
        "吸纳",
        "构成",
        "组成",
    ),
    "LEADS_COOPERATIVE": ("党支部领办", "领办", "创办"),
    "SUPPLIES": (
        "订单种植",
        "订单农业",
        "长期收购",
        "收购合同",
        "订单",
        "收购",
        "供货",
        "供销",
        "对接",
    ),
    "FINANCES": ("金融结对", "红星贷", "发放贷款", "授信", "贷款", "金融支持", "融资"),
    "DISPATCHES": ("选派驻村干部", "选派", "第一书记", "驻村", "专家工作站", "派驻", "派出"),
    "PART_OF_PROGRAM": ("参与行动", "参与"),
}


def _ordered_phrases() -> tuple[tuple[str, str], ...]:
    pairs = [(phrase, kind) for kind, phrases in LINK_PHRASES.items() for phrase in phrases]
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


_PHRASES: Final = _ordered_phrases()


def link_type_of_phrase(text: str) -> str | None:
    """The link type the longest phrase found in ``text`` names (``结对帮扶`` →
    ``PAIRS_WITH``, ``村企共建型`` → ``CO_BUILDS``), or ``None``."""
    for phrase, kind in _PHRASES:
        if phrase in text:
            return kind
    return None


def label_of_name(name: str) -> str | None:
    """The label a name's suffix suggests (``某某有限公司`` → ``Enterprise``), or ``None``."""
    best: tuple[int, str] | None = None
    for family, suffixes in ORGANISATION_SUFFIXES.items():
        for suffix in suffixes:
            if name.endswith(suffix) and (best is None or len(suffix) > best[0]):
                best = (len(suffix), SUFFIX_LABELS[family])
    return best[1] if best else None

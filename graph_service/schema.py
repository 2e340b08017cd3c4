"""The schema registry: the one list of node labels, link types and their attributes.

Everything that needs to know which kinds of things exist reads this module: request
validation (``graph_service.models`` builds its pydantic models from it), the stores (the
Neo4j store takes labels and relationship types from here, never from request text), the
OpenAPI schema, the CLI importer and the generated schema docs (``GET /v1/schema``).

Vocabulary: a node has a *label* (``Village``, ``PartyOrganization`` … as in Neo4j) and an
optional *kind* within that label (``党支部``, ``联合党委``, ``合作社`` …: the Chinese term the
source documents use). A link has a *type* (``MEMBER_OF``, ``PAIRS_WITH`` …).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

from graph_service.domain import REGION_LEVELS

__all__ = [
    "JOINT_BODY_KINDS",
    "LINKAGE_MODELS",
    "LINK_TYPES",
    "NODE_LABELS",
    "REGION_LEVELS",
    "SOURCE_KINDS",
    "STRUCTURAL_LINK_TYPES",
    "AttributeSpec",
    "LinkTypeSpec",
    "NodeLabelSpec",
    "link_allows",
    "link_type",
    "node_label",
    "schema_document",
]


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """One typed attribute of a node label or link type.

    ``type`` is one of ``int``, ``float``, ``bool``, ``str``, ``date`` or ``list[str]``;
    ``choices`` closes a ``str`` attribute to a set of values.
    """

    name: str
    type: str
    label_zh: str
    description: str = ""
    unit: str | None = None
    ge: float | None = None
    le: float | None = None
    choices: tuple[str, ...] | None = None
    max_length: int = 2000
    #: Personal data (a named contact, a phone number): only callers allowed to see personal
    #: data get it (``graph_service.visibility``).
    personal: bool = False
    #: Free text in a source's words: tab and line breaks allowed (``graph_service.text``);
    #: every other string attribute is one line.
    free_text: bool = False

    def python_type(self) -> Any:
        return _PY_TYPES[self.type]


_PY_TYPES: Final[dict[str, Any]] = {
    "int": int,
    "float": float,
    "bool": bool,
    "str": str,
    "date": dt.date,
    "list[str]": list[str],
}


@dataclass(frozen=True, slots=True)
class NodeLabelSpec:
    label: str
    label_zh: str
    description: str
    kinds: tuple[str, ...] = ()
    kind_required: bool = False
    attributes: tuple[AttributeSpec, ...] = ()
    #: Region and Village carry their official division code in ``region_code``; these
    #: are the code lengths allowed (per kind for regions).
    official_code: bool = False
    #: Sensitive labels (people) are never returned to anonymous readers.
    sensitive: bool = False


@dataclass(frozen=True, slots=True)
class LinkTypeSpec:
    type: str
    label_zh: str
    description: str
    sources: frozenset[str]
    targets: frozenset[str]
    attributes: tuple[AttributeSpec, ...] = ()
    #: Structural links (containment, hierarchy) describe the administrative frame rather
    #: than a 联建 relation; analyses leave them out unless asked.
    structural: bool = False
    #: Symmetric links have no meaningful direction (联建 between two parties).
    symmetric: bool = False


# ---------------------------------------------------------------------------------------
# Closed vocabularies
# ---------------------------------------------------------------------------------------

# Region kinds and their code lengths are domain constants (graph_service.domain).

ORDINARY_PARTY_KINDS: Final[tuple[str, ...]] = ("党委", "党总支", "党支部", "党工委", "党组")
#: Party organizations that exist to link others (联建组织).
JOINT_BODY_KINDS: Final[tuple[str, ...]] = (
    "联合党委",
    "联合党总支",
    "联合党支部",
    "产业链党委",
    "产业联合党委",
    "党建联合体",
    "党建联盟",
)

#: The linkage models of 平凉 (001) followed by the 联合体 classes of 平原 (000).
LINKAGE_MODELS: Final[tuple[str, ...]] = (
    "龙头带动型",
    "产业链接型",
    "飞地抱团型",
    "毗邻协作型",
    "社区共建型",
    "项目牵引型",
    "结对帮促型",
    "产业驱动型",
    "以强带弱型",
    "村企共建型",
    "样板示范共建型",
    "资源循环型",
    "产业抱团型",
    "产业带动型",
    "村落建设型",
)

#: Where a fact came from. ``article`` facts quote a seed document; ``register`` facts come
#: from the national division register; ``generated`` marks synthetic data (never mixed
#: silently with curated facts); ``planner_decision`` records an accepted recommendation.
SOURCE_KINDS: Final[tuple[str, ...]] = (
    "article",
    "register",
    "generated",
    "planner_decision",
    "import",
    "api",
)

# ---------------------------------------------------------------------------------------
# Attribute building blocks
# ---------------------------------------------------------------------------------------

_FOUR_LISTS: Final[tuple[AttributeSpec, ...]] = (
    AttributeSpec("resources", "list[str]", "资源清单", "What the party offers (四项清单)."),
    AttributeSpec("needs", "list[str]", "需求清单", "What the party needs (四项清单)."),
    AttributeSpec("projects", "list[str]", "项目清单", "Projects it runs (四项清单)."),
    AttributeSpec("activities", "list[str]", "活动清单", "Joint activities (四项清单)."),
)


def _money(name: str, label_zh: str, description: str = "") -> AttributeSpec:
    return AttributeSpec(name, "float", label_zh, description, unit="元", ge=0)


def _count(name: str, label_zh: str, description: str = "", unit: str = "个") -> AttributeSpec:
    return AttributeSpec(name, "int", label_zh, description, unit=unit, ge=0)


#: The unified social credit code (统一社会信用代码, GB 32100-2015) of a registered
#: organisation: when two records carry the same valid code they are one organisation
#: (``graph_service.names``).
_CREDIT_CODE: Final = AttributeSpec(
    "credit_code", "str", "统一社会信用代码", "18 characters, check digit validated.", max_length=18
)

#: Who to call about an organization or village (负责人, 联系电话 in a planner's 台账): personal.
_CONTACT: Final[tuple[AttributeSpec, ...]] = (
    AttributeSpec(
        "contact_person",
        "str",
        "联系人",
        "A named contact (负责人).",
        max_length=100,
        personal=True,
    ),
    AttributeSpec("contact_phone", "str", "联系电话", max_length=50, personal=True),
)


#: The substance of a relation: what decides how strong it is (see the link-strength model).
_LINK_SUBSTANCE: Final[tuple[AttributeSpec, ...]] = (
    AttributeSpec("agreement_signed", "bool", "签订协议", "A signed agreement or charter."),
    AttributeSpec(
        "meetings_per_year", "float", "年会议次数", "Joint meetings per year.", unit="次/年", ge=0
    ),
    AttributeSpec("activities", "list[str]", "共同活动", "Joint activities."),
    AttributeSpec(
        "resources_from_source", "list[str]", "源方投入", "Resources the source side brings."
    ),
    AttributeSpec(
        "resources_from_target", "list[str]", "目标方投入", "Resources the target side brings."
    ),
    _money("investment_yuan", "投资额"),
    _money("income_increase_yuan", "增收额", "Income increase attributed to the link."),
    _count("jobs", "带动就业", unit="人"),
    AttributeSpec("land_area_mu", "float", "涉及土地", unit="亩", ge=0),
    AttributeSpec(
        "outcome",
        "str",
        "成效",
        "Outcome in the source's words.",
        max_length=4000,
        free_text=True,
    ),
)

# ---------------------------------------------------------------------------------------
# Node labels
# ---------------------------------------------------------------------------------------

_ACTORS: Final[frozenset[str]] = frozenset(
    {"PartyOrganization", "Village", "Enterprise", "Institution"}
)

NODE_LABELS: Final[dict[str, NodeLabelSpec]] = {
    spec.label: spec
    for spec in (
        NodeLabelSpec(
            "Region",
            "行政区划",
            "Administrative division: province, city, county or town; its official "
            "division code is its region_code.",
            kinds=tuple(REGION_LEVELS),
            kind_required=True,
            official_code=True,
            attributes=(_count("population", "人口", unit="人"),),
        ),
        NodeLabelSpec(
            "Village",
            "村/社区",
            "Administrative village (行政村) or community (社区) with its 12-digit code.",
            kinds=("行政村", "社区"),
            official_code=True,
            attributes=(
                _money("collective_income_yuan", "村集体收入", "Annual collective income."),
                _count("population", "人口", unit="人"),
                _count("households", "户数", unit="户"),
                _count("party_members", "党员数", unit="人"),
                AttributeSpec("land_area_mu", "float", "土地面积", unit="亩", ge=0),
                AttributeSpec("weak", "bool", "薄弱村", "Listed as weak (薄弱村/经济薄弱村)."),
                AttributeSpec("key_village", "bool", "重点村", "A key village of a program."),
                *_FOUR_LISTS,
                *_CONTACT,
            ),
        ),
        NodeLabelSpec(
            "PartyOrganization",
            "党组织",
            "A party organization: ordinary (党委, 党支部 …) or a joint body (联合党委, "
            "党建联合体 …) that exists to link others.",
            kinds=ORDINARY_PARTY_KINDS + JOINT_BODY_KINDS,
            kind_required=True,
            attributes=(
                _count("party_members", "党员数", unit="人"),
                AttributeSpec("meetings_per_year", "float", "年会议次数", unit="次/年", ge=0),
                AttributeSpec("charter_signed", "bool", "章程/协议", "Has a charter or agreement."),
                AttributeSpec(
                    "linkage_model", "str", "联建模式", "Linkage model.", choices=LINKAGE_MODELS
                ),
                AttributeSpec("brand", "bool", "品牌联合体", "A brand (示范) joint body."),
                _count(
                    "talents_returned_per_year", "年回引人才", "Capable people brought back.", "人"
                ),
                _count("college_graduates", "大学生人数", unit="人"),
                *_FOUR_LISTS,
                *_CONTACT,
            ),
        ),
        NodeLabelSpec(
            "Enterprise",
            "企业/合作社",
            "A company, group, cooperative, family farm or collective company.",
            kinds=(
                "公司",
                "集团",
                "合作社",
                "家庭农场",
                "强村富民公司",
                "红色物业公司",
                "村集体公司",
                "个体工商户",
            ),
            attributes=(
                _count("employees", "员工数", unit="人"),
                _count("members", "社员数", "Members of a cooperative.", unit="户"),
                _money("annual_revenue_yuan", "年营业收入"),
                _money("total_assets_yuan", "总资产"),
                AttributeSpec("chain_leader", "bool", "链主/龙头企业"),
                AttributeSpec("land_area_mu", "float", "经营土地", unit="亩", ge=0),
                AttributeSpec("products", "list[str]", "主要产品"),
                _CREDIT_CODE,
                *_FOUR_LISTS,
                *_CONTACT,
            ),
        ),
        NodeLabelSpec(
            "Institution",
            "机构",
            "Government department, research institute, university, bank, park committee …",
            kinds=(
                "政府部门",
                "科研院所",
                "高校",
                "金融机构",
                "园区管委会",
                "事业单位",
                "群团组织",
                "社会组织",
            ),
            attributes=(
                _count("staff", "职工数", unit="人"),
                _CREDIT_CODE,
                *_FOUR_LISTS,
                *_CONTACT,
            ),
        ),
        NodeLabelSpec("Industry", "产业", "An industry or industry chain (产业链)."),
        NodeLabelSpec(
            "Program",
            "行动/品牌/产品",
            "A campaign (行动), brand (品牌), financial product (金融产品) or project.",
            kinds=("行动", "品牌", "金融产品", "项目"),
            attributes=(_money("amount_yuan", "金额", "Credit line or budget."),),
        ),
        NodeLabelSpec(
            "Person",
            "人员",
            "A named person (书记, 第一书记, expert). Sensitive: hidden from anonymous readers.",
            kinds=("书记", "第一书记", "驻村干部", "专家", "致富带头人", "负责人"),
            sensitive=True,
            attributes=(AttributeSpec("title", "str", "职务", max_length=200, personal=True),),
        ),
    )
}

_ALL_LABELS: Final[frozenset[str]] = frozenset(NODE_LABELS)

# ---------------------------------------------------------------------------------------
# Link types
# ---------------------------------------------------------------------------------------

LINK_TYPES: Final[dict[str, LinkTypeSpec]] = {
    spec.type: spec
    for spec in (
        LinkTypeSpec(
            "IN_REGION",
            "隶属区划",
            "Containment: a region in its parent region, any located node in its region.",
            sources=_ALL_LABELS - {"Industry", "Program", "Person"},
            targets=frozenset({"Region"}),
            structural=True,
        ),
        LinkTypeSpec(
            "SUBORDINATE_TO",
            "隶属党组织",
            "Party hierarchy: a party organization under its superior (村党支部 → 镇党委).",
            sources=frozenset({"PartyOrganization"}),
            targets=frozenset({"PartyOrganization"}),
            structural=True,
        ),
        LinkTypeSpec(
            "ORGANIZATION_OF",
            "所属单位",
            "A party organization is the party organization of a village, enterprise or "
            "institution (台头村党支部 → 台头村).",
            sources=frozenset({"PartyOrganization"}),
            targets=frozenset({"Village", "Enterprise", "Institution", "Region"}),
            structural=True,
        ),
        LinkTypeSpec(
            "MEMBER_OF",
            "加入联建组织",
            "Membership in a joint body (加入, 下辖, 构成).",
            sources=_ACTORS,
            targets=frozenset({"PartyOrganization"}),
            attributes=(
                AttributeSpec(
                    "role",
                    "str",
                    "角色",
                    "lead (牵头) or member (成员).",
                    choices=("lead", "member"),
                ),
                *_LINK_SUBSTANCE,
            ),
        ),
        LinkTypeSpec(
            "CO_BUILDS",
            "联建共建",
            "Joint building between two actors (联建, 共建, 结对共建).",
            sources=_ACTORS,
            targets=_ACTORS,
            symmetric=True,
            attributes=(
                AttributeSpec("linkage_model", "str", "联建模式", choices=LINKAGE_MODELS),
                *_LINK_SUBSTANCE,
            ),
        ),
        LinkTypeSpec(
            "PAIRS_WITH",
            "结对帮扶",
            "Pairing assistance, helper → helped (结对帮扶, 百企帮百村).",
            sources=_ACTORS,
            targets=_ACTORS,
            attributes=(
                AttributeSpec(
                    "program", "str", "所属行动", "Id of the Program node.", max_length=128
                ),
                *_LINK_SUBSTANCE,
            ),
        ),
        LinkTypeSpec(
            "LEADS_COOPERATIVE",
            "领办合作社",
            "A party organization leads (领办) a cooperative or collective company.",
            sources=frozenset({"PartyOrganization", "Village"}),
            targets=frozenset({"Enterprise"}),
            attributes=_LINK_SUBSTANCE,
        ),
        LinkTypeSpec(
            "SUPPLIES",
            "供销/订单",
            "Supply or order contract, supplier → buyer (对接, 订单种植, 收购合同, 上下游).",
            sources=_ACTORS,
            targets=_ACTORS,
            attributes=(
                AttributeSpec("products", "list[str]", "产品"),
                AttributeSpec("order_farming", "bool", "订单种植"),
                _money("contract_value_yuan", "合同金额"),
                *_LINK_SUBSTANCE,
            ),
        ),
        LinkTypeSpec(
            "FINANCES",
            "金融支持",
            "Financing, lender → borrower (金融结对, 贷款, 授信).",
            sources=_ACTORS,
            targets=_ACTORS,
            attributes=(
                _money("loan_yuan", "贷款/授信额"),
                AttributeSpec(
                    "program", "str", "金融产品", "Id of the Program node.", max_length=128
                ),
                *_LINK_SUBSTANCE,
            ),
        ),
        LinkTypeSpec(
            "DISPATCHES",
            "选派干部/专家",
            "Dispatched cadres or experts, sender → receiver (选派驻村干部, 专家工作站).",
            sources=_ACTORS,
            targets=_ACTORS,
            attributes=(
                _count("people", "选派人数", unit="人"),
                AttributeSpec(
                    "role", "str", "身份", "e.g. 驻村干部, 第一书记, 专家.", max_length=200
                ),
                *_LINK_SUBSTANCE,
            ),
        ),
        LinkTypeSpec(
            "IN_INDUSTRY",
            "所属产业",
            "An actor or region works in an industry.",
            sources=_ACTORS | {"Region", "Program"},
            targets=frozenset({"Industry"}),
        ),
        LinkTypeSpec(
            "PART_OF_PROGRAM",
            "参与行动/品牌",
            "An actor takes part in a program, brand or financial product.",
            sources=_ACTORS | {"Region", "Person"},
            targets=frozenset({"Program"}),
            attributes=_LINK_SUBSTANCE,
        ),
        LinkTypeSpec(
            "HOLDS_POSITION",
            "任职",
            "A person holds a position in an organization. Sensitive.",
            sources=frozenset({"Person"}),
            targets=_ACTORS,
            attributes=(AttributeSpec("title", "str", "职务", max_length=200),),
        ),
    )
}

STRUCTURAL_LINK_TYPES: Final[frozenset[str]] = frozenset(
    t for t, spec in LINK_TYPES.items() if spec.structural
)


def node_label(label: str) -> NodeLabelSpec:
    """Return the spec of ``label``; ``KeyError`` if the label is unknown."""
    return NODE_LABELS[label]


def link_type(type_: str) -> LinkTypeSpec:
    """Return the spec of link type ``type_``; ``KeyError`` if unknown."""
    return LINK_TYPES[type_]


def _attr_doc(attr: AttributeSpec) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": attr.name, "type": attr.type, "label_zh": attr.label_zh}
    for key in ("description", "unit", "ge", "le", "choices"):
        value = getattr(attr, key)
        if value not in (None, ""):
            doc[key] = list(value) if isinstance(value, tuple) else value
    if attr.personal:
        doc["personal"] = True
    return doc


def link_allows(type_: str, source_label: str, target_label: str) -> bool:
    """Whether a link of ``type_`` may join a ``source_label`` node to a ``target_label`` one."""
    spec = LINK_TYPES[type_]
    if source_label in spec.sources and target_label in spec.targets:
        return True
    return spec.symmetric and target_label in spec.sources and source_label in spec.targets


def schema_document() -> dict[str, Any]:
    """The registry as plain data, served at ``GET /v1/schema`` and written to the docs."""
    return {
        "node_labels": [
            {
                "label": s.label,
                "label_zh": s.label_zh,
                "description": s.description,
                "kinds": list(s.kinds),
                "kind_required": s.kind_required,
                "official_code": s.official_code,
                "sensitive": s.sensitive,
                "attributes": [_attr_doc(a) for a in s.attributes],
            }
            for s in NODE_LABELS.values()
        ],
        "link_types": [
            {
                "type": s.type,
                "label_zh": s.label_zh,
                "description": s.description,
                "sources": sorted(s.sources),
                "targets": sorted(s.targets),
                "structural": s.structural,
                "symmetric": s.symmetric,
                "attributes": [_attr_doc(a) for a in s.attributes],
            }
            for s in LINK_TYPES.values()
        ],
        "joint_body_kinds": list(JOINT_BODY_KINDS),
        "linkage_models": list(LINKAGE_MODELS),
        "region_levels": dict(REGION_LEVELS),
        "source_kinds": list(SOURCE_KINDS),
    }

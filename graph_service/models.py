"""Pydantic models of nodes and links, built from the schema registry.

One model per node label and per link type is generated from ``graph_service.schema`` so that
the OpenAPI document shows every label's typed attributes; ``NodeIn`` and ``LinkIn`` are the
discriminated unions the API and importers validate against. Stores receive and return plain
documents (``NodeDoc`` / ``LinkDoc``: what ``model_dump(mode="json")`` produces), which keeps
the read path free of per-record model construction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, TypeAlias, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from graph_service import text
from graph_service.domain import (
    CENTRALITY_MEASURES,
    MAX_CANDIDATES,
    MAX_TOP,
    REGION_CODE_PATTERN,
    REGION_LEVELS,
    VILLAGE_CODE_LENGTH,
)
from graph_service.schema import (
    LINK_TYPES,
    NODE_LABELS,
    SOURCE_KINDS,
    AttributeSpec,
    LinkTypeSpec,
    NodeLabelSpec,
)

__all__ = [
    "FREE_TEXT",
    "ID_PATTERN",
    "JUDGEMENT_DECISIONS",
    "LINK_ADAPTER",
    "LINK_MODELS",
    "MAX_NAME_LENGTH",
    "NODE_ADAPTER",
    "NODE_MODELS",
    "ONE_LINE",
    "AssignmentIn",
    "IsoDate",
    "IsoDateTime",
    "JudgementIn",
    "LinkDoc",
    "LinkIn",
    "NodeDoc",
    "NodeIn",
    "ProposedPair",
    "SavedViewIn",
    "Source",
    "StatedFigure",
    "StrictModel",
    "ViewFilters",
    "WhatIfIn",
    "derive_link_id",
    "error_list",
    "link_doc",
    "node_doc",
]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$"
MAX_NAME_LENGTH = 200
MAX_ALIASES = 50
#: The largest integer JSON readers (and both stores) represent exactly.
MAX_SAFE_INTEGER = 2**53 - 1

#: A node or link as stored and returned: JSON-ready plain data.
NodeDoc: TypeAlias = dict[str, Any]
LinkDoc: TypeAlias = dict[str, Any]


class _NoControlCharacters:
    """In an ``Annotated[str, …]``: refuses what :mod:`graph_service.text` refuses, with a
    message saying which character, and documents the rule as the string's pattern."""

    def __init__(self, *, free_text: bool) -> None:
        self.free_text = free_text

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = text.FREE_TEXT_PATTERN if self.free_text else text.LINE_PATTERN
        return json_schema

    def _check(self, value: str) -> str:
        found = text.first_control_character(value, free_text=self.free_text)
        if found is not None:
            raise PydanticCustomError(
                "control_character", text.refusal(found, free_text=self.free_text)
            )
        return value


#: Every string of a body is one line of text or free text (``Annotated[str, …, ONE_LINE]``);
#: ids, codes and metric names have patterns of their own that refuse control characters too.
ONE_LINE: Final = _NoControlCharacters(free_text=False)
#: Quotes, notes and attributes declared free text: tab and line breaks allowed.
FREE_TEXT: Final = _NoControlCharacters(free_text=True)

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: Any) -> Any:
    # pydantic would read 0 or "0" as 1970-01-01 (seconds since the epoch): a date is written
    # as one, YYYY-MM-DD.
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise PydanticCustomError("date_format", "a date is written YYYY-MM-DD")


def _iso_datetime(value: Any) -> Any:
    # As for dates: a number is not a moment here.
    if isinstance(value, dt.datetime) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise PydanticCustomError(
        "datetime_format", "a moment is written YYYY-MM-DDTHH:MM:SS (ISO 8601), its zone after"
    )


#: A day, written YYYY-MM-DD (bodies and query parameters).
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
#: A moment, written in ISO 8601 (YYYY-MM-DDTHH:MM:SS and a zone, or a day).
IsoDateTime = Annotated[dt.datetime, BeforeValidator(_iso_datetime)]

EntityId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE
]
RegionCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{2,12}$")]
#: A node as a person names it in a request: its id, a division code or a name only one node
#: has (``services.references`` resolves it to the id).
NodeRef = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_LENGTH),
    ONE_LINE,
]
#: A document's file name, a recorder's name, a figure's label and unit.
ShortText = Annotated[str, StringConstraints(max_length=200), ONE_LINE]
#: A quote from a document: its line breaks are kept.
Quote = Annotated[str, StringConstraints(max_length=4000), FREE_TEXT]


class _Strict(BaseModel):
    # Infinity and NaN would be stored as null: refuse them instead.
    model_config = ConfigDict(extra="forbid", str_max_length=4000, allow_inf_nan=False)


#: The base of request bodies elsewhere (routes' small bodies): the same strictness.
StrictModel = _Strict


class Source(_Strict):
    """Where a fact comes from: a document and the quoted sentence(s)."""

    kind: Literal[SOURCE_KINDS] = "article"  # type: ignore[valid-type]
    document: ShortText | None = None
    quote: Quote | None = None
    by: ShortText | None = Field(
        default=None, description="Who recorded it (planner, API key name, importer)."
    )
    recorded_at: IsoDateTime | None = None


class StatedFigure(_Strict):
    """A figure a source states (62 联合体, 100% coverage), kept apart from graph counts."""

    metric: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    label: Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]
    value: Annotated[float, Field(ge=-MAX_SAFE_INTEGER, le=MAX_SAFE_INTEGER)]
    unit: Annotated[str, StringConstraints(max_length=20), ONE_LINE] | None = None
    as_of: IsoDate | None = None
    quote: Quote | None = None
    document: ShortText | None = None


def _attribute_field(attr: AttributeSpec) -> tuple[Any, Any]:
    base = attr.python_type()
    rule = FREE_TEXT if attr.free_text else ONE_LINE
    constraints: dict[str, Any] = {"description": f"{attr.label_zh}. {attr.description}".strip()}
    if attr.unit:
        constraints["json_schema_extra"] = {"unit": attr.unit}
    if attr.choices is not None:
        base = Literal[attr.choices]
    elif attr.type in ("int", "float"):
        if attr.ge is not None:
            constraints["ge"] = attr.ge
        # Stores keep numbers as 64-bit values (JSON, Neo4j): bound them where exact.
        constraints["le"] = attr.le if attr.le is not None else MAX_SAFE_INTEGER
    elif attr.type == "str":
        base = Annotated[str, rule]
        constraints["max_length"] = attr.max_length
    elif attr.type == "date":
        base = IsoDate
    elif attr.type == "list[str]":
        item = Annotated[str, StringConstraints(min_length=1, max_length=attr.max_length), rule]
        base = list[item]
        constraints["max_length"] = 200
    return (base | None, Field(default=None, **constraints))


def _attributes_model(owner: str, attrs: tuple[AttributeSpec, ...]) -> type[BaseModel]:
    fields = {a.name: _attribute_field(a) for a in attrs}
    return create_model(  # type: ignore[call-overload,no-any-return]
        f"{owner}Attributes", __base__=_Strict, **fields
    )


class _NodeBase(_Strict):
    id: EntityId
    name: Name
    aliases: list[Name] = Field(default_factory=list, max_length=MAX_ALIASES)
    region_code: RegionCode | None = Field(
        default=None,
        description="Official division code: the node's own for Region and Village, the "
        "region it sits in for others.",
    )
    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = Field(default=None, description="Last day valid (inclusive).")
    figures: list[StatedFigure] = Field(default_factory=list, max_length=200)
    sources: list[Source] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _check_node(self) -> _NodeBase:
        spec: NodeLabelSpec = NODE_LABELS[self.label]  # type: ignore[attr-defined]
        kind = getattr(self, "kind", None)
        if spec.kind_required and kind is None:
            raise _field_error("kind", f"kind is required for {spec.label}")
        _check_dates(self.valid_from, self.valid_to)
        if spec.official_code:
            if self.region_code is None:
                raise _field_error(
                    "region_code",
                    f"region_code (official division code) is required for {spec.label}",
                )
            expected = VILLAGE_CODE_LENGTH if spec.label == "Village" else REGION_LEVELS[str(kind)]
            if len(self.region_code) != expected:
                what = f"{spec.label} of kind {kind}" if spec.label == "Region" else spec.label
                raise _field_error("region_code", f"region_code of a {what} has {expected} digits")
        return self


def _field_error(field: str, message: str) -> PydanticCustomError:
    # The ctx carries the field at fault: model-level validators otherwise lose it.
    return PydanticCustomError("field_error", message, {"field": field})


def _check_dates(valid_from: dt.date | None, valid_to: dt.date | None) -> None:
    if valid_from and valid_to and valid_to < valid_from:
        raise _field_error("valid_to", "valid_to is before valid_from")


class _LinkBase(_Strict):
    id: EntityId | None = Field(
        default=None, description="Stable id; derived from type, source and target if omitted."
    )
    source: EntityId
    target: EntityId
    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = Field(default=None, description="Last day valid (inclusive).")
    sources: list[Source] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _check_link(self) -> _LinkBase:
        if self.source == self.target:
            raise _field_error("target", "a link cannot join a node to itself")
        _check_dates(self.valid_from, self.valid_to)
        return self


def _node_model(spec: NodeLabelSpec) -> type[BaseModel]:
    kind_type: Any = Literal[spec.kinds] if spec.kinds else None
    fields: dict[str, Any] = {
        "label": (Literal[spec.label], ...),
        "attributes": (_attributes_model(spec.label, spec.attributes) | None, None),
    }
    if spec.kinds:
        fields["kind"] = (kind_type | None, Field(default=None, description="Kind within label."))
    else:
        fields["kind"] = (None, None)
    model = create_model(f"{spec.label}Node", __base__=_NodeBase, **fields)
    model.__doc__ = f"{spec.label_zh}: {spec.description}"
    return model


def _link_model(spec: LinkTypeSpec) -> type[BaseModel]:
    fields: dict[str, Any] = {
        "type": (Literal[spec.type], ...),
        "attributes": (
            _attributes_model(spec.type.title().replace("_", ""), spec.attributes) | None,
            None,
        ),
    }
    model = create_model(f"{spec.type.title().replace('_', '')}Link", __base__=_LinkBase, **fields)
    model.__doc__ = f"{spec.label_zh}: {spec.description}"
    return model


NODE_MODELS: dict[str, type[BaseModel]] = {
    label: _node_model(s) for label, s in NODE_LABELS.items()
}
LINK_MODELS: dict[str, type[BaseModel]] = {t: _link_model(s) for t, s in LINK_TYPES.items()}

if TYPE_CHECKING:
    # The unions are built at run time from the registry; to the type checker they are models.
    NodeIn: TypeAlias = BaseModel
    LinkIn: TypeAlias = BaseModel
else:
    NodeIn = Annotated[Union[tuple(NODE_MODELS.values())], Field(discriminator="label")]  # noqa: UP007
    LinkIn = Annotated[Union[tuple(LINK_MODELS.values())], Field(discriminator="type")]  # noqa: UP007

NODE_ADAPTER: TypeAdapter[Any] = TypeAdapter(NodeIn)
LINK_ADAPTER: TypeAdapter[Any] = TypeAdapter(LinkIn)


def derive_link_id(type_: str, source: str, target: str) -> str:
    """A stable link id from its type and endpoints (symmetric types ignore direction)."""
    ends = sorted((source, target)) if LINK_TYPES[type_].symmetric else [source, target]
    digest = hashlib.blake2b("\x1f".join([type_, *ends]).encode(), digest_size=10).hexdigest()
    return f"{type_.lower()}:{digest}"


def _doc(model: BaseModel) -> dict[str, Any]:
    doc = model.model_dump(mode="json", exclude_none=True)
    doc.setdefault("attributes", {})
    for key in ("aliases", "figures", "sources"):
        doc.setdefault(key, [])
    return doc


def node_doc(model: BaseModel) -> NodeDoc:
    """The stored document of a validated node model."""
    doc = _doc(model)
    doc.setdefault("kind", None)
    return doc


def link_doc(model: BaseModel) -> LinkDoc:
    """The stored document of a validated link model, with its id filled in."""
    doc = _doc(model)
    doc.pop("aliases", None)
    doc.pop("figures", None)
    if not doc.get("id"):
        doc["id"] = derive_link_id(doc["type"], doc["source"], doc["target"])
    return doc


_TAGS = frozenset(NODE_MODELS) | frozenset(LINK_MODELS)


def error_list(exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    """Flatten a pydantic error into ``[{"field": "a.b.0", "message": ...}]``.

    Discriminator tags (``Region``, ``MEMBER_OF``) that pydantic puts into locations are
    dropped, and a model-level error's own field (carried in its context) is appended.
    """
    out: list[dict[str, Any]] = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in (*prefix, *err["loc"]) if not (isinstance(p, str) and p in _TAGS)]
        ctx = err.get("ctx") or {}
        if ctx.get("field"):
            loc.append(str(ctx["field"]))
        elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc.append(str(ctx.get("discriminator", "")).strip("'"))
        out.append(
            {"field": ".".join(loc) or None, "message": err["msg"].removeprefix("Value error, ")}
        )
    return out


# ---------------------------------------------------------------------------------------
# Recommendations: judgements, assignment and what-if requests
# ---------------------------------------------------------------------------------------

#: What a planner can say about a recommended pair.
JUDGEMENT_DECISIONS: tuple[str, ...] = ("accept", "reject", "unsure")
PlannerName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), ONE_LINE
]
Distance = Literal["town", "county", "city", "province"]


class JudgementIn(_Strict):
    """A planner's decision on a pair: ``accept`` writes the link (provenance
    ``planner_decision``), ``reject`` keeps the pair out of later proposals, ``unsure``
    records a pair to come back to. The latest judgement of a pair is the one in force."""

    target: NodeRef = Field(
        description="The village (or helper) recommendations were for: id, code or name."
    )
    partner: NodeRef = Field(description="The recommended partner: id, code or name.")
    decision: Literal["accept", "reject", "unsure"]
    relation: Literal["pairing", "co_building"] = Field(
        default="pairing",
        description="pairing (结对帮扶, PAIRS_WITH helper → helped) or co_building (联建共建, "
        "CO_BUILDS); a joint body as partner always means joining it (MEMBER_OF).",
    )
    program: NodeRef | None = Field(default=None, description="Program of the pairing.")
    note: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), FREE_TEXT] | None
    ) = None
    decided_by: PlannerName | None = Field(
        default=None, description="The planner who decided; the API key's name if omitted."
    )
    valid_from: IsoDate | None = Field(
        default=None, description="First day of an accepted link (the decision day if omitted)."
    )


class AssignmentIn(_Strict):
    """A region-wide assignment of helpers to weak villages under capacities."""

    region: Annotated[str, StringConstraints(pattern=r"^([0-9]{4}|[0-9]{6}|[0-9]{9})$")] = Field(
        description="City, county or town division code: the scope scored and assigned."
    )
    program: NodeRef | None = None
    villages: list[NodeRef] | None = Field(
        default=None,
        max_length=20_000,
        description="Villages to help (or their party organizations); the region's weak "
        "villages without a pairing helper if omitted.",
    )
    helpers: list[NodeRef] | None = Field(
        default=None,
        max_length=20_000,
        description="Helpers; every enterprise, institution and village known not to be weak "
        "if omitted.",
    )
    k: int | None = Field(
        default=1,
        ge=0,
        le=1000,
        description="Villages a helper takes at most; null uses each helper's free places.",
    )
    m: int = Field(default=1, ge=1, le=20, description="Helpers a village takes at most.")
    min_helpers: int = Field(default=1, ge=0, le=20, description="Helpers a village needs.")
    top_candidates: int = Field(default=50, ge=1, le=1000)
    max_distance: Distance | None = None
    as_of: IsoDate | None = None

    @model_validator(mode="after")
    def _check_bounds(self) -> AssignmentIn:
        if self.min_helpers > self.m:
            raise _field_error("min_helpers", "min_helpers is more than m")
        return self


class ProposedPair(_Strict):
    helper: NodeRef = Field(description="Id, division code or name of the helper.")
    village: NodeRef = Field(description="Id, division code or name of the village.")


class WhatIfIn(_Strict):
    """Pairings to apply virtually; nothing is written."""

    proposed: list[ProposedPair] = Field(min_length=1, max_length=5_000)
    region: Annotated[str, StringConstraints(pattern=r"^([0-9]{4}|[0-9]{6}|[0-9]{9})$")] | None = (
        Field(
            default=None,
            description="Report on this region; the first village's county if omitted.",
        )
    )
    program: NodeRef | None = None
    as_of: IsoDate | None = None
    top: int = Field(
        default=10, ge=0, le=MAX_CANDIDATES, description="PageRank risers to list at most."
    )


class ViewFilters(_Strict):
    """The situation page's settings besides region and dates (``docs/dashboard.md``)."""

    measure: Literal[CENTRALITY_MEASURES] = Field(  # type: ignore[valid-type]
        default="pagerank", description="Centrality measure of the top-N chart."
    )
    top: int = Field(default=20, ge=1, le=MAX_TOP, description="Rows of the centrality chart.")
    pairings: int = Field(
        default=20, ge=0, le=100, description="Weak villages to propose a partner for."
    )


class SavedViewIn(_Strict):
    """A named situation page: a region on a day, compared with an earlier day."""

    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), ONE_LINE
    ] = Field(description="The view's name, as its owner lists it (平原县年度对比).")
    region: Annotated[str, StringConstraints(pattern=REGION_CODE_PATTERN)] = Field(
        description="Division code of a province, city, county or town."
    )
    as_of: IsoDate | None = Field(default=None, description="The day shown; today if null.")
    since: IsoDate | None = Field(default=None, description="The earlier day compared with.")
    filters: ViewFilters = Field(default_factory=ViewFilters)

    @model_validator(mode="after")
    def _check_dates(self) -> SavedViewIn:
        if self.since is not None and self.as_of is not None and self.since > self.as_of:
            raise _field_error("since", "since is after as_of")
        return self

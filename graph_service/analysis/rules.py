"""Rule checks for joint bodies, with the rules as data.

The rules a joint body must meet come from the sources (平原 000: "每个联合体每年至少回引10名
在外能人,至少配备1名大学生,至少对接1家企业…"), so they live in a JSON file
(``seed/rules/joint_body_rules.json``) rather than in code. Each rule names the body kinds it
applies to, one check from a small closed vocabulary, a severity and its source (document
id and quote)::

    {"id": "000-talents", "description_zh": "每个联合体每年至少回引10名在外能人",
     "applies_to": ["党建联合体"],
     "check": {"type": "min_attribute", "attribute": "talents_returned_per_year", "min": 10},
     "severity": "error",
     "source": {"document": "000_ebbe741d95becf05.txt", "quote": "…"}}

Check types (:data:`CHECK_TYPES`):

``min_members``
    ``labels`` (node labels), optional ``kinds``, ``count``, ``through_organization``
    (default true: a member party organization stands for the village, enterprise or
    institution it is the ``ORGANIZATION_OF``). Counts the distinct matching members over
    valid ``MEMBER_OF`` links; fewer than ``count`` breaks the rule.
``min_linked``
    As ``min_members``, counting the nodes joined to the body by any of ``link_types``
    (non-structural link types, in either direction) instead of ``MEMBER_OF`` alone: a
    联合体 "对接" an enterprise through a supply contract (``SUPPLIES``) as much as through
    membership.
``min_attribute``
    ``attribute`` (a numeric PartyOrganization attribute) and ``min``: a value below ``min``
    breaks the rule; a missing value is **unknown**, not broken.
``has_attribute``
    ``attribute``: a missing or empty value breaks the rule.
``attribute_equals``
    ``attribute`` and ``value``: a different value breaks the rule; a missing one is unknown.

References
----------
.. [1] 大众日报, “平原红” 铺就高质量发展底色 (seed document 000).
.. [2] 平凉市融媒体中心, 党建联建聚合力 以“联”共赢促发展 (seed document 001).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import networkx as nx

from graph_service.analysis.graphs import filter_links
from graph_service.analysis.wording import Wording, listing, value_text
from graph_service.schema import LINK_TYPES, NODE_LABELS, STRUCTURAL_LINK_TYPES

__all__ = [
    "CHECK_TYPES",
    "SEVERITIES",
    "STATUSES",
    "BodyRuleReport",
    "Rule",
    "RuleCheck",
    "RuleFileError",
    "RuleOutcome",
    "RuleReport",
    "RuleSource",
    "RuleSummary",
    "check_rules",
    "load_rules",
    "parse_rules",
]

CHECK_TYPES: Final[tuple[str, ...]] = (
    "min_members",
    "min_linked",
    "min_attribute",
    "has_attribute",
    "attribute_equals",
)
SEVERITIES: Final[tuple[str, ...]] = ("error", "warning", "info")
#: Outcome of one rule on one body.
STATUSES: Final[tuple[str, ...]] = ("pass", "broken", "unknown")

_RULE_KEYS: Final = frozenset(
    {"id", "description_zh", "applies_to", "check", "severity", "source", "description"}
)
_CHECK_KEYS: Final[dict[str, tuple[frozenset[str], frozenset[str]]]] = {
    # type: (required keys, optional keys), besides "type"
    "min_members": (frozenset({"labels", "count"}), frozenset({"kinds", "through_organization"})),
    "min_linked": (
        frozenset({"labels", "count", "link_types"}),
        frozenset({"kinds", "through_organization"}),
    ),
    "min_attribute": (frozenset({"attribute", "min"}), frozenset()),
    "has_attribute": (frozenset({"attribute"}), frozenset()),
    "attribute_equals": (frozenset({"attribute", "value"}), frozenset()),
}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_PARTY = NODE_LABELS["PartyOrganization"]
_PARTY_ATTRS: Final = {a.name: a for a in _PARTY.attributes}


class RuleFileError(ValueError):
    """A rules file that cannot be used; the message names the rule and the field."""


@dataclass(frozen=True, slots=True)
class RuleSource:
    document: str
    quote: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """One check of the closed vocabulary (:data:`CHECK_TYPES`); unused fields stay empty."""

    type: str
    labels: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    count: int = 0
    through_organization: bool = True
    #: The link types that join a node to the body: ``MEMBER_OF`` (into the body) for
    #: ``min_members``, the rule's ``link_types`` (either direction) for ``min_linked``.
    link_types: tuple[str, ...] = ()
    attribute: str | None = None
    minimum: float | None = None
    value: bool | int | float | str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    description_zh: str
    #: PartyOrganization kinds the rule applies to.
    applies_to: tuple[str, ...]
    check: RuleCheck
    severity: str
    source: RuleSource


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """One rule on one body: ``pass``, ``broken`` or ``unknown``, with the evidence: in
    Chinese (``evidence``: what was found, what the rule asks, the verdict) and in English
    (``evidence_en``)."""

    rule_id: str
    status: str
    evidence: str
    evidence_en: str
    #: The counted members or the attribute value (``None`` when missing).
    value: bool | int | float | str | None
    #: The counted members (``min_members``, ``min_linked``).
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BodyRuleReport:
    body_id: str
    name: str
    kind: str
    region_code: str | None
    outcomes: tuple[RuleOutcome, ...]
    broken: tuple[str, ...]
    unknown: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RuleSummary:
    rule_id: str
    description_zh: str
    severity: str
    checked: int
    passed: int
    broken: int
    unknown: int


@dataclass(frozen=True, slots=True)
class RuleReport:
    as_of: str | None
    scope_region: str | None
    #: Every body checked, by id.
    bodies: tuple[BodyRuleReport, ...]
    #: Per rule, in the order of the rules.
    rules: tuple[RuleSummary, ...]
    #: Bodies breaking at least one rule, and breaches in all.
    bodies_in_breach: int
    breaches: int

    def breaking(self, rule_id: str) -> list[BodyRuleReport]:
        """The bodies that break ``rule_id``."""
        return [b for b in self.bodies if rule_id in b.broken]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------------------


class _Where:
    def __init__(self, origin: str, rule: str) -> None:
        self.origin, self.rule = origin, rule

    def error(self, field: str, message: str) -> RuleFileError:
        return RuleFileError(f"{self.origin}: rule {self.rule}: field '{field}': {message}")


def _text(where: _Where, data: Mapping[str, Any], field: str, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise where.error(field, "must be a non-empty string")
    return value


def _strings(where: _Where, value: Any, field: str, allowed: Iterable[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise where.error(field, "must be a non-empty list of strings")
    allowed_set = set(allowed)
    unknown = [v for v in value if v not in allowed_set]
    if unknown:
        raise where.error(field, f"unknown value(s) {', '.join(unknown)}")
    return tuple(dict.fromkeys(value))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _parse_check(where: _Where, raw: Any) -> RuleCheck:
    if not isinstance(raw, Mapping):
        raise where.error("check", "must be an object")
    type_ = raw.get("type")
    if type_ not in _CHECK_KEYS:
        raise where.error("check.type", f"must be one of {', '.join(CHECK_TYPES)}, got {type_!r}")
    required, optional = _CHECK_KEYS[type_]
    missing = sorted(required - set(raw))
    if missing:
        raise where.error(f"check.{missing[0]}", f"is required for a {type_} check")
    extra = sorted(set(raw) - required - optional - {"type"})
    if extra:
        raise where.error(f"check.{extra[0]}", f"is not a field of a {type_} check")
    if type_ in ("min_members", "min_linked"):
        labels = _strings(where, raw["labels"], "check.labels", NODE_LABELS)
        kinds: tuple[str, ...] = ()
        if "kinds" in raw:
            allowed = {k for label in labels for k in NODE_LABELS[label].kinds}
            kinds = _strings(where, raw["kinds"], "check.kinds", allowed)
        count = raw["count"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise where.error("check.count", f"must be a non-negative integer, got {count!r}")
        through = raw.get("through_organization", True)
        if not isinstance(through, bool):
            raise where.error("check.through_organization", "must be true or false")
        link_types: tuple[str, ...] = ("MEMBER_OF",)
        if type_ == "min_linked":
            allowed_types = sorted(set(LINK_TYPES) - STRUCTURAL_LINK_TYPES)
            link_types = _strings(where, raw["link_types"], "check.link_types", allowed_types)
        return RuleCheck(
            type_,
            labels=labels,
            kinds=kinds,
            count=count,
            through_organization=through,
            link_types=link_types,
        )
    attribute = raw["attribute"]
    if not isinstance(attribute, str) or attribute not in _PARTY_ATTRS:
        raise where.error(
            "check.attribute", f"{attribute!r} is not an attribute of a PartyOrganization"
        )
    spec = _PARTY_ATTRS[attribute]
    if type_ == "min_attribute":
        if spec.type not in ("int", "float"):
            raise where.error("check.attribute", f"{attribute} is not numeric ({spec.type})")
        minimum = _number(raw["min"])
        if minimum is None:
            raise where.error("check.min", f"must be a number, got {raw['min']!r}")
        return RuleCheck(type_, attribute=attribute, minimum=minimum)
    if type_ == "attribute_equals":
        value = raw["value"]
        ok = {
            "bool": isinstance(value, bool),
            "str": isinstance(value, str),
            "int": _number(value) is not None,
            "float": _number(value) is not None,
        }.get(spec.type, False)
        if not ok:
            raise where.error(
                "check.value", f"must be a {spec.type} like {attribute}, got {value!r}"
            )
        if spec.choices is not None and value not in spec.choices:
            raise where.error("check.value", f"{value!r} is not a choice of {attribute}")
        return RuleCheck(type_, attribute=attribute, value=value)
    return RuleCheck(type_, attribute=attribute)


def _parse_rule(origin: str, index: int, raw: Any, seen: set[str]) -> Rule:
    if not isinstance(raw, Mapping):
        raise RuleFileError(f"{origin}: rules[{index}] must be an object")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise RuleFileError(
            f"{origin}: rules[{index}]: field 'id': must be 1–64 letters, digits, '.', '_' "
            f"or '-', got {rule_id!r}"
        )
    where = _Where(origin, repr(rule_id))
    if rule_id in seen:
        raise where.error("id", "duplicate rule id")
    seen.add(rule_id)
    extra = sorted(set(raw) - _RULE_KEYS)
    if extra:
        raise where.error(extra[0], "is not a field of a rule")
    description = _text(where, raw, "description_zh", "description_zh")
    applies_to = _strings(where, raw.get("applies_to"), "applies_to", _PARTY.kinds)
    check = _parse_check(where, raw.get("check"))
    severity = raw.get("severity", "error")
    if severity not in SEVERITIES:
        raise where.error("severity", f"must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    source = raw.get("source")
    if not isinstance(source, Mapping):
        raise where.error("source", "must be an object with document and quote")
    extra = sorted(set(source) - {"document", "quote", "note"})
    if extra:
        raise where.error(f"source.{extra[0]}", "is not a field of a source")
    note = source.get("note")
    if note is not None and not isinstance(note, str):
        raise where.error("source.note", "must be a string")
    return Rule(
        id=rule_id,
        description_zh=description,
        applies_to=applies_to,
        check=check,
        severity=str(severity),
        source=RuleSource(
            document=_text(where, source, "source.document", "document"),
            quote=_text(where, source, "source.quote", "quote"),
            note=note,
        ),
    )


def parse_rules(data: Any, origin: str = "<rules>") -> list[Rule]:
    """Validate rules given as data (the parsed JSON file); see :func:`load_rules`."""
    if not isinstance(data, Mapping) or not isinstance(data.get("rules"), list):
        raise RuleFileError(f"{origin}: must be an object with a 'rules' list")
    extra = sorted(set(data) - {"rules", "version", "description"})
    if extra:
        raise RuleFileError(f"{origin}: field '{extra[0]}' is not a field of a rules file")
    seen: set[str] = set()
    return [_parse_rule(origin, i, raw, seen) for i, raw in enumerate(data["rules"])]


def load_rules(path: str | Path) -> list[Rule]:
    """Read and validate a rules file.

    Parameters
    ----------
    path : str or pathlib.Path
        A JSON file: ``{"version": 1, "rules": [RULE, …]}``.

    Returns
    -------
    list of Rule
        In file order.

    Raises
    ------
    RuleFileError
        (a ``ValueError``) for unreadable JSON or an invalid rule; the message names the
        file, the rule id and the field, e.g. ``rule '000-talents': field 'check.min':
        must be a number, got 'ten'``.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RuleFileError(f"{path}: not valid JSON: {exc}") from exc
    return parse_rules(data, str(path))


# ---------------------------------------------------------------------------------------
# Checking
# ---------------------------------------------------------------------------------------


def _joined(H: nx.MultiDiGraph, body: Any, check: RuleCheck) -> list[Any]:
    """Distinct nodes matching the check's labels/kinds joined to ``body`` by its links."""
    ends: list[Any] = [
        m for m, _, d in H.in_edges(body, data=True) if d.get("type") in check.link_types
    ]
    if check.type == "min_linked":
        ends += [m for _, m, d in H.out_edges(body, data=True) if d.get("type") in check.link_types]
    found: set[Any] = set()
    for member in dict.fromkeys(ends):
        if member == body:
            continue
        units = [member]
        if check.through_organization:
            units += [
                t
                for _, t, e in H.out_edges(member, data=True)
                if e.get("type") == "ORGANIZATION_OF"
            ]
        for unit in units:
            doc = H.nodes[unit]
            if doc.get("label") in check.labels and (
                not check.kinds or doc.get("kind") in check.kinds
            ):
                found.add(unit)
    return sorted(found, key=str)


def _evaluate(H: nx.MultiDiGraph, body: Any, rule: Rule) -> RuleOutcome:
    check = rule.check
    if check.type in ("min_members", "min_linked"):
        return _count_outcome(H, body, rule)
    attrs = H.nodes[body].get("attributes") or {}
    name = str(check.attribute)
    spec = _PARTY_ATTRS.get(name)
    zh = f"{spec.label_zh} ({name})" if spec is not None else name
    unit = (spec.unit or "") if spec is not None else ""
    value = attrs.get(name)
    shown = value_text(value)

    def outcome(status: str, text: Wording, plain: Any) -> RuleOutcome:
        verdict = {"pass": "符合规则", "broken": "不符合规则", "unknown": "无法判断"}[status]
        return RuleOutcome(rule.id, status, f"{text.zh}, {verdict}", text.en, plain)

    if check.type == "has_attribute":
        if value is None or value == "" or value == []:
            return outcome("broken", Wording(f"未记录{zh}", f"{name} missing"), None)
        return outcome("pass", Wording(f"{zh}: {shown.zh}", f"{name} = {value!r}"), _plain(value))
    if value is None:
        return outcome("unknown", Wording(f"未记录{zh}", f"{name} missing"), None)
    if check.type == "min_attribute":
        number = _number(value)
        if number is None:
            return outcome(
                "unknown",
                Wording(f"{zh}记录为 {shown.zh}, 不是数字", f"{name} = {value!r} is not a number"),
                None,
            )
        minimum = float(check.minimum or 0.0)
        sign = "<" if number < minimum else "≥"
        relation = "低于" if number < minimum else "达到"
        return outcome(
            "broken" if number < minimum else "pass",
            Wording(
                f"{zh} {value:g}{unit}, {relation}规则要求的至少 {minimum:g}{unit}",
                f"{name} = {value:g} {sign} {minimum:g}",
            ),
            value,
        )
    # attribute_equals
    if value == check.value and isinstance(value, bool) == isinstance(check.value, bool):
        return outcome("pass", Wording(f"{zh}: {shown.zh}", f"{name} = {value!r}"), _plain(value))
    expected = value_text(check.value)
    return outcome(
        "broken",
        Wording(
            f"{zh}: {shown.zh}, 规则要求为 {expected.zh}",
            f"{name} = {value!r}, expected {check.value!r}",
        ),
        _plain(value),
    )


def _count_outcome(H: nx.MultiDiGraph, body: Any, rule: Rule) -> RuleOutcome:
    """A ``min_members`` or ``min_linked`` rule: the matching members (or linked nodes) counted
    against the minimum."""
    check = rule.check
    members = _joined(H, body, check)
    what = "/".join(check.kinds or check.labels)
    what_zh = "/".join(check.kinds or [NODE_LABELS[label].label_zh for label in check.labels])
    names = listing([str(H.nodes[m].get("name") or m) for m in members], 5)
    status = "pass" if len(members) >= check.count else "broken"
    sign = "≥" if status == "pass" else "<"
    if check.type == "min_members":
        how_zh = f"成员中有{what_zh} {len(members)} 个"
        how_en = f"{len(members)} {what} member(s)"
    else:
        via = "、".join(LINK_TYPES[t].label_zh for t in check.link_types)
        how_zh = f"经{via}联系对接的{what_zh} {len(members)} 个"
        how_en = f"{len(members)} {what} linked"
    verdict = "符合规则" if status == "pass" else "不符合规则"
    return RuleOutcome(
        rule.id,
        status,
        f"{how_zh}, 规则要求至少 {check.count} 个, {verdict}" + (f": {names}" if names else ""),
        f"{how_en} {sign} {check.count}" + (f": {names}" if names else ""),
        len(members),
        tuple(str(m) for m in members),
    )


def _plain(value: Any) -> bool | int | float | str | None:
    if isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def check_rules(
    G: nx.MultiDiGraph,
    rules: Sequence[Rule],
    as_of: dt.date | None = None,
    scope_region: str | None = None,
) -> RuleReport:
    """Check every joint body of ``G`` against the rules that apply to its kind.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        The store's export (with ``ORGANIZATION_OF`` links, so a member 党支部 counts as its
        village or enterprise).
    rules : sequence of Rule
        From :func:`load_rules`.
    as_of : datetime.date, optional
        Only bodies, members and links valid on this day.
    scope_region : str, optional
        Only bodies whose ``region_code`` starts with this code.

    Returns
    -------
    RuleReport
        Per body (by id) the outcome of each applicable rule with its evidence, the rules it
        breaks and those it cannot be judged on (``unknown``: the attribute is missing); per
        rule the counts of bodies checked, passed, broken and unknown.

    References
    ----------
    .. [1] 大众日报, “平原红” 铺就高质量发展底色 (seed document 000): "每个联合体每年至少回引
       10名在外能人,至少配备1名大学生,至少对接1家企业及企业主要负责人,签订结对帮扶协议。"
    """
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise ValueError("rule ids must be unique")
    H = filter_links(G, None, as_of)
    kinds = {k for r in rules for k in r.applies_to}
    bodies = sorted(
        (
            n
            for n, d in H.nodes(data=True)
            if d.get("label") == "PartyOrganization"
            and d.get("kind") in kinds
            and (scope_region is None or str(d.get("region_code") or "").startswith(scope_region))
        ),
        key=str,
    )
    tallies = {r.id: {s: 0 for s in STATUSES} for r in rules}
    reports: list[BodyRuleReport] = []
    for body in bodies:
        doc = H.nodes[body]
        outcomes = [_evaluate(H, body, r) for r in rules if doc.get("kind") in r.applies_to]
        for o in outcomes:
            tallies[o.rule_id][o.status] += 1
        reports.append(
            BodyRuleReport(
                body_id=str(body),
                name=str(doc.get("name") or body),
                kind=str(doc.get("kind")),
                region_code=doc.get("region_code"),
                outcomes=tuple(outcomes),
                broken=tuple(o.rule_id for o in outcomes if o.status == "broken"),
                unknown=tuple(o.rule_id for o in outcomes if o.status == "unknown"),
            )
        )
    summaries = tuple(
        RuleSummary(
            rule_id=r.id,
            description_zh=r.description_zh,
            severity=r.severity,
            checked=sum(tallies[r.id].values()),
            passed=tallies[r.id]["pass"],
            broken=tallies[r.id]["broken"],
            unknown=tallies[r.id]["unknown"],
        )
        for r in rules
    )
    return RuleReport(
        as_of=as_of.isoformat() if as_of is not None else None,
        scope_region=scope_region,
        bodies=tuple(reports),
        rules=summaries,
        bodies_in_breach=sum(1 for b in reports if b.broken),
        breaches=sum(s.broken for s in summaries),
    )

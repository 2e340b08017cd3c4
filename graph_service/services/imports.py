"""Spreadsheet import: a planner's 台账 into the graph, previewed, committed, undone.

The file is read and mapped by :mod:`graph_service.tables`; this module resolves each row's
names against the graph (:class:`~graph_service.services.resolution.NameResolver`, within the
row's town when the sheet gives one, else within the import's region) and plans what the
row becomes:

- ``matched``: the name is a node of the graph (score and explanation given); a node sheet
  fills the attributes the node lacks, a link sheet links the two ends;
- ``new``: nothing in the region resembles it: a new node (a village must match: villages
  come from the register);
- ``ambiguous``: several nodes could be meant, or the best is not sure enough: the row goes
  to the review queue with its candidates when the import is committed;
- ``rejected``: the row cannot be imported (row number and reason, per field).

A preview changes nothing. A commit plans again, and when ``plan_digest`` (the preview's) is
given and the plan differs — the graph or the file changed in between — refuses with 409
``plan_changed``. It writes the accepted rows in one transaction, with provenance (file,
sheet, row), together with an ``import`` record and the review items of the ambiguous rows;
:meth:`ImportService.undo` takes the whole commit back as one unit.

Names written several ways in one file (森力啤酒饮料公司 / 森力啤酒饮料有限公司) become one
new node: later rows match the new nodes of earlier ones by their normalised core.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from pydantic import ValidationError

from graph_service.access import Caller, check_role
from graph_service.errors import ConflictError, InvalidInputError, NotFoundError
from graph_service.models import LINK_ADAPTER, NODE_ADAPTER, derive_link_id, link_doc, node_doc
from graph_service.names import NameCandidate, NameMatch, name_form, normalise, rank_names
from graph_service.schema import LINK_TYPES, NODE_LABELS, link_allows
from graph_service.search_text import clean
from graph_service.services.changes import (
    change_set_of,
    current_record,
    new_record,
    undo_change_set,
)
from graph_service.services.graph import write_context
from graph_service.services.resolution import NameResolver, match_json
from graph_service.services.review import Applied, ReviewService, review_item
from graph_service.services.view import GraphView
from graph_service.store.protocol import GraphStore, Page, RecordDoc, RecordQuery, WriteBatch
from graph_service.tables import (
    FIELD_NAMES,
    ColumnMapping,
    MappedRow,
    Table,
    apply_overrides,
    guess_mapping,
    mapping_from_json,
    mapping_to_json,
    read_rows,
    read_table,
    table_kind,
)
from graph_service.vocabulary import ORGANISATION_SUFFIXES, label_of_name

__all__ = [
    "MATCH_SCORE",
    "NEW_BELOW",
    "ImportOptions",
    "ImportPlan",
    "ImportService",
    "RowPlan",
]

#: A best candidate at or above this score, clear of the second, is the row's node.
MATCH_SCORE: Final[float] = 0.9
#: Below this, nothing in the region is meant: a new node.
NEW_BELOW: Final[float] = 0.6
#: The best must lead the second by this much to be taken without review.
_MARGIN: Final[float] = 0.05
#: Rows shown in full in a preview (counts cover all of them).
PREVIEW_ROWS: Final[int] = 1000
_REGION_LENGTHS: Final[tuple[int, ...]] = (6, 9)
#: Where a link sheet's relation goes when the row does not say: a pairing (结对台账).
_DEFAULT_LINK_TYPE: Final[str] = "PAIRS_WITH"
_PARTY_KINDS: Final[dict[str, str]] = {
    suffix: suffix
    for suffix in NODE_LABELS["PartyOrganization"].kinds
    if suffix in (*ORGANISATION_SUFFIXES["party"], *ORGANISATION_SUFFIXES["joint_body"])
}
#: Link attributes a row may carry.
_LINK_FIELDS: Final[tuple[str, ...]] = ("agreement_signed", "meetings_per_year")
_CONTACT_FIELDS: Final[tuple[str, ...]] = ("contact_person", "contact_phone")


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """What the caller says of a file besides its bytes."""

    filename: str
    region_code: str
    sheet: str | None = None
    #: Header → field (or ``None`` to ignore the column): corrections of the guessed mapping.
    overrides: Mapping[str, str | None] = field(default_factory=dict)
    #: A saved mapping to start from instead of the guess.
    mapping_name: str | None = None
    #: Save the mapping used under this name (on commit).
    save_mapping_as: str | None = None
    #: The label of a node sheet's names (else each row's 类型, else the name's suffix).
    label: str | None = None
    #: The relation of a link sheet's rows without a 联建类型.
    link_type: str | None = None


@dataclass(slots=True)
class RowPlan:
    row: int
    status: str  # matched | new | ambiguous | rejected
    node: dict[str, Any] | None = None
    partner: dict[str, Any] | None = None
    link: dict[str, Any] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: For ambiguous rows: which end, and its candidates.
    ambiguous: dict[str, Any] | None = None
    #: What a commit writes for this row (node and link documents), not shown.
    writes: dict[str, Any] = field(default_factory=dict)

    def shown(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "status": self.status}
        for key in ("node", "partner", "link", "ambiguous"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.errors:
            out["errors"] = self.errors
        if self.notes:
            out["notes"] = self.notes
        return out


@dataclass(slots=True)
class ImportPlan:
    options: ImportOptions
    table: Table
    mapping: ColumnMapping
    kind: str
    rows: list[RowPlan]
    sha256: str
    version: int

    def counts(self) -> dict[str, int]:
        counts = {"rows": len(self.rows), "matched": 0, "new": 0, "ambiguous": 0, "rejected": 0}
        for row in self.rows:
            counts[row.status] += 1
        return counts

    def digest(self) -> str:
        """What the plan decides, hashed: equal digests, equal commits."""
        decided = [
            (
                r.row,
                r.status,
                [d["id"] for d in r.writes.get("nodes", ())],
                [d["id"] for d in r.writes.get("links", ())],
                r.ambiguous,
            )
            for r in self.rows
        ]
        body = orjson.dumps(
            [self.sha256, self.kind, mapping_to_json(self.mapping), decided],
            option=orjson.OPT_SORT_KEYS,
            default=str,
        )
        return hashlib.sha256(body).hexdigest()[:32]

    def shown(self, rows: int = PREVIEW_ROWS) -> dict[str, Any]:
        return {
            "file": self.options.filename,
            "sha256": self.sha256,
            "sheet": self.table.sheet,
            "sheets": self.table.sheets,
            "header_row": self.table.header_row,
            "region_code": self.options.region_code,
            "table_kind": self.kind,
            "mapping": mapping_to_json(self.mapping),
            "unmapped": list(self.mapping.unmapped),
            "skipped_empty_rows": self.table.skipped_empty,
            "notes": list(self.table.notes) + list(self.mapping.notes),
            "counts": self.counts(),
            "plan_digest": self.digest(),
            "rows": [r.shown() for r in self.rows[:rows]],
            "rows_shown": min(rows, len(self.rows)),
        }


class _Scope:
    """Candidates of one region for one plan, with the new nodes of earlier rows."""

    def __init__(self, candidates: list[NameCandidate], region_names: list[str]) -> None:
        self.candidates = candidates
        self.region_names = region_names
        #: New nodes of earlier rows, by label and core, with the document that makes them.
        self.new: dict[tuple[str, str], tuple[NameCandidate, dict[str, Any]]] = {}
        self.cache: dict[tuple[str, str | None], list[NameMatch]] = {}


class ImportService:
    def __init__(self, store: GraphStore, resolver: NameResolver, review: ReviewService) -> None:
        self.store = store
        self.resolver = resolver
        self.review = review
        review.appliers["import_row"] = self._apply_item

    # ------------------------------------------------------------------ mappings

    async def save_mapping(
        self, caller: Caller, name: str, mapping: Mapping[str, Any], request_id: str | None
    ) -> dict[str, Any]:
        check_role(caller, "editor", "saving a column mapping")
        name = _mapping_name(name)
        parsed = mapping_from_json(mapping)
        record = new_record(
            "mapping", name, "saved", None, mapping=mapping_to_json(parsed), by=caller.name
        )
        await self.store.write(
            WriteBatch(records=[record], context=write_context(caller, "mapping.save", request_id))
        )
        return _mapping_shown(record)

    async def mapping(self, name: str) -> dict[str, Any]:
        return _mapping_shown(await current_record(self.store, "mapping", name, "mapping_name"))

    async def mappings(self) -> list[dict[str, Any]]:
        page = await self.store.list_records(RecordQuery("mapping", current=True), None, 1000)
        return [_mapping_shown(r) for r in page.items]

    # ------------------------------------------------------------------ plan

    async def plan(
        self,
        view: GraphView,
        data: bytes,
        options: ImportOptions,
        max_bytes: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportPlan:
        """Read, map and resolve every row; nothing is written."""
        region = clean(options.region_code)
        if not region.isdigit() or len(region) not in _REGION_LENGTHS:
            raise InvalidInputError(
                "an import goes into a county (6 digits) or a town (9 digits)",
                field="region_code",
            )
        if await view.get_nodes([f"region:{region}"]) == {}:
            raise NotFoundError(f"no region {region}", field="region_code")
        if options.label is not None and options.label not in NODE_LABELS:
            raise InvalidInputError(f"unknown label {options.label}", field="label")
        if options.link_type is not None and options.link_type not in LINK_TYPES:
            raise InvalidInputError(f"unknown link type {options.link_type}", field="link_type")
        table = read_table(data, options.filename, sheet=options.sheet, max_bytes=max_bytes)
        if options.mapping_name:
            saved = await current_record(
                self.store, "mapping", _mapping_name(options.mapping_name), "mapping_name"
            )
            mapping = _fit(mapping_from_json(saved["mapping"]), table.headers)
        else:
            mapping = guess_mapping(table.headers)
        if options.overrides:
            mapping = apply_overrides(mapping, options.overrides)
        kind = table_kind(mapping)
        version = await self.store.version()
        planner = _Planner(self.resolver, view, region, options, kind)
        rows: list[RowPlan] = []
        total = len(table.rows)
        for index, mapped in enumerate(read_rows(table, mapping)):
            rows.append(await planner.row(mapped))
            if progress is not None and (index % 500 == 0 or index + 1 == total):
                progress(index + 1, total)
        sha = hashlib.sha256(data).hexdigest()
        return ImportPlan(options, table, mapping, kind, rows, sha, version)

    # ------------------------------------------------------------------ commit

    async def commit(
        self,
        view: GraphView,
        caller: Caller,
        data: bytes,
        options: ImportOptions,
        max_bytes: int,
        plan_digest: str | None,
        request_id: str | None,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Plan again and write the accepted rows as one unit (module docstring)."""
        # Why this is long: everything one commit writes (rows, review items, the import
        # record, a saved mapping) is gathered into one batch: one transaction, one undo.
        check_role(caller, "editor", "an import")
        plan = await self.plan(view, data, options, max_bytes, progress)
        if plan_digest is not None and plan.digest() != plan_digest:
            raise ConflictError(
                "the plan changed since the preview (the graph or the file): preview again",
                field="plan_digest",
                code="plan_changed",
                details={"counts": plan.counts(), "plan_digest": plan.digest()},
            )
        import_id = (
            "im_"
            + hashlib.sha256(
                f"{plan.sha256}|{caller.name}|{dt.datetime.now(dt.UTC).isoformat()}".encode()
            ).hexdigest()[:12]
        )
        nodes: dict[str, dict[str, Any]] = {}
        links: dict[str, dict[str, Any]] = {}
        items: list[RecordDoc] = []
        origin = {
            "source": "import",
            "import_id": import_id,
            "file": options.filename,
            "sheet": plan.table.sheet,
        }
        for row in plan.rows:
            if row.status in ("matched", "new"):
                for doc in row.writes.get("nodes", ()):
                    nodes[doc["id"]] = _combined(nodes.get(doc["id"]), doc)
                for doc in row.writes.get("links", ()):
                    links[doc["id"]] = _combined(links.get(doc["id"]), doc)
            elif row.status == "ambiguous":
                subject = {
                    "row": row.row,
                    "table_kind": plan.kind,
                    "values": row.writes.get("values"),
                    "options": {"label": options.label, "link_type": options.link_type},
                    **(row.ambiguous or {}),
                }
                evidence = {"file": options.filename, "sheet": plan.table.sheet, "row": row.row}
                items.append(
                    review_item(
                        "import_row",
                        {**origin, "row": row.row},
                        subject,
                        evidence,
                        caller,
                        clean(options.region_code),
                    )
                )
        counts = plan.counts()
        record = new_record(
            "import",
            import_id,
            "committed",
            clean(options.region_code),
            import_id=import_id,
            file=options.filename,
            sha256=plan.sha256,
            sheet=plan.table.sheet,
            table_kind=plan.kind,
            mapping=mapping_to_json(plan.mapping),
            counts=counts,
            nodes_written=len(nodes),
            links_written=len(links),
            review_items=[i["key"] for i in items],
            by=caller.name,
        )
        records = [record, *items]
        if options.save_mapping_as:
            records.append(
                new_record(
                    "mapping",
                    _mapping_name(options.save_mapping_as),
                    "saved",
                    None,
                    mapping=mapping_to_json(plan.mapping),
                    by=caller.name,
                )
            )
        result = await self.store.write(
            WriteBatch(
                nodes=list(nodes.values()),
                links=list(links.values()),
                records=records,
                context=write_context(caller, "import", request_id),
            )
        )
        return {
            "import_id": import_id,
            "status": "committed",
            "counts": counts,
            "nodes_created": result.nodes_created,
            "nodes_updated": result.nodes_updated,
            "links_created": result.links_created,
            "links_updated": result.links_updated,
            "review_items": [i["key"] for i in items],
            "rejected": [r.shown() for r in plan.rows if r.status == "rejected"][:PREVIEW_ROWS],
            "plan_digest": plan.digest(),
        }

    async def undo(self, caller: Caller, import_id: str, request_id: str | None) -> dict[str, Any]:
        """Take a committed import back as one unit (refused if its rows changed since)."""
        check_role(caller, "editor", "undoing an import")
        record = await current_record(self.store, "import", import_id, "import_id")
        if record["status"] != "committed":
            raise ConflictError(f"import {import_id} was undone already", field="import_id")
        entries = await change_set_of(self.store, record)
        kept = {k: v for k, v in record.items() if k not in ("id", "at", "status", "kind", "key")}
        undone = {
            **kept,
            **new_record("import", import_id, "undone", record.get("region")),
            "undone_by": caller.name,
        }
        result = await undo_change_set(
            self.store, entries, write_context(caller, "import.undo", request_id), [undone]
        )
        return {
            "import_id": import_id,
            "status": "undone",
            "nodes_deleted": result.nodes_deleted,
            "links_deleted": result.links_deleted,
            "nodes_restored": result.nodes_updated + result.nodes_created,
            "links_restored": result.links_updated + result.links_created,
        }

    async def imports(self, cursor: str | None, limit: int) -> Page:
        page = await self.store.list_records(
            RecordQuery("import", current=True, newest_first=True), cursor, limit
        )
        return Page([_import_shown(r) for r in page.items], page.next_cursor)

    async def import_record(self, import_id: str) -> dict[str, Any]:
        return _import_shown(await current_record(self.store, "import", import_id, "import_id"))

    # ------------------------------------------------------------------ review

    async def _apply_item(
        self, view: GraphView, caller: Caller, item: RecordDoc, choice: Mapping[str, Any]
    ) -> Applied:
        """A reviewed ambiguous row: ``choice["node"]`` is the candidate meant, or ``new``."""
        subject = item["subject"]
        chosen = str(choice.get("node") or "")
        allowed = {c["node"]["id"] for c in subject.get("candidates") or ()}
        if chosen != "new" and chosen not in allowed:
            raise InvalidInputError(
                "node is one of the candidates' ids, or new",
                field="node",
                details={"candidates": sorted(allowed)},
            )
        values = dict(subject.get("values") or {})
        given = subject.get("options") or {}
        options = ImportOptions(
            filename=str(item["origin"].get("file")),
            region_code=str(item.get("region") or ""),
            sheet=item["origin"].get("sheet"),
            label=given.get("label"),
            link_type=given.get("link_type"),
        )
        planner = _Planner(self.resolver, view, options.region_code, options, subject["table_kind"])
        end = str(subject.get("end") or "name")
        planner.forced[end] = chosen
        row = await planner.row(
            MappedRow(number=int(subject["row"]), values=values, errors=[], notes=[])
        )
        if row.status not in ("matched", "new"):
            reasons = "; ".join(e["message"] for e in row.errors) or row.status
            raise ConflictError(f"the row cannot be written now: {reasons}", field="node")
        node_id = chosen if chosen != "new" else None
        docs = row.writes.get("nodes", [])
        if node_id is None and docs:
            node_id = docs[0]["id"] if end == "name" else docs[-1]["id"]
        return Applied(nodes=list(docs), links=list(row.writes.get("links", [])), node_id=node_id)


class _Planner:
    """Plans rows of one import (one per commit or preview)."""

    def __init__(
        self,
        resolver: NameResolver,
        view: GraphView,
        region: str,
        options: ImportOptions,
        kind: str,
    ) -> None:
        self.resolver = resolver
        self.view = view
        self.region = region
        self.options = options
        self.kind = kind
        self.scopes: dict[str, _Scope] = {}
        self.towns: dict[str, str | None] = {}
        #: A reviewer's choice for one end of the row (``name``/``partner``): a node id or new.
        self.forced: dict[str, str] = {}
        self.now = dt.datetime.now(dt.UTC).isoformat()
        self.stored: dict[str, dict[str, Any] | None] = {}
        #: Matched nodes as this plan leaves them (attributes filled, sources added).
        self.filled: dict[str, dict[str, Any]] = {}
        #: Links validated, by their document without sources.
        self.valid_links: dict[bytes, dict[str, Any]] = {}

    async def _stored(self, node_id: str) -> dict[str, Any] | None:
        if node_id not in self.stored:
            self.stored[node_id] = (await self.view.get_nodes([node_id])).get(node_id)
        return self.stored[node_id]

    async def _scope(self, code: str) -> _Scope:
        scope = self.scopes.get(code)
        if scope is None:
            candidates, names = await self.resolver.scope(self.view, code)
            scope = self.scopes[code] = _Scope(candidates, names)
        return scope

    async def _town(self, town: str | None) -> tuple[str, list[str]]:
        """The region a row's names are looked up in: its town when the row names one that
        resolves, else the import's region."""
        notes: list[str] = []
        if not town or len(self.region) != 6:
            return self.region, notes
        if town not in self.towns:
            scope = await self._scope(self.region)
            matches = rank_names(
                town, scope.candidates, label="Region", region_names=scope.region_names, limit=2
            )
            code = None
            if _clear_best(matches, NEW_BELOW):
                code = matches[0].candidate.region_code
            self.towns[town] = code
        code = self.towns[town]
        if code is None:
            notes.append(f"town {town} not found in {self.region}: looked up in the county")
            return self.region, notes
        return code, notes

    async def _resolve(
        self, name: str, label: str | None, code: str
    ) -> tuple[str, list[NameMatch], _Scope]:
        """(status, matches, scope) of one name: matched, new or ambiguous."""
        scope = await self._scope(code)
        key = (normalise(name), label)
        matches = scope.cache.get(key)
        if matches is None:
            matches = rank_names(
                name,
                scope.candidates,
                label=label,
                region_names=scope.region_names,
                limit=5,
                min_score=NEW_BELOW,
            )
            scope.cache[key] = matches
        if not matches:
            return "new", matches, scope
        if _clear_best(matches, MATCH_SCORE):
            return "matched", matches, scope
        return "ambiguous", matches, scope

    async def row(self, mapped: MappedRow) -> RowPlan:
        plan = RowPlan(row=mapped.number, status="rejected", notes=list(mapped.notes))
        values = mapped.values
        plan.writes["values"] = _jsonable(values)
        if mapped.errors:
            plan.errors = [
                {"field": e.field, "header": e.header, "message": e.message} for e in mapped.errors
            ]
            return plan
        name = values.get("name") or values.get("source_name")
        if not name:
            plan.errors.append({"field": "name", "message": "no name"})
            return plan
        code, notes = await self._town(values.get("town"))
        plan.notes += notes
        label = values.get("label") or self.options.label
        if self.kind == "links":
            label = label or "Village"
        end = await self._end(plan, "name", str(name), label, code, values, primary=True)
        if end is None:
            return plan
        if self.kind == "nodes":
            plan.status = end.status
            return plan
        partner = values.get("partner") or values.get("target_name")
        if not partner:
            plan.errors.append({"field": "partner", "message": "no partner"})
            plan.status = "rejected"
            return plan
        partner_label = values.get("partner_label") or label_of_name(str(partner))
        other = await self._end(plan, "partner", str(partner), partner_label, self.region, values)
        if other is None:
            return plan
        link = self._link(plan, end, other, values)
        if link is None:
            return plan
        statuses = {end.status, other.status}
        plan.status = (
            "ambiguous" if "ambiguous" in statuses else ("new" if "new" in statuses else "matched")
        )
        if plan.status != "ambiguous":
            plan.writes["links"] = [link]
        return plan

    async def _end(
        self,
        plan: RowPlan,
        role: str,
        name: str,
        label: str | None,
        code: str,
        values: Mapping[str, Any],
        primary: bool = False,
    ) -> _End | None:
        """Resolve one end of a row; ``None`` (row rejected) when it cannot be."""
        forced = self.forced.get(role)
        status, matches, scope = await self._resolve(name, label, code)
        if status == "new" and code != self.region:
            # The town a ledger gives may be wrong (a merged cell, an old boundary): the
            # county is asked before anything is made.
            status, matches, scope = await self._resolve(name, label, self.region)
            if status != "new":
                plan.notes.append(f"{name} is not in town {code}: found in {self.region}")
        if forced == "new":
            status, matches = "new", []
        elif forced:
            chosen = [m for m in matches if m.candidate.id == forced]
            stored = await self._stored(forced)
            if stored is None:
                plan.errors.append({"field": role, "message": f"no node {forced}"})
                return None
            status = "matched"
            matches = chosen
            shown = {"id": forced, "name": stored["name"], "label": stored["label"]}
            setattr(plan, "node" if role == "name" else "partner", {"status": status, **shown})
            doc = await self._filled(stored, values if primary else {}, plan)
            if doc is not None:
                plan.writes.setdefault("nodes", []).append(doc)
            return _End(forced, str(stored["label"]), status)
        form = name_form(name, scope.region_names, label)
        if status == "new":
            new_key = (label or label_of_name(name) or "", form.core)
            known = scope.new.get(new_key)
            if known is not None:
                # The node an earlier row made: this row needs it too (that row may not be
                # written: ambiguous or rejected for another reason).
                twin, twin_doc = known
                plan.writes.setdefault("nodes", []).append(twin_doc)
                setattr(plan, "node" if role == "name" else "partner", _ref("new", twin))
                return _End(twin.id, twin.label, "new")
            made = self._new_node(plan, role, name, label, code, values if primary else {})
            if made is None:
                return None
            candidate = NameCandidate(made["id"], made["name"], made["label"])
            scope.new[new_key] = (candidate, made)
            plan.writes.setdefault("nodes", []).append(made)
            setattr(plan, "node" if role == "name" else "partner", _ref("new", candidate))
            return _End(made["id"], made["label"], "new")
        best = matches[0]
        shown = {"status": status, **match_json(best)}
        setattr(plan, "node" if role == "name" else "partner", shown)
        if status == "ambiguous":
            plan.ambiguous = {
                "end": role,
                "name": name,
                "label": label,
                "candidates": [match_json(m) for m in matches],
            }
            plan.status = "ambiguous"
            return _End(best.candidate.id, best.candidate.label, "ambiguous")
        if primary:
            stored = await self._stored(best.candidate.id)
            if stored is not None:
                doc = await self._filled(stored, values, plan)
                if doc is not None:
                    plan.writes.setdefault("nodes", []).append(doc)
        return _End(best.candidate.id, best.candidate.label, "matched")

    def _source(self, plan: RowPlan) -> dict[str, Any]:
        sheet = self.options.sheet or "-"
        return {
            "kind": "import",
            "document": self.options.filename[:200],
            "quote": f"{sheet} 第{plan.row}行",
            "by": self.view.caller.name,
            "recorded_at": self.now,
        }

    async def _filled(
        self, stored: Mapping[str, Any], values: Mapping[str, Any], plan: RowPlan
    ) -> dict[str, Any] | None:
        """``stored`` with the attributes the rows so far give and it lacks, each filling row
        as a source; ``None`` while no row adds anything. One document per node and plan:
        every row of the node carries it (whichever of them is written writes it), and it is
        validated only when a row adds to it."""
        node_id = str(stored["id"])
        planned = self.filled.get(node_id)
        if planned is not None:
            stored = planned
        spec = NODE_LABELS[str(stored["label"])]
        allowed = {a.name for a in spec.attributes}
        attributes = dict(stored.get("attributes") or {})
        added = {
            k: _plain(values[k])
            for k in (*_CONTACT_FIELDS, "credit_code")
            if k in allowed and values.get(k) is not None and attributes.get(k) is None
        }
        aliases = list(stored.get("aliases") or ())
        for alias in values.get("aliases") or ():
            if alias != stored["name"] and alias not in aliases:
                aliases.append(alias)
        if not added and aliases == list(stored.get("aliases") or ()):
            return planned
        doc = {**stored, "attributes": {**attributes, **added}, "aliases": aliases[:50]}
        doc["sources"] = [*(stored.get("sources") or ()), self._source(plan)][-100:]
        valid = self._validated(plan, doc, node=True)
        if valid is not None:
            self.filled[node_id] = valid
        return valid if valid is not None else planned

    def _new_node(
        self,
        plan: RowPlan,
        role: str,
        name: str,
        label: str | None,
        code: str,
        values: Mapping[str, Any],
    ) -> dict[str, Any] | None:
        label = label or label_of_name(name)
        if label is None:
            plan.errors.append(
                {
                    "field": "partner_label" if role == "partner" else "label",
                    "message": f"what {name} is (企业, 机关, 银行 …) is not known: add a "
                    "单位类型 column or say the label",
                }
            )
            return None
        if label in ("Village", "Region"):
            plan.errors.append(
                {
                    "field": role,
                    "message": f"no {'village' if label == 'Village' else 'region'} {name} in "
                    f"{code}: villages and regions come from the division register",
                }
            )
            return None
        spec = NODE_LABELS[label]
        kind = values.get("kind") if role == "name" else None
        if label == "PartyOrganization" and kind is None:
            kind = next((k for k in _PARTY_KINDS if name.endswith(k)), None)
        allowed = {a.name for a in spec.attributes}
        attributes = {
            k: _plain(values[k])
            for k in (*_CONTACT_FIELDS, "credit_code")
            if k in allowed and values.get(k) is not None
        }
        form = name_form(name, (), label)
        digest = hashlib.blake2b(f"{label}|{code}|{form.core}".encode(), digest_size=8)
        doc: dict[str, Any] = {
            "id": f"imp:{label.lower()}:{digest.hexdigest()}",
            "label": label,
            "name": name,
            "region_code": code,
            "attributes": attributes,
            "aliases": [a for a in values.get("aliases") or () if a != name][:50],
            "sources": [self._source(plan)],
        }
        if kind is not None:
            doc["kind"] = kind
        return self._validated(plan, doc, node=True)

    def _link(
        self, plan: RowPlan, end: _End, other: _End, values: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        link_type = values.get("link_type") or self.options.link_type or _DEFAULT_LINK_TYPE
        # The partner helps, lends, sends: it is the source where the type allows it.
        if link_allows(link_type, other.label, end.label):
            source, target = other, end
        elif link_allows(link_type, end.label, other.label):
            source, target = end, other
        else:
            plan.errors.append(
                {
                    "field": "link_type",
                    "message": f"{link_type} cannot join a {other.label} and a {end.label}",
                }
            )
            plan.status = "rejected"
            return None
        spec = LINK_TYPES[link_type]
        allowed = {a.name for a in spec.attributes}
        attributes = {k: _plain(values[k]) for k in _LINK_FIELDS if k in allowed and k in values}
        doc: dict[str, Any] = {
            "id": derive_link_id(link_type, source.node_id, target.node_id),
            "type": link_type,
            "source": source.node_id,
            "target": target.node_id,
            "attributes": attributes,
            "sources": [self._source(plan)],
        }
        for key in ("valid_from", "valid_to"):
            if values.get(key) is not None:
                doc[key] = _plain(values[key])
        plan.link = {"type": link_type, "source": source.node_id, "target": target.node_id}
        if end.status == "ambiguous" or other.status == "ambiguous":
            return doc
        # Rows of one link alike but for their source row are validated once.
        shape = orjson.dumps({**doc, "sources": None}, option=orjson.OPT_SORT_KEYS)
        known = self.valid_links.get(shape)
        if known is not None:
            return {**known, "sources": doc["sources"]}
        valid = self._validated(plan, doc, node=False)
        if valid is not None:
            self.valid_links[shape] = valid
        return valid

    @staticmethod
    def _validated(plan: RowPlan, doc: dict[str, Any], node: bool) -> dict[str, Any] | None:
        try:
            if node:
                return node_doc(NODE_ADAPTER.validate_python(doc))
            return link_doc(LINK_ADAPTER.validate_python(doc))
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(p) for p in error["loc"][1:]) or None
                plan.errors.append({"field": where, "message": error["msg"]})
            plan.status = "rejected"
            return None


@dataclass(frozen=True, slots=True)
class _End:
    node_id: str
    label: str
    status: str


def _clear_best(matches: Sequence[NameMatch], least: float) -> bool:
    """Whether the best match reaches ``least`` and leads the second by the margin."""
    if not matches or matches[0].score < least:
        return False
    return len(matches) == 1 or matches[0].score - matches[1].score >= _MARGIN


def _ref(status: str, candidate: NameCandidate) -> dict[str, Any]:
    return {
        "status": status,
        "node": {"id": candidate.id, "name": candidate.name, "label": candidate.label},
    }


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in values.items()}


def _combined(first: dict[str, Any] | None, doc: dict[str, Any]) -> dict[str, Any]:
    """Two rows writing one entity: the later's values, both rows' sources."""
    if first is None:
        return doc
    sources = list(first.get("sources") or ())
    sources += [s for s in doc.get("sources") or () if s not in sources]
    attributes = {**(first.get("attributes") or {}), **(doc.get("attributes") or {})}
    return {**first, **doc, "attributes": attributes, "sources": sources[-100:]}


def _fit(mapping: ColumnMapping, headers: Sequence[str]) -> ColumnMapping:
    """A saved mapping applied to this sheet's headers (headers it does not know: guessed)."""
    guessed = guess_mapping(headers)
    columns = {h: mapping.columns.get(h, guessed.columns.get(h)) for h in headers}
    return ColumnMapping(
        columns=columns,
        confidence={
            h: 1.0 if h in mapping.columns else guessed.confidence.get(h, 0.0) for h in headers
        },
        unmapped=[h for h in headers if columns.get(h) is None],
        notes=list(guessed.notes),
    )


def _mapping_name(name: str) -> str:
    text = clean(name)
    if not text or len(text) > 100 or any(c in text for c in "/\\?#%"):
        raise InvalidInputError(
            "a mapping name is 1–100 characters without / \\ ? # %", field="mapping_name"
        )
    return text


def _mapping_shown(record: RecordDoc) -> dict[str, Any]:
    return {
        "name": record["key"],
        "mapping": record.get("mapping"),
        "by": record.get("by"),
        "at": record["at"],
        "fields": list(FIELD_NAMES),
    }


def _import_shown(record: RecordDoc) -> dict[str, Any]:
    return {
        "import_id": record["key"],
        "status": record["status"],
        "file": record.get("file"),
        "sha256": record.get("sha256"),
        "sheet": record.get("sheet"),
        "region_code": record.get("region"),
        "table_kind": record.get("table_kind"),
        "counts": record.get("counts"),
        "nodes_written": record.get("nodes_written"),
        "links_written": record.get("links_written"),
        "review_items": record.get("review_items"),
        "by": record.get("by"),
        "at": record["at"],
    }

"""``graph-service recommend …``: partners, region-wide assignment, what-if and judgements
from the command line, through the same service the HTTP API uses. Prints JSON."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ValidationError

from graph_service.cli import runtime
from graph_service.cli.runtime import bad_option, console, parse_date, print_json, run, view_of
from graph_service.domain import MAX_CANDIDATES
from graph_service.models import AssignmentIn, JudgementIn, WhatIfIn, error_list
from graph_service.services.recommendations import RecommendationService
from graph_service.store.protocol import GraphStore

__all__ = ["recommend_app"]

recommend_app = typer.Typer(
    help="Pairing recommendations: partners, assignment, what-if, judgements. Prints JSON.",
    no_args_is_help=True,
)

AsOf = Annotated[
    str | None, typer.Option("--as-of", help="Only what was valid on this date (YYYY-MM-DD).")
]
Program = Annotated[str | None, typer.Option(help="Program id (百企帮百村 …).")]
Distance = Annotated[
    str | None, typer.Option("--max-distance", help="town | county | city | province")
]


def _validated(model: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in error_list(exc):
            console.print(f"[red]error[/red] {err['field']}: {err['message']}")
        raise typer.Exit(2) from exc


def _recommendations(work: Any) -> Any:
    """Run ``work(service, view)`` as the operator against the configured store, print its
    JSON and return it."""

    async def job(store: GraphStore) -> Any:
        tie_weight = runtime.get_settings().recommend_tie_weight
        return await work(RecommendationService(store, tie_weight), view_of(store))

    result = run(job)
    print_json(result)
    return result


def _print_funnel(plan: dict[str, Any]) -> None:
    """The plan's funnel for the planner at the terminal (stderr: stdout stays the JSON
    that ``what-if --plan`` reads)."""
    console.print(
        f"分配方案: {len(plan['pairs'])} 对, {plan['covered']} / {plan['villages']} 个村"
        f"分配到所需帮扶方, 可用帮扶方 {plan['helpers']} 个",
        soft_wrap=True,
    )
    for step in plan["funnel"]:
        subject = "村" if step["subject"] == "villages" else "帮扶方"
        line = f"  [{subject}] {step['label']}: {step['count_in']} → {step['count_out']}"
        removed = step["count_in"] - step["count_out"]
        if removed:
            names = "、".join(e["name"] or e["id"] for e in step["removed_examples"])
            more = " …" if removed > len(step["removed_examples"]) else ""
            line += f" (去掉 {removed} 个: {names}{more})" if names else f" (去掉 {removed} 个)"
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    reasons = Counter(row["reason"] for row in plan["unassigned"])
    if reasons:
        shown = ", ".join(f"{reason} {n}" for reason, n in sorted(reasons.items()))
        console.print(f"  未分配: {shown}", highlight=False, soft_wrap=True)


@recommend_app.command("partners")
def partners(
    target: Annotated[str, typer.Argument(help="A village, its party organization, or a helper.")],
    top: Annotated[int, typer.Option(min=1, max=MAX_CANDIDATES)] = 10,
    partner_label: Annotated[
        list[str] | None,
        typer.Option(
            "--partner-label",
            help="Village | Enterprise | Institution | "
            "PartyOrganization (joint bodies); repeatable.",
        ),
    ] = None,
    max_distance: Distance = None,
    program: Program = None,
    relation: Annotated[str, typer.Option(help="pairing | co_building")] = "pairing",
    include_full: Annotated[
        bool, typer.Option(help="Keep helpers (or villages) without a free place.")
    ] = False,
    as_of: AsOf = None,
) -> None:
    """Ranked partners for one target, with the reasons behind each score."""
    if relation not in ("pairing", "co_building"):
        raise bad_option("--relation is pairing or co_building")
    if max_distance is not None and max_distance not in ("town", "county", "city", "province"):
        raise bad_option("--max-distance is town, county, city or province")
    day = parse_date(as_of, "--as-of")
    _recommendations(
        lambda s, v: s.partners(
            v,
            target,
            top,
            partner_label or (),
            max_distance,
            program,
            day,
            relation,
            include_full,
        )
    )


@recommend_app.command("assign")
def assign(
    region: Annotated[str, typer.Option(help="City, county or town division code.")],
    program: Program = None,
    village: Annotated[
        list[str] | None,
        typer.Option(
            "--village",
            help="A village to help (repeatable); default: weak villages not yet paired.",
        ),
    ] = None,
    helper: Annotated[
        list[str] | None,
        typer.Option("--helper", help="A helper (repeatable); default: every possible helper."),
    ] = None,
    k: Annotated[int, typer.Option("-k", help="Villages a helper takes at most.")] = 1,
    capacities: Annotated[
        bool, typer.Option("--capacities", help="Use each helper's free places instead of -k.")
    ] = False,
    m: Annotated[int, typer.Option("-m", help="Helpers a village takes at most.")] = 1,
    min_helpers: Annotated[int, typer.Option(help="Helpers a village needs.")] = 1,
    top_candidates: Annotated[int, typer.Option(help="Candidate helpers per village.")] = 50,
    max_distance: Distance = None,
    as_of: AsOf = None,
) -> None:
    """A region-wide plan by min-cost flow: helpers to villages under capacities. Prints the
    plan's JSON, and on stderr its funnel: what each step (薄弱村, 尚无结对帮扶方, 有空余帮扶名额
    …) kept and whom it removed."""
    request = _validated(
        AssignmentIn,
        {
            "region": region,
            "program": program,
            "villages": village,
            "helpers": helper,
            "k": None if capacities else k,
            "m": m,
            "min_helpers": min_helpers,
            "top_candidates": top_candidates,
            "max_distance": max_distance,
            "as_of": as_of,
        },
    )
    _print_funnel(_recommendations(lambda s, v: s.assignment(v, request)))


@recommend_app.command("what-if")
def what_if(
    pair: Annotated[
        list[str] | None,
        typer.Option("--pair", help="HELPER=VILLAGE, a proposed pairing (repeatable)."),
    ] = None,
    plan: Annotated[
        Path | None,
        typer.Option(help="The JSON of `recommend assign`: propose its pairs.", exists=True),
    ] = None,
    region: Annotated[str | None, typer.Option(help="Report on this region.")] = None,
    program: Program = None,
    top: Annotated[int, typer.Option(help="PageRank risers to list.")] = 10,
    as_of: AsOf = None,
) -> None:
    """What proposed pairings would change (coverage, connectivity, centrality); writes
    nothing."""
    proposed: list[dict[str, str]] = []
    for text in pair or ():
        helper_id, sep, village_id = text.partition("=")
        if not sep or not helper_id or not village_id:
            raise bad_option(f"--pair is HELPER=VILLAGE, got {text!r}")
        proposed.append({"helper": helper_id, "village": village_id})
    if plan is not None:
        try:
            data = json.loads(plan.read_text(encoding="utf-8"))
            proposed += [
                {"helper": p["helper"]["id"], "village": p["village"]["id"]} for p in data["pairs"]
            ]
            region = region or data.get("scope", {}).get("value")
        except (ValueError, KeyError, TypeError) as exc:
            raise bad_option(f"--plan is not the output of `recommend assign`: {exc}") from exc
    request = _validated(
        WhatIfIn,
        {"proposed": proposed, "region": region, "program": program, "top": top, "as_of": as_of},
    )
    _recommendations(lambda s, v: s.what_if(v, request))


@recommend_app.command("judge")
def judge(
    target: Annotated[str, typer.Argument(help="The village (or helper) recommended for.")],
    partner: Annotated[str, typer.Argument(help="The recommended partner.")],
    decision: Annotated[str, typer.Option(help="accept | reject | unsure")],
    decided_by: Annotated[
        str, typer.Option("--decided-by", "--by", help="The planner who decided.")
    ],
    note: Annotated[str | None, typer.Option(help="Why.")] = None,
    program: Program = None,
    relation: Annotated[str, typer.Option(help="pairing | co_building")] = "pairing",
    valid_from: Annotated[
        str | None, typer.Option(help="First day of an accepted link (default: today).")
    ] = None,
) -> None:
    """Record a judgement; accept writes the link with provenance planner_decision."""
    request = _validated(
        JudgementIn,
        {
            "target": target,
            "partner": partner,
            "decision": decision,
            "decided_by": decided_by,
            "note": note,
            "program": program,
            "relation": relation,
            "valid_from": valid_from,
        },
    )
    _recommendations(lambda s, v: s.judge(v, request))


@recommend_app.command("judgements")
def judgements(
    node: Annotated[str | None, typer.Option(help="Either end of the pair.")] = None,
    target: Annotated[str | None, typer.Option()] = None,
    partner: Annotated[str | None, typer.Option()] = None,
    decision: Annotated[
        list[str] | None, typer.Option(help="accept | reject | unsure (repeatable).")
    ] = None,
    decided_by: Annotated[
        str | None, typer.Option("--decided-by", "--by", help="Only this planner's.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Decided at or after (ISO time).")] = None,
    until: Annotated[str | None, typer.Option(help="Decided at or before (ISO time).")] = None,
    current: Annotated[bool, typer.Option(help="Only the judgement in force per pair.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 1000,
) -> None:
    """The judgements, oldest first: the audit trail of decisions."""
    import datetime as dt

    from graph_service.services.recommendations import judgement_time
    from graph_service.store.protocol import JudgementQuery

    bounds: dict[str, str | None] = {}
    for name, text in (("since", since), ("until", until)):
        try:
            bounds[name] = judgement_time(dt.datetime.fromisoformat(text)) if text else None
        except ValueError as exc:
            raise bad_option(f"--{name} is an ISO date or time") from exc
    for value in decision or ():
        if value not in ("accept", "reject", "unsure"):
            raise bad_option("--decision is accept, reject or unsure")
    query = JudgementQuery(
        target=target,
        partner=partner,
        node=node,
        decisions=decision or (),
        decided_by=decided_by,
        since=bounds["since"],
        until=bounds["until"],
        current=current,
    )
    _recommendations(lambda s, v: s.judgements(v, query, None, limit))

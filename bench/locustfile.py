"""The clients of the load benchmark (``bench/load.py`` runs this; see its docstring).

Closed loop, no think time: each client sends its next request when the last is answered,
as the issue's 200-client measurement did. The mix (weights in per cent of requests):

====================================  ======  =============================================
request                               weight  from the plan (``LOAD_PLAN``, made by load.py)
====================================  ======  =============================================
search                                25      names and two-character prefixes of nodes
node                                  24      nodes of every label but Person (anonymous)
node, deliberate 404                  1       ids that do not exist: a 404 is the answer
neighbourhood                         20      depth 1 or 2 around organizations and villages
region coverage                       10      the counties of the seed graph
recommendations (partners)            15      villages of the counties with helpers
editor writes (with a key)            5       create an enterprise, rename it, pair it
====================================  ======  =============================================

Reads are anonymous (the public view); writes carry the editor's key (``LOAD_KEY``). One
more client, ``ExpensiveAnalyst``, when chosen, loops on the most expensive analysis an
anonymous caller may ask for (``LOAD_EXPENSIVE`` is its path, with ``{seed}`` for a number
that changes every time, so no cache answers it).

Every answer is recorded (name, status, milliseconds) and written to ``LOAD_SAMPLES`` when
the run stops: ``load.py`` computes percentiles and errors from those, not from locust's
rounded histograms.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from locust import FastHttpUser, constant, events, task

PLAN: dict[str, Any] = json.loads(Path(os.environ["LOAD_PLAN"]).read_text(encoding="utf-8"))
KEY = os.environ.get("LOAD_KEY", "")
EXPENSIVE = os.environ.get("LOAD_EXPENSIVE", "")
SAMPLES: list[tuple[str, int, float]] = []
_SEEDS = itertools.count()


@events.request.add_listener
def _record(name: str, response_time: float, response: Any, exception: Any, **_: Any) -> None:
    status = getattr(response, "status_code", 0) or 0
    SAMPLES.append((name, 0 if exception and not status else int(status), response_time))


@events.quitting.add_listener
def _dump(**_: Any) -> None:
    Path(os.environ["LOAD_SAMPLES"]).write_text(json.dumps(SAMPLES), encoding="utf-8")


#: Per cent of requests by kind; ``LOAD_MIX`` (``search=50,node=50``) replaces it, to take
#: the mix apart when profiling.
MIX = {
    "search": 25,
    "node": 24,
    "missing_node": 1,
    "neighbourhood": 20,
    "coverage": 10,
    "partners": 15,
    "write": 5,
}
if os.environ.get("LOAD_MIX"):
    MIX = {k: int(v) for k, v in (pair.split("=") for pair in os.environ["LOAD_MIX"].split(","))}


class Planner(FastHttpUser):
    """A planner's browser or script: the mix above."""

    wait_time = constant(0)
    weight = 1

    def on_start(self) -> None:
        self.rng = random.Random()
        self.created: list[dict[str, Any]] = []
        self.paired: set[tuple[str, str]] = set()

    def search(self) -> None:
        query = self.rng.choice(PLAN["searches"])
        self.client.get(f"/v1/search?q={quote(query)}", name="search")

    def node(self) -> None:
        self.client.get(f"/v1/nodes/{quote(self.rng.choice(PLAN['nodes']))}", name="node")

    def missing_node(self) -> None:
        with self.client.get(
            f"/v1/nodes/ent:missing-{uuid.uuid4().hex[:10]}",
            name="node (deliberate 404)",
            catch_response=True,
        ) as response:
            if response.status_code == 404:
                response.success()

    def neighbourhood(self) -> None:
        centre, depth = self.rng.choice(PLAN["centres"])
        self.client.get(
            f"/v1/nodes/{quote(centre)}/neighbourhood?depth={depth}", name="neighbourhood"
        )

    def coverage(self) -> None:
        code = self.rng.choice(PLAN["counties"])
        self.client.get(f"/v1/regions/{code}/coverage", name="region coverage")

    def partners(self) -> None:
        target = self.rng.choice(PLAN["targets"])
        self.client.get(
            f"/v1/recommendations/partners?target={quote(target)}", name="recommendations"
        )

    def write(self) -> None:
        """An editor at work: mostly new enterprises, then renaming and pairing them."""
        headers = {"X-API-Key": KEY}
        if not self.created or self.rng.random() < 0.5:
            node = {
                "id": f"ent:load-{uuid.uuid4().hex[:12]}",
                "label": "Enterprise",
                "kind": "合作社",
                "name": f"负载合作社{self.rng.randrange(10**6)}",
                "region_code": PLAN["write_county"],
            }
            response = self.client.post("/v1/nodes", json=node, headers=headers, name="write")
            if response.status_code == 201:
                self.created.append(node)
        elif self.rng.random() < 0.6:
            node = {
                **self.rng.choice(self.created),
                "name": f"更名合作社{self.rng.randrange(10**6)}",
            }
            self.client.put(f"/v1/nodes/{node['id']}", json=node, headers=headers, name="write")
        else:
            pair = (self.rng.choice(self.created)["id"], self.rng.choice(PLAN["write_villages"]))
            if pair in self.paired:  # the same pair again would be a deliberate 409
                return
            link = {"type": "PAIRS_WITH", "source": pair[0], "target": pair[1]}
            response = self.client.post("/v1/links", json=link, headers=headers, name="write")
            if response.status_code == 201:
                self.paired.add(pair)

    def healthz(self) -> None:
        """Not in the mix: the bare stack, for ``LOAD_MIX=healthz=1``."""
        self.client.get("/healthz", name="healthz (mix)")


# A list with each task ``weight`` times, as locust makes of a ``{task: weight}`` dict when the
# class is made: a dict assigned afterwards is drawn from as if every weight were 1.
Planner.tasks = [getattr(Planner, name) for name, weight in MIX.items() for _ in range(weight)]


class ExpensiveAnalyst(FastHttpUser):
    """One anonymous client asking, again and again, for the costliest analysis it may."""

    wait_time = constant(0)
    fixed_count = 1
    # Long answers are the point: wait for them.
    network_timeout = 600.0
    connection_timeout = 60.0

    @task
    def analyse(self) -> None:
        self.client.get(EXPENSIVE.format(seed=next(_SEEDS)), name="expensive analysis")

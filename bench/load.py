"""The load benchmark: many clients at once against a real server, on 1 and 2 workers.

    .venv/bin/pip install -e '.[bench]'          # locust, psutil, py-spy
    .venv/bin/python bench/load.py [--users 50 200] [--workers 1 2] [--duration 60]
        [--expensive both|no|only] [--out bench/results/load.json] [--nice -10]
        [--env GRAPH_SERVICE_X=Y …] [--mix search=50,node=50] [--keep-logs DIR]
        [--py-spy DIR] [--server-cpus 0,1 --client-cpus 1]

For each number of workers and of clients (and, with ``--expensive both``, without and
then with one more client looping on the costliest anonymous analysis):

1. a copy of a data directory with the seed graph loaded (made once per run of this script),
   served by ``graph-service serve --workers N`` with rate limits off
   (``GRAPH_SERVICE_RATE_LIMIT_ENABLED=false``: this measures throughput, not the limiter)
   and one editor key in ``GRAPH_SERVICE_API_KEY_HASHES``;
2. one request to each county's coverage and recommendations (the caches a running server
   has), then the resident memory (RSS) of every server process;
3. locust (``bench/locustfile.py``: the mix, closed loop, no think time) for ``--duration``
   seconds, while a separate probe asks ``/healthz`` ten times a second, each time on a new
   connection (as a load balancer's health check does, and so landing on any worker);
4. RSS again, and the CPU seconds the server processes and the client used in the run.

Figures: requests per second, p50/p95/p99/max of the mix, errors (any answer that is not 2xx,
except the mix's deliberate 404s; a connection failure counts as an error), per request kind,
and the probe's p50/p99/max. The client runs on the same 2-core machine as the server: its CPU
time is reported next to the server's so that its share can be read off (``--client-cpus`` /
``--server-cpus`` pin them apart with taskset instead).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import platform
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph_service.settings import Settings, hash_api_key  # noqa: E402
from graph_service.store.embedded import EmbeddedGraphStore  # noqa: E402
from graph_service.store.protocol import Scope  # noqa: E402

VENV_BIN = Path(sys.executable).parent
EDITOR_KEY = "load-bench-editor-key"
#: The costliest analysis an anonymous caller may ask for: the whole graph, structural links
#: included, as many sampled sources as the caps allow (exact below the exact cap; the seed
#: graph is above it). A changing ``seed`` keeps any cache from answering it. When issue 14
#: was filed it was ``exact_max=200000`` (exact, 3-4 s of CPU each, now 422 ``above_cap``).
_CAPS = Settings()
EXPENSIVE = (
    "/v1/analysis/centrality?scope=all&include_structural=true"
    f"&exact_max={_CAPS.cap_exact_max}&k={_CAPS.cap_sample_k}&seed={{seed}}"
)
#: The county the editors write in (平原县: enterprises and villages of the seed).
WRITE_COUNTY = "371426"
#: Counties whose villages have helpers to recommend (the seed's articles).
RECOMMEND_COUNTIES = ("371426", "370322", "370302", "210381", "620822", "211223", "210114")
STARTED = "Application startup complete"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "n": len(ordered),
        "p50": pick(0.50),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "max": round(ordered[-1], 1),
        "mean": round(statistics.fmean(ordered), 1),
    }


# ------------------------------------------------------------------ the data and the plan


def seeded_template(work: Path) -> Path:
    """A data directory with the seed graph loaded, by the CLI as an operator does it."""
    data = work / "template"
    env = {**os.environ, "GRAPH_SERVICE_DATA_DIR": str(data)}
    subprocess.run(
        [str(VENV_BIN / "graph-service"), "load-seed"], env=env, check=True, capture_output=True
    )
    return data


def make_plan(data: Path, rng: random.Random) -> dict[str, Any]:
    """What the clients ask for, sampled from the seed graph."""

    async def read() -> dict[str, Any]:
        store = EmbeddedGraphStore(data / "graph.sqlite3")
        await store.open()
        try:
            nodes = list((await store.export_graph(Scope())).nodes.values())
        finally:
            await store.close()
        public = [n for n in nodes if n["label"] != "Person"]
        villages = [n for n in public if n["label"] == "Village"]
        others = [n for n in public if n["label"] not in ("Village", "Region")]
        named = rng.sample(public, 150)
        counties = sorted(
            n["region_code"] for n in public if n["label"] == "Region" and n.get("kind") == "县"
        )
        return {
            "searches": [n["name"] for n in named[:100]] + [n["name"][:2] for n in named[100:]],
            "nodes": [n["id"] for n in rng.sample(villages, 200) + others],
            "centres": [(n["id"], 2) for n in others]
            + [(n["id"], rng.choice((1, 2))) for n in rng.sample(villages, 100)],
            "counties": counties,
            "targets": [
                n["id"]
                for n in villages
                if n["region_code"][:6] in RECOMMEND_COUNTIES and rng.random() < 0.1
            ],
            "write_county": WRITE_COUNTY,
            "write_villages": [
                n["id"] for n in villages if n["region_code"].startswith(WRITE_COUNTY)
            ][:300],
        }

    return asyncio.run(read())


# ------------------------------------------------------------------ the server


class Server:
    """``graph-service serve --workers N`` on a copy of the template, rate limits off."""

    def __init__(
        self,
        template: Path,
        work: Path,
        workers: int,
        cpus: str | None,
        extra_env: dict[str, str],
        nice: int = 0,
    ) -> None:
        self.work = work
        self.data = work / "data"
        shutil.copytree(template, self.data)
        self.port = free_port()
        self.workers = workers
        self.env = {
            **os.environ,
            "GRAPH_SERVICE_DATA_DIR": str(self.data),
            "GRAPH_SERVICE_API_KEY_HASHES": json.dumps([f"load-editor={hash_api_key(EDITOR_KEY)}"]),
            "GRAPH_SERVICE_RATE_LIMIT_ENABLED": "false",
            **extra_env,
        }
        command = [
            str(VENV_BIN / "graph-service"),
            "serve",
            "--workers",
            str(workers),
            "--port",
            str(self.port),
        ]
        if cpus:
            command = ["taskset", "-c", cpus, *command]
        if nice:
            command = ["nice", "-n", str(nice), *command]
        self.log_path = work / "server.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, cwd=work
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 120
        while self.log_path.read_text(errors="replace").count(STARTED) < self.workers:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(self.log_path.read_text(errors="replace")[-3000:])
            time.sleep(0.2)

    def processes(self) -> list[psutil.Process]:
        """uvicorn's supervisor (with several workers) or the one server process, and the
        workers: every process that holds the service's memory."""
        root = psutil.Process(self.process.pid)  # taskset execs: the same pid
        children = root.children(recursive=True)
        return [root, *(c for c in children if "resource_tracker" not in " ".join(c.cmdline()))]

    def rss_mb(self) -> dict[str, float]:
        found = {}
        for proc in self.processes():
            role = "worker" if "spawn_main" in " ".join(proc.cmdline()) else "main"
            found[f"{role} {proc.pid}"] = round(proc.memory_info().rss / 2**20, 1)
        return found

    def cpu_s(self) -> float:
        return sum(sum(p.cpu_times()[:2]) for p in self.processes())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        self._log.close()


def profile(server: Server, args: argparse.Namespace, label: str) -> list[subprocess.Popen[bytes]]:
    """py-spy on every serving process for the run, when asked (``--py-spy DIR``): collapsed
    stacks, one file per process (``py-spy`` samples from outside: the server is not slowed
    by more than the sampler's own CPU)."""
    if not args.py_spy:
        return []
    args.py_spy.mkdir(parents=True, exist_ok=True)
    serving = [
        p
        for p in server.processes()
        if server.workers == 1 or "spawn_main" in " ".join(p.cmdline())
    ]
    return [
        subprocess.Popen(
            [
                str(VENV_BIN / "py-spy"),
                "record",
                "--pid",
                str(proc.pid),
                "--duration",
                str(max(1, args.duration - 5)),
                "--rate",
                "50",
                "--format",
                "raw",
                "--output",
                str(args.py_spy / f"{label}-{i}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i, proc in enumerate(serving)
    ]


def get(base: str, path: str, timeout: float = 120) -> int:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def warm(server: Server, plan: dict[str, Any]) -> None:
    """What a server that has been running has built: each county's coverage and recommender
    index (on every worker, as far as new connections spread over them)."""
    targets: dict[str, str] = {}
    for target in plan["targets"]:
        targets.setdefault(target.split(":")[1][:6], target)
    for _ in range(server.workers):
        for code in plan["counties"]:
            get(server.base, f"/v1/regions/{code}/coverage")
        for target in targets.values():
            get(server.base, f"/v1/recommendations/partners?target={quote(target)}")


class HealthProbe(threading.Thread):
    """``/healthz`` ten times a second, a new connection each time, until stopped."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.samples: list[float] = []
        self.failures = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            started = time.perf_counter()
            try:
                ok = get(self.base, "/healthz", timeout=30) == 200
            except OSError:
                ok = False
            elapsed = (time.perf_counter() - started) * 1000
            if ok:
                self.samples.append(elapsed)
            else:
                self.failures += 1
            self._stop_event.wait(max(0.0, 0.1 - elapsed / 1000))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


# ------------------------------------------------------------------ one run


def summarise(samples: list[list[Any]], duration: float) -> dict[str, Any]:
    mix = [s for s in samples if s[0] != "expensive analysis"]

    def failed(name: str, status: int) -> bool:
        if name == "node (deliberate 404)":
            return status != 404
        return not 200 <= status < 300

    by_name: dict[str, dict[str, Any]] = {}
    for name in sorted({s[0] for s in samples}):
        rows = [s for s in samples if s[0] == name]
        statuses: dict[str, int] = {}
        for _, status, _ in rows:
            statuses[str(status)] = statuses.get(str(status), 0) + 1
        by_name[name] = {
            **percentiles([s[2] for s in rows]),
            "errors": sum(failed(name, s[1]) for s in rows),
            "statuses": statuses,
        }
    return {
        "requests": len(mix),
        "rps": round(len(mix) / duration, 1),
        "latency_ms": percentiles([s[2] for s in mix]),
        "errors": sum(failed(s[0], s[1]) for s in mix),
        "by_request": by_name,
    }


def run_once(
    template: Path,
    plan_path: Path,
    plan: dict[str, Any],
    workers: int,
    users: int,
    expensive: bool,
    args: argparse.Namespace,
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"load-w{workers}-u{users}-"))
    server = Server(
        template,
        work,
        workers,
        args.server_cpus,
        dict(e.split("=", 1) for e in args.env),
        args.nice,
    )
    try:
        server.wait_ready()
        warm(server, plan)
        rss_before = server.rss_mb()
        cpu_before = server.cpu_s()
        samples_path = work / "samples.json"
        env = {
            **os.environ,
            "LOAD_PLAN": str(plan_path),
            "LOAD_KEY": EDITOR_KEY,
            "LOAD_EXPENSIVE": EXPENSIVE,
            "LOAD_SAMPLES": str(samples_path),
            **({"LOAD_MIX": args.mix} if args.mix else {}),
        }
        classes = ["Planner", "ExpensiveAnalyst"] if expensive else ["Planner"]
        command = [
            str(VENV_BIN / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--host",
            server.base,
            "-u",
            str(users + (1 if expensive else 0)),
            "-r",
            str(users),
            "-t",
            f"{args.duration}s",
            "--only-summary",
            "--loglevel",
            "WARNING",
            *classes,
        ]
        if args.client_cpus:
            command = ["taskset", "-c", args.client_cpus, *command]
        if args.nice:
            command = ["nice", "-n", str(args.nice), *command]
        probe = HealthProbe(server.base)
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        machine_before = psutil.cpu_times()
        load_before = os.getloadavg()[0]
        probe.start()
        started = time.perf_counter()
        profilers = profile(server, args, f"w{workers}-u{users}{'-x' if expensive else ''}")
        subprocess.run(command, env=env, cwd=work, check=False, capture_output=True)
        elapsed = time.perf_counter() - started
        probe.stop()
        for profiler in profilers:
            profiler.wait()
        machine_after = psutil.cpu_times()
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        client_cpu = (children_after.ru_utime - children_before.ru_utime) + (
            children_after.ru_stime - children_before.ru_stime
        )
        server_cpu = server.cpu_s() - cpu_before
        busy = sum(machine_after) - machine_after.idle - (sum(machine_before) - machine_before.idle)
        rss_after = server.rss_mb()
        samples = json.loads(samples_path.read_text())
        if args.keep_logs:
            label = f"w{workers}-u{users}{'-x' if expensive else ''}"
            shutil.copy(server.log_path, args.keep_logs / f"server-{label}.log")
            shutil.copy(samples_path, args.keep_logs / f"samples-{label}.json")
        result = {
            "workers": workers,
            "users": users,
            "expensive_client": expensive,
            "mix": args.mix or "default",
            "server_env": args.env,
            "nice": args.nice,
            "duration_s": args.duration,
            "wall_s": round(elapsed, 1),
            **summarise(samples, args.duration),
            "healthz_ms": {**percentiles(probe.samples), "failures": probe.failures},
            "rss_mb_before": rss_before,
            "rss_mb_after": rss_after,
            "cpu_s": {
                "server": round(server_cpu, 1),
                "client": round(client_cpu, 1),
                "available": round(elapsed * (psutil.cpu_count() or 1), 1),
                # Everything else on the machine (the probe, other people's work).
                "other": round(busy - server_cpu - client_cpu, 1),
            },
            "load_average_1m_at_start": round(load_before, 2),
        }
        return result
    finally:
        server.stop()
        with contextlib.suppress(OSError):
            shutil.rmtree(work)


def row(result: dict[str, Any]) -> str:
    lat, hz, cpu = result["latency_ms"], result["healthz_ms"], result["cpu_s"]
    rss_before = sum(result["rss_mb_before"].values())
    rss_after = sum(result["rss_mb_after"].values())
    expensive = result["by_request"].get("expensive analysis")
    cpu_ms = 1000 * cpu["server"] / max(1, result["requests"])
    clients = f"{result['users']}{' + 1 expensive' if result['expensive_client'] else ''}"
    return (
        f"| {result['workers']} | {clients} "
        f"| {result['rps']} | {lat['p50']} | {lat['p95']} | {lat['p99']} | {lat['max']} "
        f"| {result['errors']} | {hz.get('p50')} / {hz.get('p99')} / {hz.get('max')} "
        f"| {rss_before:.0f} → {rss_after:.0f} "
        f"| {cpu['server']} / {cpu['client']} / {cpu['other']} | {cpu_ms:.1f} "
        f"| {expensive['n'] if expensive else ''} |"
    )


HEADER = (
    "| workers | clients | req/s | p50 ms | p95 | p99 | max | errors | /healthz p50 / p99 / max ms "
    "| RSS MB before → after | CPU s server / client / other | server CPU ms per request "
    "| expensive answered |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--expensive", choices=("both", "no", "only"), default="both")
    parser.add_argument("--server-cpus", help="taskset CPU list for the server")
    parser.add_argument("--client-cpus", help="taskset CPU list for locust")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="Run server and client at this niceness, and their session's autogroup (-10: "
        "ahead of other work on a shared machine; needs root).",
    )
    parser.add_argument("--mix", help="Replace the mix (locustfile.MIX), e.g. search=50,node=50")
    parser.add_argument(
        "--env", action="append", default=[], help="KEY=VALUE for the server (repeatable)."
    )
    parser.add_argument("--keep-logs", type=Path, help="Keep server logs and samples here.")
    parser.add_argument("--py-spy", type=Path, help="Profile every worker into this folder.")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load.json")
    args = parser.parse_args()
    if args.nice:
        # With autogroups (Linux's default for desktop and container sessions) a process's
        # niceness counts only against its own session: the session's group has its own.
        with contextlib.suppress(OSError):
            Path("/proc/self/autogroup").write_text(str(args.nice))
    if args.keep_logs:
        args.keep_logs.mkdir(parents=True, exist_ok=True)

    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="load-"))
    template = seeded_template(work)
    plan = make_plan(template, rng)
    plan_path = work / "plan.json"
    plan_path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    modes = {"both": (False, True), "no": (False,), "only": (True,)}[args.expensive]
    results = []
    print(HEADER, flush=True)
    for expensive in modes:
        for workers in args.workers:
            for users in args.users:
                result = run_once(template, plan_path, plan, workers, users, expensive, args)
                results.append(result)
                print(row(result), flush=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "command": " ".join(sys.argv),
                "commit": commit,
                "machine": {
                    "cpus": psutil.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "mix_size": {k: len(v) for k, v in plan.items() if isinstance(v, list)},
                "runs": results,
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""How fast the service answers when Neo4j goes away, and how fast it is back.

    NEO4J_LOCAL_BOLT_PORT=17831 NEO4J_LOCAL_HOME=$PWD/.cache/neo4j-test \\
      NEO4J_LOCAL_PASSWORD=graph-service-test scripts/neo4j-local start
    NEO4J_LOCAL_BOLT_PORT=17831 NEO4J_LOCAL_HOME=$PWD/.cache/neo4j-test \\
      NEO4J_LOCAL_PASSWORD=graph-service-test \\
      .venv/bin/python bench/outage.py --neo4j-uri bolt://127.0.0.1:17831 --out FILE

Runs ``graph-service serve`` (a real uvicorn process, default settings unless ``--env`` says
otherwise) on the seed graph in the test server of ``scripts/neo4j-local``, warms it up, then:

- **killed**: ``kill -9`` of the Neo4j java process; sequential requests (stats, search,
  2-hop neighbourhood, in turn) for ``--seconds``, then ``--concurrent`` at once; then the
  server is started again and the time from "Bolt answers" to the first 200 is measured;
- **hung**: ``kill -STOP`` of the java process (it keeps its sockets: connections are
  accepted by the kernel and never answered); the same requests, each with a client timeout of
  ``--client-timeout``; then ``kill -CONT`` and the time to the first 200.

Each request's status and seconds go to the JSON file; the summary to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
NEO4J_LOCAL = ROOT / "scripts" / "neo4j-local"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def neo4j_pid() -> int:
    home = Path(os.environ["NEO4J_LOCAL_HOME"])
    return int((home / "run" / "neo4j-local.pid").read_text().strip())


def neo4j_local(command: str) -> float:
    """Run ``scripts/neo4j-local COMMAND``; its wall time in seconds."""
    started = time.monotonic()
    subprocess.run([str(NEO4J_LOCAL), command], check=True, capture_output=True)
    return time.monotonic() - started


def summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = sorted(s["seconds"] for s in samples)
    if not seconds:
        return {"n": 0}
    return {
        "n": len(seconds),
        "statuses": sorted({s["status"] for s in samples}, key=str),
        "min": round(seconds[0], 3),
        "median": round(statistics.median(seconds), 3),
        "max": round(seconds[-1], 3),
    }


class Probe:
    """The requests a planner's page makes, in turn."""

    def __init__(self, client: httpx.AsyncClient, node_id: str) -> None:
        self.client = client
        self.paths = [
            "/v1/stats",
            "/v1/search?q=%E5%8F%B0%E5%A4%B4",
            f"/v1/nodes/{node_id}/neighbourhood?depth=2",
        ]
        self.turn = 0

    async def one(self, timeout: float) -> dict[str, Any]:
        path = self.paths[self.turn % len(self.paths)]
        self.turn += 1
        started = time.monotonic()
        try:
            response = await self.client.get(path, timeout=timeout)
            status: int | str = response.status_code
        except httpx.TimeoutException:
            status = "client-timeout"
        return {"path": path, "status": status, "seconds": time.monotonic() - started}

    async def sequential(self, seconds: float, timeout: float, most: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        until = time.monotonic() + seconds
        while time.monotonic() < until and len(out) < most:
            out.append(await self.one(timeout))
        return out

    async def concurrent(self, count: int, timeout: float) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(self.one(timeout) for _ in range(count))))

    async def until_ok(self, limit: float) -> float | None:
        """Seconds until ``/v1/stats`` answers 200 (polling every 50 ms), or None."""
        started = time.monotonic()
        while time.monotonic() - started < limit:
            try:
                if (await self.client.get("/v1/stats", timeout=5)).status_code == 200:
                    return time.monotonic() - started
            except httpx.TimeoutException:
                pass
            await asyncio.sleep(0.05)
        return None


async def scenario(name: str, probe: Probe, args: argparse.Namespace) -> dict[str, Any]:
    pid = neo4j_pid()
    print(f"{name}: Neo4j pid {pid}", flush=True)
    if name == "killed":
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)  # the process is gone, its sockets closed
    else:
        os.kill(pid, signal.SIGSTOP)
    try:
        sequential = await probe.sequential(args.seconds, args.client_timeout, args.most)
        concurrent = await probe.concurrent(args.concurrent, args.client_timeout)
    finally:
        if name == "hung":
            os.kill(pid, signal.SIGCONT)
            back_at = time.monotonic()
    if name == "killed":
        start_s = neo4j_local("start")
        back_at = time.monotonic()
    else:
        start_s = 0.0
    recovery = await probe.until_ok(120)
    result = {
        "sequential": summary(sequential),
        "concurrent": summary(concurrent),
        "server_start_s": round(start_s, 3),
        "first_200_after_server_back_s": None if recovery is None else round(recovery, 3),
        "server_back_to_first_200_s": round(time.monotonic() - back_at, 3),
        "requests": sequential + concurrent,
    }
    print(
        f"{name}: sequential {result['sequential']}, concurrent {result['concurrent']}, "
        f"first 200 {result['first_200_after_server_back_s']} s after the server was back",
        flush=True,
    )
    return result


def serve(args: argparse.Namespace, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "NEO4J_URI": args.neo4j_uri,
        "NEO4J_PASSWORD": os.environ.get("NEO4J_LOCAL_PASSWORD", "graph-service-test"),
        "GRAPH_SERVICE_DATA_DIR": str(data_dir),
        "GRAPH_SERVICE_RATE_LIMIT_ENABLED": "false",
    }
    for pair in args.env:
        name, _, value = pair.partition("=")
        env[name] = value
    command = [str(ROOT / ".venv" / "bin" / "graph-service"), "serve", "--port", str(port)]
    if args.seed:
        command.append("--seed")
    log = args.log or data_dir / "serve.log"
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"))


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = serve(args, Path(tmp), port)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                deadline = time.monotonic() + 600  # --seed on a busy machine
                while True:
                    try:
                        if (await client.get("/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline:
                        raise SystemExit("the service did not become ready")
                    await asyncio.sleep(0.2)
                params = {"label": "Village", "limit": 1}
                page = (await client.get("/v1/nodes", params=params)).json()
                probe = Probe(client, page["items"][0]["id"])
                for _ in range(30):  # warm-up: pooled connections, caches
                    assert (await probe.one(30))["status"] == 200
                results = {}
                for name in args.scenarios:
                    results[name] = await scenario(name, probe, args)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(30)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--neo4j-uri", required=True)
    parser.add_argument("--scenarios", nargs="+", default=["killed", "hung"])
    parser.add_argument("--seconds", type=float, default=20, help="sequential requests for")
    parser.add_argument("--most", type=int, default=50, help="at most this many sequential")
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--client-timeout", type=float, default=120)
    parser.add_argument("--seed", action="store_true", help="load the seed graph first")
    parser.add_argument("--env", nargs="*", default=[], help="NAME=VALUE for the service")
    parser.add_argument("--log", type=Path, help="the service's log (default: discarded)")
    parser.add_argument("--label", default="head")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not os.environ.get("NEO4J_LOCAL_HOME"):
        raise SystemExit("set NEO4J_LOCAL_HOME (and the port) of the scripts/neo4j-local server")
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    results = asyncio.run(main_async(args))
    document = {
        "label": args.label,
        "started": started,
        "command": " ".join(sys.argv),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip(),
        "results": results,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()

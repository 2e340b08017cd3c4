"""The fuzzing campaign: schemathesis over every operation of /openapi.json, anonymously and
with a key that may write, on the whole seed graph.

    .venv/bin/python bench/fuzz.py [--examples 25] [--seed 14] [--out bench/results/fuzz.json]
        [--neo4j-uri bolt://127.0.0.1:PORT --neo4j-password …]

What it does:

- a throwaway data directory (a new temporary directory, removed afterwards) and
  ``graph-service serve --seed`` on a free port of 127.0.0.1 over it, started with no
  ``NEO4J_*`` or ``GRAPH_SERVICE_*`` variable of the caller's environment and outside the
  checkout (no ``.env``): fuzzed writes never reach a user's store. ``--neo4j-uri`` fuzzes
  the Neo4j store instead: name a throwaway server (``scripts/neo4j-local start``), since the
  run loads the seed graph into its database and writes there;
- the served document with the credential headers taken out (who calls is the run's
  choice, as in tests/test_fuzz.py), then ``schemathesis run`` over it once per caller with
  the project's checks and seed (``schemathesis.toml``), every phase (examples, coverage,
  fuzzing, stateful) and ``--examples`` generated cases an operation and phase;
- from each run's HAR and JSON reports: requests sent, the status histogram, requests per
  operation, latency, and every failure (a 5xx, or a response that breaks what the document
  declares) with the command that reproduces it. The server's own log is searched for
  unexpected errors too.

Exit status 1 when anything failed. ``BENCHMARKS.md`` ("Fuzzing") quotes the results.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import re
import shutil
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
VENV_BIN = Path(sys.executable).parent
#: The key of the writing caller, made for this run only.
WRITER_KEY = "fuzz-writer-key"
#: Header parameters that say who calls: set per run, never generated (tests/test_fuzz.py).
CREDENTIAL_HEADERS = frozenset({"x-api-key", "authorization"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def without_credentials(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the credential header parameters taken out of every operation."""
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [
                    p
                    for p in operation["parameters"]
                    if not (p.get("in") == "header" and p["name"].lower() in CREDENTIAL_HEADERS)
                ]
    return document


def start_server(
    tmp: Path, port: int, neo4j: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``graph-service serve --seed`` over ``tmp/data`` (or ``neo4j``: NEO4J_* settings), with
    a clean environment."""
    sys.path.insert(0, str(ROOT))
    from graph_service.settings import hash_api_key

    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "GRAPH_SERVICE_"))}
    env |= {
        "GRAPH_SERVICE_DATA_DIR": str(tmp / "data"),
        "GRAPH_SERVICE_API_KEY_HASHES": json.dumps([f"fuzz={hash_api_key(WRITER_KEY)}"]),
    }
    env |= neo4j or {}
    log = (tmp / "server.log").open("wb")
    return subprocess.Popen(
        [str(VENV_BIN / "graph-service"), "serve", "--seed", "--port", str(port)],
        env=env,
        cwd=tmp,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server stopped before it was ready")
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not become ready")


def _operation_matchers(document: dict[str, Any]) -> list[tuple[str, re.Pattern[str], str]]:
    """(method, path regex, label) per operation: a request's URL back to its operation."""
    matchers = []
    for path, item in document["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
        for method in item:
            matchers.append((method.upper(), pattern, f"{method.upper()} {path}"))
    # Literal paths before templated ones (/v1/nodes/x before /v1/nodes/{node_id}).
    return sorted(matchers, key=lambda m: m[2].count("{"))


def _label(matchers: list[tuple[str, re.Pattern[str], str]], method: str, path: str) -> str:
    for wanted, pattern, label in matchers:
        if pattern.match(path) and wanted == method:
            return label
    for _, pattern, label in matchers:
        if pattern.match(path):
            # A method the path does not take (schemathesis tries them): counted under the path.
            return f"{method} {label.split(' ', 1)[1]}"
    return f"{method} (unmatched)"


def fuzz_as(
    caller: str,
    headers: dict[str, str],
    document_path: Path,
    base: str,
    examples: int,
    seed: int,
    out: Path,
) -> dict[str, Any]:
    """One ``schemathesis run`` as ``caller``; its reports read back."""
    out.mkdir(parents=True, exist_ok=True)
    command = [
        str(VENV_BIN / "schemathesis"),
        "--config-file",
        str(ROOT / "schemathesis.toml"),
        "--no-color",
        "run",
        str(document_path),
        "--url",
        base,
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(examples),
        "--seed",
        str(seed),
        "--workers",
        "1",
        "--request-timeout",
        "120",
        "--report",
        "json,har",
        "--report-dir",
        str(out),
        "--output-truncate",
        "true",
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    started = time.monotonic()
    run = subprocess.run(command, cwd=out, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    (out / "schemathesis.txt").write_text(run.stdout + run.stderr, encoding="utf-8")
    report = json.loads(next(out.glob("json-*.json")).read_text(encoding="utf-8"))
    har = json.loads(next(out.glob("har-*.json")).read_text(encoding="utf-8"))
    return {"caller": caller, "exit_code": run.returncode, "seconds": elapsed} | {
        "report": report,
        "entries": har["log"]["entries"],
        "output": run.stdout,
    }


def summarise(run: dict[str, Any], matchers: list[Any]) -> dict[str, Any]:
    entries = run["entries"]
    statuses = collections.Counter(str(e["response"]["status"]) for e in entries)
    operations: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for entry in entries:
        url = httpx.URL(entry["request"]["url"])
        label = _label(matchers, entry["request"]["method"], url.path)
        operations[label][str(entry["response"]["status"])] += 1
    times = sorted(float(e["time"]) for e in entries)
    report = run["report"]
    failures = [
        {k: f.get(k) for k in ("code", "title", "operations", "count")}
        for f in report.get("failures", [])
    ]
    # schemathesis prints each failing case with the curl command that reproduces it.
    reproduce = [line.strip() for line in run["output"].splitlines() if "curl -X" in line]
    return {
        "caller": run["caller"],
        "seconds": round(run["seconds"], 1),
        "requests": len(entries),
        "test_cases": report["test_cases"]["generated"],
        "statuses": dict(sorted(statuses.items())),
        "server_errors": sum(n for s, n in statuses.items() if s.startswith("5")),
        "latency_ms": {
            "p50": round(statistics.median(times), 1) if times else None,
            "p99": round(times[int(0.99 * (len(times) - 1))], 1) if times else None,
            "max": round(times[-1], 1) if times else None,
        },
        "operations_tested": report["operations"]["tested"],
        "operations_selected": report["operations"]["selected"],
        # Requests and statuses per operation: which ones the fuzzer got past validation.
        "per_operation": {
            label: {"requests": sum(counts.values()), "statuses": dict(sorted(counts.items()))}
            for label, counts in sorted(operations.items())
        },
        "failures": failures,
        "reproduce": reproduce,
        "errors": report.get("errors", []),
        "schemathesis_exit_code": run["exit_code"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--examples", type=int, default=25, help="Generated cases per operation and phase."
    )
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "fuzz.json")
    parser.add_argument(
        "--keep", type=Path, help="Copy the reports and the server log here before cleaning up."
    )
    parser.add_argument(
        "--neo4j-uri", help="Fuzz the Neo4j store of this throwaway server (it is written to)."
    )
    parser.add_argument("--neo4j-password", default="graph-service-test")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="graph-service-fuzz-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    neo4j = (
        {"NEO4J_URI": args.neo4j_uri, "NEO4J_PASSWORD": args.neo4j_password}
        if args.neo4j_uri
        else None
    )
    server = start_server(tmp, port, neo4j)
    runs: list[dict[str, Any]] = []
    try:
        wait_ready(base, server)
        document = without_credentials(httpx.get(f"{base}/openapi.json", timeout=30).json())
        document_path = tmp / "openapi.json"
        document_path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        matchers = _operation_matchers(document)
        # When the lead's editor accounts land, the writer is an editor: its key here.
        callers = {"anonymous": {}, "writer": {"X-API-Key": WRITER_KEY}}
        for caller, headers in callers.items():
            run = fuzz_as(
                caller, headers, document_path, base, args.examples, args.seed, tmp / caller
            )
            runs.append(summarise(run, matchers))
            print(f"{caller}: {runs[-1]['requests']} requests in {runs[-1]['seconds']} s")
        rss_kb = _rss_kb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)
        log = (tmp / "server.log").read_text(encoding="utf-8", errors="replace")
        if args.keep:
            shutil.copytree(tmp, args.keep, dirs_exist_ok=True, ignore=_data_dir)
        shutil.rmtree(tmp, ignore_errors=True)
    unexpected = log.count("unexpected error on")
    results = {
        "command": " ".join(["bench/fuzz.py", *sys.argv[1:]]),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "schemathesis": _version(),
        "store": f"{'neo4j' if neo4j else 'embedded'}, seed graph",
        "examples": args.examples,
        "seed": args.seed,
        "requests": sum(r["requests"] for r in runs),
        "server_errors": sum(r["server_errors"] for r in runs),
        "failures": sum(len(r["failures"]) for r in runs),
        "unexpected_errors_logged": unexpected,
        "server_rss_mb_after": round(rss_kb / 1024, 1),
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _print(results)
    print(f"written to {args.out}")
    failed = results["server_errors"] or results["failures"] or unexpected
    return 1 if failed else 0


def _data_dir(directory: str, names: list[str]) -> list[str]:
    return ["data"] if "data" in names else []


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _version() -> str:
    import schemathesis

    return str(schemathesis.__version__)


def _print(results: dict[str, Any]) -> None:
    print(f"{'caller':<10} {'requests':>9} {'5xx':>5} {'failures':>9} {'seconds':>8}  statuses")
    for r in results["runs"]:
        statuses = " ".join(f"{s}:{n}" for s, n in r["statuses"].items())
        print(
            f"{r['caller']:<10} {r['requests']:>9} {r['server_errors']:>5} "
            f"{len(r['failures']):>9} {r['seconds']:>8}  {statuses}"
        )
        for failure in r["failures"]:
            print(f"  {failure['code']} {failure['title']}: {', '.join(failure['operations'])}")
        for command in r["reproduce"]:
            print(f"    {command}")
    print(
        f"total: {results['requests']} requests, {results['server_errors']} 5xx, "
        f"{results['failures']} failures, {results['unexpected_errors_logged']} unexpected "
        "errors in the server log"
    )


if __name__ == "__main__":
    raise SystemExit(main())

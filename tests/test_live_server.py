"""The service as a new user meets it: ``graph-service serve --seed`` (what ``scripts/serve``
runs) on a free port over a fresh data directory, then

* the README's "Try it" walk-through run as written: every command of its shell block in one
  bash, in order (so a key created by one command is used by the next), with
  ``localhost:8000`` pointed at the test server. Each command must exit 0, each HTTP call
  must answer 2xx, or the status its ``# → NNN`` comment promises, and its output must hold
  the Chinese words, numbers and ``"field":"value"`` pairs of that comment;
* a request line with raw (not percent-encoded) Chinese, as ``curl "…/v1/search?q=台头"``
  sends it: the server's HTTP parser refuses it before the application sees it, and the
  answer must still be problem+json that says how to send it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, SEED_DIR

README = ROOT / "README.md"
VENV_BIN = Path(sys.executable).parent
#: What curl prints after each response, so the test sees the status of every call.
STATUS_LINE = "\n@@status %{http_code} %{content_type}\n"


@dataclass(frozen=True)
class Command:
    """One command of a README shell block and what its ``# →`` comment says it gives."""

    text: str
    expects: str

    @property
    def promised(self) -> list[str]:
        """What the output must contain: the comment's Chinese words, its numbers and its
        ``"field":"value"`` pairs (the status is checked apart)."""
        rest = re.sub(r"^→\s*\d{3}\b", "", self.expects)
        return [
            *re.findall(r"[\u4e00-\u9fff]{2,}", rest),
            *(n for n in re.findall(r"[\w.]*\d[\w.]*", rest) if len(n) > 1),
            *re.findall(r'"\w+":"[^"…]+"', rest),
        ]

    @property
    def status(self) -> int | None:
        """The HTTP status the comment promises (``→ 422 …``), else ``None`` (any 2xx)."""
        match = re.match(r"→\s*(\d{3})\b", self.expects)
        return int(match.group(1)) if match else None


def section(markdown: str, heading: str) -> str:
    """The text of the ``## heading`` section, up to the next heading of its level."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"README has no section {heading!r}"
    return match.group(1)


def shell_commands(text: str) -> list[Command]:
    """The commands of every ```bash block in ``text``: continuation lines joined to their
    command, comments dropped except the ``# →`` one after a command (with its indented
    continuation lines), which is what the command is said to give."""
    commands: list[Command] = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        current: list[str] = []
        expects: list[str] | None = None
        for line in block.splitlines():
            stripped = line.strip()
            if current and current[-1].endswith("\\"):
                current.append(line)
                continue
            if re.match(r"#\s*→", stripped) and current:
                expects = [stripped.removeprefix("#").strip()]
                continue
            if stripped.startswith("#  ") and expects is not None:
                expects.append(stripped.removeprefix("#").strip())
                continue
            if current:
                commands.append(Command("\n".join(current), " ".join(expects or [])))
                current, expects = [], None
            if stripped and not stripped.startswith("#"):
                current.append(line)
        if current:
            commands.append(Command("\n".join(current), " ".join(expects or [])))
    return commands


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env(data_dir: Path) -> dict[str, str]:
    """The environment of a user's shell: none of the service's settings but the data
    directory (a fresh one), and this test's virtualenv first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRAPH_SERVICE_", "NEO4J_"))}
    env.update(
        GRAPH_SERVICE_DATA_DIR=str(data_dir),
        GRAPH_SERVICE_SEED_DIR=str(SEED_DIR),
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


@dataclass(frozen=True)
class LiveServer:
    port: int
    work: Path
    env: dict[str, str]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``graph-service serve --seed`` as ``scripts/serve`` runs it, on a free port."""
    work = tmp_path_factory.mktemp("live")
    env = _env(work / "data")
    port = _free_port()
    log_path = work / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(VENV_BIN / "graph-service"), "serve", "--seed", "--port", str(port)],
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(f"http://127.0.0.1:{port}", process, log_path)
            yield LiveServer(port, work, env)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def _wait_ready(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{base}/readyz", timeout=2) as response,  # noqa: S310
        ):
            if response.status == 200:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            output = log_path.read_text(encoding="utf-8", errors="replace")
            pytest.fail(f"the server did not start:\n{output[-3000:]}")
        time.sleep(0.2)


# ------------------------------------------------------------------------- the README


def test_the_readme_walk_through_is_found() -> None:
    commands = shell_commands(section(README.read_text(encoding="utf-8"), "Try it"))
    assert len(commands) >= 8
    assert all("localhost:8000" in c.text for c in commands if c.text.startswith("curl"))
    assert any(c.text.startswith("curl") and "X-API-Key" in c.text for c in commands)
    assert any(c.status == 422 for c in commands)


def _as_run(command: Command, server: LiveServer) -> str:
    text = command.text.replace("localhost:8000", f"127.0.0.1:{server.port}")
    text = text.replace(".venv/bin/", f"{VENV_BIN}/")
    # Files of the repository (the example 台账) from wherever the walk-through runs.
    text = text.replace("@seed/", f"@{SEED_DIR}/")
    if text.startswith("curl "):
        text = f"curl -w {shlex.quote(STATUS_LINE)} " + text.removeprefix("curl ")
    return text


def test_the_readme_walk_through_runs_as_written(live_server: LiveServer) -> None:
    """Every command of "Try it", in one bash so that variables carry over, each with its
    output, error output and exit code kept apart."""
    commands = shell_commands(section(README.read_text(encoding="utf-8"), "Try it"))
    run_dir = live_server.work / "readme"
    run_dir.mkdir(exist_ok=True)
    script = ["set -u -o pipefail"]
    for i, command in enumerate(commands):
        script.append(
            f"{{ {_as_run(command, live_server)}\n}} >{run_dir}/{i}.out 2>{run_dir}/{i}.err"
            f"; echo $? >{run_dir}/{i}.rc"
        )
    subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=live_server.work,
        env=live_server.env,
        check=False,
        timeout=600,
    )
    failures: list[str] = []
    for i, command in enumerate(commands):
        out = (run_dir / f"{i}.out").read_text(encoding="utf-8", errors="replace")
        err = (run_dir / f"{i}.err").read_text(encoding="utf-8", errors="replace")
        rc = int((run_dir / f"{i}.rc").read_text())
        problem = ""
        if rc != 0:
            problem = f"exit code {rc}"
        elif command.text.startswith("curl"):
            statuses = re.findall(r"@@status (\d{3}) (\S*)", out)
            assert statuses, out
            status, content_type = int(statuses[-1][0]), statuses[-1][1]
            if command.status is None and not 200 <= status < 300:
                problem = f"HTTP {status}, the README implies success"
            elif command.status is not None and status != command.status:
                problem = f"HTTP {status}, the README says {command.status}"
            elif status >= 400 and content_type != "application/problem+json":
                problem = f"HTTP {status} as {content_type}, not problem+json"
        missing = [text for text in command.promised if text not in out]
        if not problem and missing:
            problem = f"the output lacks {missing}, which the README promises"
        if problem:
            failures.append(f"$ {command.text}\n  {problem}\n  {out[-600:]}{err[-600:]}")
    assert not failures, "\n\n".join(failures)


# ------------------------------------------------------------------------- raw UTF-8 in a URL


def _raw_request(port: int, request_line: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request_line + b"\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in header_lines)
    }
    return int(status_line.split()[1]), headers, body


def test_raw_chinese_in_a_url_gets_a_problem_that_says_how_to_send_it(
    live_server: LiveServer,
) -> None:
    status, headers, body = _raw_request(
        live_server.port, "GET /v1/search?q=台头 HTTP/1.1".encode()
    )
    assert status == 400
    assert headers["content-type"].startswith("application/problem+json")
    problem = json.loads(body)
    assert problem["status"] == 400
    assert problem["code"] == "invalid_http_request"
    assert "--data-urlencode" in problem["detail"]
    assert "percent-encode" in problem["detail"]

    # The same search, percent-encoded, is answered by the application.
    status, headers, body = _raw_request(
        live_server.port, b"GET /v1/search?q=%E5%8F%B0%E5%A4%B4 HTTP/1.1"
    )
    assert status == 200
    assert "台头村" in body.decode()


def test_a_request_that_is_not_http_gets_a_problem(live_server: LiveServer) -> None:
    status, headers, body = _raw_request(live_server.port, b"GET /v1/stats HTTP/1.1 extra")
    assert status == 400
    assert headers["content-type"].startswith("application/problem+json")
    assert json.loads(body)["code"] == "invalid_http_request"

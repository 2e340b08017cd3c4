"""Accounts and keys from the command line (``graph-service accounts …``, ``keys …``), a
running service that sees a new or revoked key on its next request, and the former keys
file adopted into the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_settings
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from graph_service import keys
from graph_service.api.app import create_app
from graph_service.settings import Settings, get_settings, hash_api_key

runner = CliRunner()
DEPARTMENT = "平原县委组织部"
NODE = {
    "id": "ent:demo",
    "label": "Enterprise",
    "kind": "合作社",
    "name": "示范合作社",
    "region_code": "371426",
}


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """An empty embedded store that the CLI commands use too; no key in settings."""
    configured = make_settings("embedded", tmp_path / "data", api_key_hashes=[])
    monkeypatch.setattr("graph_service.cli.runtime.get_settings", lambda: configured)
    get_settings.cache_clear()
    return configured


def cli(*args: str) -> tuple[int, str, str]:
    from graph_service.cli import app

    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_accounts_and_keys_from_the_command_line(settings: Settings) -> None:
    code, _, err = cli("accounts", "create", DEPARTMENT, "--role", "editor", "--scope", "371426")
    assert code == 1
    assert "no region 371426" in err
    county = {
        "id": "region:371426",
        "label": "Region",
        "kind": "县",
        "name": "平原县",
        "region_code": "371426",
    }
    path = settings.data_dir / "county.jsonl"
    path.write_text(json.dumps(county, ensure_ascii=False) + "\n", encoding="utf-8")
    assert cli("import", str(path))[0] == 0
    code, out, err = cli("accounts", "create", DEPARTMENT, "--role", "editor", "--scope", "371426")
    assert code == 0, err
    assert json.loads(out)["scope"] == "371426"
    code, out, err = cli("keys", "create", "--account", DEPARTMENT)
    assert code == 0, err
    key = out.strip()
    assert key.startswith("gs_")
    assert "shown only now" in err
    # The store keeps only its hash.
    raw = (settings.data_dir / "graph.sqlite3").read_bytes()
    assert key.encode() not in raw
    assert hash_api_key(key).encode() in raw
    code, out, _ = cli("keys", "list", "--json")
    assert code == 0
    assert [k["account"] for k in json.loads(out)] == [DEPARTMENT]
    assert key not in out
    assert "hash" not in out
    code, out, _ = cli("accounts", "list", "--json")
    assert [(a["name"], a["role"]) for a in json.loads(out)] == [(DEPARTMENT, "editor")]


@pytest.mark.parametrize(
    "args",
    [
        ("accounts", "create", "", "--role", "editor"),
        ("accounts", "create", "a=b", "--role", "editor"),
        ("accounts", "create", "甲", "--role", "root"),
        ("accounts", "create", "甲", "--role", "editor", "--scope", "12345"),
        ("keys", "create", "--account", "无此账户"),
        ("keys", "revoke", "key_000000000000"),
        ("accounts", "set", "无此账户", "--role", "viewer"),
    ],
)
def test_bad_commands_fail_and_write_nothing(settings: Settings, args: tuple[str, ...]) -> None:
    code, _, err = cli(*args)
    assert code != 0
    assert "error" in err
    assert json.loads(cli("accounts", "list", "--json")[1]) == []


def test_a_running_service_sees_new_and_revoked_keys(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/nodes", json=NODE, headers={"X-API-Key": "none"}).status_code == (
            401
        )
        assert cli("accounts", "create", DEPARTMENT, "--role", "editor")[0] == 0
        code, out, err = cli("keys", "create", "--account", DEPARTMENT)
        assert code == 0, err
        auth = {"X-API-Key": out.strip()}
        created = client.post("/v1/nodes", json=NODE, headers=auth)
        assert created.status_code == 201, created.text
        assert created.json()["sources"][0]["by"] == DEPARTMENT

        key_id = client.get(f"/v1/accounts/{DEPARTMENT}/keys", headers=auth).json()["items"][0]
        assert cli("keys", "revoke", key_id["id"])[0] == 0
        refused = client.put(f"/v1/nodes/{NODE['id']}", json=NODE, headers=auth)
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")


def test_the_former_keys_file_is_adopted_once(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    former = settings.data_dir / keys.KEYS_FILE
    body = {
        "keys": [
            {
                "name": DEPARTMENT,
                "hash": hash_api_key("old-file-key-1"),
                "created": "2024-05-01T08:00:00Z",
            }
        ]
    }
    former.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    with TestClient(create_app(settings)) as client:
        auth = {"X-API-Key": "old-file-key-1"}
        me = client.get("/v1/accounts/me", headers=auth).json()
        assert (me["name"], me["role"], me["scope"]) == (DEPARTMENT, "editor", "")
        assert client.post("/v1/nodes", json=NODE, headers=auth).status_code == 201
    assert not former.exists()
    assert (settings.data_dir / (keys.KEYS_FILE + ".adopted")).exists()
    assert cli("keys", "list")[0] == 0  # a second open adopts nothing


def test_settings_bootstrap_an_admin(settings: Settings) -> None:
    boot = settings.model_copy(update={"api_key_hashes": [f"运维={hash_api_key('ops-key-1')}"]})
    with TestClient(create_app(boot)) as client:
        auth = {"X-API-Key": "ops-key-1"}
        me = client.get("/v1/accounts/me", headers=auth).json()
        assert (me["name"], me["role"], me["bootstrap"]) == ("运维", "admin", True)
        made = client.post("/v1/accounts", json={"name": "甲", "role": "viewer"}, headers=auth)
        assert made.status_code == 201
        assert made.json()["created_by"] == "运维"
        assert client.get("/v1/accounts/me", headers={"X-API-Key": "unknown"}).status_code == 401

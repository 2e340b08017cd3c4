"""API keys kept in the data directory: ``graph-service keys create|list|revoke``, and a
running service that sees a new or revoked key without a restart."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from conftest import make_settings
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from graph_service import keys
from graph_service.api.app import create_app
from graph_service.settings import Settings, get_settings, hash_api_key

runner = CliRunner()
PLANNER = "平原县委组织部"
NODE = {"id": "ent:demo", "label": "Enterprise", "kind": "合作社", "name": "示范合作社"}


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """An empty embedded store that the CLI commands use too; no key in settings."""
    configured = make_settings("embedded", tmp_path / "data", api_key_hashes=[])
    monkeypatch.setattr("graph_service.cli.runtime.get_settings", lambda: configured)
    get_settings.cache_clear()
    return configured


def keys_command(*args: str) -> tuple[int, str, str]:
    from graph_service.cli import app

    result = runner.invoke(app, ["keys", *args])
    return result.exit_code, result.stdout, result.stderr


def test_create_prints_the_key_once_and_keeps_only_its_hash(settings: Settings) -> None:
    code, out, err = keys_command("create", "--name", PLANNER)
    assert code == 0, err
    key = out.strip()
    assert key.isascii()
    assert len(key) >= 32
    assert "shown only now" in err
    path = settings.data_dir / keys.KEYS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert key not in text
    stored = json.loads(text)["keys"]
    assert [(k["name"], k["hash"]) for k in stored] == [(PLANNER, hash_api_key(key))]
    assert keys.key_name(settings, key) == PLANNER

    code, out, _ = keys_command("list")
    assert code == 0
    assert PLANNER in out
    assert key not in out

    # A second key for the same name would make "who wrote" ambiguous; the first stays.
    code, _, err = keys_command("create", "--name", PLANNER)
    assert code == 1
    assert "revoke it first" in err
    assert keys.key_name(settings, key) == PLANNER


@pytest.mark.parametrize("name", ["", "   ", "a=b", "x" * 101, "line\nbreak"])
def test_create_refuses_names_that_cannot_name_a_key(settings: Settings, name: str) -> None:
    assert keys_command("create", "--name", name)[0] == 2
    assert not (settings.data_dir / keys.KEYS_FILE).exists()


def test_revoke_removes_only_that_key(settings: Settings) -> None:
    first = keys.create_key(settings, PLANNER)
    second = keys.create_key(settings, "王科长")
    code, _, err = keys_command("revoke", PLANNER)
    assert code == 0, err
    assert keys.key_name(settings, first) is None
    assert keys.key_name(settings, second) == "王科长"
    assert keys_command("revoke", PLANNER)[0] == 1  # no longer there


def test_a_running_service_sees_new_and_revoked_keys(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/nodes", json=NODE, headers={"X-API-Key": "none"}).status_code == (
            401
        )
        code, out, err = keys_command("create", "--name", PLANNER)
        assert code == 0, err
        auth = {"X-API-Key": out.strip()}
        created = client.post("/v1/nodes", json=NODE, headers=auth)
        assert created.status_code == 201, created.text
        assert created.json()["sources"][0]["by"] == PLANNER

        assert keys_command("revoke", PLANNER)[0] == 0
        refused = client.put(f"/v1/nodes/{NODE['id']}", json=NODE, headers=auth)
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")


def test_settings_keys_work_beside_the_file(settings: Settings) -> None:
    filed = keys.create_key(settings, PLANNER)
    both = settings.model_copy(update={"api_key_hashes": [f"运维={hash_api_key('ops-key-1')}"]})
    assert keys.key_name(both, "ops-key-1") == "运维"
    assert keys.key_name(both, filed) == PLANNER
    assert keys.key_name(both, "unknown-key") is None
    assert keys.key_name(both, None) is None


def test_a_damaged_keys_file_grants_nothing(settings: Settings) -> None:
    key = keys.create_key(settings, PLANNER)
    path = settings.data_dir / keys.KEYS_FILE
    path.write_text('{"keys": [{"name": "x"', encoding="utf-8")
    assert keys.key_name(settings, key) is None
    code, _, err = keys_command("list")
    assert code == 2
    assert "not a keys file" in err

"""The former keys file, adopted into the store's accounts.

Before accounts (round two), ``graph-service keys create --name NAME`` kept named key hashes
in ``<GRAPH_SERVICE_DATA_DIR>/api-keys.json``, and any of them could write anywhere. When a
service or a command opens a store and finds that file, each of its keys becomes a key of an
account of the same name with the role ``editor`` and the national scope (what it could do
before), recorded in the edit history as ``keys.adopt``; the file is then renamed to
``api-keys.json.adopted`` so it is adopted once, under a lock, even with several workers.

The file::

    {"keys": [{"name": "平原县委组织部", "hash": "sha256:…", "created": "2024-05-01T08:00:00Z"}]}
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from pathlib import Path

from graph_service.services.accounts import utc_stamp, validate_account_name
from graph_service.settings import Settings
from graph_service.store.protocol import AccountDoc, GraphStore, KeyDoc, WriteBatch, WriteContext

__all__ = ["KEYS_FILE", "adopt_keys_file"]

#: The former keys file's name inside the data directory.
KEYS_FILE = "api-keys.json"
_log = logging.getLogger(__name__)


async def adopt_keys_file(store: GraphStore, settings: Settings) -> int:
    """Move the keys of a former keys file into the store; how many were adopted."""
    path = settings.data_dir / KEYS_FILE
    if not path.exists():
        return 0
    lock = os.open(path.parent / f".{KEYS_FILE}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():  # another worker adopted it while we waited
            return 0
        accounts, keys = _read(path)
        known = await store.get_accounts([a["name"] for a in accounts])
        stored = {k["hash"] for k in await store.list_keys()}
        batch = WriteBatch(
            accounts=[a for a in accounts if a["name"] not in known],
            keys=[k for k in keys if k["hash"] not in stored],
            context=WriteContext(account="system", operation="keys.adopt"),
        )
        await store.write(batch)
        os.replace(path, path.with_name(KEYS_FILE + ".adopted"))
        _log.warning(
            "adopted %d key(s) of %s as editor accounts (national scope); "
            "narrow them with graph-service accounts set",
            len(batch.keys),
            path,
        )
        return len(batch.keys)
    finally:
        os.close(lock)


def _read(path: Path) -> tuple[list[AccountDoc], list[KeyDoc]]:
    rows = json.loads(path.read_text(encoding="utf-8"))["keys"]
    accounts: dict[str, AccountDoc] = {}
    keys: list[KeyDoc] = []
    for row in rows:
        name = validate_account_name(str(row["name"]))
        created = str(row.get("created") or utc_stamp())
        accounts.setdefault(
            name,
            {
                "name": name,
                "role": "editor",
                "scope": "",
                "disabled": False,
                "created_at": created,
                "created_by": "keys.adopt",
            },
        )
        digest = str(row["hash"])
        keys.append(
            {
                "id": "key_" + digest.removeprefix("sha256:")[:12],
                "account": name,
                "hash": digest,
                "created_at": created,
                "created_by": "keys.adopt",
                "expires_at": None,
                "revoked_at": None,
            }
        )
    return list(accounts.values()), keys

"""API keys a user creates against the data directory.

``graph-service keys create --name NAME`` makes a random key, prints it once and keeps only
its hash (:func:`graph_service.settings.hash_api_key`) with the name in
``<GRAPH_SERVICE_DATA_DIR>/api-keys.json`` (written whole to a temporary file and renamed over
the old one, mode 0600); ``keys list`` and ``keys revoke NAME`` read and edit the same file.
A running service rereads the file when it changed (its modification time, size or inode), so
a new key works and a revoked one stops working without a restart. The keys in settings
(``GRAPH_SERVICE_API_KEY_HASHES``) work as well.

The file::

    {"keys": [{"name": "平原县委组织部", "hash": "sha256:…", "created": "2024-05-01T08:00:00Z"}]}
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hmac
import json
import logging
import os
import secrets
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from graph_service.errors import ConflictError, InvalidInputError, NotFoundError
from graph_service.settings import Settings, hash_api_key

__all__ = [
    "KEYS_FILE",
    "StoredKey",
    "create_key",
    "key_name",
    "keys_path",
    "list_keys",
    "revoke_key",
    "validate_name",
]

#: The keys file's name inside the data directory.
KEYS_FILE = "api-keys.json"
_MAX_NAME = 100
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredKey:
    """A key as the file keeps it: who holds it, the hash of the key, when it was made."""

    name: str
    hash: str
    created: str


def keys_path(settings: Settings) -> Path:
    return settings.data_dir / KEYS_FILE


def validate_name(name: str) -> str:
    """The name stripped; a name is 1-100 printable characters without ``=`` (the separator
    of named hashes in ``GRAPH_SERVICE_API_KEY_HASHES``)."""
    stripped = name.strip()
    if not stripped or len(stripped) > _MAX_NAME or "=" in stripped or not stripped.isprintable():
        raise InvalidInputError(
            f"a key name is 1-{_MAX_NAME} printable characters without '='", field="name"
        )
    return stripped


def _read(path: Path) -> list[StoredKey]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    try:
        rows = json.loads(text)["keys"]
        return [StoredKey(str(k["name"]), str(k["hash"]), str(k.get("created", ""))) for k in rows]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInputError(f"{path} is not a keys file ({exc!r}): fix or remove it") from exc


def _write(path: Path, keys: list[StoredKey]) -> None:
    """Replace the file at once: readers see the old list or the new one, never half."""
    body = {"keys": [{"name": k.name, "hash": k.hash, "created": k.created} for k in keys]}
    fd, temporary = tempfile.mkstemp(prefix=".api-keys.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(body, handle, ensure_ascii=False, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def _editing(settings: Settings) -> Iterator[tuple[Path, list[StoredKey]]]:
    """The keys under an exclusive lock, so two commands at once do not lose an edit."""
    path = keys_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = os.open(path.parent / f".{KEYS_FILE}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield path, _read(path)
    finally:
        os.close(lock)


def create_key(settings: Settings, name: str) -> str:
    """Make a new key for ``name``, keep its hash and return the key (shown only now)."""
    name = validate_name(name)
    key = "gs_" + secrets.token_urlsafe(32)
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with _editing(settings) as (path, keys):
        if any(k.name == name for k in keys):
            raise ConflictError(
                f"a key named {name!r} exists: revoke it first (graph-service keys revoke)",
                field="name",
            )
        _write(path, [*keys, StoredKey(name, hash_api_key(key), created)])
    return key


def list_keys(settings: Settings) -> list[StoredKey]:
    return _read(keys_path(settings))


def revoke_key(settings: Settings, name: str) -> None:
    """Remove the key named ``name``; a running service refuses it from its next request."""
    with _editing(settings) as (path, keys):
        kept = [k for k in keys if k.name != name.strip()]
        if len(kept) == len(keys):
            raise NotFoundError(f"no key named {name!r}", field="name")
        _write(path, kept)


class _KeysFile:
    """The keys file as a running service sees it, read again only when it changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int] | None = None
        self._keys: tuple[StoredKey, ...] = ()

    def current(self) -> tuple[StoredKey, ...]:
        try:
            info = self.path.stat()
            seen: tuple[int, int, int] | None = (info.st_mtime_ns, info.st_size, info.st_ino)
        except FileNotFoundError:
            seen = None
        with self._lock:
            if seen != self._seen:
                self._keys = self._load() if seen is not None else ()
                self._seen = seen
            return self._keys

    def _load(self) -> tuple[StoredKey, ...]:
        try:
            return tuple(_read(self.path))
        except InvalidInputError as exc:
            # Fail closed: a damaged file grants nothing (the settings' keys still work).
            _log.error("%s", exc.message)
            return ()


_FILES: dict[Path, _KeysFile] = {}
_FILES_LOCK = threading.Lock()


def _keys_file(settings: Settings) -> _KeysFile:
    path = keys_path(settings)
    with _FILES_LOCK:
        if path not in _FILES:
            _FILES[path] = _KeysFile(path)
        return _FILES[path]


def key_name(settings: Settings, key: str | None) -> str | None:
    """Who holds ``key``: its name in the keys file or in settings (``"api-key"`` for an
    unnamed settings hash), or ``None`` when it is no key of either. Every stored hash is
    compared, in constant time."""
    if not key:
        return None
    from_settings = settings.key_name(key)
    presented = hash_api_key(key)
    found: str | None = None
    for stored in _keys_file(settings).current():
        if hmac.compare_digest(presented, stored.hash) and found is None:
            found = stored.name
    return from_settings or found

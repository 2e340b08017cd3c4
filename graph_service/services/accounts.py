"""Accounts and their API keys, kept in the store (both backends), and who a key is.

An account has a name, a role and a region scope (``graph_service.access``). Its keys are
random (``gs_…``), shown once when made and stored only as their hash; a key may expire and
may be revoked. Every account and key change is a store write, so the edit history records it
in the same transaction. The key of a request is looked up in the store on every request: a
revocation holds from the next request on, in every worker process.

Settings may bootstrap the first admin only: the hashes in ``GRAPH_SERVICE_API_KEY_HASHES``
(``<name>=sha256:<hex>``) are admin keys of the account ``<name>``; with them an admin makes
the store's accounts, and then the setting can go.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any

from graph_service.access import NATIONAL, ROLES, Caller, Role, check_role, check_scope_code
from graph_service.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from graph_service.settings import Settings, hash_api_key
from graph_service.store.protocol import AccountDoc, GraphStore, KeyDoc, WriteBatch, WriteContext

__all__ = [
    "AccountService",
    "authenticate",
    "utc_stamp",
    "validate_account_name",
]

_MAX_NAME = 100


def utc_stamp(moment: dt.datetime | None = None) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``: how accounts and keys store times."""
    return (moment or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


#: The path word for the caller's own account (``GET /v1/accounts/me``): no account has it.
OWN_ACCOUNT = "me"


def validate_account_name(name: str, field: str = "name") -> str:
    """The name stripped; 1-100 printable characters without ``=`` (the separator of named
    hashes in settings)."""
    stripped = name.strip() if isinstance(name, str) else ""
    if not stripped or len(stripped) > _MAX_NAME or "=" in stripped or not stripped.isprintable():
        raise InvalidInputError(
            f"an account name is 1-{_MAX_NAME} printable characters without '='", field=field
        )
    if stripped == OWN_ACCOUNT:
        raise InvalidInputError(
            f"{OWN_ACCOUNT!r} names the caller's own account (/v1/accounts/{OWN_ACCOUNT}); "
            "choose another name",
            field=field,
        )
    return stripped


def _role(role: str, field: str = "role") -> Role:
    if role not in ROLES:
        raise InvalidInputError(f"role is one of {', '.join(ROLES)}, not {role!r}", field=field)
    return ROLES[ROLES.index(role)]


def _expiry(expires_at: dt.datetime | None, now: dt.datetime) -> str | None:
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        raise InvalidInputError(
            "expires_at needs a time zone (2027-01-01T00:00:00Z or +08:00)", field="expires_at"
        )
    if expires_at <= now:
        raise InvalidInputError("expires_at is in the past", field="expires_at")
    return utc_stamp(expires_at)


def _caller_of(key: KeyDoc, account: AccountDoc) -> Caller:
    return Caller(
        authenticated=True,
        name=account["name"],
        role=_role(account["role"]),
        scope=account["scope"],
        key_id=key["id"],
    )


async def authenticate(store: GraphStore, settings: Settings, key: str) -> Caller:
    """The caller a presented key stands for; ``AuthenticationError`` naming why not.

    A bootstrap key from settings is an admin of its named account. A store key must be
    neither revoked nor expired, and its account not disabled.
    """
    bootstrap = settings.key_name(key)
    if bootstrap is not None:
        return Caller(authenticated=True, name=bootstrap, role="admin", key_id="settings")
    found = await store.find_key(hash_api_key(key))
    if found is None:
        raise AuthenticationError("invalid API key", field="X-API-Key")
    stored, account = found
    if stored.get("revoked_at"):
        raise AuthenticationError(
            f"API key {stored['id']} was revoked at {stored['revoked_at']}", field="X-API-Key"
        )
    if stored.get("expires_at") and stored["expires_at"] <= utc_stamp():
        raise AuthenticationError(
            f"API key {stored['id']} expired at {stored['expires_at']}", field="X-API-Key"
        )
    if account.get("disabled"):
        raise AuthenticationError(f"account {account['name']!r} is disabled", field="X-API-Key")
    return _caller_of(stored, account)


class AccountService:
    """Accounts and keys: made, changed and listed by admins (an account reads its own)."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store

    @staticmethod
    def _context(caller: Caller, operation: str, request_id: str | None) -> WriteContext:
        return WriteContext(account=caller.name, operation=operation, request_id=request_id)

    async def _region_scope(self, scope: str) -> str:
        """A scope names a region the graph holds (its division register is loaded)."""
        scope = check_scope_code(scope)
        if scope and not await self.store.get_nodes([f"region:{scope}"]):
            raise InvalidInputError(
                f"no region {scope} in the graph: a scope is a region of the division register "
                "(graph-service load-divisions loads it)",
                field="scope",
            )
        return scope

    async def account(self, caller: Caller, name: str) -> AccountDoc:
        """An account: admins read any, every account reads its own."""
        if caller.name != name:
            check_role(caller, "admin", "reading another account")
        found = (await self.store.get_accounts([name])).get(name)
        if found is None:
            raise NotFoundError(f"no account {name!r}", field="name")
        return found

    async def accounts(self, caller: Caller) -> list[AccountDoc]:
        check_role(caller, "admin", "listing accounts")
        return await self.store.list_accounts()

    async def create_account(
        self,
        caller: Caller,
        name: str,
        role: str,
        scope: str = NATIONAL,
        request_id: str | None = None,
    ) -> AccountDoc:
        check_role(caller, "admin", "making accounts")
        name = validate_account_name(name)
        doc: AccountDoc = {
            "name": name,
            "role": _role(role),
            "scope": await self._region_scope(scope),
            "disabled": False,
            "created_at": utc_stamp(),
            "created_by": caller.name,
        }
        if await self.store.get_accounts([name]):
            raise ConflictError(f"an account named {name!r} exists", field="name")
        await self.store.write(
            WriteBatch(accounts=[doc], context=self._context(caller, "account.create", request_id))
        )
        return doc

    async def update_account(
        self,
        caller: Caller,
        name: str,
        changes: Mapping[str, Any],
        request_id: str | None = None,
    ) -> AccountDoc:
        """Change an account's ``role``, ``scope`` or ``disabled``."""
        check_role(caller, "admin", "changing accounts")
        doc = dict(await self.account(caller, name))
        unknown = sorted(set(changes) - {"role", "scope", "disabled"})
        if unknown:
            raise InvalidInputError(f"an account has no field {unknown[0]!r}", field=unknown[0])
        if "role" in changes:
            doc["role"] = _role(changes["role"])
        if "scope" in changes:
            doc["scope"] = await self._region_scope(changes["scope"])
        if "disabled" in changes:
            if not isinstance(changes["disabled"], bool):
                raise InvalidInputError("disabled is true or false", field="disabled")
            doc["disabled"] = changes["disabled"]
        if name == caller.name and (doc["role"] != "admin" or doc["disabled"]):
            raise ConflictError("an admin cannot demote or disable itself", field="role")
        await self.store.write(
            WriteBatch(accounts=[doc], context=self._context(caller, "account.update", request_id))
        )
        return doc

    async def keys(self, caller: Caller, account: str | None) -> list[KeyDoc]:
        """Keys without their hashes: an admin's of any account, an account's own."""
        if account != caller.name:
            check_role(caller, "admin", "listing other accounts' keys")
        if account is not None:
            await self.account(caller, account)
        return [_public(k) for k in await self.store.list_keys(account)]

    async def create_key(
        self,
        caller: Caller,
        account: str,
        expires_at: dt.datetime | None = None,
        request_id: str | None = None,
    ) -> tuple[KeyDoc, str]:
        """A new key of ``account`` and the key itself, which is shown only now."""
        check_role(caller, "admin", "making keys")
        await self.account(caller, account)
        now = dt.datetime.now(dt.UTC)
        key = "gs_" + secrets.token_urlsafe(32)
        doc: KeyDoc = {
            "id": "key_" + secrets.token_hex(6),
            "account": account,
            "hash": hash_api_key(key),
            "created_at": utc_stamp(now),
            "created_by": caller.name,
            "expires_at": _expiry(expires_at, now),
            "revoked_at": None,
        }
        await self.store.write(
            WriteBatch(keys=[doc], context=self._context(caller, "key.create", request_id))
        )
        return _public(doc), key

    async def revoke_key(
        self, caller: Caller, key_id: str, request_id: str | None = None
    ) -> KeyDoc:
        """Revoke a key: an admin any, an account its own. Revoking twice is a conflict."""
        stored = next((k for k in await self.store.list_keys() if k["id"] == key_id), None)
        if stored is None:
            raise NotFoundError(f"no key {key_id!r}", field="key_id")
        if stored["account"] != caller.name:
            check_role(caller, "admin", "revoking another account's key")
        if stored.get("revoked_at"):
            raise ConflictError(f"key {key_id} was revoked at {stored['revoked_at']}")
        doc = {**stored, "revoked_at": utc_stamp()}
        await self.store.write(
            WriteBatch(keys=[doc], context=self._context(caller, "key.revoke", request_id))
        )
        return _public(doc)


def _public(key: KeyDoc) -> KeyDoc:
    """A key as it is shown: without the hash (which would let anyone test guesses)."""
    return {k: v for k, v in key.items() if k != "hash"}

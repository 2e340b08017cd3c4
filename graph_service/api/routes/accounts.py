"""Accounts and API keys: admins make and change them; an account reads itself and its keys."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Path
from pydantic import Field

from graph_service.access import ROLES, Role
from graph_service.api.deps import AccountsDep, AdminDep, ReaderDep, RequestIdDep
from graph_service.api.openapi import GUARDED, WRITE, problems
from graph_service.api.responses import ORJSONResponse
from graph_service.api.schemas import Account, AccountList, ApiKey, ApiKeyList, NewApiKey
from graph_service.errors import AuthenticationError
from graph_service.models import ONE_LINE, StrictModel

router = APIRouter(tags=["accounts"])

AccountName = Annotated[str, Path(min_length=1, max_length=100, description="账户名称")]
KeyId = Annotated[
    str, Path(pattern=r"^key_[0-9a-f]{12}$", description="A key's public id (key_…).")
]
Scope = Annotated[
    str,
    Field(
        pattern=r"^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9})?$",
        description="Region code the account writes in (2, 4, 6 or 9 digits); empty: national.",
    ),
]


class AccountIn(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=100, description="账户名称"), ONE_LINE]
    role: Role = Field(description=f"One of {', '.join(ROLES)}.")
    scope: Scope = ""


class AccountChange(StrictModel):
    role: Role | None = None
    scope: Scope | None = None
    disabled: bool | None = None


class KeyIn(StrictModel):
    expires_at: dt.datetime | None = Field(
        default=None, description="When the key stops working (with a time zone)."
    )


@router.get(
    "/v1/accounts/me",
    summary="The account of the presented key",
    response_model=Account,
    responses=problems(*GUARDED),
)
async def me(caller: ReaderDep, accounts: AccountsDep) -> ORJSONResponse:
    if not caller.has_role("viewer"):
        raise AuthenticationError("no API key was presented", field="X-API-Key")
    if caller.key_id == "settings":
        # A bootstrap admin from settings has no stored account.
        return ORJSONResponse(
            {"name": caller.name, "role": caller.role, "scope": caller.scope, "bootstrap": True}
        )
    return ORJSONResponse(await accounts.account(caller, caller.name))


@router.get(
    "/v1/accounts",
    summary="Every account (admins)",
    response_model=AccountList,
    responses=problems(*GUARDED),
)
async def list_accounts(caller: AdminDep, accounts: AccountsDep) -> ORJSONResponse:
    return ORJSONResponse({"items": await accounts.accounts(caller)})


@router.post(
    "/v1/accounts",
    status_code=201,
    summary="Make an account (admins)",
    response_model=Account,
    responses=problems(*WRITE, (409, "An account with this name exists.")),
)
async def create_account(
    body: Annotated[AccountIn, Body()],
    caller: AdminDep,
    accounts: AccountsDep,
    request_id: RequestIdDep,
) -> ORJSONResponse:
    doc = await accounts.create_account(caller, body.name, body.role, body.scope, request_id)
    return ORJSONResponse(
        doc, status_code=201, headers={"Location": f"/v1/accounts/{quote(doc['name'], safe='')}"}
    )


@router.get(
    "/v1/accounts/{name}",
    summary="An account (admins; an account reads itself)",
    response_model=Account,
    responses=problems(*GUARDED, (404, "No account with this name.")),
)
async def get_account(
    name: AccountName, caller: ReaderDep, accounts: AccountsDep
) -> ORJSONResponse:
    return ORJSONResponse(await accounts.account(caller, name))


@router.patch(
    "/v1/accounts/{name}",
    summary="Change an account's role, scope or disabled (admins)",
    response_model=Account,
    responses=problems(*WRITE, (404, "No account with this name."), 409),
)
async def update_account(
    name: AccountName,
    body: Annotated[AccountChange, Body()],
    caller: AdminDep,
    accounts: AccountsDep,
    request_id: RequestIdDep,
) -> ORJSONResponse:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    return ORJSONResponse(await accounts.update_account(caller, name, changes, request_id))


@router.get(
    "/v1/accounts/{name}/keys",
    summary="An account's keys, without their hashes (admins; an account its own)",
    response_model=ApiKeyList,
    responses=problems(*GUARDED, (404, "No account with this name.")),
)
async def list_keys(name: AccountName, caller: ReaderDep, accounts: AccountsDep) -> ORJSONResponse:
    return ORJSONResponse({"items": await accounts.keys(caller, name)})


@router.post(
    "/v1/accounts/{name}/keys",
    status_code=201,
    summary="Make a key for an account (admins); the key is shown only in this answer",
    response_model=NewApiKey,
    responses=problems(*WRITE, (404, "No account with this name.")),
)
async def create_key(
    name: AccountName,
    caller: AdminDep,
    accounts: AccountsDep,
    request_id: RequestIdDep,
    body: Annotated[KeyIn | None, Body()] = None,
) -> ORJSONResponse:
    expires = body.expires_at if body is not None else None
    doc, key = await accounts.create_key(caller, name, expires, request_id)
    return ORJSONResponse({**doc, "key": key}, status_code=201)


@router.post(
    "/v1/keys/{key_id}/revoke",
    summary="Revoke a key (admins; an account its own): it fails from the next request on",
    response_model=ApiKey,
    responses=problems(*GUARDED, (404, "No key with this id."), (409, "Revoked already.")),
)
async def revoke_key(
    key_id: KeyId, caller: ReaderDep, accounts: AccountsDep, request_id: RequestIdDep
) -> ORJSONResponse:
    if not caller.has_role("viewer"):
        raise AuthenticationError("revoking a key requires an API key", field="X-API-Key")
    return ORJSONResponse(await accounts.revoke_key(caller, key_id, request_id))

"""Accounts and their API keys, in the store: ``accounts create|list|set`` and ``keys
create|list|revoke``. The operator at the machine acts as an admin (they hold the data); every
change is in the edit history under ``cli:<user>``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from graph_service.cli.runtime import console, operator, print_json, run
from graph_service.services.accounts import AccountService
from graph_service.store.protocol import GraphStore

__all__ = ["register"]

accounts_app = typer.Typer(
    help="Accounts (name, role, region scope) kept in the store.", no_args_is_help=True
)
keys_app = typer.Typer(
    help="API keys of accounts, kept hashed in the store; a running service sees changes "
    "from its next request, on every worker.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(accounts_app, name="accounts")
    app.add_typer(keys_app, name="keys")


RoleOption = Annotated[str, typer.Option(help="viewer | planner | editor | admin")]
ScopeOption = Annotated[
    str, typer.Option(help="Region code the account writes in (2/4/6/9 digits); '' national.")
]


def _table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(str(row.get(c) if row.get(c) is not None else "") for c in columns))
    Console(stderr=True).print(table)


@accounts_app.command("create")
def accounts_create(
    name: Annotated[str, typer.Argument(help="账户名称, e.g. 平原县委组织部.")],
    role: RoleOption,
    scope: ScopeOption = "",
) -> None:
    """Make an account (print it as JSON)."""

    async def work(store: GraphStore) -> dict[str, Any]:
        return await AccountService(store).create_account(operator(), name, role, scope)

    print_json(run(work))


JsonOption = Annotated[bool, typer.Option("--json", help="JSON on stdout instead of a table.")]


@accounts_app.command("list")
def accounts_list(as_json: JsonOption = False) -> None:
    """Every account."""

    async def work(store: GraphStore) -> list[dict[str, Any]]:
        return await AccountService(store).accounts(operator())

    rows = run(work)
    if as_json:
        print_json(rows)
        return
    _table("accounts", rows, ["name", "role", "scope", "disabled", "created_at", "created_by"])


@accounts_app.command("set")
def accounts_set(
    name: Annotated[str, typer.Argument(help="The account.")],
    role: Annotated[str | None, typer.Option(help="A new role.")] = None,
    scope: Annotated[str | None, typer.Option(help="A new region scope ('' national).")] = None,
    disabled: Annotated[
        bool | None, typer.Option("--disable/--enable", help="Stop (or allow) its keys.")
    ] = None,
) -> None:
    """Change an account's role, scope, or whether it is disabled."""
    changes = {
        k: v for k, v in (("role", role), ("scope", scope), ("disabled", disabled)) if v is not None
    }
    if not changes:
        console.print("[red]error[/red] give --role, --scope or --disable/--enable")
        raise typer.Exit(2)

    async def work(store: GraphStore) -> dict[str, Any]:
        return await AccountService(store).update_account(operator(), name, changes)

    print_json(run(work))


@keys_app.command("create")
def keys_create(
    account: Annotated[str, typer.Option(help="The account the key belongs to.")],
    expires: Annotated[
        str | None,
        typer.Option(help="When it stops working, with a time zone (2027-01-01T00:00:00+08:00)."),
    ] = None,
) -> None:
    """Make a key for ACCOUNT and print it (only now: the store keeps its hash)."""
    try:
        expires_at = dt.datetime.fromisoformat(expires) if expires else None
    except ValueError as exc:
        console.print("[red]error[/red] --expires is an ISO time with a zone")
        raise typer.Exit(2) from exc

    async def work(store: GraphStore) -> tuple[dict[str, Any], str]:
        return await AccountService(store).create_key(operator(), account, expires_at)

    doc, key = run(work)
    console.print(
        f"created key {doc['id']} of {account} (shown only now; the store keeps its hash)"
    )
    print(key)


@keys_app.command("list")
def keys_list(
    account: Annotated[str | None, typer.Option(help="Only this account's keys.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Keys: id, account, when made, expiry, revocation (never the key or its hash)."""

    async def work(store: GraphStore) -> list[dict[str, Any]]:
        return await AccountService(store).keys(operator(), account)

    rows = run(work)
    if as_json:
        print_json(rows)
        return
    columns = ["id", "account", "created_at", "created_by", "expires_at", "revoked_at"]
    _table("API keys", rows, columns)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (key_…).")]) -> None:
    """Revoke a key: every worker of a running service refuses it from its next request."""

    async def work(store: GraphStore) -> dict[str, Any]:
        return await AccountService(store).revoke_key(operator(), key_id)

    doc = run(work)
    console.print(f"revoked {doc['id']} of {doc['account']} at {doc['revoked_at']}")

"""Saved views of the situation page: a name and the page's parameters, kept per account.

A view is a record (kind ``view``) beside the graph, so every save, change and removal is in the
edit history with the account that made it. A view holds parameters, never data: anyone who may
read the service may open one by its id (that is how a planner shares it: ``/dashboard#view=ID``);
listing shows the caller's own; changing or removing one is for its owner or an admin.
"""

from __future__ import annotations

import secrets
from typing import Any, Final

from graph_service.access import Caller, check_role
from graph_service.errors import ForbiddenError, NotFoundError
from graph_service.models import SavedViewIn
from graph_service.services.changes import all_records, current_record, new_record
from graph_service.services.graph import write_context
from graph_service.store.protocol import GraphStore, RecordDoc, RecordQuery, WriteBatch

__all__ = ["VIEW_KIND", "SavedViews"]

#: The kind of the records that hold saved views.
VIEW_KIND: Final[str] = "view"
_SAVED: Final[str] = "saved"
_REMOVED: Final[str] = "removed"
#: Saving a view takes an account; a viewer's key is enough (a view changes no data).
_ROLE: Final = "viewer"


def _shown(record: RecordDoc) -> dict[str, Any]:
    view = record["view"]
    query = "&".join(
        f"{k}={v}"
        for k, v in (
            ("region", view["region"]),
            ("as_of", view["as_of"]),
            ("since", view["since"]),
            *view["filters"].items(),
        )
        if v is not None
    )
    return {
        "id": record["key"],
        "owner": record["owner"],
        "saved_at": record["at"],
        **view,
        "url": f"/dashboard#view={record['key']}",
        "parameters_url": f"/dashboard#{query}",
    }


class SavedViews:
    """Save, list, read, replace and remove saved views (see the module docstring)."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store

    async def _current(self, view_id: str) -> RecordDoc:
        record = await current_record(self.store, VIEW_KIND, view_id, "view_id")
        if record["status"] != _SAVED:
            raise NotFoundError(f"no view {view_id}", field="view_id")
        return record

    async def _write(
        self,
        caller: Caller,
        view_id: str,
        status: str,
        owner: str,
        view: dict[str, Any],
        request_id: str | None,
    ) -> RecordDoc:
        # The owner stays the account that saved the view, even when an admin edits it.
        record = new_record(VIEW_KIND, view_id, status, None, owner=owner, view=view)
        context = write_context(caller, f"view.{status}", request_id)
        await self.store.write(WriteBatch(records=[record], context=context))
        return record

    async def save(
        self, caller: Caller, request: SavedViewIn, request_id: str | None = None
    ) -> dict[str, Any]:
        check_role(caller, _ROLE, "saving a view")
        view_id = f"v{secrets.token_hex(6)}"
        view = request.model_dump(mode="json")
        return _shown(await self._write(caller, view_id, _SAVED, caller.name, view, request_id))

    async def get(self, view_id: str) -> dict[str, Any]:
        return _shown(await self._current(view_id))

    async def mine(self, caller: Caller) -> list[dict[str, Any]]:
        """The caller's saved views, newest first."""
        check_role(caller, _ROLE, "listing one's views")
        records = await all_records(self.store, RecordQuery(VIEW_KIND, current=True))
        own = [r for r in records if r["owner"] == caller.name and r["status"] == _SAVED]
        return [_shown(r) for r in sorted(own, key=lambda r: str(r["at"]), reverse=True)]

    @staticmethod
    def _check_owner(caller: Caller, record: RecordDoc, action: str) -> None:
        check_role(caller, _ROLE, action)
        if record["owner"] != caller.name and not caller.is_admin:
            raise ForbiddenError(
                f"{action} is for its owner {record['owner']} or an admin", field="view_id"
            )

    async def replace(
        self, caller: Caller, view_id: str, request: SavedViewIn, request_id: str | None = None
    ) -> dict[str, Any]:
        record = await self._current(view_id)
        self._check_owner(caller, record, "changing a view")
        view = request.model_dump(mode="json")
        return _shown(await self._write(caller, view_id, _SAVED, record["owner"], view, request_id))

    async def remove(self, caller: Caller, view_id: str, request_id: str | None = None) -> None:
        record = await self._current(view_id)
        self._check_owner(caller, record, "removing a view")
        await self._write(caller, view_id, _REMOVED, record["owner"], record["view"], request_id)

"""Dependency aliases: who is calling, the view of the graph they may see, and the services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from graph_service import keys
from graph_service.errors import AuthenticationError
from graph_service.services.graph import GraphService
from graph_service.services.view import GraphView, GraphViews
from graph_service.settings import Settings
from graph_service.visibility import ANONYMOUS, Caller

__all__ = ["ReaderDep", "ServiceDep", "SettingsDep", "ViewDep", "WriterDep", "WriterViewDep"]


def get_service(request: Request) -> GraphService:
    service: GraphService = request.app.state.service
    return service


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ServiceDep = Annotated[GraphService, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _presented_key(x_api_key: str | None, authorization: str | None) -> str | None:
    if x_api_key:
        return x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def reader(
    settings: SettingsDep,
    x_api_key: Annotated[
        str | None,
        Header(max_length=512, description="API key: needed for writes (reads if configured)."),
    ] = None,
    authorization: Annotated[
        str | None,
        Header(max_length=600, description="Bearer <API key>, instead of X-API-Key."),
    ] = None,
) -> Caller:
    key = _presented_key(x_api_key, authorization)
    if key is not None:
        name = keys.key_name(settings, key)
        if name is None:
            raise AuthenticationError("invalid API key", field="X-API-Key")
        return Caller(authenticated=True, name=name, role="admin")
    if settings.read_requires_key:
        raise AuthenticationError("reads require an API key", field="X-API-Key")
    return ANONYMOUS


def writer(caller: Annotated[Caller, Depends(reader)]) -> Caller:
    if not caller.may_write:
        raise AuthenticationError("writes require an API key", field="X-API-Key")
    return caller


ReaderDep = Annotated[Caller, Depends(reader)]
WriterDep = Annotated[Caller, Depends(writer)]


def view(request: Request, caller: ReaderDep) -> GraphView:
    """The graph as this caller may see it: every read of a route goes through it."""
    views: GraphViews = request.app.state.views
    return views.view(caller)


ViewDep = Annotated[GraphView, Depends(view)]


def writer_view(request: Request, caller: WriterDep) -> GraphView:
    """The view of a caller who writes (its reads check what it refers to)."""
    views: GraphViews = request.app.state.views
    return views.view(caller)


WriterViewDep = Annotated[GraphView, Depends(writer_view)]

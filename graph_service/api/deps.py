"""Dependency aliases: who is calling, the view of the graph they may see, and the services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from graph_service.access import ANONYMOUS, Caller, check_role
from graph_service.errors import AuthenticationError
from graph_service.services.accounts import AccountService, authenticate
from graph_service.services.graph import GraphService
from graph_service.services.view import GraphView, GraphViews
from graph_service.settings import Settings

__all__ = [
    "AccountsDep",
    "AdminDep",
    "PlannerDep",
    "PlannerViewDep",
    "ReaderDep",
    "RequestIdDep",
    "ServiceDep",
    "SettingsDep",
    "ViewDep",
    "WriterDep",
    "WriterViewDep",
]


def _service(request: Request) -> GraphService:
    service: GraphService = request.app.state.service
    return service


# The dependencies are coroutines though none of them waits: FastAPI runs a plain function
# dependency in a worker thread, a hop per dependency per request (~0.8 ms of 3.3 per request
# under the load benchmark, BENCHMARKS.md "Load").
async def get_service(request: Request) -> GraphService:
    return _service(request)


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ServiceDep = Annotated[GraphService, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_accounts(request: Request) -> AccountService:
    return AccountService(_service(request).store)


AccountsDep = Annotated[AccountService, Depends(get_accounts)]


async def get_request_id(request: Request) -> str | None:
    """The id the request-id middleware gave this request (``X-Request-ID``)."""
    request_id: str | None = getattr(request.state, "request_id", None)
    return request_id


RequestIdDep = Annotated[str | None, Depends(get_request_id)]


def _presented_key(x_api_key: str | None, authorization: str | None) -> str | None:
    if x_api_key:
        return x_api_key
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise AuthenticationError(
                "Authorization takes 'Bearer <API key>' (or send the key in X-API-Key)",
                field="Authorization",
            )
        return credentials.strip()
    return None


async def reader(
    request: Request,
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
        return await authenticate(_service(request).store, settings, key)
    if settings.read_requires_key:
        raise AuthenticationError("reads require an API key", field="X-API-Key")
    return ANONYMOUS


def _action(request: Request) -> str:
    return f"{request.method} {request.url.path}"


async def writer(request: Request, caller: Annotated[Caller, Depends(reader)]) -> Caller:
    """An editor or admin (the store checks the region of each write)."""
    check_role(caller, "editor", _action(request))
    return caller


async def planner(request: Request, caller: Annotated[Caller, Depends(reader)]) -> Caller:
    """A planner or more: judgements and what-if runs."""
    check_role(caller, "planner", _action(request))
    return caller


async def admin(request: Request, caller: Annotated[Caller, Depends(reader)]) -> Caller:
    check_role(caller, "admin", _action(request))
    return caller


ReaderDep = Annotated[Caller, Depends(reader)]
WriterDep = Annotated[Caller, Depends(writer)]
PlannerDep = Annotated[Caller, Depends(planner)]
AdminDep = Annotated[Caller, Depends(admin)]


async def view(request: Request, caller: ReaderDep) -> GraphView:
    """The graph as this caller may see it: every read of a route goes through it."""
    views: GraphViews = request.app.state.views
    return views.view(caller)


ViewDep = Annotated[GraphView, Depends(view)]


async def writer_view(request: Request, caller: WriterDep) -> GraphView:
    """The view of a caller who writes (its reads check what it refers to)."""
    views: GraphViews = request.app.state.views
    return views.view(caller)


WriterViewDep = Annotated[GraphView, Depends(writer_view)]


async def planner_view(request: Request, caller: PlannerDep) -> GraphView:
    """The view of a planner (judgements, what-if)."""
    views: GraphViews = request.app.state.views
    return views.view(caller)


PlannerViewDep = Annotated[GraphView, Depends(planner_view)]

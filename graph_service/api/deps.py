"""Dependency aliases: who is calling, and the service they talk to."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from graph_service.errors import AuthenticationError
from graph_service.services.graph import ANONYMOUS, Caller, GraphService
from graph_service.settings import Settings

__all__ = ["ReaderDep", "ServiceDep", "SettingsDep", "WriterDep"]


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
        name = settings.key_name(key)
        if name is None:
            raise AuthenticationError("invalid API key", field="X-API-Key")
        return Caller(authenticated=True, name=name)
    if settings.read_requires_key:
        raise AuthenticationError("reads require an API key", field="X-API-Key")
    return ANONYMOUS


def writer(caller: Annotated[Caller, Depends(reader)]) -> Caller:
    if not caller.authenticated:
        raise AuthenticationError("writes require an API key", field="X-API-Key")
    return caller


ReaderDep = Annotated[Caller, Depends(reader)]
WriterDep = Annotated[Caller, Depends(writer)]

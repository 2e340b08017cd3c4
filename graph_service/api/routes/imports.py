"""Spreadsheet imports (台账): preview, commit, undo; saved column mappings.

``POST /v1/imports`` takes the file as multipart form data. Without ``commit`` it answers the
preview (nothing written); with ``commit=true`` it plans again and writes the accepted rows
as one unit, refusing with 409 when ``plan_digest`` no longer matches the plan. Uploads may be
larger than other bodies (``GRAPH_SERVICE_MAX_IMPORT_BYTES``).
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Depends, File, Form, Path, Request, UploadFile

from graph_service.api.deps import RequestIdDep, SettingsDep, ViewDep, WriterDep
from graph_service.api.intake_schemas import (
    ImportCommitted,
    ImportListed,
    ImportPage,
    ImportPreview,
    ImportUndone,
    SavedMapping,
    SavedMappings,
)
from graph_service.api.openapi import GUARDED, WRITE, problems
from graph_service.api.params import Cursor, LinkType, NodeLabel, PageLimit
from graph_service.api.responses import ORJSONResponse
from graph_service.api.routes.review import KeyHolderDep
from graph_service.errors import InvalidInputError
from graph_service.services.imports import ImportOptions, ImportService
from graph_service.text import LINE_PATTERN

router = APIRouter(prefix="/v1/imports", tags=["imports"])

ImportId = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$", description="Import id."),
]
MappingName = Annotated[
    str, Path(min_length=1, max_length=100, description="The name a mapping is saved under.")
]


async def get_imports(request: Request) -> ImportService:
    imports: ImportService = request.app.state.imports
    return imports


ImportsDep = Annotated[ImportService, Depends(get_imports)]


def _overrides(text: str | None) -> dict[str, str | None]:
    if not text:
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(
            f"mapping is a JSON object of header → field (or null): {exc}", field="mapping"
        ) from exc
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in value.items()
    ):
        raise InvalidInputError(
            'mapping is a JSON object of header → field or null: {"村庄名称": "name"}',
            field="mapping",
        )
    return value


@router.post(
    "",
    summary="Preview (or commit) a spreadsheet of nodes or links",
    response_model=ImportPreview,
    responses={
        201: {"model": ImportCommitted, "description": "Committed (commit=true)."},
        **problems(
            *WRITE,
            (404, "No region with this code, or no saved mapping of this name."),
            (409, "commit=true with a plan_digest the plan no longer has: preview again."),
        ),
    },
)
async def import_table(
    view: ViewDep,
    caller: WriterDep,
    settings: SettingsDep,
    imports: ImportsDep,
    request_id: RequestIdDep,
    file: Annotated[
        UploadFile,
        File(
            description="The sheet: .xlsx, .xls, .csv (UTF-8, GB18030).",
            json_schema_extra={"format": "binary"},
        ),
    ],
    region_code: Annotated[
        str,
        Form(pattern=r"^[0-9]{6}([0-9]{3})?$", description="The county (or town) it describes."),
    ],
    sheet: Annotated[
        str | None, Form(pattern=LINE_PATTERN, max_length=100, description="Sheet name.")
    ] = None,
    mapping: Annotated[
        str | None,
        Form(
            pattern=LINE_PATTERN,
            max_length=20_000,
            description='Corrections: {"header": "field" or null} (JSON).',
        ),
    ] = None,
    mapping_name: Annotated[
        str | None,
        Form(pattern=LINE_PATTERN, max_length=100, description="Start from this saved mapping."),
    ] = None,
    save_mapping_as: Annotated[
        str | None,
        Form(
            pattern=LINE_PATTERN, max_length=100, description="Save the mapping used (on commit)."
        ),
    ] = None,
    label: Annotated[NodeLabel | None, Form(description="Label of a node sheet's names.")] = None,
    link_type: Annotated[
        LinkType | None, Form(description="Relation of rows without 联建类型.")
    ] = None,
    commit: Annotated[bool, Form(description="Write the accepted rows.")] = False,
    plan_digest: Annotated[
        str | None,
        Form(max_length=64, pattern=r"^[0-9a-f]{32}$", description="The preview's plan_digest."),
    ] = None,
) -> ORJSONResponse:
    data = await file.read()
    options = ImportOptions(
        filename=(file.filename or "upload")[-200:],
        region_code=region_code,
        sheet=sheet,
        overrides=_overrides(mapping),
        mapping_name=mapping_name,
        save_mapping_as=save_mapping_as,
        label=label,
        link_type=link_type,
    )
    if not commit:
        plan = await imports.plan(view, data, options, settings.max_import_bytes)
        return ORJSONResponse(plan.shown())
    result = await imports.commit(
        view, caller, data, options, settings.max_import_bytes, plan_digest, request_id
    )
    return ORJSONResponse(result, status_code=201)


@router.get(
    "",
    summary="Committed imports, newest first",
    response_model=ImportPage,
    responses=problems(*GUARDED),
)
async def list_imports(
    caller: KeyHolderDep, imports: ImportsDep, cursor: Cursor = None, limit: PageLimit = 50
) -> ORJSONResponse:
    page = await imports.imports(cursor, limit)
    return ORJSONResponse({"items": page.items, "next_cursor": page.next_cursor})


@router.get(
    "/mappings",
    summary="Saved column mappings",
    response_model=SavedMappings,
    responses=problems(*GUARDED),
)
async def list_mappings(caller: KeyHolderDep, imports: ImportsDep) -> ORJSONResponse:
    return ORJSONResponse({"items": await imports.mappings()})


@router.get(
    "/mappings/{name}",
    summary="One saved column mapping",
    response_model=SavedMapping,
    responses=problems(*GUARDED, (404, "No mapping of this name.")),
)
async def get_mapping(
    name: MappingName, caller: KeyHolderDep, imports: ImportsDep
) -> ORJSONResponse:
    return ORJSONResponse(await imports.mapping(name))


@router.put(
    "/mappings/{name}",
    summary="Save a column mapping under a name",
    response_model=SavedMapping,
    responses=problems(*WRITE),
)
async def put_mapping(
    name: MappingName,
    body: Annotated[
        dict[str, Any],
        Body(description='{"columns": {"header": "field" or null}} or {"header": "field"}.'),
    ],
    caller: WriterDep,
    imports: ImportsDep,
    request_id: RequestIdDep,
) -> ORJSONResponse:
    return ORJSONResponse(await imports.save_mapping(caller, name, body, request_id))


@router.get(
    "/{import_id}",
    summary="One committed import",
    response_model=ImportListed,
    responses=problems(*GUARDED, (404, "No import with this id.")),
)
async def get_import(
    import_id: ImportId, caller: KeyHolderDep, imports: ImportsDep
) -> ORJSONResponse:
    return ORJSONResponse(await imports.import_record(import_id))


@router.post(
    "/{import_id}/undo",
    summary="Undo a committed import as one unit",
    response_model=ImportUndone,
    responses=problems(
        *GUARDED,
        (404, "No import with this id."),
        (409, "Undone already, or a node or link it wrote changed since."),
    ),
)
async def undo_import(
    import_id: ImportId, caller: WriterDep, imports: ImportsDep, request_id: RequestIdDep
) -> ORJSONResponse:
    return ORJSONResponse(await imports.undo(caller, import_id, request_id))

"""Pieces the reference data routers share: path parameters, callers, documented problems."""

from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request, Response
from pydantic import BaseModel

from service.auth.principal import Principal
from service.dependencies import require
from service.errors import PROBLEM_JSON, PROBLEM_RESPONSES
from service.policy import Permission
from service.reference.types import EXTERNAL_REF_PATTERN, MAX_EXTERNAL_REF, SOURCE_SYSTEM_PATTERN

Reader = Annotated[Principal, Depends(require(Permission.reference_read))]
Writer = Annotated[Principal, Depends(require(Permission.reference_write))]

SourceSystemPath = Annotated[
    str, Path(pattern=SOURCE_SYSTEM_PATTERN, description="The sending system's name.", examples=["acme-care"])
]
ExternalRefPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_EXTERNAL_REF,
        pattern=EXTERNAL_REF_PATTERN,
        description="The row's id in the sending system (may contain `/`).",
    ),
]
SourceSystemQuery = Annotated[
    str | None, Query(pattern=SOURCE_SYSTEM_PATTERN, description="Only rows filed under this source system.")
]


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The shared problems (PROBLEM_RESPONSES) plus any other statuses a route answers."""
    out = dict(PROBLEM_RESPONSES)
    for status in statuses:
        out[status] = {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return out


def created_response(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    return {201: {"model": model, "description": "Created; `Location` names the new row."}}


def set_location(request: Request, response: Response, route_name: str, **path: str) -> None:
    response.headers["Location"] = request.app.url_path_for(route_name, **path)

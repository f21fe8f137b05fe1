"""Pieces the reference data routers share: path parameters, callers, documented problems, and
the routes every reference collection has."""

import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel

from service.auth.principal import Principal
from service.dependencies import SessionDep, require
from service.errors import PROBLEM_JSON, PROBLEM_RESPONSES
from service.policy import Permission
from service.reference.service import ReferenceService
from service.reference.types import EXTERNAL_REF_PATTERN, MAX_EXTERNAL_REF, SOURCE_SYSTEM_PATTERN
from service.reference.writes import Synced

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


Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
IDEMPOTENT_SYNC = "Idempotent: 201 when created, 200 when it existed (unchanged if the body is the same)."
SYNC_PATH = "/by-ref/{source_system}/{external_ref:path}"


def with_annotations(endpoint: Endpoint, **annotations: Any) -> Endpoint:
    """An endpoint written once for every collection, typed for one of them: FastAPI reads a body's
    schema, a path parameter's name and the caller's permission from these annotations."""
    endpoint.__annotations__.update(annotations)
    return endpoint


class ReferenceRoutes:
    """The routes every reference collection has: create, list, read, update, sync by reference.

    An area's router adds them one by one, in the order the API document lists them, each with its
    own operation id, summary and description; the list route is the area's own function, since its
    filters are what differ. `row` names the row's id parameter (`staff_member` → `staff_member_id`).
    """

    def __init__(
        self,
        router: APIRouter,
        area: ReferenceService[Any, Any, Any],
        *,
        row: str,
        public: type[BaseModel],
        writer: Any = Writer,
        syncer: Any = None,
    ) -> None:
        self.router = router
        self.area = area
        self.public = public
        self.row_id_name = f"{row}_id"
        self.row_id = Annotated[uuid.UUID, Path(alias=self.row_id_name)]
        self.id_path = f"/{{{self.row_id_name}}}"
        self.writer = writer
        self.syncer = syncer or writer
        self.read_name = ""

    def create(self, operation_id: str, body: type[BaseModel], *, summary: str) -> None:
        async def create(
            data: Any, request: Request, response: Response, session: SessionDep, principal: Any
        ) -> Any:
            created = await self.area.create(session=session, principal=principal, data=data)
            self.locate(request, response, created)
            return created

        self.route("POST", "", operation_id, status_code=201, responses=problems(409), summary=summary)(
            with_annotations(create, data=body, principal=self.writer)
        )

    def list(
        self, operation_id: str, *, summary: str, description: str | None = None
    ) -> Callable[[Endpoint], Endpoint]:
        """The area's list endpoint; its answer (`Page[...]`) is the response model."""
        return self.router.get(
            "",
            name=operation_id,
            operation_id=operation_id,
            responses=problems(),
            summary=summary,
            description=description,
        )

    def read(self, operation_id: str, *, summary: str, description: str | None = None) -> None:
        async def read(row_id: Any, session: SessionDep, principal: Reader) -> Any:
            return await self.area.get(session=session, principal=principal, row_id=row_id)

        self.read_name = operation_id
        self.route("GET", self.id_path, operation_id, summary=summary, description=description)(
            with_annotations(read, row_id=self.row_id)
        )

    def update(
        self, operation_id: str, body: type[BaseModel], *, summary: str, description: str | None = None
    ) -> None:
        async def update(row_id: Any, data: Any, session: SessionDep, principal: Any) -> Any:
            return await self.area.update(session=session, principal=principal, row_id=row_id, data=data)

        self.route("PATCH", self.id_path, operation_id, summary=summary, description=description)(
            with_annotations(update, row_id=self.row_id, data=body, principal=self.writer)
        )

    def sync(
        self, operation_id: str, body: type[BaseModel], *, summary: str, description: str = IDEMPOTENT_SYNC
    ) -> None:
        async def sync(
            source_system: SourceSystemPath,
            external_ref: ExternalRefPath,
            data: Any,
            request: Request,
            response: Response,
            session: SessionDep,
            principal: Any,
        ) -> Any:
            synced = await self.area.sync(
                session=session,
                principal=principal,
                source_system=source_system,
                external_ref=external_ref,
                data=data,
            )
            return self.synced(request, response, synced)

        self.sync_route(operation_id, summary=summary, description=description)(
            with_annotations(sync, data=body, principal=self.syncer)
        )

    def sync_route(
        self, operation_id: str, *, summary: str, description: str
    ) -> Callable[[Endpoint], Endpoint]:
        """The sync route's decorator, for an area whose sync endpoint is its own."""
        responses = {**created_response(self.public), **problems(409)}
        return self.route(
            "PUT", SYNC_PATH, operation_id, responses=responses, summary=summary, description=description
        )

    def route(
        self, method: str, path: str, operation_id: str, *, responses: Any = None, **options: Any
    ) -> Callable[[Endpoint], Endpoint]:
        """A route answering with one row, named (for `Location`) by its operation id."""
        return self.router.api_route(
            path,
            methods=[method],
            name=operation_id,
            operation_id=operation_id,
            response_model=self.public,
            responses=responses or problems(),
            **options,
        )

    def synced(self, request: Request, response: Response, synced: Synced[Any]) -> Any:
        """The row a sync stored: 201 with its `Location` when the sync created it."""
        if synced.created:
            response.status_code = 201
            self.locate(request, response, synced.row)
        return synced.row

    def locate(self, request: Request, response: Response, row: Any) -> None:
        set_location(request, response, self.read_name, **{self.row_id_name: str(row.id)})

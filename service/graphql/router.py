"""/graphql on the REST app: the same verifier, policy table and service functions."""

import logging
from typing import Any

# What Strawberry raises for a request it cannot take (cross_web is its HTTP layer).
from cross_web import HTTPException as GraphQLHTTPError
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.routing import APIWebSocketRoute
from starlette.exceptions import HTTPException
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from service.availability import describe
from service.docs.router import graphiql_html
from service.errors import InvalidInput, ProblemError, Unavailable, UnsupportedMediaType, retry_after_seconds
from service.graphql.context import GraphQLContext, get_context, graphql_caller
from service.graphql.errors import is_unavailable
from service.graphql.schema import schema
from service.settings import Settings
from service.touchpoints.limits import BodyLimitedRoute

GRAPHQL_PATH = "/graphql"
log = logging.getLogger(__name__)


class IngrainGraphQLRouter(GraphQLRouter[GraphQLContext, None]):
    """Strawberry's router answering as the REST app does: problem+json for a request it cannot take
    (it answers those in plain text) and 503 for an operation the database could not serve."""

    def decode_json(self, data: str | bytes) -> object:
        try:
            return super().decode_json(data)
        except UnicodeDecodeError as exc:
            # Strawberry turns malformed JSON into a 400 but lets undecodable bytes through as a 500.
            raise GraphQLHTTPError(400, "Unable to parse request body as JSON: it is not UTF-8") from exc

    async def run(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().run(*args, **kwargs)
        except GraphQLHTTPError as exc:
            if exc.status_code == 400:
                rule = {"field": "body", "rule": "graphql_request", "message": exc.reason}
                raise ProblemError(exc.reason, errors=[rule]) from exc
            raise HTTPException(exc.status_code, detail=exc.reason) from exc

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL from the assets shipped with the service (Strawberry's page loads them from CDNs)."""
        return HTMLResponse(graphiql_html(request))

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """An operation the database could not serve is answered as REST answers it: 503 problem+json
        with `Retry-After`, like the 401 and 413 this endpoint answers before running anything.

        Some of its fields may have been served (a mutation committed before the database went);
        the client retries the whole operation, which `idempotencyKey` and external ids make safe.
        """
        unavailable = [error for error in result.errors or () if is_unavailable(error)]
        if unavailable:
            cause = unavailable[0].original_error
            log.warning("database unavailable during a GraphQL operation: %s", cause and describe(cause))
            raise Unavailable.database(retry_after_seconds(request))
        return await super().process_result(request, result)


# The members of a GraphQL-over-HTTP request body, with the JSON types each may take.
_OPERATION_MEMBERS: dict[str, tuple[type, ...]] = {
    "query": (str,),
    "variables": (dict, type(None)),
    "operationName": (str, type(None)),
    "extensions": (dict, type(None)),
}

_JSON_NAMES = {str: "a string", dict: "an object", type(None): "null"}


async def json_operations(request: Request) -> None:
    """An operation is a JSON object with a `query` string; anything else is refused as a problem
    naming the member, before Strawberry reads it (it answers bare text, or fails on a non-object)."""
    if request.method != "POST":
        return
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type:
        message = "post GraphQL operations as application/json"
        raise UnsupportedMediaType(
            message, errors=[{"field": "content-type", "rule": "json_required", "message": message}]
        )
    body = await request.json() if await request.body() else None
    if not isinstance(body, dict):
        raise _invalid_operation("body", "model_type", "an operation is a JSON object with a `query`")
    for member, types in _OPERATION_MEMBERS.items():
        if member == "query" and member not in body:
            raise _invalid_operation(member, "missing", "the operation's document is required")
        if not isinstance(body.get(member), types):
            expected = " or ".join(_JSON_NAMES[t] for t in types)
            raise _invalid_operation(member, "wrong_type", f"must be {expected}")


def _invalid_operation(field: str, rule: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", errors=[{"field": field, "rule": rule, "message": message}])


def graphql_router(settings: Settings) -> GraphQLRouter[GraphQLContext, None]:
    router = IngrainGraphQLRouter(
        schema,
        path=GRAPHQL_PATH,
        context_getter=get_context,
        # The explorer is only useful with introspection; without it, /graphql serves operations only.
        graphql_ide="graphiql" if settings.graphql_introspection else None,
        # Operations are POSTed; GET serves the explorer page only.
        allow_queries_via_get=False,
        dependencies=[Depends(graphql_caller), Depends(json_operations)],
        # The GraphQL contract is openapi/schema.graphql, not the OpenAPI document.
        include_in_schema=False,
        # Bodies are bounded as REST's touchpoint bodies are, before anything parses them.
        route_class=BodyLimitedRoute,
    )
    # The schema has no subscriptions, so no websocket endpoint is offered.
    router.routes[:] = [route for route in router.routes if not isinstance(route, APIWebSocketRoute)]
    return router

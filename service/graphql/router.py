"""/graphql on the REST app: the same verifier, policy table and service functions."""

from typing import Any

# What Strawberry raises for a request it cannot take (cross_web is its HTTP layer).
from cross_web import HTTPException as GraphQLHTTPError
from fastapi import Depends
from fastapi.routing import APIWebSocketRoute
from starlette.exceptions import HTTPException
from strawberry.fastapi import GraphQLRouter

from service.errors import ProblemError
from service.graphql.context import GraphQLContext, get_context, graphql_caller
from service.graphql.schema import schema
from service.settings import Settings
from service.touchpoints.limits import BodyLimitedRoute

GRAPHQL_PATH = "/graphql"


class ProblemGraphQLRouter(GraphQLRouter[GraphQLContext, None]):
    """Strawberry answers a request it cannot take (no JSON, no query, a query over GET) in plain text;
    here it is a problem+json like every other error."""

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


def graphql_router(settings: Settings) -> GraphQLRouter[GraphQLContext, None]:
    router = ProblemGraphQLRouter(
        schema,
        path=GRAPHQL_PATH,
        context_getter=get_context,
        # The explorer is only useful with introspection; without it, /graphql serves operations only.
        graphql_ide="graphiql" if settings.graphql_introspection else None,
        # Operations are POSTed; GET serves the explorer page only.
        allow_queries_via_get=False,
        dependencies=[Depends(graphql_caller)],
        # The GraphQL contract is openapi/schema.graphql, not the OpenAPI document.
        include_in_schema=False,
        # Bodies are bounded as REST's touchpoint bodies are, before anything parses them.
        route_class=BodyLimitedRoute,
    )
    # The schema has no subscriptions, so no websocket endpoint is offered.
    router.routes[:] = [route for route in router.routes if not isinstance(route, APIWebSocketRoute)]
    return router

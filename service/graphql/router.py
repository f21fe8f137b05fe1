"""/graphql on the REST app: the same verifier, policy table and service functions."""

import logging

from fastapi import Depends, Request
from fastapi.routing import APIWebSocketRoute
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from service.availability import describe
from service.errors import Unavailable, retry_after_seconds
from service.graphql.context import GraphQLContext, get_context, graphql_caller
from service.graphql.errors import is_unavailable
from service.graphql.schema import schema
from service.settings import Settings
from service.touchpoints.limits import BodyLimitedRoute

GRAPHQL_PATH = "/graphql"
log = logging.getLogger(__name__)


class IngrainGraphQLRouter(GraphQLRouter[GraphQLContext, None]):
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


def graphql_router(settings: Settings) -> GraphQLRouter[GraphQLContext, None]:
    router = IngrainGraphQLRouter(
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

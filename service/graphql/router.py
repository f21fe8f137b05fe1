"""/graphql on the REST app: the same verifier, policy table and service functions."""

from fastapi import Depends, Request
from fastapi.routing import APIWebSocketRoute
from strawberry.fastapi import GraphQLRouter

from service.errors import UnsupportedMediaType
from service.graphql.context import GraphQLContext, get_context, graphql_caller
from service.graphql.schema import schema
from service.settings import Settings
from service.touchpoints.limits import BodyLimitedRoute

GRAPHQL_PATH = "/graphql"


async def json_operations(request: Request) -> None:
    """Operations are posted as JSON; anything else is refused as a problem, not Strawberry's text."""
    content_type = request.headers.get("content-type", "")
    if request.method == "POST" and "json" not in content_type:
        message = "post GraphQL operations as application/json"
        raise UnsupportedMediaType(
            message, errors=[{"field": "content-type", "rule": "json_required", "message": message}]
        )


def graphql_router(settings: Settings) -> GraphQLRouter[GraphQLContext, None]:
    router: GraphQLRouter[GraphQLContext, None] = GraphQLRouter(
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

"""The GraphQL schema: every area's queries and mutations over the REST service functions."""

import strawberry

from service.graphql.errors import error_extensions
from service.graphql.limits import limit_extensions
from service.graphql.reference.services import ServiceQuery
from service.graphql.viewer import ViewerQuery


@strawberry.type
class Query(ViewerQuery, ServiceQuery):
    pass


schema = strawberry.Schema(query=Query, extensions=[*limit_extensions(), *error_extensions()])

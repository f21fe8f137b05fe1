"""The GraphQL schema: every area's queries and mutations over the REST service functions."""

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from service.graphql.audit import AccessLogQuery
from service.graphql.errors import error_extensions, is_unexpected
from service.graphql.limits import limit_extensions
from service.graphql.portfolio import PortfolioQuery
from service.graphql.reference.innovations import InnovationMutation, InnovationQuery
from service.graphql.reference.people import PeopleQuery
from service.graphql.reference.services import ServiceQuery
from service.graphql.reference.staff import StaffQuery
from service.graphql.scalars import SCALAR_OVERRIDES
from service.graphql.status.queries import StatusQuery
from service.graphql.status.thresholds import ThresholdsMutation, ThresholdsQuery
from service.graphql.touchpoints.mutations import TouchpointMutation
from service.graphql.touchpoints.queries import TouchpointQuery
from service.graphql.touchpoints.types import KIND_TYPES
from service.graphql.viewer import ViewerQuery
from service.graphql.webhooks import WebhookMutation, WebhookQuery


@strawberry.type
class Query(
    ViewerQuery,
    ServiceQuery,
    StaffQuery,
    PeopleQuery,
    InnovationQuery,
    TouchpointQuery,
    StatusQuery,
    ThresholdsQuery,
    PortfolioQuery,
    AccessLogQuery,
    WebhookQuery,
):
    pass


@strawberry.type
class Mutation(TouchpointMutation, InnovationMutation, ThresholdsMutation, WebhookMutation):
    pass


class IngrainSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Refusals and invalid input are answers, not faults: only unexpected errors are logged.
        super().process_errors([e for e in errors if is_unexpected(e)], execution_context)


schema = IngrainSchema(
    query=Query,
    mutation=Mutation,
    # Each kind's type is reached through the Touchpoint interface only.
    types=KIND_TYPES,
    # ISO 8601 only, with an offset, inside the accepted range of dates (service/moments.py).
    scalar_overrides=SCALAR_OVERRIDES,
    extensions=[*limit_extensions(), *error_extensions()],
)

"""No N+1: a nested query issues the same number of SQL statements whatever the number of items."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories
from tests.graphql.helpers import graphql_data
from tests.graphql.status_world import AS_OF, build_status_world
from tests.tokens import TokenFactory

NESTED = """{
  services(first: 20) { edges { node {
    name
    innovations(first: 20) { totalCount edges { node {
      name
      services { name }
    } } }
  } } }
}"""


@contextmanager
def counted_statements(app: Any) -> Iterator[list[str]]:
    """Every statement the app's engine sends while the block runs."""
    statements: list[str] = []
    engine = app.state.engine.sync_engine

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def provider_of_size(session: AsyncSession, services: int, innovations_per_service: int) -> Any:
    org = await factories.organisation(session)
    for s in range(services):
        service = await factories.care_service(session, org, name=f"Service {s}")
        for i in range(innovations_per_service):
            await factories.innovation(session, org, [service], name=f"Innovation {s}.{i}")
    return org


async def statements_for(
    app: Any, client: httpx.AsyncClient, headers: dict[str, str], query: str
) -> list[str]:
    with counted_statements(app) as statements:
        data = await graphql_data(client, query, headers)
    assert data
    return statements


async def test_nested_reference_reads_do_not_grow_with_the_data(
    app: Any, client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    small = await provider_of_size(session, services=1, innovations_per_service=1)
    large = await provider_of_size(session, services=6, innovations_per_service=4)

    few = await statements_for(app, client, tokens.headers("quality_lead", small.id), NESTED)
    many = await statements_for(app, client, tokens.headers("quality_lead", large.id), NESTED)

    assert len(few) == len(many), "\n\n".join(many)
    assert len(many) <= 6


NESTED_STATUS = """query ($asOf: DateTime) {
  services(first: 20) { edges { node {
    name
    innovations(first: 20) { edges { node {
      name
      status(asOf: $asOf) { stage indicators { key rag numerator denominator } }
    } } }
  } } }
}"""


async def test_nested_statuses_do_not_grow_with_the_data(
    app: Any, client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    small = await build_status_world(session, client, tokens, services=1, innovations=1, days=15)
    large = await build_status_world(session, client, tokens, services=4, innovations=3, days=15)
    variables = {"asOf": AS_OF.isoformat()}

    with counted_statements(app) as few:
        small_data = await graphql_data(client, NESTED_STATUS, small.manager, variables)
    with counted_statements(app) as many:
        large_data = await graphql_data(client, NESTED_STATUS, large.manager, variables)

    statuses = [
        i["node"]["status"]
        for s in large_data["services"]["edges"]
        for i in s["node"]["innovations"]["edges"]
    ]
    assert len(statuses) == 12
    assert all(len(status["indicators"]) == 8 for status in statuses)
    assert small_data["services"]["edges"]
    assert len(few) == len(many), "\n\n".join(many)
    # Services, innovations with their services, the caller's scope, one load of the provider's counts.
    assert len(many) <= 12, "\n\n".join(many)

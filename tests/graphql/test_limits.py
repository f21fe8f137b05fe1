"""Hostile queries are refused before anything runs, each with a message naming its limit."""

from typing import Any

import httpx
import strawberry

from service.graphql.connections import Connection, connection
from service.graphql.limits import (
    LIST_SIZE_ESTIMATE,
    MAX_ALIASES,
    MAX_COST,
    MAX_DEPTH,
    MAX_TOKENS,
    limit_extensions,
    query_cost,
)
from service.pagination import DEFAULT_LIMIT
from tests import factories
from tests.graphql.helpers import graphql
from tests.tokens import TokenFactory

RESOLVED: list[str] = []


@strawberry.type
class Leaf:
    name: str


@strawberry.type
class Branch:
    name: str

    @strawberry.field
    def child(self) -> "Branch":
        RESOLVED.append("child")
        return Branch(name="c")

    @strawberry.field
    def leaves(self) -> list[Leaf]:
        RESOLVED.append("leaves")
        return [Leaf(name="l")]

    @strawberry.field
    def shelf(self, first: int = 7) -> "Shelf":
        return Shelf(size=first)

    @strawberry.field
    def branches(self, first: int = DEFAULT_LIMIT) -> Connection["Branch"]:
        RESOLVED.append("branches")
        return connection([Branch(name="b")], cursors=["x"], next_cursor=None, after=None)


@strawberry.type(description="A page-sized view whose connection is paged by the field above it.")
class Shelf:
    size: strawberry.Private[int]

    @strawberry.field
    def branches(self) -> Connection[Branch]:
        return connection([Branch(name="s")], cursors=["x"], next_cursor=None, after=None)


@strawberry.type
class TreeQuery:
    @strawberry.field
    def root(self) -> Branch:
        RESOLVED.append("root")
        return Branch(name="r")


tree = strawberry.Schema(query=TreeQuery, extensions=limit_extensions())


def cost(query: str, variables: dict[str, Any] | None = None) -> int:
    from graphql import parse

    return query_cost(tree._schema, parse(query), variables)


def nested(field: str, depth: int) -> str:
    return "{ root { " + f"{field} {{ " * depth + "name" + " }" * depth + " } }"


def test_a_connection_multiplies_the_cost_of_what_is_below_it() -> None:
    flat = cost("{ root { name } }")
    one_page = cost("{ root { branches(first: 10) { edges { node { child { name } } } } } }")
    bigger_page = cost("{ root { branches(first: 100) { edges { node { child { name } } } } } }")

    assert flat == 1
    # root and branches once; node and child once per node on the page; edges come with nodes.
    assert one_page == 1 + 1 + 10 + 10
    assert bigger_page - one_page == 2 * 90


def test_pages_multiply_along_the_nesting_and_variables_count() -> None:
    query = """query ($outer: Int!, $inner: Int = 20) {
      root { branches(first: $outer) { edges { node {
        branches(first: $inner) { edges { node { child { name } } } }
      } } } }
    }"""

    small = cost(query, {"outer": 5})
    large = cost(query, {"outer": 50})

    assert large > 9 * small
    assert cost(query, {"outer": 5, "inner": 40}) > small


def test_a_connection_without_first_counts_a_default_page_and_lists_an_estimate() -> None:
    paged = cost("{ root { branches { edges { node { child { name } } } } } }")
    listed = cost("{ root { leaves { name } child { leaves { name } } } }")

    assert paged == 1 + 1 + 2 * DEFAULT_LIMIT
    assert listed == 1 + LIST_SIZE_ESTIMATE + 1 + LIST_SIZE_ESTIMATE
    assert LIST_SIZE_ESTIMATE > 1


def test_a_connection_is_paged_by_the_first_of_the_field_above_it() -> None:
    given = cost("{ root { shelf(first: 3) { branches { edges { node { child { name } } } } } } }")
    defaulted = cost("{ root { shelf { branches { edges { node { child { name } } } } } } }")

    # root, shelf and branches once; node and child once per branch of the page.
    assert given == 1 + 1 + 1 + 3 + 3
    assert defaulted == 1 + 1 + 1 + 7 + 7


def test_fragments_and_introspection_are_costed() -> None:
    with_fragment = cost(
        "query { root { ...F } } "
        "fragment F on Branch { branches(first: 7) { edges { node { child { name } } } } }"
    )

    assert with_fragment == 1 + 1 + 7 + 7
    assert cost("{ __schema { types { name fields { name } } } }") == 0


async def test_a_costly_query_is_refused_before_it_runs() -> None:
    RESOLVED.clear()
    inner = "branches(first: 500) { edges { node { " * 2 + "name" + " } } }" * 2
    result = await tree.execute("{ root { " + inner + " } }")

    assert result.data is None
    assert result.errors
    message = result.errors[0].message
    assert f"maximum query cost of {MAX_COST}" in message
    assert result.errors[0].extensions == {
        "code": "QUERY_TOO_COSTLY",
        "cost": cost("{ root { " + inner + " } }"),
        "maxCost": MAX_COST,
    }
    assert RESOLVED == []


async def test_a_deep_query_is_refused_before_it_runs() -> None:
    RESOLVED.clear()
    within = await tree.execute(nested("child", MAX_DEPTH - 1))
    too_deep = await tree.execute(nested("child", MAX_DEPTH + 1))

    assert within.errors is None
    RESOLVED.clear()
    assert too_deep.errors
    assert f"exceeds maximum operation depth of {MAX_DEPTH}" in too_deep.errors[0].message
    assert RESOLVED == []


async def test_invalid_queries_get_the_validation_message_not_a_cost() -> None:
    result = await tree.execute("{ root { nope } }")

    assert result.errors
    assert "Cannot query field 'nope'" in result.errors[0].message


async def test_too_many_aliases_are_refused(client: httpx.AsyncClient, tokens: TokenFactory, session) -> None:
    org = await factories.organisation(session)
    headers = tokens.headers("care_worker", org.id)
    aliases = " ".join(f"a{i}: viewer {{ sub }}" for i in range(MAX_ALIASES + 1))

    body = await graphql(client, "{ " + aliases + " }", headers)
    within = await graphql(
        client, "{ " + " ".join(f"a{i}: viewer {{ sub }}" for i in range(3)) + " }", headers
    )

    assert body.get("data") is None
    assert body["errors"][0]["message"] == f"{MAX_ALIASES + 1} aliases found. Allowed: {MAX_ALIASES}"
    assert "errors" not in within


async def test_too_many_tokens_are_refused(client: httpx.AsyncClient, tokens: TokenFactory, session) -> None:
    org = await factories.organisation(session)
    query = "{ viewer { " + " ".join(["sub"] * MAX_TOKENS) + " } }"

    body = await graphql(client, query, tokens.headers("care_worker", org.id))

    assert body.get("data") is None
    assert f"more than {MAX_TOKENS} tokens" in body["errors"][0]["message"]


async def test_a_document_validated_once_is_still_costed_with_each_requests_variables() -> None:
    query = """query ($n: Int!) { root { branches(first: $n) { edges { node {
      branches(first: $n) { edges { node { name } } } } } } } }"""

    cheap = await tree.execute(query, variable_values={"n": 2})
    costly = await tree.execute(query, variable_values={"n": 500})

    assert cheap.errors is None
    assert costly.errors is not None
    assert f"maximum query cost of {MAX_COST}" in costly.errors[0].message


async def test_the_same_document_is_refused_where_introspection_is_off(
    client: httpx.AsyncClient, tokens: TokenFactory, session, database_url: str
) -> None:
    from service.main import create_app
    from service.settings import Settings

    org = await factories.organisation(session)
    query = '{ __type(name: "Query") { name } }'
    allowed = await graphql(client, query, tokens.headers("care_worker", org.id))
    closed = Settings(environment="test", demo_data=False, graphql_introspection=False)
    app = create_app(closed, database_url=database_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingrain.test") as other:
            refused = await graphql(other, query, TokenFactory(closed).headers("care_worker", org.id))

    assert allowed["data"] == {"__type": {"name": "Query"}}
    assert refused.get("data") is None
    assert "introspection" in refused["errors"][0]["message"].lower()

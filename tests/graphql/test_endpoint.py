"""/graphql on the REST app: authentication, the explorer page, introspection switch, masking."""

from typing import Any

import httpx
import pytest

from service.settings import Settings
from tests import factories
from tests.graphql.helpers import graphql, graphql_data
from tests.tokens import TokenFactory

VIEWER = "{ viewer { sub roles organisationId serviceIds permissions organisation { id name kind } } }"


async def test_viewer_is_the_verified_caller(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    org = await factories.organisation(session, name="Sunrise Care")
    service = await factories.care_service(session, org)
    headers = tokens.headers("registered_manager", org.id, sub="manager-1", services=[service.id])

    data = await graphql_data(client, VIEWER, headers)

    viewer = data["viewer"]
    assert viewer["sub"] == "manager-1"
    assert viewer["roles"] == ["registered_manager"]
    assert viewer["organisationId"] == str(org.id)
    assert viewer["serviceIds"] == [str(service.id)]
    assert "touchpoint:read_text" in viewer["permissions"]
    assert viewer["organisation"] == {"id": str(org.id), "name": "Sunrise Care", "kind": "provider"}


async def test_an_operation_without_a_token_is_refused_like_rest(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": VIEWER})

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/unauthenticated")


async def test_a_forged_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": "Bearer not.a.token"}
    )

    assert response.status_code == 401


async def test_the_explorer_page_opens_in_a_browser(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_queries_are_not_taken_over_get(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    org = await factories.organisation(session, kind="commissioner")
    response = await client.get(
        "/graphql", params={"query": "{ viewer { sub } }"}, headers=tokens.headers("commissioner", org.id)
    )

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "data" not in response.json()


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [
        (b"{not json", "application/json", 422, "body"),
        (b'{"text": "\xff\xfe"}', "application/json", 422, "body"),
        (b"{}", "application/json", 422, "query"),
        (b'{"query": 1}', "application/json", 422, "query"),
        (b"query={viewer{sub}}", "text/plain", 415, "content-type"),
    ],
    ids=["malformed", "not-utf8", "no-query", "query-not-a-string", "content-type"],
)
async def test_a_request_that_is_not_graphql_is_refused_as_problem_json(
    body: bytes,
    content_type: str,
    status: int,
    field: str,
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    session,
) -> None:
    """Refused as REST refuses the same body: 422 naming what is wrong, 415 for another media type."""
    org = await factories.organisation(session)
    headers = {**tokens.headers("care_worker", org.id), "Content-Type": content_type}

    response = await client.post("/graphql", content=body, headers=headers)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert problem["errors"][0]["field"] == field


async def test_introspection_answers_when_enabled(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    org = await factories.organisation(session)
    data = await graphql_data(
        client, "{ __schema { queryType { name } } }", tokens.headers("care_worker", org.id)
    )

    assert data["__schema"]["queryType"]["name"] == "Query"


@pytest.fixture
def no_introspection_settings() -> Settings:
    return Settings(environment="test", demo_data=False, graphql_introspection=False)


async def test_introspection_is_refused_when_switched_off(
    no_introspection_settings: Settings, database_url: str, session
) -> None:
    from service.main import create_app

    app = create_app(no_introspection_settings, database_url=database_url)
    tokens = TokenFactory(no_introspection_settings)
    org = await factories.organisation(session)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingrain.test") as client:
            body = await graphql(
                client, "{ __schema { types { name } } }", tokens.headers("care_worker", org.id)
            )
            page = await client.get("/graphql", headers={"Accept": "text/html"})
            viewer = await graphql_data(client, "{ viewer { sub } }", tokens.headers("care_worker", org.id))

    assert body.get("data") is None
    assert "introspection" in body["errors"][0]["message"].lower()
    assert page.status_code != 200 or "graphiql" not in page.text.lower()
    assert viewer["viewer"]["sub"] == "test-care_worker"


async def test_unexpected_errors_are_masked_and_expected_ones_keep_their_problem() -> None:
    import uuid

    from service.auth.principal import Principal
    from service.graphql.context import GraphQLContext
    from service.graphql.errors import MASKED_MESSAGE
    from service.graphql.schema import schema
    from service.vocabulary import Role

    def broken_factory() -> Any:
        raise RuntimeError("connection string postgres://secret@db")

    principal = Principal(sub="m", organisation_id=uuid.uuid4(), roles=frozenset({Role.registered_manager}))
    context = GraphQLContext(
        principal=principal,
        session_factory=broken_factory,  # type: ignore[arg-type]
        settings=Settings(environment="test"),
    )

    broken = await schema.execute("{ services { edges { cursor } } }", context_value=context)
    refused = await schema.execute("{ accessLog { edges { cursor } } }", context_value=context)

    assert broken.errors is not None
    assert broken.errors[0].message == MASKED_MESSAGE
    assert "secret" not in str(broken.errors[0].formatted)
    assert refused.errors is not None
    assert refused.errors[0].message == "role registered_manager lacks permission audit:read"
    assert refused.errors[0].extensions == {
        "code": "FORBIDDEN",
        "status": 403,
        "type": "https://ingrain.dev/problems/forbidden",
    }


async def test_a_body_over_the_limit_is_refused_before_it_is_parsed(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    from service.touchpoints.limits import MAX_BODY_BYTES

    org = await factories.organisation(session)
    padding = "#" * (MAX_BODY_BYTES + 1)

    response = await client.post(
        "/graphql",
        content=f'{{"query": "{{ viewer {{ sub }} }} {padding}"}}',
        headers={**tokens.headers("care_worker", org.id), "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["limit"] == {"name": "max_body_bytes", "value": MAX_BODY_BYTES}

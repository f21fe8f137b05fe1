"""Webhook endpoints managed through GraphQL: the REST functions' rules and answers, typed."""

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.graphql.helpers import error_codes, graphql, graphql_data
from tests.tokens import TokenFactory
from tests.webhooks.receiver import Receiver, verify
from tests.webhooks.support import emit, provider, stage_change, work

ENDPOINT = "id url description eventTypes enabled disabledReason previousSecretExpiresAt"
PROBLEM = "... on Problem { __typename status detail errors { field rule } }"

CREATE = f"""
mutation($input: WebhookEndpointCreateInput!) {{
  createWebhookEndpoint(input: $input) {{
    __typename
    ... on WebhookEndpointWithSecret {{ secret endpoint {{ {ENDPOINT} }} }}
    {PROBLEM}
  }}
}}"""

LIST = f"""
query {{
  webhookEndpoints(first: 10) {{
    edges {{
      node {{
        {ENDPOINT}
        deliveries(first: 5) {{
          edges {{ node {{ eventId eventType status attemptCount attempts {{ statusCode latencyMs }} }} }}
        }}
      }}
    }}
  }}
}}"""


async def test_an_admin_manages_endpoints_and_reads_deliveries_through_graphql(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    p = await provider(session, tokens)
    async with Receiver() as receiver:
        created = (
            await graphql_data(
                client,
                CREATE,
                p.admin,
                {"input": {"url": receiver.url, "eventTypes": ["stage_changed"], "description": "Portal"}},
            )
        )["createWebhookEndpoint"]
        assert created["__typename"] == "WebhookEndpointWithSecret", created
        endpoint = created["endpoint"]
        assert endpoint["eventTypes"] == ["stage_changed"] and endpoint["enabled"] is True
        await emit(app.state.database_url, p.org.id, [stage_change(p, 1)])
        await work(app.state.database_url)
        [received] = receiver.received
        verify(created["secret"], received.headers, received.body)

    [edge] = (await graphql_data(client, LIST, p.admin))["webhookEndpoints"]["edges"]
    assert edge["node"]["id"] == endpoint["id"]
    [delivery] = edge["node"]["deliveries"]["edges"]
    assert delivery["node"]["eventType"] == "stage_changed" and delivery["node"]["status"] == "delivered"
    assert delivery["node"]["attempts"][0]["statusCode"] == 200
    # The same list as REST's.
    rest = (await client.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=p.admin)).json()
    assert rest["items"][0]["event_id"] == delivery["node"]["eventId"]

    update = f"""
    mutation($id: UUID!) {{
      updateWebhookEndpoint(id: $id, input: {{enabled: false, eventTypes: [stage_changed, rag_changed]}}) {{
        __typename ... on WebhookEndpointSaved {{ endpoint {{ {ENDPOINT} }} }} {PROBLEM}
      }}
      rotateWebhookEndpointSecret(id: $id, overlapSeconds: 60) {{
        __typename ... on WebhookEndpointWithSecret {{ secret endpoint {{ previousSecretExpiresAt }} }}
      }}
    }}"""
    changed = await graphql_data(client, update, p.admin, {"id": endpoint["id"]})
    saved = changed["updateWebhookEndpoint"]["endpoint"]
    assert saved["enabled"] is False and saved["eventTypes"] == ["rag_changed", "stage_changed"]
    rotated = changed["rotateWebhookEndpointSecret"]
    assert rotated["secret"] != created["secret"] and rotated["endpoint"]["previousSecretExpiresAt"]

    delete = """mutation($id: UUID!) {
      deleteWebhookEndpoint(id: $id) { __typename ... on WebhookEndpointDeleted { id } }
    }"""
    gone = await graphql_data(client, delete, p.admin, {"id": endpoint["id"]})
    assert gone["deleteWebhookEndpoint"] == {"__typename": "WebhookEndpointDeleted", "id": endpoint["id"]}
    again = await graphql_data(client, delete, p.admin, {"id": endpoint["id"]})
    assert again["deleteWebhookEndpoint"]["__typename"] == "NotFound"
    one = "query($id: UUID!) { webhookEndpoint(id: $id) { id } }"
    assert (await graphql_data(client, one, p.admin, {"id": endpoint["id"]}))["webhookEndpoint"] is None


async def test_refusals_come_back_typed_and_other_roles_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    p = await provider(session, tokens)
    cases = [
        ({"url": "https://10.0.0.1/hook", "eventTypes": ["stage_changed"]}, ("url", "ssrf_private")),
        ({"url": "http://127.0.0.1:9/hook", "eventTypes": []}, ("event_types", "too_short")),
    ]
    for variables, expected in cases:
        result = (await graphql_data(client, CREATE, p.admin, {"input": variables}))["createWebhookEndpoint"]
        assert result["__typename"] == "ValidationProblem", result
        assert (result["errors"][0]["field"], result["errors"][0]["rule"]) == expected
    manager = tokens.headers("registered_manager", p.org.id)
    body = await graphql(client, LIST, manager)
    assert body["data"] is None and error_codes(body) == ["FORBIDDEN"]
    assert (await graphql_data(client, LIST, p.admin))["webhookEndpoints"]["edges"] == []

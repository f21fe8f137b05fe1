"""A commissioner's portfolio through GraphQL: REST's pages, its ETag as the fingerprint, aggregates only."""

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories
from tests.graphql.helpers import error_codes, graphql, graphql_data
from tests.graphql.status_shapes import STATUS, as_rest, rest_comparable
from tests.graphql.status_world import AS_OF, build_status_world
from tests.tokens import TokenFactory

PORTFOLIO = f"""query ($asOf: DateTime) {{
  portfolioStatus(asOf: $asOf) {{
    asOf windowDays fingerprint
    providers {{ edges {{ cursor node {{
      providerId providerName services {{ serviceId name cqcLocationId }}
      innovations {{ innovationId innovationName organisationId phase
                    provider {{ {STATUS} }} services {{ {STATUS} }} }}
    }} }} pageInfo {{ hasNextPage }} }}
  }}
}}"""

CHANGES = """query ($asOf: DateTime, $since: Date) {
  portfolioChanges(asOf: $asOf, since: $since) {
    since asOf windowDays fingerprint
    changes { edges { node { providerId providerName innovationId innovationName serviceId month changedAt
                             fromStage toStage stageReasons { rule indicators explanation } } } }
  }
}"""


async def test_the_portfolio_matches_rest_and_its_etag(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await build_status_world(session, client, tokens, services=2, days=40)
    commissioner = await factories.organisation(session, kind="commissioner")
    await factories.commissioning(session, commissioner, world.org, service_ids=[world.services[0].id])
    headers = tokens.headers("commissioner", commissioner.id)
    as_of = AS_OF.isoformat()
    since = (AS_OF - timedelta(days=60)).date().isoformat()

    data = await graphql_data(client, PORTFOLIO, headers, {"asOf": as_of})
    rest = await client.get("/v1/portfolio/status", params={"as_of": as_of}, headers=headers)
    changes = await graphql_data(client, CHANGES, headers, {"asOf": as_of, "since": since})
    rest_changes = await client.get(
        "/v1/portfolio/changes", params={"as_of": as_of, "since": since}, headers=headers
    )
    polled = await graphql_data(
        client,
        "query ($asOf: DateTime) { portfolioStatus(asOf: $asOf) { fingerprint } }",
        headers,
        {"asOf": as_of},
    )

    portfolio = data["portfolioStatus"]
    assert portfolio["fingerprint"] == rest.headers["etag"] == polled["portfolioStatus"]["fingerprint"]
    [provider] = portfolio["providers"]["edges"]
    assert as_rest(provider["node"]) == rest_comparable(rest.json()["items"][0])
    # Only the commissioned service is in the portfolio, and the rows are aggregates with counts withheld.
    assert [s["serviceId"] for s in provider["node"]["services"]] == [str(world.services[0].id)]
    [innovation] = provider["node"]["innovations"]
    assert innovation["provider"]["suppressedCounts"] is True
    assert innovation["provider"]["scope"]["serviceIds"] == [str(world.services[0].id)]
    graph_changes = changes["portfolioChanges"]
    assert graph_changes["fingerprint"] == rest_changes.headers["etag"]
    assert [as_rest(e["node"]) for e in graph_changes["changes"]["edges"]] == rest_comparable(
        rest_changes.json()["items"]
    )


async def test_the_portfolio_is_for_commissioners(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    org = await factories.organisation(session)

    body = await graphql(
        client, "{ portfolioStatus { fingerprint } }", tokens.headers("quality_lead", org.id)
    )

    assert body["data"] is None
    assert error_codes(body) == ["FORBIDDEN"]

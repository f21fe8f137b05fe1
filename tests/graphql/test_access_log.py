"""The access log and organisations through GraphQL, as REST answers them; GraphQL reads are logged."""

import httpx

from tests import factories
from tests.graphql.helpers import error_codes, graphql, graphql_data
from tests.tokens import TokenFactory

ACCESS_LOG = """query ($first: Int!, $after: String, $action: String) {
  accessLog(first: $first, after: $after, action: $action) {
    edges { cursor node { id at sub roles action resourceType recordIds recordCount method path } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_the_access_log_matches_rest_and_records_graphql_reads(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    org = await factories.organisation(session)
    home = await factories.care_service(session, org)
    nurse = await factories.staff_member(session, org, [home], display_name="Ada")
    manager = tokens.headers("registered_manager", org.id, sub="manager-1")
    admin = tokens.headers("provider_admin", org.id)
    # A GraphQL read of staff identity is logged as the REST read is.
    await graphql_data(
        client, "query ($id: UUID!) { staffMember(id: $id) { displayName } }", manager, {"id": str(nurse.id)}
    )
    await graphql_data(client, "{ staff { edges { node { recordedName: displayName } } } }", manager)

    rest = (await client.get("/v1/access-log", params={"limit": 1}, headers=admin)).json()
    data = await graphql_data(client, ACCESS_LOG, admin, {"first": 1})
    everything = await graphql_data(client, ACCESS_LOG, admin, {"first": 50})

    node = data["accessLog"]["edges"][0]["node"]
    assert node["id"] == rest["items"][0]["id"]
    assert node["action"] == rest["items"][0]["action"]
    assert data["accessLog"]["pageInfo"]["endCursor"] == rest["next_cursor"]
    reads = [e["node"] for e in everything["accessLog"]["edges"] if e["node"]["sub"] == "manager-1"]
    assert [r["action"] for r in reads] == ["staff_member.list", "staff_member.read"]
    assert all(r["path"] == "/graphql" and r["recordIds"] == [str(nurse.id)] for r in reads)


async def test_the_access_log_is_for_admins_only(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    org = await factories.organisation(session)

    body = await graphql(client, ACCESS_LOG, tokens.headers("quality_lead", org.id), {"first": 5})

    assert body["data"] is None
    assert error_codes(body) == ["FORBIDDEN"]


async def test_organisations_the_caller_may_know(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    org = await factories.organisation(session, name="Sunrise Care")
    other = await factories.organisation(session, name="Elsewhere")
    headers = tokens.headers("care_worker", org.id)
    query = "query ($id: UUID!) { organisation(id: $id) { id name kind } }"

    own = await graphql_data(client, query, headers, {"id": str(org.id)})
    hidden = await graphql(client, query, headers, {"id": str(other.id)})
    rest_hidden = await client.get(f"/v1/organisations/{other.id}", headers=headers)

    assert own["organisation"] == {"id": str(org.id), "name": "Sunrise Care", "kind": "provider"}
    assert hidden["data"]["organisation"] is None
    assert error_codes(hidden) == ["NOT_FOUND"]
    assert rest_hidden.status_code == 404
    assert hidden["errors"][0]["message"] == rest_hidden.json()["detail"]

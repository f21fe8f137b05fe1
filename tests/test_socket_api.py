"""A plain round trip through a real uvicorn socket on loopback: `ingrain serve` in a subprocess, a
touchpoint recorded over HTTP, then read back and counted in the innovation's status once the
server's own job workers have recomputed it, by REST and by
GraphQL. The other API tests call the app through httpx's ASGI transport, which skips the server's
own HTTP parsing, headers and body handling."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from bench.common import running_server, seed_provider
from service.vocabulary import Role
from tests.tokens import TokenFactory


async def test_a_touchpoint_posted_over_a_socket_is_read_back_and_counted_in_the_status(
    database_url: str, tokens: TokenFactory
) -> None:
    provider = await seed_provider(database_url, services=1, staff=2, people=1, innovations=1)
    [service_id] = provider.service_ids
    [innovation_id] = provider.innovation_ids
    lead = tokens.headers(Role.quality_lead, provider.organisation_id)
    note = {
        "kind": "daily_note",
        "service_id": str(service_id),
        "occurred_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
        "recorded_by_id": str(provider.staff_ids[0]),
        "person_ref_id": str(provider.person_ids[0]),
        "innovation_ids": [str(innovation_id)],
        "source_system": "socket-care",
        "external_id": "socket-note-1",
        "facts": {"activity": "Garden walk", "engagement_quality": 4},
    }

    async with (
        # Its own job workers keep the statuses current, as `ingrain serve` does on its own database.
        running_server(database_url, env={"INGRAIN_JOBS_IN_PROCESS": "true"}) as base_url,
        httpx.AsyncClient(base_url=base_url, headers=lead, timeout=30) as http,
    ):
        before = await http.get(f"/v1/innovations/{innovation_id}/status")
        assert before.status_code == 200, before.text

        created = await http.post("/v1/touchpoints", json=note)
        assert created.status_code == 201, created.text
        assert created.headers["content-type"] == "application/json"
        body = created.json()
        assert (body["kind"], body["external_id"]) == ("daily_note", "socket-note-1")

        read = await http.get(created.headers["location"])
        assert read.status_code == 200, read.text
        assert read.json() == {**body, "revisions": []}

        after = await _recomputed_after(http, f"/v1/innovations/{innovation_id}/status", before)
        assert after.json()["scope"] == {"level": "provider", "service_ids": [str(service_id)]}
        # The note is the only record about its person, so it is the one that counts there.
        counted = [
            {i["key"]: (i["numerator"], i["denominator"]) for i in answer.json()["indicators"]}[
                "person_independence"
            ]
            for answer in (before, after)
        ]
        assert counted == [(0, 0), (1, 1)]

        graphql = await http.post(
            "/graphql", json={"query": "{ viewer { roles } services { edges { node { id } } } }"}
        )
        assert graphql.status_code == 200, graphql.text
        assert "errors" not in graphql.json(), graphql.text
        data = graphql.json()["data"]
        assert data["viewer"]["roles"] == ["quality_lead"]
        assert [e["node"]["id"] for e in data["services"]["edges"]] == [str(service_id)]

        refused = await http.get("/v1/touchpoints", headers={"Authorization": "Bearer not-a-token"})
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")


async def _recomputed_after(http: httpx.AsyncClient, path: str, before: httpx.Response) -> httpx.Response:
    """The status once the workers have recomputed it after the write (a new ETag), within 20 s."""
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        answer = await http.get(path, headers={"If-None-Match": before.headers["etag"]})
        if answer.status_code == 200:
            return answer
        assert answer.status_code == 304, answer.text
        assert asyncio.get_running_loop().time() < deadline, "the status was not recomputed within 20 s"
        await asyncio.sleep(0.1)

"""A commissioner's portfolio: only what it commissions, nothing personal, cheap to poll."""

from datetime import UTC, date, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service.projections.marking import mark_innovations
from tests import factories
from tests.projections.support import drain_app
from tests.status.builders import Ledger
from tests.status.scenarios import Practice, build_home, live
from tests.tokens import TokenFactory


async def test_the_portfolio_holds_commissioned_providers_and_services_only(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    council = await factories.organisation(session, "commissioner", "Shire Council")
    partly = await build_home(session, services=2)
    wholly = await build_home(session)
    elsewhere = await build_home(session)
    for home in (partly, wholly, elsewhere):
        await live(home, Practice(), date(2026, 8, 1), date(2026, 10, 31))
    await factories.commissioning(session, council, partly.org, service_ids=[partly.services[1].id])
    await factories.commissioning(session, council, wholly.org)
    await factories.commissioning(session, council, elsewhere.org, ends_on=date(2025, 12, 31))
    await session.commit()
    headers = tokens.headers("commissioner", council.id)

    response = await client.get("/v1/portfolio/status", headers=headers)
    assert response.status_code == 200, response.text
    etag = response.headers["ETag"]
    body = response.json()
    providers = {p["provider_id"]: p for p in body["items"]}
    assert set(providers) == {str(partly.org.id), str(wholly.org.id)}
    # "Now" is served from projections: the page is as of the freshest of them.
    computed = [
        s["computed_at"]
        for p in body["items"]
        for i in p["innovations"]
        for s in (i["provider"], *i["services"])
    ]
    assert computed and all(computed)
    assert datetime.fromisoformat(body["as_of"]) == max(datetime.fromisoformat(c) for c in computed)
    part = providers[str(partly.org.id)]
    assert [s["service_id"] for s in part["services"]] == [str(partly.services[1].id)]
    [innovation] = part["innovations"]
    assert innovation["provider"]["scope"]["service_ids"] == [str(partly.services[1].id)]
    assert [s["service_id"] for s in innovation["services"]] == [str(partly.services[1].id)]
    assert innovation["provider"]["suppressed_counts"] is True
    assert innovation["provider"]["stage"] == "not_started"  # the practice is at the other service
    whole = providers[str(wholly.org.id)]["innovations"][0]["provider"]
    assert whole["stage"] in {"embedding", "embedded"}
    # No staff identifiers anywhere in it.
    assert not any(str(member.id) in response.text for home in (partly, wholly) for member in home.staff)

    # Polling with the ETag is answered 304 until a recompute changes a status it serves.
    again = await client.get("/v1/portfolio/status", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag
    await drain_app(app)  # the recompute the first read queued finds the same content
    assert (
        await client.get("/v1/portfolio/status", headers={**headers, "If-None-Match": etag})
    ).status_code == 304
    await Ledger(session, wholly.org.id).add(
        "daily_note",
        wholly.service.id,
        datetime(2026, 10, 20, 9, tzinfo=UTC),
        innovations=[wholly.innovation.id],
    )
    await mark_innovations(session, wholly.org.id, [wholly.innovation.id])  # as a writer marks
    await session.commit()
    await drain_app(app)
    changed = await client.get("/v1/portfolio/status", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


async def test_only_commissioners_read_a_portfolio(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    home = await build_home(session)
    regulator = await factories.organisation(session, "regulator")
    await factories.access_grant(session, home.org, regulator)
    for role, org in (("quality_lead", home.org.id), ("inspector", regulator.id)):
        response = await client.get("/v1/portfolio/status", headers=tokens.headers(role, org))
        assert response.status_code == 403, role
    council = await factories.organisation(session, "commissioner")
    empty = await client.get("/v1/portfolio/status", headers=tokens.headers("commissioner", council.id))
    assert empty.status_code == 200 and empty.json()["items"] == []


async def test_stage_changes_since_a_date(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    council = await factories.organisation(session, "commissioner")
    home = await build_home(session)
    await live(home, Practice(), date(2026, 1, 1), date(2026, 3, 31))
    await live(home, Practice(recorders=[0]), date(2026, 4, 1), date(2026, 5, 31))
    await factories.commissioning(session, council, home.org)
    await session.commit()
    headers = tokens.headers("commissioner", council.id)
    params = {"since": "2026-01-01", "as_of": "2026-08-15T12:00:00Z"}
    response = await client.get("/v1/portfolio/changes", params=params, headers=headers)
    assert response.status_code == 200, response.text
    changes = [c for c in response.json()["items"] if c["service_id"] is None]
    stages = [(c["from_stage"], c["to_stage"]) for c in changes]
    assert stages[0] == ("not_started", "embedding")
    assert ("embedding", "pilot") in stages
    assert stages[-1][1] == "fading"
    assert [c["changed_at"] for c in changes] == sorted(c["changed_at"] for c in changes)
    assert all(c["stage_reasons"] for c in changes)
    # The same question again: unchanged.
    etag = response.headers["ETag"]
    again = await client.get(
        "/v1/portfolio/changes", params=params, headers={**headers, "If-None-Match": etag}
    )
    assert again.status_code == 304
    later = await client.get(
        "/v1/portfolio/changes", params={**params, "since": "2026-07-01"}, headers=headers
    )
    assert [c["to_stage"] for c in later.json()["items"] if c["service_id"] is None] == ["fading"]
    paged = await client.get("/v1/portfolio/changes", params={**params, "limit": 1}, headers=headers)
    assert len(paged.json()["items"]) == 1 and paged.json()["next_cursor"]
    too_early = await client.get(
        "/v1/portfolio/changes", params={**params, "since": "2020-01-01"}, headers=headers
    )
    assert too_early.status_code == 422

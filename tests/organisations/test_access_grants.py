"""Access grants: a provider admin lets a regulator in, for a limited time, and can end it."""

import uuid
from datetime import date, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service.vocabulary import Role
from tests import factories
from tests.tokens import TokenFactory

TODAY = date.today()


def _grant(regulator_id: uuid.UUID, *, days: int = 30) -> dict[str, str]:
    return {
        "regulator_id": str(regulator_id),
        "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + timedelta(days=days)).isoformat(),
    }


async def test_grant_lets_the_inspector_in_until_revoked(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    provider = await factories.organisation(session, "provider")
    regulator = await factories.organisation(session, "regulator")
    admin = tokens.headers(Role.provider_admin, provider.id)
    inspector = tokens.headers(Role.inspector, regulator.id)
    assert (await client.get(f"/v1/organisations/{provider.id}", headers=inspector)).status_code == 404

    created = await client.post("/v1/access-grants", json=_grant(regulator.id), headers=admin)
    assert created.status_code == 201, created.text
    grant = created.json()
    assert grant["organisation_id"] == str(provider.id)
    assert grant["active"] is True
    assert (await client.get(f"/v1/organisations/{provider.id}", headers=inspector)).status_code == 200

    listed = await client.get(
        f"/v1/access-grants?regulator_id={regulator.id}&active_on={TODAY}", headers=admin
    )
    assert [g["id"] for g in listed.json()["items"]] == [grant["id"]]

    revoked = await client.post(f"/v1/access-grants/{grant['id']}/revoke", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["active"] is False
    assert (await client.get(f"/v1/organisations/{provider.id}", headers=inspector)).status_code == 404
    assert (await client.get("/v1/access-grants", headers=admin)).json()["items"] == []
    everything = await client.get("/v1/access-grants?include_revoked=true", headers=admin)
    assert len(everything.json()["items"]) == 1


async def test_grant_needs_a_regulator_and_an_end(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    provider = await factories.organisation(session, "provider")
    regulator = await factories.organisation(session, "regulator")
    other_provider = await factories.organisation(session, "provider")
    admin = tokens.headers(Role.provider_admin, provider.id)

    no_end = {k: v for k, v in _grant(regulator.id).items() if k != "ends_on"}
    assert (await client.post("/v1/access-grants", json=no_end, headers=admin)).status_code == 422
    backwards = {**_grant(regulator.id), "ends_on": (TODAY - timedelta(days=1)).isoformat()}
    assert (await client.post("/v1/access-grants", json=backwards, headers=admin)).status_code == 422
    ended = {**_grant(regulator.id), "starts_on": "2020-01-01", "ends_on": "2020-02-01"}
    assert (await client.post("/v1/access-grants", json=ended, headers=admin)).status_code == 422
    # Another provider's id, or an unknown one, is simply "no regulator".
    assert (
        await client.post("/v1/access-grants", json=_grant(other_provider.id), headers=admin)
    ).status_code == 404
    assert (
        await client.post("/v1/access-grants", json=_grant(uuid.uuid4()), headers=admin)
    ).status_code == 404


async def test_other_providers_grants_are_not_found(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    mine, theirs = await factories.organisation(session), await factories.organisation(session)
    regulator = await factories.organisation(session, "regulator")
    their_grant = await factories.access_grant(session, theirs, regulator)
    me = tokens.headers(Role.provider_admin, mine.id)
    assert (await client.get(f"/v1/access-grants/{their_grant.id}", headers=me)).status_code == 404
    assert (await client.post(f"/v1/access-grants/{their_grant.id}/revoke", headers=me)).status_code == 404
    assert (await client.get(f"/v1/access-grants?regulator_id={regulator.id}", headers=me)).json()[
        "items"
    ] == []
    theirs_view = await client.get(
        "/v1/access-grants", headers=tokens.headers(Role.provider_admin, theirs.id)
    )
    assert [g["active"] for g in theirs_view.json()["items"]] == [True]  # untouched by the attempts

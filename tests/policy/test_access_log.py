"""The access log: one organisation's entries, paged newest first, filtered, written with the write."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import record_access
from service.auth.principal import Principal
from service.vocabulary import Role
from tests import factories
from tests.tokens import TokenFactory


async def test_admin_pages_through_its_own_log_newest_first(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    mine, theirs = await factories.organisation(session), await factories.organisation(session)
    admin = tokens.headers(Role.provider_admin, mine.id, sub="idp|admin")
    for n in range(5):
        response = await client.post(
            "/v1/users", json={"sub": f"idp|u{n}", "roles": ["care_worker"]}, headers=admin
        )
        assert response.status_code == 201
    await client.post(
        "/v1/users",
        json={"sub": "idp|theirs", "roles": ["care_worker"]},
        headers=tokens.headers(Role.provider_admin, theirs.id),
    )

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/access-log", params=params, headers=admin)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [e["action"] for e in seen] == ["user.create"] * 5
    assert [e["id"] for e in seen] == sorted((e["id"] for e in seen), reverse=True)
    entry = seen[0]
    assert entry["sub"] == "idp|admin"
    assert entry["roles"] == ["provider_admin"]
    assert entry["method"] == "POST" and entry["path"] == "/v1/users"
    assert entry["ip"] and entry["request_id"]
    assert entry["record_count"] == 1
    # The other provider's entries stay out of reach, whatever the filter names.
    theirs_by_sub = await client.get("/v1/access-log?sub=test-provider_admin", headers=admin)
    assert theirs_by_sub.json()["items"] == []


async def test_log_filters(client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession) -> None:
    org = await factories.organisation(session)
    alice = Principal(sub="alice", organisation_id=org.id, roles=frozenset({Role.quality_lead}))
    bob = Principal(sub="bob", organisation_id=org.id, roles=frozenset({Role.registered_manager}))
    record_access(session, principal=alice, action="touchpoint.create", resource_type="touchpoint")
    record_access(session, principal=bob, action="touchpoint.read_text", resource_type="touchpoint")
    old = record_access(session, principal=bob, action="staff.list", resource_type="staff_member")
    old.at = datetime.now(UTC) - timedelta(days=10)
    await session.commit()
    admin = tokens.headers(Role.provider_admin, org.id)

    async def actions(**params: str) -> list[str]:
        body = (await client.get("/v1/access-log", params=params, headers=admin)).json()
        return [e["action"] for e in body["items"]]

    assert await actions(sub="bob") == ["staff.list", "touchpoint.read_text"]
    assert await actions(action="touchpoint.create") == ["touchpoint.create"]
    assert await actions(resource_type="staff_member") == ["staff.list"]
    week_ago = (datetime.now(UTC) - timedelta(days=7)).isoformat()
    assert sorted(await actions(at_from=week_ago)) == ["touchpoint.create", "touchpoint.read_text"]
    assert await actions(at_to=week_ago) == ["staff.list"]


async def test_log_is_written_with_the_write_or_not_at_all(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    admin = tokens.headers(Role.provider_admin, org.id)
    body = {"sub": "idp|twice", "roles": ["care_worker"]}
    assert (await client.post("/v1/users", json=body, headers=admin)).status_code == 201
    assert (await client.post("/v1/users", json=body, headers=admin)).status_code == 409
    page = (await client.get("/v1/access-log", headers=admin)).json()
    assert [e["action"] for e in page["items"]] == ["user.create"]  # the refused write left no entry


async def test_log_is_for_provider_admins_of_that_provider_only(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    for role in (Role.quality_lead, Role.care_worker, Role.integration):
        assert (await client.get("/v1/access-log", headers=tokens.headers(role, org.id))).status_code == 403
    broken = await client.get(
        "/v1/access-log?cursor=WyJ4Il0", headers=tokens.headers(Role.provider_admin, org.id)
    )
    assert broken.status_code == 422


async def test_entries_cannot_be_changed_or_removed(session: AsyncSession) -> None:
    org = await factories.organisation(session)
    who = Principal(sub="alice", organisation_id=org.id, roles=frozenset({Role.provider_admin}))
    record_access(session, principal=who, action="user.create", resource_type="user_account")
    await session.commit()
    for statement in (
        "UPDATE access_log SET sub = 'someone else'",
        "DELETE FROM access_log",
        "TRUNCATE access_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text(statement))
        await session.rollback()
    assert (await session.execute(text("SELECT sub FROM access_log"))).scalars().all() == ["alice"]

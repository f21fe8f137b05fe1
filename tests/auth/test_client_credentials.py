"""Integration clients: registration by a provider admin and the OAuth 2.0 client-credentials grant."""

import asyncio
import base64
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.models import AccessLogEntry
from service.auth.models import IntegrationClient
from service.auth.verifier import Signer
from service.settings import Settings
from service.vocabulary import Role
from tests import factories
from tests.tokens import TokenFactory

TOKEN_URL = "/v1/auth/token"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def register(
    client: httpx.AsyncClient, tokens: TokenFactory, org: uuid.UUID, source_system: str = "acme-care"
) -> dict[str, Any]:
    response = await client.post(
        "/v1/integration-clients",
        json={"name": "Acme Care (production)", "source_system": source_system},
        headers=tokens.headers(Role.provider_admin, org),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def token_with_form(client: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


async def test_register_shows_the_secret_once_and_stores_only_a_slow_hash(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    created = await register(client, tokens, org.id)
    assert created["client_secret"].startswith("ics_")
    assert created["client_id"].startswith("ic_")
    assert created["active"] is True

    read = await client.get(
        f"/v1/integration-clients/{created['id']}", headers=tokens.headers(Role.provider_admin, org.id)
    )
    assert read.status_code == 200
    assert "client_secret" not in read.json()
    listed = await client.get("/v1/integration-clients", headers=tokens.headers(Role.provider_admin, org.id))
    assert [c["id"] for c in listed.json()["items"]] == [created["id"]]
    assert created["client_secret"] not in listed.text

    row = (await session.execute(select(IntegrationClient))).scalar_one()
    assert row.secret_hash.startswith("$argon2id$")
    assert created["client_secret"] not in row.secret_hash


async def test_client_credentials_with_basic_auth_gives_a_verifiable_es256_token(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession, settings: Settings, app: FastAPI
) -> None:
    org = await factories.organisation(session)
    created = await register(client, tokens, org.id)
    response = await client.post(
        TOKEN_URL,
        content="grant_type=client_credentials",
        headers={**FORM, **basic(created["client_id"], created["client_secret"])},
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.service_token_ttl_seconds

    # A relying party verifies it with nothing but the published JWKS.
    jwks = (await client.get("/.well-known/jwks.json")).json()
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "ES256"
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    claims = jwt.decode(
        body["access_token"],
        jwt.PyJWK.from_dict(jwk).key,
        algorithms=["ES256"],
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    assert claims["roles"] == ["integration"]
    assert claims["org"] == str(org.id)
    assert claims["client_id"] == created["client_id"]
    assert claims["source_system"] == "acme-care"
    assert claims["sub"] == created["client_id"]
    assert claims["exp"] - claims["iat"] == settings.service_token_ttl_seconds

    principal = await app.state.token_verifier.verify(body["access_token"])
    assert principal.signer == Signer.ingrain_key
    assert principal.source_system == "acme-care"

    # The token works on the API: the client may read its own organisation.
    own = await client.get(
        f"/v1/organisations/{org.id}", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert own.status_code == 200, own.text


async def test_client_credentials_in_the_form_work_too(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    created = await register(client, tokens, org.id)
    response = await token_with_form(client, created["client_id"], created["client_secret"])
    assert response.status_code == 200, response.text
    row = (
        await session.execute(select(IntegrationClient).execution_options(populate_existing=True))
    ).scalar_one()
    assert row.last_used_at is not None


def _error(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/json")
    error: str = response.json()["error"]
    return error


@pytest.mark.parametrize(
    ("content", "headers", "status", "error"),
    [
        (
            '{"grant_type": "client_credentials"}',
            {"Content-Type": "application/json"},
            400,
            "invalid_request",
        ),
        ("client_id=a&client_secret=b", FORM, 400, "invalid_request"),
        ("grant_type=password&username=u&password=p", FORM, 400, "unsupported_grant_type"),
        ("grant_type=authorization_code&code=x", FORM, 400, "unsupported_grant_type"),
        ("grant_type=client_credentials", FORM, 401, "invalid_client"),
        ("grant_type=client_credentials&client_id=ic_x", FORM, 401, "invalid_client"),
        ("grant_type=client_credentials&grant_type=client_credentials", FORM, 400, "invalid_request"),
        (
            "grant_type=client_credentials&client_id=ic_nobody&client_secret=guess",
            FORM,
            401,
            "invalid_client",
        ),
    ],
    ids=[
        "json body",
        "no grant_type",
        "password grant",
        "authorization code grant",
        "no client authentication",
        "no secret",
        "repeated parameter",
        "unknown client",
    ],
)
async def test_token_endpoint_errors_follow_rfc_6749(
    client: httpx.AsyncClient, content: str, headers: dict[str, str], status: int, error: str
) -> None:
    response = await client.post(TOKEN_URL, content=content, headers=headers)
    assert response.status_code == status, response.text
    assert _error(response) == error
    assert response.headers["cache-control"] == "no-store"


async def test_wrong_secret_is_invalid_client_with_a_basic_challenge(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    created = await register(client, tokens, org.id)
    response = await client.post(
        TOKEN_URL,
        content="grant_type=client_credentials",
        headers={**FORM, **basic(created["client_id"], "wrong")},
    )
    assert response.status_code == 401
    assert _error(response) == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_two_authentication_methods_at_once_are_refused(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    created = await register(client, tokens, org.id)
    response = await client.post(
        TOKEN_URL,
        content=f"grant_type=client_credentials&client_id={created['client_id']}",
        headers={**FORM, **basic(created["client_id"], created["client_secret"])},
    )
    assert response.status_code == 400
    assert _error(response) == "invalid_request"


async def test_scopes_are_refused(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    created = await register(client, tokens, org.id)
    response = await client.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
            "scope": "admin",
        },
    )
    assert response.status_code == 400
    assert _error(response) == "invalid_scope"


async def test_rotation_replaces_the_secret_and_ends_earlier_tokens(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    admin = tokens.headers(Role.provider_admin, org.id)
    created = await register(client, tokens, org.id)
    old_token = (await token_with_form(client, created["client_id"], created["client_secret"])).json()[
        "access_token"
    ]
    # Tokens carry whole seconds: let the rotation fall in a later second than the old token.
    await asyncio.sleep(1.05)

    rotated = await client.post(f"/v1/integration-clients/{created['id']}/rotate-secret", headers=admin)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["client_secret"]
    assert new_secret != created["client_secret"]

    assert (await token_with_form(client, created["client_id"], created["client_secret"])).status_code == 401
    fresh = await token_with_form(client, created["client_id"], new_secret)
    assert fresh.status_code == 200
    own = f"/v1/organisations/{org.id}"
    assert (await client.get(own, headers={"Authorization": f"Bearer {old_token}"})).status_code == 401
    fresh_token = fresh.json()["access_token"]
    assert (await client.get(own, headers={"Authorization": f"Bearer {fresh_token}"})).status_code == 200


async def test_revocation_ends_new_and_existing_tokens(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    admin = tokens.headers(Role.provider_admin, org.id)
    created = await register(client, tokens, org.id)
    issued = (await token_with_form(client, created["client_id"], created["client_secret"])).json()[
        "access_token"
    ]

    revoked = await client.post(f"/v1/integration-clients/{created['id']}/revoke", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["active"] is False
    again = await client.post(f"/v1/integration-clients/{created['id']}/revoke", headers=admin)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]  # idempotent

    assert (await token_with_form(client, created["client_id"], created["client_secret"])).status_code == 401
    response = await client.get(f"/v1/organisations/{org.id}", headers={"Authorization": f"Bearer {issued}"})
    assert response.status_code == 401
    assert (
        await client.post(f"/v1/integration-clients/{created['id']}/rotate-secret", headers=admin)
    ).status_code == 409
    listed = await client.get("/v1/integration-clients", headers=admin)
    assert listed.json()["items"] == []
    with_revoked = await client.get("/v1/integration-clients?include_revoked=true", headers=admin)
    assert [c["id"] for c in with_revoked.json()["items"]] == [created["id"]]


async def test_failed_attempts_are_limited_per_client(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession, settings: Settings
) -> None:
    org = await factories.organisation(session)
    created = await register(client, tokens, org.id)
    for _ in range(settings.client_auth_failures_per_client):
        assert (await token_with_form(client, created["client_id"], "guess")).status_code == 401
    blocked = await token_with_form(client, created["client_id"], created["client_secret"])
    assert blocked.status_code == 429
    assert _error(blocked) == "temporarily_unavailable"
    assert 0 < int(blocked.headers["retry-after"]) <= settings.client_auth_failure_window_seconds


async def test_failed_attempts_are_limited_per_address(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession, app: FastAPI
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"client_auth_failures_per_address": 3})
    org = await factories.organisation(session)
    created = await register(client, tokens, org.id)
    for attempt in range(3):
        response = await token_with_form(client, f"ic_spray{attempt}", "guess")
        assert response.status_code == 401
    # The address is blocked, even for a client that has not failed itself.
    response = await token_with_form(client, created["client_id"], created["client_secret"])
    assert response.status_code == 429


async def test_token_requests_are_in_the_providers_access_log(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    created = await register(client, tokens, org.id)
    await token_with_form(client, created["client_id"], "wrong")
    await token_with_form(client, created["client_id"], created["client_secret"])
    rows = (await session.execute(select(AccessLogEntry).order_by(AccessLogEntry.id))).scalars().all()  # type: ignore[arg-type]
    assert [(r.action, r.organisation_id) for r in rows] == [
        ("integration_client.create", org.id),
        ("integration_client.token_refused", org.id),
        ("integration_client.token", org.id),
    ]
    assert rows[2].client_id == created["client_id"]


async def test_other_providers_clients_are_not_found(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    mine, theirs = await factories.organisation(session), await factories.organisation(session)
    created = await register(client, tokens, theirs.id)
    me = tokens.headers(Role.provider_admin, mine.id)
    base = f"/v1/integration-clients/{created['id']}"
    assert (await client.get(base, headers=me)).status_code == 404
    assert (await client.post(f"{base}/rotate-secret", headers=me)).status_code == 404
    assert (await client.post(f"{base}/revoke", headers=me)).status_code == 404
    listed = await client.get("/v1/integration-clients?source_system=acme-care", headers=me)
    assert listed.json()["items"] == []
    # Their client still works: nothing was changed by the attempts.
    assert (await token_with_form(client, created["client_id"], created["client_secret"])).status_code == 200


async def test_registration_validates_its_input(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    response = await client.post(
        "/v1/integration-clients",
        json={"name": "", "source_system": "has spaces"},
        headers=tokens.headers(Role.provider_admin, org.id),
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"name", "source_system"}


async def test_jwks_publishes_one_p256_key(client: httpx.AsyncClient, app: FastAPI) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    (key,) = response.json()["keys"]
    assert key["kty"] == "EC"
    assert key["crv"] == "P-256"
    assert key["alg"] == "ES256"
    assert key["kid"] == app.state.token_verifier.signing_key.kid
    assert "d" not in key  # never the private part


async def test_oversized_token_requests_are_refused_unread(client: httpx.AsyncClient) -> None:
    body = "grant_type=client_credentials&client_id=ic_x&client_secret=" + "s" * 10_000
    response = await client.post(TOKEN_URL, content=body, headers=FORM)
    assert response.status_code == 400
    assert _error(response) == "invalid_request"

    async def chunks() -> Any:
        for _ in range(10):
            yield b"x" * 1024

    chunked = await client.post(TOKEN_URL, content=chunks(), headers=FORM)
    assert chunked.status_code == 400

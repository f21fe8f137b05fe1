"""No token lives longer than INGRAIN_TOKEN_MAX_LIFETIME_SECONDS (`exp` − `iat`), whoever signed it."""

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import jwt
import pytest

from service.auth.tokens import issue_hs256_token
from service.cli import main as ingrain
from service.errors import Unauthenticated
from service.settings import Settings, get_settings
from tests.auth.support import (
    IdentityProviderKey,
    JwksServer,
    TrustedIssuer,
    claims_for,
    running_app,
    serve_jwks,
    settings_trusting,
)

PROTECTED = "/v1/access-log"
ORG = uuid.uuid4()
DAY = 86400
YEAR_33658 = 10**12  # seconds since 1970: 31 688 years later
NOW = int(time.time())


def _hs256(settings: Settings, *, iat: int, exp: float) -> str:
    claims = claims_for(settings, roles=["provider_admin"], org=ORG, iat=iat, exp=exp)
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


async def _call(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize(
    "exp_after_iat",
    [DAY + 1, 2 * DAY, YEAR_33658, 10**40, 1e300, float("inf")],
    ids=["a second too long", "two days", "year 33658", "10^40 s", "1e300 s", "Infinity"],
)
async def test_tokens_longer_lived_than_the_maximum_are_401(
    exp_after_iat: float, client: httpx.AsyncClient, settings: Settings
) -> None:
    now = int(time.time())
    # Infinity goes out as the JSON token `Infinity`, which Python's JSON reader accepts.
    exp = exp_after_iat if exp_after_iat == YEAR_33658 else now + exp_after_iat
    response = await _call(client, _hs256(settings, iat=now, exp=exp))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("iat", "exp"),
    [
        (-(10**12), NOW + 3600),
        (True, NOW + 3600),
        ("0", NOW + 3600),
        (NOW + 0.5, 10**400),
        (NOW - 0.5, NOW + DAY),
    ],
    ids=[
        "iat in the distant past",
        "iat a boolean",
        "iat a string",
        "exp an int too large for a float, iat a float",
        "half a second too long",
    ],
)
async def test_odd_issue_times_cannot_stretch_a_token(
    iat: object, exp: int, client: httpx.AsyncClient, settings: Settings
) -> None:
    claims = claims_for(settings, roles=["provider_admin"], org=ORG, iat=iat, exp=exp)
    response = await _call(client, jwt.encode(claims, settings.jwt_secret, algorithm="HS256"))
    assert response.status_code == 401, response.text
    assert "longer" in response.json()["detail"] or "`iat`" in response.json()["detail"]


async def test_a_token_of_exactly_the_maximum_lifetime_is_accepted(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    now = int(time.time())
    assert settings.token_max_lifetime_seconds == DAY  # the default
    response = await _call(client, _hs256(settings, iat=now, exp=now + DAY))
    assert response.status_code == 200, response.text


async def test_the_maximum_is_configurable(database_url: str) -> None:
    settings = Settings(environment="test", demo_data=False, token_max_lifetime_seconds=600)
    now = int(time.time())
    async with running_app(settings, database_url) as (_, client):
        assert (await _call(client, _hs256(settings, iat=now, exp=now + 600))).status_code == 200
        assert (await _call(client, _hs256(settings, iat=now, exp=now + 601))).status_code == 401


@pytest.fixture
def idp_key() -> IdentityProviderKey:
    return IdentityProviderKey.ec("ec-1")


@pytest.fixture
def jwks(idp_key: IdentityProviderKey) -> Iterator[JwksServer]:
    with serve_jwks([idp_key.jwk()]) as server:
        yield server


async def test_the_maximum_holds_for_identity_providers_and_ingrains_own_key(
    database_url: str, jwks: JwksServer, idp_key: IdentityProviderKey
) -> None:
    issuer = "https://idp.example.test/"
    settings = settings_trusting(TrustedIssuer(issuer, jwks.url, [ORG], ["provider_admin"]))
    now = int(time.time())
    async with running_app(settings, database_url) as (app, client):
        within = claims_for(
            settings, roles=["provider_admin"], org=ORG, issuer=issuer, iat=now, exp=now + DAY
        )
        assert (await _call(client, idp_key.sign(within))).status_code == 200
        beyond = {**within, "exp": YEAR_33658}
        assert (await _call(client, idp_key.sign(beyond))).status_code == 401

        verifier = app.state.token_verifier
        service_token = verifier.signing_key.sign(
            claims_for(settings, roles=["integration"], org=ORG, client_id="ic_x", iat=now, exp=now + DAY + 1)
        )
        with pytest.raises(Unauthenticated, match="longer"):
            await verifier.verify(service_token)


def test_ingrains_own_tokens_stay_within_the_maximum() -> None:
    settings = Settings(environment="test", token_max_lifetime_seconds=3600)
    claims = jwt.decode(
        issue_hs256_token(settings, sub="s", roles=["platform_admin"]), options={"verify_signature": False}
    )
    assert claims["exp"] - claims["iat"] == 3600  # twelve hours by default, shortened to the maximum
    with pytest.raises(ValueError, match="at most 3600"):
        issue_hs256_token(settings, sub="s", roles=["platform_admin"], ttl=timedelta(seconds=3601))
    # POST /v1/auth/token's default lifetime follows a shorter maximum; one set on purpose must fit.
    assert Settings(environment="test", token_max_lifetime_seconds=600).service_token_ttl_seconds == 600
    with pytest.raises(ValueError, match="INGRAIN_SERVICE_TOKEN_TTL_SECONDS"):
        Settings(environment="test", token_max_lifetime_seconds=600, service_token_ttl_seconds=900)


@pytest.fixture
def two_hour_maximum(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("INGRAIN_TOKEN_MAX_LIFETIME_SECONDS", "7200")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("two_hour_maximum")
def test_ingrain_token_stays_within_the_maximum(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match="at most 2"):
        ingrain(["token", "--role", "platform_admin", "--hours", "2.5"])
    for argv, lifetime in ((["--hours", "2"], 7200), ([], 7200), (["--hours", "0.5"], 1800)):
        ingrain(["token", "--role", "platform_admin", *argv])
        claims = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == lifetime

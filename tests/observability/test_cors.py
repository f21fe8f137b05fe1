"""CORS for the origins in INGRAIN_CORS_ORIGINS, none by default."""

import pytest
from pydantic import ValidationError

from service.settings import Settings
from tests.observability.support import app_without_database, client_of, sample

APP_ORIGIN = "https://app.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "authorization, if-none-match, idempotency-key, x-request-id",
}


async def test_a_configured_origin_is_allowed_and_reads_the_headers_it_needs() -> None:
    preflights = sample("ingrain_http_requests_total", method="OPTIONS", route="preflight", status="200")
    async with client_of(app_without_database(cors_origins=[APP_ORIGIN])) as client:
        preflight = await client.options("/v1/status", headers={"Origin": APP_ORIGIN, **PREFLIGHT})
        simple = await client.get("/healthz", headers={"Origin": APP_ORIGIN})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == APP_ORIGIN
    allowed = preflight.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "if-none-match", "idempotency-key", "x-request-id"):
        assert header in allowed
    assert "PUT" in preflight.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in preflight.headers
    assert preflight.headers["x-request-id"]
    # Answered before routing: counted as a preflight, not as an unmatched path.
    assert sample("ingrain_http_requests_total", method="OPTIONS", route="preflight", status="200") == (
        preflights + 1
    )
    assert simple.headers["access-control-allow-origin"] == APP_ORIGIN
    exposed = simple.headers["access-control-expose-headers"].lower()
    for header in ("etag", "x-request-id", "location", "retry-after"):
        assert header in exposed


async def test_another_origin_gets_no_cors_headers() -> None:
    async with client_of(app_without_database(cors_origins=[APP_ORIGIN])) as client:
        preflight = await client.options(
            "/v1/status", headers={"Origin": "https://elsewhere.example", **PREFLIGHT}
        )
        simple = await client.get("/healthz", headers={"Origin": "https://elsewhere.example"})
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers


async def test_no_origins_configured_means_no_cors_headers() -> None:
    async with client_of(app_without_database()) as client:
        preflight = await client.options("/v1/status", headers={"Origin": APP_ORIGIN, **PREFLIGHT})
        simple = await client.get("/healthz", headers={"Origin": APP_ORIGIN})
    assert not any(h.startswith("access-control-") for h in preflight.headers)
    assert not any(h.startswith("access-control-") for h in simple.headers)


@pytest.mark.parametrize("origin", ["https://app.example/", "app.example", "https://app.example/path", ""])
def test_an_origin_that_no_browser_sends_is_refused(origin: str) -> None:
    with pytest.raises(ValidationError, match="INGRAIN_CORS_ORIGINS"):
        Settings(cors_origins=[origin])


def test_origins_are_a_json_list_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGRAIN_CORS_ORIGINS", '["https://app.example", "http://localhost:5173"]')
    assert Settings().cors_origins == ["https://app.example", "http://localhost:5173"]

"""gzip for answers of a kilobyte or more when the client accepts it; small answers as they are;
the ETag and 304 of projected reads unchanged by compression."""

import gzip
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service.observability.middleware import GZIP_MINIMUM_BYTES
from tests.graphql.status_world import build_status_world
from tests.observability.support import app_without_database, client_of
from tests.tokens import TokenFactory


async def raw_get(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> httpx.Response:
    """The answer as sent, not decoded (httpx would otherwise decompress it)."""
    request = client.build_request("GET", url, headers=headers)
    response = await client.send(request, stream=True)
    body = b"".join([chunk async for chunk in response.aiter_raw()])
    await response.aclose()
    response._content = body
    return response


async def test_a_large_answer_is_gzipped_when_accepted_and_a_small_one_is_not() -> None:
    async with client_of(app_without_database()) as client:
        document = await raw_get(client, "/openapi.json", {"Accept-Encoding": "gzip"})
        plain = await raw_get(client, "/openapi.json", {"Accept-Encoding": "identity"})
        small = await raw_get(client, "/healthz", {"Accept-Encoding": "gzip"})
    assert document.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in document.headers["vary"]
    assert gzip.decompress(document.content) == plain.content
    assert len(document.content) < len(plain.content) / 4
    assert int(document.headers["content-length"]) == len(document.content)
    assert "content-encoding" not in plain.headers
    assert len(small.content) < GZIP_MINIMUM_BYTES and "content-encoding" not in small.headers
    # The request id is on the compressed answer too.
    assert document.headers["x-request-id"]


async def test_a_projected_status_gzipped_keeps_its_etag_and_304(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await build_status_world(session, client, tokens, services=1, days=10)
    url = f"/v1/innovations/{world.innovation_ids[0]}/status"
    gzipped = {**world.manager, "Accept-Encoding": "gzip"}
    first = await raw_get(client, url, gzipped)
    assert first.status_code == 200
    assert first.headers["content-encoding"] == "gzip" and len(gzip.decompress(first.content)) >= 1024
    tag = first.headers["etag"]
    plain = await raw_get(client, url, {**world.manager, "Accept-Encoding": "identity"})
    assert plain.headers["etag"] == tag and "content-encoding" not in plain.headers
    again = await raw_get(client, url, {**gzipped, "If-None-Match": tag})
    assert again.status_code == 304 and again.headers["etag"] == tag
    assert again.content == b"" and "content-encoding" not in again.headers

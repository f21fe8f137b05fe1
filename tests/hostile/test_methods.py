"""OPTIONS and 405 name every method a path has, even when the methods sit on separate routes."""

import uuid

import httpx
from fastapi.routing import APIRoute, iter_route_contexts

from service.touchpoints.limits import BodyLimitedRoute
from tests.policy.route_table import current_app, fill_path, walk

PROBED = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def concrete_paths() -> list[str]:
    """One concrete path per route template, its parameters filled with syntactically valid values."""
    cases, _ = walk(current_app())
    return sorted({fill_path(case) for case in cases})


def allow_of(response: httpx.Response) -> set[str]:
    return {method.strip() for method in response.headers.get("allow", "").split(",") if method.strip()}


async def test_options_and_405_list_every_method_of_every_path(client: httpx.AsyncClient) -> None:
    found = []
    for path in concrete_paths():
        # No token: a method the path has answers 401 (or its public answer), never 405.
        served = {m for m in PROBED if (await client.request(m, path)).status_code != 405}
        options = await client.options(path)
        if options.status_code != 204 or allow_of(options) != served | {"OPTIONS"}:
            found.append(f"OPTIONS {path}: {options.status_code} Allow {allow_of(options)}, serves {served}")
        for method in set(PROBED) - served:
            refused = await client.request(method, path)
            if allow_of(refused) != served | {"OPTIONS"}:
                found.append(f"{method} {path}: Allow {allow_of(refused)}, serves {served}")
            if refused.headers["content-type"] != "application/problem+json":
                found.append(f"{method} {path}: a 405 that is not problem+json")
    assert found == []


async def test_a_path_with_get_and_put_on_separate_routes(client: httpx.AsyncClient) -> None:
    path = f"/v1/touchpoints/{uuid.uuid4()}"

    options = await client.options(path)
    refused = await client.delete(path)

    assert options.status_code == 204
    assert allow_of(options) == {"GET", "PUT", "OPTIONS"}
    assert refused.status_code == 405
    assert allow_of(refused) == {"GET", "PUT", "OPTIONS"}
    assert refused.json()["status"] == 405


async def test_an_unknown_path_is_404_for_options_too(client: httpx.AsyncClient) -> None:
    response = await client.options("/v1/nowhere")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_every_route_is_screened_by_the_one_route_class() -> None:
    """Path, query and body checks live in BodyLimitedRoute; a router added without it is caught here.

    The OAuth token endpoint reads its small form itself (RFC 6749 errors, its own size limit).
    """
    routes = [r for r in iter_route_contexts(current_app().routes) if isinstance(r.original_route, APIRoute)]
    unscreened = [
        route.path
        for route in routes
        if not isinstance(route.original_route, BodyLimitedRoute) and route.path != "/v1/auth/token"
    ]
    assert len(routes) > 50
    assert unscreened == []

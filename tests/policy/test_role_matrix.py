"""The role × route matrix, generated from the route table at run time.

For every route and every role (and no token at all), the expected answer follows from the
route's declaration and ROLE_PERMISSIONS (DOMAIN.md's role table):

- no token: 401, unless the route is public;
- a role without any of the declared permissions: 403;
- a role holding one: anything but 401 or 403 (and never a 5xx) — a random id gives 404, an empty
  body 422, which is fine: the policy let the request through;
- `authenticated` routes decide by scope inside the service, so only 401 is excluded there.

Each caller holds a real organisation of the kind its role belongs to, with a commissioning
relationship and an access grant in place, so scope checks see a realistic world.
"""

from typing import Any

import httpx
import pytest

from service.vocabulary import Role
from tests.policy.conftest import World
from tests.policy.route_table import AUTHENTICATED, RouteCase, current_app, fill_path, walk

CASES, _ = walk(current_app())
ROLES = list(Role)
BODY_METHODS = {"POST", "PUT", "PATCH"}


def test_matrix_covers_every_role_and_route() -> None:
    assert len(CASES) >= 50
    assert set(ROLES) == set(Role)


async def _call(client: httpx.AsyncClient, case: RouteCase, headers: dict[str, str]) -> httpx.Response:
    kwargs: dict[str, Any] = {"headers": headers}
    if case.method in BODY_METHODS:
        kwargs["json"] = {}
    return await client.request(case.method, fill_path(case), **kwargs)


def _problem(case: RouteCase, role: Role | None, expected: str, response: httpx.Response) -> str:
    who = role.value if role else "no token"
    return f"{case.id} as {who}: expected {expected}, got {response.status_code} {response.text[:200]}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_route_answers_each_role_as_declared(
    case: RouteCase, world_client: httpx.AsyncClient, world: World
) -> None:
    mismatches = []
    for role, headers in world.callers.items():
        response = await _call(world_client, case, headers)
        status = response.status_code
        if role is None:
            if case.is_public:
                ok, expected = status not in (401, 403) and status < 500, "not 401/403/5xx (public)"
            else:
                ok, expected = status == 401, "401"
        elif case.is_public:
            ok, expected = status not in (401, 403) and status < 500, "not 401/403/5xx (public)"
        elif not case.allows(role):
            ok, expected = status == 403, "403"
        elif case.checks_permissions:
            ok, expected = status not in (401, 403) and status < 500, "allowed: not 401/403/5xx"
        else:
            assert AUTHENTICATED in case.declarations
            ok, expected = status != 401 and status < 500, "authenticated: not 401/5xx"
        if not ok:
            mismatches.append(_problem(case, role, expected, response))
    assert not mismatches, "\n".join(mismatches)


def test_role_table_expectations_are_not_trivial() -> None:
    """Sanity of the generated expectations: every role is denied somewhere; known cells hold."""
    for role in ROLES:
        assert [c for c in CASES if c.checks_permissions and not c.allows(role)], (
            f"{role} is allowed everywhere"
        )
    by_id = {c.id: c for c in CASES}
    assert not by_id["POST /v1/organisations"].allows(Role.provider_admin)
    assert by_id["POST /v1/organisations"].allows(Role.platform_admin)
    assert not by_id["GET /v1/access-log"].allows(Role.commissioner)
    assert by_id["POST /v1/integration-clients"].allows(Role.provider_admin)

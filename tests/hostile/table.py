"""Hostile requests as rows of a table: what is sent, and the answer it must get.

A row's path, query and body may name the rows of the provider world (`{innovation}`, `{service}`, …);
they are filled in when the row is sent. A 4xx answer must be problem+json naming the field and the rule.
"""

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import PROBLEM_JSON
from service.vocabulary import Role
from tests import factories
from tests.tokens import TokenFactory
from tests.touchpoints.world import World, build_world

NUL = "\x00"
YEAR_ONE = "0001-01-01T00:00:00+00:00"
YEAR_END = "9999-12-31T23:59:59-14:00"


@dataclass(frozen=True)
class Row:
    id: str
    method: str
    path: str
    status: int
    field: str | None = None
    rules: tuple[str, ...] = ()
    role: Role | str | None = "registered_manager"
    query: Mapping[str, Any] | str | None = None
    json: Any = None
    content: bytes | None = None
    headers: Mapping[str, str | bytes] = dataclasses.field(default_factory=dict)


@dataclass
class Hostile:
    """A provider world, a commissioner and a regulator, and a way to send rows as a role."""

    world: World
    commissioner_id: uuid.UUID
    regulator_id: uuid.UUID
    tokens: TokenFactory

    @property
    def names(self) -> dict[str, str]:
        w = self.world
        return {
            "org": str(w.org.id),
            "service": str(w.service.id),
            "staff": str(w.worker.id),
            "manager": str(w.manager.id),
            "person": str(w.person.id),
            "innovation": str(w.innovation.id),
            "commissioner": str(self.commissioner_id),
            "regulator": str(self.regulator_id),
        }

    def auth(self, role: Role | str | None) -> dict[str, str]:
        if role is None:
            return {}
        if role == "platform_admin":
            return self.tokens.headers(role)
        if role == "commissioner":
            return self.tokens.headers(role, self.commissioner_id)
        sub = "manager-sub" if role == "registered_manager" else None
        return self.tokens.headers(role, self.world.org.id, sub=sub)

    def fill(self, value: Any) -> Any:
        if isinstance(value, str):
            for name, text in self.names.items():
                value = value.replace("{" + name + "}", text)
            return value
        if isinstance(value, Mapping):
            return {self.fill(k): self.fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        return value

    async def send(self, client: httpx.AsyncClient, row: Row) -> httpx.Response:
        path = self.fill(row.path)
        if isinstance(row.query, str):
            path = f"{path}?{self.fill(row.query)}"
            params = None
        else:
            params = self.fill(dict(row.query)) if row.query else None
        headers: dict[str, Any] = {**self.auth(row.role), **row.headers}
        kwargs: dict[str, Any] = {}
        if row.content is not None:
            kwargs["content"] = row.content
            headers.setdefault("content-type", "application/json")
        elif row.json is not None:
            kwargs["json"] = self.fill(row.json)
        return await client.request(row.method, path, params=params, headers=headers, **kwargs)


async def build_hostile(session: AsyncSession, tokens: TokenFactory) -> Hostile:
    world = await build_world(session)
    commissioner = await factories.organisation(session, "commissioner")
    regulator = await factories.organisation(session, "regulator")
    await factories.commissioning(session, commissioner, world.org)
    return Hostile(world, commissioner.id, regulator.id, tokens)


def problem_mismatch(row: Row, response: httpx.Response) -> str | None:
    """Why the answer is not what the row expects, or None."""
    if response.status_code != row.status:
        return f"{row.id}: answered {response.status_code}, expected {row.status}: {response.text[:300]}"
    if row.status < 400 or row.status >= 500:
        return None
    if response.headers.get("content-type") != PROBLEM_JSON:
        return f"{row.id}: answered {response.headers.get('content-type')}, not problem+json"
    body = response.json()
    if body.get("status") != row.status or not body.get("type") or not body.get("detail"):
        return f"{row.id}: not an RFC 9457 problem: {body}"
    errors = body.get("errors") or []
    if row.field is not None and not any(
        e.get("field") == row.field and (not row.rules or e.get("rule") in row.rules) for e in errors
    ):
        return f"{row.id}: no error names field {row.field!r} with rule in {row.rules}: {errors}"
    return None


async def failures(client: httpx.AsyncClient, hostile: Hostile, rows: Sequence[Row]) -> list[str]:
    """Every row sent in order; the mismatches, each naming its row."""
    assert len({row.id for row in rows}) == len(rows), "row ids must be unique"
    found = []
    for row in rows:
        mismatch = problem_mismatch(row, await hostile.send(client, row))
        if mismatch:
            found.append(mismatch)
    return found

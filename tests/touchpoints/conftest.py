import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.tokens import TokenFactory
from tests.touchpoints.world import World, build_world


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return await build_world(session)


@pytest.fixture
def manager(tokens: TokenFactory, world: World) -> dict[str, str]:
    return tokens.headers("registered_manager", world.org.id, sub="manager-sub")

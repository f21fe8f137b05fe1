import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.hostile.table import Hostile, build_hostile
from tests.tokens import TokenFactory


@pytest.fixture
async def hostile(session: AsyncSession, tokens: TokenFactory) -> Hostile:
    return await build_hostile(session, tokens)

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.staff.models import StaffMemberService
from tests import factories


async def test_factories_build_a_provider(session: AsyncSession) -> None:
    org = await factories.organisation(session)
    home = await factories.care_service(session, org, "Oak House")
    worker = await factories.staff_member(session, org, [home])
    await factories.innovation(session, org, [home])
    stmt = (
        select(func.count())
        .select_from(StaffMemberService)
        .where(col(StaffMemberService.staff_member_id) == worker.id)
    )
    assert (await session.execute(stmt)).scalar_one() == 1

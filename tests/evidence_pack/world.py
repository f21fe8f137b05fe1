"""A small provider whose innovation has green, amber, red and unrated indicators, with small counts
an inspector must not see, written straight into the tables the way ingestion writes them."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service.organisations.models import Organisation
from service.services.models import Service
from service.vocabulary import Role
from tests import factories
from tests.status.builders import Ledger
from tests.tokens import TokenFactory

SUMMARY = "Plan each person's day around what engages them; record the quality of engagement."
WHY = "Boredom and frustration drive incidents.\nEngagement that is planned is engagement that happens."


@dataclass
class PackWorld:
    provider: Organisation
    oak: Service
    elm: Service
    innovation_id: uuid.UUID
    headers: dict[str, dict[str, str]]

    def url(self, innovation_id: uuid.UUID | None = None) -> str:
        return f"/v1/innovations/{innovation_id or self.innovation_id}/evidence-pack"


def _day(days_ago: int, hour: int) -> datetime:
    return (datetime.now(UTC) - timedelta(days=days_ago)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


async def pack_world(
    session: AsyncSession, tokens: TokenFactory, *, name: str = "Proactive engagement", summary: str = SUMMARY
) -> PackWorld:
    """Over the last 90 days, at Oak House (Elm Court is in scope but silent):

    - 5 supervisions, 3 of them about the innovation: supervision reinforcement 60%, amber, from a
      count an inspector must not see (3);
    - those 3 and 3 early-shift observations where staff explained why: understanding why 6 of 6, green;
    - observations only on early shifts: shift consistency red (late and night not evidenced);
    - supervision and observations in both of the last two months: 2 core systems visible, amber;
    - 2 incidents nobody reviewed: incident learning 0 of 2, red (and withheld outside);
    - no audits: audit stability insufficient evidence.
    """
    provider = await factories.organisation(session, name="Riverside Care")
    commissioner = await factories.organisation(session, "commissioner", name="Northshire Council")
    regulator = await factories.organisation(session, "regulator", name="Care Quality Commission")
    oak = await factories.care_service(session, provider, "Oak House")
    elm = await factories.care_service(session, provider, "Elm Court")
    staff = [await factories.staff_member(session, provider, [oak, elm]) for _ in range(4)]
    started = (datetime.now(UTC) - timedelta(days=200)).date()
    innovation = await factories.innovation(
        session, provider, [oak, elm], name=name, summary=summary, why=WHY, started_on=started
    )
    await factories.commissioning(session, commissioner, provider)
    await factories.access_grant(session, provider, regulator)

    ledger = Ledger(session, provider.id)
    linked = [innovation.id]
    for n, days_ago in enumerate((5, 12, 19, 40, 47)):
        about_it = n < 3
        await ledger.add(
            "supervision",
            oak.id,
            _day(days_ago, 11),
            innovations=linked if about_it else [],
            recorded_by=staff[0].id,
            subject=staff[1 + n % 3].id,
            explains_why=True,
        )
    for days_ago in (6, 13, 41):
        await ledger.add(
            "practice_observation",
            oak.id,
            _day(days_ago, 9),
            innovations=linked,
            shift="early",
            recorded_by=staff[0].id,
            subject=staff[2].id,
            score=4,
            explains_why=True,
        )
    for days_ago in (30, 60):
        await ledger.add(
            "incident",
            oak.id,
            _day(days_ago, 16),
            recorded_by=staff[3].id,
            severity="low",
            restrictive_intervention=False,
        )
    await session.commit()

    headers = {
        "quality_lead": tokens.headers(Role.quality_lead, provider.id, sub="pack-lead"),
        "registered_manager": tokens.headers(Role.registered_manager, provider.id, sub="pack-manager"),
        "provider_admin": tokens.headers(Role.provider_admin, provider.id, sub="pack-admin"),
        "care_worker": tokens.headers(Role.care_worker, provider.id, sub="pack-carer"),
        "integration": tokens.headers(Role.integration, provider.id, sub="pack-client"),
        "inspector": tokens.headers(Role.inspector, regulator.id, sub="pack-inspector"),
        "commissioner": tokens.headers(Role.commissioner, commissioner.id, sub="pack-commissioner"),
    }
    return PackWorld(provider, oak, elm, innovation.id, headers)

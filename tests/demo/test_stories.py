"""What a newcomer sees after `make run`: the status API tells the demo's three stories."""

from datetime import date
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.demo import cast
from service.demo.calendar import anchor_instant
from service.demo.generate import build_plan
from service.demo.loader import load_demo
from service.vocabulary import Role
from tests.tokens import TokenFactory

ANCHOR = date(2026, 11, 27)


def indicators(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {indicator["key"]: indicator for indicator in status["indicators"]}


async def test_the_status_api_tells_the_three_stories(
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    tokens: TokenFactory,
) -> None:
    loaded = await load_demo(session_factory, build_plan(anchor=ANCHOR))
    headers = tokens.headers(Role.quality_lead, loaded.ids.provider_id)
    statuses = {}
    for key, innovation_id in loaded.ids.innovations.items():
        response = await client.get(
            f"/v1/innovations/{innovation_id}/status",
            params={"as_of": anchor_instant(ANCHOR).isoformat()},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        statuses[key] = response.json()

    # Proactive engagement: every gating indicator green through turnover.
    engagement = statuses[cast.PROACTIVE_ENGAGEMENT]
    assert engagement["stage"] == "embedded"
    assert {i["rag"] for i in engagement["indicators"]} == {"green"}

    # De-escalation reflection: visible everywhere, but nights lag far behind the day shifts.
    deescalation = statuses[cast.DEESCALATION_REFLECTION]
    assert deescalation["stage"] == "embedding"
    shifts = indicators(deescalation)["shift_consistency"]
    assert shifts["rag"] == "red"
    assert min(shifts["measures"]["shifts"].items(), key=lambda s: s[1]["mean"])[0] == "night"
    assert indicators(deescalation)["system_visibility"]["rag"] == "green"
    assert any("shift_consistency" in reason["indicators"] for reason in deescalation["stage_reasons"])

    # Structured buddying: still a pilot, because one team leader carries it.
    buddying = statuses[cast.STRUCTURED_BUDDYING]
    assert buddying["stage"] == "pilot"
    assert indicators(buddying)["person_independence"]["rag"] == "red"
    assert any("person_independence" in reason["indicators"] for reason in buddying["stage_reasons"])

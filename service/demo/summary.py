"""What `make run` prints after loading the demo: what is there, and a token for every role."""

import uuid
from collections import Counter
from typing import TYPE_CHECKING

from service.auth.tokens import default_ttl, issue_hs256_token
from service.demo import cast
from service.settings import Settings
from service.vocabulary import Role

if TYPE_CHECKING:
    from service.demo.loader import DemoLoad


def demo_role_tokens(settings: Settings, load: "DemoLoad") -> dict[Role, str]:
    """One token per role, each scoped as that role would be in the demo provider's world."""
    ids = load.ids
    house = ids.services[cast.HOUSE]
    # A care record system's login is the staff member's own reference: it is what `sub` matches.
    manager, carer = "RC-001", "RC-009"

    def token(
        role: Role,
        org: uuid.UUID | None,
        sub: str,
        services: list[uuid.UUID] | None = None,
        extra: dict[str, str] | None = None,
    ) -> str:
        return issue_hs256_token(
            settings,
            sub=sub,
            roles=[role],
            organisation_id=org,
            service_ids=services,
            ttl=default_ttl(settings),
            extra=extra,
        )

    return {
        Role.quality_lead: token(Role.quality_lead, ids.provider_id, "demo-quality-lead"),
        Role.registered_manager: token(Role.registered_manager, ids.provider_id, manager, [house]),
        Role.care_worker: token(Role.care_worker, ids.provider_id, carer, [house]),
        Role.provider_admin: token(Role.provider_admin, ids.provider_id, "demo-provider-admin"),
        Role.integration: token(
            Role.integration,
            ids.provider_id,
            "demo-carebook",
            extra={"client_id": "demo-carebook", "source_system": cast.CARE_RECORDS_SOURCE},
        ),
        Role.commissioner: token(Role.commissioner, ids.commissioner_id, "demo-commissioner"),
        Role.inspector: token(Role.inspector, ids.regulator_id, "demo-inspector"),
        Role.platform_admin: token(Role.platform_admin, None, "demo-platform-admin"),
    }


def summary_text(load: "DemoLoad", settings: Settings) -> str:
    plan, ids = load.plan, load.ids
    kinds = Counter(t.kind.value for t in plan.touchpoints)
    first = min(t.occurred_at for t in plan.touchpoints).date() if plan.touchpoints else plan.anchor
    leavers = sum(1 for s in plan.staff if s.left_on is not None)
    lines = [
        "",
        f"Demo data loaded in {load.seconds:.1f} s: {load.provider_name} ({ids.provider_id})",
        f"  {len(plan.services)} services, {len(plan.staff)} staff ({leavers} leavers), "
        f"{sum(len(s.person_refs) for s in plan.services)} people supported, "
        f"{len(plan.touchpoints):,} touchpoints from {first} to {plan.anchor}",
        f"  most common: {', '.join(f'{k} {n:,}' for k, n in kinds.most_common(4))}",
        "  Three innovations, three stories:",
        *(f"    {i.name}: {i.story}" for i in plan.innovations),
        f"  Commissioner {plan.commissioner_name} ({ids.commissioner_id})",
        f"  Regulator {plan.regulator_name} ({ids.regulator_id}), access granted for 90 days either side",
        "",
        f"Demo tokens, valid {default_ttl(settings).total_seconds() / 3600:g} hours "
        "(more with `.venv/bin/ingrain token --role ROLE --org ID`):",
    ]
    tokens = demo_role_tokens(settings, load)
    width = max(len(r.value) for r in tokens)
    lines += [f"  {role.value:<{width}}  {token}" for role, token in tokens.items()]
    lines += [
        "",
        "Try, in another terminal:",
        f"  TOKEN={tokens[Role.quality_lead]}",
        f'  curl -H "Authorization: Bearer $TOKEN" http://{settings.host}:{settings.port}/v1/innovations',
        "",
    ]
    return "\n".join(lines)

"""Deliveries by the job workers: signed, in order, retried, once per event with two workers, and
carrying what the endpoint's organisation may read."""

import asyncio
import base64
import dataclasses
import json
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.database import asyncpg_connect_kwargs
from service.jobs.worker import run
from service.projections.repository import events_after
from service.webhooks import repository, signing
from service.webhooks.repository import AttemptRecord
from tests import factories
from tests.observability.support import sample
from tests.tokens import TokenFactory
from tests.webhooks.receiver import Receiver, SignatureInvalid, verify
from tests.webhooks.support import (
    FAST,
    deliveries,
    emit,
    provider,
    rag_change,
    register,
    stage_change,
    work,
)

EVENT_FIELDS = {"id", "type", "occurred_at", "organisation_id", "innovation_id", "service_id", "data"}


async def test_a_delivery_carries_the_event_signed_as_the_specification_says(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    p = await provider(session, tokens)
    async with Receiver() as receiver:
        endpoint = await register(client, p.admin, receiver.url)
        assert endpoint["secret"].startswith("whsec_")
        assert len(base64.b64decode(endpoint["secret"].removeprefix("whsec_"))) == 32
        await emit(app.state.database_url, p.org.id, [stage_change(p, 1), rag_change(p, p.services[0])])
        await work(app.state.database_url)
        assert len(receiver.received) == 2
        first, second = receiver.received
        for r in receiver.received:
            assert r.method == "POST" and r.path == "/hooks/ingrain"
            assert r.headers["content-type"] == "application/json"
            assert r.headers["webhook-id"].startswith("msg_")
            verify(endpoint["secret"], r.headers, r.body)
        # The package's own verifier agrees with the one written from the specification.
        from standardwebhooks import Webhook

        Webhook(endpoint["secret"]).verify(first.body, first.headers)
        body = first.json()
        assert set(body) == EVENT_FIELDS
        assert body["type"] == "status.stage_changed" and body["service_id"] is None
        assert body["data"] == {"before": "stage-1", "after": "stage-2", "key": None}
        assert second.json()["data"]["key"] == "supervision_coverage"
        # The same event in the feed, with the same id.
        feed = (await client.get("/v1/events", headers=p.admin)).json()["items"]
        assert [e["id"] for e in feed] == [first.json()["id"], second.json()["id"]]
        # A tampered body, another secret or a stale timestamp fail the check.
        with pytest.raises(SignatureInvalid):
            verify(endpoint["secret"], first.headers, first.body.replace(b"stage-2", b"stage-3"))
        with pytest.raises(SignatureInvalid):
            verify(signing.new_secret(), first.headers, first.body)
        with pytest.raises(SignatureInvalid):
            verify(
                endpoint["secret"],
                first.headers,
                first.body,
                now=int(first.headers["webhook-timestamp"]) + 600,
            )
    items = await deliveries(client, p.admin, endpoint["id"])
    assert [d["status"] for d in items] == ["delivered", "delivered"]
    assert items[1]["event_id"] == first.json()["id"]  # newest first
    assert f"msg_{items[1]['id'].replace('-', '')}" == first.headers["webhook-id"]
    [attempt] = items[1]["attempts"]
    assert attempt["status_code"] == 200 and attempt["latency_ms"] >= 0
    assert json.loads(attempt["response_excerpt"]) == {"received": 0}


async def test_a_failing_receiver_gets_retries_and_the_same_message_until_it_answers(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    p = await provider(session, tokens)
    before = {o: sample("ingrain_webhook_deliveries_total", outcome=o) for o in ("delivered", "retrying")}
    attempts = "ingrain_webhook_attempt_duration_seconds_count"
    failed_attempts = sample(attempts, result="failed")
    async with Receiver(script=[500, 503]) as receiver:
        endpoint = await register(client, p.admin, receiver.url)
        await emit(app.state.database_url, p.org.id, [stage_change(p, 1), stage_change(p, 2)])
        await work(app.state.database_url)
        assert sample("ingrain_webhook_deliveries_total", outcome="delivered") == before["delivered"] + 2
        assert sample("ingrain_webhook_deliveries_total", outcome="retrying") == before["retrying"] + 2
        assert sample(attempts, result="failed") == failed_attempts + 2
        ids = [r.headers["webhook-id"] for r in receiver.received]
        # The first event three times (two failures, then 200), and only then the second: in order.
        assert len(ids) == 4 and ids[0] == ids[1] == ids[2] != ids[3]
        assert [r.json()["data"]["before"] for r in receiver.received] == ["stage-1"] * 3 + ["stage-2"]
        gaps = [b.at - a.at for a, b in zip(receiver.received, receiver.received[1:], strict=False)][:2]
        assert gaps[0] >= 0.08 and gaps[1] >= 0.16  # the schedule's first two delays, less jitter
    items = await deliveries(client, p.admin, endpoint["id"])
    first = items[-1]
    assert first["status"] == "delivered" and first["attempt_count"] == 3
    assert [a["status_code"] for a in first["attempts"]] == [200, 503, 500]  # newest first
    assert first["attempts"][1]["error"] == "not a 2xx answer"


async def test_two_workers_deliver_each_event_exactly_once_in_order(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    p = await provider(session, tokens)
    async with Receiver() as receiver, Receiver() as other:
        await register(client, p.admin, receiver.url)
        await register(client, p.admin, other.url, event_types=["status.stage_changed"])
        stop = asyncio.Event()
        workers = [
            asyncio.create_task(
                run(
                    app.state.database_url,
                    stop=stop,
                    pool_size=2,
                    webhooks=FAST,
                    dequeue_timeout=timedelta(seconds=1),
                )
            )
            for _ in range(2)
        ]
        try:
            for batch in range(10):  # ten recomputes' worth, while the workers run
                await emit(
                    app.state.database_url,
                    p.org.id,
                    [stage_change(p, batch * 10 + n) for n in range(4)] + [rag_change(p, p.services[0])],
                )
            await receiver.wait_for(50)
            await other.wait_for(40)
            await asyncio.sleep(0.5)  # a duplicate would have arrived by now
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*workers), 30)
    event_ids = [int(r.json()["id"]) for r in receiver.received]
    assert len(event_ids) == 50 and len(set(event_ids)) == 50
    assert event_ids == sorted(event_ids)
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 50
    assert [r.json()["type"] for r in other.received] == ["status.stage_changed"] * 40


async def test_during_a_rotation_either_secret_verifies_and_after_it_only_the_new_one(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    p = await provider(session, tokens)
    async with Receiver() as receiver:
        endpoint = await register(client, p.admin, receiver.url)
        url = f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret"
        rotated = (await client.post(url, json={"overlap_seconds": 3600}, headers=p.admin)).json()
        assert rotated["secret"] != endpoint["secret"] and rotated["previous_secret_expires_at"]
        await emit(app.state.database_url, p.org.id, [stage_change(p, 1)])
        await work(app.state.database_url)
        [during] = receiver.received
        assert len(during.headers["webhook-signature"].split(" ")) == 2
        verify(endpoint["secret"], during.headers, during.body)
        verify(rotated["secret"], during.headers, during.body)

        again = await client.post(url, json={"overlap_seconds": 0}, headers=p.admin)
        assert again.status_code == 200 and again.json()["previous_secret_expires_at"] is None
        await emit(app.state.database_url, p.org.id, [stage_change(p, 2)])
        await work(app.state.database_url)
        after = receiver.received[1]
        verify(again.json()["secret"], after.headers, after.body)
        for old in (endpoint["secret"], rotated["secret"]):
            with pytest.raises(SignatureInvalid):
                verify(old, after.headers, after.body)
    # Secrets are shown by the create and rotate answers only.
    read = (await client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=p.admin)).json()
    assert "secret" not in read and "previous_secret" not in read


async def test_a_commissioner_receives_aggregates_of_the_services_it_commissions_only(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    p = await provider(session, tokens)
    other = await provider(session, tokens)
    commissioner = await factories.organisation(session, kind="commissioner")
    await factories.commissioning(session, commissioner, p.org, service_ids=[p.services[0].id])
    headers = tokens.headers("commissioner", commissioner.id)
    async with Receiver() as receiver, Receiver() as own:
        await register(client, headers, receiver.url)
        await register(client, p.admin, own.url)
        await emit(
            app.state.database_url,
            p.org.id,
            [
                stage_change(p, 1),  # provider-wide: over services it does not commission
                stage_change(p, 2, p.services[0]),
                stage_change(p, 3, p.services[1]),
                rag_change(p, p.services[0]),
            ],
        )
        await emit(app.state.database_url, other.org.id, [stage_change(other, 1, other.services[0])])
        await work(app.state.database_url)
        bodies = [r.json() for r in receiver.received]
        assert [(b["type"], b["service_id"]) for b in bodies] == [
            ("status.stage_changed", str(p.services[0].id)),
            ("indicator.rag_changed", str(p.services[0].id)),
        ]
        for body in bodies:
            # Stages and RAG ratings only: no counts, no free text, no staff or people.
            assert set(body) == EVENT_FIELDS and set(body["data"]) == {"before", "after", "key"}
        # The provider's own endpoint gets all four of its own, none of the other provider's.
        assert len(own.received) == 4
        assert {r.json()["organisation_id"] for r in own.received} == {str(p.org.id)}


async def test_an_endpoint_failing_past_its_retries_is_disabled_and_resumes_when_re_enabled(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    p = await provider(session, tokens)
    failed_before = sample("ingrain_webhook_deliveries_total", outcome="failed")
    async with Receiver(script=[500] * 4) as receiver:
        endpoint = await register(client, p.admin, receiver.url)
        await emit(app.state.database_url, p.org.id, [stage_change(p, 1), stage_change(p, 2)])
        await work(app.state.database_url)
        assert len(receiver.received) == 4  # the first attempt and the schedule's three retries
        assert sample("ingrain_webhook_deliveries_total", outcome="failed") == failed_before + 1
        read = (await client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=p.admin)).json()
        assert read["enabled"] is False and "failed 4 attempts" in read["disabled_reason"]
        failed, waiting = sorted(
            await deliveries(client, p.admin, endpoint["id"]), key=lambda d: d["event_id"]
        )
        assert (failed["status"], waiting["status"]) == ("failed", "pending")

        # Events written while disabled wait in the outbox.
        await emit(app.state.database_url, p.org.id, [stage_change(p, 3)])
        await work(app.state.database_url)
        assert len(receiver.received) == 4

        patch = {"enabled": True}
        answer = await client.patch(f"/v1/webhook-endpoints/{endpoint['id']}", json=patch, headers=p.admin)
        assert answer.status_code == 200 and answer.json()["disabled_reason"] is None
        await work(app.state.database_url)
        assert [r.json()["data"]["before"] for r in receiver.received[4:]] == ["stage-2", "stage-3"]

        # The failed one is sent again on request, with its own message id.
        url = f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{failed['id']}/redeliver"
        answer = await client.post(url, headers=p.admin)
        assert answer.status_code == 202 and answer.json()["status"] == "pending"
        await work(app.state.database_url)
        assert receiver.received[-1].headers["webhook-id"] == receiver.received[0].headers["webhook-id"]
        assert receiver.received[-1].json()["data"]["before"] == "stage-1"
    statuses = {d["event_id"]: d["status"] for d in await deliveries(client, p.admin, endpoint["id"])}
    assert set(statuses.values()) == {"delivered"}


async def test_an_endpoint_deleted_while_its_deliveries_are_sent_leaves_nothing_behind(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    p = await provider(session, tokens)
    endpoint = await register(client, p.admin, "http://127.0.0.1:9/hook")
    await emit(app.state.database_url, p.org.id, [stage_change(p, 1)])
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(app.state.database_url))
    try:
        endpoint_id = uuid.UUID(endpoint["id"])
        state = await repository.endpoint_state(conn, endpoint_id)
        assert state is not None
        events = await events_after(conn, after=0, limit=10, organisation_ids=[p.org.id])
        await repository.add_deliveries(conn, state, events, events[-1].id)
        [pending] = await repository.pending_deliveries(conn, endpoint_id, 10)
        # The run has sent it; the admin deletes the endpoint before the run records the answer.
        assert (
            await client.delete(f"/v1/webhook-endpoints/{endpoint['id']}", headers=p.admin)
        ).status_code == 204
        answered = AttemptRecord(pending.next_attempt_at, 200, 3, None, "ok")
        await repository.record_delivered(conn, [(pending, answered)])
        assert await conn.fetchval("SELECT count(*) FROM webhook_attempt") == 0
        assert await conn.fetchval("SELECT count(*) FROM webhook_delivery") == 0
    finally:
        await conn.close()


async def test_deliveries_past_their_retention_are_pruned_and_pending_ones_stay(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    from service.webhooks.delivery import RETENTION_DAYS, deliver_endpoint, prune

    p = await provider(session, tokens)
    async with Receiver(script=[200, 200, 500]) as receiver:
        endpoint = await register(client, p.admin, receiver.url)
        await emit(app.state.database_url, p.org.id, [stage_change(p, n) for n in range(3)])
        # One run: two answered, the third failed and waiting an hour for its retry.
        options = dataclasses.replace(FAST, retry_delays=(timedelta(hours=1),))
        outcome = await deliver_endpoint(app.state.engine, uuid.UUID(endpoint["id"]), options)
        assert (outcome.sent, outcome.delivered) == (3, 2) and outcome.retry_at is not None
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(app.state.database_url))
    try:
        # All three a retention and a day old: two delivered, one still pending its retry.
        await conn.execute(
            "UPDATE webhook_delivery SET created_at = now() - make_interval(days => $1)", RETENTION_DAYS + 1
        )
        assert await prune(app.state.engine) == 2
        statuses = await conn.fetch("SELECT status FROM webhook_delivery")
        assert [r["status"] for r in statuses] == ["pending"]
        assert await conn.fetchval("SELECT count(*) FROM webhook_attempt") == 1
    finally:
        await conn.close()
    assert len(await deliveries(client, p.admin, endpoint["id"])) == 1

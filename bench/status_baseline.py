"""The naive way to a status: one plain SQL aggregate over the raw touchpoints, timed with asyncpg.

What a status needs, counted straight from `touchpoint` joined through `touchpoint_innovation`, over
the same months the rollup read covers (the status plan's first month up to `as_of`, for the
innovation's services): references per service, month, delivery system and shift with the means of
practice quality, why-assessments, supervisions and audit scores; the service-wide supervisions,
incidents and restrictive interventions the shares divide by; each recorder's references in the
window and in the three-month visibility span; incidents with their first learning review within 14
days; and new starters' inductions and passed competency checks. One statement, so the database
plans it whole; the time is the server's plus one round trip.
"""

import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from bench.common import percentile
from service.status.evaluation.periods import month_start_at
from service.status.evaluation.series import plan

RAW_STATUS_SQL = """
WITH ref AS MATERIALIZED (
  SELECT t.service_id, t.kind, t.system, t.shift, t.occurred_at, t.recorded_by_id, t.explains_why,
         CASE t.kind WHEN 'practice_observation' THEN t.score WHEN 'daily_note' THEN t.engagement_quality END
           AS quality,
         t.score_percent,
         date_trunc('month', t.occurred_at AT TIME ZONE s.timezone)::date AS month
    FROM touchpoint_innovation l
    JOIN touchpoint t ON t.organisation_id = l.organisation_id AND t.id = l.touchpoint_id
    JOIN service s ON s.organisation_id = t.organisation_id AND s.id = t.service_id
   WHERE l.organisation_id = $1 AND l.innovation_id = $2 AND t.service_id = ANY($3::uuid[])
     AND t.occurred_at >= $4 AND t.occurred_at < $5
)
SELECT 'references' AS part, service_id, month, system, shift, NULL::uuid AS staff_member_id,
       count(*) AS n,
       count(*) FILTER (WHERE kind = 'supervision') AS a,
       count(*) FILTER (WHERE explains_why IS NOT NULL) AS b,
       count(*) FILTER (WHERE explains_why) AS c,
       avg(quality)::float8 AS mean_1,
       avg(score_percent) FILTER (WHERE kind = 'audit')::float8 AS mean_2
  FROM ref GROUP BY service_id, month, system, shift
UNION ALL
SELECT 'recorders', NULL, NULL, NULL, NULL, recorded_by_id,
       count(*), count(*) FILTER (WHERE occurred_at >= $6), count(*) FILTER (WHERE occurred_at >= $7),
       NULL, NULL, NULL
  FROM ref WHERE recorded_by_id IS NOT NULL GROUP BY recorded_by_id
UNION ALL
SELECT 'service', t.service_id, date_trunc('month', t.occurred_at AT TIME ZONE s.timezone)::date,
       NULL, NULL, NULL,
       count(*) FILTER (WHERE t.kind = 'supervision'),
       count(*) FILTER (WHERE t.kind = 'incident'),
       count(*) FILTER (WHERE t.kind = 'incident' AND t.restrictive_intervention),
       NULL, NULL, NULL
  FROM touchpoint t
  JOIN service s ON s.organisation_id = t.organisation_id AND s.id = t.service_id
 WHERE t.organisation_id = $1 AND t.service_id = ANY($3::uuid[]) AND t.kind IN ('supervision', 'incident')
   AND t.occurred_at >= $4 AND t.occurred_at < $5
 GROUP BY 2, 3
UNION ALL
SELECT 'incidents', i.service_id, date_trunc('month', i.occurred_at AT TIME ZONE si.timezone)::date,
       NULL, NULL, NULL,
       count(*), count(r.first_review_at), NULL, NULL, NULL, NULL
  FROM touchpoint i
  JOIN service si ON si.organisation_id = i.organisation_id AND si.id = i.service_id
  LEFT JOIN LATERAL (
    SELECT min(v.occurred_at) AS first_review_at
      FROM touchpoint v
      JOIN touchpoint_innovation vl ON vl.organisation_id = v.organisation_id AND vl.touchpoint_id = v.id
     WHERE v.organisation_id = i.organisation_id AND v.incident_id = i.id AND vl.innovation_id = $2
       AND v.kind = 'post_incident_review' AND v.learning_captured
       AND v.occurred_at BETWEEN i.occurred_at AND i.occurred_at + interval '14 days'
  ) AS r ON TRUE
 WHERE i.organisation_id = $1 AND i.service_id = ANY($3::uuid[]) AND i.kind = 'incident'
   AND i.occurred_at >= $4 AND i.occurred_at < $5
 GROUP BY 2, 3
UNION ALL
SELECT 'starters', NULL, NULL, NULL, NULL, m.id, steps.inducted, steps.competent, NULL, NULL, NULL, NULL
  FROM staff_member m
  CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE t.kind IN ('induction', 'shadowing')) AS inducted,
           count(*) FILTER (WHERE t.kind = 'competency_check' AND t.passed) AS competent
      FROM touchpoint t
      JOIN touchpoint_innovation l ON l.organisation_id = t.organisation_id AND l.touchpoint_id = t.id
     WHERE t.organisation_id = m.organisation_id AND t.subject_staff_id = m.id AND l.innovation_id = $2
       AND t.kind IN ('induction', 'shadowing', 'competency_check')
  ) AS steps
 WHERE m.organisation_id = $1 AND m.started_on >= $8
"""


@dataclass(frozen=True)
class RawAggregate:
    seconds: list[float]
    rows: int
    touchpoints_read: int

    @property
    def count(self) -> int:
        return len(self.seconds)

    @property
    def p50(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p95(self) -> float:
        return percentile(sorted(self.seconds), 0.95)


async def time_raw_aggregate(
    conn: asyncpg.Connection,
    organisation_id: uuid.UUID,
    innovation_id: uuid.UUID,
    service_ids: list[uuid.UUID],
    *,
    innovation_started_on: object,
    as_of: datetime,
    runs: int = 7,
    window_days: int = 90,
    tz: str = "Europe/London",
) -> RawAggregate:
    """Run the aggregate once to warm the cache, then `runs` times; the times of those runs."""
    status_plan = plan(tz, as_of, window_days, innovation_started_on, 1)  # type: ignore[arg-type]
    first_at = month_start_at(status_plan.first_month, tz)
    window_from = as_of - timedelta(days=window_days)
    visibility_from = status_plan.timeline[-1].start
    arguments = (
        organisation_id,
        innovation_id,
        service_ids,
        first_at,
        as_of,
        window_from,
        visibility_from,
        status_plan.first_month,
    )
    rows = await conn.fetch(RAW_STATUS_SQL, *arguments)
    touchpoints_read = sum(r["n"] for r in rows if r["part"] == "references")
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        await conn.fetch(RAW_STATUS_SQL, *arguments)
        seconds.append(time.perf_counter() - started)
    return RawAggregate(seconds, len(rows), touchpoints_read)

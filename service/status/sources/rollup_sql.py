"""The statements of the status fast path (service.status.sources.rollups).

Column lists come from the MonthCounts fields and counting expressions from evaluation.counting;
every value is a bound parameter. Parameters $1 and $2 are always the organisation and the
innovations; IN_RANGE's $3..$7 are the services, their own [from, to) and the scalar envelope.
"""

from service.status.evaluation.counting import (
    CONTRIBUTED_FIELDS,
    INNOVATION_EXPRESSIONS,
    LEARNING_REVIEW,
    SERVICE_EXPRESSIONS,
)
from service.status.evaluation.inputs import INNOVATION_FIELDS, SERVICE_FIELDS

_INNOVATION_COLUMNS = ", ".join(INNOVATION_FIELDS)
_SERVICE_COLUMNS = ", ".join(SERVICE_FIELDS)

ROLLUP_SQL = f"""
SELECT r.innovation_id, r.service_id, r.month, {_INNOVATION_COLUMNS}
  FROM status_month_rollup r
  JOIN unnest($3::uuid[], $4::date[]) AS c(service_id, last_month) ON c.service_id = r.service_id
 WHERE r.organisation_id = $1 AND r.innovation_id = ANY($2::uuid[])
   AND r.month >= $5 AND r.month <= c.last_month
"""  # noqa: S608 - column names come from the MonthCounts fields

SERVICE_MONTHS_SQL = f"""
SELECT m.service_id, m.month, {_SERVICE_COLUMNS}
  FROM status_service_month m
  JOIN unnest($2::uuid[], $3::date[]) AS c(service_id, last_month) ON c.service_id = m.service_id
 WHERE m.organisation_id = $1 AND m.month <= c.last_month AND (m.month >= $4 OR m.month = ANY($5::date[]))
"""  # noqa: S608

# One row per (innovation, service, month) with the recorders as arrays: far fewer rows to decode.
# Recorders come as their positions in $6 (the provider's staff, as loaded), small integers that
# are cheaper to decode and to index by than identifiers.
STAFF_MONTHS_SQL = """
SELECT r.innovation_id, r.service_id, r.month,
       array_agg(m.k::int - 1) AS recorders, array_agg(r.touchpoints) AS touchpoints
  FROM status_staff_month r
  JOIN unnest($3::uuid[], $4::date[]) AS c(service_id, last_month) ON c.service_id = r.service_id
  JOIN unnest($6::uuid[]) WITH ORDINALITY AS m(staff_member_id, k) ON m.staff_member_id = r.staff_member_id
 WHERE r.organisation_id = $1 AND r.innovation_id = ANY($2::uuid[])
   AND r.month >= $5 AND r.month <= c.last_month AND r.touchpoints <> 0
 GROUP BY r.innovation_id, r.service_id, r.month
"""

FIRST_REFERENCES_SQL = """
SELECT r.innovation_id, r.service_id, min(r.month) AS month
  FROM status_month_rollup r
  JOIN unnest($3::uuid[], $4::date[]) AS c(service_id, current_month) ON c.service_id = r.service_id
 WHERE r.organisation_id = $1 AND r.innovation_id = ANY($2::uuid[]) AND r.month < c.current_month
   AND r.refs_total > 0
 GROUP BY r.innovation_id, r.service_id
"""

# Rows of each service in its own [from, to): the scalar bounds let the (organisation, service,
# occurred_at) index do the work, the per-service ones then trim.
IN_RANGE = """
t.organisation_id = $1 AND t.service_id = ANY($3::uuid[])
AND t.occurred_at >= $6 AND t.occurred_at < $7
AND t.occurred_at >= ($4::timestamptz[])[array_position($3::uuid[], t.service_id)]
AND t.occurred_at < ($5::timestamptz[])[array_position($3::uuid[], t.service_id)]
"""

# The raw part of the month containing as_of: one scan, three groupings (referencing counts per
# innovation and service, per recorder, and service-wide counts). Links are looked up per row.
RAW_SQL = f"""
WITH t AS MATERIALIZED (
  SELECT t.id, t.organisation_id, t.kind, t.system, t.service_id, t.occurred_at, t.shift, t.recorded_by_id,
         t.explains_why, t.engagement_quality, t.score, t.restrictive_intervention, t.facts, s.timezone,
         ARRAY(SELECT l.innovation_id FROM touchpoint_innovation l
                WHERE l.organisation_id = t.organisation_id AND l.touchpoint_id = t.id) AS innovation_ids
    FROM touchpoint t
    JOIN service s ON s.organisation_id = t.organisation_id AND s.id = t.service_id
   WHERE {IN_RANGE}
), linked AS (
  SELECT t.*, l.innovation_id
    FROM t CROSS JOIN unnest(t.innovation_ids) AS l(innovation_id)
   WHERE l.innovation_id = ANY($2::uuid[])
)
SELECT 'innovation' AS grain, t.innovation_id, t.service_id, NULL::uuid AS staff_member_id,
       {", ".join(f"sum({INNOVATION_EXPRESSIONS[c]})::int AS {c}" for c in CONTRIBUTED_FIELDS)},
       {", ".join(f"NULL::int AS {c}" for c in SERVICE_FIELDS)}
  FROM linked t CROSS JOIN LATERAL (SELECT t.timezone) AS s
 GROUP BY t.innovation_id, t.service_id
UNION ALL
SELECT 'staff', t.innovation_id, t.service_id, t.recorded_by_id, count(*)::int,
       {", ".join("NULL" for _ in CONTRIBUTED_FIELDS[1:])},
       {", ".join("NULL" for _ in SERVICE_FIELDS)}
  FROM linked t
 WHERE t.recorded_by_id IS NOT NULL
 GROUP BY t.innovation_id, t.service_id, t.recorded_by_id
UNION ALL
SELECT 'service', NULL, t.service_id, NULL,
       {", ".join("NULL" for _ in CONTRIBUTED_FIELDS)},
       {", ".join(f"sum({SERVICE_EXPRESSIONS[c]})::int" for c in SERVICE_FIELDS)}
  FROM t CROSS JOIN LATERAL (SELECT t.timezone) AS s
 WHERE t.kind IN ('supervision', 'incident')
 GROUP BY t.service_id
"""  # noqa: S608 - built from constant expressions; values are bound parameters

# Incidents in the raw range or in the review period before as_of, with their first review that
# captured learning for each innovation (whenever it happened).
INCIDENTS_SQL = f"""
SELECT t.id, t.service_id, t.occurred_at, f.innovation_id, f.first_review_at
  FROM touchpoint t
  LEFT JOIN LATERAL (
    SELECT ti.innovation_id, min(v.occurred_at) AS first_review_at
      FROM touchpoint v
      JOIN touchpoint_innovation ti ON ti.organisation_id = v.organisation_id AND ti.touchpoint_id = v.id
     WHERE v.organisation_id = t.organisation_id AND v.incident_id = t.id
       AND {LEARNING_REVIEW}
       AND ti.innovation_id = ANY($2::uuid[])
     GROUP BY ti.innovation_id
  ) AS f ON TRUE
 WHERE t.kind = 'incident' AND {IN_RANGE}
"""  # noqa: S608

# Complete months' audits per innovation and service, as runs (migration 0004 keeps them current):
# every month from $5 up to, not including, each service's month containing as_of.
AUDIT_MONTHS_SQL = """
SELECT a.innovation_id, a.service_id, a.month, a.audits, a.total_hundredths, a.first_hundredths,
       a.last_hundredths, a.max_drop_hundredths
  FROM status_audit_month a
  JOIN unnest($3::uuid[], $4::date[]) AS c(service_id, current_month) ON c.service_id = a.service_id
 WHERE a.organisation_id = $1 AND a.innovation_id = ANY($2::uuid[])
   AND a.month >= $5 AND a.month < c.current_month
"""

# The audits of the month containing as_of, up to as_of, summarised as one run per innovation and
# service the same way (count, total, first score, last three, largest drop inside), in hundredths.
CURRENT_AUDITS_SQL = f"""
WITH a AS (
  SELECT l.innovation_id, t.service_id, (t.score_percent * 100)::int AS score,
         row_number() OVER w AS k,
         count(*) OVER p AS n,
         (lag(t.score_percent) OVER w * 100)::int AS before
    FROM touchpoint t
    JOIN touchpoint_innovation l ON l.organisation_id = t.organisation_id AND l.touchpoint_id = t.id
   WHERE t.kind = 'audit' AND t.score_percent IS NOT NULL AND {IN_RANGE}
     AND l.innovation_id = ANY($2::uuid[])
  WINDOW p AS (PARTITION BY l.innovation_id, t.service_id),
         w AS (p ORDER BY t.occurred_at, t.id)
)
SELECT innovation_id, service_id, count(*)::int AS audits, sum(score)::bigint AS total_hundredths,
       min(score) FILTER (WHERE k = 1) AS first_hundredths,
       array_agg(score ORDER BY k) FILTER (WHERE k > n - 3) AS last_hundredths,
       greatest(coalesce(max(before - score), 0), 0) AS max_drop_hundredths
  FROM a
 GROUP BY innovation_id, service_id
"""  # noqa: S608

# Each new starter's steps from a month before their start to just past their last deadline, found
# through the partial index of first steps by subject; the exact local dates are checked after.
STARTER_STEPS_SQL = """
SELECT c.staff_id, l.innovation_id, t.kind, t.passed IS TRUE AS passed, t.occurred_at, t.service_id
  FROM unnest($3::uuid[], $4::timestamptz[], $5::timestamptz[]) AS c(staff_id, steps_from, steps_to)
  JOIN touchpoint t ON t.organisation_id = $1 AND t.subject_staff_id = c.staff_id
                   AND t.occurred_at >= c.steps_from AND t.occurred_at < c.steps_to
  JOIN touchpoint_innovation l ON l.organisation_id = t.organisation_id AND l.touchpoint_id = t.id
 WHERE t.kind IN ('induction', 'shadowing', 'competency_check') AND l.innovation_id = ANY($2::uuid[])
"""

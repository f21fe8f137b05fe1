"""status rollups: functions and triggers that keep the monthly status rollups current

The rollup tables themselves are in 0001 (they are table models). Here: the functions that add a
touchpoint's share to its month when it is recorded, corrected or deleted, or when its innovation
links change; the refresh of a month's incident reviews; and a rebuild from raw rows. Statement
triggers with transition tables, so a batch of a thousand touchpoints costs a few statements.

A touchpoint's links count when the links are inserted (status_link_inserted), whether in a later
statement or in the same one as the touchpoint; a statement that updates touchpoints is expected not
to change their links too (corrections update the row, then relink). The counting expressions are a frozen copy of service/status/contribution_sql.py as it stood when
this revision was written; tests/status/test_rollup_property.py checks they still agree.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE: tuple[str, ...] = (
    r"""
CREATE FUNCTION status_add_links(old_rows touchpoint[], new_rows touchpoint[], links touchpoint_innovation[])
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  -- Take away what the old versions of the rows added, through these links, and add the new ones.
  INSERT INTO status_month_rollup AS r (
    organisation_id, innovation_id, service_id, month,
    refs_total, refs_care_records, refs_team_communication, refs_supervision, refs_quality_assurance, refs_workforce, refs_incident_learning, refs_staff_voice, referencing_supervisions, why_assessed, why_explained, quality_early_n, quality_early_sum, quality_late_n, quality_late_sum, quality_night_n, quality_night_sum, surveys, nomad_coherence_n, nomad_coherence_sum, nomad_cognitive_participation_n, nomad_cognitive_participation_sum, nomad_collective_action_n, nomad_collective_action_sum, nomad_reflexive_monitoring_n, nomad_reflexive_monitoring_sum, familiar_n, familiar_sum, normal_now_n, normal_now_sum, normal_now_high, normal_future_n, normal_future_sum,
    updated_at)
  SELECT d.*, now() FROM (
    SELECT t.organisation_id, l.innovation_id, t.service_id, date_trunc('month', (t.occurred_at AT TIME ZONE s.timezone))::date AS month,
      sum(t.sign * 1) AS refs_total,
      sum(t.sign * (t.system = 'care_records')::int) AS refs_care_records,
      sum(t.sign * (t.system = 'team_communication')::int) AS refs_team_communication,
      sum(t.sign * (t.system = 'supervision')::int) AS refs_supervision,
      sum(t.sign * (t.system = 'quality_assurance')::int) AS refs_quality_assurance,
      sum(t.sign * (t.system = 'workforce')::int) AS refs_workforce,
      sum(t.sign * (t.system = 'incident_learning')::int) AS refs_incident_learning,
      sum(t.sign * (t.system = 'staff_voice')::int) AS refs_staff_voice,
      sum(t.sign * (t.kind = 'supervision')::int) AS referencing_supervisions,
      sum(t.sign * (t.kind IN ('supervision', 'practice_observation', 'competency_check') AND t.explains_why IS NOT NULL)::int) AS why_assessed,
      sum(t.sign * (t.kind IN ('supervision', 'practice_observation', 'competency_check') AND t.explains_why IS TRUE)::int) AS why_explained,
      sum(t.sign * (t.shift = 'early' AND (CASE t.kind WHEN 'practice_observation' THEN t.score WHEN 'daily_note' THEN t.engagement_quality END) IS NOT NULL)::int) AS quality_early_n,
      sum(t.sign * (CASE WHEN t.shift = 'early' THEN coalesce((CASE t.kind WHEN 'practice_observation' THEN t.score WHEN 'daily_note' THEN t.engagement_quality END), 0) ELSE 0 END)) AS quality_early_sum,
      sum(t.sign * (t.shift = 'late' AND (CASE t.kind WHEN 'practice_observation' THEN t.score WHEN 'daily_note' THEN t.engagement_quality END) IS NOT NULL)::int) AS quality_late_n,
      sum(t.sign * (CASE WHEN t.shift = 'late' THEN coalesce((CASE t.kind WHEN 'practice_observation' THEN t.score WHEN 'daily_note' THEN t.engagement_quality END), 0) ELSE 0 END)) AS quality_late_sum,
      sum(t.sign * (t.shift = 'night' AND (CASE t.kind WHEN 'practice_observation' THEN t.score WHEN 'daily_note' THEN t.engagement_quality END) IS NOT NULL)::int) AS quality_night_n,
      sum(t.sign * (CASE WHEN t.shift = 'night' THEN coalesce((CASE t.kind WHEN 'practice_observation' THEN t.score WHEN 'daily_note' THEN t.engagement_quality END), 0) ELSE 0 END)) AS quality_night_sum,
      sum(t.sign * (t.kind = 'staff_survey')::int) AS surveys,
      sum(t.sign * (CASE WHEN t.kind = 'staff_survey' THEN (SELECT count(*) FROM jsonb_each(t.facts -> 'items') AS e WHERE e.key ~ '^(c1|c2|c3|c4)$' AND jsonb_typeof(e.value) = 'number') ELSE 0 END)) AS nomad_coherence_n,
      sum(t.sign * (CASE WHEN t.kind = 'staff_survey' THEN (SELECT coalesce(sum(CASE WHEN e.key IN ('ca2') THEN 6 - (e.value)::int ELSE (e.value)::int END), 0) FROM jsonb_each(t.facts -> 'items') AS e WHERE e.key ~ '^(c1|c2|c3|c4)$' AND jsonb_typeof(e.value) = 'number') ELSE 0 END)) AS nomad_coherence_sum,
      sum(t.sign * (CASE WHEN t.kind = 'staff_survey' THEN (SELECT count(*) FROM jsonb_each(t.facts -> 'items') AS e WHERE e.key ~ '^(cp1|cp2|cp3|cp4)$' AND jsonb_typeof(e.value) = 'number') ELSE 0 END)) AS nomad_cognitive_participation_n,
      sum(t.sign * (CASE WHEN t.kind = 'staff_survey' THEN (SELECT coalesce(sum(CASE WHEN e.key IN ('ca2') THEN 6 - (e.value)::int ELSE (e.value)::int END), 0) FROM jsonb_each(t.facts -> 'items') AS e WHERE e.key ~ '^(cp1|cp2|cp3|cp4)$' AND jsonb_typeof(e.value) = 'number') ELSE 0 END)) AS nomad_cognitive_participation_sum,
      sum(t.sign * (CASE WHEN t.kind = 'staff_survey' THEN (SELECT count(*) FROM jsonb_each(t.facts -> 'items') AS e WHERE e.key ~ '^(ca1|ca2|ca3|ca4|ca5|ca6|ca7)$' AND jsonb_typeof(e.value) = 'number') ELSE 0 END)) AS nomad_collective_action_n,
      sum(t.sign * (CASE WHEN t.kind = 'staff_survey' THEN (SELECT coalesce(sum(CASE WHEN e.key IN ('ca2') THEN 6 - (e.value)::int ELSE (e.value)::int END), 0) FROM jsonb_each(t.facts -> 'items') AS e WHERE e.key ~ '^(ca1|ca2|ca3|ca4|ca5|ca6|ca7)$' AND jsonb_typeof(e.value) = 'number') ELSE 0 END)) AS nomad_collective_action_sum,
      sum(t.sign * (CASE WHEN t.kind = 'staff_survey' THEN (SELECT count(*) FROM jsonb_each(t.facts -> 'items') AS e WHERE e.key ~ '^(rm1|rm2|rm3|rm4|rm5)$' AND jsonb_typeof(e.value) = 'number') ELSE 0 END)) AS nomad_reflexive_monitoring_n,
      sum(t.sign * (CASE WHEN t.kind = 'staff_survey' THEN (SELECT coalesce(sum(CASE WHEN e.key IN ('ca2') THEN 6 - (e.value)::int ELSE (e.value)::int END), 0) FROM jsonb_each(t.facts -> 'items') AS e WHERE e.key ~ '^(rm1|rm2|rm3|rm4|rm5)$' AND jsonb_typeof(e.value) = 'number') ELSE 0 END)) AS nomad_reflexive_monitoring_sum,
      sum(t.sign * (t.kind = 'staff_survey' AND jsonb_typeof((t.facts -> 'general' -> 'familiar')) = 'number')::int) AS familiar_n,
      sum(t.sign * (CASE WHEN t.kind = 'staff_survey' AND jsonb_typeof((t.facts -> 'general' -> 'familiar')) = 'number' THEN ((t.facts -> 'general' -> 'familiar'))::int ELSE 0 END)) AS familiar_sum,
      sum(t.sign * (t.kind = 'staff_survey' AND jsonb_typeof((t.facts -> 'general' -> 'normal_now')) = 'number')::int) AS normal_now_n,
      sum(t.sign * (CASE WHEN t.kind = 'staff_survey' AND jsonb_typeof((t.facts -> 'general' -> 'normal_now')) = 'number' THEN ((t.facts -> 'general' -> 'normal_now'))::int ELSE 0 END)) AS normal_now_sum,
      sum(t.sign * (t.kind = 'staff_survey' AND jsonb_typeof((t.facts -> 'general' -> 'normal_now')) = 'number' AND ((t.facts -> 'general' -> 'normal_now'))::int >= 7)::int) AS normal_now_high,
      sum(t.sign * (t.kind = 'staff_survey' AND jsonb_typeof((t.facts -> 'general' -> 'normal_future')) = 'number')::int) AS normal_future_n,
      sum(t.sign * (CASE WHEN t.kind = 'staff_survey' AND jsonb_typeof((t.facts -> 'general' -> 'normal_future')) = 'number' THEN ((t.facts -> 'general' -> 'normal_future'))::int ELSE 0 END)) AS normal_future_sum
      FROM (SELECT -1 AS sign, o.* FROM unnest(old_rows) AS o
            UNION ALL
            SELECT 1 AS sign, n.* FROM unnest(new_rows) AS n) AS t
      JOIN unnest(links) AS l ON l.organisation_id = t.organisation_id AND l.touchpoint_id = t.id
      JOIN service s ON s.organisation_id = t.organisation_id AND s.id = t.service_id
     GROUP BY 1, 2, 3, 4
  ) AS d
  WHERE refs_total <> 0 OR refs_care_records <> 0 OR refs_team_communication <> 0 OR refs_supervision <> 0 OR refs_quality_assurance <> 0 OR refs_workforce <> 0 OR refs_incident_learning <> 0 OR refs_staff_voice <> 0 OR referencing_supervisions <> 0 OR why_assessed <> 0 OR why_explained <> 0 OR quality_early_n <> 0 OR quality_early_sum <> 0 OR quality_late_n <> 0 OR quality_late_sum <> 0 OR quality_night_n <> 0 OR quality_night_sum <> 0 OR surveys <> 0 OR nomad_coherence_n <> 0 OR nomad_coherence_sum <> 0 OR nomad_cognitive_participation_n <> 0 OR nomad_cognitive_participation_sum <> 0 OR nomad_collective_action_n <> 0 OR nomad_collective_action_sum <> 0 OR nomad_reflexive_monitoring_n <> 0 OR nomad_reflexive_monitoring_sum <> 0 OR familiar_n <> 0 OR familiar_sum <> 0 OR normal_now_n <> 0 OR normal_now_sum <> 0 OR normal_now_high <> 0 OR normal_future_n <> 0 OR normal_future_sum <> 0
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (organisation_id, innovation_id, service_id, month) DO UPDATE SET
    refs_total = r.refs_total + excluded.refs_total,
    refs_care_records = r.refs_care_records + excluded.refs_care_records,
    refs_team_communication = r.refs_team_communication + excluded.refs_team_communication,
    refs_supervision = r.refs_supervision + excluded.refs_supervision,
    refs_quality_assurance = r.refs_quality_assurance + excluded.refs_quality_assurance,
    refs_workforce = r.refs_workforce + excluded.refs_workforce,
    refs_incident_learning = r.refs_incident_learning + excluded.refs_incident_learning,
    refs_staff_voice = r.refs_staff_voice + excluded.refs_staff_voice,
    referencing_supervisions = r.referencing_supervisions + excluded.referencing_supervisions,
    why_assessed = r.why_assessed + excluded.why_assessed,
    why_explained = r.why_explained + excluded.why_explained,
    quality_early_n = r.quality_early_n + excluded.quality_early_n,
    quality_early_sum = r.quality_early_sum + excluded.quality_early_sum,
    quality_late_n = r.quality_late_n + excluded.quality_late_n,
    quality_late_sum = r.quality_late_sum + excluded.quality_late_sum,
    quality_night_n = r.quality_night_n + excluded.quality_night_n,
    quality_night_sum = r.quality_night_sum + excluded.quality_night_sum,
    surveys = r.surveys + excluded.surveys,
    nomad_coherence_n = r.nomad_coherence_n + excluded.nomad_coherence_n,
    nomad_coherence_sum = r.nomad_coherence_sum + excluded.nomad_coherence_sum,
    nomad_cognitive_participation_n = r.nomad_cognitive_participation_n + excluded.nomad_cognitive_participation_n,
    nomad_cognitive_participation_sum = r.nomad_cognitive_participation_sum + excluded.nomad_cognitive_participation_sum,
    nomad_collective_action_n = r.nomad_collective_action_n + excluded.nomad_collective_action_n,
    nomad_collective_action_sum = r.nomad_collective_action_sum + excluded.nomad_collective_action_sum,
    nomad_reflexive_monitoring_n = r.nomad_reflexive_monitoring_n + excluded.nomad_reflexive_monitoring_n,
    nomad_reflexive_monitoring_sum = r.nomad_reflexive_monitoring_sum + excluded.nomad_reflexive_monitoring_sum,
    familiar_n = r.familiar_n + excluded.familiar_n,
    familiar_sum = r.familiar_sum + excluded.familiar_sum,
    normal_now_n = r.normal_now_n + excluded.normal_now_n,
    normal_now_sum = r.normal_now_sum + excluded.normal_now_sum,
    normal_now_high = r.normal_now_high + excluded.normal_now_high,
    normal_future_n = r.normal_future_n + excluded.normal_future_n,
    normal_future_sum = r.normal_future_sum + excluded.normal_future_sum,
    updated_at = now();

  INSERT INTO status_staff_month AS r (
    organisation_id, innovation_id, service_id, month, staff_member_id, touchpoints, updated_at)
  SELECT d.*, now() FROM (
    SELECT t.organisation_id, l.innovation_id, t.service_id, date_trunc('month', (t.occurred_at AT TIME ZONE s.timezone))::date AS month, t.recorded_by_id,
           sum(t.sign) AS touchpoints
      FROM (SELECT -1 AS sign, o.* FROM unnest(old_rows) AS o
            UNION ALL
            SELECT 1 AS sign, n.* FROM unnest(new_rows) AS n) AS t
      JOIN unnest(links) AS l ON l.organisation_id = t.organisation_id AND l.touchpoint_id = t.id
      JOIN service s ON s.organisation_id = t.organisation_id AND s.id = t.service_id
     WHERE t.recorded_by_id IS NOT NULL
     GROUP BY 1, 2, 3, 4, 5
    HAVING sum(t.sign) <> 0
  ) AS d
  ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (organisation_id, innovation_id, service_id, month, staff_member_id) DO UPDATE SET
    touchpoints = r.touchpoints + excluded.touchpoints,
    updated_at = now();
END
$fn$;
""",
    r"""
CREATE FUNCTION status_add_service(old_rows touchpoint[], new_rows touchpoint[])
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO status_service_month AS r (
    organisation_id, service_id, month, supervisions, incidents, late_incidents, restrictive_interventions, updated_at)
  SELECT d.*, now() FROM (
    SELECT t.organisation_id, t.service_id, date_trunc('month', (t.occurred_at AT TIME ZONE s.timezone))::date AS month,
      sum(t.sign * (t.kind = 'supervision')::int) AS supervisions,
      sum(t.sign * (t.kind = 'incident')::int) AS incidents,
      sum(t.sign * (t.kind = 'incident' AND t.occurred_at + interval '336 hours' > ((date_trunc('month', (t.occurred_at AT TIME ZONE s.timezone)) + interval '1 month') AT TIME ZONE s.timezone))::int) AS late_incidents,
      sum(t.sign * (t.kind = 'incident' AND t.restrictive_intervention IS TRUE)::int) AS restrictive_interventions
      FROM (SELECT -1 AS sign, o.* FROM unnest(old_rows) AS o
            UNION ALL
            SELECT 1 AS sign, n.* FROM unnest(new_rows) AS n) AS t
      JOIN service s ON s.organisation_id = t.organisation_id AND s.id = t.service_id
     GROUP BY 1, 2, 3
  ) AS d
  WHERE supervisions <> 0 OR incidents <> 0 OR late_incidents <> 0 OR restrictive_interventions <> 0
  ORDER BY 1, 2, 3
  ON CONFLICT (organisation_id, service_id, month) DO UPDATE SET
    supervisions = r.supervisions + excluded.supervisions,
    incidents = r.incidents + excluded.incidents,
    late_incidents = r.late_incidents + excluded.late_incidents,
    restrictive_interventions = r.restrictive_interventions + excluded.restrictive_interventions,
    updated_at = now();
END
$fn$;
""",
    r"""
CREATE FUNCTION status_refresh_incidents(rows touchpoint[])
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  orgs uuid[];
  services uuid[];
  months date[];
BEGIN
  -- The months whose incidents these rows are, or whose incidents these reviews follow.
  SELECT array_agg(k.organisation_id ORDER BY k.organisation_id, k.service_id, k.month),
         array_agg(k.service_id ORDER BY k.organisation_id, k.service_id, k.month),
         array_agg(k.month ORDER BY k.organisation_id, k.service_id, k.month)
    INTO orgs, services, months
    FROM (
      SELECT t.organisation_id, t.service_id, date_trunc('month', (t.occurred_at AT TIME ZONE s.timezone))::date AS month
        FROM unnest(rows) AS t
        JOIN service s ON s.organisation_id = t.organisation_id AND s.id = t.service_id
       WHERE t.kind = 'incident'
      UNION
      SELECT i.organisation_id, i.service_id, date_trunc('month', (i.occurred_at AT TIME ZONE s.timezone))::date
        FROM unnest(rows) AS r
        JOIN touchpoint i ON i.organisation_id = r.organisation_id AND i.id = r.incident_id
        JOIN service s ON s.organisation_id = i.organisation_id AND s.id = i.service_id
       WHERE r.kind = 'post_incident_review' AND i.kind = 'incident'
    ) AS k;
  IF orgs IS NULL THEN
    RETURN;
  END IF;

  -- One refresh of a month at a time: a concurrent one waits here, then sees this one's rows.
  INSERT INTO status_service_month (organisation_id, service_id, month)
  SELECT * FROM unnest(orgs, services, months)
  ON CONFLICT DO NOTHING;
  PERFORM 1
     FROM status_service_month m
     JOIN unnest(orgs, services, months) AS k(organisation_id, service_id, month)
       ON m.organisation_id = k.organisation_id AND m.service_id = k.service_id AND m.month = k.month
    ORDER BY m.organisation_id, m.service_id, m.month
      FOR UPDATE OF m;

  UPDATE status_month_rollup AS r
     SET incidents_reviewed = 0, late_incidents_reviewed = 0, late_incidents_reviewed_in_month = 0,
         updated_at = now()
    FROM unnest(orgs, services, months) AS k(organisation_id, service_id, month)
   WHERE r.organisation_id = k.organisation_id AND r.service_id = k.service_id AND r.month = k.month
     AND (r.incidents_reviewed <> 0 OR r.late_incidents_reviewed <> 0
          OR r.late_incidents_reviewed_in_month <> 0);

  INSERT INTO status_month_rollup AS r (
    organisation_id, innovation_id, service_id, month,
    incidents_reviewed, late_incidents_reviewed, late_incidents_reviewed_in_month, updated_at)
  SELECT i.organisation_id, f.innovation_id, i.service_id, k.month,
         count(*),
         count(*) FILTER (WHERE i.occurred_at + interval '336 hours' > ((date_trunc('month', (i.occurred_at AT TIME ZONE s.timezone)) + interval '1 month') AT TIME ZONE s.timezone)),
         count(*) FILTER (WHERE i.occurred_at + interval '336 hours' > ((date_trunc('month', (i.occurred_at AT TIME ZONE s.timezone)) + interval '1 month') AT TIME ZONE s.timezone)
                            AND f.first_review_at < ((date_trunc('month', (i.occurred_at AT TIME ZONE s.timezone)) + interval '1 month') AT TIME ZONE s.timezone)),
         now()
    FROM unnest(orgs, services, months) AS k(organisation_id, service_id, month)
    JOIN service s ON s.organisation_id = k.organisation_id AND s.id = k.service_id
    JOIN touchpoint i
      ON i.organisation_id = k.organisation_id AND i.service_id = k.service_id AND i.kind = 'incident'
     AND i.occurred_at >= (k.month::timestamp AT TIME ZONE s.timezone)
     AND i.occurred_at < ((k.month + interval '1 month')::timestamp AT TIME ZONE s.timezone)
    CROSS JOIN LATERAL (
      SELECT ti.innovation_id, min(v.occurred_at) AS first_review_at
        FROM touchpoint v
        JOIN touchpoint_innovation ti ON ti.organisation_id = v.organisation_id AND ti.touchpoint_id = v.id
       WHERE v.organisation_id = i.organisation_id AND v.incident_id = i.id
         AND v.kind = 'post_incident_review' AND v.learning_captured IS TRUE
         AND v.occurred_at >= i.occurred_at AND v.occurred_at <= i.occurred_at + interval '336 hours'
       GROUP BY ti.innovation_id
    ) AS f
   GROUP BY i.organisation_id, f.innovation_id, i.service_id, k.month
   ORDER BY 1, 2, 3, 4
  ON CONFLICT (organisation_id, innovation_id, service_id, month) DO UPDATE SET
    incidents_reviewed = excluded.incidents_reviewed,
    late_incidents_reviewed = excluded.late_incidents_reviewed,
    late_incidents_reviewed_in_month = excluded.late_incidents_reviewed_in_month,
    updated_at = now();
END
$fn$;
""",
    r"""
CREATE FUNCTION status_touchpoint_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM status_add_service('{}'::touchpoint[], ARRAY(SELECT n::touchpoint FROM new_rows AS n));
  -- No link shares here: a link is always inserted after its touchpoint (or in the same statement)
  -- and counts when its own trigger fires, which then sees the touchpoint.
  PERFORM status_refresh_incidents(
    ARRAY(SELECT n::touchpoint FROM new_rows AS n WHERE n.kind IN ('incident', 'post_incident_review')));
  RETURN NULL;
END
$fn$;
""",
    r"""
CREATE FUNCTION status_touchpoint_updated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM status_add_service(ARRAY(SELECT o::touchpoint FROM old_rows AS o), ARRAY(SELECT n::touchpoint FROM new_rows AS n));
  PERFORM status_add_links(
    ARRAY(SELECT o::touchpoint FROM old_rows AS o),
    ARRAY(SELECT n::touchpoint FROM new_rows AS n),
    ARRAY(SELECT l FROM touchpoint_innovation AS l
            JOIN new_rows AS n ON l.organisation_id = n.organisation_id AND l.touchpoint_id = n.id));
  PERFORM status_refresh_incidents(
    ARRAY(SELECT o::touchpoint FROM old_rows AS o WHERE o.kind IN ('incident', 'post_incident_review'))
    || ARRAY(SELECT n::touchpoint FROM new_rows AS n WHERE n.kind IN ('incident', 'post_incident_review')));
  RETURN NULL;
END
$fn$;
""",
    r"""
-- Row level and before: once the touchpoint is gone, its cascaded links no longer say what it added.
CREATE FUNCTION status_touchpoint_deleting() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM status_add_links(
    ARRAY[OLD],
    '{}'::touchpoint[],
    ARRAY(SELECT l FROM touchpoint_innovation AS l
           WHERE l.organisation_id = OLD.organisation_id AND l.touchpoint_id = OLD.id));
  RETURN OLD;
END
$fn$;
""",
    r"""
CREATE FUNCTION status_touchpoint_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM status_add_service(ARRAY(SELECT o::touchpoint FROM old_rows AS o), '{}'::touchpoint[]);
  PERFORM status_refresh_incidents(
    ARRAY(SELECT o::touchpoint FROM old_rows AS o WHERE o.kind IN ('incident', 'post_incident_review')));
  RETURN NULL;
END
$fn$;
""",
    r"""
CREATE FUNCTION status_link_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM status_add_links(
    '{}'::touchpoint[],
    ARRAY(SELECT t FROM touchpoint AS t
           WHERE (t.organisation_id, t.id) IN (SELECT n.organisation_id, n.touchpoint_id FROM new_rows AS n)),
    ARRAY(SELECT n::touchpoint_innovation FROM new_rows AS n));
  PERFORM status_refresh_incidents(
    ARRAY(SELECT t FROM touchpoint AS t
           WHERE t.kind = 'post_incident_review'
             AND (t.organisation_id, t.id) IN (SELECT n.organisation_id, n.touchpoint_id FROM new_rows AS n)));
  RETURN NULL;
END
$fn$;
""",
    r"""
CREATE FUNCTION status_link_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  -- Links deleted with their touchpoint find no row here: status_touchpoint_deleting took them away.
  PERFORM status_add_links(
    ARRAY(SELECT t FROM touchpoint AS t
           WHERE (t.organisation_id, t.id) IN (SELECT o.organisation_id, o.touchpoint_id FROM old_rows AS o)),
    '{}'::touchpoint[],
    ARRAY(SELECT o::touchpoint_innovation FROM old_rows AS o));
  PERFORM status_refresh_incidents(
    ARRAY(SELECT t FROM touchpoint AS t
           WHERE t.kind = 'post_incident_review'
             AND (t.organisation_id, t.id) IN (SELECT o.organisation_id, o.touchpoint_id FROM old_rows AS o)));
  RETURN NULL;
END
$fn$;
""",
    r"""
CREATE TRIGGER status_touchpoint_inserted AFTER INSERT ON touchpoint
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION status_touchpoint_inserted();
""",
    r"""
CREATE TRIGGER status_touchpoint_updated AFTER UPDATE ON touchpoint
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION status_touchpoint_updated();
""",
    r"""
CREATE TRIGGER status_touchpoint_deleting BEFORE DELETE ON touchpoint
  FOR EACH ROW EXECUTE FUNCTION status_touchpoint_deleting();
""",
    r"""
CREATE TRIGGER status_touchpoint_deleted AFTER DELETE ON touchpoint
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION status_touchpoint_deleted();
""",
    r"""
CREATE TRIGGER status_link_inserted AFTER INSERT ON touchpoint_innovation
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION status_link_inserted();
""",
    r"""
CREATE TRIGGER status_link_deleted AFTER DELETE ON touchpoint_innovation
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION status_link_deleted();
""",
    r"""
-- Recount one organisation's rollups from its raw rows: after a bulk load with triggers off, after
-- a service changes time zone, or to repair. Returns the number of rollup rows written.
CREATE FUNCTION status_rebuild_rollups(org uuid) RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
  written bigint := 0;
  n bigint;
BEGIN
  DELETE FROM status_month_rollup WHERE organisation_id = org;
  DELETE FROM status_staff_month WHERE organisation_id = org;
  DELETE FROM status_service_month WHERE organisation_id = org;

  INSERT INTO status_service_month (organisation_id, service_id, month, supervisions, incidents, late_incidents, restrictive_interventions)
  SELECT t.organisation_id, t.service_id, date_trunc('month', (t.occurred_at AT TIME ZONE s.timezone))::date,
         sum((t.kind = 'supervision')::int) AS supervisions,
         sum((t.kind = 'incident')::int) AS incidents,
         sum((t.kind = 'incident' AND t.occurred_at + interval '336 hours' > ((date_trunc('month', (t.occurred_at AT TIME ZONE s.timezone)) + interval '1 month') AT TIME ZONE s.timezone))::int) AS late_incidents,
         sum((t.kind = 'incident' AND t.restrictive_intervention IS TRUE)::int) AS restrictive_interventions
    FROM touchpoint t
    JOIN service s ON s.organisation_id = t.organisation_id AND s.id = t.service_id
   WHERE t.organisation_id = org
   GROUP BY 1, 2, 3;
  GET DIAGNOSTICS n = ROW_COUNT;
  written := written + n;

  INSERT INTO status_month_rollup (organisation_id, innovation_id, service_id, month, refs_total, refs_care_records, refs_team_communication, refs_supervision, refs_quality_assurance, refs_workforce, refs_incident_learning, refs_staff_voice, referencing_supervisions, why_assessed, why_explained, quality_early_n, quality_early_sum, quality_late_n, quality_late_sum, quality_night_n, quality_night_sum, surveys, nomad_coherence_n, nomad_coherence_sum, nomad_cognitive_participation_n, nomad_cognitive_participation_sum, nomad_collective_action_n, nomad_collective_action_sum, nomad_reflexive_monitoring_n, nomad_reflexive_monitoring_sum, familiar_n, familiar_sum, normal_now_n, normal_now_sum, normal_now_high, normal_future_n, normal_future_sum)
  SELECT t.organisation_id, l.innovation_id, t.service_id, date_trunc('month', (t.occurred_at AT TIME ZONE s.timezone))::date,
         sum(1) AS refs_total,
         sum((t.system = 'care_records')::int) AS refs_care_records,
         sum((t.system = 'team_communication')::int) AS refs_team_communication,
         sum((t.system = 'supervision')::int) AS refs_supervision,
         sum((t.system = 'quality_assurance')::int) AS refs_quality_assurance,
         sum((t.system = 'workforce')::int) AS refs_workforce,
         sum((t.system = 'incident_learning')::int) AS refs_incident_learning,
         sum((t.system = 'staff_voice')::int) AS refs_staff_voice,
         sum((t.kind = 'supervision')::int) AS referencing_supervisions,
         sum((t.kind IN ('supervision', 'practice_observation', 'competency_check') AND t.explains_why IS NOT NULL)::int) AS why_assessed,
         sum((t.kind IN ('supervision', 'practice_observation', 'competency_check') AND t.explains_why IS TRUE)::int) AS why_explained,
         sum((t.shift = 'early' AND (CASE t.kind WHEN 'practice_observation' THEN t.score WHEN 'daily_note' THEN t.engagement_quality END) IS NOT NULL)::int) AS quality_early_n,
         sum((CASE WHEN t.shift = 'early' THEN coalesce((CASE t.kind WHEN 'practice_observation' THEN t.score WHEN 'daily_note' THEN t.engagement_quality END), 0) ELSE 0 END)) AS quality_early_sum,
         sum((t.shift = 'late' AND (CASE t.kind WHEN 'practice_observation' THEN t.score WHEN 'daily_note' THEN t.engagement_quality END) IS NOT NULL)::int) AS quality_late_n,
         sum((CASE WHEN t.shift = 'late' THEN coalesce((CASE t.kind WHEN 'practice_observation' THEN t.score WHEN 'daily_note' THEN t.engagement_quality END), 0) ELSE 0 END)) AS quality_late_sum,
         sum((t.shift = 'night' AND (CASE t.kind WHEN 'practice_observation' THEN t.score WHEN 'daily_note' THEN t.engagement_quality END) IS NOT NULL)::int) AS quality_night_n,
         sum((CASE WHEN t.shift = 'night' THEN coalesce((CASE t.kind WHEN 'practice_observation' THEN t.score WHEN 'daily_note' THEN t.engagement_quality END), 0) ELSE 0 END)) AS quality_night_sum,
         sum((t.kind = 'staff_survey')::int) AS surveys,
         sum((CASE WHEN t.kind = 'staff_survey' THEN (SELECT count(*) FROM jsonb_each(t.facts -> 'items') AS e WHERE e.key ~ '^(c1|c2|c3|c4)$' AND jsonb_typeof(e.value) = 'number') ELSE 0 END)) AS nomad_coherence_n,
         sum((CASE WHEN t.kind = 'staff_survey' THEN (SELECT coalesce(sum(CASE WHEN e.key IN ('ca2') THEN 6 - (e.value)::int ELSE (e.value)::int END), 0) FROM jsonb_each(t.facts -> 'items') AS e WHERE e.key ~ '^(c1|c2|c3|c4)$' AND jsonb_typeof(e.value) = 'number') ELSE 0 END)) AS nomad_coherence_sum,
         sum((CASE WHEN t.kind = 'staff_survey' THEN (SELECT count(*) FROM jsonb_each(t.facts -> 'items') AS e WHERE e.key ~ '^(cp1|cp2|cp3|cp4)$' AND jsonb_typeof(e.value) = 'number') ELSE 0 END)) AS nomad_cognitive_participation_n,
         sum((CASE WHEN t.kind = 'staff_survey' THEN (SELECT coalesce(sum(CASE WHEN e.key IN ('ca2') THEN 6 - (e.value)::int ELSE (e.value)::int END), 0) FROM jsonb_each(t.facts -> 'items') AS e WHERE e.key ~ '^(cp1|cp2|cp3|cp4)$' AND jsonb_typeof(e.value) = 'number') ELSE 0 END)) AS nomad_cognitive_participation_sum,
         sum((CASE WHEN t.kind = 'staff_survey' THEN (SELECT count(*) FROM jsonb_each(t.facts -> 'items') AS e WHERE e.key ~ '^(ca1|ca2|ca3|ca4|ca5|ca6|ca7)$' AND jsonb_typeof(e.value) = 'number') ELSE 0 END)) AS nomad_collective_action_n,
         sum((CASE WHEN t.kind = 'staff_survey' THEN (SELECT coalesce(sum(CASE WHEN e.key IN ('ca2') THEN 6 - (e.value)::int ELSE (e.value)::int END), 0) FROM jsonb_each(t.facts -> 'items') AS e WHERE e.key ~ '^(ca1|ca2|ca3|ca4|ca5|ca6|ca7)$' AND jsonb_typeof(e.value) = 'number') ELSE 0 END)) AS nomad_collective_action_sum,
         sum((CASE WHEN t.kind = 'staff_survey' THEN (SELECT count(*) FROM jsonb_each(t.facts -> 'items') AS e WHERE e.key ~ '^(rm1|rm2|rm3|rm4|rm5)$' AND jsonb_typeof(e.value) = 'number') ELSE 0 END)) AS nomad_reflexive_monitoring_n,
         sum((CASE WHEN t.kind = 'staff_survey' THEN (SELECT coalesce(sum(CASE WHEN e.key IN ('ca2') THEN 6 - (e.value)::int ELSE (e.value)::int END), 0) FROM jsonb_each(t.facts -> 'items') AS e WHERE e.key ~ '^(rm1|rm2|rm3|rm4|rm5)$' AND jsonb_typeof(e.value) = 'number') ELSE 0 END)) AS nomad_reflexive_monitoring_sum,
         sum((t.kind = 'staff_survey' AND jsonb_typeof((t.facts -> 'general' -> 'familiar')) = 'number')::int) AS familiar_n,
         sum((CASE WHEN t.kind = 'staff_survey' AND jsonb_typeof((t.facts -> 'general' -> 'familiar')) = 'number' THEN ((t.facts -> 'general' -> 'familiar'))::int ELSE 0 END)) AS familiar_sum,
         sum((t.kind = 'staff_survey' AND jsonb_typeof((t.facts -> 'general' -> 'normal_now')) = 'number')::int) AS normal_now_n,
         sum((CASE WHEN t.kind = 'staff_survey' AND jsonb_typeof((t.facts -> 'general' -> 'normal_now')) = 'number' THEN ((t.facts -> 'general' -> 'normal_now'))::int ELSE 0 END)) AS normal_now_sum,
         sum((t.kind = 'staff_survey' AND jsonb_typeof((t.facts -> 'general' -> 'normal_now')) = 'number' AND ((t.facts -> 'general' -> 'normal_now'))::int >= 7)::int) AS normal_now_high,
         sum((t.kind = 'staff_survey' AND jsonb_typeof((t.facts -> 'general' -> 'normal_future')) = 'number')::int) AS normal_future_n,
         sum((CASE WHEN t.kind = 'staff_survey' AND jsonb_typeof((t.facts -> 'general' -> 'normal_future')) = 'number' THEN ((t.facts -> 'general' -> 'normal_future'))::int ELSE 0 END)) AS normal_future_sum
    FROM touchpoint t
    JOIN touchpoint_innovation l ON l.organisation_id = t.organisation_id AND l.touchpoint_id = t.id
    JOIN service s ON s.organisation_id = t.organisation_id AND s.id = t.service_id
   WHERE t.organisation_id = org
   GROUP BY 1, 2, 3, 4;
  GET DIAGNOSTICS n = ROW_COUNT;
  written := written + n;

  INSERT INTO status_staff_month (organisation_id, innovation_id, service_id, month, staff_member_id, touchpoints)
  SELECT t.organisation_id, l.innovation_id, t.service_id, date_trunc('month', (t.occurred_at AT TIME ZONE s.timezone))::date, t.recorded_by_id, count(*)
    FROM touchpoint t
    JOIN touchpoint_innovation l ON l.organisation_id = t.organisation_id AND l.touchpoint_id = t.id
    JOIN service s ON s.organisation_id = t.organisation_id AND s.id = t.service_id
   WHERE t.organisation_id = org AND t.recorded_by_id IS NOT NULL
   GROUP BY 1, 2, 3, 4, 5;
  GET DIAGNOSTICS n = ROW_COUNT;
  written := written + n;

  PERFORM status_refresh_incidents(ARRAY(SELECT t FROM touchpoint t
                                          WHERE t.organisation_id = org AND t.kind = 'incident'));
  RETURN written;
END
$fn$;
""",
    r"""
-- A service's months follow its time zone: when that changes, its touchpoints fall in other months.
CREATE FUNCTION status_service_timezone_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM status_rebuild_rollups(o) FROM (SELECT DISTINCT n.organisation_id AS o
                                            FROM new_rows n JOIN old_rows p
                                              ON p.organisation_id = n.organisation_id AND p.id = n.id
                                           WHERE p.timezone IS DISTINCT FROM n.timezone) AS changed;
  RETURN NULL;
END
$fn$;
""",
    r"""
CREATE TRIGGER status_service_timezone_changed AFTER UPDATE ON service
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION status_service_timezone_changed();
""",
)

DOWNGRADE: tuple[str, ...] = (
    r"""
DROP TRIGGER IF EXISTS status_service_timezone_changed ON service;
""",
    r"""
DROP TRIGGER IF EXISTS status_link_deleted ON touchpoint_innovation;
""",
    r"""
DROP TRIGGER IF EXISTS status_link_inserted ON touchpoint_innovation;
""",
    r"""
DROP TRIGGER IF EXISTS status_touchpoint_deleted ON touchpoint;
""",
    r"""
DROP TRIGGER IF EXISTS status_touchpoint_deleting ON touchpoint;
""",
    r"""
DROP TRIGGER IF EXISTS status_touchpoint_updated ON touchpoint;
""",
    r"""
DROP TRIGGER IF EXISTS status_touchpoint_inserted ON touchpoint;
""",
    r"""
DROP FUNCTION IF EXISTS status_service_timezone_changed();
""",
    r"""
DROP FUNCTION IF EXISTS status_rebuild_rollups(uuid);
""",
    r"""
DROP FUNCTION IF EXISTS status_link_deleted();
""",
    r"""
DROP FUNCTION IF EXISTS status_link_inserted();
""",
    r"""
DROP FUNCTION IF EXISTS status_touchpoint_deleted();
""",
    r"""
DROP FUNCTION IF EXISTS status_touchpoint_deleting();
""",
    r"""
DROP FUNCTION IF EXISTS status_touchpoint_updated();
""",
    r"""
DROP FUNCTION IF EXISTS status_touchpoint_inserted();
""",
    r"""
DROP FUNCTION IF EXISTS status_refresh_incidents(touchpoint[]);
""",
    r"""
DROP FUNCTION IF EXISTS status_add_service(touchpoint[], touchpoint[]);
""",
    r"""
DROP FUNCTION IF EXISTS status_add_links(touchpoint[], touchpoint[], touchpoint_innovation[]);
""",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)
    # Count whatever was recorded before the triggers existed.
    op.execute("SELECT status_rebuild_rollups(id) FROM organisation")


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)

"""status audit months: each month's audits per innovation and service, summarised as a run

audit_stability reads a window's audits in order: their mean, the largest drop between consecutive
audits of a service, and whether the last three fell. Read from the raw audits, that cost grew with
history. A month's audits summarised as a run (count, total, first score, last three, largest drop
inside) join exactly with the next month's, so a status reads one row per service and month.
Scores are kept in hundredths of a percentage point (score_percent has two decimals): exact integers.

A run is not a sum, so it is recounted rather than added to: when an audit is corrected or deleted,
or its innovation links change, its month is recounted from the raw rows under the same lock of the
service's month that incident reviews take. Links count when they are inserted (as in 0002), so
recording an audit costs nothing until its links arrive. `status_rebuild_rollups` now recounts the
audit months too (the counts it rebuilt before are `status_rebuild_month_counts`).

Also an index for new starters' first steps, which turnover_resilience reads by subject.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STARTER_STEP_KINDS = sa.text("kind IN ('induction', 'shadowing', 'competency_check')")

FUNCTIONS: tuple[str, ...] = (
    r"""
-- Recount these (organisation, service, month)s' audit runs from the raw rows, for every innovation
-- the audits reference. Returns the number of runs written.
CREATE FUNCTION status_recount_audits(orgs uuid[], services uuid[], months date[])
RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
  n bigint;
BEGIN
  DELETE FROM status_audit_month AS a
   USING unnest(orgs, services, months) AS k(organisation_id, service_id, month)
   WHERE a.organisation_id = k.organisation_id AND a.service_id = k.service_id AND a.month = k.month;

  INSERT INTO status_audit_month (
    organisation_id, innovation_id, service_id, month,
    audits, total_hundredths, first_hundredths, last_hundredths, max_drop_hundredths)
  SELECT a.organisation_id, a.innovation_id, a.service_id, a.month,
         count(*),
         sum(a.score),
         (array_agg(a.score ORDER BY a.occurred_at, a.id))[1],
         array_agg(a.score ORDER BY a.occurred_at, a.id) FILTER (WHERE a.from_end <= 3),
         greatest(coalesce(max(a.before - a.score), 0), 0)
    FROM (
      SELECT k.organisation_id, l.innovation_id, k.service_id, k.month, t.id, t.occurred_at,
             (t.score_percent * 100)::int AS score,
             (lag(t.score_percent) OVER w * 100)::int AS before,
             row_number() OVER (PARTITION BY k.organisation_id, l.innovation_id, k.service_id, k.month
                                ORDER BY t.occurred_at DESC, t.id DESC) AS from_end
        FROM (SELECT DISTINCT * FROM unnest(orgs, services, months)) AS k(organisation_id, service_id, month)
        JOIN service s ON s.organisation_id = k.organisation_id AND s.id = k.service_id
        JOIN touchpoint t
          ON t.organisation_id = k.organisation_id AND t.kind = 'audit' AND t.service_id = k.service_id
         AND t.score_percent IS NOT NULL
         AND t.occurred_at >= (k.month::timestamp AT TIME ZONE s.timezone)
         AND t.occurred_at < ((k.month + interval '1 month')::timestamp AT TIME ZONE s.timezone)
        JOIN touchpoint_innovation l ON l.organisation_id = t.organisation_id AND l.touchpoint_id = t.id
      WINDOW w AS (PARTITION BY k.organisation_id, l.innovation_id, k.service_id, k.month
                   ORDER BY t.occurred_at, t.id)
    ) AS a
   GROUP BY a.organisation_id, a.innovation_id, a.service_id, a.month
   ORDER BY 1, 2, 3, 4;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$fn$;
""",
    r"""
-- The months of these rows that are audits, recounted one month at a time: a concurrent recount
-- of the same month waits on the month's lock, then sees this one's rows.
CREATE FUNCTION status_refresh_audits(rows touchpoint[])
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  orgs uuid[];
  services uuid[];
  months date[];
BEGIN
  SELECT array_agg(k.organisation_id ORDER BY k.organisation_id, k.service_id, k.month),
         array_agg(k.service_id ORDER BY k.organisation_id, k.service_id, k.month),
         array_agg(k.month ORDER BY k.organisation_id, k.service_id, k.month)
    INTO orgs, services, months
    FROM (
      SELECT DISTINCT t.organisation_id, t.service_id,
             date_trunc('month', (t.occurred_at AT TIME ZONE s.timezone))::date AS month
        FROM unnest(rows) AS t
        JOIN service s ON s.organisation_id = t.organisation_id AND s.id = t.service_id
       WHERE t.kind = 'audit'
    ) AS k;
  IF orgs IS NULL THEN
    RETURN;
  END IF;

  INSERT INTO status_service_month (organisation_id, service_id, month)
  SELECT * FROM unnest(orgs, services, months)
  ON CONFLICT DO NOTHING;
  PERFORM 1
     FROM status_service_month m
     JOIN unnest(orgs, services, months) AS k(organisation_id, service_id, month)
       ON m.organisation_id = k.organisation_id AND m.service_id = k.service_id AND m.month = k.month
    ORDER BY m.organisation_id, m.service_id, m.month
      FOR UPDATE OF m;

  PERFORM status_recount_audits(orgs, services, months);
END
$fn$;
""",
    r"""
CREATE FUNCTION status_audits_touchpoint_updated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM status_refresh_audits(
    ARRAY(SELECT o::touchpoint FROM old_rows AS o WHERE o.kind = 'audit')
    || ARRAY(SELECT n::touchpoint FROM new_rows AS n WHERE n.kind = 'audit'));
  RETURN NULL;
END
$fn$;
""",
    r"""
CREATE FUNCTION status_audits_touchpoint_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM status_refresh_audits(ARRAY(SELECT o::touchpoint FROM old_rows AS o WHERE o.kind = 'audit'));
  RETURN NULL;
END
$fn$;
""",
    r"""
CREATE FUNCTION status_audits_link_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM status_refresh_audits(
    ARRAY(SELECT t FROM touchpoint AS t
           WHERE t.kind = 'audit'
             AND (t.organisation_id, t.id) IN (SELECT n.organisation_id, n.touchpoint_id FROM new_rows AS n)));
  RETURN NULL;
END
$fn$;
""",
    r"""
CREATE FUNCTION status_audits_link_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  -- Links deleted with their touchpoint find no row here: status_audits_touchpoint_deleted
  -- recounts the month once the touchpoint is gone.
  PERFORM status_refresh_audits(
    ARRAY(SELECT t FROM touchpoint AS t
           WHERE t.kind = 'audit'
             AND (t.organisation_id, t.id) IN (SELECT o.organisation_id, o.touchpoint_id FROM old_rows AS o)));
  RETURN NULL;
END
$fn$;
""",
    r"""
CREATE TRIGGER status_audits_touchpoint_updated AFTER UPDATE ON touchpoint
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION status_audits_touchpoint_updated();
""",
    r"""
CREATE TRIGGER status_audits_touchpoint_deleted AFTER DELETE ON touchpoint
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION status_audits_touchpoint_deleted();
""",
    r"""
CREATE TRIGGER status_audits_link_inserted AFTER INSERT ON touchpoint_innovation
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION status_audits_link_inserted();
""",
    r"""
CREATE TRIGGER status_audits_link_deleted AFTER DELETE ON touchpoint_innovation
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION status_audits_link_deleted();
""",
    r"""
-- Recount one organisation's audit runs from its raw rows. Returns the number of runs written.
CREATE FUNCTION status_rebuild_audits(org uuid) RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
  orgs uuid[];
  services uuid[];
  months date[];
BEGIN
  DELETE FROM status_audit_month WHERE organisation_id = org;
  SELECT array_agg(k.organisation_id), array_agg(k.service_id), array_agg(k.month)
    INTO orgs, services, months
    FROM (
      SELECT DISTINCT t.organisation_id, t.service_id,
             date_trunc('month', (t.occurred_at AT TIME ZONE s.timezone))::date AS month
        FROM touchpoint t
        JOIN service s ON s.organisation_id = t.organisation_id AND s.id = t.service_id
       WHERE t.organisation_id = org AND t.kind = 'audit'
    ) AS k;
  IF orgs IS NULL THEN
    RETURN 0;
  END IF;
  RETURN status_recount_audits(orgs, services, months);
END
$fn$;
""",
    r"""
ALTER FUNCTION status_rebuild_rollups(uuid) RENAME TO status_rebuild_month_counts;
""",
    r"""
-- Recount one organisation's rollups from its raw rows (see 0002): the monthly counts, then the
-- audit runs. Returns the number of rollup rows written.
CREATE FUNCTION status_rebuild_rollups(org uuid) RETURNS bigint LANGUAGE plpgsql AS $fn$
BEGIN
  RETURN status_rebuild_month_counts(org) + status_rebuild_audits(org);
END
$fn$;
""",
)

DROP_FUNCTIONS: tuple[str, ...] = (
    "DROP TRIGGER IF EXISTS status_audits_link_deleted ON touchpoint_innovation",
    "DROP TRIGGER IF EXISTS status_audits_link_inserted ON touchpoint_innovation",
    "DROP TRIGGER IF EXISTS status_audits_touchpoint_deleted ON touchpoint",
    "DROP TRIGGER IF EXISTS status_audits_touchpoint_updated ON touchpoint",
    "DROP FUNCTION IF EXISTS status_rebuild_rollups(uuid)",
    "ALTER FUNCTION status_rebuild_month_counts(uuid) RENAME TO status_rebuild_rollups",
    "DROP FUNCTION IF EXISTS status_rebuild_audits(uuid)",
    "DROP FUNCTION IF EXISTS status_audits_link_deleted()",
    "DROP FUNCTION IF EXISTS status_audits_link_inserted()",
    "DROP FUNCTION IF EXISTS status_audits_touchpoint_deleted()",
    "DROP FUNCTION IF EXISTS status_audits_touchpoint_updated()",
    "DROP FUNCTION IF EXISTS status_refresh_audits(touchpoint[])",
    "DROP FUNCTION IF EXISTS status_recount_audits(uuid[], uuid[], date[])",
)


def upgrade() -> None:
    op.create_table(
        "status_audit_month",
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column("innovation_id", sa.UUID(), nullable=False),
        sa.Column("service_id", sa.UUID(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("audits", sa.Integer(), nullable=False),
        sa.Column("total_hundredths", sa.BigInteger(), nullable=False),
        sa.Column("first_hundredths", sa.Integer(), nullable=False),
        sa.Column("last_hundredths", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.Column("max_drop_hundredths", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id", "innovation_id"],
            ["innovation.organisation_id", "innovation.id"],
            name=op.f("fk_status_audit_month_organisation_id_innovation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id", "service_id"],
            ["service.organisation_id", "service.id"],
            name=op.f("fk_status_audit_month_organisation_id_service_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organisation_id", "innovation_id", "service_id", "month", name=op.f("pk_status_audit_month")
        ),
    )
    op.create_index(
        "ix_status_audit_month_updated", "status_audit_month", ["organisation_id", "updated_at"], unique=False
    )
    op.create_index(
        "ix_touchpoint_starter_steps",
        "touchpoint",
        ["organisation_id", "subject_staff_id", "occurred_at"],
        unique=False,
        postgresql_where=STARTER_STEP_KINDS,
    )
    for statement in FUNCTIONS:
        op.execute(statement)
    # Count the audits recorded before this revision.
    op.execute("SELECT status_rebuild_audits(id) FROM organisation")


def downgrade() -> None:
    for statement in DROP_FUNCTIONS:
        op.execute(statement)
    op.drop_index("ix_touchpoint_starter_steps", table_name="touchpoint", postgresql_where=STARTER_STEP_KINDS)
    op.drop_index("ix_status_audit_month_updated", table_name="status_audit_month")
    op.drop_table("status_audit_month")

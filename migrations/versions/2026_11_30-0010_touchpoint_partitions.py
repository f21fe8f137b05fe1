"""touchpoint partitioned by the month of `occurred_at`; ids and source keys unique in touchpoint_identity

Postgres keeps a unique key on a partitioned table only if it holds the partition key, so the keys
that must hold across every month move to an unpartitioned table, `touchpoint_identity`: a touchpoint's
(organisation_id, id) and its (organisation_id, source_system, external_id). A touchpoint is written
together with its identity row and references it; links, revisions and a review's incident reference
the identity row too, so a month's partition can be detached without anything pointing into it.
The identity row also keeps the touchpoint's `occurred_at` (a trigger moves it with a correction), so
a touchpoint found by id is looked for in its own month's partition only (`touchpoints_of`, which
the link triggers use).

Partitions are monthly in UTC, `touchpoint_y2026m01` …, with `touchpoint_default` for any month that
has none. `touchpoint_create_partition(month)` creates one, moving that month's rows out of the
default partition if there are any (service/touchpoints/partitions.py calls it ahead of time).

The rollup triggers carry over unchanged but for deletion: links no longer cascade from a deleted
touchpoint row, so the statement trigger takes their shares away itself and the row trigger that did
so before goes. A correction that moves a touchpoint to another month is one UPDATE for the
triggers: Postgres reports the moved rows in the statement's transition tables.

The table is rebuilt, so the migration copies every touchpoint once; functions whose arguments are
touchpoint rows are re-created from their own definitions against the new row type.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Months from now that get their partition at once; rows of other months with data go to their own
# partition when they are at most this many months old, otherwise to the default partition.
_AHEAD_MONTHS = 3
_BACK_MONTHS = 36

_INDEXES = (
    ("ix_touchpoint_incident", "organisation_id, incident_id", None),
    ("ix_touchpoint_kind_occurred", "organisation_id, kind, occurred_at", None),
    ("ix_touchpoint_occurred_id", "organisation_id, occurred_at, id", None),
    ("ix_touchpoint_recorded_at", "organisation_id, recorded_at", None),
    ("ix_touchpoint_recorded_by", "organisation_id, recorded_by_id, occurred_at", None),
    ("ix_touchpoint_service_occurred", "organisation_id, service_id, occurred_at", None),
    ("ix_touchpoint_subject", "organisation_id, subject_staff_id, occurred_at", None),
    (
        "ix_touchpoint_starter_steps",
        "organisation_id, subject_staff_id, occurred_at",
        "kind IN ('induction', 'shadowing', 'competency_check')",
    ),
)

_FOREIGN_KEYS = (
    ("fk_touchpoint_organisation_id", "organisation_id", "organisation (id)"),
    ("fk_touchpoint_organisation_id_service_id", "organisation_id, service_id", "service (organisation_id, id)"),
    (
        "fk_touchpoint_organisation_id_recorded_by_id",
        "organisation_id, recorded_by_id",
        "staff_member (organisation_id, id)",
    ),
    (
        "fk_touchpoint_organisation_id_subject_staff_id",
        "organisation_id, subject_staff_id",
        "staff_member (organisation_id, id)",
    ),
    (
        "fk_touchpoint_organisation_id_person_ref_id",
        "organisation_id, person_ref_id",
        "person_ref (organisation_id, id)",
    ),
    ("fk_touchpoint_organisation_id_buddy_id", "organisation_id, buddy_id", "staff_member (organisation_id, id)"),
)

# Tables whose rows name a touchpoint, and the table they reference: touchpoint before, its identity after.
_REFERENCES = (
    ("touchpoint", "fk_touchpoint_organisation_id_incident_id", "organisation_id, incident_id", ""),
    (
        "touchpoint_innovation",
        "fk_touchpoint_innovation_organisation_id_touchpoint_id",
        "organisation_id, touchpoint_id",
        " ON DELETE CASCADE",
    ),
    (
        "touchpoint_revision",
        "fk_touchpoint_revision_organisation_id_touchpoint_id",
        "organisation_id, touchpoint_id",
        " ON DELETE CASCADE",
    ),
)

CREATE_PARTITION = r"""
-- The partition of touchpoint for the UTC calendar month holding `month`, created if it is missing.
-- Rows of that month already in the default partition move into it: the default partition is
-- detached meanwhile, so the move is neither an insert nor a delete for touchpoint's triggers and the
-- rollups stay as they are. Returns the partition's name.
CREATE FUNCTION touchpoint_create_partition(month date) RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
  lower_bound timestamptz := date_trunc('month', month::timestamp) AT TIME ZONE 'UTC';
  upper_bound timestamptz := (date_trunc('month', month::timestamp) + interval '1 month') AT TIME ZONE 'UTC';
  partition text := 'touchpoint_' || to_char(date_trunc('month', month::timestamp), '"y"YYYY"m"MM');
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('touchpoint_create_partition'));
  IF to_regclass(partition) IS NOT NULL THEN
    RETURN partition;
  END IF;
  IF EXISTS (SELECT 1 FROM touchpoint_default WHERE occurred_at >= lower_bound AND occurred_at < upper_bound) THEN
    ALTER TABLE touchpoint DETACH PARTITION touchpoint_default;
    EXECUTE format('CREATE TABLE %I PARTITION OF touchpoint FOR VALUES FROM (%L) TO (%L)',
                   partition, lower_bound, upper_bound);
    EXECUTE format('INSERT INTO %I SELECT * FROM touchpoint_default WHERE occurred_at >= $1 AND occurred_at < $2',
                   partition) USING lower_bound, upper_bound;
    DELETE FROM touchpoint_default WHERE occurred_at >= lower_bound AND occurred_at < upper_bound;
    ALTER TABLE touchpoint ATTACH PARTITION touchpoint_default DEFAULT;
  ELSE
    EXECUTE format('CREATE TABLE %I PARTITION OF touchpoint FOR VALUES FROM (%L) TO (%L)',
                   partition, lower_bound, upper_bound);
  END IF;
  RETURN partition;
END
$fn$;
"""

# Deleting a touchpoint row no longer deletes its links (they belong to its identity), so the
# statement trigger takes their shares away too; links deleted later find no touchpoint to count.
TOUCHPOINT_DELETED = r"""
CREATE OR REPLACE FUNCTION status_touchpoint_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM status_add_service(ARRAY(SELECT o::touchpoint FROM old_rows AS o), '{}'::touchpoint[]);
  PERFORM status_add_links(
    ARRAY(SELECT o::touchpoint FROM old_rows AS o),
    '{}'::touchpoint[],
    ARRAY(SELECT l FROM touchpoint_innovation AS l
           JOIN old_rows AS o ON l.organisation_id = o.organisation_id AND l.touchpoint_id = o.id));
  PERFORM status_refresh_incidents(
    ARRAY(SELECT o::touchpoint FROM old_rows AS o WHERE o.kind IN ('incident', 'post_incident_review')));
  RETURN NULL;
END
$fn$;
"""

# A touchpoint found by its id alone is looked for in every month's partition, and a query over the
# partitioned table is planned for each of them: in a trigger, whose queries on its transition table
# are planned at every call, that costs milliseconds a statement. Found through its identity row, whose
# `occurred_at` names its month, it is one index probe in one partition, in a plan cached once.
TOUCHPOINTS_OF = r"""
-- Generic plans only: a custom plan looks cheaper for a short array and would be planned anew, for
-- every partition, at each call.
CREATE FUNCTION touchpoints_of(orgs uuid[], ids uuid[]) RETURNS touchpoint[]
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $fn$
BEGIN
  -- LATERAL … LIMIT 1 keeps it a probe per touchpoint (never a scan of every month), however
  -- the planner estimates the arrays.
  RETURN ARRAY(
    SELECT f.t
      FROM (SELECT DISTINCT k.organisation_id, k.id FROM unnest(orgs, ids) AS k(organisation_id, id)) AS k
      JOIN touchpoint_identity d ON d.organisation_id = k.organisation_id AND d.id = k.id
      CROSS JOIN LATERAL (
        SELECT t FROM touchpoint t
         WHERE t.organisation_id = d.organisation_id AND t.id = d.id AND t.occurred_at = d.occurred_at
         LIMIT 1) AS f);
END
$fn$;
"""

# A correction moving a touchpoint to another month moves its identity's month with it.
IDENTITY_MOVED = (
    r"""
CREATE FUNCTION touchpoint_identity_moved() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  UPDATE touchpoint_identity AS d SET occurred_at = n.occurred_at
    FROM new_rows AS n
   WHERE d.organisation_id = n.organisation_id AND d.id = n.id AND d.occurred_at <> n.occurred_at;
  RETURN NULL;
END
$fn$;
""",
    """
CREATE TRIGGER touchpoint_identity_moved AFTER UPDATE ON touchpoint
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION touchpoint_identity_moved();
""",
)

# The link triggers, reading the touchpoints of their links through touchpoints_of …
LINK_TRIGGERS = (
    r"""
CREATE OR REPLACE FUNCTION status_link_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  linked touchpoint[] := touchpoints_of(ARRAY(SELECT n.organisation_id FROM new_rows AS n),
                                        ARRAY(SELECT n.touchpoint_id FROM new_rows AS n));
BEGIN
  PERFORM status_add_links('{}'::touchpoint[], linked, ARRAY(SELECT n::touchpoint_innovation FROM new_rows AS n));
  PERFORM status_refresh_incidents(
    ARRAY(SELECT t::touchpoint FROM unnest(linked) AS t WHERE t.kind = 'post_incident_review'));
  RETURN NULL;
END
$fn$;
""",
    r"""
CREATE OR REPLACE FUNCTION status_link_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  -- Links deleted after their touchpoint find no row here: its deletion took their shares away.
  linked touchpoint[] := touchpoints_of(ARRAY(SELECT o.organisation_id FROM old_rows AS o),
                                        ARRAY(SELECT o.touchpoint_id FROM old_rows AS o));
BEGIN
  PERFORM status_add_links(linked, '{}'::touchpoint[], ARRAY(SELECT o::touchpoint_innovation FROM old_rows AS o));
  PERFORM status_refresh_incidents(
    ARRAY(SELECT t::touchpoint FROM unnest(linked) AS t WHERE t.kind = 'post_incident_review'));
  RETURN NULL;
END
$fn$;
""",
    r"""
CREATE OR REPLACE FUNCTION status_audits_link_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM status_refresh_audits(
    ARRAY(SELECT t::touchpoint
            FROM unnest(touchpoints_of(ARRAY(SELECT n.organisation_id FROM new_rows AS n),
                                       ARRAY(SELECT n.touchpoint_id FROM new_rows AS n))) AS t
           WHERE t.kind = 'audit'));
  RETURN NULL;
END
$fn$;
""",
    r"""
CREATE OR REPLACE FUNCTION status_audits_link_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM status_refresh_audits(
    ARRAY(SELECT t::touchpoint
            FROM unnest(touchpoints_of(ARRAY(SELECT o.organisation_id FROM old_rows AS o),
                                       ARRAY(SELECT o.touchpoint_id FROM old_rows AS o))) AS t
           WHERE t.kind = 'audit'));
  RETURN NULL;
END
$fn$;
""",
)

# … and as 0002 and 0004 left them, for the downgrade.
LINK_TRIGGERS_BEFORE = (
    r"""
CREATE OR REPLACE FUNCTION status_link_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
CREATE OR REPLACE FUNCTION status_link_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
CREATE OR REPLACE FUNCTION status_audits_link_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
CREATE OR REPLACE FUNCTION status_audits_link_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
)

# As 0002 left them, for the downgrade.
TOUCHPOINT_DELETED_BEFORE = r"""
CREATE OR REPLACE FUNCTION status_touchpoint_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM status_add_service(ARRAY(SELECT o::touchpoint FROM old_rows AS o), '{}'::touchpoint[]);
  PERFORM status_refresh_incidents(
    ARRAY(SELECT o::touchpoint FROM old_rows AS o WHERE o.kind IN ('incident', 'post_incident_review')));
  RETURN NULL;
END
$fn$;
"""

TOUCHPOINT_DELETING = r"""
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
"""
TOUCHPOINT_DELETING_TRIGGER = """
CREATE TRIGGER status_touchpoint_deleting BEFORE DELETE ON touchpoint
  FOR EACH ROW EXECUTE FUNCTION status_touchpoint_deleting();
"""


def _rebuild_touchpoint(partition_by: str | None, *, target: str) -> None:
    """Re-create `touchpoint` with its rows, triggers and the functions taking its rows, partitioned
    by `partition_by` (or not); the tables referencing touchpoints then reference `target`."""
    conn = op.get_bind()
    # Functions with touchpoint rows among their arguments are bound to the table's row type.
    functions = conn.execute(
        sa.text(
            """
            SELECT pg_get_functiondef(p.oid) FROM pg_proc p
             WHERE p.proargtypes::oid[] && ARRAY['touchpoint'::regtype::oid,
                                                  (SELECT typarray FROM pg_type WHERE oid = 'touchpoint'::regtype)]
             ORDER BY p.oid
            """
        )
    ).scalars().all()
    triggers = conn.execute(
        sa.text(
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger"
            " WHERE tgrelid = 'touchpoint'::regclass AND NOT tgisinternal ORDER BY oid"
        )
    ).scalars().all()
    op.execute("ALTER TABLE touchpoint RENAME TO touchpoint_before")
    op.execute(
        "CREATE TABLE touchpoint (LIKE touchpoint_before INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        + (f" PARTITION BY {partition_by}" if partition_by else "")
    )
    if partition_by:
        op.execute("CREATE TABLE touchpoint_default PARTITION OF touchpoint DEFAULT")
        op.execute(CREATE_PARTITION)
        op.execute(
            f"""
            SELECT touchpoint_create_partition(m::date)
              FROM (SELECT generate_series(date_trunc('month', now() AT TIME ZONE 'UTC') - interval '1 month',
                                           date_trunc('month', now() AT TIME ZONE 'UTC')
                                             + interval '{_AHEAD_MONTHS} months',
                                           interval '1 month') AS m
                    UNION
                    SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')
                      FROM touchpoint_before
                     WHERE occurred_at >= now() - interval '{_BACK_MONTHS} months') AS months
             ORDER BY m
            """
        )
    op.execute("INSERT INTO touchpoint SELECT * FROM touchpoint_before")
    # Takes with it the references into the old table, its triggers and the functions on its rows.
    op.execute("DROP TABLE touchpoint_before CASCADE")
    for definition in functions:
        op.execute(definition)
    key = "organisation_id, id, occurred_at" if partition_by else "organisation_id, id"
    op.execute(f"ALTER TABLE touchpoint ADD CONSTRAINT pk_touchpoint PRIMARY KEY ({key})")
    if not partition_by:
        op.execute(
            "ALTER TABLE touchpoint ADD CONSTRAINT uq_touchpoint_organisation_id_source_system_external_id"
            " UNIQUE (organisation_id, source_system, external_id)"
        )
    for name, columns, where in _INDEXES:
        op.execute(f"CREATE INDEX {name} ON touchpoint ({columns})" + (f" WHERE {where}" if where else ""))
    for name, columns, referenced in _FOREIGN_KEYS:
        op.execute(f"ALTER TABLE touchpoint ADD CONSTRAINT {name} FOREIGN KEY ({columns}) REFERENCES {referenced}")
    for table, name, columns, on_delete in _REFERENCES:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns})"
            f" REFERENCES {target} (organisation_id, id){on_delete}"
        )
    for definition in triggers:
        if "status_touchpoint_deleting" not in definition:
            op.execute(definition)


def upgrade() -> None:
    op.create_table(
        "touchpoint_identity",
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("source_system", sa.Text(), nullable=True),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_touchpoint_identity_organisation_id")
        ),
        sa.PrimaryKeyConstraint("organisation_id", "id", name=op.f("pk_touchpoint_identity")),
        sa.UniqueConstraint(
            "organisation_id",
            "source_system",
            "external_id",
            name=op.f("uq_touchpoint_identity_organisation_id_source_system_external_id"),
        ),
    )
    op.execute(
        "INSERT INTO touchpoint_identity (organisation_id, id, source_system, external_id, occurred_at)"
        " SELECT organisation_id, id, source_system, external_id, occurred_at FROM touchpoint"
    )
    op.execute("DROP TRIGGER status_touchpoint_deleting ON touchpoint")
    op.execute("DROP FUNCTION status_touchpoint_deleting()")
    _rebuild_touchpoint("RANGE (occurred_at)", target="touchpoint_identity")
    op.execute(
        "ALTER TABLE touchpoint ADD CONSTRAINT fk_touchpoint_organisation_id_id FOREIGN KEY (organisation_id, id)"
        " REFERENCES touchpoint_identity (organisation_id, id) ON DELETE CASCADE"
    )
    op.execute(TOUCHPOINT_DELETED)
    op.execute(TOUCHPOINTS_OF)
    for statement in (*IDENTITY_MOVED, *LINK_TRIGGERS):
        op.execute(statement)
    op.execute("ANALYZE touchpoint, touchpoint_identity")


def downgrade() -> None:
    for statement in LINK_TRIGGERS_BEFORE:
        op.execute(statement)
    op.execute("DROP TRIGGER touchpoint_identity_moved ON touchpoint")
    op.execute("DROP FUNCTION touchpoint_identity_moved()")
    op.execute("DROP FUNCTION touchpoints_of(uuid[], uuid[])")
    _rebuild_touchpoint(None, target="touchpoint")
    op.execute("DROP FUNCTION touchpoint_create_partition(date)")
    op.execute(TOUCHPOINT_DELETED_BEFORE)
    op.execute(TOUCHPOINT_DELETING)
    op.execute(TOUCHPOINT_DELETING_TRIGGER)
    op.drop_table("touchpoint_identity")

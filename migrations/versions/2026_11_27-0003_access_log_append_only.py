"""access log append-only: the database refuses to change or remove an access-log entry

The API never updates or deletes entries; this makes that a property of the table, so neither a
bug nor a hand-run statement can rewrite who touched what.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 10:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
CREATE FUNCTION access_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'access_log is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$fn$
"""
    )
    op.execute(
        "CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log "
        "FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER access_log_no_truncate ON access_log")
    op.execute("DROP TRIGGER access_log_append_only ON access_log")
    op.execute("DROP FUNCTION access_log_refuse_change()")
